"""Answer path: many concurrent learners through QuizEngine + SqlStore versus raw sqlite3.

The engine side is the real thing: a migrated SQLite file in WAL mode, ``SqlStore`` with
its group-commit ``AnswerWriter``, ``QuizEngine.answer`` called by one asyncio task per
learner. Each task submits its answers one after another (submit, await the card, next)
and every task runs at once, so the writer sees up to ``--learners`` answers in flight.

The baseline writes the same rows with the standard library's ``sqlite3``, one
transaction per answer (WAL, synchronous=NORMAL, foreign keys on, like the bot), on a
copy of the same database taken after the rounds were opened and before any answer:

* the open-round check, which also reads the workspace's season and time zone;
* the learner upsert, on each learner's first answer (the store does it once, then caches);
* the attempt row (``ON CONFLICT (round_id, learner_id) DO NOTHING``);
* one standings upsert per board: 2 scopes (workspace, channel) x 3 periods (week,
  month, all);
* the score_histogram changes those upserts imply (+1 on a new row; -1/+1 on a
  correct answer);
* the question_stats upsert.

A second baseline commits the same statements ``--max-batch`` answers per transaction
(group commit by hand, the ceiling for the store's writer).

Then a **paced** run replays the same answers through the engine on a fresh copy:
every learner pauses an exponential think time (mean ``learners / raw answers/s``)
before each answer, so together they offer about the raw per-answer rate instead of
queueing everything at once. Its p99 is the latency target. The closed loop's latency
is bounded below by Little's law (mean latency = learners / answers/s) and says more
about the queue than about the store.

All four databases are then recounted from their attempts (a printed correctness
check), and their standings are compared with each other.

Run: ``python -m bench.answer_path`` (or ``python bench/answer_path.py``) from the
repository root; ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import random
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

from bot.bank import load_bank
from bot.engine import AnswerRefused, FeedbackCard, LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.engine.model import AnswerWrite
from bot.engine.periods import all_period_keys
from bot.runtime import settle_memory
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # the clock never moves during a run
ROUND_MINUTES = 24 * 60  # every deadline is a day after NOW: far from any answer
PLATFORM = "bench"
WORKSPACE = "guild"
LETTERS = "ABCDEF"

R = TypeVar("R")

TARGET_RATIO = 0.5  # engine answers/s >= 0.5 x raw answers/s
TARGET_P99_MS = 100.0  # at 1,000 concurrent learners


@dataclass(frozen=True)
class Options:
    learners: int
    answers: int
    channels: int
    seed: int
    max_batch: int
    workdir: Path | None


@dataclass(frozen=True)
class OpenRound:
    round_id: int
    place: PlaceRef
    question_id: str
    option_order: tuple[str, ...]  # authored keys as shown: index 0 is letter A
    answer: frozenset[str]  # authored keys of the right options


@dataclass(frozen=True)
class PlannedAnswer:
    round_index: int
    letters: str  # what the learner clicks, e.g. "BD"
    keys: tuple[str, ...]  # the authored keys those letters stand for, sorted
    correct: bool


Plan = list[list[PlannedAnswer]]  # per learner, in the order the learner answers


@dataclass(frozen=True)
class EngineRun:
    seconds: float
    latencies_ns: list[int]
    outcomes: Counter[str]
    verdict_mismatches: int  # feedback cards whose "correct" differs from the plan
    batches: int
    batched_answers: int
    batch_sizes: list[int]
    batch_ns: list[int]


@dataclass(frozen=True)
class RawRun:
    seconds: float
    latencies_ns: list[int]
    recorded: int


@dataclass(frozen=True)
class Check:
    attempts: int
    standings_rows: int
    standings_mismatches: int
    histogram_rows: int
    histogram_mismatches: int
    question_stats_mismatches: int
    by_user: dict[tuple[str, str, str], tuple[int, int]]  # (scope, period, user) -> score, answered

    @property
    def ok(self) -> bool:
        return not (self.standings_mismatches or self.histogram_mismatches or self.question_stats_mismatches)


# -- figures ---------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with ``pct`` percent at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def ms(values_ns: Sequence[int], pct: float) -> float:
    return percentile(values_ns, pct) / 1e6


def sql_time(moment: datetime) -> str:
    """How SQLAlchemy stores an aware UTC datetime in SQLite."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


# -- setup -----------------------------------------------------------------------------


def learner_ref(index: int) -> LearnerRef:
    return LearnerRef(PLATFORM, f"u{index:06d}", f"Learner {index}")


async def open_rounds(engine: QuizEngine, store: SqlStore, channels: int) -> list[OpenRound]:
    """One open channel round per channel, opened the way an adapter does: engine.ask."""
    opened: list[OpenRound] = []
    for channel in range(channels):
        place = PlaceRef(PLATFORM, WORKSPACE, f"channel-{channel:03d}")
        card = await engine.ask(place, minutes=ROUND_MINUTES)
        if not isinstance(card, QuestionCard):
            raise RuntimeError(f"could not open a round in {place}: {card}")
        record = await store.get_round(card.round_id)
        question = engine.bank.get(card.question_id)
        assert record is not None and question is not None
        opened.append(OpenRound(card.round_id, place, question.id, record.option_order, question.answer))
    return opened


def make_plan(rounds: Sequence[OpenRound], learners: int, per_learner: int, rng: random.Random) -> Plan:
    """Each learner answers ``per_learner`` distinct rounds, in a random order, with a
    personal accuracy drawn from Beta(5, 3) (mean 62.5 %)."""
    plan: Plan = []
    for _ in range(learners):
        accuracy = rng.betavariate(5, 3)
        answers: list[PlannedAnswer] = []
        for index in rng.sample(range(len(rounds)), per_learner):
            round_ = rounds[index]
            shown = LETTERS[: len(round_.option_order)]
            right = "".join(sorted(LETTERS[round_.option_order.index(k)] for k in round_.answer))
            letters = right
            if rng.random() >= accuracy:
                while letters == right:
                    letters = "".join(sorted(rng.sample(shown, len(round_.answer))))
            keys = tuple(sorted(round_.option_order[LETTERS.index(x)] for x in letters))
            answers.append(PlannedAnswer(index, letters, keys, frozenset(keys) == round_.answer))
        plan.append(answers)
    return plan


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a live WAL database (the sqlite3 backup API)."""
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# -- the engine run --------------------------------------------------------------------


WriteBatch = Callable[[Sequence[AnswerWrite]], Awaitable[R]]


def timing(write_batch: WriteBatch[R], sizes: list[int], durations: list[int]) -> WriteBatch[R]:
    """Measurement only: the store's own batch writer, timed, and nothing else changed."""

    async def timed_batch(batch: Sequence[AnswerWrite]) -> R:
        started = time.perf_counter_ns()
        try:
            return await write_batch(batch)
        finally:
            durations.append(time.perf_counter_ns() - started)
            sizes.append(len(batch))

    return timed_batch


async def run_engine(
    engine: QuizEngine,
    store: SqlStore,
    rounds: Sequence[OpenRound],
    plan: Plan,
    think_mean: float | None = None,
    seed: int = 1,
) -> EngineRun:
    """Closed loop (``think_mean`` None: each learner answers as soon as the previous answer
    is acknowledged) or paced: each learner pauses for an exponential think time first."""
    batch_sizes: list[int] = []
    batch_ns: list[int] = []
    write_batch = store.writer._write_batch
    store.writer._write_batch = timing(write_batch, batch_sizes, batch_ns)

    go = asyncio.Event()
    latencies: list[int] = []
    outcomes: Counter[str] = Counter()
    mismatches = 0

    pauses = random.Random(seed)

    async def learner(ref: LearnerRef, answers: Sequence[PlannedAnswer]) -> None:
        nonlocal mismatches
        await go.wait()
        for planned in answers:
            if think_mean is not None:
                await asyncio.sleep(pauses.expovariate(1 / think_mean))
            round_ = rounds[planned.round_index]
            started = time.perf_counter_ns()
            card = await engine.answer(round_.round_id, ref, planned.letters, round_.place)
            latencies.append(time.perf_counter_ns() - started)
            if isinstance(card, AnswerRefused):
                outcomes[f"refused: {card.reason}"] += 1
            else:
                outcomes[type(card).__name__] += 1
                if isinstance(card, FeedbackCard) and card.correct != planned.correct:
                    mismatches += 1

    tasks = [asyncio.create_task(learner(learner_ref(i), answers)) for i, answers in enumerate(plan)]
    await asyncio.sleep(0)  # every task is now waiting at the start line
    started = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    seconds = time.perf_counter() - started
    store.writer._write_batch = write_batch
    return EngineRun(
        seconds,
        latencies,
        outcomes,
        mismatches,
        store.writer.batches,
        store.writer.answers,
        batch_sizes,
        batch_ns,
    )


# -- the raw sqlite3 baseline ----------------------------------------------------------

# the round must be open; the season and time zone the answer credits are read with it
SQL_OPEN = (
    "SELECT r.id, p.platform, p.workspace_id, p.channel_id, w.season, w.timezone "
    "FROM rounds r JOIN places p ON p.id = r.place_id "
    "JOIN places w ON w.platform = p.platform AND w.workspace_id = p.workspace_id "
    "AND w.channel_id = '' WHERE r.id = ? AND r.closed_at IS NULL"
)
SQL_LEARNER = (
    "INSERT INTO learners (platform, user_id, display_name, locale, created_at) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, user_id) DO UPDATE SET "
    "display_name = excluded.display_name, locale = coalesce(excluded.locale, learners.locale) "
    "RETURNING id"
)
ATTEMPT_COLUMNS = (
    "round_id",
    "learner_id",
    "question_id",
    "chosen_keys",
    "chosen_letters",
    "correct",
    "answered_at",
    "season",
)


def columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def attempt_sql(with_timezone: bool) -> str:
    """The attempt insert; newer schemas also keep the time zone the answer counted in."""
    names = ATTEMPT_COLUMNS + (("timezone",) if with_timezone else ())
    return (
        f"INSERT INTO attempts ({', '.join(names)}) VALUES ({', '.join('?' * len(names))}) "
        "ON CONFLICT (round_id, learner_id) DO NOTHING RETURNING id"
    )


SQL_STANDING = (
    "INSERT INTO standings (scope, period, learner_id, score, answered, updated_at) "
    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, period, learner_id) DO UPDATE SET "
    "score = standings.score + excluded.score, answered = standings.answered + excluded.answered, "
    "updated_at = excluded.updated_at RETURNING score, answered"
)
SQL_HISTOGRAM = (
    "INSERT INTO score_histogram (scope, period, score, learners) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (scope, period, score) DO UPDATE SET "
    "learners = score_histogram.learners + excluded.learners"
)
SQL_QUESTION = (
    "INSERT INTO question_stats (question_id, answered, correct) VALUES (?, ?, ?) "
    "ON CONFLICT (question_id) DO UPDATE SET answered = question_stats.answered + "
    "excluded.answered, correct = question_stats.correct + excluded.correct"
)


def interleaved(plan: Plan) -> list[tuple[int, PlannedAnswer]]:
    """Every learner's first answer, then every learner's second, and so on."""
    order: list[tuple[int, PlannedAnswer]] = []
    for step in range(max((len(a) for a in plan), default=0)):
        order.extend((i, answers[step]) for i, answers in enumerate(plan) if step < len(answers))
    return order


def run_raw(path: Path, rounds: Sequence[OpenRound], plan: Plan, per_transaction: int = 1) -> RawRun:
    """Write the plan's answers in the engine's arrival order, ``per_transaction`` answers
    per transaction (1: the baseline; more: group commit done by hand, for reference)."""
    conn = sqlite3.connect(path, isolation_level=None)
    cur = conn.cursor()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=30000", "foreign_keys=ON"):
        cur.execute(f"PRAGMA {pragma}")
    at = sql_time(NOW)
    with_timezone = "timezone" in columns_of(conn, "attempts")
    sql_attempt = attempt_sql(with_timezone)
    learner_ids: dict[int, int] = {}
    latencies: list[int] = []
    recorded = 0
    order = interleaved(plan)
    started = time.perf_counter()
    t0 = 0
    for position, (index, planned) in enumerate(order):
        round_ = rounds[planned.round_index]
        correct = int(planned.correct)
        if position % per_transaction == 0:
            t0 = time.perf_counter_ns()
            cur.execute("BEGIN IMMEDIATE")
        found = cur.execute(SQL_OPEN, (round_.round_id,)).fetchone()
        if found is None:
            raise RuntimeError(f"round {round_.round_id} is not open in the raw database")
        _, platform, workspace, channel, season, timezone = found
        learner_id = learner_ids.get(index)
        if learner_id is None:
            ref = learner_ref(index)
            learner_id = learner_ids[index] = cur.execute(
                SQL_LEARNER, (ref.platform, ref.user_id, ref.display_name, ref.locale, at)
            ).fetchone()[0]
        inserted = cur.execute(
            sql_attempt,
            (
                round_.round_id,
                learner_id,
                round_.question_id,
                ",".join(planned.keys),
                planned.letters,
                correct,
                at,
                season,
                *((timezone,) if with_timezone else ()),
            ),
        ).fetchone()
        if inserted is not None:
            recorded += 1
            place = PlaceRef(platform, workspace, channel)
            histogram: Counter[tuple[str, str, int]] = Counter()
            for scope, period in (
                (scope, period)
                for scope in (place.workspace_scope, place.channel_scope)
                for period in all_period_keys(NOW, timezone, season)
            ):
                score, answered = cur.execute(
                    SQL_STANDING, (scope, period, learner_id, correct, 1, at)
                ).fetchone()
                if answered == 1:
                    histogram[(scope, period, score)] += 1
                elif correct:
                    histogram[(scope, period, score - 1)] -= 1
                    histogram[(scope, period, score)] += 1
            cur.executemany(SQL_HISTOGRAM, [(*key, n) for key, n in sorted(histogram.items()) if n])
            cur.execute(SQL_QUESTION, (round_.question_id, 1, correct))
        if position % per_transaction == per_transaction - 1 or position == len(order) - 1:
            cur.execute("COMMIT")
            latencies.append(time.perf_counter_ns() - t0)
    seconds = time.perf_counter() - started
    conn.close()
    return RawRun(seconds, latencies, recorded)


# -- correctness -----------------------------------------------------------------------


def check_database(path: Path) -> Check:
    """Recount standings, histogram and question stats from the attempts."""
    conn = sqlite3.connect(path)
    try:
        # the zone an answer was counted in: its own when the schema keeps it, else the place's
        attempt_zone = "a.timezone, " if "timezone" in columns_of(conn, "attempts") else ""
        expected: dict[tuple[str, str, int], list[int]] = {}
        questions: dict[str, list[int]] = {}
        attempts = 0
        query = (
            "SELECT a.learner_id, a.question_id, a.correct, a.answered_at, a.season, "
            f"p.platform, p.workspace_id, p.channel_id, coalesce({attempt_zone}w.timezone) "
            "FROM attempts a JOIN rounds r ON r.id = a.round_id "
            "JOIN places p ON p.id = r.place_id "
            "JOIN places w ON w.platform = p.platform AND w.workspace_id = p.workspace_id "
            "AND w.channel_id = ''"
        )
        for (
            learner_id,
            question_id,
            correct,
            answered_at,
            season,
            platform,
            workspace,
            channel,
            timezone,
        ) in conn.execute(query):
            attempts += 1
            stats = questions.setdefault(question_id, [0, 0])
            stats[0] += 1
            stats[1] += correct
            if season is None:
                continue
            place = PlaceRef(platform, workspace, channel)
            moment = datetime.fromisoformat(answered_at).replace(tzinfo=UTC)
            for scope in (place.workspace_scope, place.channel_scope):
                for period in all_period_keys(moment, timezone, season):
                    row = expected.setdefault((scope, period, learner_id), [0, 0])
                    row[0] += correct
                    row[1] += 1
        actual = {
            (s, p, lid): [score, answered]
            for s, p, lid, score, answered in conn.execute(
                "SELECT scope, period, learner_id, score, answered FROM standings"
            )
        }
        standings_mismatches = sum(
            1 for k in expected.keys() | actual.keys() if expected.get(k) != actual.get(k)
        )
        histogram_expected = Counter((s, p, score) for (s, p, _), (score, _) in actual.items())
        histogram_actual = {
            (s, p, score): n
            for s, p, score, n in conn.execute("SELECT scope, period, score, learners FROM score_histogram")
            if n
        }
        histogram_mismatches = sum(
            1
            for k in histogram_expected.keys() | histogram_actual.keys()
            if histogram_expected.get(k) != histogram_actual.get(k)
        )
        stats_actual = {
            q: [a, c] for q, a, c in conn.execute("SELECT question_id, answered, correct FROM question_stats")
        }
        stats_mismatches = sum(
            1 for k in questions.keys() | stats_actual.keys() if questions.get(k) != stats_actual.get(k)
        )
        users = dict(conn.execute("SELECT id, user_id FROM learners").fetchall())
        by_user = {(s, p, users[lid]): (v[0], v[1]) for (s, p, lid), v in actual.items()}
        return Check(
            attempts,
            len(actual),
            standings_mismatches,
            len(histogram_actual),
            histogram_mismatches,
            stats_mismatches,
            by_user,
        )
    finally:
        conn.close()


# -- the benchmark ---------------------------------------------------------------------


async def _engine_side(
    options: Options, per_learner: int, engine_db: Path, raw_db: Path, pristine_db: Path
) -> tuple[list[OpenRound], Plan, EngineRun]:
    database = Database(f"sqlite+aiosqlite:///{engine_db}")
    await upgrade(database)
    store = SqlStore(database, max_batch=options.max_batch)
    engine = QuizEngine(store, load_bank(), clock=lambda: NOW, rng=random.Random(options.seed))
    try:
        rounds = await open_rounds(engine, store, options.channels)
        copy_database(engine_db, raw_db)  # same schema, places and open rounds; no answer yet
        copy_database(engine_db, pristine_db)  # for the paced run
        plan = make_plan(rounds, options.learners, per_learner, random.Random(options.seed))
        settle_memory()  # as bot.runtime.open_app does before serving
        run = await run_engine(engine, store, rounds, plan)
    finally:
        await store.close()
    return rounds, plan, run


async def _paced_side(
    options: Options, db: Path, rounds: Sequence[OpenRound], plan: Plan, offered_rate: float
) -> EngineRun:
    """The same answers again, on a fresh copy, offered at ``offered_rate`` answers/s in all."""
    database = Database(f"sqlite+aiosqlite:///{db}")
    store = SqlStore(database, max_batch=options.max_batch)
    engine = QuizEngine(store, load_bank(), clock=lambda: NOW, rng=random.Random(options.seed))
    try:
        settle_memory()
        return await run_engine(
            engine, store, rounds, plan, think_mean=options.learners / offered_rate, seed=options.seed
        )
    finally:
        await store.close()


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def _print_check(label: str, check: Check, submitted: int) -> None:
    counted = "=" if check.attempts == submitted else "!="
    print(
        f"    {label:<10} attempts {check.attempts:,} {counted} submitted {submitted:,}; "
        f"standings {check.standings_rows:,} rows, {check.standings_mismatches} differ from "
        f"the recount; histogram {check.histogram_rows:,} rows, {check.histogram_mismatches} "
        f"differ; question_stats {check.question_stats_mismatches} differ -> "
        f"{'ok' if check.ok and check.attempts == submitted else 'FAILED'}"
    )


def run(options: Options) -> bool:
    """Run the benchmark, print its figures; True when the correctness checks pass."""
    per_learner = math.ceil(options.answers / options.learners)
    raised = per_learner > options.channels  # a learner answers a round at most once
    if raised:
        options = replace(options, channels=per_learner)
    print(
        f"answer path: {options.learners:,} concurrent learners x {per_learner} answers = "
        f"{per_learner * options.learners:,} answers over {options.channels} open channel "
        f"rounds (1 workspace, {options.channels} channels"
        f"{', raised to one per answer of a learner' if raised else ''}), seed {options.seed}"
    )

    with tempfile.TemporaryDirectory(prefix="quizbot-bench-") as scratch:
        folder = options.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        engine_db, raw_db = folder / "engine.db", folder / "raw.db"
        batched_db, paced_db = folder / "raw-batched.db", folder / "paced.db"
        for path in (engine_db, raw_db, batched_db, paced_db):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)

        rounds, plan, engine = asyncio.run(_engine_side(options, per_learner, engine_db, raw_db, paced_db))
        copy_database(raw_db, batched_db)
        gc.collect()
        raw = run_raw(raw_db, rounds, plan)
        gc.collect()
        batched = run_raw(batched_db, rounds, plan, per_transaction=options.max_batch)
        raw_rate_measured = sum(len(a) for a in plan) / raw.seconds
        paced = asyncio.run(_paced_side(options, paced_db, rounds, plan, raw_rate_measured))
        paced_check = check_database(paced_db)
        engine_check = check_database(engine_db)
        raw_check = check_database(raw_db)
        batched_check = check_database(batched_db)

    submitted = sum(len(a) for a in plan)
    engine_rate = submitted / engine.seconds
    raw_rate = submitted / raw.seconds
    ratio = engine_rate / raw_rate
    p50, p99 = ms(engine.latencies_ns, 50), ms(engine.latencies_ns, 99)
    mean_batch = engine.batched_answers / engine.batches if engine.batches else math.nan

    print(f"  engine  QuizEngine.answer -> SqlStore group commit (max_batch {options.max_batch})")
    print(f"    answers/s              {engine_rate:>10,.0f}   ({submitted:,} in {engine.seconds:.2f} s)")
    print(
        f"    latency p50 / p99      {p50:>10.2f} / {p99:.2f} ms   (submit -> acknowledged; "
        f"max {ms(engine.latencies_ns, 100):.2f} ms)"
    )
    print(
        f"    mean batch size        {mean_batch:>10.1f}   ({engine.batched_answers:,} answers in "
        f"{engine.batches:,} batches; largest {max(engine.batch_sizes, default=0)})"
    )
    print(
        f"    batch txn p50 / p99    {ms(engine.batch_ns, 50):>10.2f} / "
        f"{ms(engine.batch_ns, 99):.2f} ms   (one group-commit transaction; "
        f"{statistics.fmean(engine.batch_ns) / 1e3 / max(mean_batch, 1):.1f} us per answer)"
    )
    print(
        f"    outcomes               {dict(sorted(engine.outcomes.items()))}; "
        f"verdicts differing from the plan: {engine.verdict_mismatches}"
    )
    print("  raw     sqlite3, one transaction per answer (WAL, synchronous=NORMAL)")
    print(f"    answers/s              {raw_rate:>10,.0f}   ({raw.recorded:,} in {raw.seconds:.2f} s)")
    print(
        f"    txn latency p50 / p99  {ms(raw.latencies_ns, 50):>10.3f} / "
        f"{ms(raw.latencies_ns, 99):.3f} ms   (BEGIN IMMEDIATE -> COMMIT)"
    )
    batched_rate = submitted / batched.seconds
    print(
        f"  raw     the same statements, {options.max_batch} answers per transaction (group "
        "commit by hand; for reference)"
    )
    print(
        f"    answers/s              {batched_rate:>10,.0f}   ({batched.recorded:,} in "
        f"{batched.seconds:.2f} s; engine reaches {engine_rate / batched_rate:.2f}x of it)"
    )
    print(
        f"    txn latency p50 / p99  {ms(batched.latencies_ns, 50):>10.2f} / "
        f"{ms(batched.latencies_ns, 99):.2f} ms"
    )
    print(
        f"  engine / raw answers/s   {ratio:>10.2f}x  (target >= {TARGET_RATIO}x: "
        f"{_verdict(ratio >= TARGET_RATIO)})"
    )
    little = options.learners / engine_rate * 1e3
    print(
        f"  closed loop              {little:>10.2f} ms = learners / engine answers/s: the mean "
        f"latency it implies (Little's law); p99 <= {TARGET_P99_MS:.0f} ms needs more than "
        f"{options.learners / TARGET_P99_MS * 1e3:,.0f} answers/s"
    )
    print(
        f"  engine p99, closed loop  {p99:>10.2f} ms (every learner always waiting: the queue, "
        f"not the store, sets this; see Little's law above)"
    )
    paced_p50, paced_p99 = ms(paced.latencies_ns, 50), ms(paced.latencies_ns, 99)
    print(
        f"  engine, paced            {options.learners:,} learners, each pausing a random think time "
        f"(exponential, mean {options.learners / raw_rate * 1e3:.0f} ms) before each answer: together they "
        f"offer about the raw per-answer rate, {raw_rate:,.0f} answers/s"
    )
    print(
        f"    group commit           mean batch {paced.batched_answers / max(paced.batches, 1):.1f}; "
        f"batch txn p50 / p99 {ms(paced.batch_ns, 50):.2f} / {ms(paced.batch_ns, 99):.2f} ms; "
        f"the last learner finished after {paced.seconds:.2f} s"
    )
    print(
        f"    latency p50 / p99      {paced_p50:>10.2f} / {paced_p99:.2f} ms   (target p99 <= "
        f"{TARGET_P99_MS:.0f} ms at {options.learners:,} learners: {_verdict(paced_p99 <= TARGET_P99_MS)})"
    )
    print(
        f"    outcomes               {dict(sorted(paced.outcomes.items()))}; "
        f"verdicts differing from the plan: {paced.verdict_mismatches}"
    )
    print("  correctness (recounted from attempts)")
    _print_check("engine db", engine_check, submitted)
    _print_check("raw db", raw_check, submitted)
    _print_check("batched db", batched_check, submitted)
    _print_check("paced db", paced_check, submitted)
    same = engine_check.by_user == raw_check.by_user == batched_check.by_user == paced_check.by_user
    print(
        f"    standings of the four databases identical (by scope, period, user): "
        f"{'ok' if same else 'FAILED'}"
    )
    recorded = engine.outcomes.get("FeedbackCard", 0)
    return (
        engine_check.ok
        and raw_check.ok
        and batched_check.ok
        and paced_check.ok
        and same
        and engine.verdict_mismatches == 0
        and paced.verdict_mismatches == 0
        and paced.outcomes.get("FeedbackCard", 0) == submitted
        and engine_check.attempts == submitted == recorded == raw_check.attempts
        and batched_check.attempts == paced_check.attempts == submitted
    )


def add_arguments(parser: argparse.ArgumentParser, *, common: bool = True) -> None:
    group = parser.add_argument_group("answer path")
    group.add_argument(
        "--learners",
        type=int,
        default=None,
        help="concurrent learners, one asyncio task each (default 1000; quick 200)",
    )
    group.add_argument(
        "--answers",
        type=int,
        default=None,
        help="answers in total, split evenly over the learners (default 20000; quick 2000)",
    )
    group.add_argument(
        "--channels", type=int, default=None, help="channels, each with one open round (default 20; quick 10)"
    )
    group.add_argument(
        "--max-batch", type=int, default=500, help="SqlStore max_batch, the group-commit cap (default 500)"
    )
    group.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep engine.db, raw.db, raw-batched.db and paced.db here instead of a deleted temp dir "
        "(with python -m bench, the daily posts' daily-*.db files too)",
    )
    if common:
        add_common_arguments(parser)


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quick", action="store_true", help="a small run for smoke checks")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")


def options_from(args: argparse.Namespace) -> Options:
    quick = bool(args.quick)
    return Options(
        learners=args.learners or (200 if quick else 1000),
        answers=args.answers or (2000 if quick else 20000),
        channels=args.channels or (10 if quick else 20),
        seed=args.seed,
        max_batch=args.max_batch,
        workdir=args.workdir,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    ok = run(options_from(parser.parse_args(argv)))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
