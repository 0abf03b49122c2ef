"""The Slack adapter: a slack-bolt AsyncApp whose listeners ack first, then work.

Every listener acknowledges Slack at once (Bolt returns the HTTP response at ``ack()``),
then calls the engine and answers privately. Posting, closing and revealing rounds use
the bot token of the round's workspace, never a short-lived response URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.adapters import charts, plaintext
from bot.adapters.background import (
    FINISH_HANDLING_SECONDS,
    Backoff,
    ReminderSender,
    each,
    finish,
    repeat,
    tracked,
)
from bot.adapters.chart_worker import draw_png
from bot.adapters.plaintext import personal_data
from bot.adapters.slack import blocks, exam, plan
from bot.adapters.slack.people import People, Person
from bot.adapters.slack.settings import SlackSettings
from bot.engine import (
    FeedbackMode,
    LearnerRef,
    Period,
    PlaceRef,
    QuestionCard,
    QuizEngine,
    RevealCard,
    RoundBusy,
    Scope,
)
from bot.engine.cards import ExamResultCard, GuessOutcome, ProgressCard, SessionSummaryCard
from bot.engine.daily import DAY_NAMES, next_post_after
from bot.engine.locale import resolve_locale
from bot.engine.lru import LruCache
from bot.engine.model import FlagReason
from bot.engine.service import EngineError, SettingRejected
from bot.engine.weak import WEAK
from bot.i18n import t

log = logging.getLogger(__name__)

CLOSE_INTERVAL_SECONDS = 5.0
HOME_START_GUARD_SECONDS = 10.0
TASKS = ("3.1", "3.2", "3.3", "3.4")
CANNOT_POST = {"not_in_channel", "channel_not_found", "is_archived", "restricted_action"}
ANSWER = re.compile(r"^quiz_answer_[A-F]$")
MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_REF = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")
GROUP_REF = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
DAYS_REF = re.compile(
    r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*(?:[-,](?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)*|every|daily"
)

Responder = Callable[..., Awaitable[Any]]


def web_client(
    settings: SlackSettings,
    session: aiohttp.ClientSession,
    token: str | None = None,
    *,
    connection_retries: bool = True,
) -> AsyncWebClient:
    """One shared HTTP session (a new one per call cost a third of the CPU under load),
    and retries on 429 (with Retry-After) and, unless a caller handles them itself, on
    connection errors."""
    handlers: list[Any] = [AsyncRateLimitErrorRetryHandler(max_retry_count=2)]
    if connection_retries:
        handlers.append(AsyncConnectionErrorRetryHandler(max_retry_count=2))
    return AsyncWebClient(
        token=token,
        base_url=settings.api_url or AsyncWebClient.BASE_URL,
        session=session,
        retry_handlers=handlers,
    )


class SlackQuiz:
    """The listeners' shared state: the engine, people cache, event de-duplication."""

    def __init__(
        self,
        engine: QuizEngine,
        settings: SlackSettings,
        session: aiohttp.ClientSession,
        token_for: Callable[[str], Awaitable[str | None]],
        close_interval: float = CLOSE_INTERVAL_SECONDS,
    ):
        self.engine = engine
        self.settings = settings
        self.session = session
        self.people = People()
        self.token_for = token_for  # a workspace's bot token (one install, or the installation store)
        self.close_interval = close_interval
        self._seen_events: LruCache[str, bool] = LruCache(10_000)
        self._home_starts: LruCache[tuple[str, str], float] = LruCache(10_000)
        self._closer: asyncio.Task[None] | None = None
        self._daily: asyncio.Task[None] | None = None
        self._reminders: asyncio.Task[None] | None = None
        self.reminders = ReminderSender(engine, "slack", lambda reminder: plan.send_reminder(self, reminder))
        self.post_backoff: Backoff[QuestionCard] = Backoff(lambda c: c.round_id, base=close_interval)
        self.reveal_backoff: Backoff[RevealCard] = Backoff(lambda r: r.round_id, base=close_interval)
        self.exam_backoff: Backoff[ExamResultCard] = Backoff(lambda r: r.exam_id, base=close_interval)
        self.claimer = f"slack-{os.getpid()}-{id(self):x}"
        self.handling: set[asyncio.Task[Any]] = set()  # work after an ack: a stop lets it finish

    # -- helpers ----------------------------------------------------------------------

    async def learner(
        self, client: AsyncWebClient, team_id: str, user_id: str, name: str = ""
    ) -> tuple[LearnerRef, Person]:
        person = await self.people.get(client, team_id, user_id, name)
        return LearnerRef("slack", user_id, person.name, person.locale), person

    def locale(self, person: Person) -> str:
        return resolve_locale(person.locale, None, self.engine.default_locale)

    async def quick_locale(self, team_id: str, user_id: str, channel: str) -> str:
        """The learner's language if known, else the workspace's: no Slack call."""
        person = self.people.peek(team_id, user_id)
        if person is not None and person.locale:
            return self.locale(person)
        settings = await self.engine.settings(PlaceRef("slack", team_id, channel))
        return self.engine.place_locale(settings)

    async def reply_after_form(
        self,
        client: AsyncWebClient,
        metadata: dict[str, Any],
        user: str,
        text: str,
        body: list[dict[str, Any]],
    ) -> None:
        """A form's submission has no response URL of its own: answer through the one of
        the click that opened the form (it works in DMs and channels the bot is not in),
        else privately in the channel, else in the app's DM."""
        url = metadata.get("response_url")
        if url:
            webhook = AsyncWebhookClient(url, session=self.session)
            sent = await webhook.send(
                text=text, blocks=body, response_type="ephemeral", replace_original=False
            )
            if sent.status_code == 200:
                return
        try:
            await client.chat_postEphemeral(channel=metadata["channel"], user=user, text=text, blocks=body)
        except SlackApiError:
            await client.chat_postMessage(channel=user, text=text, blocks=body)

    async def is_organiser(self, place: PlaceRef, person: Person) -> bool:
        if person.is_admin or person.user_id in self.settings.admin_user_ids:
            return True
        return person.user_id in await self.engine.organisers(place)

    async def client_for(self, team_id: str) -> AsyncWebClient | None:
        token = await self.token_for(team_id)
        return web_client(self.settings, self.session, token) if token else None

    def first_event(self, event_id: str | None) -> bool:
        """Slack delivers events at least once; a retried delivery is acknowledged, not redone."""
        if not event_id:
            return True
        if self._seen_events.get(event_id):
            return False
        self._seen_events.put(event_id, True)
        return True

    # -- rounds -----------------------------------------------------------------------

    async def post_question(self, client: AsyncWebClient, channel: str, card: QuestionCard) -> str:
        """Post a round's question once. A lost reply is not retried blindly: the message
        carries the round id in its metadata, and the channel's recent history is checked
        before posting again."""
        if card.previous_reveal is not None:
            await self.publish_reveal(card.previous_reveal, client)
        poster = web_client(self.settings, self.session, client.token, connection_retries=False)
        arguments: dict[str, Any] = {
            "channel": channel,
            "text": (f"<!subteam^{card.mention}> " if card.mention else "") + blocks.question_fallback(card),
            "blocks": blocks.question_blocks(card),
            "metadata": {"event_type": "quiz_round", "event_payload": {"round_id": card.round_id}},
            "unfurl_links": False,
        }
        try:
            response = await poster.chat_postMessage(**arguments)
            posted_channel, ts = str(response["channel"]), str(response["ts"])
        except (TimeoutError, aiohttp.ClientError):
            found = await self.find_posted(client, channel, card.round_id)
            if found is None:
                response = await poster.chat_postMessage(**arguments)
                posted_channel, ts = str(response["channel"]), str(response["ts"])
            else:
                posted_channel, ts = channel, found
        await self.engine.attach_message(card.round_id, f"slack:{posted_channel}:{ts}")
        return ts

    async def find_posted(self, client: AsyncWebClient, channel: str, round_id: int) -> str | None:
        """The ts of this round's question among the channel's latest messages, if it got there."""
        history = await client.conversations_history(channel=channel, limit=50, include_all_metadata=True)
        for message in history.get("messages") or []:
            if tagged(message, "quiz_round", round_id):
                return str(message["ts"])
        return None

    async def publish_reveal(
        self, reveal: RevealCard, client: AsyncWebClient | None = None, *, check_thread: bool = False
    ) -> None:
        """Replace the question's buttons with the key, and post the reveal in its thread.

        A retried reveal (``check_thread``) first looks for itself in the thread by its
        message metadata: its earlier post may have arrived with the reply lost."""
        if client is None and reveal.place is not None:
            client = await self.client_for(reveal.place.workspace)
        if client is None:
            log.warning("no bot token for the workspace of round %s; reveal not posted", reveal.round_id)
            return
        if reveal.message_ref:
            _, channel, ts = reveal.message_ref.split(":", 2)
            with contextlib.suppress(SlackApiError):
                await client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=blocks.cut(reveal.stem, 300),
                    blocks=blocks.closed_question_blocks(reveal),
                )
            if not (check_thread and await self.reveal_in_thread(client, channel, ts, reveal.round_id)):
                # no blind retry of a lost reply: the closing loop retries, looking first
                poster = web_client(self.settings, self.session, client.token, connection_retries=False)
                await poster.chat_postMessage(
                    channel=channel,
                    thread_ts=ts,
                    text=t(reveal.locale, "reveal.title"),
                    blocks=blocks.reveal_blocks(reveal),
                    unfurl_links=False,
                    metadata={"event_type": "quiz_reveal", "event_payload": {"round_id": reveal.round_id}},
                )
        elif reveal.place is not None:
            await client.chat_postMessage(
                channel=reveal.place.channel,
                text=t(reveal.locale, "reveal.title"),
                blocks=blocks.reveal_blocks(reveal),
                unfurl_links=False,
            )
        await self.engine.revealed(reveal.round_id)

    async def reveal_in_thread(self, client: AsyncWebClient, channel: str, ts: str, round_id: int) -> bool:
        replies = await client.conversations_replies(
            channel=channel, ts=ts, limit=50, include_all_metadata=True
        )
        return any(tagged(m, "quiz_reveal", round_id) for m in replies.get("messages") or [])

    async def close_due_rounds(self) -> None:
        async def close_once() -> None:
            fresh = await self.engine.close_due(platform="slack")
            await each(
                fresh,
                self.publish_reveal,
                lambda r: f"posting the reveal of round {r.round_id}",
                self.reveal_backoff,
            )
            await each(
                await self.engine.unrevealed("slack"),
                lambda r: self.publish_reveal(r, check_thread=True),
                lambda r: f"posting the reveal of round {r.round_id} again",
                self.reveal_backoff,
            )
            await each(
                await self.engine.expire_exams(platform="slack"),
                lambda card: exam.deliver_result(self, card),
                lambda card: f"sending the result of mock exam {card.exam_id}",
                self.exam_backoff,
            )

        await repeat(self.close_interval, close_once, "closing due Slack rounds")

    def start(self) -> None:
        if self._closer is None:
            loop = asyncio.get_running_loop()
            self._closer = loop.create_task(self.close_due_rounds(), name="slack-closer")
            self._daily = loop.create_task(self.post_daily(), name="slack-daily")
            self._reminders = loop.create_task(self.reminders.forever(), name="slack-reminders")

    async def stop(self) -> None:
        """Stop the loops, and let acknowledged work (an answer committing) finish first."""
        await finish(self.handling, FINISH_HANDLING_SECONDS)
        for task in (self._closer, self._daily, self._reminders):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._closer = self._daily = self._reminders = None

    async def command(self, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        team, channel, user = body["team_id"], body["channel_id"], body["user_id"]
        learner, person = await self.learner(client, team, user, body.get("user_name", ""))
        locale = self.locale(person)
        place = PlaceRef("slack", team, channel)
        words = (body.get("text") or "").split()
        sub, args = (words[0].lower(), words[1:]) if words else ("help", [])

        async def private(text: str, blocks_: list[dict[str, Any]] | None = None) -> None:
            await respond(text=text, blocks=blocks_, response_type="ephemeral", replace_original=False)

        if sub == "question":
            await self.cmd_question(client, place, args, locale, private)
        elif sub == "practice":
            task = next((a for a in args if a in TASKS), None)
            count = next((int(a) for a in args if a.isdigit()), 10)
            focus = WEAK if WEAK in (a.lower() for a in args) else None
            card = await self.engine.start_session(
                learner, place, size=max(1, min(count, 50)), task=task, focus=focus
            )
            await private(blocks.question_fallback(card), blocks.question_blocks(card))
        elif sub == "exam":
            await exam.start(self, client, team, user, learner, locale, args, private)
        elif sub == "leaderboard":
            period = next((Period(a) for a in args if a in {"week", "month", "all"}), Period.WEEK)
            scope = Scope.CHANNEL if "channel" in args else Scope.WORKSPACE
            board = await self.engine.leaderboard(place, learner, period=period, scope=scope)
            await private(
                t(locale, "leaderboard.title", scope="", period=""), blocks.leaderboard_blocks(board)
            )
        elif sub == "streaks":
            streaks = await self.engine.streaks(place, learner)
            await private(t(locale, "streaks.title"), blocks.streaks_blocks(streaks))
        elif sub == "stats":
            stats, progress = await self.engine.stats_and_progress(learner, place)
            await private(t(locale, "stats.title", name=learner.display_name), blocks.stats_blocks(stats))
            await self.send_chart(client, learner, progress, locale, private)
        elif sub in plan.COMMANDS:  # exam-date, remind
            await plan.command(self, place, learner, person, sub, args, private)
        elif sub == "privacy":
            await self.cmd_privacy(user, args, locale, private)
        elif sub == "admin":  # re-read the admin flag: it may have changed within the hour
            person = await self.people.get(client, team, user, fresh=True)
            await self.cmd_admin(place, person, args, locale, private)
        else:
            help_text = "\n".join(
                t(locale, key) for key in ("slack.help", "slack.help.drill", "plan.help.slack")
            )
            await private(help_text, [blocks.section(help_text)])

    async def cmd_question(
        self,
        client: AsyncWebClient,
        place: PlaceRef,
        args: list[str],
        locale: str,
        private: Callable[..., Awaitable[None]],
    ) -> None:
        task = next((a for a in args if a in TASKS), None)
        minutes = next((int(a) for a in args if a.isdigit()), None)
        if minutes is not None and not 1 <= minutes <= 1440:
            await private(t(locale, "slack.bad_minutes"))
            return
        try:
            card = await self.engine.ask(place, task=task, minutes=minutes)
        except EngineError:
            await private(t(locale, "discord.no_questions"))
            return
        if isinstance(card, RoundBusy):
            await private(t(locale, "busy", round=card.open_round_id))
            return
        try:
            await self.post_question(client, place.channel, card)
        except Exception as error:
            await self.engine.close(
                card.round_id
            )  # nobody can see it: do not leave it open, blocking the channel
            reason = error.response.get("error") if isinstance(error, SlackApiError) else None
            if reason not in CANNOT_POST:
                raise
            key = "slack.archived" if reason == "is_archived" else "slack.not_in_channel"
            await private(t(locale, key, bot="quizbot"))
            return
        await private(t(locale, "slack.posted"))

    async def send_chart(
        self,
        client: AsyncWebClient,
        learner: LearnerRef,
        progress: ProgressCard,
        locale: str,
        private: Callable[..., Awaitable[None]],
    ) -> None:
        """The progress chart, as a PNG in the learner's DM with the app: Slack files cannot
        be ephemeral. Uploaded the current way (files.getUploadURLExternal, the bytes to the
        URL it returns, files.completeUploadExternal into the DM), which needs files:write:
        a workspace that has not granted it yet is told so politely. The stats were sent
        already; nothing here turns them into an error."""
        if not progress.answered:
            return  # an empty chart tells nothing the stats did not
        try:
            png = await draw_png(progress)
            opened = await client.conversations_open(users=learner.user_id)
            await client.files_upload_v2(
                channel=opened["channel"]["id"],
                file=png,
                filename=charts.FILENAME,
                title=t(locale, "chart.title", name=progress.display_name),
                alt_txt=charts.alt_text(progress),
                initial_comment=t(locale, "slack.chart.comment"),
            )
        except SlackApiError as error:
            if error.response.get("error") == "missing_scope":
                await private(t(locale, "slack.chart.no_scope"))
                return
            log.warning("the progress chart was not sent (user %s): %s", learner.user_id, error)
            await private(t(locale, "slack.chart.failed"))
            return
        except Exception:
            log.exception("the progress chart was not sent (user %s)", learner.user_id)
            await private(t(locale, "slack.chart.failed"))
            return
        await private(t(locale, "slack.chart.sent"))

    async def cmd_privacy(
        self, user: str, args: list[str], locale: str, private: Callable[..., Awaitable[None]]
    ) -> None:
        """A learner's own data. Files cannot be ephemeral on Slack, and a DM upload would
        need the files:write scope (every workspace approving the app again): the export
        comes as private messages instead, JSON in code blocks, seen by the asker only."""
        action = args[0].lower() if args else ""
        if action == "forget":  # nothing is read yet: ask first
            await private(t(locale, "privacy.forget.confirm"), blocks.forget_blocks(user, locale))
            return
        if action != "export":
            await private(t(locale, "slack.usage.privacy"))
            return
        data = await self.engine.export_learner("slack", user)
        if data is None:
            await private(t(locale, "privacy.export.none"))
            return
        text = personal_data(data)
        parts = blocks.export_parts(text)
        if parts is None:
            await private(t(locale, "privacy.export.too_large", size=len(text), person=f"slack:{user}"))
            return
        for number, part in enumerate(parts, start=1):
            await private(t(locale, "privacy.export.part", part=number, parts=len(parts)) + "\n" + part)

    async def cmd_admin(
        self,
        place: PlaceRef,
        person: Person,
        args: list[str],
        locale: str,
        private: Callable[..., Awaitable[None]],
    ) -> None:
        if not await self.is_organiser(place, person):
            await private(t(locale, "slack.not_organiser"))
            return
        action, rest = (args[0].lower(), args[1:]) if args else ("", [])
        if action == "close":
            reveal = await self.engine.close_open(place)
            if reveal is None:
                await private(t(locale, "discord.no_open_round"))
                return
            await self.publish_reveal(reveal)
            await private(t(locale, "discord.closed"))
        elif action == "reset-scores":
            season = (await self.engine.fresh_settings(place)).season
            await private(t(locale, "discord.reset.confirm"), blocks.reset_blocks(season, locale))
        elif action in {"language", "timezone", "feedback"} and rest:
            name = {"language": "locale", "timezone": "timezone", "feedback": "feedback"}[action]
            value: object = (
                FeedbackMode(rest[0])
                if action == "feedback" and rest[0] in {"immediate", "at-close"}
                else rest[0]
            )
            try:
                await self.engine.update_settings(place, **{name: value})
            except SettingRejected as error:
                await private(
                    t(locale, "discord.setting.invalid", allowed=t(locale, f"setting.allowed.{error.name}"))
                )
                return
            await private(t(locale, "discord.setting.saved", name=action, value=rest[0]))
        elif action == "daily":
            await self.cmd_daily(place, person, rest, locale, private)
        elif action == "organisers" and len(rest) >= 2 and rest[0] in {"add", "remove"}:
            mentioned = MENTION.fullmatch(rest[1])
            user_id = mentioned.group(1) if mentioned else rest[1].lstrip("@")
            changed = await self.engine.set_organiser(place, user_id, person.user_id, add=rest[0] == "add")
            key = (
                ("slack.organiser.added" if rest[0] == "add" else "slack.organiser.removed")
                if changed
                else "slack.organiser.unchanged"
            )
            await private(t(locale, key, user=user_id))
        elif action == "organisers":
            await private(t(locale, "slack.usage.organisers"))
        elif action in {"language", "timezone", "feedback"}:
            await private(t(locale, "slack.usage.setting", name=action))
        else:
            await private(t(locale, "slack.help"), [blocks.section(t(locale, "slack.help"))])

    async def cmd_daily(
        self,
        place: PlaceRef,
        person: Person,
        args: list[str],
        locale: str,
        private: Callable[..., Awaitable[None]],
    ) -> None:
        """``daily set [#channel] HH:MM [zone] [days] [task] [minutes] [@group]``,
        ``daily show [#channel]``, ``daily off [#channel]``."""
        verb, rest = (args[0].lower(), args[1:]) if args else ("show", [])
        target = place
        for word in rest:
            found = CHANNEL_REF.fullmatch(word)
            if found:
                target = PlaceRef("slack", place.workspace, found.group(1))
                rest = [a for a in rest if a != word]
                break
        shown = f"<#{target.channel}>"
        if verb == "off":
            stopped = await self.engine.stop_daily(target)
            await private(t(locale, "daily.off" if stopped else "daily.none", channel=shown))
        elif verb == "show":
            schedule = await self.engine.daily_schedule(target)
            if schedule is None or not schedule.enabled:
                await private(t(locale, "daily.none", channel=shown))
                return
            window = (
                f", {int(schedule.close_after.total_seconds() // 60)} min" if schedule.close_after else ""
            )
            await private(
                t(
                    locale,
                    "daily.show",
                    channel=shown,
                    days=", ".join(DAY_NAMES[d] for d in sorted(schedule.days)),
                    time=schedule.at.strftime("%H:%M"),
                    zone=schedule.timezone,
                    task=f", {schedule.task}" if schedule.task else "",
                    window=window,
                    mention=f", <!subteam^{schedule.mention}>" if schedule.mention else "",
                )
            )
        elif verb == "set" and rest:
            at, options = rest[0], rest[1:]
            groups = [m.group(1) for a in options if (m := GROUP_REF.fullmatch(a))]
            try:
                schedule = await self.engine.set_daily(
                    target,
                    at,
                    created_by=person.user_id,
                    timezone=next((a for a in options if "/" in a or a.upper() == "UTC"), None),
                    days=next((a for a in options if DAYS_REF.fullmatch(a.lower())), None),
                    task=next((a for a in options if a in TASKS), None),
                    close_after_minutes=next((int(a) for a in options if a.isdigit()), None),
                    mention=groups[0] if groups else None,
                )
            except SettingRejected as error:
                await private(
                    t(locale, "discord.setting.invalid", allowed=t(locale, f"setting.allowed.{error.name}"))
                )
                return
            first = next_post_after(schedule, self.engine.clock())
            days = ", ".join(DAY_NAMES[d] for d in sorted(schedule.days))
            await private(
                t(
                    locale,
                    "daily.saved",
                    channel=shown,
                    time=schedule.at.strftime("%H:%M"),
                    zone=schedule.timezone,
                    days=days,
                    task=f", {schedule.task}" if schedule.task else "",
                    first=blocks.slack_date(first, locale),
                )
            )
        else:
            await private(t(locale, "slack.usage.daily"))

    async def post_daily(self) -> None:
        """Post the daily questions due now (each claimed by one process only), and any round
        whose post was never recorded (the channel's history is checked before posting)."""

        async def post_fresh(card: QuestionCard) -> None:
            await each(
                [card],
                lambda c: self.post_daily_card(c, check_history=False),
                lambda c: f"posting the daily question of round {c.round_id}",
                self.post_backoff,
            )

        async def post_once() -> None:
            await self.engine.run_daily("slack", self.claimer, on_card=post_fresh)
            lost = await self.engine.unposted("slack")
            await each(
                lost,
                lambda c: self.post_daily_card(c, check_history=True),
                lambda c: f"posting round {c.round_id} again",
                self.post_backoff,
            )

        await repeat(self.close_interval, post_once, "posting daily Slack questions")

    async def post_daily_card(self, card: QuestionCard, *, check_history: bool) -> None:
        round_ = await self.engine.store.get_round(card.round_id)
        client = await self.client_for(round_.place.workspace) if round_ is not None else None
        if round_ is None or client is None:
            return
        channel = round_.place.channel
        try:
            found = await self.find_posted(client, channel, card.round_id) if check_history else None
            if found is not None:
                await self.engine.attach_message(card.round_id, f"slack:{channel}:{found}")
                return
            await self.post_question(client, channel, card)
        except SlackApiError as error:
            reason = str(error.response.get("error"))
            if reason not in CANNOT_POST | {"account_inactive", "invalid_auth"}:
                raise
            await self.engine.close(card.round_id)
            schedule = await self.engine.daily_schedule(round_.place)
            if await self.engine.stop_daily(round_.place, reason) and schedule is not None:
                locale = self.engine.place_locale(await self.engine.settings(round_.place))
                text = t(locale, "daily.disabled_dm", channel=f"<#{channel}>", reason=reason)
                with contextlib.suppress(SlackApiError):
                    await client.chat_postMessage(channel=schedule.created_by, text=text)

    # -- buttons and forms ------------------------------------------------------------

    async def answer(self, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        action = body["actions"][0]
        round_text, letter = action["value"].split(":")
        team, user, channel = body["team"]["id"], body["user"]["id"], body["channel"]["id"]
        learner, _ = await self.learner(client, team, user, body["user"].get("name", ""))
        result = await self.engine.answer(
            int(round_text), learner, [letter], PlaceRef("slack", team, channel)
        )
        text, feedback = blocks.answer_blocks(result)
        await respond(text=text, blocks=feedback, response_type="ephemeral", replace_original=False)

    async def open_multi(self, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        """Open the answer form first: its trigger expires 3 s after the click, so nothing
        that may wait on Slack (users.info) or the database comes before it."""
        team, user, channel = body["team"]["id"], body["user"]["id"], body["channel"]["id"]
        round_id = int(body["actions"][0]["value"])
        locale = await self.quick_locale(team, user, channel)
        card = await self.engine.question_for(round_id, locale)
        if card is None:
            await respond(text=t(locale, "refused.closed"), response_type="ephemeral", replace_original=False)
            return
        metadata = {
            "round": round_id,
            "channel": channel,
            "count": card.select_count,
            "response_url": body.get("response_url"),
        }
        await client.views_open(trigger_id=body["trigger_id"], view=blocks.multi_answer_view(card, metadata))

    async def form_choice(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str]] | None:
        """The letters ticked in an answer form and the form's metadata; a form with the
        wrong number ticked is kept open with the error shown (None)."""
        view = body["view"]
        metadata: dict[str, Any] = json.loads(view["private_metadata"])
        chosen = [
            o["value"] for o in view["state"]["values"]["choice"]["letters"].get("selected_options") or []
        ]
        if len(chosen) != metadata["count"]:
            locale = await self.quick_locale(body["team"]["id"], body["user"]["id"], metadata["channel"])
            await ack(
                response_action="errors",
                errors={"choice": t(locale, "slack.modal.wrong_count", count=metadata["count"])},
            )
            return None
        await ack()
        return metadata, chosen

    async def submit_multi(
        self, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
    ) -> None:
        form = await self.form_choice(ack, body)
        if form is None:
            return
        metadata, chosen = form
        team, user = body["team"]["id"], body["user"]["id"]
        learner, _ = await self.learner(client, team, user)
        result = await self.engine.answer(
            int(metadata["round"]), learner, chosen, PlaceRef("slack", team, metadata["channel"])
        )
        text, feedback = blocks.answer_blocks(result)
        await self.reply_after_form(client, metadata, user, text, feedback)

    async def next_question(self, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        learner, person = await self.learner(client, team, user)
        try:
            card = await self.engine.next_question(int(body["actions"][0]["value"]), learner)
        except EngineError:
            await respond(
                text=t(self.locale(person), "refused.unknown_round"),
                response_type="ephemeral",
                replace_original=False,
            )
            return
        if isinstance(card, SessionSummaryCard):
            summary = blocks.summary_blocks(card)
            await respond(
                text=t(card.locale, "summary.title"),
                blocks=summary,
                response_type="ephemeral",
                replace_original=False,
            )
        else:
            await respond(
                text=blocks.question_fallback(card),
                blocks=blocks.question_blocks(card),
                response_type="ephemeral",
                replace_original=False,
            )

    async def guessed(self, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        """ "I guessed" under a right answer's feedback (or any answer's acknowledgement in
        an at-close round, replied to neutrally until it closes): that review becomes Hard.
        Someone else's round, a second click or a forged value change nothing and say so
        politely."""
        team, user = body["team"]["id"], body["user"]["id"]
        learner, person = await self.learner(client, team, user)
        value = str(body["actions"][0].get("value") or "")
        outcome = await self.engine.guess(int(value), learner) if value.isdigit() else GuessOutcome.NOTHING
        await respond(
            text=plaintext.guess_reply(self.locale(person), outcome),
            response_type="ephemeral",
            replace_original=False,
        )

    async def open_report(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        team, user = body["team"]["id"], body["user"]["id"]
        channel = (body.get("channel") or {}).get("id") or user
        locale = await self.quick_locale(team, user, channel)
        metadata = {"channel": channel, "response_url": body.get("response_url")}
        view = blocks.report_view(int(body["actions"][0]["value"]), locale, metadata)
        await client.views_open(trigger_id=body["trigger_id"], view=view)

    async def submit_report(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        view = body["view"]
        metadata = json.loads(view["private_metadata"])
        team, user = body["team"]["id"], body["user"]["id"]
        learner, person = await self.learner(client, team, user)
        comment = (view["state"]["values"].get("comment", {}).get("text", {}) or {}).get("value")
        question_id = await self.engine.flag_round(learner, int(metadata["round"]), FlagReason.WRONG, comment)
        locale = self.locale(person)
        text = (
            t(locale, "discord.report.thanks", id=question_id)
            if question_id
            else t(locale, "refused.unknown_round")
        )
        await self.reply_after_form(client, metadata, user, text, [blocks.section(text)])

    async def confirm_reset(self, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        team, user, channel = body["team"]["id"], body["user"]["id"], body["channel"]["id"]
        place = PlaceRef("slack", team, channel)
        person = await self.people.get(client, team, user, fresh=True)  # the admin flag may have changed
        locale = self.locale(person)
        if not await self.is_organiser(place, person):
            await respond(
                text=t(locale, "slack.not_organiser"), response_type="ephemeral", replace_original=False
            )
            return
        settings = await self.engine.reset_season(place, from_season=int(body["actions"][0]["value"]))
        await respond(text=t(locale, "discord.reset.done", season=settings.season), replace_original=True)

    async def confirm_forget(self, body: dict[str, Any], respond: Responder) -> None:
        """Erase the person who asked; anyone else's click (a forged value) changes nothing."""
        team, user = body["team"]["id"], body["user"]["id"]
        locale = await self.quick_locale(team, user, (body.get("channel") or {}).get("id") or user)
        if body["actions"][0]["value"] != user:
            text = t(locale, "privacy.forget.not_yours", command="/quiz privacy forget")
            await respond(text=text, response_type="ephemeral", replace_original=False)
            return
        report = await self.engine.forget_learner("slack", user)
        self.people.forget(team, user)
        self._home_starts.pop((team, user))
        key = "privacy.forget.done" if report.found else "privacy.forget.nothing"
        await respond(text=t(locale, key), response_type="ephemeral", replace_original=True)

    async def practice_from_home(self, body: dict[str, Any], client: AsyncWebClient) -> None:
        """App Home has no channel to be private in: practice runs in the app's DM. A double
        click on "Practice now" starts one session, not two."""
        team, user = body["team"]["id"], body["user"]["id"]
        now = asyncio.get_running_loop().time()
        if now - (self._home_starts.get((team, user)) or -1e9) < HOME_START_GUARD_SECONDS:
            return
        self._home_starts.put((team, user), now)
        learner, _ = await self.learner(client, team, user)
        opened = await client.conversations_open(users=user)
        channel = opened["channel"]["id"]
        card = await self.engine.start_session(learner, PlaceRef("slack", team, channel), size=10)
        await client.chat_postMessage(
            channel=channel, text=blocks.question_fallback(card), blocks=blocks.question_blocks(card)
        )

    async def home(self, event: dict[str, Any], team: str, client: AsyncWebClient) -> None:
        user = event["user"]
        learner, _ = await self.learner(client, team, user)
        place = PlaceRef("slack", team, event.get("channel") or user)
        stats = await self.engine.stats(learner, place)
        board = await self.engine.leaderboard(place, learner, period=Period.WEEK, scope=Scope.WORKSPACE)
        await client.views_publish(user_id=user, view=blocks.home_view(stats, board))


def register(app: AsyncApp, quiz: SlackQuiz) -> None:
    """Wire Slack's events to the quiz: ack first, then work (Bolt runs the rest after).

    The work after the ack is guarded here: an error that reached Bolt within a few
    milliseconds of the ack would turn Slack's HTTP answer into a 404.
    """

    async def guarded(work: Awaitable[None], body: dict[str, Any], respond: Responder | None = None) -> None:
        with tracked(quiz.handling):
            try:
                await work
            except Exception:
                team = (body.get("team") or {}).get("id", body.get("team_id", ""))
                user = (body.get("user") or {}).get("id", body.get("user_id", ""))
                log.exception("slack listener failed (team %s, user %s)", team, user)
                if respond is not None:
                    person = quiz.people.peek(team, user)
                    locale = quiz.locale(person) if person else quiz.engine.default_locale
                    with contextlib.suppress(Exception):
                        await respond(
                            text=t(locale, "discord.error"), response_type="ephemeral", replace_original=False
                        )

    @app.command("/quiz")
    async def on_quiz(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        await ack()
        await guarded(quiz.command(body, client, respond), body, respond)

    @app.action(ANSWER)
    async def on_answer(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        await ack()
        await guarded(quiz.answer(body, client, respond), body, respond)

    @app.action("quiz_answer_multi")
    async def on_multi(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        await ack()
        await guarded(quiz.open_multi(body, client, respond), body, respond)

    @app.view("quiz_multi")
    async def on_multi_submit(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await guarded(quiz.submit_multi(ack, body, client), body)

    @app.action("quiz_next")
    async def on_next(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        await ack()
        await guarded(quiz.next_question(body, client, respond), body, respond)

    @app.action("quiz_guessed")
    async def on_guessed(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        await ack()
        await guarded(quiz.guessed(body, client, respond), body, respond)

    @app.action("quiz_report")
    async def on_report(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await guarded(quiz.open_report(body, client), body)

    @app.view("quiz_report_view")
    async def on_report_submit(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await guarded(quiz.submit_report(body, client), body)

    @app.action("quiz_reset")
    async def on_reset(ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
        await ack()
        await guarded(quiz.confirm_reset(body, client, respond), body, respond)

    @app.action("quiz_privacy_forget")
    async def on_forget(ack: Any, body: dict[str, Any], respond: Responder) -> None:
        await ack()
        await guarded(quiz.confirm_forget(body, respond), body, respond)

    @app.action("quiz_practice_home")
    async def on_practice_home(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await guarded(quiz.practice_from_home(body, client), body)

    @app.action(plan.REVIEW_ACTION)  # under a reminder: practice in the DM, due reviews first
    async def on_review_due(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder
    ) -> None:
        await ack()
        await guarded(quiz.practice_from_home(body, client), body, respond)  # a failure is said

    @app.action(re.compile(r"^quiz_exam_(answer_[A-F]|previous|next|submit)$"))
    async def on_exam_click(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder
    ) -> None:
        await ack()
        await guarded(exam.click(quiz, body, client, respond), body, respond)

    @app.action("quiz_exam_multi")
    async def on_exam_multi(
        ack: Any, body: dict[str, Any], client: AsyncWebClient, respond: Responder
    ) -> None:
        await ack()
        await guarded(exam.open_multi(quiz, body, client, respond), body, respond)

    @app.view("quiz_exam_multi")
    async def on_exam_multi_submit(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await guarded(exam.submit_multi(quiz, ack, body, client), body)

    @app.event("app_home_opened")
    async def on_home(body: dict[str, Any], event: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home" and quiz.first_event(body.get("event_id")):
            await guarded(quiz.home(event, body["team_id"], client), body)

    @app.error
    async def on_error(error: Exception, body: dict[str, Any], respond: Responder | None = None) -> None:
        log.error(
            "slack listener failed (team %s, user %s)",
            (body.get("team") or {}).get("id", body.get("team_id")),
            (body.get("user") or {}).get("id", body.get("user_id")),
            exc_info=error,
        )
        if respond is not None:
            with contextlib.suppress(Exception):
                await respond(
                    text=t("en", "discord.error"), response_type="ephemeral", replace_original=False
                )


def tagged(message: dict[str, Any], event_type: str, round_id: int) -> bool:
    """Whether a message carries our metadata for this round (how a post whose reply was
    lost is recognised, instead of being posted twice)."""
    metadata = message.get("metadata") or {}
    payload = metadata.get("event_payload") or {}
    return bool(metadata.get("event_type") == event_type and payload.get("round_id") == round_id)
