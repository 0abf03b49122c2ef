"""Mock exams in SQL: the exam row, its items, answers and the finish.

An answer and the finish lock the exam row (the single writer on SQLite, ``FOR UPDATE``
on PostgreSQL), so an answer racing the submit or the expiry is either counted in the
result or refused, never stored after the score was computed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Select, delete, select, update

from bot.engine.model import ExamItem, ExamRecord, LearnerRef, PlaceRef
from bot.store.reviews import review_all
from bot.store.tables import learners, mock_exam_items, mock_exams, places

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from bot.engine.ports import ExamReviews
    from bot.store.repository import SqlStore


def _exam_query() -> Select[Any]:
    return (
        select(
            mock_exams,
            learners.c.user_id,
            learners.c.locale,
            places.c.platform,
            places.c.workspace_id,
            places.c.channel_id,
        )
        .join(learners, learners.c.id == mock_exams.c.learner_id)
        .join(places, places.c.id == mock_exams.c.place_id)
    )


def _exam(row: Row[Any]) -> ExamRecord:
    return ExamRecord(
        id=row.id,
        learner_id=row.learner_id,
        user_id=row.user_id,
        learner_locale=row.locale,
        place=PlaceRef(row.platform, row.workspace_id, row.channel_id),
        size=row.size,
        started_at=row.started_at,
        deadline=row.deadline,
        finished_at=row.finished_at,
        correct=row.correct,
        scaled_score=row.scaled_score,
    )


def _item(row: Row[Any]) -> ExamItem:
    return ExamItem(
        position=row.position,
        question_id=row.question_id,
        option_order=tuple(row.option_order),
        chosen_keys=tuple(row.chosen_keys.split(",")) if row.chosen_keys is not None else None,
        correct=row.correct,
        answered_at=row.answered_at,
    )


async def create_exam(
    store: SqlStore,
    learner: LearnerRef,
    place: PlaceRef,
    items: Sequence[tuple[str, Sequence[str]]],
    started_at: datetime,
    deadline: datetime,
) -> ExamRecord:
    place_id = await store._channel_id(place)

    async def write(conn: AsyncConnection, learner_id: int) -> int:
        exam_id = (
            await conn.execute(
                mock_exams.insert()
                .values(
                    learner_id=learner_id,
                    place_id=place_id,
                    size=len(items),
                    started_at=started_at,
                    deadline=deadline,
                )
                .returning(mock_exams.c.id)
            )
        ).scalar_one()
        await conn.execute(
            mock_exam_items.insert(),
            [
                {
                    "exam_id": exam_id,
                    "position": position,
                    "question_id": question_id,
                    "option_order": "".join(order),
                }
                for position, (question_id, order) in enumerate(items, start=1)
            ],
        )
        return int(exam_id)

    exam_id = await store._write_for_learner(learner, started_at, write)
    exam = await get_exam(store, exam_id)
    assert exam is not None
    return exam


async def get_exam(store: SqlStore, exam_id: int) -> ExamRecord | None:
    async with store.db.read() as conn:
        row = (await conn.execute(_exam_query().where(mock_exams.c.id == exam_id))).first()
    return _exam(row) if row is not None else None


async def running_exam(store: SqlStore, learner_id: int, now: datetime) -> ExamRecord | None:
    query = (
        _exam_query()
        .where(
            mock_exams.c.learner_id == learner_id,
            mock_exams.c.finished_at.is_(None),
            mock_exams.c.deadline > now,
        )
        .order_by(mock_exams.c.id.desc())
        .limit(1)
    )
    async with store.db.read() as conn:
        row = (await conn.execute(query)).first()
    return _exam(row) if row is not None else None


async def exam_items(store: SqlStore, exam_id: int) -> list[ExamItem]:
    query = select(mock_exam_items).where(mock_exam_items.c.exam_id == exam_id).order_by("position")
    async with store.db.read() as conn:
        return [_item(row) for row in await conn.execute(query)]


async def answer_exam_item(
    store: SqlStore, exam_id: int, position: int, chosen_keys: Sequence[str], correct: bool, now: datetime
) -> bool:
    """Record (or change) one answer; False when the exam is finished or past its deadline."""
    async with store.db.write() as conn:
        running = (
            await conn.execute(
                select(mock_exams.c.id)
                .where(
                    mock_exams.c.id == exam_id,
                    mock_exams.c.finished_at.is_(None),
                    mock_exams.c.deadline > now,
                )
                .with_for_update()
            )
        ).first()
        if running is None:
            return False
        result = await conn.execute(
            update(mock_exam_items)
            .where(mock_exam_items.c.exam_id == exam_id, mock_exam_items.c.position == position)
            .values(chosen_keys=",".join(chosen_keys), correct=correct, answered_at=now)
        )
        return bool(result.rowcount)


async def finish_exam(
    store: SqlStore,
    exam_id: int,
    now: datetime,
    scaled: Callable[[int, int], int],
    reviews: ExamReviews | None = None,
) -> list[ExamItem] | None:
    """Finish the exam and store its score; the items as graded, None if already finished.

    ``reviews`` turns the graded items into the learner's card reviews, applied in this
    same transaction: a crash before the commit leaves the exam unfinished (the scheduler
    finishes it again, reviews included), never finished with its reviews lost. As on the
    answer path, a card that cannot be moved or saved is logged and the finish kept."""
    async with store.db.write() as conn:
        finished = (
            await conn.execute(
                update(mock_exams)
                .where(mock_exams.c.id == exam_id, mock_exams.c.finished_at.is_(None))
                .values(finished_at=now)
                .returning(mock_exams.c.size, mock_exams.c.learner_id)
            )
        ).first()
        if finished is None:
            return None
        size, learner_id = finished
        query = select(mock_exam_items).where(mock_exam_items.c.exam_id == exam_id).order_by("position")
        items = [_item(row) for row in await conn.execute(query)]
        correct = sum(item.correct is True for item in items)
        await conn.execute(
            update(mock_exams)
            .where(mock_exams.c.id == exam_id)
            .values(correct=correct, scaled_score=scaled(correct, size))
        )
        if reviews is not None:
            await conn.run_sync(
                review_all, store.bulk, [(learner_id, q, at, rule) for q, at, rule in reviews(items)]
            )
    return items


async def due_exams(
    store: SqlStore, now: datetime, platform: str | None, limit: int, learner_id: int | None = None
) -> list[int]:
    """Unfinished exams past their deadline (also those a restart left behind), of every
    learner or of one (the terminal, which has no scheduler, settles its own at start)."""
    query = (
        select(mock_exams.c.id)
        .join(places, places.c.id == mock_exams.c.place_id)
        .where(mock_exams.c.finished_at.is_(None), mock_exams.c.deadline <= now)
        .order_by(mock_exams.c.deadline)
        .limit(limit)
    )
    if platform is not None:
        query = query.where(places.c.platform == platform)
    if learner_id is not None:
        query = query.where(mock_exams.c.learner_id == learner_id)
    async with store.db.read() as conn:
        return [int(exam_id) for exam_id in (await conn.execute(query)).scalars()]


async def finished_exams(store: SqlStore, learner_id: int) -> list[ExamRecord]:
    query = (
        _exam_query()
        .where(mock_exams.c.learner_id == learner_id, mock_exams.c.finished_at.is_not(None))
        .order_by(mock_exams.c.finished_at, mock_exams.c.id)
    )
    async with store.db.read() as conn:
        return [_exam(row) for row in await conn.execute(query)]


async def unsent_exam_results(
    store: SqlStore, platform: str | None, finished_before: datetime, finished_after: datetime, limit: int
) -> list[int]:
    """Finished exams whose result never reached the learner (a crash, a platform error)."""
    query = (
        select(mock_exams.c.id)
        .join(places, places.c.id == mock_exams.c.place_id)
        .where(
            mock_exams.c.result_sent_at.is_(None),
            mock_exams.c.finished_at < finished_before,
            mock_exams.c.finished_at > finished_after,
        )
        .order_by(mock_exams.c.finished_at)
        .limit(limit)
    )
    if platform is not None:
        query = query.where(places.c.platform == platform)
    async with store.db.read() as conn:
        return [int(exam_id) for exam_id in (await conn.execute(query)).scalars()]


async def mark_exam_result_sent(store: SqlStore, exam_id: int, now: datetime) -> None:
    async with store.db.write() as conn:
        await conn.execute(
            update(mock_exams)
            .where(mock_exams.c.id == exam_id, mock_exams.c.result_sent_at.is_(None))
            .values(result_sent_at=now)
        )


async def discard_untouched_exam(store: SqlStore, exam_id: int) -> bool:
    """Delete an exam nobody has seen: unfinished, nothing answered. False otherwise."""
    answered = select(mock_exam_items.c.exam_id).where(
        mock_exam_items.c.exam_id == exam_id, mock_exam_items.c.answered_at.is_not(None)
    )
    async with store.db.write() as conn:
        locked = (
            select(mock_exams.c.id)
            .where(mock_exams.c.id == exam_id, mock_exams.c.finished_at.is_(None), ~answered.exists())
            .with_for_update()
        )
        if (await conn.execute(locked)).first() is None:
            return False
        await conn.execute(delete(mock_exam_items).where(mock_exam_items.c.exam_id == exam_id))
        await conn.execute(delete(mock_exams).where(mock_exams.c.id == exam_id))
    return True
