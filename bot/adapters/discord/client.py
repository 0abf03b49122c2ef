"""The discord.py client: connects, syncs the commands, posts rounds and closes them.

Posting and closing use the bot's own channel access, never an interaction token (those
expire after 15 minutes); every post carries a nonce so that a retried request after a
lost response does not post twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from functools import partial
from typing import Any

import discord
import yarl
from discord import app_commands

from bot.adapters.background import FINISH_HANDLING_SECONDS, Backoff, ReminderSender, each, finish, repeat
from bot.adapters.discord import render
from bot.adapters.discord.commands import Quiz, QuizAdmin
from bot.adapters.discord.components import DYNAMIC_ITEMS, AnswerButton, AnswerSelect
from bot.adapters.discord.exam import EXAM_ITEMS, deliver_result
from bot.adapters.discord.interactions import apologise
from bot.adapters.discord.plan import PLAN_ITEMS, send_reminder
from bot.adapters.discord.settings import DiscordSettings
from bot.adapters.discord.translations import QuizTranslator
from bot.engine import QuestionCard, QuizEngine, RevealCard
from bot.engine.cards import ExamResultCard
from bot.i18n import t

log = logging.getLogger(__name__)

CLOSE_INTERVAL_SECONDS = 5.0
# discord.py waits this long after the last server arrived before calling itself ready
# (default 2 s). Servers arrive in one burst after READY; commands are served meanwhile,
# and a server that comes later is still taken in, so waiting 2 s only delays start-up.
GUILD_READY_SECONDS = 0.25
# what the bot needs in a channel, and nothing more (no privileged intents either). Not
# Attach Files: files go only in replies to interactions (the progress chart, a privacy
# export), which are webhook messages that channel permissions do not apply to.
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True, send_messages=True, embed_links=True, read_message_history=True
)


def point_at(settings: DiscordSettings) -> None:
    """Send REST and gateway traffic to a proxy or a test server when configured."""
    if settings.api_base_url:
        discord.http.Route.BASE = settings.api_base_url
    if settings.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


def invite_url(settings: DiscordSettings) -> str:
    return discord.utils.oauth_url(
        settings.application_id, permissions=BOT_PERMISSIONS, scopes=("bot", "applications.commands")
    )


class QuizClientMixin:
    """The quiz behaviour, shared by the plain and the sharded client."""

    engine: QuizEngine
    quiz_settings: DiscordSettings
    tree: app_commands.CommandTree[Any]
    close_interval: float
    _closer: asyncio.Task[None] | None

    def _setup_quiz(
        self,
        engine: QuizEngine,
        settings: DiscordSettings,
        close_interval: float,
        *,
        serve: bool = True,
        schedule: bool = True,
    ) -> None:
        self.engine = engine
        self.serves = serve  # commands and buttons (the gateway)
        self.schedules = schedule  # daily posts, closing rounds and their reveals (REST only)
        self.quiz_settings = settings
        self.close_interval = close_interval
        self._closer = None
        self._daily: asyncio.Task[None] | None = None
        self._reminders: asyncio.Task[None] | None = None
        self.reminders = ReminderSender(engine, "discord", partial(send_reminder, self))
        self._post_backoff: Backoff[QuestionCard] = Backoff(lambda c: c.round_id, base=close_interval)
        self._reveal_backoff: Backoff[RevealCard] = Backoff(lambda r: r.round_id, base=close_interval)
        self._exam_backoff: Backoff[ExamResultCard] = Backoff(lambda r: r.exam_id, base=close_interval)
        self.claimer = f"discord-{os.getpid()}-{id(self):x}"
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(Quiz())
        self.tree.add_command(QuizAdmin())
        self.tree.on_error = self._on_command_error  # type: ignore[method-assign]
        self.ready = asyncio.Event()
        self.on_connection: Callable[[bool], None] = lambda connected: None  # for health
        self.handling: set[asyncio.Task[Any]] = set()  # clicks being handled: a stop lets them finish

    async def setup_hook(self) -> None:
        if self.serves:
            await self._serve_commands()
        if self.schedules:
            self._start_schedule()

    async def _serve_commands(self) -> None:
        self.add_dynamic_items(*DYNAMIC_ITEMS, *EXAM_ITEMS, *PLAN_ITEMS)  # type: ignore[attr-defined]
        await self.tree.set_translator(QuizTranslator())
        if self.quiz_settings.guild_ids:
            for guild_id in self.quiz_settings.guild_ids:
                guild = discord.Object(guild_id)
                self.tree.copy_global_to(guild=guild)
                await self.tree.sync(guild=guild)
        else:
            await self.tree.sync()

    def _start_schedule(self) -> None:
        self._closer = asyncio.get_running_loop().create_task(self._close_due_rounds(), name="discord-closer")
        self._daily = asyncio.get_running_loop().create_task(self._post_daily(), name="discord-daily")
        self._reminders = asyncio.get_running_loop().create_task(
            self.reminders.forever(), name="discord-reminders"
        )

    async def on_ready(self) -> None:
        log.info("discord adapter ready as %s", getattr(self, "user", "?"))
        self.ready.set()
        self.on_connection(True)
        try:
            await self._notice_removals_while_away()
        except Exception:  # the data stays until the next start looks again
            log.exception("could not compare the servers the bot is in with the ones it has data for")

    async def _notice_removals_while_away(self) -> None:
        """READY lists every server the bot is in (this shard's); one it has data for but is
        no longer in removed it while the bot was down, and no GUILD_DELETE will ever come."""
        count = getattr(self, "shard_count", None) or 1
        shards = getattr(self, "shard_ids", None)
        served = set(range(count)) if shards is None else set(shards)

        def mine(workspace: str) -> bool:
            return workspace.isdigit() and (int(workspace) >> 22) % count in served  # Discord's shard formula

        present = (str(guild.id) for guild in self.guilds)  # type: ignore[attr-defined]
        gone = await self.engine.departed_while_away("discord", present, mine)
        if gone:
            log.info(
                "removed from %d server(s) while away; their data is purged after the retention period",
                len(gone),
            )

    async def on_resumed(self) -> None:
        self.on_connection(True)

    async def on_disconnect(self) -> None:
        self.on_connection(False)

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        """Removed from a server (an outage is ``on_guild_unavailable``, not this): its data
        is purged once the retention period has passed, unless the bot is added back."""
        await self.engine.record_departure("discord", str(guild.id))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.engine.cancel_departure("discord", str(guild.id))

    async def on_guild_available(self, guild: discord.Guild) -> None:
        # also at every start: a server that removed and re-added the bot while it was down
        await self.engine.cancel_departure("discord", str(guild.id))

    async def close(self) -> None:
        for task in (self._closer, self._daily, self._reminders):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await finish(self.handling, FINISH_HANDLING_SECONDS)
        await super().close()  # type: ignore[misc]

    async def _on_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.CheckFailure):
            return  # the check already told the member why
        if self.is_closed():  # type: ignore[attr-defined]
            log.warning("command %s was not answered: stopping (%s)", interaction.id, error)
            return
        log.error(
            "command %s failed (guild %s, channel %s, user %s)",
            interaction.command.qualified_name if interaction.command else "?",
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            exc_info=error,
        )
        await apologise(interaction)

    def _channel(self, channel_id: int) -> discord.PartialMessageable:
        return self.get_partial_messageable(channel_id)  # type: ignore[attr-defined, no-any-return]

    async def post_question(self, channel_id: int, card: QuestionCard) -> discord.Message:
        """Post a round's question (after the reveal of any round it replaced)."""
        if card.previous_reveal is not None:
            await self.publish_reveal(card.previous_reveal)
        mention = f"<@&{card.mention}>" if card.mention else None
        message = await self._channel(channel_id).send(
            content=mention,
            embed=render.question_embed(card),
            view=render.question_view(card),
            nonce=f"q{card.round_id}",  # a retried post returns the first message instead of a second
            allowed_mentions=discord.AllowedMentions(roles=True, everyone=False, users=False),
        )
        await self.engine.attach_message(card.round_id, f"discord:{channel_id}:{message.id}")
        return message

    async def publish_reveal(self, reveal: RevealCard) -> None:
        """Disable the question's buttons (showing the key) and post the reveal under it."""
        if not reveal.message_ref:
            log.warning("round %s closed without a posted message; no reveal to post", reveal.round_id)
            return
        _, channel_id, message_id = reveal.message_ref.split(":")
        channel = self._channel(int(channel_id))
        question = channel.get_partial_message(int(message_id))
        try:
            await question.edit(view=closed_view(reveal))
        except discord.NotFound:
            log.info("the question of round %s was deleted; posting the reveal alone", reveal.round_id)
        reference = question.to_reference(fail_if_not_exists=False)
        await channel.send(
            embed=render.reveal_embed(reveal), reference=reference, nonce=f"r{reveal.round_id}"
        )
        await self.engine.revealed(reveal.round_id)

    async def _post_daily(self) -> None:
        """Post the daily questions that are due (each claimed by one process only), and any
        round whose post was never recorded (its nonce makes the repeat harmless). Reveals that
        failed are retried the same way by the closing loop (nonce ``r<round>``)."""

        async def post(cards: list[QuestionCard]) -> None:
            await each(
                cards,
                self._post_daily_card,
                lambda c: f"posting the daily question of round {c.round_id}",
                self._post_backoff,
            )

        async def post_once() -> None:
            await self.engine.run_daily("discord", self.claimer, on_card=lambda card: post([card]))
            await post(await self.engine.unposted("discord"))

        await repeat(self.close_interval, post_once, "posting daily Discord questions")

    async def _post_daily_card(self, card: QuestionCard) -> None:
        round_ = await self.engine.store.get_round(card.round_id)
        if round_ is None:
            return
        try:
            await self.post_question(int(round_.place.channel), card)
        except (discord.Forbidden, discord.NotFound) as error:  # channel deleted, no permission, bot removed
            await self.engine.close(card.round_id)
            schedule = await self.engine.daily_schedule(round_.place)
            reason = str(error.text or error.status)
            if await self.engine.stop_daily(round_.place, reason) and schedule is not None:
                await self._tell(schedule.created_by, round_.place, reason)

    async def _tell(self, user_id: str, place: Any, reason: str) -> None:
        """Tell the organiser who set a schedule that it was turned off, privately."""
        with contextlib.suppress(discord.HTTPException, ValueError):
            user = await self.fetch_user(int(user_id))  # type: ignore[attr-defined]
            settings = await self.engine.settings(place)
            await user.send(
                t(
                    self.engine.place_locale(settings),
                    "daily.disabled_dm",
                    channel=f"<#{place.channel}>",
                    reason=reason,
                )
            )

    async def _close_due_rounds(self) -> None:
        async def close_once() -> None:
            due = await self.engine.close_due(platform="discord")
            reveals = due + await self.engine.unrevealed("discord")
            await each(
                reveals,
                self.publish_reveal,
                lambda r: f"posting the reveal of round {r.round_id}",
                self._reveal_backoff,
            )
            await each(
                await self.engine.expire_exams(platform="discord"),
                lambda card: deliver_result(self, card),
                lambda card: f"sending the result of mock exam {card.exam_id}",
                self._exam_backoff,
            )

        await repeat(self.close_interval, close_once, "closing due Discord rounds")


def closed_view(reveal: RevealCard) -> discord.ui.View:
    """The question's controls, disabled, with the right answer(s) highlighted."""
    view = discord.ui.View(timeout=None)
    if len(reveal.correct_letters) == 1:
        for option in reveal.options:
            view.add_item(AnswerButton(reveal.round_id, option.letter, disabled=True, correct=option.correct))
    else:
        options = [
            discord.SelectOption(
                label=render.cut(f"{o.letter}. {o.text}", render.OPTION_LABEL_LIMIT),
                value=o.letter,
                default=o.correct,
            )
            for o in reveal.options
        ]
        count = len(reveal.correct_letters)
        view.add_item(AnswerSelect(reveal.round_id, options, count, None, disabled=True))
    return view


class QuizClient(QuizClientMixin, discord.Client):
    def __init__(
        self,
        engine: QuizEngine,
        settings: DiscordSettings,
        *,
        close_interval: float = CLOSE_INTERVAL_SECONDS,
        serve: bool = True,
        schedule: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(intents=discord.Intents(guilds=True), **options)
        self._setup_quiz(engine, settings, close_interval, serve=serve, schedule=schedule)


class ShardedQuizClient(QuizClientMixin, discord.AutoShardedClient):
    def __init__(
        self,
        engine: QuizEngine,
        settings: DiscordSettings,
        *,
        close_interval: float = CLOSE_INTERVAL_SECONDS,
        serve: bool = True,
        schedule: bool = True,
        **options: Any,
    ) -> None:
        if settings.shard_ids is not None:
            options["shard_ids"] = list(settings.shard_ids)
        super().__init__(intents=discord.Intents(guilds=True), shard_count=settings.shard_count, **options)
        self._setup_quiz(engine, settings, close_interval, serve=serve, schedule=schedule)


def make_client(
    engine: QuizEngine, settings: DiscordSettings, **options: Any
) -> QuizClient | ShardedQuizClient:
    point_at(settings)
    options.setdefault("guild_ready_timeout", GUILD_READY_SECONDS)
    if settings.shard_count:
        return ShardedQuizClient(engine, settings, **options)
    return QuizClient(engine, settings, **options)


async def run_discord(
    engine: QuizEngine,
    settings: DiscordSettings,
    stop: asyncio.Event | None = None,
    on_connection: Callable[[bool], None] | None = None,
    *,
    serve: bool = True,
    schedule: bool = True,
) -> None:
    """Serve until ``stop`` is set (or the connection ends for good). ``on_connection``
    hears each connect, resume and drop (the health check's view).

    ``serve`` connects to the gateway for commands and buttons; ``schedule`` posts daily
    questions and closes rounds. A scheduler-only process never opens the gateway: it
    logs in over REST, which is all posting needs, so it can run beside any number of
    serving processes without taking an identify slot."""
    client = make_client(engine, settings, serve=serve, schedule=schedule)
    if on_connection is not None:
        client.on_connection = on_connection
    async with client:
        if not serve:
            await client.login(settings.token)
            log.info("discord scheduler ready (posting and closing rounds over REST)")
            client.on_connection(True)
            if stop is not None:
                await stop.wait()
            return
        runner = asyncio.create_task(client.start(settings.token))
        if stop is None:
            await runner
            return
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({runner, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if runner.done():
            runner.result()
