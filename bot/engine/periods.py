"""Leaderboard periods: ISO weeks and months cut in the place's own time zone.

Standings are kept per (scope, period key) so a leaderboard is one indexed read; the
key carries the season so an organiser's reset starts every board afresh without
deleting any attempt.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from bot.engine.localtime import local_time
from bot.engine.model import Period, PlaceRef


def period_label(period: Period, moment: datetime, timezone: str, season: int) -> str:
    local = local_time(moment, timezone)
    if period is Period.WEEK:
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    if period is Period.MONTH:
        return f"{local.year}-{local.month:02d}"
    return f"season {season}"


def period_key(period: Period, moment: datetime, timezone: str, season: int) -> str:
    local = local_time(moment, timezone)
    if period is Period.WEEK:
        year, week, _ = local.isocalendar()
        return f"s{season}:w{year}-{week:02d}"
    if period is Period.MONTH:
        return f"s{season}:m{local.year}-{local.month:02d}"
    return f"s{season}:all"


def all_period_keys(moment: datetime, timezone: str, season: int) -> tuple[str, ...]:
    # periods change at whole minutes in every time zone, so the minute is a safe cache key
    return _period_keys_at(moment.replace(second=0, microsecond=0), timezone, season)


@lru_cache(maxsize=4096)
def _period_keys_at(minute: datetime, timezone: str, season: int) -> tuple[str, ...]:
    return tuple(period_key(p, minute, timezone, season) for p in Period)


def boards_for(place: PlaceRef, moment: datetime, timezone: str, season: int) -> tuple[tuple[str, str], ...]:
    """Every (scope, period) board one scored answer credits: the workspace and the
    channel, for this week, this month and the season, cut in the workspace's time zone."""
    periods = all_period_keys(moment, timezone, season)
    return tuple(
        (scope, period) for scope in (place.workspace_scope, place.channel_scope) for period in periods
    )
