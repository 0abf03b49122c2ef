"""Heartbeats: each running process says, every few seconds, that it is alive and which
of its parts are connected. A row per process (instance), never one shared row, so two
processes on one database never mask each other's death."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select

from bot.store.database import Database
from bot.store.tables import heartbeats


@dataclass(frozen=True)
class Beat:
    instance: str
    host: str
    pid: int
    parts: dict[str, bool]
    started_at: datetime
    beat_at: datetime


async def beat(database: Database, mine: Beat) -> None:
    values = {
        "host": mine.host,
        "pid": mine.pid,
        "parts": json.dumps(mine.parts, sort_keys=True),
        "started_at": mine.started_at,
        "beat_at": mine.beat_at,
    }
    async with database.write() as conn:
        updated = await conn.execute(
            heartbeats.update().where(heartbeats.c.instance == mine.instance).values(**values)
        )
        if updated.rowcount == 0:
            await conn.execute(heartbeats.insert().values(instance=mine.instance, **values))


async def forget(database: Database, instance: str) -> None:
    """A clean stop removes the row: health is false at once, not after a timeout."""
    async with database.write() as conn:
        await conn.execute(delete(heartbeats).where(heartbeats.c.instance == instance))


async def beats_on(database: Database, host: str) -> list[Beat]:
    query = select(heartbeats).where(heartbeats.c.host == host).order_by(heartbeats.c.beat_at.desc())
    async with database.read() as conn:
        return [
            Beat(r.instance, r.host, r.pid, json.loads(r.parts), r.started_at, r.beat_at)
            for r in await conn.execute(query)
        ]
