"""Scores out of the bot, for a study group's own spreadsheet or an archive: standings
and attempts, per server/workspace, with learners by platform id and display name.
Nothing else is read (never the installations table, which holds tokens)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Select, func, or_, select

from bot.engine.model import PlaceRef
from bot.store.database import Database
from bot.store.tables import attempts, learners, places, rounds, standings

TABLES = ("standings", "attempts")


def _standings(workspace: PlaceRef | None) -> Select[Any]:
    query = (
        select(
            standings.c.scope,
            standings.c.period,
            learners.c.platform,
            learners.c.user_id,
            learners.c.display_name,
            standings.c.score,
            standings.c.answered,
        )
        .join(learners, learners.c.id == standings.c.learner_id)
        .order_by(standings.c.scope, standings.c.period, standings.c.score.desc(), learners.c.user_id)
    )
    if workspace is not None:
        scope = workspace.workspace_scope  # exact prefix, never LIKE (ids may hold its wildcards)
        query = query.where(
            or_(standings.c.scope == scope, func.substr(standings.c.scope, 1, len(scope) + 1) == scope + ":")
        )
    return query


def _attempts(workspace: PlaceRef | None) -> Select[Any]:
    query = (
        select(
            places.c.platform,
            places.c.workspace_id.label("workspace"),
            places.c.channel_id.label("channel"),
            learners.c.user_id,
            learners.c.display_name,
            attempts.c.question_id,
            attempts.c.chosen_letters,
            attempts.c.correct,
            attempts.c.answered_at,
            rounds.c.kind,
        )
        .join(rounds, rounds.c.id == attempts.c.round_id)
        .join(places, places.c.id == rounds.c.place_id)
        .join(learners, learners.c.id == attempts.c.learner_id)
        .order_by(attempts.c.answered_at, attempts.c.id)
    )
    if workspace is not None:
        query = query.where(
            places.c.platform == workspace.platform, places.c.workspace_id == workspace.workspace
        )
    return query


async def export_rows(
    database: Database, table: str, workspace: PlaceRef | None = None
) -> tuple[Sequence[str], list[Mapping[str, Any]]]:
    """(column names, rows) of ``table`` ("standings" or "attempts"), optionally for one workspace."""
    query = _standings(workspace) if table == "standings" else _attempts(workspace)
    async with database.read() as conn:
        result = await conn.execute(query)
        columns = list(result.keys())
        return columns, [dict(row._mapping) for row in result]
