"""Cards as Block Kit. Every text is cut to Slack's limits (section text 3,000, button
text 75, checkbox option 150, 50 blocks a message, 100 in App Home), so no question of
the bank can make a post fail; a test renders the whole bank through these functions."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.adapters import plaintext as text
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

Block = dict[str, Any]
SECTION_LIMIT = 3000
BUTTON_LIMIT = 75
OPTION_LIMIT = 150
HEADER_LIMIT = 150
MESSAGE_BLOCKS = 50
HOME_BLOCKS = 100


def cut(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def escape(value: str) -> str:
    """Slack mrkdwn: &, < and > must be escaped, or a name could become a mention."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def section(body: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": cut(body, SECTION_LIMIT)}}


def header(title: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": cut(title, HEADER_LIMIT)}}


def context(body: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": cut(body, SECTION_LIMIT)}]}


def button(label: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(label, BUTTON_LIMIT)},
        "action_id": action_id,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def slack_date(moment: datetime, locale: str) -> str:
    """Slack shows this in each reader's own time zone."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{time}}|{fallback}>"


def _options(card_options: Any) -> str:
    return "\n".join(f"*{o.letter}.* {escape(o.text)}" for o in card_options)


def question_blocks(card: QuestionCard) -> list[Block]:
    locale = card.locale
    how = text.how_to_answer(card)
    title = t(locale, "discord.question.title", task=card.task, objective=card.objective)
    if card.daily_date:
        title = f"{t(locale, 'daily.title', date=card.daily_date)} · {card.task}"
    blocks = [
        header(title),
        section(escape(card.stem)),
        section(_options(card.options)),
    ]
    if card.select_count == 1:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"quiz_round_{card.round_id}",
                "elements": [
                    button(o.letter, f"quiz_answer_{o.letter}", f"{card.round_id}:{o.letter}")
                    for o in card.options
                ],
            }
        )
    else:
        blocks.append(
            {
                "type": "actions",
                "block_id": f"quiz_round_{card.round_id}",
                "elements": [
                    button(
                        t(locale, "slack.answer", count=card.select_count),
                        "quiz_answer_multi",
                        str(card.round_id),
                        "primary",
                    )
                ],
            }
        )
    footer = [how]
    if card.deadline is not None:
        footer.append(t(locale, "question.closes", time=slack_date(card.deadline, locale)))
    if card.position is not None and card.session_size is not None:
        footer.append(t(locale, "question.session_progress", position=card.position, size=card.session_size))
    else:
        footer.append(t(locale, "discord.question.footer", round=card.round_id))
    blocks.append(context(" · ".join(footer)))
    return blocks


def question_fallback(card: QuestionCard) -> str:
    """The notification text (and what screen readers announce)."""
    return cut(f"{card.task} · {card.stem}", 300)


def closed_question_blocks(reveal: RevealCard) -> list[Block]:
    """The posted question once closed: options stay, buttons go, the key is shown."""
    marked = "\n".join(f"{'✅' if o.correct else '▫️'} *{o.letter}.* {escape(o.text)}" for o in reveal.options)
    return [
        section(escape(reveal.stem)),
        section(marked),
        context(
            f"{t(reveal.locale, 'reveal.title')} · "
            f"{t(reveal.locale, 'reveal.answer_is', letters=', '.join(reveal.correct_letters))}"
        ),
    ]


def reveal_blocks(reveal: RevealCard) -> list[Block]:
    locale = reveal.locale
    lines = []
    for o in reveal.options:
        share = round(100 * o.picks / reveal.total_answers) if reveal.total_answers else 0
        lines.append(f"{'✅' if o.correct else '▫️'} *{o.letter}* — {o.picks} ({share}%)")
    lines.append(t(locale, "reveal.total", count=reveal.total_answers))
    if reveal.right_names:
        key = "reveal.right_more" if reveal.more_right else "reveal.right"
        lines.append(
            t(locale, key, names=", ".join(escape(n) for n in reveal.right_names), more=reveal.more_right)
        )
    else:
        lines.append(t(locale, "reveal.nobody"))
    lines += [t(locale, "reveal.streak", name=escape(name), days=days) for name, days in reveal.streaks]
    blocks = [
        header(
            f"{t(locale, 'reveal.title')} · "
            f"{t(locale, 'reveal.answer_is', letters=', '.join(reveal.correct_letters))}"
        ),
        section("\n".join(lines)),
        section(f"💡 {escape(reveal.why)}"),
    ]
    if reveal.why_wrong:
        blocks.append(section("\n".join(f"✗ *{letter}*: {escape(why)}" for letter, why in reveal.why_wrong)))
    blocks.append(context("📖 " + " ".join(reveal.references)))
    return blocks


def feedback_blocks(card: FeedbackCard) -> list[Block]:
    locale = card.locale
    verdict = t(locale, "feedback.correct" if card.correct else "feedback.wrong")
    top = "\n".join(
        [
            f"*{verdict}* "
            + t(locale, "feedback.you_chose", letters=", ".join(card.chosen_letters))
            + " "
            + t(locale, "feedback.answer_is", letters=", ".join(card.correct_letters)),
            t(locale, "feedback.why", why=escape(card.why)),
        ]
    )
    wrong = "\n".join(
        f"✗ *{o.letter}. {escape(cut(o.text, 120))}* — {escape(o.why_wrong)}"
        for o in card.options
        if o.why_wrong
    )
    buttons = []
    if card.session_id is not None:
        buttons.append(button(t(locale, "discord.next"), "quiz_next", str(card.session_id), "primary"))
    if card.correct:  # a right answer may have been a guess: "I guessed" brings it back sooner
        buttons.append(button(t(locale, "guessed.button"), "quiz_guessed", str(card.round_id)))
    buttons.append(button(t(locale, "discord.report"), "quiz_report", str(card.round_id)))
    return [
        section(top),
        section(wrong),
        context("📖 " + " ".join(card.references)),
        {"type": "actions", "elements": buttons},
    ]


def answer_blocks(result: FeedbackCard | RecordedCard | AnswerRefused) -> tuple[str, list[Block]]:
    if isinstance(result, FeedbackCard):
        verdict = t(result.locale, "feedback.correct" if result.correct else "feedback.wrong")
        return verdict, feedback_blocks(result)
    if isinstance(result, RecordedCard):  # "I guessed" for right and wrong alike: nothing given away
        message = text.recorded(result)
        guessed = button(t(result.locale, "guessed.button"), "quiz_guessed", str(result.round_id))
        return message, [section(message), {"type": "actions", "elements": [guessed]}]
    message = text.refusal(result)
    return message, [section(message)]


def report_blocks(body: str) -> list[Block]:
    """A plain-text report (leaderboard, stats, summary): bold title, then the lines."""
    title, _, rest = body.partition("\n")
    return [section(f"*{escape(title)}*\n{escape(rest)}")]


def leaderboard_blocks(card: LeaderboardCard) -> list[Block]:
    return report_blocks(text.leaderboard(card))


def streaks_blocks(card: StreaksCard) -> list[Block]:
    return report_blocks(text.streaks(card))


def stats_blocks(card: StatsCard) -> list[Block]:
    return report_blocks(text.stats(card))


def summary_blocks(card: SessionSummaryCard) -> list[Block]:
    return report_blocks(text.summary(card))


def multi_answer_view(
    card: QuestionCard | ExamQuestionCard, metadata: dict[str, Any], callback_id: str = "quiz_multi"
) -> Block:
    """The modal for multiple response: checkboxes survive here, unlike in a channel
    message, where every update of the message clears a learner's half-made choice."""
    locale = card.locale
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": json.dumps(metadata),
        "title": {"type": "plain_text", "text": cut(t(locale, "slack.modal.title"), 24)},
        "submit": {"type": "plain_text", "text": cut(t(locale, "slack.modal.submit"), 24)},
        "close": {"type": "plain_text", "text": cut(t(locale, "slack.modal.cancel"), 24)},
        "blocks": [
            section(escape(card.stem)),
            section(_options(card.options)),
            {
                "type": "input",
                "block_id": "choice",
                "label": {
                    "type": "plain_text",
                    "text": cut(t(locale, "question.select_many", count=card.select_count), 2000),
                },
                "element": {
                    "type": "checkboxes",
                    "action_id": "letters",
                    "options": [
                        {
                            "text": {
                                "type": "plain_text",
                                "text": cut(f"{o.letter}. {o.text}", OPTION_LIMIT),
                            },
                            "value": o.letter,
                        }
                        for o in card.options
                    ],
                },
            },
        ],
    }


def report_view(round_id: int, locale: str, metadata: dict[str, Any]) -> Block:
    return {
        "type": "modal",
        "callback_id": "quiz_report_view",
        "private_metadata": json.dumps({**metadata, "round": round_id}),
        "title": {"type": "plain_text", "text": cut(t(locale, "discord.report"), 24)},
        "submit": {"type": "plain_text", "text": cut(t(locale, "slack.modal.send"), 24)},
        "blocks": [
            {
                "type": "input",
                "block_id": "comment",
                "optional": True,
                "label": {"type": "plain_text", "text": cut(t(locale, "discord.report.label"), 2000)},
                "element": {
                    "type": "plain_text_input",
                    "action_id": "text",
                    "multiline": True,
                    "max_length": 500,
                },
            }
        ],
    }


def confirm_blocks(question: str, label: str, action_id: str, value: str) -> list[Block]:
    """A private question with one red button that carries what it confirms."""
    return [section(question), {"type": "actions", "elements": [button(label, action_id, value, "danger")]}]


def reset_blocks(season: int, locale: str) -> list[Block]:
    return confirm_blocks(
        t(locale, "discord.reset.confirm"), t(locale, "discord.reset.button"), "quiz_reset", str(season)
    )


def forget_blocks(user_id: str, locale: str) -> list[Block]:
    """The button carries who asked: only they may confirm."""
    return confirm_blocks(
        t(locale, "privacy.forget.confirm"),
        t(locale, "privacy.forget.button"),
        "quiz_privacy_forget",
        user_id,
    )


EXPORT_MESSAGE_LIMIT = 39_000  # Slack cuts a message's text at 40,000 characters
EXPORT_MESSAGES = 4  # a response URL takes 5 posts; one is left for an error


def export_parts(
    text: str, limit: int = EXPORT_MESSAGE_LIMIT, most: int = EXPORT_MESSAGES
) -> list[str] | None:
    """A personal export cut at line ends into code blocks that each fit a message (None if
    it needs more than ``most``). Slack's control characters are escaped; Slack shows them as typed."""
    parts: list[str] = []
    current = ""
    for line in escape(text).replace("```", "`\u200b``").splitlines(keepends=True):
        if current and len(current) + len(line) > limit:
            parts.append(current)
            current = ""
        current += line
    parts.append(current)
    if len(parts) > most or any(len(part) > limit for part in parts):
        return None
    return [f"```{part}```" for part in parts]


def home_view(stats: StatsCard, board: LeaderboardCard) -> Block:
    locale = stats.locale
    blocks: list[Block] = [header(t(locale, "slack.home.title"))]
    blocks += stats_blocks(stats)
    rank = (
        t(
            locale,
            "leaderboard.you",
            rank=board.viewer_rank,
            total=board.total_learners,
            score=board.viewer_score,
        )
        if board.viewer_rank is not None
        else t(locale, "leaderboard.you_none")
    )
    blocks.append(context(rank))
    blocks.append(
        {
            "type": "actions",
            "elements": [button(t(locale, "slack.home.practice"), "quiz_practice_home", "10", "primary")],
        }
    )
    blocks.append({"type": "divider"})
    blocks += leaderboard_blocks(board)
    return {"type": "home", "blocks": blocks[:HOME_BLOCKS]}
