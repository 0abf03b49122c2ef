"""A moment or a date as it is somewhere: the one place that turns UTC into local time.

Leaderboard periods, daily questions, due reviews and reminders all cut days in a
person's or a place's own zone; this module imports nothing else of the engine, so every
part can use it.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo


def local_time(moment: datetime, timezone: str) -> datetime:
    return moment.astimezone(ZoneInfo(timezone))


def local_today(now: datetime, timezone: str) -> date:
    return local_time(now, timezone).date()
