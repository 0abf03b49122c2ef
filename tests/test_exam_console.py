"""``quizbot exam`` in the terminal: piped answers, the result, the time limit."""

from __future__ import annotations

import asyncio
import io
import re
import sqlite3
import threading
from pathlib import Path

from bot.adapters.console.exam import take_exam
from bot.adapters.console.play import terminal_learner
from bot.engine import QuizEngine
from bot.engine.exam import scaled_score
from tests.conftest import FakeClock
from tests.test_cli import quizbot


def test_exam_with_piped_answers_prints_and_stores_the_result(tmp_path: Path) -> None:
    # a cycle of one, two and three letters: one line of every three fits each question
    result = quizbot(
        "exam",
        "--count",
        "3",
        "--user",
        "Ana",
        cwd=tmp_path,
        stdin="1\nzz\n" + "A\nAB\nABC\n" * 3 + "submit\n",
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Mock exam: 3 questions, 4.5 minutes" in out
    assert "question 1 of 3" in out and "Please answer with one of the letters" in out
    assert "Correct!" not in out and "Not quite." not in out  # no feedback during the exam
    raw = re.search(r"(\d) of 3 correct \(\d+%\), 3 answered\.", out)
    assert raw is not None, out
    correct = int(raw[1])
    assert f"Estimated scaled score: {scaled_score(correct, 3)} of 1000 (pass mark 700)" in out
    assert "AWS publishes no mapping" in out
    assert out.count("Why:") == 3 - correct  # every missed question is reviewed
    with sqlite3.connect(tmp_path / "quizbot.db") as db:
        rows = db.execute("SELECT size, correct, scaled_score, finished_at FROM mock_exams").fetchall()
        answered = db.execute("SELECT count(*) FROM mock_exam_items WHERE chosen_keys IS NOT NULL").fetchone()
    assert [row[:3] for row in rows] == [(3, correct, scaled_score(correct, 3))] and rows[0][3] is not None
    assert answered == (3,)
    stats = quizbot("stats", "--user", "Ana", cwd=tmp_path)
    assert f"Mock exams: 1 · last estimate {scaled_score(correct, 3)}" in stats.stdout
    board = quizbot("leaderboard", "--user", "Ana", cwd=tmp_path)
    assert board.returncode == 0 and "Ana" not in board.stdout  # mock exams score no leaderboard


def test_end_of_input_submits_what_was_answered(tmp_path: Path) -> None:
    result = quizbot("exam", "--count", "2", "--user", "Bia", "--lang", "pt-BR", cwd=tmp_path, stdin="")
    assert result.returncode == 0, result.stderr
    assert (
        "Resultado do simulado" in result.stdout and "0 de 2 corretas (0%), 0 respondida(s)." in result.stdout
    )
    assert "Pontuação escalonada estimada: 100 de 1000" in result.stdout


class PromptedOutput(io.StringIO):
    """Output that lets the reader give its next line only once a prompt was printed, so a
    test controls when each answer arrives (the reader thread would otherwise read ahead)."""

    def __init__(self) -> None:
        super().__init__()
        self.prompted = threading.Semaphore(0)

    def write(self, text: str) -> int:
        if text.endswith("a question number or submit: "):
            self.prompted.release()
        return super().write(text)


async def test_the_time_limit_submits_the_exam_when_the_answer_comes_late(
    engine: QuizEngine, clock: FakeClock
) -> None:
    out = PromptedOutput()
    lines = iter(["A", "AB", "ABC"] * 3)

    finished, gone = threading.Event(), threading.Event()

    def slow_learner() -> str:
        if not out.prompted.acquire(timeout=10) or finished.is_set():
            gone.set()
            return ""
        clock.advance(seconds=50)  # 4.5 minutes for 3 questions: lines 1-5 in time, the 6th late
        return next(lines, "") + "\n"

    result = await take_exam(engine, terminal_learner("Caio", "en"), count=3, read_line=slow_learner, out=out)
    finished.set()  # let the reader thread end while the event loop still runs
    out.prompted.release()
    await asyncio.to_thread(gone.wait, 5)
    assert result.expired and result.total == 3 and 1 <= result.answered < 3
    assert "Time is up: what you answered was submitted" in out.getvalue()
    stored = await engine.store.get_exam(result.exam_id)
    assert stored is not None and stored.finished_at is not None and stored.finished_at >= stored.deadline
    assert (stored.correct, stored.scaled_score) == (result.correct, scaled_score(result.correct, 3))
