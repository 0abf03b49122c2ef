"""The daily question's calendar: when a schedule posts, in its own time zone.

Daylight saving is decided here, once: a time that does not exist on the spring-forward
day posts at the first valid minute after it; a time that occurs twice on the fall-back
day posts once, at its first occurrence. A post missed while the bot was down is made
when it comes back within the grace window, otherwise that day is skipped — never a
burst of old posts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from bot.engine.localtime import local_today
from bot.engine.model import PlaceRef

DEFAULT_GRACE = timedelta(hours=2)
MAX_WINDOW = timedelta(hours=24)
EVERY_DAY = frozenset(range(7))  # Monday = 0
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class DailyClaim(NamedTuple):
    """A (schedule, local date) already taken; ``round_id`` is None until its round opens."""

    claimed_at: datetime
    round_id: int | None


@dataclass(frozen=True)
class DailySchedule:
    id: int
    place: PlaceRef
    at: time  # local time of day
    timezone: str
    days: frozenset[int]
    task: str | None
    close_after: timedelta | None  # None: until the next post (24 h at most)
    mention: str | None  # a role (Discord) or user group (Slack) to mention
    created_by: str
    enabled: bool = True


def post_instant(local_date: date, at: time, timezone: str) -> datetime:
    """The UTC moment a schedule posts on ``local_date``."""
    zone = ZoneInfo(timezone)
    wanted = datetime.combine(local_date, at)
    first = wanted.replace(tzinfo=zone, fold=0)
    if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wanted:
        return first.astimezone(UTC)  # exists (the first of two occurrences when repeated)
    # the clock jumped over it: the first valid minute after
    candidate = wanted
    for _ in range(24 * 60):
        candidate += timedelta(minutes=1)
        moment = candidate.replace(tzinfo=zone, fold=0)
        if moment.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == candidate:
            return moment.astimezone(UTC)
    raise ValueError(f"no valid time after {wanted} in {timezone}")


@dataclass(frozen=True)
class DuePost:
    schedule: DailySchedule
    local_date: date
    at: datetime  # when it was meant to post (UTC)
    late: bool  # past its minute but inside the grace window


def due_posts(
    schedule: DailySchedule, now: datetime, grace: timedelta = DEFAULT_GRACE
) -> tuple[list[DuePost], list[DuePost]]:
    """(posts due now, posts whose grace window has passed) among the last two local days.

    The caller claims each due post once; a missed one is recorded as skipped, once.
    """
    if not schedule.enabled:
        return [], []
    today = local_today(now, schedule.timezone)
    due: list[DuePost] = []
    missed: list[DuePost] = []
    for local_date in (today - timedelta(days=1), today):
        if local_date.weekday() not in schedule.days:
            continue
        at = post_instant(local_date, schedule.at, schedule.timezone)
        if at > now:
            continue
        post = DuePost(schedule, local_date, at, now - at >= timedelta(minutes=1))
        (due if now - at < grace else missed).append(post)
    return due, missed


def next_post_after(schedule: DailySchedule, moment: datetime) -> datetime:
    """The schedule's next posting moment strictly after ``moment`` (within two weeks)."""
    start = local_today(moment, schedule.timezone)
    for offset in range(15):
        local_date = start + timedelta(days=offset)
        if local_date.weekday() in schedule.days:
            at = post_instant(local_date, schedule.at, schedule.timezone)
            if at > moment:
                return at
    raise ValueError("a schedule posts on at least one day of the week")


def closes_at(schedule: DailySchedule, posted_at: datetime) -> datetime:
    """The round's deadline: its own window, or until the next post, and 24 h at most."""
    if schedule.close_after is not None:
        return posted_at + min(schedule.close_after, MAX_WINDOW)
    return min(next_post_after(schedule, posted_at), posted_at + MAX_WINDOW)


def parse_days(text: str | None) -> frozenset[int]:
    """``"mon-fri"``, ``"mon,wed,fri"``, ``"sat,sun"`` or empty (every day)."""
    if not text or text.strip().lower() in {"every", "daily", "all", "*"}:
        return EVERY_DAY
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if "-" in part:
            first, last = (DAY_NAMES.index(p[:3]) for p in part.split("-", 1))
            span = range(first, last + 1) if first <= last else [*range(first, 7), *range(0, last + 1)]
            days.update(span)
        else:
            days.add(DAY_NAMES.index(part[:3]))
    return frozenset(days)


def parse_time(text: str) -> time:
    hours, _, minutes = text.strip().partition(":")
    value = time(int(hours), int(minutes or 0))
    return value
