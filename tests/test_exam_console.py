"""``quizbot exam`` in the terminal: piped answers, the result, the time limit."""

from __future__ import annotations

import asyncio
import io
import random
import re
import signal
import sqlite3
import threading
from pathlib import Path

from bot.adapters.console.exam import take_exam
from bot.adapters.console.play import TERMINAL, play, terminal_learner
from bot.engine import QuizEngine
from bot.engine.exam import scaled_score
from bot.engine.questions import QuestionBank
from tests.conftest import FakeClock
from tests.test_cli import quizbot
from tests.test_drill_console import Game


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
    assert result is not None and result.expired and result.total == 3 and 1 <= result.answered < 3
    assert "Time is up: what you answered was submitted" in out.getvalue()
    stored = await engine.store.get_exam(result.exam_id)
    assert stored is not None and stored.finished_at is not None and stored.finished_at >= stored.deadline
    assert (stored.correct, stored.scaled_score) == (result.correct, scaled_score(result.correct, 3))


# -- an exam the terminal left behind (Ctrl-C, a kill): the terminal has no scheduler ------

EXAM_PROMPT = "a question number or submit: "


def exam_rows(db: Path) -> list[tuple[object, ...]]:
    """(finished, answered items, result sent) of each exam, oldest first."""
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT finished_at IS NOT NULL, (SELECT count(*) FROM mock_exam_items i "
            "WHERE i.exam_id = e.id AND i.answered_at IS NOT NULL), result_sent_at IS NOT NULL "
            "FROM mock_exams e ORDER BY id"
        ).fetchall()


def answer_first_question(game: Game, db: Path, bank: QuestionBank) -> None:
    """Answer question 1 with as many letters as it asks for; wait for question 2."""
    at = game.wait_for(EXAM_PROMPT, 0)
    with sqlite3.connect(db) as conn:
        (question_id,) = conn.execute(
            "SELECT question_id FROM mock_exam_items WHERE position = 1 ORDER BY exam_id DESC LIMIT 1"
        ).fetchone()
    question = bank.get(question_id)
    assert question is not None
    game.send("ABC"[: question.select_count])
    game.wait_for("question 2 of", at)
    game.wait_for(EXAM_PROMPT, at)


def time_runs_out(db: Path) -> None:
    """The exam's time passes while no terminal runs: its deadline is moved to its start."""
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE mock_exams SET deadline = started_at WHERE finished_at IS NULL")


def test_ctrl_c_leaves_the_exam_running_and_the_next_exam_resumes_it(
    tmp_path: Path, bank: QuestionBank
) -> None:
    db = tmp_path / "quizbot.db"
    game = Game(tmp_path, "--count", "3", "--user", "Ana", command="exam")
    answer_first_question(game, db, bank)
    game.process.send_signal(signal.SIGINT)
    game.process.wait(timeout=20)  # stdin is still open: Ctrl-C must not wait for a line
    game.wait_for("quizbot exam` resumes it", 0)
    assert game.process.returncode in (0, 130)  # as `quizbot play` stopped with Ctrl-C
    assert "Stopped. Your mock exam keeps running" in game.out and "Mock exam result" not in game.out
    assert exam_rows(db) == [(0, 1, 0)]  # not submitted: still running
    practice = quizbot("play", "--count", "1", "--user", "Ana", cwd=tmp_path)
    assert "Your mock exam is still running: 1 of 3 answered" in practice.stdout
    resumed = quizbot("exam", "--user", "Ana", cwd=tmp_path, stdin="submit\n")
    assert resumed.returncode == 0, resumed.stderr
    assert "Resuming your mock exam: 1 of 3 answered" in resumed.stdout
    assert "Mock exam result" in resumed.stdout and "1 answered." in resumed.stdout
    assert exam_rows(db) == [(1, 1, 1)]


def test_a_killed_exam_past_its_time_is_submitted_at_the_next_start(
    tmp_path: Path, bank: QuestionBank
) -> None:
    db = tmp_path / "quizbot.db"
    game = Game(tmp_path, "--count", "3", "--user", "Bia", command="exam")
    answer_first_question(game, db, bank)
    game.process.kill()  # no chance to say or submit anything
    game.process.wait(timeout=20)
    time_runs_out(db)
    practice = quizbot("play", "--count", "1", "--user", "Bia", cwd=tmp_path)
    assert practice.returncode == 0, practice.stderr
    out = practice.stdout
    assert "Your last mock exam ran out of time while quizbot was not running" in out
    assert re.search(r"\d of 3 correct \(\d+%\), 1 answered\.", out) and "Estimated scaled score" in out
    assert exam_rows(db) == [(1, 1, 1)]
    again = quizbot("play", "--count", "1", "--user", "Bia", cwd=tmp_path)
    assert "ran out of time" not in again.stdout  # settled once

    game = Game(tmp_path, "--count", "3", "--user", "Bia", command="exam")
    answer_first_question(game, db, bank)
    game.process.kill()
    game.process.wait(timeout=20)
    time_runs_out(db)
    exam = quizbot("exam", "--count", "2", "--user", "Bia", cwd=tmp_path)  # then end of input
    assert exam.returncode == 0, exam.stderr
    out = exam.stdout
    settled = out.index("Your last mock exam ran out of time")
    assert out.index("Time is up", settled) < out.index(
        "Mock exam: 2 questions", settled
    )  # the full result first
    assert exam_rows(db) == [(1, 1, 1), (1, 1, 1), (1, 0, 1)]


async def test_q_in_a_terminal_exam_stops_and_keeps_it_only_submit_hands_it_in(engine: QuizEngine) -> None:
    """`q` stops `quizbot play`; in an exam it must not hand everything in with one letter."""
    ana = terminal_learner("Ana", "en")
    first = iter(["2\n", "q\n"])  # look at question 2, then stop
    out = io.StringIO()
    assert await take_exam(engine, ana, count=3, read_line=lambda: next(first, ""), out=out) is None
    assert "keeps running" in out.getvalue() and "quizbot exam` resumes it" in out.getvalue()
    running = await engine.running_exam(ana)
    assert running is not None and running.answered == 0  # not handed in: still running
    again = iter(["submit\n"])
    result = await take_exam(engine, ana, count=3, read_line=lambda: next(again, ""), out=io.StringIO())
    assert result is not None and result.exam_id == running.exam_id and not result.expired


async def test_play_starts_although_a_paused_exam_asks_a_question_gone_from_the_bank(
    engine: QuizEngine, bank: QuestionBank, clock: FakeClock
) -> None:
    """The "an exam is waiting" note must never stop practice (a custom bank lost a question)."""
    ana = terminal_learner("Ana", "en")
    card = await engine.start_exam(ana, TERMINAL, size=3)  # then the terminal was closed
    smaller = QuestionBank(q for q in bank.all_including_retired() if q.id != card.question_id)
    later = QuizEngine(engine.store, smaller, clock=clock, rng=random.Random(1))
    out = io.StringIO()
    answered = await play(later, ana, count=1, task=None, read_line=lambda: "", out=out)
    assert answered == 0 and "Traceback" not in out.getvalue()
    assert await later.running_exam(ana) is None  # nothing to show for it, and no crash
