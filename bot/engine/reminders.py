"""A learner's study plan: the exam countdown, how much of the bank they have covered,
and the daily reminder's rules (which learners are due one now).

The selection is pure: it takes the profiles and the time, and says who is past their
reminder time today (in their own time zone) and not yet reminded today. Whether they
have reviews due, and claiming the day's reminder so that only one scheduler sends it,
are the engine's (``QuizEngine.due_reminders``, ``QuizEngine.claim_reminder``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time

from bot.engine.localtime import local_time
from bot.engine.model import LearnerProfile, LearnerRef

TIME_OF_DAY = re.compile(r"(\d{1,2}):(\d{2})")
TIME_FORMAT = "a time of day as HH:MM (24-hour), for example 07:30"


def parse_remind_time(text: str) -> time | None:
    """``"7:30"`` and ``"07:30"`` are 07:30; anything else (``"7pm"``, ``"25:00"``) is None."""
    found = TIME_OF_DAY.fullmatch(text.strip())
    if found is None or int(found[1]) > 23 or int(found[2]) > 59:
        return None
    return time(int(found[1]), int(found[2]))


@dataclass(frozen=True)
class StudyPlan:
    """What ``/quiz stats`` shows of the learner's plan."""

    exam_date: date | None
    days_left: int | None  # None: no exam date, or it has passed
    covered: int  # distinct active questions answered at least once
    bank_size: int  # active questions in the bank
    due_today: int  # reviews due before the learner's next midnight

    @property
    def coverage_percent(self) -> int:
        return round(100 * self.covered / self.bank_size) if self.bank_size else 0


@dataclass(frozen=True)
class ReminderProfile:
    """A learner who asked for reminders, as the store reads them."""

    learner_id: int
    learner: LearnerRef
    profile: LearnerProfile


@dataclass(frozen=True)
class Reminder:
    """One reminder to send now: where (the learner's platform id; ``workspace`` is the
    Discord server or Slack team they set it in), how many reviews are due, in which
    language, and the local date it is for (the day it claims)."""

    learner_id: int
    platform: str
    user_id: str
    workspace: str | None
    local_date: date
    due: int
    days_left: int | None
    locale: str
    previous: date | None  # the last day reminded before this one: a failed send gives the day back


def pending_reminders(
    profiles: Iterable[ReminderProfile], now: datetime
) -> list[tuple[ReminderProfile, date]]:
    """The learners whose reminder time has come today in their time zone and who have not
    been reminded today, with that local date. A scheduler that was down at the time
    catches up when it is back, the same day."""
    pending = []
    for entry in profiles:
        profile = entry.profile
        at = parse_remind_time(profile.remind_at or "")
        if at is None or not profile.timezone:
            continue
        try:
            local = local_time(now, profile.timezone)
        except (KeyError, ValueError):  # a zone this machine's tzdata no longer knows
            continue
        if local.time() >= at and (profile.reminded_on is None or profile.reminded_on < local.date()):
            pending.append((entry, local.date()))
    return pending


def days_until(exam_date: date | None, today: date) -> int | None:
    if exam_date is None or exam_date < today:
        return None
    return (exam_date - today).days
