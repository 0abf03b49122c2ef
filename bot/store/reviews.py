"""Review cards and learner profiles as rows: one card per learner and question.

The answer path moves cards inside the answer's own transaction (one read and one
upsert per batch), so a card never disagrees with the attempts it was computed from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.engine.spacing import CardState, Grade, ReviewCard
from bot.store.bulk import BulkWriter
from bot.store.tables import review_cards

log = logging.getLogger(__name__)
Review = Callable[[ReviewCard | None, date | None], ReviewCard]


COLUMNS = tuple(column.name for column in review_cards.c)
KEY = ("learner_id", "question_id")
_STATE = ("state", "step", "stability", "difficulty", "due", "last_review")
_AT = {name: COLUMNS.index(name) for name in COLUMNS}
_TIMES = frozenset(_AT[name] for name in ("due", "last_review", "prev_due", "prev_last_review"))


def _utc(value: Any) -> datetime | None:
    """A timestamp as the driver returns it: SQLite's naive UTC text, PostgreSQL's datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _day(value: Any) -> date | None:
    """A date as the driver returns it: SQLite's ISO text, PostgreSQL's date."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def _state(values: Sequence[Any], prefix: str = "") -> CardState | None:
    state, step, stability, difficulty, due, last_review = (values[_AT[prefix + name]] for name in _STATE)
    if due is None:
        return None
    return CardState(state, step, stability, difficulty, due, last_review)


def card_of(values: Sequence[Any]) -> ReviewCard:
    """A card from a row of ``COLUMNS`` (timestamps already in UTC)."""
    current = _state(values)
    assert current is not None
    grade = values[_AT["last_grade"]]
    return ReviewCard(
        values[_AT["question_id"]],
        current,
        values[_AT["reviews"]],
        values[_AT["lapses"]],
        values[_AT["last_round_id"]],
        Grade(grade) if grade is not None else None,
        _state(values, "prev_"),
    )


def row_of(learner_id: int, card: ReviewCard, timestamp: Callable[[datetime], Any]) -> tuple[Any, ...]:
    """The card as a row of ``COLUMNS``, timestamps as the driver takes them."""
    now, before = card.current, card.previous
    return (
        learner_id,
        card.question_id,
        now.state,
        now.step,
        now.stability,
        now.difficulty,
        timestamp(now.due),
        timestamp(now.last_review) if now.last_review is not None else None,
        card.reviews,
        card.lapses,
        card.last_round_id,
        int(card.last_grade) if card.last_grade is not None else None,
        *(
            (
                before.state,
                before.step,
                before.stability,
                before.difficulty,
                timestamp(before.due),
                timestamp(before.last_review) if before.last_review is not None else None,
            )
            if before is not None
            else (None,) * 6
        ),
    )


def read_cards(
    conn: Connection, keys: Sequence[tuple[int, str]]
) -> tuple[dict[tuple[int, str], ReviewCard], dict[int, date]]:
    """The cards of these (learner, question) pairs and the learners' exam dates, in one
    query with the driver's own SQL: a join with the wanted pairs costs a fifth of a
    row-value IN built by SQLAlchemy, and the answer path reads hundreds per batch."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}, {}
    columns = ", ".join(f"review_cards.{name}" for name in COLUMNS)
    joins = (
        "LEFT JOIN review_cards ON review_cards.learner_id = wanted.learner "
        "AND review_cards.question_id = wanted.question "
        "LEFT JOIN learner_profiles ON learner_profiles.learner_id = wanted.learner"
    )
    selected = f"wanted.learner, learner_profiles.exam_date, {columns}"
    if conn.dialect.name == "sqlite":
        pairs = ", ".join(["(?, ?)"] * len(wanted))
        sql = f"WITH wanted(learner, question) AS (VALUES {pairs}) SELECT {selected} FROM wanted {joins}"
        params: tuple[Any, ...] = tuple(value for pair in wanted for value in pair)
    else:
        sql = f"SELECT {selected} FROM unnest($1::int[], $2::text[]) AS wanted(learner, question) {joins}"
        params = ([learner for learner, _ in wanted], [question for _, question in wanted])
    cards: dict[tuple[int, str], ReviewCard] = {}
    dates: dict[int, date] = {}
    rows: Sequence[Any] = conn.exec_driver_sql(sql, params).fetchall()
    for row in rows:
        learner, exam_date, values = row[0], row[1], list(row[2:])
        day = _day(exam_date)
        if day is not None:
            dates[learner] = day
        if values[0] is None:  # no card yet
            continue
        for index in _TIMES:
            values[index] = _utc(values[index])
        try:
            cards[(values[0], values[1])] = card_of(values)
        except Exception:  # a damaged row is started afresh, not allowed to block the answer
            log.exception("unreadable review card of %s for learner %s", values[1], values[0])
    return cards, dates


def save_cards(conn: Connection, bulk: BulkWriter, rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert or replace cards (rows from ``row_of``) in multi-row statements."""
    if not rows:
        return
    bulk.upsert(
        conn,
        review_cards.name,
        COLUMNS,
        rows,
        conflict=KEY,
        update=", ".join(f"{name} = excluded.{name}" for name in COLUMNS if name not in KEY),
    )


def review_all(
    conn: Connection, bulk: BulkWriter, reviews: Sequence[tuple[int, str, datetime, Review]]
) -> None:
    """Apply (learner id, question id, answered at, review) in time order and save the cards.

    Plain synchronous code: it runs inside the answer's transaction (see
    ``Database.run_write``), but a card can never cost an answer: a card that
    cannot be read or moved is logged and left as it is, and the saving runs in a savepoint.
    A review older than the card's latest (a mock exam graded after a later channel round)
    is skipped: a card never moves back in time."""
    if not reviews:
        return
    keys = [(learner_id, question_id) for learner_id, question_id, _, _ in reviews]
    found, dates = read_cards(conn, keys)
    cards: dict[tuple[int, str], ReviewCard | None] = dict(found)
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
        with conn.begin_nested():
            stamp = bulk.timestamp
            save_cards(conn, bulk, [row_of(key[0], card, stamp) for key, card in sorted(changed.items())])
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
