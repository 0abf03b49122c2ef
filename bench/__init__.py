"""Benchmarks for the quiz bot: the answer write path, the leaderboard read path and
the daily questions posted through the Discord and Slack adapters.

Run them all with ``python -m bench`` from the repository root (see bench/README.md).
They print figures; nothing here is asserted by the test suite.
"""
