"""Benchmarks for the quiz bot: the answer write path and the leaderboard read path.

Run them all with ``python -m bench`` from the repository root (see bench/README.md).
They print figures; nothing here is asserted by the test suite.
"""
