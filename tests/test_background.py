"""The shared background loop: failures are logged, others carry on, retries back off."""

from __future__ import annotations

import logging

import pytest

from bot.adapters.background import Backoff, each


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_backoff_doubles_up_to_its_cap_and_forgets_on_success() -> None:
    clock = Clock()
    backoff: Backoff[int] = Backoff(lambda n: n, base=5, cap=30, clock=clock)
    assert [backoff.failed(1) for _ in range(5)] == [5, 10, 20, 30, 30]
    assert not backoff.ready(1) and backoff.ready(2)
    clock.now = 29.9
    assert not backoff.ready(1)
    clock.now = 30
    assert backoff.ready(1)
    backoff.succeeded(1)
    assert backoff.failed(1) == 5  # a success starts the count over


async def test_each_skips_items_that_failed_lately_and_keeps_going(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    backoff: Backoff[int] = Backoff(lambda n: n, base=10, clock=clock)
    broken = {2}
    done: list[int] = []

    async def post(n: int) -> None:
        if n in broken:
            raise ConnectionError("platform down")
        done.append(n)

    with caplog.at_level(logging.ERROR):
        await each([1, 2, 3], post, lambda n: f"posting {n}", backoff)
    assert done == [1, 3]
    assert "posting 2 failed; next try in 10 s" in caplog.text
    await each([2], post, lambda n: f"posting {n}", backoff)  # too soon: not even tried
    assert len(caplog.records) == 1
    broken.clear()
    clock.now = 10
    await each([2], post, lambda n: f"posting {n}", backoff)
    assert done == [1, 3, 2]
