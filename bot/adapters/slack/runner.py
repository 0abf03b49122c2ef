"""Start the Slack adapter: one workspace (a bot token) or many (OAuth install), served
over HTTP at /slack/events or through Socket Mode (no public URL needed)."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.oauth.token_rotation.async_rotator import AsyncTokenRotator
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters.slack.app import SlackQuiz, register, web_client
from bot.adapters.slack.installations import DbInstallationStore, DbOAuthStateStore
from bot.adapters.slack.settings import SlackSettings
from bot.engine import QuizEngine
from bot.store import SqlStore

log = logging.getLogger(__name__)


@dataclass
class SlackAdapter:
    app: AsyncApp
    quiz: SlackQuiz
    installations: DbInstallationStore | None


def build_slack(
    engine: QuizEngine,
    store: SqlStore,
    settings: SlackSettings,
    session: aiohttp.ClientSession,
    close_interval: float | None = None,
) -> SlackAdapter:
    client = web_client(settings, session, settings.bot_token)
    installations: DbInstallationStore | None = None
    if settings.multi_workspace:
        assert settings.client_id is not None and settings.client_secret is not None
        installations = DbInstallationStore(store)
        oauth = AsyncOAuthSettings(
            client_id=settings.client_id,
            client_secret=settings.client_secret,
            scopes=list(settings.scopes),
            installation_store=installations,
            state_store=DbOAuthStateStore(store),
            install_path="/slack/install",
            redirect_uri_path="/slack/oauth_redirect",
        )
        # the store given to the app too: Bolt's token rotation then goes through ``client``
        # (SLACK_API_URL), not to slack.com with the refresh token and the client secret
        app = AsyncApp(
            signing_secret=settings.signing_secret,
            oauth_settings=oauth,
            installation_store=installations,
            client=client,
        )
        token_for = fresh_tokens(installations, settings.client_id, settings.client_secret, client)
    else:
        app = AsyncApp(signing_secret=settings.signing_secret, client=client)  # the client carries the token

        async def token_for(team_id: str) -> str | None:
            return settings.bot_token

    options: dict[str, Any] = {} if close_interval is None else {"close_interval": close_interval}
    quiz = SlackQuiz(engine, settings, session, token_for, **options)
    register(app, quiz)
    register_uninstall(app, installations, engine)
    return SlackAdapter(app, quiz, installations)


def fresh_tokens(
    installations: DbInstallationStore, client_id: str, client_secret: str, client: AsyncWebClient
) -> Callable[[str], Awaitable[str | None]]:
    """A workspace's bot token for the bot's own posts (daily questions, reveals), rotated
    first when the app has token rotation turned on and the token expires within two hours,
    as Bolt does for requests it receives; without this, posts no request triggered would
    go out with a token Slack stopped accepting 12 hours after it was issued. One rotation
    per workspace at a time: a refresh token works once."""
    rotator = AsyncTokenRotator(client_id=client_id, client_secret=client_secret, client=client)
    locks: dict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def token_for(team_id: str) -> str | None:
        async with locks[team_id]:
            installation = await installations.async_find_installation(enterprise_id=None, team_id=team_id)
            if installation is None:
                return None
            if installation.bot_refresh_token:
                rotated = await rotator.perform_token_rotation(installation=installation)
                if rotated is not None:
                    await installations.async_save(rotated)
                    installation = rotated
            return installation.bot_token

    return token_for


def register_uninstall(app: AsyncApp, installations: DbInstallationStore | None, engine: QuizEngine) -> None:
    """Uninstalled: the workspace's tokens are deleted at once, and its data once the
    retention period has passed (a new installation before then keeps it). Tokens revoked:
    deleted at once."""

    @app.event("app_uninstalled")
    async def on_uninstalled(body: dict[str, Any]) -> None:
        if installations is not None:
            await installations.async_delete_all(
                enterprise_id=body.get("enterprise_id"), team_id=body.get("team_id")
            )
            log.info("slack app uninstalled from %s; its tokens are deleted", body.get("team_id"))
        if body.get("team_id"):
            await engine.record_departure("slack", str(body["team_id"]))

    if installations is None:
        return

    @app.event("tokens_revoked")
    async def on_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        if (event.get("tokens") or {}).get("bot"):
            await installations.async_delete_bot(
                enterprise_id=body.get("enterprise_id"), team_id=body.get("team_id")
            )
            log.info("slack bot token revoked in %s; deleted", body.get("team_id"))


async def still_installed(app: AsyncApp, engine: QuizEngine) -> None:
    """One workspace's token: if it works, the app is installed there (again), so a departure
    recorded at an uninstall is cancelled. Installable apps learn it from the new installation."""
    try:
        team = (await app.client.auth_test()).get("team_id")
    except Exception:
        log.warning("slack auth.test failed; the workspace's departure (if any) stays", exc_info=True)
        return
    if team:
        await engine.cancel_departure("slack", str(team))


async def serve_http(
    adapter: SlackAdapter,
    host: str,
    port: int,
    healthz: Callable[[], Awaitable[tuple[bool, str]]] | None = None,
) -> tuple[web.AppRunner, int]:
    """Serve /slack/events (and the OAuth pages, and /healthz when given); port 0 picks a
    free one, returned."""
    application = adapter.app.web_app(path="/slack/events")
    if healthz is not None:
        check = healthz

        async def health(_request: web.Request) -> web.Response:
            healthy, why = await check()
            return web.json_response({"healthy": healthy, "detail": why}, status=200 if healthy else 503)

        application.router.add_get("/healthz", health)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server: Any = site._server
    bound = server.sockets[0].getsockname()[1] if server is not None and server.sockets else port
    return runner, int(bound)


async def run_slack(
    engine: QuizEngine,
    store: SqlStore,
    settings: SlackSettings,
    stop: asyncio.Event,
    host: str = "0.0.0.0",
    on_connection: Callable[[bool], None] = lambda connected: None,
    healthz: Callable[[], Awaitable[tuple[bool, str]]] | None = None,
    *,
    serve: bool = True,
    schedule: bool = True,
) -> None:
    """Serve Slack until ``stop`` is set. ``on_connection`` hears when it is connected (Socket
    Mode) or listening (HTTP); in HTTP mode ``healthz`` answers ``GET /healthz``.

    ``serve`` takes events, commands and clicks; ``schedule`` posts daily questions and
    closes rounds, which needs only the Web API: a scheduler-only process listens on no
    port and opens no socket."""
    async with aiohttp.ClientSession() as session:
        adapter = build_slack(engine, store, settings, session)
        if schedule:
            adapter.quiz.start()
        if not settings.multi_workspace:
            await still_installed(adapter.app, engine)
        try:
            if not serve:
                log.info("slack scheduler ready (posting and closing rounds over the Web API)")
                on_connection(True)
                await stop.wait()
            elif settings.socket_mode:
                from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

                handler = AsyncSocketModeHandler(
                    adapter.app, app_token=settings.app_token, web_client=web_client(settings, session)
                )
                await handler.connect_async()  # type: ignore[no-untyped-call]
                log.info("slack adapter ready (Socket Mode)")
                on_connection(True)
                await stop.wait()
                await handler.close_async()  # type: ignore[no-untyped-call]
            else:
                runner, _ = await serve_http(adapter, host, settings.http_port, healthz)
                log.info("slack adapter ready (HTTP on port %s at /slack/events)", settings.http_port)
                on_connection(True)
                await stop.wait()
                await runner.cleanup()
        finally:
            await adapter.quiz.stop()
