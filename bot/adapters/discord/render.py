"""Cards as Discord embeds and components.

Every text is cut to Discord's limits (embed description 4,096, field value 1,024,
button label 80, select option label 100), so no question of the bank can make a post
fail; a test renders the whole bank through these functions.
"""

from __future__ import annotations

from datetime import datetime

import discord

from bot.adapters import plaintext as text
from bot.adapters.discord.components import (
    AnswerButton,
    AnswerSelect,
    GuessedButton,
    NextButton,
    ReportButton,
)
from bot.engine.cards import (
    AnswerRefused,
    ExamQuestionCard,
    FeedbackCard,
    LeaderboardCard,
    QuestionCard,
    RecordedCard,
    RevealCard,
    SessionSummaryCard,
    StatsCard,
    StreaksCard,
)
from bot.i18n import t

DESCRIPTION_LIMIT = 4096
FIELD_LIMIT = 1024
FIELD_NAME_LIMIT = 256
TITLE_LIMIT = 256
OPTION_LABEL_LIMIT = 100
QUESTION_COLOUR = discord.Colour.blurple()
RIGHT_COLOUR = discord.Colour.green()
WRONG_COLOUR = discord.Colour.red()


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


EMBED_LIMIT = 6000


def fit(embed: discord.Embed) -> discord.Embed:
    """Keep an embed within Discord's 6,000 characters in all: the longest field gives way
    first (a question at every schema maximum would otherwise exceed it)."""
    while len(embed) > EMBED_LIMIT and embed.fields:
        index, longest = max(enumerate(embed.fields), key=lambda item: len(item[1].value or ""))
        value = longest.value or ""
        keep = max(20, len(value) - (len(embed) - EMBED_LIMIT))
        if keep >= len(value):
            break
        embed.set_field_at(index, name=longest.name, value=cut(value, keep), inline=longest.inline)
    if len(embed) > EMBED_LIMIT and embed.description:
        embed.description = cut(
            embed.description, max(100, len(embed.description) - (len(embed) - EMBED_LIMIT))
        )
    return embed


def timestamp(moment: datetime, style: str = "R") -> str:
    """A Discord timestamp: every reader sees it in their own time zone ("in 10 minutes")."""
    return f"<t:{int(moment.timestamp())}:{style}>"


def question_description(card: QuestionCard | ExamQuestionCard) -> str:
    """The stem, the lettered options and how to answer: a channel question or an exam's."""
    options = "\n".join(f"**{o.letter}.** {o.text}" for o in card.options)
    return cut(f"{card.stem}\n\n{options}\n\n*{text.how_to_answer(card)}*", DESCRIPTION_LIMIT)


def question_embed(card: QuestionCard) -> discord.Embed:
    title = t(card.locale, "discord.question.title", task=card.task, objective=card.objective)
    if card.daily_date:
        title = f"{t(card.locale, 'daily.title', date=card.daily_date)} · {card.task}"
    embed = discord.Embed(
        title=cut(title, TITLE_LIMIT),
        description=question_description(card),
        colour=QUESTION_COLOUR,
    )
    if card.deadline is not None:
        embed.add_field(
            name="⏱",
            value=t(card.locale, "discord.question.closes", when=timestamp(card.deadline)),
            inline=False,
        )
    footer = t(card.locale, "discord.question.footer", round=card.round_id)
    if card.position is not None and card.session_size is not None:
        footer = t(card.locale, "question.session_progress", position=card.position, size=card.session_size)
    embed.set_footer(text=footer)
    return embed


def question_view(card: QuestionCard, *, disabled: bool = False) -> discord.ui.View:
    """Buttons for single answers; a select (min = max = count) for multiple response."""
    view = discord.ui.View(timeout=None)
    if card.select_count == 1:
        for option in card.options:
            view.add_item(AnswerButton(card.round_id, option.letter, disabled=disabled))
    else:
        choices = [
            discord.SelectOption(label=cut(f"{o.letter}. {o.text}", OPTION_LABEL_LIMIT), value=o.letter)
            for o in card.options
        ]
        placeholder = t(card.locale, "discord.question.pick", count=card.select_count)
        view.add_item(AnswerSelect(card.round_id, choices, card.select_count, placeholder, disabled=disabled))
    return view


def feedback_embed(card: FeedbackCard) -> discord.Embed:
    locale = card.locale
    embed = discord.Embed(
        title=t(locale, "feedback.correct" if card.correct else "feedback.wrong"),
        description=cut(
            "\n".join(
                [
                    t(locale, "feedback.you_chose", letters=", ".join(card.chosen_letters)),
                    t(locale, "feedback.answer_is", letters=", ".join(card.correct_letters)),
                    "",
                    t(locale, "feedback.why", why=card.why),
                ]
            ),
            DESCRIPTION_LIMIT,
        ),
        colour=RIGHT_COLOUR if card.correct else WRONG_COLOUR,
    )
    for option in card.options:
        if option.why_wrong:
            embed.add_field(
                name=cut(f"✗ {option.letter}. {option.text}", FIELD_NAME_LIMIT),
                value=cut(option.why_wrong, FIELD_LIMIT),
                inline=False,
            )
    embed.add_field(name="📖", value=cut("\n".join(card.references), FIELD_LIMIT), inline=False)
    return fit(embed)


def feedback_view(card: FeedbackCard, session_id: int | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if session_id is not None:
        view.add_item(NextButton(session_id, t(card.locale, "discord.next")))
    if card.correct:  # a right answer may have been a guess: it should come back sooner
        view.add_item(GuessedButton(card.round_id, t(card.locale, "guessed.button")))
    view.add_item(ReportButton(card.round_id, t(card.locale, "discord.report")))
    return view


def recorded_message(card: RecordedCard) -> str:
    return text.recorded(card)


def recorded_view(card: RecordedCard) -> discord.ui.View:
    """ "I guessed" under every acknowledged answer, right or wrong: offering it only to
    right ones would give the result away before the round closes."""
    view = discord.ui.View(timeout=None)
    view.add_item(GuessedButton(card.round_id, t(card.locale, "guessed.button")))
    return view


def refusal_message(card: AnswerRefused) -> str:
    return text.refusal(card)


def reveal_embed(card: RevealCard) -> discord.Embed:
    locale = card.locale
    letters = ", ".join(card.correct_letters)
    lines = [cut(card.stem, 1500), ""]
    for option in card.options:
        share = round(100 * option.picks / card.total_answers) if card.total_answers else 0
        mark = "✅" if option.correct else "▫️"
        lines.append(f"{mark} **{option.letter}.** {cut(option.text, 200)} — {option.picks} ({share}%)")
    lines.append("")
    lines.append(t(locale, "reveal.total", count=card.total_answers))
    if card.right_names:
        key = "reveal.right_more" if card.more_right else "reveal.right"
        names = ", ".join(discord.utils.escape_markdown(n) for n in card.right_names)
        lines.append(t(locale, key, names=names, more=card.more_right))
    else:
        lines.append(t(locale, "reveal.nobody"))
    lines += [
        t(locale, "reveal.streak", name=discord.utils.escape_markdown(name), days=days)
        for name, days in card.streaks
    ]
    embed = discord.Embed(
        title=cut(
            f"{t(locale, 'reveal.title')} · {t(locale, 'reveal.answer_is', letters=letters)}", TITLE_LIMIT
        ),
        description=cut("\n".join(lines), DESCRIPTION_LIMIT),
        colour=RIGHT_COLOUR,
    )
    embed.add_field(name="💡", value=cut(card.why, FIELD_LIMIT), inline=False)
    for letter, why in card.why_wrong:
        embed.add_field(name=f"✗ {letter}", value=cut(why, FIELD_LIMIT), inline=False)
    embed.add_field(name="📖", value=cut("\n".join(card.references), FIELD_LIMIT), inline=False)
    return fit(embed)


def _text_embed(body: str, colour: discord.Colour, *, escape: bool = False) -> discord.Embed:
    """A plain-text report as an embed: its first line is the title."""
    title, _, rest = body.partition("\n")
    return discord.Embed(
        title=cut(title, TITLE_LIMIT),
        description=cut(discord.utils.escape_markdown(rest) if escape else rest, DESCRIPTION_LIMIT),
        colour=colour,
    )


def leaderboard_embed(card: LeaderboardCard) -> discord.Embed:
    return _text_embed(text.leaderboard(card), QUESTION_COLOUR, escape=True)  # names are members' own


def stats_embed(card: StatsCard) -> discord.Embed:
    return _text_embed(text.stats(card), QUESTION_COLOUR)


def summary_embed(card: SessionSummaryCard) -> discord.Embed:
    return _text_embed(text.summary(card), RIGHT_COLOUR)


def streaks_embed(card: StreaksCard) -> discord.Embed:
    return _text_embed(text.streaks(card), QUESTION_COLOUR, escape=True)
