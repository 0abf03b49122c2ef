"""``/quiz exam-date`` and ``/quiz remind`` on Discord, and the daily reminder's DM.

Discord does not tell a bot a member's time zone: a reminder time is read in the zone the
member names, else the one they used last, else the server's (``/quizadmin timezone``).
The reminder goes to the member's DM over REST (the scheduler needs no gateway); its
button starts a practice session right there, due reviews first.

custom_id of the button: ``quiz:rv``.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.app_commands import locale_str as _

from bot.adapters import plaintext as text
from bot.adapters.background import Undeliverable
from bot.adapters.discord import interactions
from bot.adapters.discord.interactions import (
    REFUSED_FOR_GOOD,
    engine_of,
    guarded,
    learner_of,
    place_of,
    reply_private,
)
from bot.adapters.plan import exam_date_reply, remind_reply
from bot.engine.reminders import Reminder
from bot.i18n import t

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizClientMixin

log = logging.getLogger(__name__)
REVIEW_SIZE = 10


class ReviewButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:rv"):
    """Under a reminder: start a practice session in this DM (due reviews come first)."""

    def __init__(self, label: str = "Start my reviews") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.primary, custom_id="quiz:rv")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReviewButton:
        return cls(str(getattr(item, "label", "") or "Start my reviews"))

    async def callback(self, interaction: discord.Interaction) -> None:
        await start_reviews(interaction)


PLAN_ITEMS = (ReviewButton,)


@guarded
async def start_reviews(interaction: discord.Interaction) -> None:
    work = engine_of(interaction).start_session(
        learner_of(interaction), place_of(interaction), size=REVIEW_SIZE
    )
    await reply_private(interaction, work, interactions.question_or_summary)


@app_commands.command(
    name="exam-date", description=_("Your exam date: a countdown in your stats, reviews planned before it")
)
@app_commands.describe(date=_("YYYY-MM-DD, or off to clear it"))
async def exam_date(interaction: discord.Interaction, date: str) -> None:
    work = exam_date_reply(engine_of(interaction), learner_of(interaction), date, "/quiz exam-date")
    await reply_private(interaction, work, lambda reply: {"content": reply[0]})


@app_commands.command(name="remind", description=_("A direct message on the days you have reviews due"))
@app_commands.describe(
    time=_("HH:MM in your time zone, or off"),
    timezone=_("Your IANA time zone, e.g. America/Sao_Paulo (default: the server's)"),
)
async def remind(interaction: discord.Interaction, time: str, timezone: str | None = None) -> None:
    work = remind_reply(
        engine_of(interaction),
        learner_of(interaction),
        time,
        place_of(interaction),
        "/quiz remind",
        named_zone=timezone.strip() if timezone else None,
    )
    await reply_private(interaction, work, lambda reply: {"content": reply})


PLAN_COMMANDS: tuple[app_commands.Command[Any, ..., None], ...] = (exam_date, remind)


async def send_reminder(client: QuizClientMixin, reminder: Reminder) -> None:
    """The reminder, in the member's DM, with the bot's own access. A member who takes no
    DMs (or has left Discord) is not worth a retry today: ``Undeliverable``."""
    view = discord.ui.View(timeout=None)
    view.add_item(ReviewButton(t(reminder.locale, "plan.remind.button")))
    try:
        dm = await client.create_dm(discord.Object(int(reminder.user_id)))  # type: ignore[attr-defined]
        await client._channel(dm.id).send(
            content=text.reminder(reminder),
            view=view,
            nonce=f"rm{reminder.learner_id}.{reminder.local_date:%m%d}",  # a retried send posts once
        )
    except REFUSED_FOR_GOOD as error:
        raise Undeliverable(f"{error.status} {error.text or ''}".strip()) from error
