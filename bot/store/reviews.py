"""Review cards and learner profiles as rows: one card per learner and question.

The answer path moves cards inside the answer's own transaction (one read and one
upsert per batch), so a card never disagrees with the attempts it was computed from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.engine.spacing import CardState, Grade, ReviewCard
from bot.store.bulk import BulkWriter
from bot.store.tables import learner_profiles, review_cards

log = logging.getLogger(__name__)
Review = Callable[[ReviewCard | None, date | None], ReviewCard]


def _state(row: Any, prefix: str = "") -> CardState | None:
    due = getattr(row, f"{prefix}due")
    if due is None:
        return None
    return CardState(
        getattr(row, f"{prefix}state"),
        getattr(row, f"{prefix}step"),
        getattr(row, f"{prefix}stability"),
        getattr(row, f"{prefix}difficulty"),
        due,
        getattr(row, f"{prefix}last_review"),
    )


def card_of(row: Any) -> ReviewCard:
    current = _state(row)
    assert current is not None
    grade = Grade(row.last_grade) if row.last_grade is not None else None
    return ReviewCard(
        row.question_id, current, row.reviews, row.lapses, row.last_round_id, grade, _state(row, "prev_")
    )


def row_of(learner_id: int, card: ReviewCard) -> dict[str, Any]:
    now, before = card.current, card.previous
    return {
        "learner_id": learner_id,
        "question_id": card.question_id,
        "state": now.state,
        "step": now.step,
        "stability": now.stability,
        "difficulty": now.difficulty,
        "due": now.due,
        "last_review": now.last_review,
        "reviews": card.reviews,
        "lapses": card.lapses,
        "last_round_id": card.last_round_id,
        "last_grade": int(card.last_grade) if card.last_grade is not None else None,
        "prev_state": before.state if before else None,
        "prev_step": before.step if before else None,
        "prev_stability": before.stability if before else None,
        "prev_difficulty": before.difficulty if before else None,
        "prev_due": before.due if before else None,
        "prev_last_review": before.last_review if before else None,
    }


async def exam_dates(conn: AsyncConnection, learner_ids: Sequence[int]) -> dict[int, date]:
    query = select(learner_profiles.c.learner_id, learner_profiles.c.exam_date).where(
        learner_profiles.c.learner_id.in_(sorted(set(learner_ids))), learner_profiles.c.exam_date.is_not(None)
    )
    return {row.learner_id: row.exam_date for row in await conn.execute(query)}


COLUMNS = tuple(column.name for column in review_cards.c)
TIMES = {"due", "last_review", "prev_due", "prev_last_review"}


def _utc(value: Any) -> datetime | None:
    """A timestamp as the driver returns it: SQLite's naive UTC text, PostgreSQL's datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def cards_of(
    conn: AsyncConnection, keys: Sequence[tuple[int, str]]
) -> dict[tuple[int, str], ReviewCard]:
    """The cards of these (learner, question) pairs, read with the driver's own SQL: a join
    with the wanted pairs costs a fifth of a row-value IN built by SQLAlchemy, and the
    answer path reads hundreds of cards per batch."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    columns = ", ".join(f"review_cards.{name}" for name in COLUMNS)
    if conn.dialect.name == "sqlite":
        pairs = ", ".join(["(?, ?)"] * len(wanted))
        sql = (
            f"WITH wanted(learner, question) AS (VALUES {pairs}) SELECT {columns} FROM wanted "
            "JOIN review_cards ON review_cards.learner_id = wanted.learner "
            "AND review_cards.question_id = wanted.question"
        )
        params: tuple[Any, ...] = tuple(value for pair in wanted for value in pair)
    else:
        sql = (
            f"SELECT {columns} FROM unnest($1::int[], $2::text[]) AS wanted(learner, question) "
            "JOIN review_cards ON review_cards.learner_id = wanted.learner "
            "AND review_cards.question_id = wanted.question"
        )
        params = ([learner for learner, _ in wanted], [question for _, question in wanted])
    found: dict[tuple[int, str], ReviewCard] = {}
    for row in await conn.exec_driver_sql(sql, params):
        values = dict(zip(COLUMNS, row, strict=True))
        for name in TIMES:
            values[name] = _utc(values[name])
        try:
            found[(values["learner_id"], values["question_id"])] = card_of(SimpleNamespace(**values))
        except Exception:  # a damaged row is started afresh, not allowed to block the answer
            log.exception(
                "unreadable review card of %s for learner %s", values["question_id"], values["learner_id"]
            )
    return found


KEY = ("learner_id", "question_id")


async def save_cards(conn: AsyncConnection, bulk: BulkWriter, rows: Sequence[dict[str, Any]]) -> None:
    """Insert or replace cards in multi-row statements (the answer path writes hundreds)."""
    if not rows:
        return

    def value(row: dict[str, Any], name: str) -> Any:
        found = row[name]
        return bulk.timestamp(found) if name in TIMES and found is not None else found

    await bulk.upsert(
        conn,
        review_cards.name,
        COLUMNS,
        [tuple(value(row, name) for name in COLUMNS) for row in rows],
        conflict=KEY,
        update=", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name not in KEY),
    )


async def review_all(
    conn: AsyncConnection, bulk: BulkWriter, reviews: Sequence[tuple[int, str, datetime, Review]]
) -> None:
    """Apply (learner id, question id, answered at, review) in time order and save the cards.

    Runs inside the answer's transaction, but a card can never cost an answer: a card that
    cannot be read or moved is logged and left as it is, and the saving runs in a savepoint.
    A review older than the card's latest (a mock exam graded after a later channel round)
    is skipped: a card never moves back in time."""
    if not reviews:
        return
    keys = [(learner_id, question_id) for learner_id, question_id, _, _ in reviews]
    cards: dict[tuple[int, str], ReviewCard | None] = dict(await cards_of(conn, keys))
    dates = await exam_dates(conn, [learner_id for learner_id, _ in keys])
    changed: dict[tuple[int, str], ReviewCard] = {}
    for learner_id, question_id, at, apply in sorted(reviews, key=lambda r: r[2]):
        key = (learner_id, question_id)
        card = cards.get(key)
        if card is not None and card.current.last_review is not None and at < card.current.last_review:
            continue
        try:
            moved = apply(card, dates.get(learner_id))
        except Exception:
            log.exception("the review card of %s for learner %s could not be moved", question_id, learner_id)
            continue
        cards[key] = changed[key] = moved
    try:
        async with conn.begin_nested():
            await save_cards(conn, bulk, [row_of(key[0], card) for key, card in sorted(changed.items())])
    except Exception:
        log.exception("%d review card(s) could not be saved; the answers are kept", len(changed))


async def due_questions(conn: AsyncConnection, learner_id: int, before: datetime, limit: int) -> list[str]:
    c = review_cards.c
    query = (
        select(c.question_id)
        .where(c.learner_id == learner_id, c.due < before)
        .order_by(c.due, c.question_id)
        .limit(limit)
    )
    return list((await conn.execute(query)).scalars())
