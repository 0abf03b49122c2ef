"""Health: a row per process, fresh beats only, every part connected."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.health import STALE_AFTER, check
from bot.store import SqlStore
from bot.store.heartbeats import Beat, beat, forget

REPO = Path(__file__).resolve().parent.parent


async def test_fresh_connected_beats_only(store: SqlStore) -> None:
    host, now = socket.gethostname(), datetime.now(UTC)
    assert (await check(store.db))[0] is False
    await beat(store.db, Beat("one", host, 11, {"discord": True, "slack": False}, now, now))
    healthy, why = await check(store.db)
    assert not healthy and "slack (pid 11)" in why
    await beat(store.db, Beat("one", host, 11, {"discord": True, "slack": True}, now, now))
    await beat(store.db, Beat("two", host, 12, {"slack": True}, now, now))  # a second process
    healthy, why = await check(store.db)
    assert healthy and "pid 11" in why and "pid 12" in why
    assert not (await check(store.db, host="elsewhere"))[0]  # another host's bot is not ours
    await forget(store.db, "one")
    await forget(store.db, "two")
    late = now - STALE_AFTER - timedelta(seconds=1)
    await beat(store.db, Beat("three", host, 13, {"discord": True}, late, late))  # died without a word
    healthy, why = await check(store.db)
    assert not healthy and "no bot is running" in why


def test_health_without_a_database_creates_none(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "QUIZBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'q.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "health"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 1 and "no database" in result.stderr
    assert not (tmp_path / "q.db").exists()
