"""Is this host's bot alive? The running process beats; ``quizbot health`` and
``GET /healthz`` read the beats.

Healthy means: a process on this host beat within ``STALE_AFTER``, every part it runs is
connected, and the database answered the question.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from bot.store.database import Database
from bot.store.heartbeats import Beat, beat, beats_on, forget

log = logging.getLogger(__name__)
BEAT_EVERY = 10.0
STALE_AFTER = timedelta(seconds=3 * BEAT_EVERY)


class Parts:
    """Which parts of this process are connected (set by the adapters as they connect,
    drop and resume)."""

    def __init__(self, names: list[str]) -> None:
        self.state = dict.fromkeys(names, False)
        self.changed = asyncio.Event()  # a change is written at once, not at the next beat
        self.instance = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.started_at = datetime.now(UTC)

    def set(self, name: str, connected: bool) -> None:
        self.state[name] = connected
        self.changed.set()

    @property
    def healthy(self) -> bool:
        return bool(self.state) and all(self.state.values())

    def describe(self) -> str:
        return ", ".join(f"{n} {'connected' if ok else 'NOT connected'}" for n, ok in self.state.items())


async def keep_beating(database: Database, parts: Parts, every: float = BEAT_EVERY) -> None:
    """Write this process's beat until cancelled, then remove it."""
    try:
        while True:
            parts.changed.clear()
            try:
                state, now = dict(parts.state), datetime.now(UTC)
                host, pid = socket.gethostname(), os.getpid()
                await beat(database, Beat(parts.instance, host, pid, state, parts.started_at, now))
            except Exception:  # the database may be briefly away; health will say so
                log.warning("could not write the heartbeat", exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(parts.changed.wait(), every)
    finally:
        try:
            await asyncio.shield(forget(database, parts.instance))
        except Exception:
            log.warning("could not remove the heartbeat", exc_info=True)


async def check(database: Database, host: str | None = None) -> tuple[bool, str]:
    """(healthy, why) for the bot on ``host`` (this machine by default)."""
    host = host or socket.gethostname()
    try:
        found = await beats_on(database, host)
    except Exception as error:
        return False, f"the database does not answer: {type(error).__name__}"
    now = datetime.now(UTC)
    fresh = [b for b in found if now - b.beat_at <= STALE_AFTER]
    if not fresh:
        return False, f"no bot is running on {host} (no heartbeat in the last {STALE_AFTER.seconds} s)"
    broken = [b for b in fresh if not b.parts or not all(b.parts.values())]
    if broken:
        down = ", ".join(f"{name} (pid {b.pid})" for b in broken for name, ok in b.parts.items() if not ok)
        return False, f"not connected: {down or 'no parts'}"
    summary = "; ".join(f"pid {b.pid}: {', '.join(sorted(b.parts))}" for b in fresh)
    return True, f"ok: {summary}"
