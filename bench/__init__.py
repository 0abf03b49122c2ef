"""Benchmarks for the quiz bot: the answer write path, the leaderboard read path, the
daily questions posted through the Discord and Slack adapters, and the start-up time and
memory of ``quizbot run``.

Run them all with ``python -m bench`` from the repository root (see bench/README.md).
They print figures; nothing here is asserted by the test suite.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence


def standalone(
    doc: str | None,
    add_arguments: Callable[[argparse.ArgumentParser], None],
    run: Callable[[argparse.Namespace], bool],
    argv: Sequence[str] | None = None,
) -> int:
    """``python -m bench.NAME``: parse that benchmark's arguments, run it; 1 when a
    correctness check failed."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else None)
    add_arguments(parser)
    return 0 if run(parser.parse_args(argv)) else 1
