"""``/quiz exam`` on Discord: a timed mock exam in the learner's DM with the bot.

The command is acknowledged privately in the server; everything after that goes through
the bot's own access to the DM channel (REST), never the command's interaction token,
which dies after 15 minutes while an exam may last longer. Each click in the DM is
answered within its 3 seconds by editing the exam message in place. When the time runs
out, the scheduler's closing loop submits the exam and sends the result to the DM.

custom_id layout: ``quiz:xa:<exam>:<position>:<letter>`` (answer), ``quiz:xm:<exam>:<position>``
(multiple response), ``quiz:xg:<exam>:<position>`` (go to a question), ``quiz:xs:<exam>`` (submit).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord

from bot.adapters import plaintext as text
from bot.adapters.discord.interactions import (
    FAST_REPLY_SECONDS,
    REFUSED_FOR_GOOD,
    engine_of,
    guarded,
    learner_of,
    locale_of,
    send_private,
)
from bot.adapters.discord.render import (
    DESCRIPTION_LIMIT,
    EMBED_LIMIT,
    OPTION_LABEL_LIMIT,
    QUESTION_COLOUR,
    RIGHT_COLOUR,
    TITLE_LIMIT,
    WRONG_COLOUR,
    cut,
    fit,
    question_description,
    timestamp,
)
from bot.engine import PlaceRef
from bot.engine.cards import ExamQuestionCard, ExamRefused, ExamResultCard
from bot.engine.service import EngineError
from bot.i18n import t

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizClientMixin

log = logging.getLogger(__name__)
ID = r"\d{1,18}"
EMBEDS_PER_MESSAGE = 10
ExamReply = ExamQuestionCard | ExamResultCard | ExamRefused


# -- components ---------------------------------------------------------------------------


class ExamAnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"quiz:xa:(?P<exam>{ID}):(?P<position>\d{{1,3}}):(?P<letter>[A-F])",
):
    def __init__(self, exam_id: int, position: int, letter: str, *, chosen: bool = False) -> None:
        style = discord.ButtonStyle.primary if chosen else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=letter, style=style, custom_id=f"quiz:xa:{exam_id}:{position}:{letter}", row=0
            )
        )
        self.exam_id, self.position, self.letter = exam_id, position, letter

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExamAnswerButton:
        return cls(int(match["exam"]), int(match["position"]), match["letter"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer(interaction, self.exam_id, self.position, [self.letter])


class ExamAnswerSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=rf"quiz:xm:(?P<exam>{ID}):(?P<position>\d{{1,3}})",
):
    """Multiple response: one menu where exactly ``count`` options are picked."""

    def __init__(
        self,
        exam_id: int,
        position: int,
        options: list[discord.SelectOption],
        count: int,
        placeholder: str | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"quiz:xm:{exam_id}:{position}",
                options=options,
                min_values=count,
                max_values=count,
                placeholder=placeholder,
                row=0,
            )
        )
        self.exam_id, self.position = exam_id, position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExamAnswerSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(
            int(match["exam"]), int(match["position"]), item.options, item.min_values, item.placeholder
        )

    async def callback(self, interaction: discord.Interaction) -> None:
        await answer(interaction, self.exam_id, self.position, list(self.item.values))


class ExamGoButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"quiz:xg:(?P<exam>{ID}):(?P<position>\d{{1,3}})",
):
    def __init__(self, exam_id: int, position: int, label: str = "Next", *, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"quiz:xg:{exam_id}:{position}",
                disabled=disabled,
                row=2,
            )
        )
        self.exam_id, self.position = exam_id, position

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExamGoButton:
        return cls(int(match["exam"]), int(match["position"]), getattr(item, "label", None) or "Next")

    async def callback(self, interaction: discord.Interaction) -> None:
        await go(interaction, self.exam_id, self.position)


class ExamSubmitButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"quiz:xs:(?P<exam>{ID})"):
    def __init__(self, exam_id: int, label: str = "Submit exam") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.success, custom_id=f"quiz:xs:{exam_id}", row=2
            )
        )
        self.exam_id = exam_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ExamSubmitButton:
        return cls(int(match["exam"]), getattr(item, "label", None) or "Submit exam")

    async def callback(self, interaction: discord.Interaction) -> None:
        await submit(interaction, self.exam_id)


EXAM_ITEMS = (ExamAnswerButton, ExamAnswerSelect, ExamGoButton, ExamSubmitButton)


# -- rendering ----------------------------------------------------------------------------


def exam_embed(card: ExamQuestionCard) -> discord.Embed:
    title = t(card.locale, "exam.progress", position=card.position, size=card.size, answered=card.answered)
    embed = discord.Embed(
        title=cut(title, TITLE_LIMIT),
        description=question_description(card),
        colour=QUESTION_COLOUR,
    )
    if card.chosen_letters:
        embed.add_field(
            name="✎",
            value=t(card.locale, "exam.your_answer", letters=", ".join(card.chosen_letters)),
            inline=False,
        )
    embed.add_field(
        name="⏱", value=t(card.locale, "exam.submits_at", when=timestamp(card.deadline)), inline=False
    )
    embed.set_footer(text=t(card.locale, "question.header", task=card.task, objective=card.objective))
    return fit(embed)


def exam_view(card: ExamQuestionCard) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if card.select_count == 1:
        for option in card.options:
            view.add_item(
                ExamAnswerButton(
                    card.exam_id, card.position, option.letter, chosen=option.letter in card.chosen_letters
                )
            )
    else:
        choices = [
            discord.SelectOption(
                label=cut(f"{o.letter}. {o.text}", OPTION_LABEL_LIMIT),
                value=o.letter,
                default=o.letter in card.chosen_letters,
            )
            for o in card.options
        ]
        placeholder = t(card.locale, "exam.select", count=card.select_count)
        view.add_item(ExamAnswerSelect(card.exam_id, card.position, choices, card.select_count, placeholder))
    previous, following = max(1, card.position - 1), min(card.size, card.position + 1)
    view.add_item(
        ExamGoButton(
            card.exam_id,
            previous,
            t(card.locale, "exam.button.previous"),
            disabled=card.position == 1,
        )
    )
    view.add_item(
        ExamGoButton(
            card.exam_id,
            following if following != previous else card.position,
            t(card.locale, "exam.button.next"),
            disabled=card.position == card.size,
        )
    )
    view.add_item(ExamSubmitButton(card.exam_id, t(card.locale, "exam.button.submit")))
    return view


def result_embeds(card: ExamResultCard) -> list[discord.Embed]:
    """The result: the score first, then one embed per missed question with its explanation."""
    head_title, _, head_body = text.exam_result_head(card).partition("\n")
    embeds = [
        discord.Embed(
            title=cut(head_title, TITLE_LIMIT),
            description=cut(head_body, DESCRIPTION_LIMIT),
            colour=RIGHT_COLOUR if card.passed else WRONG_COLOUR,
        )
    ]
    for block in text.exam_missed(card):
        title, _, body = block.partition("\n")
        embed = discord.Embed(
            title=cut(title, TITLE_LIMIT), description=cut(body, DESCRIPTION_LIMIT), colour=WRONG_COLOUR
        )
        embeds.append(fit(embed))
    return embeds


def batches(embeds: list[discord.Embed]) -> list[list[discord.Embed]]:
    """Embeds grouped into messages: at most 10 per message and 6,000 characters in all."""
    groups: list[list[discord.Embed]] = []
    for embed in embeds:
        last = groups[-1] if groups else None
        if last and len(last) < EMBEDS_PER_MESSAGE and sum(map(len, last)) + len(embed) <= EMBED_LIMIT:
            last.append(embed)
        else:
            groups.append([embed])
    return groups


async def deliver_result(client: QuizClientMixin, card: ExamResultCard, *, head_shown: bool = False) -> None:
    """Send a result to the DM the exam ran in, with the bot's own access. Each message
    carries a nonce, so a result sent again after a lost reply is not posted twice. A DM
    Discord refuses for good (the member closed their DMs or left every shared server, the
    channel is gone) is given up at once with one log line; any other failure raises, and
    the closing loop tries again later."""
    if card.place is None:
        return
    channel = client._channel(int(card.place.channel))
    embeds = result_embeds(card)[1 if head_shown else 0 :]
    try:
        for index, group in enumerate(batches(embeds)):
            await channel.send(embeds=group, nonce=f"x{card.exam_id}.{index + int(head_shown)}")
    except REFUSED_FOR_GOOD as error:
        log.warning(
            "the result of mock exam %s cannot be sent to its DM: %s %s; not trying again",
            card.exam_id,
            error.status,
            error.code,
        )
        await client.engine.exam_result_undeliverable(card.exam_id)
        return
    await client.engine.exam_result_sent(card.exam_id)


# -- handlers -----------------------------------------------------------------------------


async def start(interaction: discord.Interaction, count: int) -> None:
    """Acknowledge privately, open the DM, start (or resume) the exam there."""
    from bot.adapters.discord.interactions import quiz_client

    await interaction.response.defer(ephemeral=True, thinking=True)
    locale = locale_of(interaction)
    client = quiz_client(interaction)
    try:
        dm = await interaction.user.create_dm()
    except discord.HTTPException:
        await send_private(interaction, content=t(locale, "exam.dm_closed"))
        return
    guild = str(interaction.guild_id) if interaction.guild_id else "dm"
    try:
        card = await engine_of(interaction).start_exam(
            learner_of(interaction), PlaceRef("discord", guild, str(dm.id)), size=count
        )
    except EngineError:
        await send_private(interaction, content=t(locale, "exam.no_questions"))
        return
    minutes = round((card.deadline - client.engine.clock()).total_seconds() / 60)
    try:
        await client._channel(dm.id).send(
            content=t(card.locale, "exam.intro", count=card.size, minutes=minutes),
            embed=exam_embed(card),
            view=exam_view(card),
        )
    except discord.Forbidden:  # the member does not take DMs from server members
        await client.engine.discard_exam_never_shown(card.exam_id)
        await send_private(interaction, content=t(locale, "exam.dm_closed"))
        return
    await send_private(
        interaction,
        content=t(locale, "exam.started", count=card.size, minutes=minutes)
        + f" https://discord.com/channels/@me/{dm.id}",
    )


async def _reply(interaction: discord.Interaction, work: Awaitable[ExamReply]) -> None:
    """Answer a click within Discord's 3 seconds by editing the exam message in place (a
    deferred update first if the work is slow, then an edit over REST); a refusal is private."""
    from bot.adapters.discord.interactions import quiz_client

    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=FAST_REPLY_SECONDS)
    deferred = task not in done
    if deferred:
        await interaction.response.defer()
    card = await task
    if isinstance(card, ExamRefused):
        await send_private(interaction, content=text.refusal(card))
        return
    client = quiz_client(interaction)
    if isinstance(card, ExamQuestionCard):
        changes: dict[str, Any] = {"embed": exam_embed(card), "view": exam_view(card)}
    else:
        changes = {"embed": result_embeds(card)[0], "view": None, "content": None}
    if not deferred:
        await interaction.response.edit_message(**changes)
    elif interaction.message is not None:
        message = client._channel(interaction.message.channel.id).get_partial_message(interaction.message.id)
        await message.edit(**changes)
    if isinstance(card, ExamResultCard):
        await deliver_result(client, card, head_shown=True)


@guarded
async def answer(interaction: discord.Interaction, exam_id: int, position: int, letters: list[str]) -> None:
    await _reply(
        interaction, engine_of(interaction).exam_answer(exam_id, learner_of(interaction), position, letters)
    )


@guarded
async def go(interaction: discord.Interaction, exam_id: int, position: int) -> None:
    await _reply(
        interaction, engine_of(interaction).exam_question(exam_id, learner_of(interaction), position)
    )


@guarded
async def submit(interaction: discord.Interaction, exam_id: int) -> None:
    await _reply(interaction, engine_of(interaction).submit_exam(exam_id, learner_of(interaction)))
