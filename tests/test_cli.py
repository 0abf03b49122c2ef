"""The quizbot command as a user meets it: help, version, play with piped input, reports."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import __version__
from bot.cli import build_parser

REPO = Path(__file__).resolve().parent.parent


def quizbot(
    *args: str, cwd: Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    environment.pop("QUIZBOT_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=90,
        cwd=cwd,
        env=environment,
    )


def subcommands() -> list[list[str]]:
    """Every command and subcommand the parser knows, found by walking argparse's choices."""
    found: list[list[str]] = []
    for name, sub in choices_of(build_parser()).items():
        found.append([name])
        found.extend([name, child] for child in choices_of(sub))
    return found


def choices_of(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_version_and_help(tmp_path: Path) -> None:
    assert quizbot("--version", cwd=tmp_path).stdout.strip() == f"quizbot {__version__}"
    top = quizbot("--help", cwd=tmp_path)
    assert top.returncode == 0
    for name in ("play", "leaderboard", "stats", "db", "questions", "run"):
        assert name in top.stdout


@pytest.mark.parametrize("command", subcommands(), ids=" ".join)
def test_every_subcommand_has_help(command: list[str]) -> None:
    parser = build_parser()
    with pytest.raises(SystemExit) as exit_:
        parser.parse_args([*command, "--help"])
    assert exit_.value.code == 0


def test_play_with_piped_input_saves_to_the_database(tmp_path: Path) -> None:
    # blank and invalid input first (re-asked with a hint); then a cycle of one, two and three
    # letters, so whichever type each question is, one line of every three fits it
    result = quizbot(
        "play",
        "--count",
        "3",
        "--user",
        "Ana",
        "--task",
        "3.4",
        cwd=tmp_path,
        stdin="\nzz\n" + "A\nAB\nABC\n" * 4,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Question 1 of 3" in out and "Task 3.4" in out
    assert "Please answer with one of the letters" in out
    assert "Why:" in out and "Learn more: https://" in out
    assert "Session finished" in out
    assert (tmp_path / "quizbot.db").exists()
    board = quizbot("leaderboard", "--user", "Ana", cwd=tmp_path)
    assert board.returncode == 0 and "Ana" in board.stdout
    stats = quizbot("stats", "--user", "Ana", cwd=tmp_path)
    assert stats.returncode == 0 and "Stats for Ana" in stats.stdout
    assert out.count("You chose") == 3
    assert "of 3 correct" in stats.stdout


def test_play_in_portuguese(tmp_path: Path) -> None:
    result = quizbot(
        "play", "--count", "1", "--lang", "pt-BR", "--user", "Bia", cwd=tmp_path, stdin="A\nAB\nABC\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Questão 1 de 1" in result.stdout and "Sessão concluída" in result.stdout
    assert ("Correto!" in result.stdout) or ("Não foi dessa vez." in result.stdout)


def test_ctrl_c_keeps_answers_given(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    environment.pop("QUIZBOT_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "play", "--count", "5", "--user", "Cy"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment,
    )
    assert process.stdin is not None
    process.stdin.write("A\nAB\nABC\n")  # whatever the first question's type, one of these fits
    process.stdin.flush()
    time.sleep(3)  # the first answer is written; the game waits on question 2
    process.send_signal(signal.SIGINT)
    process.wait(timeout=10)  # stdin is still open: Ctrl-C must not wait for a line
    out, err = process.communicate(timeout=10)
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err
    answered = out.count("You chose")
    assert answered >= 1
    assert "Your answers so far are saved" in out and f"You answered {answered} of 5 questions" in out
    stats = quizbot("stats", "--user", "Cy", cwd=tmp_path)
    assert f"of {answered} correct" in stats.stdout


def test_run_without_configuration_points_to_play(tmp_path: Path) -> None:
    result = quizbot("run", cwd=tmp_path)
    assert result.returncode == 2
    assert "DISCORD_TOKEN" in result.stderr and "quizbot play" in result.stderr


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = quizbot("play", cwd=tmp_path, env={"QUIZBOT_LOCALE": "klingon"})
    assert result.returncode == 2 and "QUIZBOT_LOCALE" in result.stderr
    assert "Traceback" not in result.stderr
