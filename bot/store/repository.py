"""The async repository the engine talks to (``bot.engine.ports.QuizStore``).

Answers go through :class:`AnswerWriter` (group commit); everything else is a short
transaction of its own. Rows that never change once written (place ids, learner ids)
are cached so the click path does no lookups a cache can answer.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from time import monotonic
from typing import Any, TypeVar

from sqlalchemy import Row, and_, bindparam, case, delete, func, or_, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.engine.daily import DailyClaim, DailySchedule
from bot.engine.lru import LruCache
from bot.engine.model import (
    FORGOTTEN_PLATFORM,
    AnswerWrite,
    AttemptRecord,
    BoardSnapshot,
    ExamItem,
    ExamRecord,
    FeedbackMode,
    FlagReason,
    FlagSummary,
    ForgetReport,
    LearnerProfile,
    LearnerRef,
    PlaceRef,
    PlaceSettings,
    PurgeReport,
    RoundKind,
    RoundRecord,
    Scope,
    ScoredAttempt,
    SessionRecord,
    StandingRow,
)
from bot.engine.periods import boards_for
from bot.engine.ports import AnswerOutcome, ExamReviews, OpenOutcome
from bot.engine.reminders import ReminderProfile
from bot.engine.spacing import ReviewCard
from bot.store import exams, privacy, reminders
from bot.store.answer_writer import AnswerWriter
from bot.store.bulk import BulkWriter
from bot.store.database import Database
from bot.store.reviews import due_questions, read_cards, review_all, row_of, save_cards
from bot.store.tables import (
    attempts,
    daily_posts,
    daily_schedules,
    departures,
    installations,
    learner_profiles,
    learners,
    oauth_states,
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

log = logging.getLogger(__name__)
T = TypeVar("T")

SETTING_COLUMNS = {
    "locale": "locale",
    "timezone": "timezone",
    "feedback": "feedback_mode",
    "round_minutes": "round_minutes",
    "organiser_role": "organiser_role",
}


LearnerCache = dict[tuple[str, str], tuple[int, str, str | None]]


def case_correct() -> Any:
    return case((attempts.c.correct.is_(True), 1), else_=0)


PLACE_ID_TRUST_SECONDS = 60.0
RETRYABLE = ("deadlock detected", "database is locked", "could not serialize")


def _is_retryable(error: DBAPIError) -> bool:
    return any(marker in str(error.orig).lower() for marker in RETRYABLE)


MAX_ID = 2**31 - 1  # integer ids (PostgreSQL's int4)


def _storable(row_id: int) -> bool:
    return 0 < row_id <= MAX_ID


def _profile(row: Any) -> LearnerProfile:
    return LearnerProfile(row.exam_date, row.remind_at, row.timezone, row.remind_workspace, row.reminded_on)


class SqlStore:
    def __init__(self, database: Database, max_batch: int = 500) -> None:
        self.db = database
        self._insert = sqlite.insert if database.is_sqlite else postgresql.insert
        # rows that never change once committed: learner and place ids
        # place ids with when they were read: another process may purge a workspace, and on
        # SQLite a purged id can be handed to a new place, so an id is trusted for a minute
        self._place_ids: LruCache[tuple[str, str, str], tuple[int, float]] = LruCache(50_000)
        self._learner_ids: LruCache[tuple[str, str], tuple[int, str, str | None]] = LruCache(200_000)
        self.bulk = BulkWriter(sqlite=database.is_sqlite)
        self.writer = AnswerWriter(self._write_answers, max_batch=max_batch)

    async def close(self) -> None:
        await self.writer.drain()
        await self.db.dispose()

    # -- places and settings ----------------------------------------------------------

    async def _place_id(self, platform: str, workspace: str, channel: str) -> int:
        key = (platform, workspace, channel)
        cached = self._place_ids.get(key)
        if cached is not None and monotonic() - cached[1] < PLACE_ID_TRUST_SECONDS:
            return cached[0]
        where = and_(
            places.c.platform == platform,
            places.c.workspace_id == workspace,
            places.c.channel_id == channel,
        )
        async with self.db.read() as conn:
            place_id = (await conn.execute(select(places.c.id).where(where))).scalar()
        if place_id is None:
            async with self.db.write() as conn:
                await conn.execute(
                    self._insert(places)
                    .values(
                        platform=platform,
                        workspace_id=workspace,
                        channel_id=channel,
                        created_at=datetime.now(UTC),
                    )
                    .on_conflict_do_nothing(index_elements=["platform", "workspace_id", "channel_id"])
                )
                place_id = (await conn.execute(select(places.c.id).where(where))).scalar_one()
        self._place_ids.put(key, (int(place_id), monotonic()))
        return int(place_id)

    async def _workspace_id(self, place: PlaceRef) -> int:
        return await self._place_id(place.platform, place.workspace, "")

    async def _channel_id(self, place: PlaceRef) -> int:
        await self._workspace_id(place)  # a channel's settings live on its workspace row
        return await self._place_id(place.platform, place.workspace, place.channel)

    @staticmethod
    def _settings(row: Row[Any]) -> PlaceSettings:
        return PlaceSettings(
            locale=row.locale,
            timezone=row.timezone,
            feedback=FeedbackMode(row.feedback_mode),
            round_minutes=row.round_minutes,
            season=row.season,
            season_started_at=row.season_started_at,
            organiser_role=row.organiser_role,
        )

    async def place_settings(self, place: PlaceRef) -> PlaceSettings:
        place_id = await self._workspace_id(place)
        async with self.db.read() as conn:
            row = (await conn.execute(select(places).where(places.c.id == place_id))).one()
        return self._settings(row)

    async def update_settings(self, place: PlaceRef, **changes: object) -> PlaceSettings:
        unknown = set(changes) - set(SETTING_COLUMNS)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        values = {
            SETTING_COLUMNS[k]: (str(v) if isinstance(v, FeedbackMode) else v) for k, v in changes.items()
        }
        if not values:
            return await self.place_settings(place)
        place_id = await self._workspace_id(place)
        async with self.db.write() as conn:
            await conn.execute(update(places).where(places.c.id == place_id).values(**values))
            row = (await conn.execute(select(places).where(places.c.id == place_id))).one()
        return self._settings(row)

    async def start_new_season(self, place: PlaceRef, now: datetime, from_season: int) -> PlaceSettings:
        """Move from ``from_season`` to the next; a repeated request (double click) is a no-op."""
        place_id = await self._workspace_id(place)
        async with self.db.write() as conn:
            await conn.execute(
                update(places)
                .where(places.c.id == place_id, places.c.season == from_season)
                .values(season=from_season + 1, season_started_at=now)
            )
            row = (await conn.execute(select(places).where(places.c.id == place_id))).one()
        return self._settings(row)

    # -- rounds -----------------------------------------------------------------------

    def _round_query(self) -> Any:
        return select(
            rounds,
            places.c.platform,
            places.c.workspace_id,
            places.c.channel_id,
        ).join(places, places.c.id == rounds.c.place_id)

    @staticmethod
    def _round(row: Row[Any]) -> RoundRecord:
        return RoundRecord(
            id=row.id,
            place=PlaceRef(row.platform, row.workspace_id, row.channel_id),
            question_id=row.question_id,
            kind=RoundKind(row.kind),
            scored=row.scored,
            option_order=tuple(row.option_order),
            opened_at=row.opened_at,
            deadline=row.deadline,
            closed_at=row.closed_at,
            message_ref=row.message_ref,
            session_id=row.session_id,
        )

    async def open_round(
        self,
        place: PlaceRef,
        question_id: str,
        kind: RoundKind,
        scored: bool,
        option_order: Sequence[str],
        opened_at: datetime,
        deadline: datetime | None,
        session_id: int | None = None,
        position: int | None = None,
    ) -> tuple[OpenOutcome, RoundRecord]:
        """Open a round. A second open channel round, or a second round at the same
        session position (a double click on Next), returns the existing one as BUSY."""
        place_id = await self._channel_id(place)
        try:
            async with self.db.write() as conn:
                round_id = (
                    await conn.execute(
                        rounds.insert()
                        .values(
                            place_id=place_id,
                            question_id=question_id,
                            kind=str(kind),
                            scored=scored,
                            option_order="".join(option_order),
                            opened_at=opened_at,
                            deadline=deadline,
                            session_id=session_id,
                            position=position,
                        )
                        .returning(rounds.c.id)
                    )
                ).scalar_one()
        except IntegrityError:
            if session_id is not None:
                existing = await self._session_round_at(session_id, position)
            else:
                existing = await self.open_channel_round(place)
            if existing is None:  # closed in between: the caller may simply ask again
                raise
            return OpenOutcome.BUSY, existing
        created = await self.get_round(round_id)
        assert created is not None
        return OpenOutcome.OPENED, created

    async def get_round(self, round_id: int) -> RoundRecord | None:
        if not _storable(round_id):  # a forged id no column could hold: unknown, not an error
            return None
        async with self.db.read() as conn:
            row = (await conn.execute(self._round_query().where(rounds.c.id == round_id))).first()
        return self._round(row) if row else None

    async def _session_round_at(self, session_id: int, position: int | None) -> RoundRecord | None:
        query = self._round_query().where(rounds.c.session_id == session_id, rounds.c.position == position)
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return self._round(row) if row else None

    async def open_channel_round(self, place: PlaceRef) -> RoundRecord | None:
        place_id = await self._channel_id(place)
        query = self._round_query().where(
            rounds.c.place_id == place_id,
            rounds.c.kind == str(RoundKind.CHANNEL),
            rounds.c.closed_at.is_(None),
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return self._round(row) if row else None

    async def set_message_ref(self, round_id: int, message_ref: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(rounds).where(rounds.c.id == round_id).values(message_ref=message_ref))

    async def mark_revealed(self, round_id: int, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(rounds)
                .where(rounds.c.id == round_id, rounds.c.revealed_at.is_(None))
                .values(revealed_at=now)
            )

    async def unrevealed_rounds(
        self, platform: str, closed_before: datetime, closed_after: datetime, limit: int = 100
    ) -> list[tuple[RoundRecord, list[AttemptRecord]]]:
        """Posted channel rounds closed in this window whose reveal never reached the platform.

        Read every few seconds by each closing loop, so it starts from the partial index
        ``ix_rounds_awaiting_reveal`` alone (almost always empty) and joins nothing unless
        it found something; with the join up front, SQLite without statistics walks every
        round of the platform instead."""
        awaiting = (
            select(rounds.c.id)
            .where(
                rounds.c.message_ref.is_not(None),
                rounds.c.revealed_at.is_(None),
                rounds.c.closed_at < closed_before,
                rounds.c.closed_at > closed_after,
            )
            .order_by(rounds.c.closed_at)
        )
        async with self.db.read() as conn:
            candidates = list((await conn.execute(awaiting)).scalars())
            if not candidates:
                return []
            query = (
                self._round_query()
                .where(
                    rounds.c.id.in_(candidates),
                    places.c.platform == platform,
                    rounds.c.kind == str(RoundKind.CHANNEL),
                )
                .order_by(rounds.c.closed_at)
                .limit(limit)
            )
            found = [self._round(row) for row in await conn.execute(query)]
            if not found:
                return []
            every = await self._attempts(conn, attempts.c.round_id.in_([r.id for r in found]))
        return [(r, [a for a in every if a.round_id == r.id]) for r in found]

    async def place_question_counts(self, place: PlaceRef) -> dict[str, int]:
        place_id = await self._channel_id(place)
        query = (
            select(rounds.c.question_id, func.count())
            .where(rounds.c.place_id == place_id, rounds.c.kind == str(RoundKind.CHANNEL))
            .group_by(rounds.c.question_id)
        )
        async with self.db.read() as conn:
            return {qid: n for qid, n in (await conn.execute(query)).all()}

    async def due_rounds(self, now: datetime, limit: int = 100, platform: str | None = None) -> list[int]:
        query = (
            select(rounds.c.id)
            .join(places, places.c.id == rounds.c.place_id)
            .where(rounds.c.closed_at.is_(None), rounds.c.deadline <= now)
            .where(places.c.platform == platform if platform is not None else true())
            .order_by(rounds.c.deadline)
            .limit(limit)
        )
        async with self.db.read() as conn:
            return list((await conn.execute(query)).scalars())

    async def close_round(
        self, round_id: int, now: datetime
    ) -> tuple[RoundRecord, list[AttemptRecord]] | None:
        """Close and read the round's attempts in one write transaction.

        The answer path locks the round row (FOR SHARE on PostgreSQL; the single writer
        on SQLite) while it checks the round is open and inserts, so an answer racing
        the close is either committed before this UPDATE and read below, or refused.
        """
        async with self.db.write() as conn:
            closed = (
                await conn.execute(
                    update(rounds)
                    .where(rounds.c.id == round_id, rounds.c.closed_at.is_(None))
                    .values(closed_at=now)
                    .returning(rounds.c.id)
                )
            ).first()
            if closed is None:
                return None
            row = (await conn.execute(self._round_query().where(rounds.c.id == round_id))).one()
            found = await self._attempts(conn, attempts.c.round_id == round_id)
        return self._round(row), found

    # -- answers (group commit) -------------------------------------------------------

    async def record_answer(self, answer: AnswerWrite) -> AnswerOutcome:
        return await self.writer.submit(answer)

    async def _write_answers(self, batch: Sequence[AnswerWrite]) -> list[AnswerOutcome | Exception]:
        """Write a batch; if it fails for good, write its answers one by one so that one
        bad answer fails alone instead of taking its whole batch with it."""
        try:
            return list(await self._write_with_retry(batch))
        except Exception:
            # a cached learner id may name a row another process deleted (a person forgotten,
            # a workspace purged): the one-by-one writes below ask the database again
            cached = [self._learner_ids.pop((a.learner.platform, a.learner.user_id)) for a in batch]
            if len(batch) == 1 and cached[0] is None:
                raise
            if len(batch) > 1:
                log.exception("a batch of %d answers failed; writing them one by one", len(batch))
        results: list[AnswerOutcome | Exception] = []
        for answer in batch:
            try:
                results.extend(await self._write_with_retry([answer]))
            except Exception as error:
                results.append(error)
        return results

    async def _write_with_retry(self, batch: Sequence[AnswerWrite]) -> list[AnswerOutcome]:
        for attempt_number in range(5):
            known = self._known_learners([a.learner for a in batch])
            try:
                outcomes, fresh, gone = await self.db.run_write(self._write_answers_in, batch, known)
                self._forget_learners(gone)
                self._publish_learners(fresh)  # only ids that were committed reach the cache
                return outcomes
            except DBAPIError as error:
                if not (_is_retryable(error) or error.connection_invalidated) or attempt_number == 4:
                    raise
                log.warning("answer batch retried after: %s", type(error.orig).__name__)
                await asyncio.sleep(0.05 * (attempt_number + 1))
        raise AssertionError("unreachable")

    async def _ensure_learners(
        self, conn: AsyncConnection, refs: Sequence[LearnerRef], now: datetime
    ) -> tuple[dict[tuple[str, str], int], LearnerCache]:
        """Learner ids for these refs, inserting or renaming as needed.

        Returns the ids and the cache entries to publish once the transaction commits: a
        rolled-back insert must never leave an id in the cache (it would be reused).
        """
        ids, fresh, gone = await conn.run_sync(
            self._ensure_learners_in, refs, now, self._known_learners(refs)
        )
        self._forget_learners(gone)
        return ids, fresh

    def _known_learners(self, refs: Sequence[LearnerRef]) -> LearnerCache:
        """The cached ids of these learners whose name and language are still the same,
        read on the event loop's thread (the cache is not shared with the writer thread)."""
        known: LearnerCache = {}
        for ref in refs:
            key = (ref.platform, ref.user_id)
            cached = self._learner_ids.get(key)
            if cached and cached[1] == ref.display_name and (ref.locale is None or cached[2] == ref.locale):
                known[key] = cached
        return known

    def _forget_learners(self, keys: Iterable[tuple[str, str]]) -> None:
        for key in keys:
            self._learner_ids.pop(key)

    def _ensure_learners_in(
        self, conn: Connection, refs: Sequence[LearnerRef], now: datetime, known: LearnerCache
    ) -> tuple[dict[tuple[str, str], int], LearnerCache, list[tuple[str, str]]]:
        """``_ensure_learners`` inside a transaction, as synchronous code; also returns the
        cached keys found stale, for the caller to drop from the cache."""
        ids: dict[tuple[str, str], int] = {}
        stale: dict[tuple[str, str], LearnerRef] = {}
        for ref in refs:
            key = (ref.platform, ref.user_id)
            if key in known:
                ids[key] = known[key][0]
            else:
                stale[key] = ref
        gone: list[tuple[str, str]] = []
        if ids:  # another process may have deleted a cached id, and SQLite may have reused it
            owners = self.bulk.select_in(
                conn, "SELECT id, platform, user_id FROM learners", "id", sorted(set(ids.values()))
            )
            owned = {learner_id: (platform, user_id) for learner_id, platform, user_id in owners}
            for key in [k for k, learner_id in ids.items() if owned.get(learner_id) != k]:
                gone.append(key)
                stale[key] = next(r for r in refs if (r.platform, r.user_id) == key)
                del ids[key]
        fresh: LearnerCache = {}
        if stale:
            insert = self._insert(learners)
            statement = insert.on_conflict_do_update(
                index_elements=["platform", "user_id"],
                set_={
                    "display_name": insert.excluded.display_name,
                    "locale": func.coalesce(insert.excluded.locale, learners.c.locale),
                },
            ).returning(learners.c.id, learners.c.platform, learners.c.user_id, learners.c.locale)
            rows = conn.execute(
                statement,
                [
                    {
                        "platform": r.platform,
                        "user_id": r.user_id,
                        "display_name": r.display_name[:100],
                        "locale": r.locale,
                        "created_at": now,
                    }
                    for _, r in sorted(stale.items())
                ],
            )
            for row in rows:
                key = (row.platform, row.user_id)
                ids[key] = row.id
                fresh[key] = (row.id, stale[key].display_name, row.locale)
        return ids, fresh, gone

    async def _write_for_learner(
        self, learner: LearnerRef, now: datetime, work: Callable[[AsyncConnection, int], Awaitable[T]]
    ) -> T:
        """One write transaction about one learner: their row is ensured (inserted or
        renamed), ``work`` runs with their id, and the id is cached once committed. If it
        failed with an id taken from the cache, that row may have been deleted by another
        process (the person forgotten, their workspace purged): try once more, asking the
        database."""

        async def write() -> tuple[T, LearnerCache]:
            async with self.db.write() as conn:
                ids, fresh = await self._ensure_learners(conn, [learner], now)
                result = await work(conn, ids[(learner.platform, learner.user_id)])
            return result, fresh

        try:
            result, fresh = await write()
        except IntegrityError:
            if self._learner_ids.pop((learner.platform, learner.user_id)) is None:
                raise
            result, fresh = await write()
        self._publish_learners(fresh)
        return result

    def _publish_learners(self, fresh: LearnerCache) -> None:
        for key, value in fresh.items():
            self._learner_ids.put(key, value)

    def _write_answers_in(
        self, conn: Connection, batch: Sequence[AnswerWrite], known: LearnerCache
    ) -> tuple[list[AnswerOutcome], LearnerCache, list[tuple[str, str]]]:
        """One group-commit batch, as synchronous code inside its transaction (see
        ``Database.run_write``): nothing here may touch the event loop's state."""
        outcomes: list[AnswerOutcome | None] = [None] * len(batch)
        round_ids = sorted({a.round_id for a in batch})
        workspace = places.alias("workspace")
        open_query = (
            select(
                rounds.c.id,
                places.c.platform,
                places.c.workspace_id,
                places.c.channel_id,
                workspace.c.season,
                workspace.c.timezone,
            )
            .join(places, places.c.id == rounds.c.place_id)
            .join(
                workspace,
                and_(
                    workspace.c.platform == places.c.platform,
                    workspace.c.workspace_id == places.c.workspace_id,
                    workspace.c.channel_id == "",
                ),
            )
            .where(rounds.c.id.in_(round_ids), rounds.c.closed_at.is_(None))
            .order_by(rounds.c.id)
            .with_for_update(read=True, of=rounds)
        )
        # the round row lock (FOR SHARE on PostgreSQL) orders this batch against a close;
        # season and time zone are read here, under the lock, so a reset or a time-zone
        # change made by another process applies to the very next answer
        open_rounds = {
            row.id: (PlaceRef(row.platform, row.workspace_id, row.channel_id), row.season, row.timezone)
            for row in conn.execute(open_query)
        }
        learner_ids, fresh, gone = self._ensure_learners_in(
            conn, [a.learner for a in batch], batch[0].answered_at, known
        )
        pending: dict[tuple[int, int], int] = {}  # (round, learner) -> index in batch
        for index, answer in enumerate(batch):
            key = (answer.round_id, learner_ids[(answer.learner.platform, answer.learner.user_id)])
            if answer.round_id not in open_rounds:
                outcomes[index] = AnswerOutcome.CLOSED
            elif key in pending:
                outcomes[index] = AnswerOutcome.DUPLICATE  # a double click inside one batch
            else:
                pending[key] = index
        inserted: set[tuple[int, int]] = set()
        if pending:
            stamp = self.bulk.timestamp
            rows = []
            for (round_id, learner_id), i in sorted(pending.items()):
                answer = batch[i]
                _, season, timezone = open_rounds[round_id]
                rows.append(
                    (
                        round_id,
                        learner_id,
                        answer.question_id,
                        ",".join(answer.chosen_keys),
                        answer.chosen_letters,
                        answer.correct,
                        stamp(answer.answered_at),
                        season if answer.scored else None,
                        timezone if answer.scored else None,
                    )
                )
            returned = self.bulk.upsert(
                conn,
                "attempts",
                (
                    "round_id",
                    "learner_id",
                    "question_id",
                    "chosen_keys",
                    "chosen_letters",
                    "correct",
                    "answered_at",
                    "season",
                    "timezone",
                ),
                rows,
                conflict=("round_id", "learner_id"),
                returning=("round_id", "learner_id"),
            )
            inserted = {(round_id, learner_id) for round_id, learner_id in returned}
        for key, index in pending.items():
            outcomes[index] = AnswerOutcome.RECORDED if key in inserted else AnswerOutcome.DUPLICATE
        counted = []
        for key, i in pending.items():
            if key in inserted:
                place, season, timezone = open_rounds[key[0]]
                boards = boards_for(place, batch[i].answered_at, timezone, season) if batch[i].scored else ()
                counted.append((batch[i], key[1], boards))
        if counted:
            self._credit(conn, counted)
        return [o for o in outcomes if o is not None], fresh, gone

    def _credit(
        self, conn: Connection, counted: Sequence[tuple[AnswerWrite, int, Sequence[tuple[str, str]]]]
    ) -> None:
        """Move standings, score histograms and question statistics for new attempts."""
        board_deltas: dict[tuple[str, str, int], list[Any]] = {}
        stats: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for answer, learner_id, boards in counted:
            stats[answer.question_id][0] += 1
            stats[answer.question_id][1] += int(answer.correct)
            for scope, period in boards:
                delta = board_deltas.setdefault((scope, period, learner_id), [0, 0, answer.answered_at])
                delta[0] += int(answer.correct)
                delta[1] += 1
                delta[2] = max(delta[2], answer.answered_at)
        if board_deltas:
            self._apply_board_deltas(conn, board_deltas)
        reviews = [
            (lid, a.question_id, a.answered_at, a.review) for a, lid, _ in counted if a.review is not None
        ]
        review_all(conn, self.bulk, reviews)
        self.bulk.upsert(
            conn,
            "question_stats",
            ("question_id", "answered", "correct"),
            [(q, v[0], v[1]) for q, v in sorted(stats.items())],
            conflict=("question_id",),
            update="answered = question_stats.answered + excluded.answered, "
            "correct = question_stats.correct + excluded.correct",
        )

    def _apply_board_deltas(self, conn: Connection, deltas: dict[tuple[str, str, int], list[Any]]) -> None:
        stamp = self.bulk.timestamp
        returned = self.bulk.upsert(
            conn,
            "standings",
            ("scope", "period", "learner_id", "score", "answered", "updated_at"),
            [(s, p, lid, d[0], d[1], stamp(d[2])) for (s, p, lid), d in sorted(deltas.items())],
            conflict=("scope", "period", "learner_id"),
            update="score = standings.score + excluded.score, "
            "answered = standings.answered + excluded.answered, updated_at = excluded.updated_at",
            returning=("scope", "period", "learner_id", "score", "answered"),
        )
        histogram: Counter[tuple[str, str, int]] = Counter()
        for scope, period, learner_id, score, answered in returned:
            score_delta, answered_delta, _ = deltas[(scope, period, learner_id)]
            if answered == answered_delta:  # a new row: the learner joins the board
                histogram[(scope, period, score)] += 1
            elif score_delta:
                histogram[(scope, period, score - score_delta)] -= 1
                histogram[(scope, period, score)] += 1
        changes = [(s, p, score, n) for (s, p, score), n in sorted(histogram.items()) if n]
        if changes:
            self.bulk.upsert(
                conn,
                "score_histogram",
                ("scope", "period", "score", "learners"),
                changes,
                conflict=("scope", "period", "score"),
                update="learners = score_histogram.learners + excluded.learners",
            )

    # -- reading attempts -------------------------------------------------------------

    async def _attempts(self, conn: AsyncConnection, *where: Any) -> list[AttemptRecord]:
        query = (
            select(attempts, learners.c.display_name, learners.c.platform)
            .join(learners, learners.c.id == attempts.c.learner_id)
            .where(*where)
            .order_by(attempts.c.answered_at, attempts.c.id)
        )
        return [
            AttemptRecord(
                round_id=row.round_id,
                question_id=row.question_id,
                learner_id=row.learner_id,
                display_name=row.display_name,
                chosen_keys=tuple(row.chosen_keys.split(",")),
                correct=row.correct,
                answered_at=row.answered_at,
                anonymous=row.platform == FORGOTTEN_PLATFORM,
            )
            for row in await conn.execute(query)
        ]

    async def learner_id(self, learner: LearnerRef) -> int | None:
        """Read from the database, never the cache: another process may have forgotten or
        purged the person, and a reused id would show someone else's history."""
        query = select(learners.c.id).where(
            learners.c.platform == learner.platform, learners.c.user_id == learner.user_id
        )
        async with self.db.read() as conn:
            found: int | None = (await conn.execute(query)).scalar()
        return found

    async def learner_history(self, learner: LearnerRef) -> list[AttemptRecord]:
        learner_id = await self.learner_id(learner)
        if learner_id is None:
            return []
        async with self.db.read() as conn:
            return await self._attempts(conn, attempts.c.learner_id == learner_id)

    # -- spaced repetition and learner profiles --------------------------------------

    async def due_reviews(self, learner: LearnerRef, before: datetime, limit: int = 50) -> list[str]:
        learner_id = await self.learner_id(learner)
        if learner_id is None:
            return []
        async with self.db.read() as conn:
            return await due_questions(conn, learner_id, before, limit)

    async def review_card(self, learner: LearnerRef, question_id: str) -> ReviewCard | None:
        learner_id = await self.learner_id(learner)
        if learner_id is None:
            return None
        async with self.db.read() as conn:
            cards, _ = await conn.run_sync(read_cards, [(learner_id, question_id)])
            return cards.get((learner_id, question_id))

    async def change_review(
        self,
        learner: LearnerRef,
        question_id: str,
        change: Callable[[ReviewCard, date | None], ReviewCard | None],
    ) -> bool:
        learner_id = await self.learner_id(learner)
        if learner_id is None:
            return False
        key = (learner_id, question_id)
        async with self.db.write() as conn:
            locked = (
                select(review_cards.c.learner_id)
                .where(review_cards.c.learner_id == learner_id, review_cards.c.question_id == question_id)
                .with_for_update()
            )
            if (await conn.execute(locked)).first() is None:
                return False
            cards, dates = await conn.run_sync(read_cards, [key])
            card = cards[key]
            changed = change(card, dates.get(learner_id))
            if changed is None or changed == card:
                return False
            await conn.run_sync(save_cards, self.bulk, [row_of(learner_id, changed, self.bulk.timestamp)])
            return True

    async def learner_profile(self, learner: LearnerRef) -> LearnerProfile | None:
        learner_id = await self.learner_id(learner)
        if learner_id is None:
            return None
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(learner_profiles).where(learner_profiles.c.learner_id == learner_id)
                )
            ).first()
        return _profile(row) if row is not None else None

    async def save_learner_profile(
        self, learner: LearnerRef, now: datetime, **changes: object
    ) -> LearnerProfile:
        allowed = {"exam_date", "remind_at", "timezone", "remind_workspace", "reminded_on"}
        unknown = set(changes) - allowed
        if unknown:
            raise ValueError(f"not a profile field: {sorted(unknown)}")

        async def write(conn: AsyncConnection, learner_id: int) -> LearnerProfile:
            values = {"learner_id": learner_id, "updated_at": now, **changes}
            insert = self._insert(learner_profiles).values(**values)
            upsert = insert.on_conflict_do_update(
                index_elements=["learner_id"],
                set_={name: insert.excluded[name] for name in values if name != "learner_id"},
            ).returning(*learner_profiles.c)
            return _profile((await conn.execute(upsert)).one())

        return await self._write_for_learner(learner, now, write)

    # -- standings --------------------------------------------------------------------

    async def board_snapshot(
        self,
        place: PlaceRef,
        scope: Scope,
        period_of: Callable[[PlaceSettings], str],
        viewer: LearnerRef | None,
        limit: int,
    ) -> BoardSnapshot:
        """A leaderboard in one read transaction: settings, top N, the viewer, the sums."""
        return await self.db.run_read(self._board_snapshot_in, place, scope, period_of, viewer, limit)

    def _board_snapshot_in(
        self,
        conn: Connection,
        place: PlaceRef,
        scope: Scope,
        period_of: Callable[[PlaceSettings], str],
        viewer: LearnerRef | None,
        limit: int,
    ) -> BoardSnapshot:
        """``board_snapshot`` as synchronous code: one hand-off to the database's thread
        instead of one per statement (``Database.run_read``)."""
        scope_key = place.workspace_scope if scope is Scope.WORKSPACE else place.channel_scope
        settings_query = select(places).where(
            places.c.platform == place.platform,
            places.c.workspace_id == place.workspace,
            places.c.channel_id == "",
        )
        board_columns = (
            standings.c.learner_id,
            learners.c.display_name,
            standings.c.score,
            standings.c.answered,
        )
        row = conn.execute(settings_query).first()
        settings = self._settings(row) if row is not None else PlaceSettings()
        period = period_of(settings)
        on_board = and_(standings.c.scope == scope_key, standings.c.period == period)
        top_query = (
            select(*board_columns)
            .join(learners, learners.c.id == standings.c.learner_id)
            .where(on_board)
            # the index (scope, period, score, answered, learner_id) read backwards
            .order_by(standings.c.score.desc(), standings.c.answered.desc(), standings.c.learner_id.desc())
            .limit(limit)
        )
        top = tuple(StandingRow(*r) for r in conn.execute(top_query))
        mine = None
        if viewer is not None:
            viewer_query = (
                select(*board_columns)
                .join(learners, learners.c.id == standings.c.learner_id)
                .where(on_board, learners.c.platform == viewer.platform, learners.c.user_id == viewer.user_id)
            )
            found = conn.execute(viewer_query).first()
            mine = StandingRow(*found) if found is not None else None
        above = mine.score if mine is not None else 2**31 - 1  # "nobody": the largest int4
        last = top[-1].score if top else 2**31 - 1
        hist = score_histogram.c
        sums = (
            conn.execute(
                select(
                    func.coalesce(func.sum(case((hist.score > above, hist.learners), else_=0)), 0),
                    func.coalesce(func.sum(case((hist.score >= last, hist.learners), else_=0)), 0),
                    func.coalesce(func.sum(hist.learners), 0),
                ).where(hist.scope == scope_key, hist.period == period)
            )
        ).one()
        return BoardSnapshot(settings, scope_key, period, top, mine, int(sums[0]), int(sums[1]), int(sums[2]))

    # -- sessions ---------------------------------------------------------------------

    async def start_session(
        self, learner: LearnerRef, place: PlaceRef, task: str | None, size: int, scored: bool, now: datetime
    ) -> SessionRecord:
        place_id = await self._channel_id(place)

        async def write(conn: AsyncConnection, learner_id: int) -> tuple[int, int]:
            session_id = (
                await conn.execute(
                    sessions.insert()
                    .values(
                        learner_id=learner_id,
                        place_id=place_id,
                        task=task,
                        size=size,
                        scored=scored,
                        started_at=now,
                    )
                    .returning(sessions.c.id)
                )
            ).scalar_one()
            return learner_id, session_id

        learner_id, session_id = await self._write_for_learner(learner, now, write)
        return SessionRecord(session_id, learner_id, place, task, size, scored, now, None)

    async def get_session(self, session_id: int) -> SessionRecord | None:
        if not _storable(session_id):  # a forged id no column could hold: unknown, not an error
            return None
        query = (
            select(sessions, places.c.platform, places.c.workspace_id, places.c.channel_id)
            .join(places, places.c.id == sessions.c.place_id)
            .where(sessions.c.id == session_id)
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return SessionRecord(
            row.id,
            row.learner_id,
            PlaceRef(row.platform, row.workspace_id, row.channel_id),
            row.task,
            row.size,
            row.scored,
            row.started_at,
            row.finished_at,
        )

    async def session_rounds(self, session_id: int) -> list[RoundRecord]:
        query = self._round_query().where(rounds.c.session_id == session_id).order_by(rounds.c.id)
        async with self.db.read() as conn:
            return [self._round(row) for row in await conn.execute(query)]

    async def session_attempts(self, session_id: int) -> list[AttemptRecord]:
        in_session = attempts.c.round_id.in_(select(rounds.c.id).where(rounds.c.session_id == session_id))
        async with self.db.read() as conn:
            return await self._attempts(conn, in_session)

    async def finish_session(self, session_id: int, now: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id, sessions.c.finished_at.is_(None))
                .values(finished_at=now)
            )

    # -- flags ------------------------------------------------------------------------

    async def add_flag(
        self,
        learner: LearnerRef,
        question_id: str,
        reason: FlagReason,
        comment: str | None,
        round_id: int | None,
        now: datetime,
    ) -> None:
        """One open flag per learner and question: flagging again updates it. A round id
        that does not exist (a stale or forged button) is dropped, not an error."""

        async def write(conn: AsyncConnection, learner_id: int) -> None:
            known_round = None
            if round_id is not None:
                found = await conn.execute(select(rounds.c.id).where(rounds.c.id == round_id))
                known_round = found.scalar()
            insert = self._insert(question_flags).values(
                question_id=question_id,
                learner_id=learner_id,
                round_id=known_round,
                reason=str(reason),
                comment=comment,
                created_at=now,
            )
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["question_id", "learner_id"],
                    index_where=question_flags.c.resolved_at.is_(None),
                    set_={
                        "reason": insert.excluded.reason,
                        "comment": insert.excluded.comment,
                        "created_at": insert.excluded.created_at,
                    },
                )
            )

        await self._write_for_learner(learner, now, write)

    async def flag_summaries(self, include_resolved: bool = False) -> list[FlagSummary]:
        query = select(question_flags).order_by(question_flags.c.question_id, question_flags.c.created_at)
        if not include_resolved:
            query = query.where(question_flags.c.resolved_at.is_(None))
        grouped: dict[str, list[Any]] = defaultdict(list)
        async with self.db.read() as conn:
            for row in await conn.execute(query):
                grouped[row.question_id].append(row)
        summaries = [
            FlagSummary(
                question_id=qid,
                flags=len(rows),
                wrong=sum(r.reason == FlagReason.WRONG for r in rows),
                unclear=sum(r.reason == FlagReason.UNCLEAR for r in rows),
                comments=tuple(r.comment for r in rows if r.comment),
                first_at=rows[0].created_at,
                last_at=rows[-1].created_at,
            )
            for qid, rows in grouped.items()
        ]
        return sorted(summaries, key=lambda s: (-s.flags, s.question_id))

    async def resolve_flags(self, question_id: str, now: datetime) -> int:
        async with self.db.write() as conn:
            result = await conn.execute(
                update(question_flags)
                .where(question_flags.c.question_id == question_id, question_flags.c.resolved_at.is_(None))
                .values(resolved_at=now)
            )
        return int(result.rowcount)

    # -- regrading and rebuilding boards ----------------------------------------------

    async def question_attempts(self, question_id: str) -> list[tuple[int, tuple[str, ...], bool]]:
        """(attempt id, authored keys chosen, correct) for every attempt of a question."""
        query = select(attempts.c.id, attempts.c.chosen_keys, attempts.c.correct).where(
            attempts.c.question_id == question_id
        )
        async with self.db.read() as conn:
            return [(r.id, tuple(r.chosen_keys.split(",")), r.correct) for r in await conn.execute(query)]

    async def _lock_boards(self, conn: AsyncConnection) -> None:
        """Hold answers back while boards are recounted (PostgreSQL; SQLite's single writer
        does this already). Taken first, before any row lock, so it cannot deadlock with
        an answer batch, which locks rows of these tables in a fixed order. A regrade and a
        forget or purge take their locks in different orders and may deadlock with each
        other; PostgreSQL then aborts one, and ``_write_retrying`` runs it again."""
        if not self.db.is_sqlite:
            await conn.execute(
                text("LOCK TABLE standings, score_histogram, question_stats IN SHARE ROW EXCLUSIVE MODE")
            )

    async def apply_regrade(
        self,
        question_id: str,
        changes: Sequence[tuple[int, bool]],
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> set[str]:
        """Re-mark attempts and rebuild every board they touch, in one transaction."""
        return await self._write_retrying(
            lambda conn: self._apply_regrade_in(conn, question_id, changes, boards_of)
        )

    async def _write_retrying(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """One write transaction, tried again after a deadlock or serialization failure
        (PostgreSQL may pick it as the victim against an answer batch)."""
        for attempt_number in range(5):
            try:
                async with self.db.write() as conn:
                    return await work(conn)
            except DBAPIError as error:
                if not _is_retryable(error) or attempt_number == 4:
                    raise
                await asyncio.sleep(0.1 * (attempt_number + 1))
        raise AssertionError("unreachable")

    async def _apply_regrade_in(
        self,
        conn: AsyncConnection,
        question_id: str,
        changes: Sequence[tuple[int, bool]],
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> set[str]:
        await self._lock_boards(conn)
        if changes:
            await conn.execute(
                update(attempts)
                .where(attempts.c.id == bindparam("attempt_id"))
                .values(correct=bindparam("new_correct")),
                [{"attempt_id": aid, "new_correct": ok} for aid, ok in changes],
            )
        answered, correct = (
            await conn.execute(
                select(func.count(), func.coalesce(func.sum(case_correct()), 0)).where(
                    attempts.c.question_id == question_id
                )
            )
        ).one()
        await conn.execute(delete(question_stats).where(question_stats.c.question_id == question_id))
        if answered:
            await conn.execute(
                question_stats.insert().values(question_id=question_id, answered=answered, correct=correct)
            )
        workspaces_query = (
            select(places.c.platform, places.c.workspace_id)
            .distinct()
            .join(rounds, rounds.c.place_id == places.c.id)
            .join(attempts, attempts.c.round_id == rounds.c.id)
            .where(attempts.c.question_id == question_id, attempts.c.season.is_not(None))
        )
        workspaces = {(r.platform, r.workspace_id) for r in await conn.execute(workspaces_query)}
        await self._rebuild_boards_in(conn, workspaces, boards_of)
        return {PlaceRef(p, w, "").workspace_scope for p, w in workspaces}

    # -- privacy: what is held about a person, forgetting them, departed workspaces -----

    async def _lock_people(self, conn: AsyncConnection, *, rounds_too: bool = False) -> None:
        """The regrade's board locks, with the person tables taken first in the order an
        answer batch takes them (rounds, learners, attempts, then the boards)."""
        if not self.db.is_sqlite:
            if rounds_too:  # rows are deleted: hold answer batches back before they lock any
                await conn.execute(text("LOCK TABLE rounds IN EXCLUSIVE MODE"))
            await conn.execute(text("LOCK TABLE learners, attempts IN SHARE ROW EXCLUSIVE MODE"))
        await self._lock_boards(conn)

    async def learner_data(self, platform: str, user_id: str) -> dict[str, Any] | None:
        async with self.db.read() as conn:
            return await privacy.learner_data(conn, platform, user_id)

    async def forget_learner(
        self,
        platform: str,
        user_id: str,
        now: datetime,
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> ForgetReport:
        """Remove the person's ids and names from every table in one transaction, and
        recount the boards they were on."""
        key = (platform, user_id)

        async def forget(conn: AsyncConnection) -> ForgetReport:
            await self._lock_people(conn)
            report, workspaces = await privacy.forget_rows(conn, platform, user_id, now)
            await self._rebuild_boards_in(conn, workspaces, boards_of)
            self._learner_ids.pop(key)  # a batch writing after this commit must look them up
            return report

        self._learner_ids.pop(key)
        report = await self._write_retrying(forget)
        self._learner_ids.pop(key)
        return report

    async def record_departure(self, platform: str, workspace: str, now: datetime) -> None:
        """The bot left a workspace; a repeated event keeps the first time."""
        async with self.db.write() as conn:
            await conn.execute(
                self._insert(departures)
                .values(platform=platform, workspace_id=workspace, departed_at=now)
                .on_conflict_do_nothing(index_elements=["platform", "workspace_id"])
            )
        self._drop_workspace(platform, workspace)

    async def cancel_departure(self, platform: str, workspace: str) -> bool:
        """The bot is back (rejoined, reinstalled): nothing will be purged. True if it had left."""
        where = and_(departures.c.platform == platform, departures.c.workspace_id == workspace)
        async with self.db.read() as conn:  # every start sees every server: read before writing
            if (await conn.execute(select(departures.c.platform).where(where))).first() is None:
                return False
        async with self.db.write() as conn:
            return bool((await conn.execute(delete(departures).where(where))).rowcount)

    async def bring_reviews_forward(self, learner: LearnerRef, latest: datetime) -> int:
        learner_id = await self.learner_id(learner)
        if learner_id is None:
            return 0
        async with self.db.write() as conn:
            moved = await conn.execute(
                update(review_cards)
                .where(review_cards.c.learner_id == learner_id, review_cards.c.due > latest)
                .values(due=latest)
            )
        return int(moved.rowcount)

    async def known_workspaces(self, platform: str) -> list[str]:
        query = (
            select(places.c.workspace_id)
            .where(places.c.platform == platform, places.c.channel_id == "")
            .order_by(places.c.workspace_id)
        )
        async with self.db.read() as conn:
            return list((await conn.execute(query)).scalars())

    async def departed_workspaces(self) -> list[tuple[str, str, datetime]]:
        query = select(departures).order_by(departures.c.departed_at)
        async with self.db.read() as conn:
            return [(r.platform, r.workspace_id, r.departed_at) for r in await conn.execute(query)]

    async def purge_workspace(
        self, platform: str, workspace: str, departed_before: datetime
    ) -> PurgeReport | None:
        """Delete everything of a workspace that left before ``departed_before``; None if it
        did not (it came back, or another process purged it already)."""

        async def purge(conn: AsyncConnection) -> tuple[PurgeReport, list[tuple[str, str]]] | None:
            await self._lock_people(conn, rounds_too=True)
            due = await conn.execute(
                delete(departures)
                .where(
                    departures.c.platform == platform,
                    departures.c.workspace_id == workspace,
                    departures.c.departed_at <= departed_before,
                )
                .returning(departures.c.platform)
            )
            if due.first() is None:
                return None
            return await privacy.purge_rows(conn, platform, workspace, _in_scopes)

        done = await self._write_retrying(purge)
        if done is None:
            return None
        report, gone = done
        self._drop_workspace(platform, workspace)
        for key in gone:
            self._learner_ids.pop(key)
        return report

    def _drop_workspace(self, platform: str, workspace: str) -> None:
        """Forget cached place ids of a workspace: its rows may be deleted, here or elsewhere."""
        self._place_ids.discard_if(lambda key, _: key[0] == platform and key[1] == workspace)

    async def rebuild_boards(
        self,
        workspaces: set[tuple[str, str]],
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> None:
        """Recount the boards of these (platform, workspace id) pairs from their attempts."""
        async with self.db.write() as conn:
            await self._lock_boards(conn)
            await self._rebuild_boards_in(conn, workspaces, boards_of)

    async def _rebuild_boards_in(
        self,
        conn: AsyncConnection,
        workspaces: set[tuple[str, str]],
        boards_of: Callable[[ScoredAttempt], Iterable[tuple[str, str]]],
    ) -> None:
        """Recount every board of these workspaces from their attempts, each credited
        under the season and time zone it was answered in."""
        if not workspaces:
            return
        in_workspaces = or_(
            *(and_(places.c.platform == p, places.c.workspace_id == w) for p, w in sorted(workspaces))
        )
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
            .where(attempts.c.season.is_not(None), in_workspaces)
        )
        totals: dict[tuple[str, str, int], list[Any]] = {}
        for row in await conn.execute(query):
            scored = ScoredAttempt(
                row.learner_id,
                row.correct,
                row.answered_at,
                row.season,
                PlaceRef(row.platform, row.workspace_id, row.channel_id),
                row.timezone or "UTC",
            )
            for scope, period in boards_of(scored):
                entry = totals.setdefault((scope, period, row.learner_id), [0, 0, row.answered_at])
                entry[0] += int(row.correct)
                entry[1] += 1
                entry[2] = max(entry[2], row.answered_at)
        for table in (standings, score_histogram):
            await conn.execute(delete(table).where(_in_scopes(table.c.scope, workspaces)))
        if totals:
            await conn.execute(
                standings.insert(),
                [
                    {
                        "scope": s,
                        "period": p,
                        "learner_id": lid,
                        "score": v[0],
                        "answered": v[1],
                        "updated_at": v[2],
                    }
                    for (s, p, lid), v in sorted(totals.items())
                ],
            )
            histogram = Counter((s, p, v[0]) for (s, p, _), v in totals.items())
            await conn.execute(
                score_histogram.insert(),
                [
                    {"scope": s, "period": p, "score": score, "learners": n}
                    for (s, p, score), n in sorted(histogram.items())
                ],
            )

    # -- organisers -------------------------------------------------------------------

    async def organiser_ids(self, place: PlaceRef) -> set[str]:
        query = select(organisers.c.user_id).where(
            organisers.c.platform == place.platform, organisers.c.workspace_id == place.workspace
        )
        async with self.db.read() as conn:
            return set((await conn.execute(query)).scalars())

    async def set_organiser(
        self, place: PlaceRef, user_id: str, added_by: str, now: datetime, add: bool
    ) -> bool:
        """Add or remove; True when that changed something (a repeat is a no-op)."""
        async with self.db.write() as conn:
            if add:
                result = await conn.execute(
                    self._insert(organisers)
                    .values(
                        platform=place.platform,
                        workspace_id=place.workspace,
                        user_id=user_id,
                        added_by=added_by,
                        added_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["platform", "workspace_id", "user_id"])
                )
            else:
                result = await conn.execute(
                    delete(organisers).where(
                        organisers.c.platform == place.platform,
                        organisers.c.workspace_id == place.workspace,
                        organisers.c.user_id == user_id,
                    )
                )
        return bool(result.rowcount)

    # -- platform installations (OAuth) ----------------------------------------------

    async def save_installation(self, platform: str, workspace_id: str, data: str, now: datetime) -> None:
        insert = self._insert(installations).values(
            platform=platform, workspace_id=workspace_id, data=data, updated_at=now
        )
        async with self.db.write() as conn:
            await conn.execute(
                insert.on_conflict_do_update(
                    index_elements=["platform", "workspace_id"],
                    set_={"data": insert.excluded.data, "updated_at": insert.excluded.updated_at},
                )
            )

    async def find_installation(self, platform: str, workspace_id: str) -> str | None:
        query = select(installations.c.data).where(
            installations.c.platform == platform, installations.c.workspace_id == workspace_id
        )
        async with self.db.read() as conn:
            found: str | None = (await conn.execute(query)).scalar()
        return found

    async def delete_installation(self, platform: str, workspace_id: str) -> bool:
        async with self.db.write() as conn:
            result = await conn.execute(
                delete(installations).where(
                    installations.c.platform == platform, installations.c.workspace_id == workspace_id
                )
            )
        return bool(result.rowcount)

    async def issue_state(self, state: str, expires_at: datetime) -> None:
        async with self.db.write() as conn:
            await conn.execute(oauth_states.insert().values(state=state, expires_at=expires_at))

    async def consume_state(self, state: str, now: datetime) -> bool:
        """True once for a state issued and not expired; the row goes either way."""
        async with self.db.write() as conn:
            found = (
                await conn.execute(
                    delete(oauth_states)
                    .where(oauth_states.c.state == state)
                    .returning(oauth_states.c.expires_at)
                )
            ).scalar()
            await conn.execute(delete(oauth_states).where(oauth_states.c.expires_at < now))
        return found is not None and found > now

    # -- daily questions --------------------------------------------------------------

    async def save_schedule(
        self,
        place: PlaceRef,
        at: str,
        timezone: str,
        days: str,
        task: str | None,
        close_after_minutes: int | None,
        mention: str | None,
        created_by: str,
        now: datetime,
    ) -> int:
        """Create or replace the channel's schedule (one per channel), enabled."""
        place_id = await self._channel_id(place)
        values = {
            "at": at,
            "timezone": timezone,
            "days": days,
            "task": task,
            "close_after_minutes": close_after_minutes,
            "mention": mention,
            "created_by": created_by,
            "created_at": now,
            "enabled": True,
            "disabled_reason": None,
        }
        insert = self._insert(daily_schedules).values(place_id=place_id, **values)
        async with self.db.write() as conn:
            await conn.execute(insert.on_conflict_do_update(index_elements=["place_id"], set_=values))
            found = (
                await conn.execute(select(daily_schedules.c.id).where(daily_schedules.c.place_id == place_id))
            ).scalar_one()
        return int(found)

    def _schedule_query(self) -> Any:
        return select(daily_schedules, places.c.platform, places.c.workspace_id, places.c.channel_id).join(
            places, places.c.id == daily_schedules.c.place_id
        )

    @staticmethod
    def _schedule(row: Row[Any]) -> DailySchedule:
        hours, minutes = (int(part) for part in row.at.split(":"))
        return DailySchedule(
            id=row.id,
            place=PlaceRef(row.platform, row.workspace_id, row.channel_id),
            at=time(hours, minutes),
            timezone=row.timezone,
            days=frozenset(int(d) for d in row.days),
            task=row.task,
            close_after=timedelta(minutes=row.close_after_minutes) if row.close_after_minutes else None,
            mention=row.mention,
            created_by=row.created_by,
            enabled=row.enabled,
        )

    async def schedule_of(self, place: PlaceRef) -> DailySchedule | None:
        query = self._schedule_query().where(
            places.c.platform == place.platform,
            places.c.workspace_id == place.workspace,
            places.c.channel_id == place.channel,
        )
        async with self.db.read() as conn:
            row = (await conn.execute(query)).first()
        return self._schedule(row) if row is not None else None

    async def enabled_schedules(self, platform: str) -> list[DailySchedule]:
        query = self._schedule_query().where(
            places.c.platform == platform, daily_schedules.c.enabled.is_(True)
        )
        async with self.db.read() as conn:
            return [self._schedule(row) for row in await conn.execute(query.order_by(daily_schedules.c.id))]

    async def disable_schedule(self, place: PlaceRef, reason: str) -> bool:
        schedule = await self.schedule_of(place)
        if schedule is None or not schedule.enabled:
            return False
        async with self.db.write() as conn:
            await conn.execute(
                update(daily_schedules)
                .where(daily_schedules.c.id == schedule.id)
                .values(enabled=False, disabled_reason=reason)
            )
        return True

    async def claim_daily(
        self, schedule_id: int, local_date: str, status: str, claimer: str, now: datetime
    ) -> bool:
        """True for exactly one caller per (schedule, local date), in any process."""
        insert = self._insert(daily_posts).values(
            schedule_id=schedule_id, local_date=local_date, status=status, claimed_by=claimer, claimed_at=now
        )
        async with self.db.write() as conn:
            result = await conn.execute(
                insert.on_conflict_do_nothing(index_elements=["schedule_id", "local_date"]).returning(
                    daily_posts.c.id
                )
            )
            return result.first() is not None

    async def daily_claims(self, wanted: Sequence[tuple[int, str]]) -> dict[tuple[int, str], DailyClaim]:
        """(claimed at, round id) of the existing claims among these (schedule, local date)
        pairs, read in one transaction: an idle tick then writes nothing (a write per
        schedule per tick would contend with answers for the write lock)."""
        found: dict[tuple[int, str], DailyClaim] = {}
        ids = sorted({schedule_id for schedule_id, _ in wanted})
        dates = sorted({local_date for _, local_date in wanted})
        async with self.db.read() as conn:
            for start in range(0, len(ids), 500):  # the (schedule, date) unique index serves it
                query = select(
                    daily_posts.c.schedule_id,
                    daily_posts.c.local_date,
                    daily_posts.c.claimed_at,
                    daily_posts.c.round_id,
                ).where(
                    daily_posts.c.schedule_id.in_(ids[start : start + 500]),
                    daily_posts.c.local_date.in_(dates),
                )
                for row in await conn.execute(query):
                    found[(row.schedule_id, row.local_date)] = DailyClaim(row.claimed_at, row.round_id)
        return found

    async def set_daily_round(self, schedule_id: int, local_date: str, round_id: int) -> None:
        async with self.db.write() as conn:
            await conn.execute(
                update(daily_posts)
                .where(daily_posts.c.schedule_id == schedule_id, daily_posts.c.local_date == local_date)
                .values(round_id=round_id, status="posted")
            )

    async def daily_history(self, platform: str, workspace: str) -> list[tuple[str, int, bool]]:
        """(local date, round id, still open) of every posted daily round of a workspace, oldest first."""
        query = (
            select(daily_posts.c.local_date, daily_posts.c.round_id, rounds.c.closed_at)
            .join(daily_schedules, daily_schedules.c.id == daily_posts.c.schedule_id)
            .join(places, places.c.id == daily_schedules.c.place_id)
            .join(rounds, rounds.c.id == daily_posts.c.round_id)
            .where(places.c.platform == platform, places.c.workspace_id == workspace)
            .order_by(daily_posts.c.local_date, daily_posts.c.round_id)
        )
        async with self.db.read() as conn:
            return [(r.local_date, r.round_id, r.closed_at is None) for r in await conn.execute(query)]

    async def daily_date_of(self, round_id: int) -> str | None:
        query = select(daily_posts.c.local_date).where(daily_posts.c.round_id == round_id)
        async with self.db.read() as conn:
            found: str | None = (await conn.execute(query)).scalar()
        return found

    async def round_attempts(self, round_ids: Sequence[int]) -> list[AttemptRecord]:
        if not round_ids:
            return []
        async with self.db.read() as conn:
            return await self._attempts(conn, attempts.c.round_id.in_(list(round_ids)))

    async def reclaim_daily(
        self, schedule_id: int, local_date: str, claimer: str, now: datetime, stale_before: datetime
    ) -> bool:
        """Take over a claim whose process died before opening its round."""
        async with self.db.write() as conn:
            result = await conn.execute(
                update(daily_posts)
                .where(
                    daily_posts.c.schedule_id == schedule_id,
                    daily_posts.c.local_date == local_date,
                    daily_posts.c.status == "claimed",
                    daily_posts.c.round_id.is_(None),
                    daily_posts.c.claimed_at < stale_before,
                )
                .values(claimed_by=claimer, claimed_at=now)
                .returning(daily_posts.c.id)
            )
            return result.first() is not None

    async def unposted_rounds(
        self, platform: str, opened_before: datetime
    ) -> list[tuple[RoundRecord, str | None]]:
        """Open channel rounds whose post was never recorded (a crash between posting and
        recording), with their daily date if they are a daily question."""
        query = (
            self._round_query()
            .add_columns(daily_posts.c.local_date)
            .outerjoin(daily_posts, daily_posts.c.round_id == rounds.c.id)
            .where(
                places.c.platform == platform,
                rounds.c.kind == str(RoundKind.CHANNEL),
                rounds.c.closed_at.is_(None),
                rounds.c.message_ref.is_(None),
                rounds.c.opened_at < opened_before,
            )
        )
        async with self.db.read() as conn:
            return [(self._round(row), row.local_date) for row in await conn.execute(query)]

    # -- mock exams (bot/store/exams.py) ------------------------------------------------

    async def create_exam(
        self,
        learner: LearnerRef,
        place: PlaceRef,
        items: Sequence[tuple[str, Sequence[str]]],
        started_at: datetime,
        deadline: datetime,
    ) -> ExamRecord:
        return await exams.create_exam(self, learner, place, items, started_at, deadline)

    async def get_exam(self, exam_id: int) -> ExamRecord | None:
        if not _storable(exam_id):  # a forged id no column could hold: unknown, not an error
            return None
        return await exams.get_exam(self, exam_id)

    async def running_exam(self, learner_id: int, now: datetime) -> ExamRecord | None:
        return await exams.running_exam(self, learner_id, now)

    async def exam_items(self, exam_id: int) -> list[ExamItem]:
        return await exams.exam_items(self, exam_id)

    async def answer_exam_item(
        self, exam_id: int, position: int, chosen_keys: Sequence[str], correct: bool, now: datetime
    ) -> bool:
        return await exams.answer_exam_item(self, exam_id, position, chosen_keys, correct, now)

    async def finish_exam(
        self,
        exam_id: int,
        now: datetime,
        scaled: Callable[[int, int], int],
        reviews: ExamReviews | None = None,
    ) -> list[ExamItem] | None:
        return await exams.finish_exam(self, exam_id, now, scaled, reviews)

    async def due_exams(
        self, now: datetime, platform: str | None = None, limit: int = 100, learner_id: int | None = None
    ) -> list[int]:
        return await exams.due_exams(self, now, platform, limit, learner_id)

    async def finished_exams(self, learner_id: int) -> list[ExamRecord]:
        return await exams.finished_exams(self, learner_id)

    async def unsent_exam_results(
        self, platform: str | None, finished_before: datetime, finished_after: datetime, limit: int = 100
    ) -> list[int]:
        return await exams.unsent_exam_results(self, platform, finished_before, finished_after, limit)

    async def mark_exam_result_sent(self, exam_id: int, now: datetime) -> None:
        await exams.mark_exam_result_sent(self, exam_id, now)

    async def discard_untouched_exam(self, exam_id: int) -> bool:
        return await exams.discard_untouched_exam(self, exam_id)

    # -- daily reminders ------------------------------------------------------------------

    async def reminder_profiles(self, platform: str | None = None) -> list[ReminderProfile]:
        return await reminders.reminder_profiles(self, platform)

    async def due_questions_of(self, cutoffs: Mapping[int, datetime]) -> dict[int, list[str]]:
        return await reminders.due_questions_of(self, cutoffs)

    async def claim_reminder(self, learner_id: int, day: date) -> bool:
        return await reminders.claim_reminder(self, learner_id, day)

    async def release_reminder(self, learner_id: int, day: date, previous: date | None) -> None:
        await reminders.release_reminder(self, learner_id, day, previous)


def _in_scopes(column: Any, workspaces: set[tuple[str, str]]) -> Any:
    """Board keys of these workspaces and of their channels, matched by exact prefix
    (never LIKE: ids may contain its wildcards, and SQLite's LIKE ignores case)."""
    conditions = []
    for platform, workspace in sorted(workspaces):
        scope = PlaceRef(platform, workspace, "").workspace_scope
        conditions.append(column == scope)
        conditions.append(func.substr(column, 1, len(scope) + 1) == scope + ":")
    return or_(*conditions)
