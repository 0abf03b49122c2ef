"""Start-up: how long ``quizbot run`` takes until every part is ready, and how much
memory it holds, with both adapters connected to the fakes in ``tests/fakes`` and 1,000
learners' standings in the database.

Outside the timed part, a SQLite file is migrated with ``bot.store.migrate.upgrade`` and
seeded through the real ``QuizEngine``: on the fake Discord guild's channel and on the
fake Slack workspace's channel, ``--rounds`` rounds are opened with ``engine.ask``,
answered by every one of ``--learners`` learners (right or wrong at random, seeded), then
closed and marked revealed, so each platform's boards hold that many standings rows and
nothing is left for the bot to post at start-up. The fakes' default members ("bob") are
among the learners.

Each of ``--runs`` runs starts from a copy of that file: ``python -m bot run`` is spawned
(``sys.executable``, the project on ``PYTHONPATH``) with Discord pointed at the fake
gateway and REST API (``DISCORD_API_BASE_URL``, ``DISCORD_GATEWAY_URL``) and Slack over
HTTP on a free port (``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_API_URL``,
``QUIZBOT_HTTP_PORT``), as the tests start it. Times are measured from the spawn to:

* the first request each fake receives (the process is up: imports, bank, migrations);
* the Discord IDENTIFY on the fake gateway;
* each part's ready line on stderr ("discord adapter ready as …", "slack adapter ready");
* health: ``bot.health.check`` (what ``quizbot health`` runs) on the same file, polled
  every 20 ms, says every part is connected.

Then a little traffic: ``/quiz leaderboard all``, ``/quiz leaderboard week`` and
``/quiz stats`` on each platform, so the 1,000-learner boards are read (checked: the
viewer's rank is "of 1,000"), and ``quizbot health`` itself (exit 0). Resident memory
(``VmRSS``, and the peak ``VmHWM``, from ``/proc/PID/status``) is sampled once ready and
again after the traffic. Then SIGTERM, and the exit status must be 0.

Baselines, interleaved with the runs: ``python -c pass``; ``python -c "import discord,
slack_bolt, sqlalchemy, aiosqlite"``; and the modules ``quizbot run`` imports, with
nothing run. Each child prints its own ``VmRSS``/``VmHWM`` at the end; its time is from
spawn to exit. One more run, not counted, is made with ``-X importtime`` to show where
start-up goes.

Correctness checks (exit status 1 when one fails): both ready lines appear, health says
ok, every reply names the right rank total, ``quizbot health`` exits 0 while the bot runs,
and the bot exits 0 on SIGTERM.

Run: ``python -m bench.startup`` (or ``python bench/startup.py``) from the repository root;
``--quick`` for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # python bench/startup.py: the repository root holds tests/
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import standalone
from bench.answer_path import add_common_arguments
from bot.bank import load_bank
from bot.engine import LearnerRef, PlaceRef, QuestionCard, QuizEngine
from bot.health import check
from bot.store import Database, SqlStore
from bot.store.migrate import upgrade
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack, SlackClientSim
from tests.helpers.discord_reply import followup_text
from tests.helpers.health import health

REPO = Path(__file__).resolve().parent.parent
SIGNING_SECRET = "bench-signing-secret"
SLACK_TOKEN = "xoxb-test"  # the fake workspace's bot token
READY_TIMEOUT = 60.0  # seconds: a run that is not ready by then fails its check
TARGET_READY_S = 2.0
TARGET_RSS_MB = 150.0
RANK = re.compile(r"rank ([\d,.]+) of ([\d,.]+)")
DISCORD_READY = "discord adapter ready as"
SLACK_READY = "slack adapter ready"
STATUS_PROBE = (
    "import sys\n"
    "status = open('/proc/self/status').read()\n"
    "sys.stdout.write(''.join(l for l in status.splitlines(True) if l.startswith(('VmRSS', 'VmHWM'))))\n"
)
BASELINES = (
    ("python -c pass", ""),
    (
        "import discord, slack_bolt, sqlalchemy, aiosqlite",
        "import discord, slack_bolt, sqlalchemy, aiosqlite\n",
    ),
    (
        "the modules quizbot run imports, nothing run",
        "import bot.cli, bot.runtime, bot.health, bot.logs, bot.adapters.discord.client, "
        "bot.adapters.slack.runner\n",
    ),
)


@dataclass(frozen=True)
class Options:
    runs: int
    learners: int
    rounds: int
    seed: int
    workdir: Path | None


# -- figures ---------------------------------------------------------------------------


def mb(kib: float) -> float:
    """/proc reports kB (KiB); the targets speak of MB (10^6 bytes)."""
    return kib * 1024 / 1e6


def memory_of(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB of a running process."""
    return parse_status(Path(f"/proc/{pid}/status").read_text())


def parse_status(text: str) -> tuple[int, int]:
    values = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0])
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


def median_max(values: Sequence[float]) -> tuple[float, float]:
    return (statistics.median(values), max(values)) if values else (float("nan"), float("nan"))


def remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The caller's environment without any bot settings, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "SLACK_", "QUIZBOT_")) and k != "PYTHONPROFILEIMPORTTIME"
    }
    return env | {"PYTHONPATH": str(REPO)} | extra


# -- the fakes, stamped ----------------------------------------------------------------


class BenchDiscord(FakeDiscord):
    """The tests' fake Discord; stamps each IDENTIFY."""

    def __init__(self) -> None:
        super().__init__()
        self.identified: list[float] = []

    async def _identify(self, connection: Any, data: dict[str, Any]) -> None:
        self.identified.append(time.monotonic())
        await super()._identify(connection, data)


# -- seeding ---------------------------------------------------------------------------


async def answer_round(
    engine: QuizEngine, place: PlaceRef, learners: Sequence[LearnerRef], rng: random.Random
) -> None:
    card = await engine.ask(place)
    if not isinstance(card, QuestionCard):
        raise RuntimeError(f"a round is already open in {place}")
    right = [o.letter for o in card.options if o.correct]
    wrong = [o.letter for o in card.options if not o.correct]
    plans = []
    for learner in learners:
        if rng.random() < 0.7 or len(wrong) < card.select_count:
            plans.append((learner, right))
        else:
            plans.append((learner, rng.sample(wrong, card.select_count)))
    for start in range(0, len(plans), 250):  # concurrent, as clicks arrive: the writer batches them
        await asyncio.gather(
            *(
                engine.answer(card.round_id, who, letters, place)
                for who, letters in plans[start : start + 250]
            )
        )
    await engine.close(card.round_id)
    await engine.revealed(card.round_id)  # nothing left for the bot to post at start-up


def standings_per_platform(path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        query = (
            "SELECT l.platform, COUNT(DISTINCT s.learner_id) FROM standings s "
            "JOIN learners l ON l.id = s.learner_id GROUP BY l.platform"
        )
        return {platform: count for platform, count in conn.execute(query)}


async def seed(path: Path, options: Options, discord: FakeDiscord, slack: FakeSlack) -> float:
    started = time.perf_counter()
    database = Database(f"sqlite+aiosqlite:///{path}")
    await upgrade(database)
    store = SqlStore(database)
    rng = random.Random(options.seed)
    engine = QuizEngine(store, load_bank(), rng=random.Random(options.seed))
    try:
        discord_place = PlaceRef("discord", str(discord.guild.id), str(discord.channel.id))
        slack_place = PlaceRef("slack", slack.team.id, slack.channel.id)
        discord_learners = [LearnerRef("discord", str(discord.member.user.id), "Bob")] + [
            LearnerRef("discord", str(10**17 + n), f"Learner {n}") for n in range(1, options.learners)
        ]
        slack_learners = [LearnerRef("slack", slack.member.id, "bob")] + [
            LearnerRef("slack", f"UB{n:07d}", f"learner{n}") for n in range(1, options.learners)
        ]
        for place, learners in ((discord_place, discord_learners), (slack_place, slack_learners)):
            for _ in range(options.rounds):
                await answer_round(engine, place, learners, rng)
    finally:
        await store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return time.perf_counter() - started


# -- one run ---------------------------------------------------------------------------


@dataclass
class Run:
    first_discord_request: float = float("nan")
    first_slack_request: float = float("nan")
    identify: float = float("nan")
    discord_ready: float = float("nan")
    slack_ready: float = float("nan")
    healthy: float = float("nan")
    early_reply: float = float("nan")  # a Discord command sent right after IDENTIFY, answered
    rss_ready: tuple[int, int] = (0, 0)  # (VmRSS, VmHWM) KiB
    rss_traffic: tuple[int, int] = (0, 0)
    replies: dict[str, float] = field(default_factory=dict)  # command -> seconds to the reply
    health_command: tuple[int | None, float] = (None, float("nan"))  # exit status, seconds
    stopped_in: float = float("nan")
    exit_status: int | None = None
    problems: list[str] = field(default_factory=list)
    log_tail: list[str] = field(default_factory=list)

    @property
    def ready(self) -> float:
        """Every part ready: both ready lines and health."""
        return max(self.discord_ready, self.slack_ready, self.healthy)

    @property
    def ok(self) -> bool:
        return not self.problems


class StderrWatch:
    """Reads the bot's stderr line by line, stamping the ready lines."""

    def __init__(self, stream: asyncio.StreamReader, started: float, keep_importtime: bool = False) -> None:
        self.started = started
        self.seen: dict[str, float] = {}
        self.lines: list[str] = []
        self.importtime: list[str] = []
        self.keep_importtime = keep_importtime
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            now = time.monotonic() - self.started
            text = line.decode(errors="replace").rstrip()
            if text.startswith("import time:"):
                if self.keep_importtime:
                    self.importtime.append(text)
                continue
            self.lines.append(text)
            for marker in (DISCORD_READY, SLACK_READY):
                if marker in text and marker not in self.seen:
                    self.seen[marker] = now
                    self.changed.set()
        self.changed.set()

    async def wait(self, marker: str, deadline: float) -> float:
        while marker not in self.seen and not self.task.done():
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), max(0.0, deadline - time.monotonic()))
            if time.monotonic() >= deadline:
                break
        return self.seen.get(marker, float("nan"))


async def wait_healthy(database: Database, started: float, deadline: float, process: Any) -> float:
    while time.monotonic() < deadline and process.returncode is None:
        healthy, _ = await check(database)
        if healthy:
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    return float("nan")


def rank_total(text: str) -> int | None:
    found = RANK.search(text)
    return int(re.sub(r"\D", "", found.group(2))) if found else None


async def discord_reply(fake: FakeDiscord, subcommand: str, options: dict[str, Any]) -> str:
    return await followup_text(await fake.slash_command("quiz", options, subcommand=subcommand))


async def slack_reply(fake: FakeSlack, sim: SlackClientSim, text: str) -> str:
    user = fake.member.id
    before = len(fake.ephemerals(fake.channel.id, user))
    delivery = await sim.slash_command(text, user=user)
    if delivery.status != 200:
        raise RuntimeError(f"/quiz {text}: HTTP {delivery.status}")
    await fake.wait_for(lambda: len(fake.ephemerals(fake.channel.id, user)) > before, 15)
    message = fake.ephemerals(fake.channel.id, user)[before]
    return str(message.blocks) + message.text


async def early_reply(discord: BenchDiscord, identifies: int, started: float, deadline: float) -> float:
    """Spawn -> the reply to a ``/quiz leaderboard`` sent as soon as the bot identified on
    the gateway, before discord.py's on_ready: is the Discord part serving already?"""
    while len(discord.identified) <= identifies:
        if time.monotonic() > deadline:
            return float("nan")
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)  # the fake sends READY and GUILD_CREATE right after IDENTIFY
    text = await discord_reply(discord, "leaderboard", {"period": "all"})
    if rank_total(text) is None:
        raise RuntimeError(f"no rank in {text[:200]!r}")
    return time.monotonic() - started


async def traffic(
    run: Run, discord: FakeDiscord, slack: FakeSlack, sim: SlackClientSim, learners: int
) -> None:
    async def timed(label: str, reply: Callable[[], Any], board: bool) -> None:
        started = time.monotonic()
        text = await reply()
        run.replies[label] = time.monotonic() - started
        if board and rank_total(text) != learners:
            run.problems.append(f"{label}: expected a rank of {learners:,}, got {text[:200]!r}")
        if not board and not text.strip():
            run.problems.append(f"{label}: an empty reply")

    await timed(
        "discord leaderboard all", lambda: discord_reply(discord, "leaderboard", {"period": "all"}), True
    )
    await timed(
        "discord leaderboard week", lambda: discord_reply(discord, "leaderboard", {"period": "week"}), True
    )
    await timed("discord stats", lambda: discord_reply(discord, "stats", {}), False)
    await timed("slack leaderboard all", lambda: slack_reply(slack, sim, "leaderboard all"), True)
    await timed("slack leaderboard week", lambda: slack_reply(slack, sim, "leaderboard week"), True)
    await timed("slack stats", lambda: slack_reply(slack, sim, "stats"), False)


async def quizbot_health(env: dict[str, str], cwd: Path) -> tuple[int | None, float, str]:
    """``quizbot health`` as an operator runs it: exit status, seconds, what it said."""
    started = time.monotonic()
    status, said = await health(env, cwd)
    return status, time.monotonic() - started, said.strip()


async def one_run(
    seeded: Path,
    folder: Path,
    options: Options,
    discord: BenchDiscord,
    slack: FakeSlack,
    *,
    importtime: bool = False,
) -> tuple[Run, list[str]]:
    path = folder / "run.db"
    remove_database(path)
    shutil.copyfile(seeded, path)
    port = free_port()
    env = child_env(
        {
            "DISCORD_TOKEN": discord.token,
            "DISCORD_API_BASE_URL": f"{discord.url}/api/v10",
            "DISCORD_GATEWAY_URL": discord.gateway_url,
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "QUIZBOT_HTTP_PORT": str(port),
            "QUIZBOT_DATABASE_URL": f"sqlite:///{path}",
        }
    )
    run = Run()
    discord_requests, slack_calls = len(discord.requests), len(slack.calls)
    identifies = len(discord.identified)
    argv = [sys.executable, *(("-X", "importtime") if importtime else ()), "-m", "bot", "run"]
    database = Database(f"sqlite+aiosqlite:///{path}")
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    watch = StderrWatch(process.stderr, started, keep_importtime=importtime)
    deadline = started + READY_TIMEOUT
    early = None if importtime else asyncio.create_task(early_reply(discord, identifies, started, deadline))
    try:
        healthy, discord_ready, slack_ready = await asyncio.gather(
            wait_healthy(database, started, deadline, process),
            watch.wait(DISCORD_READY, deadline),
            watch.wait(SLACK_READY, deadline),
        )
        run.healthy, run.discord_ready, run.slack_ready = healthy, discord_ready, slack_ready
        if process.returncode is None:
            run.rss_ready = memory_of(process.pid)
        for label, value in (
            ("discord ready line", discord_ready),
            ("slack ready line", slack_ready),
            ("health ok", healthy),
        ):
            if value != value:  # nan: never came
                run.problems.append(f"no {label} within {READY_TIMEOUT:.0f} s")
        new_requests = discord.requests[discord_requests:]
        new_calls = slack.calls[slack_calls:]
        run.first_discord_request = new_requests[0].at - started if new_requests else float("nan")
        run.first_slack_request = new_calls[0].at - started if new_calls else float("nan")
        run.identify = (
            discord.identified[identifies] - started if len(discord.identified) > identifies else float("nan")
        )
        if early is not None:
            try:
                run.early_reply = await early
            except Exception as error:
                run.problems.append(
                    f"/quiz leaderboard right after IDENTIFY: {type(error).__name__}: {error}"
                )
        if not run.problems and not importtime:
            async with SlackClientSim(slack, f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET) as sim:
                try:
                    await traffic(run, discord, slack, sim, options.learners)
                except Exception as error:
                    run.problems.append(f"traffic failed: {type(error).__name__}: {error}")
            if process.returncode is None:
                run.rss_traffic = memory_of(process.pid)
            status, seconds, said = await quizbot_health(env, folder)
            run.health_command = (status, seconds)
            if status != 0:
                run.problems.append(f"quizbot health exited {status}: {said[:200]}")
    finally:
        stopping = time.monotonic()
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 30)
        except TimeoutError:
            process.kill()
            await process.wait()
            run.problems.append("did not stop within 30 s of SIGTERM")
        run.stopped_in = time.monotonic() - stopping
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(watch.task, 5)
        await database.dispose()
    run.exit_status = process.returncode
    if process.returncode != 0:
        run.problems.append(f"exit status {process.returncode} after SIGTERM")
    if any(secret in line for line in watch.lines for secret in (SLACK_TOKEN, SIGNING_SECRET)):
        run.problems.append("a secret appeared in the log")
    run.log_tail = watch.lines[-15:]
    return run, watch.importtime


# -- baselines -------------------------------------------------------------------------


@dataclass
class Sample:
    seconds: float
    rss: int  # KiB, at the end
    hwm: int


async def baseline(code: str) -> Sample:
    env = child_env({})
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code + STATUS_PROBE, env=env, cwd=REPO, stdout=subprocess.PIPE
    )
    out, _ = await process.communicate()
    seconds = time.monotonic() - started
    if process.returncode != 0:
        raise RuntimeError(f"baseline {code!r} exited {process.returncode}")
    rss, hwm = parse_status(out.decode())
    return Sample(seconds, rss, hwm)


# -- import time -----------------------------------------------------------------------


def top_imports(lines: Sequence[str], count: int = 10) -> tuple[list[tuple[str, int, int]], int]:
    """First-level imports (those not imported by another module being imported) by
    cumulative time, and the sum of all of them: (name, self us, cumulative us)."""
    first: list[tuple[str, int, int]] = []
    for line in lines:
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        name = parts[2]
        if name.startswith(" ") and not name.startswith("  "):  # one space after the bar: first level
            first.append((name.strip(), int(parts[0]), int(parts[1])))
    total = sum(c for _, _, c in first)
    return sorted(first, key=lambda row: row[2], reverse=True)[:count], total


def time_load_bank(times: int = 3) -> float:
    """The median of ``load_bank()`` (YAML and schema validation of the bundled bank), which
    ``open_app`` runs at every start, timed in this process after a first call."""
    load_bank()
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        load_bank()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


# -- the whole benchmark ---------------------------------------------------------------


@dataclass
class Results:
    runs: list[Run]
    baselines: dict[str, list[Sample]]
    importtime: list[str]
    seed_seconds: float
    standings: dict[str, int]
    load_bank_seconds: float


async def measure(options: Options, folder: Path) -> Results:
    discord, slack = BenchDiscord(), FakeSlack()
    async with discord, slack:
        seeded = folder / "seeded.db"
        remove_database(seeded)  # a --workdir kept from an earlier run
        seed_seconds = await seed(seeded, options, discord, slack)
        standings = standings_per_platform(seeded)
        baselines: dict[str, list[Sample]] = {label: [] for label, _ in BASELINES}
        runs: list[Run] = []
        warm, _ = await one_run(seeded, folder, options, discord, slack)  # warms the file cache; not counted
        if not warm.ok:
            runs.append(warm)  # a failing set-up shows at once
        else:
            for _ in range(options.runs):
                for label, code in BASELINES:
                    baselines[label].append(await baseline(code))
                run, _ = await one_run(seeded, folder, options, discord, slack)
                runs.append(run)
        _, importtime = await one_run(seeded, folder, options, discord, slack, importtime=True)
    return Results(runs, baselines, importtime, seed_seconds, standings, time_load_bank())


def row(label: str, values: Sequence[float], unit: str = "s", note: str = "") -> str:
    med, top = median_max(values)
    fmt = "{:>8.2f}" if unit == "s" else "{:>8.1f}"
    return f"    {label:<46}{fmt.format(med)} {fmt.format(top)} {unit:<3}{('  ' + note) if note else ''}"


def verdict(target: str, values: Sequence[float], limit: float, unit: str) -> str:
    med, top = median_max(values)
    said = "met" if top <= limit else "met at the median, NOT at the max" if med <= limit else "NOT MET"
    return f"  target {target}: {said} (median {med:.2f} {unit}, max {top:.2f} {unit})"


def report(results: Results, options: Options) -> bool:
    runs = [r for r in results.runs if r.ok]
    failed = [r for r in results.runs if not r.ok]
    print(
        f"  seeded       {options.learners:,} learners x {options.rounds} rounds on each platform "
        f"through QuizEngine.answer in {results.seed_seconds:.1f} s (not timed); standings: "
        + ", ".join(f"{p} {n:,} learners" for p, n in sorted(results.standings.items()))
    )
    for run in failed:
        print("  FAILED run: " + "; ".join(run.problems))
        for line in run.log_tail:
            print(f"      | {line}")
    if not runs:
        print("  no run succeeded")
        return False
    print(f"  {len(runs)} run(s); from spawn, seconds{'':<18}median      max")
    slack_first = [r.first_slack_request for r in runs if r.first_slack_request == r.first_slack_request]
    if slack_first:
        print(row("first request to the fake Slack", slack_first))
    else:
        print(
            f"    {'first request to the fake Slack':<46}none before ready "
            "(Bolt calls auth.test on the first event)"
        )
    print(row("first request to the fake Discord", [r.first_discord_request for r in runs]))
    print(row("discord IDENTIFY on the fake gateway", [r.identify for r in runs]))
    print(row("slack ready line", [r.slack_ready for r in runs]))
    print(
        row(
            "discord ready line",
            [r.discord_ready for r in runs],
            note="(on_ready: discord.py waits guild_ready_timeout, 2 s, after the last GUILD_CREATE)",
        )
    )
    print(
        row(
            "discord replied to a command sent at IDENTIFY",
            [r.early_reply for r in runs],
            note="(/quiz leaderboard all, 50 ms after IDENTIFY: served before on_ready)",
        )
    )
    print(row("health: every part connected", [r.healthy for r in runs]))
    ready = [r.ready for r in runs]
    print(row("ready (every part)", ready))
    since_identify = [r.discord_ready - r.identify for r in runs]
    print(row("  of which IDENTIFY -> discord ready line", since_identify))
    print("  resident memory, MB (10^6 bytes)")
    print(row("VmRSS once ready", [mb(r.rss_ready[0]) for r in runs], "MB"))
    print(row("VmRSS after the traffic", [mb(r.rss_traffic[0]) for r in runs], "MB"))
    print(row("VmHWM (peak) after the traffic", [mb(r.rss_traffic[1]) for r in runs], "MB"))
    print("  traffic, reply after the command was sent (the boards hold the seeded learners)")
    for label in runs[0].replies:
        print(row(label, [r.replies[label] for r in runs]))
    print(row("quizbot health (a process of its own), exit 0", [r.health_command[1] for r in runs]))
    print(row("SIGTERM -> exit 0", [r.stopped_in for r in runs]))
    print("  baselines (interleaved with the runs), spawn -> exit; VmHWM")
    base_seconds: dict[str, float] = {}
    base_hwm: dict[str, float] = {}
    for label, samples in results.baselines.items():
        if not samples:
            continue
        print(
            row(
                label,
                [s.seconds for s in samples],
                note=f"peak {mb(statistics.median(s.hwm for s in samples)):.1f} MB",
            )
        )
        base_seconds[label] = statistics.median(s.seconds for s in samples)
        base_hwm[label] = statistics.median(mb(s.hwm) for s in samples)
    ready_med = statistics.median(ready)
    hwm_med = statistics.median(mb(r.rss_traffic[1]) for r in runs)
    print(
        "  ratios (medians): quizbot run ready / baseline time; quizbot run peak after traffic / "
        "baseline peak"
    )
    for label in base_seconds:
        print(
            f"    vs {label:<52} {ready_med / base_seconds[label]:>7.1f}x time  "
            f"{hwm_med / base_hwm[label]:>5.2f}x memory"
        )
    hwm_all = [mb(r.rss_traffic[1]) for r in runs]
    print(verdict(f"ready <= {TARGET_READY_S:.0f} s", ready, TARGET_READY_S, "s"))
    print(
        f"    without discord.py's guild wait: slack ready line median "
        f"{statistics.median(r.slack_ready for r in runs):.2f} s, discord IDENTIFY median "
        f"{statistics.median(r.identify for r in runs):.2f} s"
    )
    print(verdict(f"resident <= {TARGET_RSS_MB:.0f} MB (peak VmHWM)", hwm_all, TARGET_RSS_MB, "MB"))
    top, total = top_imports(results.importtime)
    if top:
        print(
            f"  import time, one more run with -X importtime (not counted): {total / 1e6:.2f} s in all; "
            f"top {len(top)} first-level imports by cumulative time"
        )
        for name, own, cumulative in top:
            print(f"    {name:<46}{cumulative / 1000:>8.1f} ms  (self {own / 1000:.1f} ms)")
    print(
        f"  load_bank() at start (YAML + schema validation of the bundled bank), timed in the bench "
        f"process: {results.load_bank_seconds * 1000:.0f} ms"
    )
    print(f"  correctness: {'ok' if not failed else 'FAILED'}")
    return not failed


def run(options: Options) -> bool:
    """Run the benchmark, print its figures; True when the correctness checks pass."""
    print(
        f"startup: python -m bot run, Discord (gateway) + Slack (HTTP) against the fakes, "
        f"{options.learners:,} learners' standings, {options.runs} runs, seed {options.seed}; "
        + ", ".join(f"{name} {version(name)}" for name in ("discord.py", "slack_bolt", "sqlalchemy"))
    )
    with tempfile.TemporaryDirectory(prefix="quizbot-bench-") as scratch:
        folder = options.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        results = asyncio.run(measure(options, folder))
    return report(results, options)


def add_arguments(parser: argparse.ArgumentParser, *, common: bool = True) -> None:
    group = parser.add_argument_group("startup")
    group.add_argument(
        "--runs", type=int, default=None, help="timed starts of quizbot run (default 5; quick 2)"
    )
    group.add_argument(
        "--startup-learners",
        type=int,
        default=None,
        help="learners on each platform's boards (default 1000; quick 200)",
    )
    group.add_argument(
        "--startup-rounds", type=int, default=3, help="rounds each learner answered (default 3)"
    )
    if common:
        add_common_arguments(parser)
        group.add_argument(
            "--workdir", type=Path, default=None, help="keep seeded.db and run.db here instead of a temp dir"
        )


def options_from(args: argparse.Namespace) -> Options:
    return Options(
        runs=max(1, args.runs or (2 if args.quick else 5)),
        learners=max(1, args.startup_learners or (200 if args.quick else 1000)),
        rounds=max(1, args.startup_rounds),
        seed=args.seed,
        workdir=getattr(args, "workdir", None),
    )


def main(argv: Sequence[str] | None = None) -> int:
    return standalone(__doc__, add_arguments, lambda args: run(options_from(args)), argv)


if __name__ == "__main__":
    raise SystemExit(main())
