"""Bank tools: flags, regrade after a key fix, export, stats, link checks, duplicates."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import threading
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from bot.bank.export import to_csv, to_json
from bot.bank.links import check_urls
from bot.bank.quality import NEAR_DUPLICATE_THRESHOLD, similarity
from bot.engine import FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.model import FlagReason
from bot.engine.questions import QuestionBank
from bot.store import SqlStore
from tests.conftest import FakeClock
from tests.helpers.recount import histogram_matches, recount

PLACE = PlaceRef("discord", "guild-q", "c1")


def member(n: int) -> LearnerRef:
    return LearnerRef("discord", f"q{n}", f"Q {n}")


async def test_flags_are_counted_per_question_and_resolved(engine: QuizEngine) -> None:
    question = next(iter(engine.bank))
    other = list(engine.bank)[1]
    await engine.flag_question(member(1), question.id, FlagReason.WRONG, "key looks wrong")
    await engine.flag_question(member(2), question.id, FlagReason.UNCLEAR, None)
    await engine.flag_question(member(1), question.id, FlagReason.UNCLEAR, "  actually unclear  ")  # updates
    await engine.flag_question(member(3), other.id)
    summaries = {s.question_id: s for s in await engine.open_flags()}
    assert summaries[question.id].flags == 2
    assert (summaries[question.id].wrong, summaries[question.id].unclear) == (0, 2)
    assert summaries[question.id].comments == ("actually unclear",)
    assert summaries[other.id].flags == 1
    assert next(s.question_id for s in await engine.open_flags()) == question.id  # most flagged first
    assert await engine.resolve_flags(question.id) == 2
    assert {s.question_id for s in await engine.open_flags()} == {other.id}
    with pytest.raises(Exception, match="no question"):
        await engine.flag_question(member(1), "aif-does-not-exist")


async def test_regrade_after_a_key_fix_rebuilds_standings(
    store: SqlStore, bank: QuestionBank, clock: FakeClock
) -> None:
    import random

    original = next(q for q in bank if q.type == "single")
    wrong_key = sorted(set(original.option_keys) - original.answer)[0]
    broken = replace(original, answer=frozenset({wrong_key}))  # the bank shipped a wrong key
    live = QuizEngine(
        store,
        QuestionBank([broken, *[q for q in bank if q.id != original.id]]),
        clock=clock,
        rng=random.Random(2),
    )
    card = await live.ask(PLACE, question_id=original.id)
    assert isinstance(card, QuestionCard)
    letter_of = {o.text: o.letter for o in card.options}
    truly_right = letter_of[original.text("en").options[sorted(original.answer)[0]]]
    shipped_right = letter_of[original.text("en").options[wrong_key]]
    for n in range(3):
        result = await live.answer(card.round_id, member(n), [truly_right], place=PLACE)
        assert isinstance(result, FeedbackCard) and not result.correct  # marked wrong by the broken key
    result = await live.answer(card.round_id, member(9), [shipped_right], place=PLACE)
    assert isinstance(result, FeedbackCard) and result.correct
    await live.close(card.round_id)
    before = await live.leaderboard(PLACE, member(0))
    assert before.viewer_score == 0 and before.entries[0].display_name == "Q 9"

    fixed = QuizEngine(store, bank, clock=clock)  # the key is fixed in the bank
    report = await fixed.regrade(original.id)
    assert (report.attempts, report.changed, report.now_correct) == (4, 4, 3)
    after = await fixed.leaderboard(PLACE, member(0))
    assert after.viewer_score == 1 and after.viewer_rank == 1
    assert {e.display_name: e.score for e in after.entries}["Q 9"] == 0
    expected, actual = await recount(store.db)
    assert actual == expected and await histogram_matches(store.db)
    again = await fixed.regrade(original.id)
    assert again.changed == 0  # idempotent


def test_export_csv_and_json(bank: QuestionBank) -> None:
    questions = list(bank)[:5]
    rows = list(csv.DictReader(io.StringIO(to_csv(questions))))
    assert len(rows) == 10 and {r["language"] for r in rows} == {"en", "pt-BR"}
    first = questions[0]
    en_row = next(r for r in rows if r["id"] == first.id and r["language"] == "en")
    assert en_row["stem"] == first.text("en").stem
    assert en_row["answer"] == ",".join(sorted(first.answer))
    data = json.loads(to_json(questions, ("pt-BR",)))
    assert data[0]["pt-BR"]["stem"] == first.text("pt-BR").stem and "en" not in data[0]


def test_export_and_stats_commands(tmp_path: Path) -> None:
    out = tmp_path / "bank.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "questions",
            "export",
            "--format",
            "json",
            "--lang",
            "en",
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert len(exported) >= 240 and all("en" in q and "pt-BR" not in q for q in exported)
    stats = subprocess.run(
        [sys.executable, "-m", "bot", "questions", "stats"], capture_output=True, text=True, timeout=60
    )
    assert stats.returncode == 0
    for text in (
        "by task statement:",
        "by objective:",
        "by difficulty:",
        "languages: en",
        "key is the longest option:",
        "key position",
    ):
        assert text in stats.stdout


class _Pages(BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(405 if self.path == "/no-head" else 200 if self.path != "/gone" else 404)
        self.end_headers()

    def do_GET(self) -> None:
        self.send_response(404 if self.path == "/gone" else 200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_check_links_reports_broken_urls() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        results = {
            r.url: r for r in check_urls([f"{base}/ok", f"{base}/gone", f"{base}/no-head", f"{base}/ok"])
        }
    finally:
        server.shutdown()
    assert len(results) == 3
    assert results[f"{base}/ok"].ok and results[f"{base}/no-head"].ok  # HEAD refused, GET answered
    assert not results[f"{base}/gone"].ok and results[f"{base}/gone"].status == 404


def test_check_links_command_fails_on_a_broken_reference(tmp_path: Path) -> None:
    source = next(Path("questions").glob("3.1.a.yaml")) if Path("questions").is_dir() else None
    bundled = yaml.safe_load(
        (source or Path(__file__).parent.parent / "questions" / "3.1.a.yaml").read_text()
    )
    question = bundled["questions"][0]
    question["id"] = "club-link-1"
    question["references"] = ["https://127.0.0.1:9/nothing-listens-here"]
    (tmp_path / "club.yaml").write_text(yaml.safe_dump({"questions": [question]}), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot", "questions", "check-links", "--timeout", "2", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "BROKEN https://127.0.0.1:9/nothing-listens-here" in done.stdout


# Near-duplicate detector, pinned: rewordings must be caught, distinct questions must not.
MUST_FLAG = [
    (
        "A retail company wants to build a chatbot that answers questions about its product catalog with the "
        "latest inventory data, without retraining the foundation model. Which solution meets these requirements?",
        "A retail company needs a chatbot that answers questions about its product catalog using the latest "
        "inventory data without retraining the foundation model. Which solution will meet these requirements?",
    ),
    (
        "A bank uses a foundation model on Amazon Bedrock to summarize call transcripts. The summaries vary too "
        "much between runs of the same transcript. Which inference parameter should the bank lower?",
        "The summaries vary too much between runs of the same transcript. A bank uses a foundation model on "
        "Amazon Bedrock to summarize call transcripts. Which inference parameter should the bank lower?",
    ),
    (
        "Which metric compares n-gram overlap between a machine translation and human reference translations, "
        "with a brevity penalty?",
        "Which metric measures n-gram overlap between a machine translation and human reference translations "
        "and applies a brevity penalty?",
    ),
]
MUST_NOT_FLAG = [
    (
        "Which statements about Amazon Bedrock Guardrails are correct? (Select TWO.)",
        "Which statements about Amazon Bedrock model evaluation jobs are correct? (Select TWO.)",
    ),
    (
        "A bank uses a foundation model on Amazon Bedrock to summarize call transcripts. The summaries vary too "
        "much between runs of the same transcript. Which inference parameter should the bank lower?",
        "A bank uses a foundation model on Amazon Bedrock to summarize call transcripts. Reviewers want to score "
        "the summaries against reference summaries written by analysts. Which metric should the bank use?",
    ),
    (
        "A company wants its agent to call an internal REST API to check order status. Which Amazon Bedrock "
        "Agents feature should it configure?",
        "A company wants to give its agent answers grounded in product manuals stored in Amazon S3. Which "
        "Amazon Bedrock feature should it attach?",
    ),
]


@pytest.mark.parametrize(("first", "second"), MUST_FLAG)
def test_rewordings_are_near_duplicates(first: str, second: str) -> None:
    assert similarity(first, second) >= NEAR_DUPLICATE_THRESHOLD


@pytest.mark.parametrize(("first", "second"), MUST_NOT_FLAG)
def test_distinct_questions_are_not_near_duplicates(first: str, second: str) -> None:
    assert similarity(first, second) < NEAR_DUPLICATE_THRESHOLD
