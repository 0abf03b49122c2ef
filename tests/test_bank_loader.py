"""The bank loader: the bundled bank loads; every malformed file is named, loads nothing."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.bank import BankError, load_bank, validate_paths
from bot.paths import bundled_questions_dir

BUNDLED = bundled_questions_dir()


def a_question() -> dict[str, Any]:
    files = sorted(BUNDLED.glob("*.yaml"))
    data = yaml.safe_load(files[0].read_text(encoding="utf-8"))
    return copy.deepcopy(next(q for q in data["questions"] if q["type"] == "single"))


def custom(question: dict[str, Any], **changes: Any) -> dict[str, Any]:
    q = copy.deepcopy(question)
    q["id"] = "club-001"
    q.update(changes)
    return q


def write(directory: Path, name: str, questions: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(yaml.safe_dump({"questions": questions}, allow_unicode=True), encoding="utf-8")
    return path


def problems_of(extra: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(BankError) as error:
        load_bank([extra])
    return [(Path(p.file).name, p.question_id, p.field) for p in error.value.problems]


def test_bundled_bank_is_valid_and_bilingual() -> None:
    bank = load_bank()
    assert len(bank) >= 40
    for task in ("3.1", "3.2", "3.3", "3.4"):
        assert len(bank.active(task)) >= 10
    for question in bank:
        assert question.id.startswith("aif-")
        assert set(question.texts) == {"en", "pt-BR"}


def test_a_valid_custom_bank_is_added(tmp_path: Path) -> None:
    write(tmp_path, "club.yaml", [custom(a_question())])
    bank = load_bank([tmp_path])
    assert bank.get("club-001") is not None
    assert len(bank) == len(load_bank()) + 1


def test_bad_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.yaml").write_text("questions:\n  - id: x\n    task: [unclosed\n", encoding="utf-8")
    with pytest.raises(BankError) as error:
        load_bank([tmp_path])
    (problem,) = error.value.problems
    assert problem.file.endswith("broken.yaml") and "line" in problem.message


def test_missing_field(tmp_path: Path) -> None:
    q = custom(a_question())
    del q["pt-BR"]["why"]
    write(tmp_path, "missing.yaml", [q])
    assert problems_of(tmp_path) == [("missing.yaml", "club-001", "pt-BR")]


def test_wrong_correct_key(tmp_path: Path) -> None:
    write(tmp_path, "key.yaml", [custom(a_question(), answer=["f"])])
    assert ("key.yaml", "club-001", "answer") in problems_of(tmp_path)


def test_duplicate_id_across_files(tmp_path: Path) -> None:
    q = custom(a_question())
    write(tmp_path, "one.yaml", [q])
    write(tmp_path, "two.yaml", [q])
    assert problems_of(tmp_path) == [("two.yaml", "club-001", "id")]


def test_reserved_prefix_in_a_custom_bank(tmp_path: Path) -> None:
    write(tmp_path, "sneaky.yaml", [custom(a_question(), id="aif-9999")])
    assert problems_of(tmp_path) == [("sneaky.yaml", "aif-9999", "id")]


def test_why_wrong_must_cover_each_wrong_option(tmp_path: Path) -> None:
    q = custom(a_question())
    q["en"]["why_wrong"].popitem()
    write(tmp_path, "why.yaml", [q])
    assert problems_of(tmp_path) == [("why.yaml", "club-001", "en.why_wrong")]


def test_explanations_may_not_name_letters(tmp_path: Path) -> None:
    q = custom(a_question())
    key = next(iter(q["en"]["why_wrong"]))
    q["en"]["why_wrong"][key] = "Option B is wrong because it is slow."
    write(tmp_path, "letter.yaml", [q])
    assert problems_of(tmp_path) == [("letter.yaml", "club-001", "en.why_wrong")]


def test_select_two_must_match_the_keys(tmp_path: Path) -> None:
    bank = load_bank()
    multiple = next(q for q in bank if q.type == "multiple" and len(q.answer) == 2)
    raw = next(
        q
        for f in BUNDLED.glob("*.yaml")
        for q in yaml.safe_load(f.read_text(encoding="utf-8"))["questions"]
        if q["id"] == multiple.id
    )
    q = custom(raw)
    q["en"]["stem"] = q["en"]["stem"].replace("(Select TWO.)", "(Select THREE.)")
    write(tmp_path, "select.yaml", [q])
    assert problems_of(tmp_path) == [("select.yaml", "club-001", "en.stem")]


def test_one_bad_question_loads_nothing(tmp_path: Path) -> None:
    good = custom(a_question())
    bad = custom(a_question(), id="club-002", type="multiple")
    write(tmp_path, "mixed.yaml", [good, bad])
    with pytest.raises(BankError):
        load_bank([tmp_path])


def test_validate_command_reports_and_exits_non_zero(tmp_path: Path) -> None:
    write(tmp_path, "key.yaml", [custom(a_question(), answer=["f"])])
    result = subprocess.run(
        [sys.executable, "-m", "bot", "questions", "validate", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "key.yaml: question club-001: answer:" in result.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "bot", "questions", "validate"], capture_output=True, text=True, timeout=60
    )
    assert ok.returncode == 0, ok.stderr
    assert validate_paths([BUNDLED]) == []


def test_start_is_refused_on_an_invalid_bank(tmp_path: Path) -> None:
    bank_dir = tmp_path / "bank"
    write(bank_dir, "key.yaml", [custom(a_question(), answer=["f"])])
    env = {
        "QUIZBOT_QUESTIONS_DIRS": str(bank_dir),
        "QUIZBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "bot", "play", "--count", "1"],
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "refusing to start" in result.stderr and "club-001" in result.stderr
    assert not (tmp_path / "q.db").exists()  # nothing touched
