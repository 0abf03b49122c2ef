"""Daily posts: many channels whose daily question falls due in the same minute, posted
through the real Discord and Slack adapters against the fakes in ``tests/fakes``.

Every run starts from a new SQLite file migrated with ``bot.store.migrate.upgrade``, a
real ``SqlStore`` and ``QuizEngine``, and ``--daily-channels`` schedules (default 1,000)
made with ``QuizEngine.set_daily`` at the same local minute, 09:00 Europe/Berlin. The
engine's clock is fixed at that minute (2026-11-26 08:00 UTC), so the minute "starts"
when the daily loop's first tick calls ``run_daily``: every time below is measured from
that call (a ``QuizEngine`` subclass stamps it and changes nothing else).

* **engine alone**: ``run_daily`` for every schedule, then the store calls the adapters
  make per card besides the HTTP request (``store.get_round``, ``engine.attach_message``),
  with no platform. Then two more ticks, as the loops make every 5 s, with nothing due:
  one at the same minute (inside the 2-hour grace window) and one at 15:00 local.
* **discord**: a fake Discord with the channels in its guild, the bot allowed to post in
  each, and the client from ``bot.adapters.discord.client.make_client`` pointed at it
  (``tests.fakes.discord_server.pointed_at``). Its daily loop starts in ``setup_hook``.
  The fake runs once enforcing no rate limit and, unless ``--discord-global-limit 0``,
  once more answering 429 (global, with ``Retry-After``, as Discord does) to any request
  beyond ``--discord-global-limit`` per second (Discord's global limit is 50).
* **slack**: a fake Slack with the channels in workspace T1, the bot a member of each;
  ``build_slack`` pointed at the fake's ``api_url``, its daily loop started with
  ``SlackQuiz.start()``.

The fakes are subclassed here only to stamp each stored message with the time it
arrived, to add the time spent in their request handlers, and to enforce the optional
global limit. Their behaviour is otherwise the tests' own.

The correctness checks (exit status 1 when one fails): exactly one question in each
channel and none elsewhere; one post per daily round, each round posted once and the
posted rounds the same as the daily rounds in the database; one claim marked posted per
schedule, none left half-done, and every post recorded on its round (``message_ref``).

Run: ``python -m bench.daily_posts`` (or ``python bench/daily_posts.py``) from the
repository root; ``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import random
import sys
import tempfile
import time
from collections import Counter, deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python bench/daily_posts.py: the repository root holds tests/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp
from aiohttp import web
from sqlalchemy import event, select

from bot.adapters.discord.client import make_client
from bot.adapters.discord.settings import DiscordSettings
from bot.adapters.slack.runner import build_slack
from bot.adapters.slack.settings import SlackSettings
from bot.bank import load_bank
from bot.config import Secret
from bot.engine import PlaceRef, QuestionCard, QuizEngine
from bot.engine.ports import Clock
from bot.engine.questions import QuestionBank
from bot.runtime import settle_memory
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from bot.store.tables import daily_posts, rounds
from tests.fakes.discord_server import Channel as DiscordChannel
from tests.fakes.discord_server import FakeDiscord, Perm, RequestRecord, StoredMessage, pointed_at
from tests.fakes.slack_server import FakeSlack
from tests.fakes.slack_server import _Ctx as SlackCall

NOW = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)  # 09:00 in Berlin; the clock never moves
AT, ZONE = "09:00", "Europe/Berlin"
STALL = 10.0  # seconds without a new post after the first tick: the run is over
LOOP_INTERVAL = 3600.0  # no second tick while a run is measured (the bot's default is 5 s)
DISCORD_GLOBAL_LIMIT = 50  # requests per second per bot, Discord's documented global limit
BOT_LOGGERS = ("discord", "slack_bolt", "slack_sdk")
LATER_TICKS = (  # when the engine-alone run ticks again, all posted; the loops tick every 5 s
    ("the next tick (09:00 local, inside the 2 h grace window)", NOW),
    ("a tick at 15:00 local (grace window over)", NOW + timedelta(hours=6)),
)


@dataclass(frozen=True)
class Options:
    channels: int
    seed: int
    discord_global_limit: int  # 0: no limited Discord run
    workdir: Path | None


# -- figures ---------------------------------------------------------------------------


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest value with ``pct`` percent at or below it."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def peak_per_second(moments: Sequence[float]) -> int:
    """The most moments that fall inside any one-second window."""
    ordered, start, best = sorted(moments), 0, 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best


@dataclass
class Tick:
    started: float
    seconds: float
    cards: int


def fixed_clock(moment: datetime) -> Clock:
    return lambda: moment


class TimedEngine(QuizEngine):
    """The real engine; each ``run_daily`` call (a tick of an adapter's daily loop) is timed."""

    ticks: list[Tick]
    first_tick: float | None

    def start_timing(self) -> None:
        self.ticks, self.first_tick = [], None

    async def run_daily(
        self,
        platform: str,
        claimer: str,
        grace: timedelta | None = None,
        on_card: Callable[[QuestionCard], Awaitable[None]] | None = None,
    ) -> list[QuestionCard]:
        started = time.monotonic()
        if self.first_tick is None:
            self.first_tick = started
        cards = await super().run_daily(platform, claimer, grace, on_card)
        self.ticks.append(Tick(started, time.monotonic() - started, len(cards)))
        return cards


class Transactions:
    """Counts the store's transactions (SQLAlchemy ``begin`` on the write and read engines)."""

    def __init__(self, database: Database) -> None:
        self.writes = self.reads = 0
        event.listen(database.write_engine.sync_engine, "begin", self._write)
        if database.read_engine is not database.write_engine:
            event.listen(database.read_engine.sync_engine, "begin", self._read)

    def _write(self, _connection: Any) -> None:
        self.writes += 1

    def _read(self, _connection: Any) -> None:
        self.reads += 1

    def snapshot(self) -> tuple[int, int]:
        return self.writes, self.reads


@dataclass
class World:
    database: Database
    store: SqlStore
    engine: TimedEngine
    transactions: Transactions


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextlib.asynccontextmanager
async def fresh_world(path: Path, bank: QuestionBank, seed: int) -> AsyncIterator[World]:
    remove_database(path)  # a --workdir kept from an earlier run
    database = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(database)
    store = SqlStore(database)
    engine = TimedEngine(store, bank, clock=fixed_clock(NOW), rng=random.Random(seed))
    engine.start_timing()
    try:
        yield World(database, store, engine, Transactions(database))
    finally:
        await store.close()


async def schedule_all(engine: QuizEngine, places: Sequence[PlaceRef], created_by: str) -> None:
    for place in places:
        await engine.set_daily(place, AT, created_by=created_by, timezone=ZONE)


@dataclass(frozen=True)
class Recorded:
    daily_rounds: dict[int, str]  # round id -> its message_ref ("" if none), per claim marked posted
    skipped: int  # claims of yesterday's post, whose grace window had passed: marked skipped
    other: int  # claims in any other state (still "claimed": a post never opened)

    @property
    def posted(self) -> int:
        return len(self.daily_rounds)

    @property
    def message_refs(self) -> int:
        return sum(1 for ref in self.daily_rounds.values() if ref)

    def ok(self, expected: int) -> bool:
        return self.posted == self.message_refs == expected and self.other == 0

    def describe(self) -> str:
        return (
            f"claims: {self.posted:,} posted, {self.skipped:,} skipped (yesterday), {self.other} other; "
            f"{self.message_refs:,} posts recorded on their round"
        )


async def recorded(store: SqlStore) -> Recorded:
    query = (
        select(daily_posts.c.round_id, daily_posts.c.status, rounds.c.message_ref)
        .select_from(daily_posts)
        .outerjoin(rounds, rounds.c.id == daily_posts.c.round_id)
    )
    async with store.db.read() as conn:
        rows = (await conn.execute(query)).all()
    posted = {int(r.round_id): str(r.message_ref or "") for r in rows if r.status == "posted"}
    skipped = sum(1 for r in rows if r.status == "skipped")
    return Recorded(posted, skipped, len(rows) - len(posted) - skipped)


async def wait_recorded(store: SqlStore, expected: int, timeout: float) -> Recorded:  # noqa: ASYNC109
    """Waits until every post is recorded on its round (attach_message follows the post)."""
    deadline = time.monotonic() + timeout
    while True:
        found = await recorded(store)
        if found.message_refs >= expected or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


@contextlib.contextmanager
def quiet_platform_logs() -> Iterator[None]:
    """discord.py warns on every 429 ("We are being rate limited"); they are counted instead.
    Errors still show."""
    saved = [(logging.getLogger(name), logging.getLogger(name).level) for name in BOT_LOGGERS]
    for logger, _ in saved:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in saved:
            logger.setLevel(level)


# -- the fakes, stamped ----------------------------------------------------------------


class BenchDiscord(FakeDiscord):
    """The tests' fake Discord; stamps stored messages, times its handlers and, when
    ``global_limit`` is set, answers 429 (global) beyond that many requests per second."""

    def __init__(self, global_limit: int = 0) -> None:
        super().__init__()
        self.global_limit = global_limit
        self.posted: list[tuple[float, int, str | None]] = []  # arrival, channel id, nonce
        self.handler_seconds = 0.0
        self._window: deque[float] = deque()

    def _store_message(
        self,
        channel: DiscordChannel,
        payload: dict[str, Any],
        uploads: Sequence[Any],
        *,
        msg_type: int = 0,
        interaction: Any = None,
        flags: int = 0,
    ) -> StoredMessage:
        message = super()._store_message(
            channel, payload, uploads, msg_type=msg_type, interaction=interaction, flags=flags
        )
        self.posted.append((time.monotonic(), channel.id, message.nonce))
        return message

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        try:
            return await super()._handle_rest(request)
        finally:
            self.handler_seconds += time.monotonic() - started

    async def _respond(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        if self.global_limit and not record.path.startswith(("/interactions/", "/webhooks/")):
            now = time.monotonic()
            while self._window and self._window[0] <= now - 1.0:
                self._window.popleft()
            if len(self._window) >= self.global_limit:
                await request.read()  # the body is read, as Discord does, before the answer
                wait = self._window[0] + 1.0 - now
                body = {"message": "You are being rate limited.", "retry_after": wait, "global": True}
                headers = {
                    "Content-Type": "application/json",
                    "Via": "1.1 google",  # discord.py trusts only 429s that came through Discord's proxy
                    "Retry-After": str(math.ceil(wait)),
                    "X-RateLimit-Global": "true",
                    "X-RateLimit-Scope": "global",
                }
                return web.Response(status=429, body=json.dumps(body).encode(), headers=headers)
            self._window.append(now)
        return await super()._respond(request, record)


class BenchSlack(FakeSlack):
    """The tests' fake Slack; stamps posted messages and times its handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: list[tuple[float, str, int | None]] = []  # arrival, channel, round id
        self.handler_seconds = 0.0

    async def _chat_post_message(self, ctx: SlackCall) -> dict[str, Any]:
        body = await super()._chat_post_message(ctx)
        metadata = body["message"].get("metadata") or {}
        round_id = (metadata.get("event_payload") or {}).get("round_id")
        self.posted.append((time.monotonic(), str(body["channel"]), round_id))
        return body

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        try:
            return await super()._handle_api(request)
        finally:
            self.handler_seconds += time.monotonic() - started


# -- the runs --------------------------------------------------------------------------


@dataclass(frozen=True)
class LaterTick:
    label: str
    seconds: float
    txns: tuple[int, int]  # (write, read)
    cards: int


@dataclass
class Baseline:
    run_daily_seconds: float
    per_card_seconds: float
    ready_s: list[float]  # per card: attach_message done, from the tick's start
    run_daily_txns: tuple[int, int]  # (write, read)
    per_card_txns: tuple[int, int]
    later: list[LaterTick]  # ticks after everything was posted: nothing is due
    cards: int
    recorded: Recorded

    @property
    def total(self) -> float:
        return self.run_daily_seconds + self.per_card_seconds

    def ok(self, expected: int) -> bool:
        return self.cards == expected and not any(t.cards for t in self.later) and self.recorded.ok(expected)


@dataclass
class PlatformRun:
    label: str
    expected: int
    seconds: float  # first tick -> the last question stored by the fake
    first_tick_seconds: float  # run_daily's duration in that first tick
    first_post_s: float  # first tick -> first question stored
    latencies_s: list[float]  # per question: stored by the fake - first tick
    post_requests: int  # POSTs of a message the fake received (retries included)
    too_many: int  # 429s the fake answered
    peak_per_second: int  # most message POSTs answered without a 429 inside one second
    handler_seconds: float  # time spent inside the fake's request handlers
    per_channel: Counter[str]  # questions stored per bench channel
    elsewhere: int  # messages outside the bench channels
    round_ids: Counter[int]  # questions stored per round id (nonce / metadata)
    recorded: Recorded
    timed_out: bool
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def missing(self) -> int:
        return sum(1 for n in self.per_channel.values() if n == 0)

    @property
    def duplicated(self) -> int:
        return sum(n - 1 for n in self.per_channel.values() if n > 1)

    @property
    def ok(self) -> bool:
        posted_once = all(n == 1 for n in self.round_ids.values())
        same_rounds = set(self.round_ids) == set(self.recorded.daily_rounds)
        return (
            not self.timed_out
            and sum(self.per_channel.values()) == self.expected
            and self.missing == 0
            and self.duplicated == 0
            and self.elsewhere == 0
            and len(self.round_ids) == self.expected
            and posted_once
            and same_rounds
            and self.recorded.ok(self.expected)
        )


async def run_baseline(options: Options, folder: Path, bank: QuestionBank) -> Baseline:
    async with fresh_world(folder / "daily-engine.db", bank, options.seed) as world:
        places = [PlaceRef("bench", "guild", f"channel-{n:05d}") for n in range(options.channels)]
        await schedule_all(world.engine, places, "organiser")
        settle_memory()
        engine, store, txns = world.engine, world.store, world.transactions
        before = txns.snapshot()
        cards = await engine.run_daily("bench", "bench-engine")
        assert engine.first_tick is not None
        start = engine.first_tick
        after_tick = txns.snapshot()
        run_daily_seconds = time.monotonic() - start
        ready: list[float] = []
        for index, card in enumerate(cards):  # what _post_daily_card does, minus the platform
            round_ = await store.get_round(card.round_id)
            assert round_ is not None
            await engine.attach_message(card.round_id, f"bench:{round_.place.channel}:{index}")
            ready.append(time.monotonic() - start)
        per_card_seconds = time.monotonic() - start - run_daily_seconds
        after_cards = txns.snapshot()
        later: list[LaterTick] = []
        for label, moment in LATER_TICKS:
            engine.clock = fixed_clock(moment)
            tick_before, tick_started = txns.snapshot(), time.monotonic()
            idle = await engine.run_daily("bench", "bench-engine")
            tick_seconds, tick_after = time.monotonic() - tick_started, txns.snapshot()
            txn_delta = (tick_after[0] - tick_before[0], tick_after[1] - tick_before[1])
            later.append(LaterTick(label, tick_seconds, txn_delta, len(idle)))
        found = await recorded(store)
    return Baseline(
        run_daily_seconds=run_daily_seconds,
        per_card_seconds=per_card_seconds,
        ready_s=ready,
        run_daily_txns=(after_tick[0] - before[0], after_tick[1] - before[1]),
        per_card_txns=(after_cards[0] - after_tick[0], after_cards[1] - after_tick[1]),
        later=later,
        cards=len(cards),
        recorded=found,
    )


async def wait_posted(
    posted: Sequence[tuple[float, Any, Any]],
    expected: int,
    engine: TimedEngine,
    timeout: float,  # noqa: ASYNC109
    client: asyncio.Task[None] | None = None,
) -> bool:
    """Waits until ``expected`` questions are stored; False when the client stopped, when
    nothing arrived for STALL seconds after the first tick ended, or after ``timeout``."""
    deadline = time.monotonic() + timeout
    while len(posted) < expected:
        now = time.monotonic()
        if now > deadline or (client is not None and client.done()):
            return False
        if engine.ticks:  # the first tick is over: posts should keep coming
            first = engine.ticks[0]
            progress = max(first.started + first.seconds, posted[-1][0] if posted else 0.0)
            if now - progress > STALL:
                return False
        await asyncio.sleep(0.02)
    return True


def run_timeout(channels: int, global_limit: int) -> float:
    """Generous: a stall shows as missing posts, not as a hung benchmark."""
    paced = channels / global_limit if global_limit else 0.0
    return 60.0 + channels * 0.15 + 2 * paced


async def run_discord(options: Options, folder: Path, bank: QuestionBank, global_limit: int) -> PlatformRun:
    name = "daily-discord-limited.db" if global_limit else "daily-discord.db"
    fake = BenchDiscord(global_limit)
    async with fresh_world(folder / name, bank, options.seed) as world, fake:
        guild = fake.guild
        channels = [fake.add_channel(guild.id, f"daily-{n:05d}") for n in range(options.channels)]
        if any(not fake.permissions_for(fake.bot_user.id, c.id) & Perm.SEND_MESSAGES for c in channels):
            raise RuntimeError("the bot cannot post in the fake's channels")
        places = [PlaceRef("discord", str(guild.id), str(c.id)) for c in channels]
        await schedule_all(world.engine, places, str(fake.admin.user.id))
        settle_memory()
        expected = len(channels)
        with pointed_at(fake), quiet_platform_logs():
            settings = DiscordSettings(token=Secret(fake.token))
            client = make_client(
                world.engine, settings, close_interval=LOOP_INTERVAL, guild_ready_timeout=0.05
            )
            task = asyncio.create_task(client.start(fake.token))  # setup_hook starts the daily loop
            timed_out = not await wait_posted(
                fake.posted, expected, world.engine, run_timeout(expected, global_limit), task
            )
            if task.done() and not task.cancelled() and task.exception() is not None:
                print(f"    the discord client stopped: {task.exception()!r}")
                timed_out = True
            found = await wait_recorded(world.store, expected, 2.0 if timed_out else 10.0)
            await client.close()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(task, 10)
        engine = world.engine
        start = engine.first_tick if engine.first_tick is not None else math.nan
        ours = {c.id for c in channels}
        per_channel: Counter[str] = Counter({str(c.id): len(fake.messages(c.id)) for c in channels})
        elsewhere = sum(1 for _, channel_id, _ in fake.posted if channel_id not in ours)
        nonces: Counter[int] = Counter(
            int(nonce[1:])
            for _, channel_id, nonce in fake.posted
            if channel_id in ours and nonce and nonce.startswith("q")
        )
        posts = fake.requests_to("POST", r"/channels/\d+/messages")
        moments = [at for at, channel_id, _ in fake.posted if channel_id in ours]
        label = (
            f"discord, global limit {global_limit} req/s"
            if global_limit
            else "discord, no rate limit enforced"
        )
        return PlatformRun(
            label=label,
            expected=expected,
            seconds=max(moments, default=math.nan) - start,
            first_tick_seconds=engine.ticks[0].seconds if engine.ticks else math.nan,
            first_post_s=min(moments, default=math.nan) - start,
            latencies_s=[at - start for at in moments],
            post_requests=len(posts),
            too_many=sum(1 for r in fake.requests if r.status == 429),
            peak_per_second=peak_per_second([r.at for r in posts if r.status != 429]),
            handler_seconds=fake.handler_seconds,
            per_channel=per_channel,
            elsewhere=elsewhere,
            round_ids=nonces,
            recorded=found,
            timed_out=timed_out,
            extra={"requests": len(fake.requests), "global_limit": global_limit},
        )


async def run_slack(options: Options, folder: Path, bank: QuestionBank) -> PlatformRun:
    fake = BenchSlack()
    async with (
        fresh_world(folder / "daily-slack.db", bank, options.seed) as world,
        fake,
        aiohttp.ClientSession() as session,
    ):
        channels = [fake.add_channel(f"CB{n:07d}", f"daily-{n:05d}") for n in range(options.channels)]
        places = [PlaceRef("slack", fake.team.id, c.id) for c in channels]
        await schedule_all(world.engine, places, fake.admin.id)
        settle_memory()
        expected = len(channels)
        settings = SlackSettings(
            signing_secret=Secret("bench-signing-secret"), bot_token=Secret("xoxb-test"), api_url=fake.api_url
        )
        with quiet_platform_logs():
            adapter = build_slack(world.engine, world.store, settings, session, close_interval=LOOP_INTERVAL)
            adapter.quiz.start()  # the closer and the daily loop
            timed_out = not await wait_posted(fake.posted, expected, world.engine, run_timeout(expected, 0))
            found = await wait_recorded(world.store, expected, 2.0 if timed_out else 10.0)
            await adapter.quiz.stop()
        engine = world.engine
        start = engine.first_tick if engine.first_tick is not None else math.nan
        ours = {c.id for c in channels}
        per_channel: Counter[str] = Counter(
            {c.id: sum(1 for m in fake.messages(c.id) if m.thread_ts is None) for c in channels}
        )
        elsewhere = sum(1 for _, channel, _ in fake.posted if channel not in ours)
        round_ids: Counter[int] = Counter(
            int(r) for _, channel, r in fake.posted if channel in ours and r is not None
        )
        posts = fake.calls_to("chat.postMessage")
        moments = [at for at, channel, _ in fake.posted if channel in ours]
        return PlatformRun(
            label="slack",
            expected=expected,
            seconds=max(moments, default=math.nan) - start,
            first_tick_seconds=engine.ticks[0].seconds if engine.ticks else math.nan,
            first_post_s=min(moments, default=math.nan) - start,
            latencies_s=[at - start for at in moments],
            post_requests=len(posts),
            too_many=sum(1 for c in fake.calls if c.status == 429),
            peak_per_second=peak_per_second([c.at for c in posts if c.status != 429]),
            handler_seconds=fake.handler_seconds,
            per_channel=per_channel,
            elsewhere=elsewhere,
            round_ids=round_ids,
            recorded=found,
            timed_out=timed_out,
            extra={"requests": len(fake.calls)},
        )


# -- output ----------------------------------------------------------------------------


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.1f}" if seconds > 0 else "n/a"


def print_baseline(base: Baseline, channels: int) -> None:
    writes, reads = base.run_daily_txns
    print("  engine alone   QuizEngine.run_daily + the adapters' per-card store calls, no platform")
    print(
        f"    run_daily, one tick          {base.run_daily_seconds:>8.2f} s   ({base.cards:,} rounds opened, "
        f"{_rate(base.cards, base.run_daily_seconds)}/s; {writes:,} write + {reads:,} read "
        f"transactions, {(writes + reads) / max(base.cards, 1):.1f} per schedule)"
    )
    writes, reads = base.per_card_txns
    print(
        f"    get_round + attach_message   {base.per_card_seconds:>8.2f} s   (one card after the "
        f"other, as the loops post; {writes:,} write + {reads:,} read transactions)"
    )
    print(
        f"    total                        {base.total:>8.2f} s   ({_rate(base.cards, base.total)} cards/s)"
    )
    print(
        f"    ready p50 / p99              {percentile(base.ready_s, 50):>8.2f} / "
        f"{percentile(base.ready_s, 99):.2f} s after the tick began (cards collected, then "
        f"handled one after the other)"
    )
    print("    later ticks, nothing due (the loops tick every 5 s; each schedule is looked at again)")
    for tick in base.later:
        writes, reads = tick.txns
        print(
            f"      {tick.label:<58} {tick.seconds:>6.2f} s  ({tick.cards} cards; {writes:,} write + "
            f"{reads:,} read transactions, {writes / max(channels, 1):.1f} writes per schedule)"
        )
    print(
        f"    check                        {base.cards:,} cards for {channels:,} schedules; "
        f"{base.recorded.describe()} -> {'ok' if base.ok(channels) else 'FAILED'}"
    )


def print_platform(run: PlatformRun, base: Baseline) -> None:
    print(f"  {run.label}")
    if run.timed_out:
        print(f"    TIMED OUT: {sum(run.per_channel.values()):,} of {run.expected:,} questions arrived")
    print(
        f"    all posted in                {run.seconds:>8.2f} s   ({_rate(run.expected, run.seconds)} "
        f"posts/s, from the first tick to the last question stored by the fake)"
    )
    after = max(0.0, run.seconds - run.first_tick_seconds)
    print(
        f"      the first tick             {run.first_tick_seconds:>8.2f} s   (opening each round and "
        f"posting it at once; engine alone, opening only: {base.run_daily_seconds:.2f} s; "
        f"inside the fake's handlers {run.handler_seconds:.2f} s)"
    )
    print(f"      after the first tick       {after:>8.2f} s   (posts still arriving when it returned)")
    print(
        f"    post - scheduled minute      p50 {percentile(run.latencies_s, 50):.2f} s, p99 "
        f"{percentile(run.latencies_s, 99):.2f} s, first {run.first_post_s:.2f} s, last "
        f"{max(run.latencies_s, default=math.nan):.2f} s"
    )
    limit = run.extra.get("global_limit")
    if limit:
        pacing = (
            f"the fake enforced a global limit of {limit} req/s; discord.py waited out each 429 "
            f"(Retry-After) and retried"
        )
    elif run.label.startswith("discord"):
        paced = run.peak_per_second <= DISCORD_GLOBAL_LIMIT
        pacing = (
            "no limit enforced; discord.py "
            + ("stayed" if paced else "did NOT pace itself: it went")
            + f" {'within' if paced else 'beyond'} Discord's {DISCORD_GLOBAL_LIMIT} req/s global limit"
        )
    else:
        pacing = "no limit enforced (the fake Slack has none; slack_sdk would retry a 429 after Retry-After)"
    print(
        f"    429s answered                {run.too_many:>8,}     ({run.post_requests:,} message POSTs, "
        f"{run.extra.get('requests', 0):,} requests in all; at most {run.peak_per_second} POSTs "
        f"accepted in one second; {pacing})"
    )
    print(
        f"    vs engine alone              {run.seconds / base.total:>8.2f}x  total time "
        f"({run.seconds:.2f} / {base.total:.2f} s); platform share {1 - base.total / run.seconds:.0%}"
    )
    posted_once = sum(1 for n in run.round_ids.values() if n == 1)
    rec = run.recorded
    print(
        f"    check                        {sum(run.per_channel.values()):,} questions in "
        f"{sum(1 for n in run.per_channel.values() if n):,} of {run.expected:,} channels; "
        f"{run.missing} missing, {run.duplicated} duplicated, {run.elsewhere} elsewhere; "
        f"{len(run.round_ids):,} rounds posted ({posted_once:,} once), "
        f"{'the same as' if set(run.round_ids) == set(rec.daily_rounds) else 'NOT the same as'} "
        f"the {rec.posted:,} daily rounds; {rec.describe()} -> "
        f"{'ok' if run.ok else 'FAILED'}"
    )


def run(options: Options) -> bool:
    """Run the benchmark, print its figures; True when the correctness checks pass."""
    print(
        f"daily posts: {options.channels:,} channels, each with a daily question at {AT} {ZONE}, all "
        f"due in the same minute (clock fixed at {NOW:%Y-%m-%d %H:%M} UTC), seed {options.seed}; "
        + ", ".join(
            f"{name} {version(name)}" for name in ("discord.py", "slack_bolt", "slack_sdk", "aiohttp")
        )
    )
    bank = load_bank()
    with tempfile.TemporaryDirectory(prefix="quizbot-bench-") as scratch:
        folder = options.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        base = asyncio.run(run_baseline(options, folder, bank))
        print_baseline(base, options.channels)
        runs = [asyncio.run(run_discord(options, folder, bank, 0))]
        print_platform(runs[-1], base)
        if options.discord_global_limit:
            runs.append(asyncio.run(run_discord(options, folder, bank, options.discord_global_limit)))
            print_platform(runs[-1], base)
        runs.append(asyncio.run(run_slack(options, folder, bank)))
        print_platform(runs[-1], base)
    ok = base.ok(options.channels) and all(r.ok for r in runs)
    print(f"  correctness: {'ok' if ok else 'FAILED'}")
    return ok


def add_arguments(parser: argparse.ArgumentParser, *, common: bool = True) -> None:
    group = parser.add_argument_group("daily posts")
    group.add_argument(
        "--daily-channels",
        type=int,
        default=None,
        help="channels, each with a daily question due in the same minute (default 1000; quick 100)",
    )
    group.add_argument(
        "--discord-global-limit",
        type=int,
        default=DISCORD_GLOBAL_LIMIT,
        help="requests/s the fake Discord allows in the second Discord run, 429 beyond; "
        f"0 skips that run (default {DISCORD_GLOBAL_LIMIT})",
    )
    if common:
        parser.add_argument("--quick", action="store_true", help="a small run for smoke checks")
        parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
        group.add_argument(
            "--workdir",
            type=Path,
            default=None,
            help="keep the daily-*.db files here instead of a deleted temp dir",
        )


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        channels=args.daily_channels or (100 if args.quick else 1000),
        seed=args.seed,
        discord_global_limit=max(0, args.discord_global_limit),
        workdir=getattr(args, "workdir", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    add_arguments(parser)
    ok = run(options_from(parser.parse_args(argv)))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
