"""``quizbot exam-date`` and ``quizbot remind`` as a user meets them: real subprocesses on
a SQLite file in a temporary folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.test_cli import quizbot


def test_exam_date_is_set_counted_down_refused_and_cleared(tmp_path: Path) -> None:
    today = datetime.now(UTC).date()
    exam = today + timedelta(days=30)
    saved = quizbot("exam-date", exam.isoformat(), "--name", "Ana", cwd=tmp_path)
    assert saved.returncode == 0, saved.stderr
    assert f"Your exam date is {exam.isoformat()} (30 day(s) from today)" in saved.stdout
    stats = quizbot("stats", "--user", "Ana", cwd=tmp_path)
    assert f"Exam on {exam.isoformat()}: 30 day(s) left." in stats.stdout
    assert "Bank covered: 0 of" in stats.stdout and "Reviews due today: 0." in stats.stdout
    assert "Exam on" not in quizbot("stats", "--user", "Bea", cwd=tmp_path).stdout  # Ana's only

    for bad in ((today - timedelta(days=1)).isoformat(), "31/12/2099", "2099-02-30"):
        refused = quizbot("exam-date", bad, "--name", "Ana", cwd=tmp_path)
        assert refused.returncode == 2 and "YYYY-MM-DD" in refused.stderr, bad
    portuguese = quizbot("exam-date", "amanhã", "--name", "Ana", "--lang", "pt-BR", cwd=tmp_path)
    assert portuguese.returncode == 2 and "AAAA-MM-DD" in portuguese.stderr
    assert f"Exam on {exam.isoformat()}" in quizbot("stats", "--user", "Ana", cwd=tmp_path).stdout  # kept

    cleared = quizbot("exam-date", "off", "--name", "ana", cwd=tmp_path)  # names are case-blind
    assert cleared.returncode == 0 and "Your exam date is cleared." in cleared.stdout
    assert "Exam on" not in quizbot("stats", "--user", "Ana", cwd=tmp_path).stdout


def test_remind_explains_that_the_terminal_sends_none(tmp_path: Path) -> None:
    for args in (["08:00"], [], ["off", "--lang", "pt-BR"]):
        result = quizbot("remind", *args, cwd=tmp_path)
        assert result.returncode == 2 and "/quiz remind HH:MM" in result.stderr
        assert (
            "não tem mensagens diretas" if args[1:] else "The terminal has no direct messages"
        ) in result.stderr
    assert not list(tmp_path.glob("*.db"))  # nothing was stored
