"""The slash commands: ``/quiz`` for everyone, ``/quizadmin`` for organisers.

``/quizadmin`` is a top-level command of its own because Discord's default member
permissions apply to a whole command, not to its subcommands. The run-time check in each
subcommand still applies, since server admins can change who sees a command.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice
from discord.app_commands import locale_str as _

from bot.adapters import charts
from bot.adapters.chart_worker import draw_png
from bot.adapters.discord import interactions, render
from bot.adapters.discord.components import ForgetButton, ResetButton
from bot.adapters.discord.interactions import (
    apologise,
    defer_private,
    engine_of,
    is_organiser,
    learner_of,
    locale_of,
    place_of,
    quiz_client,
    reply_private,
    send_private,
)
from bot.adapters.discord.plan import PLAN_COMMANDS
from bot.adapters.plaintext import EXPORT_FILENAME, personal_data
from bot.engine import FeedbackMode, LearnerRef, Period, PlaceRef, QuizEngine, RoundBusy, Scope
from bot.engine.daily import DAY_NAMES, next_post_after
from bot.engine.service import EngineError, SettingRejected
from bot.i18n import t

log = logging.getLogger(__name__)

TASKS = [
    Choice(name=_("3.1 Design considerations for FM applications"), value="3.1"),
    Choice(name=_("3.2 Prompt engineering techniques"), value="3.2"),
    Choice(name=_("3.3 Training and fine-tuning of FMs"), value="3.3"),
    Choice(name=_("3.4 Evaluating FM performance"), value="3.4"),
]
REQUIRED_TO_POST = ("view_channel", "send_messages", "embed_links", "read_message_history")


def missing_permissions(interaction: discord.Interaction) -> list[str]:
    have = interaction.app_permissions
    return [name for name in REQUIRED_TO_POST if not getattr(have, name)]


def permission_names(names: list[str]) -> str:
    return ", ".join(name.replace("_", " ").title() for name in names)


def jump_url(guild_id: int | None, message_ref: str | None) -> str:
    if not message_ref or guild_id is None:
        return ""
    _, channel_id, message_id = message_ref.split(":")
    return f" https://discord.com/channels/{guild_id}/{channel_id}/{message_id}"


async def stats_reply(engine: QuizEngine, learner: LearnerRef, place: PlaceRef) -> dict[str, Any]:
    """The stats embed with the progress chart as its image, attached to the same private
    reply. Interaction replies are webhook messages: attaching a file to one needs no
    channel permission (no Attach Files in the invite). A chart that cannot be drawn is
    logged and left out; the stats still come. No answers yet: no chart."""
    stats, progress = await engine.stats_and_progress(learner, place)
    embed = render.stats_embed(stats)
    if not progress.answered:
        return {"embed": embed}  # an empty chart tells nothing the stats do not
    try:
        png = await draw_png(progress)
    except Exception:
        log.exception(
            "the progress chart could not be drawn (guild %s, user %s)", place.workspace, learner.user_id
        )
        return {"embed": embed}
    embed.set_image(url=f"attachment://{charts.FILENAME}")
    chart = discord.File(io.BytesIO(png), filename=charts.FILENAME, description=charts.alt_text(progress))
    return {"embed": embed, "file": chart}


@app_commands.guild_only()
class Quiz(app_commands.Group):
    def __init__(self) -> None:
        super().__init__(name="quiz", description=_("Practise for the AWS AI Practitioner exam (Domain 3)"))
        for command in PLAN_COMMANDS:  # exam-date, remind
            self.add_command(command)

    @app_commands.command(name="question", description=_("Post a question to this channel for everyone"))
    @app_commands.describe(
        task=_("Only this task statement"), minutes=_("Minutes the round stays open (default: the server's)")
    )
    @app_commands.choices(task=TASKS)
    async def question(
        self,
        interaction: discord.Interaction,
        task: Choice[str] | None = None,
        minutes: app_commands.Range[int, 1, 1440] | None = None,
    ) -> None:
        locale = locale_of(interaction)
        missing = missing_permissions(interaction)
        if missing:
            await send_private(
                interaction,
                content=t(locale, "discord.missing_permissions", permissions=permission_names(missing)),
            )
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        engine = engine_of(interaction)
        try:
            card = await engine.ask(place_of(interaction), task=task.value if task else None, minutes=minutes)
        except EngineError:
            await send_private(interaction, content=t(locale, "discord.no_questions"))
            return
        if isinstance(card, RoundBusy):
            link = jump_url(interaction.guild_id, card.message_ref)
            await send_private(interaction, content=t(locale, "busy", round=card.open_round_id) + link)
            return
        try:
            await quiz_client(interaction).post_question(interaction.channel_id or 0, card)
        except discord.Forbidden:
            await send_private(
                interaction,
                content=t(
                    locale,
                    "discord.missing_permissions",
                    permissions=permission_names(list(REQUIRED_TO_POST)),
                ),
            )
            await engine.close(card.round_id)  # nobody can see it: do not leave it open
            return
        await send_private(interaction, content=t(locale, "discord.posted"))

    @app_commands.command(
        name="practice", description=_("Practise privately, with an explanation after each answer")
    )
    @app_commands.describe(
        task=_("Only this task statement"),
        count=_("Number of questions (default 10)"),
        focus=_("Weak: the objectives where your recent answers are weakest"),
    )
    @app_commands.choices(task=TASKS, focus=[Choice(name=_("Weak topics"), value="weak")])
    async def practice(
        self,
        interaction: discord.Interaction,
        task: Choice[str] | None = None,
        count: app_commands.Range[int, 1, 50] = 10,
        focus: Choice[str] | None = None,
    ) -> None:
        engine = engine_of(interaction)
        work = engine.start_session(
            learner_of(interaction),
            place_of(interaction),
            size=count,
            task=task.value if task else None,
            focus=focus.value if focus else None,
        )
        await reply_private(interaction, work, interactions.question_or_summary)

    @app_commands.command(
        name="exam", description=_("A timed mock exam, in your direct messages with the bot")
    )
    @app_commands.describe(count=_("Number of questions (default 20)"))
    async def exam(
        self, interaction: discord.Interaction, count: app_commands.Range[int, 1, 65] = 20
    ) -> None:
        from bot.adapters.discord import exam

        await exam.start(interaction, count)

    @app_commands.command(name="leaderboard", description=_("The top 10 and your own rank"))
    @app_commands.describe(period=_("Which period"), scope=_("The whole server or this channel"))
    @app_commands.choices(
        period=[
            Choice(name=_("This week"), value="week"),
            Choice(name=_("This month"), value="month"),
            Choice(name=_("All time (this season)"), value="all"),
        ],
        scope=[Choice(name=_("Server"), value="workspace"), Choice(name=_("Channel"), value="channel")],
    )
    async def leaderboard(
        self,
        interaction: discord.Interaction,
        period: Choice[str] | None = None,
        scope: Choice[str] | None = None,
    ) -> None:
        engine = engine_of(interaction)
        work = engine.leaderboard(
            place_of(interaction),
            learner_of(interaction),
            period=Period(period.value if period else "week"),
            scope=Scope(scope.value if scope else "workspace"),
        )
        await reply_private(interaction, work, lambda card: {"embed": render.leaderboard_embed(card)})

    @app_commands.command(
        name="stats", description=_("Your own stats and progress chart (only you see them)")
    )
    async def stats(self, interaction: discord.Interaction) -> None:
        work = stats_reply(engine_of(interaction), learner_of(interaction), place_of(interaction))
        await reply_private(interaction, work, lambda reply: reply)

    @app_commands.command(name="streaks", description=_("Daily question streaks: top 10 and yours"))
    async def streaks(self, interaction: discord.Interaction) -> None:
        work = engine_of(interaction).streaks(place_of(interaction), learner_of(interaction))
        await reply_private(interaction, work, lambda card: {"embed": render.streaks_embed(card)})

    @app_commands.command(
        name="privacy", description=_("What the bot stores about you: export it or erase it")
    )
    @app_commands.describe(action=_("Export your data, or erase it"))
    @app_commands.choices(
        action=[
            Choice(name=_("Export my data (a JSON file)"), value="export"),
            Choice(name=_("Erase my data"), value="forget"),
        ]
    )
    async def privacy(self, interaction: discord.Interaction, action: Choice[str]) -> None:
        locale = locale_of(interaction)
        if action.value == "forget":  # nothing is read yet: ask first
            view = discord.ui.View(timeout=None)
            view.add_item(ForgetButton(interaction.user.id, t(locale, "privacy.forget.button")))
            await send_private(interaction, content=t(locale, "privacy.forget.confirm"), view=view)
            return
        await defer_private(interaction)
        data = await engine_of(interaction).export_learner("discord", str(interaction.user.id))
        if data is None:
            await send_private(interaction, content=t(locale, "privacy.export.none"))
            return
        attachment = discord.File(io.BytesIO(personal_data(data).encode()), filename=EXPORT_FILENAME)
        await send_private(interaction, content=t(locale, "privacy.export.ready"), file=attachment)

    @app_commands.command(name="help", description=_("How to use the quiz"))
    async def help(self, interaction: discord.Interaction) -> None:
        locale = locale_of(interaction)
        await send_private(
            interaction,
            content="\n".join(
                t(locale, key) for key in ("discord.help", "discord.help.drill", "plan.help.discord")
            ),
        )


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class QuizAdmin(app_commands.Group):
    def __init__(self) -> None:
        super().__init__(name="quizadmin", description=_("Quiz settings for organisers"))

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.type is discord.InteractionType.autocomplete:
            return True  # time zone suggestions: harmless, and they cannot be deferred
        try:
            if await is_organiser(interaction):
                await defer_private(interaction)  # every subcommand below touches the database
                return True
            await send_private(interaction, content=t(locale_of(interaction), "discord.not_organiser"))
        except Exception:  # discord.py only reports AppCommandError from checks: answer here
            log.exception(
                "the organiser check failed (guild %s, user %s)", interaction.guild_id, interaction.user.id
            )
            await apologise(interaction)
        return False

    daily = app_commands.Group(name="daily", description=_("The channel's daily question"))

    @daily.command(name="set", description=_("Post a question every day in a channel"))
    @app_commands.describe(
        channel=_("Where to post"),
        time=_("Local time, HH:MM"),
        timezone=_("An IANA time zone, e.g. America/Sao_Paulo"),
        days=_("Days, e.g. mon-fri (default: every day)"),
        task=_("Only this task statement"),
        close_after=_("Minutes to answer (default: until the next post)"),
        mention=_("A role to mention"),
    )
    @app_commands.choices(task=TASKS)
    async def daily_set(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        time: str,
        timezone: str | None = None,
        days: str | None = None,
        task: Choice[str] | None = None,
        close_after: app_commands.Range[int, 1, 1440] | None = None,
        mention: discord.Role | None = None,
    ) -> None:
        locale = locale_of(interaction)
        engine = engine_of(interaction)
        place = PlaceRef("discord", str(interaction.guild_id), str(channel.id))
        try:
            schedule = await engine.set_daily(
                place,
                time,
                created_by=str(interaction.user.id),
                timezone=timezone,
                days=days,
                task=task.value if task else None,
                close_after_minutes=close_after,
                mention=str(mention.id) if mention else None,
            )
        except SettingRejected as error:
            await send_private(
                interaction, content=t(locale, "discord.setting.invalid", allowed=error.allowed)
            )
            return
        first = next_post_after(schedule, engine.clock())
        await send_private(
            interaction,
            content=t(
                locale,
                "daily.saved",
                channel=channel.mention,
                time=schedule.at.strftime("%H:%M"),
                zone=schedule.timezone,
                days=days or "mon-sun",
                task=f", {schedule.task}" if schedule.task else "",
                first=render.timestamp(first, "F"),
            ),
        )

    @daily.command(name="show", description=_("The channel's daily question"))
    async def daily_show(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        locale = locale_of(interaction)
        target = channel.id if channel else interaction.channel_id
        place = PlaceRef("discord", str(interaction.guild_id), str(target))
        schedule = await engine_of(interaction).daily_schedule(place)
        if schedule is None or not schedule.enabled:
            await send_private(interaction, content=t(locale, "daily.none", channel=f"<#{target}>"))
            return
        names = ", ".join(DAY_NAMES[d] for d in sorted(schedule.days))
        window = f", {int(schedule.close_after.total_seconds() // 60)} min" if schedule.close_after else ""
        await send_private(
            interaction,
            content=t(
                locale,
                "daily.show",
                channel=f"<#{target}>",
                days=names,
                time=schedule.at.strftime("%H:%M"),
                zone=schedule.timezone,
                task=f", {schedule.task}" if schedule.task else "",
                window=window,
                mention=f", <@&{schedule.mention}>" if schedule.mention else "",
            ),
        )

    @daily.command(name="off", description=_("Stop the channel's daily question"))
    async def daily_off(
        self, interaction: discord.Interaction, channel: discord.TextChannel | None = None
    ) -> None:
        locale = locale_of(interaction)
        target = channel.id if channel else interaction.channel_id
        place = PlaceRef("discord", str(interaction.guild_id), str(target))
        stopped = await engine_of(interaction).stop_daily(place)
        key = "daily.off" if stopped else "daily.none"
        await send_private(interaction, content=t(locale, key, channel=f"<#{target}>"))

    async def _save(self, interaction: discord.Interaction, name: str, shown: str, **change: Any) -> None:
        locale = locale_of(interaction)
        try:
            await engine_of(interaction).update_settings(place_of(interaction), **change)
        except SettingRejected as error:
            allowed = t(locale, f"setting.allowed.{error.name}")
            await send_private(interaction, content=t(locale, "discord.setting.invalid", allowed=allowed))
            return
        await send_private(interaction, content=t(locale, "discord.setting.saved", name=name, value=shown))

    @app_commands.command(name="close", description=_("Close the open question in this channel now"))
    async def close(self, interaction: discord.Interaction) -> None:
        reveal = await engine_of(interaction).close_open(place_of(interaction))
        locale = locale_of(interaction)
        if reveal is None:
            await send_private(interaction, content=t(locale, "discord.no_open_round"))
            return
        await quiz_client(interaction).publish_reveal(reveal)
        await send_private(interaction, content=t(locale, "discord.closed"))

    @app_commands.command(
        name="reset-scores", description=_("Start a new season: leaderboards restart, answers are kept")
    )
    async def reset_scores(self, interaction: discord.Interaction) -> None:
        locale = locale_of(interaction)
        settings = await engine_of(interaction).fresh_settings(place_of(interaction))
        view = discord.ui.View(timeout=None)
        view.add_item(ResetButton(settings.season, t(locale, "discord.reset.button")))
        await send_private(interaction, content=t(locale, "discord.reset.confirm"), view=view)

    @app_commands.command(name="language", description=_("The server's default language"))
    @app_commands.describe(language=_("Language"))
    @app_commands.choices(
        language=[Choice(name="English", value="en"), Choice(name="Português (Brasil)", value="pt-BR")]
    )
    async def language(self, interaction: discord.Interaction, language: Choice[str]) -> None:
        await self._save(interaction, "language", language.name, locale=language.value)

    @app_commands.command(
        name="timezone", description=_("The server's time zone (weeks and months are cut in it)")
    )
    @app_commands.describe(zone=_("An IANA time zone, e.g. America/Sao_Paulo"))
    async def timezone(self, interaction: discord.Interaction, zone: str) -> None:
        await self._save(interaction, "timezone", zone, timezone=zone.strip())

    @timezone.autocomplete("zone")
    async def timezone_names(self, interaction: discord.Interaction, current: str) -> list[Choice[str]]:
        from zoneinfo import available_timezones

        wanted = current.lower().replace(" ", "_")
        names = sorted(z for z in available_timezones() if wanted in z.lower() and "/" in z)
        return [Choice(name=name, value=name) for name in names[:25]]

    @app_commands.command(name="feedback", description=_("When answers are revealed"))
    @app_commands.describe(mode=_("Feedback mode"))
    @app_commands.choices(
        mode=[
            Choice(name=_("Immediately, privately (teaching)"), value="immediate"),
            Choice(name=_("When the round closes (competitive)"), value="at-close"),
        ]
    )
    async def feedback(self, interaction: discord.Interaction, mode: Choice[str]) -> None:
        await self._save(interaction, "feedback", mode.value, feedback=FeedbackMode(mode.value))

    @app_commands.command(name="round-length", description=_("Default minutes a round stays open"))
    @app_commands.describe(minutes=_("Minutes (1–1440)"))
    async def round_length(
        self, interaction: discord.Interaction, minutes: app_commands.Range[int, 1, 1440]
    ) -> None:
        await self._save(interaction, "round length", str(minutes), round_minutes=minutes)

    @app_commands.command(
        name="role", description=_("The role whose members may run /quizadmin (empty: clear)")
    )
    @app_commands.describe(role=_("Quiz organiser role"))
    async def role(self, interaction: discord.Interaction, role: discord.Role | None = None) -> None:
        locale = locale_of(interaction)
        await engine_of(interaction).update_settings(
            place_of(interaction), organiser_role=str(role.id) if role else None
        )
        if role is None:
            await send_private(interaction, content=t(locale, "discord.role.cleared"))
        else:
            await send_private(interaction, content=t(locale, "discord.role.set", role=role.mention))
