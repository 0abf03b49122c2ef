"""Run every benchmark: ``python -m bench`` from the repository root (``--quick`` to smoke).

The exit status is 1 when a correctness check fails; performance targets are printed
as met or NOT MET and never change the exit status.
"""

from __future__ import annotations

import argparse
import os
import platform
import sqlite3
import sys
import time
from collections.abc import Sequence
from importlib.metadata import version

from bench import answer_path, daily_posts, leaderboard, startup

BENCHMARKS = ("answer_path", "leaderboard", "daily_posts", "startup")


def environment() -> str:
    return (
        f"python {platform.python_version()}, sqlite {sqlite3.sqlite_version}, "
        f"sqlalchemy {version('sqlalchemy')}, aiosqlite {version('aiosqlite')}, "
        f"{os.cpu_count()} cpus, {platform.system()} {platform.machine()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    answer_path.add_common_arguments(parser)
    parser.add_argument(
        "--only",
        choices=BENCHMARKS,
        action="append",
        help="run only this benchmark (repeatable; default: all)",
    )
    answer_path.add_arguments(parser, common=False)
    leaderboard.add_arguments(parser, common=False)
    daily_posts.add_arguments(parser, common=False)
    startup.add_arguments(parser, common=False)
    args = parser.parse_args(argv)
    chosen = args.only or list(BENCHMARKS)

    print(f"quizbot benchmarks{' (quick)' if args.quick else ''}: {environment()}")
    started = time.perf_counter()
    ok = True
    if "answer_path" in chosen:
        print()
        ok = answer_path.run(answer_path.options_from(args)) and ok
    if "leaderboard" in chosen:
        print()
        ok = leaderboard.run(leaderboard.options_from(args)) and ok
    if "daily_posts" in chosen:
        print()
        ok = daily_posts.run(daily_posts.options_from(args)) and ok
    if "startup" in chosen:
        print()
        ok = startup.run(startup.options_from(args)) and ok
    print(
        f"\nall done in {time.perf_counter() - started:.1f} s; correctness checks "
        f"{'passed' if ok else 'FAILED'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
