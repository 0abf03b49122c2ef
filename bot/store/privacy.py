"""What the bot holds about one person, forgetting them, and purging a workspace it left.

Every function runs inside the caller's transaction (``SqlStore`` takes the locks and
keeps its caches right). Tables that name a person, and how each is treated:

* ``learners``: the row (platform id, display name, locale) — exported, then deleted;
* ``attempts``, ``sessions``, ``question_flags``: moved to a new learner row with a random
  id and no name (``FORGOTTEN_PLATFORM``), so a round's tally and a question's statistics
  stay; attempts lose their season, so they leave every leaderboard; a flag loses its comment;
* ``standings``: the person's rows are deleted and their workspaces' boards recounted;
* ``organisers``: their grants are deleted; grants they made no longer say who made them;
* ``daily_schedules``: ``created_by`` is cleared;
* ``installations``: where they installed the app, their id is blanked in the stored JSON
  (the workspace's bot token stays: the workspace still uses the bot). Tokens are never read
  into an export.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.engine.model import FORGOTTEN_PLATFORM, ForgetReport, PurgeReport
from bot.store.tables import (
    attempts,
    daily_posts,
    daily_schedules,
    installations,
    learner_profiles,
    learners,
    mock_exam_items,
    mock_exams,
    organisers,
    places,
    question_flags,
    question_stats,
    review_cards,
    rounds,
    score_histogram,
    sessions,
    standings,
)

Workspaces = set[tuple[str, str]]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _names(data: Any, user_id: str) -> bool:
    """Whether a stored JSON value holds this id anywhere (a Slack installer's ``user_id``)."""
    if isinstance(data, dict):
        return any(_names(v, user_id) for v in data.values())
    if isinstance(data, list):
        return any(_names(v, user_id) for v in data)
    return bool(data == user_id)


def _blank(data: Any, user_id: str) -> Any:
    if isinstance(data, dict):
        return {k: _blank(v, user_id) for k, v in data.items()}
    if isinstance(data, list):
        return [_blank(v, user_id) for v in data]
    return "" if data == user_id else data


async def learner_id_of(conn: AsyncConnection, platform: str, user_id: str) -> int | None:
    query = select(learners.c.id).where(learners.c.platform == platform, learners.c.user_id == user_id)
    found: int | None = (await conn.execute(query)).scalar()
    return found


async def _installed_by(
    conn: AsyncConnection, platform: str, user_id: str, *, lock: bool = False
) -> list[tuple[str, Any]]:
    """(workspace key, parsed data) of the installations this person made; ``lock`` holds
    the rows until the transaction ends, so a token rotated meanwhile is not written back
    over with the old one."""
    query = select(installations.c.workspace_id, installations.c.data).where(
        installations.c.platform == platform
    )
    if lock:
        query = query.with_for_update()
    found = []
    for row in await conn.execute(query):
        data = json.loads(row.data)
        if _names(data, user_id):
            found.append((row.workspace_id, data))
    return found


async def _listed(conn: AsyncConnection, query: Any) -> list[dict[str, Any]]:
    """Rows as JSON-able dicts named by the query's column labels (times in ISO 8601)."""
    return [
        {k: _iso(v) if isinstance(v, datetime) else v for k, v in row._mapping.items()}
        for row in await conn.execute(query)
    ]


async def learner_data(conn: AsyncConnection, platform: str, user_id: str) -> dict[str, Any] | None:
    """Everything held about this person, JSON-able; None when nothing is held."""
    lid = await learner_id_of(conn, platform, user_id)
    lid = -1 if lid is None else lid  # still look for grants, schedules, installations
    where = (places.c.workspace_id.label("workspace"), places.c.channel_id.label("channel"))
    learner = select(
        learners.c.display_name, learners.c.locale, learners.c.created_at.label("first_seen")
    ).where(learners.c.id == lid)
    found = await _listed(conn, learner)
    a, r = attempts.c, rounds.c
    attempt_rows = (
        select(a.round_id, a.question_id, r.kind, *where, r.session_id, r.position, a.chosen_letters)
        .add_columns(a.chosen_keys, a.correct, a.answered_at, a.season)
        .join(rounds, r.id == a.round_id)
        .join(places, places.c.id == r.place_id)
        .where(a.learner_id == lid)
        .order_by(a.answered_at, a.id)
    )
    s = standings.c
    standing_rows = (
        select(s.scope.label("board"), s.period, s.score, s.answered, s.updated_at)
        .where(s.learner_id == lid)
        .order_by(s.scope, s.period)
    )
    session_rows = (
        select(sessions.c.id, *where, sessions.c.task, sessions.c.size, sessions.c.scored)
        .add_columns(sessions.c.started_at, sessions.c.finished_at)
        .join(places, places.c.id == sessions.c.place_id)
        .where(sessions.c.learner_id == lid)
        .order_by(sessions.c.id)
    )
    f = question_flags.c
    flag_rows = (
        select(f.question_id, f.reason, f.comment, f.round_id, f.created_at, f.resolved_at)
        .where(f.learner_id == lid)
        .order_by(f.id)
    )
    o = organisers.c
    granted_to = select(o.workspace_id.label("workspace"), o.added_at).order_by(o.workspace_id)
    d = daily_schedules.c
    schedule_rows = (
        select(*where, d.at, d.timezone, d.days, d.enabled, d.created_at)
        .join(places, places.c.id == d.place_id)
        .where(places.c.platform == platform, d.created_by == user_id)
        .order_by(d.id)
    )
    c = review_cards.c
    card_rows = (  # every column: the whole memory model is about them
        select(*(column for column in review_cards.c if column.name != "learner_id"))
        .where(c.learner_id == lid)
        .order_by(c.question_id)
    )
    p = learner_profiles.c
    profile = select(
        p.exam_date, p.remind_at, p.timezone, p.remind_workspace, p.reminded_on, p.updated_at
    ).where(p.learner_id == lid)
    m = mock_exams.c
    exam_rows = (
        select(*where, *(column for column in mock_exams.c if column.name not in ("learner_id", "place_id")))
        .join(places, places.c.id == m.place_id)
        .where(m.learner_id == lid)
        .order_by(m.id)
    )
    i = mock_exam_items.c
    item_rows = (
        select(i.exam_id, i.position, i.question_id, i.chosen_keys, i.correct, i.answered_at)
        .join(mock_exams, m.id == i.exam_id)
        .where(m.learner_id == lid)
        .order_by(i.exam_id, i.position)
    )
    profiles = await _listed(conn, profile)
    data: dict[str, Any] = {
        "platform": platform,
        "user_id": user_id,
        "learner": found[0] if found else None,
        "attempts": await _listed(conn, attempt_rows),
        "standings": await _listed(conn, standing_rows),
        "sessions": await _listed(conn, session_rows),
        "flags": await _listed(conn, flag_rows),
        "organiser_of": await _listed(conn, granted_to.where(o.platform == platform, o.user_id == user_id)),
        # whom they made organiser is someone else's data: only where and when
        "organiser_grants_made": await _listed(
            conn, granted_to.where(o.platform == platform, o.added_by == user_id)
        ),
        "daily_schedules_set": await _listed(conn, schedule_rows),
        # never the stored installation itself: it holds the workspace's tokens
        "installations_made": [{"workspace": key} for key, _ in await _installed_by(conn, platform, user_id)],
        "review_cards": await _listed(conn, card_rows),
        "profile": profiles[0] if profiles else None,
        "mock_exams": await _listed(conn, exam_rows),
        "mock_exam_answers": await _listed(conn, item_rows),
    }
    held = [v for k, v in data.items() if k not in ("platform", "user_id")]
    return data if any(held) else None


async def _delete_learning(conn: AsyncConnection, learner_ids: list[int]) -> int:
    """A learner's own study records: nothing anyone else counts on, so they go entirely."""
    exams = select(mock_exams.c.id).where(mock_exams.c.learner_id.in_(learner_ids))
    await conn.execute(delete(mock_exam_items).where(mock_exam_items.c.exam_id.in_(exams)))
    removed = 0
    for table in (mock_exams, review_cards, learner_profiles):
        removed += (await conn.execute(delete(table).where(table.c.learner_id.in_(learner_ids)))).rowcount
    return removed


async def forget_rows(
    conn: AsyncConnection, platform: str, user_id: str, now: datetime
) -> tuple[ForgetReport, Workspaces]:
    """Remove the person's ids and names everywhere; returns what changed and the
    workspaces whose boards must be recounted (their scored attempts counted there)."""
    lid = await learner_id_of(conn, platform, user_id)
    counts: dict[str, int] = {}
    workspaces: Workspaces = set()
    if lid is not None:
        scored_in = (
            select(places.c.platform, places.c.workspace_id)
            .distinct()
            .join(rounds, rounds.c.place_id == places.c.id)
            .join(attempts, attempts.c.round_id == rounds.c.id)
            .where(attempts.c.learner_id == lid, attempts.c.season.is_not(None))
        )
        workspaces = {(r.platform, r.workspace_id) for r in await conn.execute(scored_in)}
        nobody = (
            await conn.execute(
                learners.insert()
                .values(
                    platform=FORGOTTEN_PLATFORM,
                    user_id=uuid.uuid4().hex,
                    display_name="",
                    locale=None,
                    created_at=now,
                )
                .returning(learners.c.id)
            )
        ).scalar_one()
        moved = await conn.execute(
            update(attempts)
            .where(attempts.c.learner_id == lid)
            .values(learner_id=nobody, season=None, timezone=None)
        )
        counts["attempts"] = moved.rowcount
        moved = await conn.execute(
            update(sessions).where(sessions.c.learner_id == lid).values(learner_id=nobody)
        )
        counts["sessions"] = moved.rowcount
        moved = await conn.execute(
            update(question_flags)
            .where(question_flags.c.learner_id == lid)
            .values(learner_id=nobody, comment=None)
        )
        counts["flags"] = moved.rowcount
        removed = await conn.execute(delete(standings).where(standings.c.learner_id == lid))
        counts["standings"] = removed.rowcount
        counts["learning"] = await _delete_learning(conn, [lid])
        await conn.execute(delete(learners).where(learners.c.id == lid))
        if not (counts["attempts"] or counts["sessions"] or counts["flags"]):
            await conn.execute(delete(learners).where(learners.c.id == nobody))
    on_platform = organisers.c.platform == platform
    removed = await conn.execute(delete(organisers).where(on_platform, organisers.c.user_id == user_id))
    counts["organiser_grants"] = removed.rowcount
    granted = await conn.execute(
        update(organisers).where(on_platform, organisers.c.added_by == user_id).values(added_by=None)
    )
    places_of_platform = select(places.c.id).where(places.c.platform == platform)
    cleared = await conn.execute(
        update(daily_schedules)
        .where(daily_schedules.c.created_by == user_id, daily_schedules.c.place_id.in_(places_of_platform))
        .values(created_by="")
    )
    counts["schedules"] = cleared.rowcount
    installed = await _installed_by(conn, platform, user_id, lock=True)
    for key, data in installed:
        await conn.execute(
            update(installations)
            .where(installations.c.platform == platform, installations.c.workspace_id == key)
            .values(data=json.dumps(_blank(data, user_id)))
        )
    found = lid is not None or bool(granted.rowcount or installed or any(counts.values()))
    return ForgetReport(found=found, **counts), workspaces


async def purge_rows(
    conn: AsyncConnection, platform: str, workspace: str, in_scopes: Callable[[Any, Workspaces], Any]
) -> tuple[PurgeReport, list[tuple[str, str]]]:
    """Delete everything of one workspace; returns the report and the (platform, user id)
    of the learners deleted with it (those seen nowhere else)."""
    place_ids = select(places.c.id).where(places.c.platform == platform, places.c.workspace_id == workspace)
    round_ids = select(rounds.c.id).where(rounds.c.place_id.in_(place_ids))
    in_rounds = attempts.c.round_id.in_(round_ids)
    seen = union(
        select(attempts.c.learner_id).where(in_rounds),
        select(sessions.c.learner_id).where(sessions.c.place_id.in_(place_ids)),
        select(mock_exams.c.learner_id).where(mock_exams.c.place_id.in_(place_ids)),
        select(learner_profiles.c.learner_id)  # reminders sent in this workspace
        .join(learners, learners.c.id == learner_profiles.c.learner_id)
        .where(learners.c.platform == platform, learner_profiles.c.remind_workspace == workspace),
    )
    touched = set((await conn.execute(seen)).scalars())
    per_question = select(
        attempts.c.question_id,
        func.count().label("answered"),
        func.sum(case((attempts.c.correct.is_(True), 1), else_=0)).label("correct"),
    ).where(in_rounds)
    for row in await conn.execute(per_question.group_by(attempts.c.question_id)):
        await conn.execute(
            update(question_stats)
            .where(question_stats.c.question_id == row.question_id)
            .values(
                answered=question_stats.c.answered - row.answered,
                correct=question_stats.c.correct - int(row.correct or 0),
            )
        )
    await conn.execute(delete(question_stats).where(question_stats.c.answered <= 0))
    removed_attempts = (await conn.execute(delete(attempts).where(in_rounds))).rowcount
    await conn.execute(
        update(question_flags).where(question_flags.c.round_id.in_(round_ids)).values(round_id=None)
    )
    schedule_ids = select(daily_schedules.c.id).where(daily_schedules.c.place_id.in_(place_ids))
    await conn.execute(
        delete(daily_posts).where(
            or_(daily_posts.c.schedule_id.in_(schedule_ids), daily_posts.c.round_id.in_(round_ids))
        )
    )
    await conn.execute(delete(daily_schedules).where(daily_schedules.c.place_id.in_(place_ids)))
    removed_rounds = (await conn.execute(delete(rounds).where(rounds.c.place_id.in_(place_ids)))).rowcount
    await conn.execute(delete(sessions).where(sessions.c.place_id.in_(place_ids)))
    exams_here = select(mock_exams.c.id).where(mock_exams.c.place_id.in_(place_ids))
    await conn.execute(delete(mock_exam_items).where(mock_exam_items.c.exam_id.in_(exams_here)))
    await conn.execute(delete(mock_exams).where(mock_exams.c.place_id.in_(place_ids)))
    for table in (standings, score_histogram):
        await conn.execute(delete(table).where(in_scopes(table.c.scope, {(platform, workspace)})))
    await conn.execute(
        delete(organisers).where(organisers.c.platform == platform, organisers.c.workspace_id == workspace)
    )
    await conn.execute(
        delete(places).where(places.c.platform == platform, places.c.workspace_id == workspace)
    )
    await conn.execute(  # those kept (seen elsewhere) stop being reminded in a workspace the bot left
        update(learner_profiles)
        .where(
            learner_profiles.c.remind_workspace == workspace,
            learner_profiles.c.learner_id.in_(select(learners.c.id).where(learners.c.platform == platform)),
        )
        .values(remind_at=None, remind_workspace=None)
    )
    gone: list[tuple[str, str]] = []
    if touched:
        still_seen = union(
            select(attempts.c.learner_id),
            select(sessions.c.learner_id),
            select(standings.c.learner_id),
            select(mock_exams.c.learner_id),
        )
        ordered = sorted(touched)
        for start in range(0, len(ordered), 500):  # bound the bind parameters per statement
            alone = select(learners.c.id, learners.c.platform, learners.c.user_id).where(
                learners.c.id.in_(ordered[start : start + 500]), learners.c.id.not_in(still_seen)
            )
            rows = list(await conn.execute(alone))
            ids = [r.id for r in rows]
            if ids:
                await _delete_learning(conn, ids)
                await conn.execute(delete(question_flags).where(question_flags.c.learner_id.in_(ids)))
                await conn.execute(delete(learners).where(learners.c.id.in_(ids)))
            gone += [(r.platform, r.user_id) for r in rows]
    report = PurgeReport(platform, workspace, removed_rounds, removed_attempts, len(gone))
    return report, gone
