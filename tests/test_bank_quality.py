"""Quality gates over the whole bundled bank: coverage, balance, language, names, links."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from bot.bank.quality import (
    gate_figures,
    language_problems,
    near_duplicates,
    outdated_name_problems,
    reference_problems,
)
from bot.engine.questions import Question, QuestionBank

OBJECTIVES = {
    "3.1": "abcdef",
    "3.2": "abcde",
    "3.3": "abc",
    "3.4": "abcde",
}


@pytest.fixture(scope="module")
def active(bank: QuestionBank) -> list[Question]:
    return list(bank.active())


def test_coverage(active: list[Question]) -> None:
    assert len(active) >= 240
    per_task = Counter(q.task for q in active)
    per_objective = Counter(q.objective for q in active)
    for task, letters in OBJECTIVES.items():
        assert per_task[task] >= 45, task
        for letter in letters:
            assert per_objective[f"{task}.{letter}"] >= 6, f"{task}.{letter}"
    assert per_task["3.1"] == max(per_task.values())
    assert set(per_objective) <= {f"{t}.{letter}" for t, letters in OBJECTIVES.items() for letter in letters}


def test_mix_of_types_and_styles(active: list[Question]) -> None:
    figures = gate_figures(active)
    assert figures.multiple_share >= 0.20
    assert figures.scenario_share >= 0.60
    for q in active:
        assert (q.type, len(q.option_keys)) in {("single", 4), ("multiple", 5), ("multiple", 6)}, q.id
        assert 1 <= q.difficulty <= 3


def test_key_is_not_a_giveaway(active: list[Question]) -> None:
    figures = gate_figures(active)
    assert figures.longest_correct_share <= 0.30, f"key longest in {figures.longest_correct_share:.0%}"
    assert figures.worst_key_gap <= 8, f"key positions {figures.key_share} vs {figures.expected_share}"


def test_render_limits(active: list[Question]) -> None:
    for q in active:
        for locale in ("en", "pt-BR"):
            text = q.text(locale)
            assert len(text.stem) <= 1000, (q.id, locale)
            assert all(len(option) <= 300 for option in text.options.values()), (q.id, locale)


def test_languages_are_what_they_claim(active: list[Question]) -> None:
    problems = {q.id: language_problems(q) for q in active if language_problems(q)}
    assert problems == {}


def test_an_untranslated_copy_is_caught(active: list[Question]) -> None:
    from dataclasses import replace

    q = active[0]
    copy = replace(q, texts={"en": q.text("en"), "pt-BR": q.text("en")})
    assert language_problems(copy) == ["pt-BR text does not read as Portuguese"]


def test_no_outdated_service_names(active: list[Question]) -> None:
    problems = {q.id: outdated_name_problems(q) for q in active if outdated_name_problems(q)}
    assert problems == {}


def test_the_denylist_catches_old_names(active: list[Question]) -> None:
    from dataclasses import replace

    q = active[0]
    en = q.text("en")
    old = replace(
        en, why=en.why + " Agents for Amazon Bedrock and Amazon SageMaker Studio and Amazon SageMaker."
    )
    found = outdated_name_problems(replace(q, texts={**q.texts, "en": old}))
    assert any("Agents for Amazon Bedrock" in p for p in found)
    assert any("'Amazon SageMaker'" in p for p in found)  # bare name, not SageMaker Studio
    assert len(found) == 2


def test_references_are_https_on_the_allow_list(active: list[Question]) -> None:
    problems = {q.id: reference_problems(q) for q in active if reference_problems(q)}
    assert problems == {}
    assert all(q.references for q in active)


def test_no_near_duplicate_stems(active: list[Question]) -> None:
    assert near_duplicates(active) == []


def test_documentdb_is_never_the_only_right_answer(active: list[Question]) -> None:
    for q in active:
        keys = [q.text("en").options[k] for k in q.answer]
        if any("DocumentDB" in k for k in keys):
            assert len(keys) > 1 and not all("DocumentDB" in k for k in keys), q.id


def test_explanations_cover_every_wrong_option(active: list[Question]) -> None:
    for q in active:
        for locale in ("en", "pt-BR"):
            assert set(q.text(locale).why_wrong) == set(q.option_keys) - q.answer, (q.id, locale)


def test_ids_are_stable_and_never_reused(bank: QuestionBank, repo_root: Path) -> None:
    """Every id ever published stays in the bank (retired, never deleted), and every id in
    the bank is recorded in the ledger, so a removed or renumbered id fails here."""
    everything = {q.id for q in bank.all_including_retired()}
    assert len(everything) == len(bank.all_including_retired())
    ledger_file = repo_root / "questions" / "id-ledger.txt"
    ledger = [
        line.strip()
        for line in ledger_file.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(ledger) == len(set(ledger)), "an id appears twice in the ledger"
    assert set(ledger) - everything == set(), "published ids missing from the bank: retire them instead"
    assert everything - set(ledger) == set(), "new ids must be appended to questions/id-ledger.txt"
    assert all(re.fullmatch(r"aif-3[1-4][a-f]-\d{3}", qid) for qid in everything)


def test_every_question_was_reviewed_by_someone_else(bank: QuestionBank, repo_root: Path) -> None:
    import csv

    with (repo_root / "questions" / "review-log.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    by_id = {row["question_id"]: row for row in rows}
    assert len(by_id) == len(rows), "one review row per question"
    for question in bank.all_including_retired():
        row = by_id.get(question.id)
        assert row is not None, f"{question.id} has no review"
        assert row["reviewer_batch"] and row["reviewer_batch"] != row["author_batch"], question.id
        assert row["verdict"] in {"ok", "fixed", "retired"}, question.id
        assert (row["verdict"] == "retired") == question.retired, question.id
        if row["verdict"] != "ok":
            assert row["changes"].strip(), f"{question.id}: say what changed"


STUDY_NOTES_SOURCES = {
    "https://huggingface.co/papers/2404.03592",  # the ReFT paper
    "https://huggingface.co/spaces/evaluate-metric/bleu",
    "https://huggingface.co/spaces/evaluate-metric/rouge",
}


def test_every_question_cites_aws_or_a_study_notes_source(active: list[Question]) -> None:
    """Papers and specs may add to the references, never replace AWS's own documentation."""
    from urllib.parse import urlsplit

    def counts(url: str) -> bool:
        return (
            urlsplit(url).hostname in {"docs.aws.amazon.com", "aws.amazon.com"} or url in STUDY_NOTES_SOURCES
        )

    assert [q.id for q in active if not any(counts(url) for url in q.references)] == []
