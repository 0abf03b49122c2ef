"""Daily reminders as rows: who asked for one, their due cards, and the day's claim.

A reminder is claimed before it is sent, by one conditional UPDATE of the learner's
``reminded_on``: two scheduler processes ticking at the same minute both try, and only
the one whose UPDATE changed the row sends.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import or_, select, update

from bot.engine.model import LearnerProfile, LearnerRef
from bot.engine.reminders import ReminderProfile
from bot.store.tables import learner_profiles, learners, review_cards

if TYPE_CHECKING:
    from bot.store.repository import SqlStore


async def reminder_profiles(store: SqlStore, platform: str | None) -> list[ReminderProfile]:
    p, person = learner_profiles.c, learners.c
    query = (
        select(
            p.learner_id,
            person.platform,
            person.user_id,
            person.display_name,
            person.locale,
            p.exam_date,
            p.remind_at,
            p.timezone,
            p.remind_workspace,
            p.reminded_on,
        )
        .join(learners, learners.c.id == p.learner_id)
        .where(p.remind_at.is_not(None))
        .order_by(p.learner_id)
    )
    if platform is not None:
        query = query.where(person.platform == platform)
    async with store.db.read() as conn:
        rows = list(await conn.execute(query))
    return [
        ReminderProfile(
            row.learner_id,
            LearnerRef(row.platform, row.user_id, row.display_name, row.locale),
            LearnerProfile(row.exam_date, row.remind_at, row.timezone, row.remind_workspace, row.reminded_on),
        )
        for row in rows
    ]


async def due_questions_of(store: SqlStore, cutoffs: Mapping[int, datetime]) -> dict[int, list[str]]:
    """One read for every learner: cards due before the latest cutoff, kept per learner
    when due before their own (cutoffs differ by time zone)."""
    if not cutoffs:
        return {}
    c = review_cards.c
    query = (
        select(c.learner_id, c.question_id, c.due)
        .where(c.learner_id.in_(sorted(cutoffs)), c.due < max(cutoffs.values()))
        .order_by(c.learner_id, c.due, c.question_id)
    )
    async with store.db.read() as conn:
        rows = list(await conn.execute(query))
    due: dict[int, list[str]] = defaultdict(list)
    for row in rows:
        if row.due < cutoffs[row.learner_id]:
            due[row.learner_id].append(row.question_id)
    return dict(due)


async def claim_reminder(store: SqlStore, learner_id: int, day: date) -> bool:
    p = learner_profiles.c
    claim = (
        update(learner_profiles)
        # once a day, and a later day only: a learner whose zone moved them back to a date
        # already reminded (Auckland to São Paulo) is not reminded twice
        .where(
            p.learner_id == learner_id,
            p.remind_at.is_not(None),
            or_(p.reminded_on.is_(None), p.reminded_on < day),
        )
        .values(reminded_on=day)
    )
    async with store.db.write() as conn:
        return (await conn.execute(claim)).rowcount == 1


async def release_reminder(store: SqlStore, learner_id: int, day: date, previous: date | None) -> None:
    p = learner_profiles.c
    async with store.db.write() as conn:
        await conn.execute(
            update(learner_profiles)
            .where(p.learner_id == learner_id, p.reminded_on == day)
            .values(reminded_on=previous)
        )
