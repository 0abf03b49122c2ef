"""``exam-date`` and ``remind`` as every front end takes them: the learner's text in, the
private reply out. Adapters only say which command was typed and which time zone to
assume; the wording and the checks are the same everywhere."""

from __future__ import annotations

import re
from datetime import date

from bot.engine import LearnerRef, PlaceRef, QuizEngine
from bot.engine.locale import resolve_locale
from bot.engine.service import SettingRejected
from bot.i18n import t

OFF = frozenset({"off", "clear", "none", "stop"})
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_exam_date(text: str) -> date | None:
    """``2027-03-15`` (only this form: 03/04 means different days to different people)."""
    value = text.strip()
    if not ISO_DATE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2027-02-30
        return None


def _locale(engine: QuizEngine, learner: LearnerRef) -> str:
    return resolve_locale(learner.locale, None, engine.default_locale)


async def exam_date_reply(
    engine: QuizEngine, learner: LearnerRef, text: str, command: str
) -> tuple[str, bool]:
    """Set or clear the exam date from what the learner typed: the reply, and whether
    anything was changed (False: the reply says which form was expected)."""
    locale = _locale(engine, learner)
    if not text.strip():
        return t(locale, "plan.exam_date.usage", command=command), False
    if text.strip().lower() in OFF:
        await engine.set_exam_date(learner, None)
        return t(locale, "plan.exam_date.cleared"), True
    day = parse_exam_date(text)
    if day is None:
        return t(locale, "plan.exam_date.invalid"), False
    try:
        await engine.set_exam_date(learner, day)
    except SettingRejected:  # in the past
        return t(locale, "plan.exam_date.invalid"), False
    days = (day - await engine.learner_today(learner)).days
    return t(locale, "plan.exam_date.saved", date=day.isoformat(), days=days), True


async def remind_reply(
    engine: QuizEngine,
    learner: LearnerRef,
    text: str,
    place: PlaceRef,
    command: str,
    *,
    named_zone: str | None = None,
    platform_zone: str | None = None,
) -> str:
    """Turn the daily reminder on at ``text`` (HH:MM) or off; the reply says what happened,
    or which format was expected. The time is read in the zone named now, else the one
    named last time, else the platform's (Slack's profile zone), else the workspace's."""
    locale = _locale(engine, learner)
    if not text.strip():
        return t(locale, "plan.remind.usage", command=command)
    if text.strip().lower() in OFF:
        await engine.set_reminder(learner, None)
        return t(locale, "plan.remind.off")
    zone = named_zone or (await engine.profile(learner)).timezone or platform_zone
    if zone is None:
        zone = (await engine.settings(place)).timezone
    workspace = place.workspace
    try:
        profile = await engine.set_reminder(learner, text, zone, workspace)
    except SettingRejected as error:
        if error.name == "timezone":
            return t(locale, "plan.remind.invalid_zone", zone=zone)
        return t(locale, "plan.remind.invalid_time")
    return t(locale, "plan.remind.saved", time=profile.remind_at, zone=profile.timezone, command=command)
