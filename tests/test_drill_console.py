"""The terminal game's "I guessed" and weak-topic drill, as a user meets them: the real
``quizbot play`` in a subprocess, answers piped in line by line as each prompt appears,
the SQLite file read alongside to know the key and to check what was stored."""

from __future__ import annotations

import os
import queue
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

from bot.engine.questions import QuestionBank
from bot.engine.spacing import Grade
from tests.test_cli import quizbot

REPO = Path(__file__).resolve().parent.parent
PROMPT = "Your answer ("


class Game:
    """``quizbot play`` (or another terminal ``command``) with a pipe on each side;
    ``wait_for`` reads until a text shows."""

    def __init__(self, cwd: Path, *args: str, command: str = "play") -> None:
        environment = {**os.environ, "PYTHONPATH": str(REPO)}
        environment.pop("QUIZBOT_DATABASE_URL", None)
        pipe = subprocess.PIPE
        command_line = [sys.executable, "-m", "bot", command, *args]
        self.process = subprocess.Popen(
            command_line, stdin=pipe, stdout=pipe, stderr=pipe, text=True, cwd=cwd, env=environment
        )
        self.out = ""
        self._chunks: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._pump, daemon=True)
        self._reader.start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        while chunk := self.process.stdout.read(1):
            self._chunks.put(chunk)

    def wait_for(self, text: str, start: int, timeout: float = 60) -> int:
        """Read until ``text`` appears after position ``start``; returns where it ends."""
        deadline = time.monotonic() + timeout
        while (found := self.out.find(text, start)) < 0:
            try:
                self.out += self._chunks.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{text!r} never came; the game said:\n{self.out}") from None
        return found + len(text)

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self) -> str:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=30)
        self._reader.join(timeout=10)
        while not self._chunks.empty():
            self.out += self._chunks.get()
        assert self.process.returncode == 0, self.process.stderr.read() if self.process.stderr else ""
        return self.out


def latest_round(db: Path, bank: QuestionBank) -> tuple[int, str, str, str]:
    """The newest round's id and question, a right letter string and a wrong one."""
    with sqlite3.connect(db) as conn:
        round_id, question_id, order = conn.execute(
            "SELECT id, question_id, option_order FROM rounds ORDER BY id DESC LIMIT 1"
        ).fetchone()
    question = bank.get(question_id)
    assert question is not None
    right = "".join("ABCDEF"[order.index(k)] for k in sorted(question.answer, key=order.index))
    wrong = "".join("ABCDEF"[i] for i, k in enumerate(order) if k not in question.answer)
    return round_id, question_id, right, wrong[: question.select_count]


def review_grade(db: Path, question_id: str) -> int:
    with sqlite3.connect(db) as conn:
        (grade,) = conn.execute(
            "SELECT last_grade FROM review_cards WHERE question_id = ?", (question_id,)
        ).fetchone()
    return int(grade)


def test_i_guessed_after_a_right_answer_in_the_terminal(tmp_path: Path, bank: QuestionBank) -> None:
    db = tmp_path / "quizbot.db"
    game = Game(tmp_path, "--count", "3", "--user", "Gus", "--task", "3.3")
    at = game.wait_for(PROMPT, 0)
    _, first, _, wrong = latest_round(db, bank)
    game.send(wrong)
    at = game.wait_for(PROMPT, at)
    assert 'Type "g"' not in game.out  # no offer after a wrong answer
    game.send("g")  # ... and nothing to re-grade if typed anyway
    at = game.wait_for("Nothing to change", at)
    assert review_grade(db, first) == Grade.AGAIN
    _, second, right, _ = latest_round(db, bank)
    game.send(right)
    at = game.wait_for('A guess? Type "g" (guessed)', at)
    at = game.wait_for(PROMPT, at)
    assert review_grade(db, second) == Grade.GOOD
    game.send("guessed")
    at = game.wait_for("Noted: this question comes back sooner.", at)
    assert review_grade(db, second) == Grade.HARD
    game.send("g")  # said twice
    at = game.wait_for("Nothing to change", at)
    at = game.wait_for(PROMPT, at)
    game.send(latest_round(db, bank)[2])
    out = game.finish()
    assert "Session finished" in out and "You got 2 of 3 right" in out
    assert out.count("A guess?") == 2  # after the last right answer too, before the summary
    assert review_grade(db, second) == Grade.HARD


def test_i_guessed_after_the_last_question_in_the_terminal(tmp_path: Path, bank: QuestionBank) -> None:
    """The last question has no next prompt to type "g" at: the offer comes before the
    summary, which waits for it (Enter or the end of input goes on)."""
    db = tmp_path / "quizbot.db"
    game = Game(tmp_path, "--count", "1", "--user", "Lia")
    at = game.wait_for(PROMPT, 0)
    _, question, right, _ = latest_round(db, bank)
    game.send(right)
    at = game.wait_for("press Enter for the summary: ", at)
    assert "Session finished" not in game.out
    assert review_grade(db, question) == Grade.GOOD
    game.send("g")
    at = game.wait_for("Noted: this question comes back sooner.", at)
    out = game.finish()
    assert "Session finished" in out and review_grade(db, question) == Grade.HARD
    game = Game(tmp_path, "--count", "1", "--user", "Lia")
    game.wait_for(PROMPT, 0)
    game.send(latest_round(db, bank)[3])
    assert "A guess?" not in game.finish()  # a wrong last answer: nothing to offer


def test_play_weak_drills_the_weakest_objectives(tmp_path: Path, bank: QuestionBank) -> None:
    db = tmp_path / "quizbot.db"
    game = Game(tmp_path, "--count", "2", "--user", "Wes", "--task", "3.3")
    at = 0
    for _ in range(2):  # two misses in 3.3: its weakest objective(s) now
        at = game.wait_for(PROMPT, at)
        game.send(latest_round(db, bank)[3])
    game.finish()
    with sqlite3.connect(db) as conn:
        missed = {row[0] for row in conn.execute("SELECT question_id FROM rounds")}
    weakest = sorted({q.objective for q in bank.active() if q.id in missed})  # one or two
    # then the never-answered objectives (50%), by id: the pool is the three weakest
    ranked = weakest + sorted({q.objective for q in bank.active()} - set(weakest))
    drill = quizbot("play", "--weak", "--count", "2", "--user", "Wes", cwd=tmp_path, stdin="\n")
    assert drill.returncode == 0, drill.stderr
    assert "Weak-topic drill" in drill.stdout
    with sqlite3.connect(db) as conn:
        (served,) = conn.execute("SELECT question_id FROM rounds ORDER BY id DESC LIMIT 1").fetchone()
    question = bank.get(served)
    assert question is not None and question.objective in ranked[:3] and served not in missed
    _, _, spots = drill.stdout.partition("Your weakest objectives (last 100 answers):")
    rows = [line for line in spots.splitlines() if line.startswith("- ")]
    assert [row.split()[1] for row in rows] == ranked[:2]
    assert all("https://" in row for row in rows)
