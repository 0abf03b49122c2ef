"""Recount standings and histograms from attempts, independently of the answer path."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from bot.engine.model import PlaceRef
from bot.engine.periods import all_period_keys
from bot.store import Database
from bot.store.tables import attempts, places, rounds, score_histogram, standings


async def recount(
    database: Database,
) -> tuple[dict[tuple[str, str, int], tuple[int, int]], dict[tuple[str, str, int], tuple[int, int]]]:
    """(expected standings from attempts, actual standings table), keyed by board + learner."""
    query = (
        select(
            attempts.c.learner_id,
            attempts.c.correct,
            attempts.c.answered_at,
            attempts.c.season,
            attempts.c.timezone,
            places.c.platform,
            places.c.workspace_id,
            places.c.channel_id,
        )
        .join(rounds, rounds.c.id == attempts.c.round_id)
        .join(places, places.c.id == rounds.c.place_id)
        .where(attempts.c.season.is_not(None))
    )
    expected_score: Counter[tuple[str, str, int]] = Counter()
    expected_answered: Counter[tuple[str, str, int]] = Counter()
    async with database.read() as conn:
        for row in await conn.execute(query):
            place = PlaceRef(row.platform, row.workspace_id, row.channel_id)
            for scope in (place.workspace_scope, place.channel_scope):
                for period in all_period_keys(row.answered_at, row.timezone, row.season):
                    expected_score[(scope, period, row.learner_id)] += int(row.correct)
                    expected_answered[(scope, period, row.learner_id)] += 1
        actual = {
            (r.scope, r.period, r.learner_id): (r.score, r.answered)
            for r in await conn.execute(select(standings))
        }
    expected = {k: (expected_score[k], expected_answered[k]) for k in expected_answered}
    return expected, actual


async def histogram_matches(database: Database) -> bool:
    async with database.read() as conn:
        from_standings: Counter[tuple[str, str, int]] = Counter(
            (r.scope, r.period, r.score) for r in await conn.execute(select(standings))
        )
        stored = {
            (r.scope, r.period, r.score): r.learners
            for r in await conn.execute(select(score_histogram))
            if r.learners
        }
    return dict(from_standings) == stored
