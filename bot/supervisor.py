"""`quizbot run`: which parts this process runs, and their life from start to a clean stop.

One process runs everything by default. ``--only`` splits the roles so a deployment can
run, say, two Discord gateway processes and one scheduler on a shared PostgreSQL: the
serving roles take commands and clicks, the scheduler posts daily questions and closes
rounds. Every part works from the database, so any mix of processes serves one round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Coroutine, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.adapters.discord.settings import DiscordSettings
    from bot.adapters.slack.settings import SlackSettings
    from bot.runtime import App

log = logging.getLogger(__name__)

ROLES = ("discord", "slack", "scheduler")
PLATFORMS = ("discord", "slack")
DRAIN_SECONDS = 10.0  # how long answers in flight may take to commit once a stop is asked
HOW_TO_CONFIGURE = {
    "discord": "set DISCORD_TOKEN",
    "slack": "set SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN, "
    "or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET",
}


class RoleError(ValueError):
    """``--only`` asked for a platform that is not configured."""


@dataclass(frozen=True)
class Part:
    platform: str
    serve: bool  # commands, buttons and events
    schedule: bool  # daily posts, closing rounds, reveals

    @property
    def name(self) -> str:
        return self.platform if self.serve else f"{self.platform} scheduler"

    @property
    def label(self) -> str:
        return f"{self.platform} adapter" if self.serve else self.name


def plan_parts(configured: Mapping[str, object | None], only: Sequence[str] = ()) -> list[Part]:
    """The parts this process runs: every configured platform, serving and scheduling,
    unless ``only`` names the roles to keep."""
    roles = set(only or ROLES)
    for role in sorted(set(only) - {"scheduler"}):
        if configured.get(role) is None:
            how = HOW_TO_CONFIGURE[role]
            raise RoleError(f"--only {role}: {role.capitalize()} is not configured ({how})")
    schedule = "scheduler" in roles
    return [
        Part(platform, platform in roles, schedule)
        for platform in PLATFORMS
        if configured.get(platform) is not None and (platform in roles or schedule)
    ]


def _start(
    app: App,
    part: Part,
    discord_settings: DiscordSettings | None,
    slack_settings: SlackSettings | None,
    stop: asyncio.Event,
    connected: Any,
) -> Coroutine[Any, Any, None]:
    from bot.health import check

    if part.platform == "discord":
        from bot.adapters.discord.client import run_discord

        assert discord_settings is not None
        return run_discord(
            app.engine, discord_settings, stop, connected, serve=part.serve, schedule=part.schedule
        )
    from bot.adapters.slack.runner import run_slack

    assert slack_settings is not None
    return run_slack(
        app.engine,
        app.store,
        slack_settings,
        stop,
        on_connection=connected,
        healthz=partial(check, app.store.db),
        serve=part.serve,
        schedule=part.schedule,
    )


async def supervise(
    app: App,
    parts: Sequence[Part],
    discord_settings: DiscordSettings | None,
    slack_settings: SlackSettings | None,
    drain_seconds: float = DRAIN_SECONDS,
) -> int:
    """Run the parts until SIGTERM or SIGINT, then stop in order: refuse new answers, let
    those in flight commit (bounded), close the platform connections, and return 0. A
    second signal skips the wait. A part that fails stops the others; returns 1."""
    from bot.health import Parts, keep_beating

    shutdown, stop = asyncio.Event(), asyncio.Event()

    def on_signal() -> None:
        (stop if shutdown.is_set() else shutdown).set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal)

    async def drain_then_stop() -> None:
        await shutdown.wait()
        log.info("stopping: new answers are refused; %d in flight may finish", app.engine.inflight.running)
        left = await app.engine.shut_down(drain_seconds)
        if left:
            log.warning("%d answer(s) still running after %.0f s; stopping anyway", left, drain_seconds)
        stop.set()

    if not any(part.schedule for part in parts):
        log.info(
            "this process neither posts daily questions nor closes rounds: "
            "run `quizbot run --only scheduler` beside it"
        )
    health = Parts([part.name for part in parts])
    helpers = [
        asyncio.create_task(keep_beating(app.store.db, health), name="heartbeat"),
        asyncio.create_task(drain_then_stop(), name="drain"),
    ]
    if any(part.schedule for part in parts):  # background work: the scheduler's
        from bot.adapters.background import purge_departed_forever

        helpers.append(asyncio.create_task(purge_departed_forever(app.engine), name="retention"))
    tasks = {
        asyncio.create_task(
            _start(app, part, discord_settings, slack_settings, stop, partial(health.set, part.name)),
            name=part.name,
        ): part.label
        for part in parts
    }
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        failed = [task for task in done if not task.cancelled() and task.exception() is not None]
        if failed:  # one part failed: stop the others cleanly, and say which one failed
            stop.set()
            await asyncio.wait(tasks)
    finally:
        for helper in helpers:
            helper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await helper
    for task in failed:
        error = task.exception()
        log.error("the %s stopped", tasks[task], exc_info=error)
        print(f"quizbot run: the {tasks[task]} stopped: {type(error).__name__}: {error}", file=sys.stderr)
    return 1 if failed else 0
