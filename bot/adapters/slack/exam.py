"""``/quiz exam`` on Slack: a timed mock exam in the app's DM with the learner.

The command is answered privately in the channel; the exam itself is a message in the
DM (``conversations.open``) that each click updates in place with the bot token
(``chat.update``), never a response URL, which expires after 30 minutes. Multiple
response opens a form with checkboxes, as the channel questions do. When the time runs
out, the closing loop submits the exam and posts the result to the DM.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.adapters import plaintext as text
from bot.adapters.slack.blocks import (
    MESSAGE_BLOCKS,
    Block,
    button,
    context,
    cut,
    escape,
    header,
    multi_answer_view,
    section,
    slack_date,
)
from bot.adapters.slack.plan import UNREACHABLE
from bot.engine import LearnerRef, PlaceRef
from bot.engine.cards import ExamQuestionCard, ExamRefused, ExamResultCard
from bot.engine.exam import DEFAULT_EXAM_SIZE, MAX_EXAM_SIZE
from bot.engine.service import EngineError
from bot.i18n import t

if TYPE_CHECKING:
    from bot.adapters.slack.app import SlackQuiz

log = logging.getLogger(__name__)
Responder = Callable[..., Awaitable[Any]]
ANSWER = re.compile(r"^quiz_exam_answer_[A-F]$")
ExamReply = ExamQuestionCard | ExamResultCard | ExamRefused


# -- rendering ----------------------------------------------------------------------------


def exam_blocks(card: ExamQuestionCard) -> list[Block]:
    locale = card.locale
    options = "\n".join(
        f"{'➤ ' if o.letter in card.chosen_letters else ''}*{o.letter}.* {escape(o.text)}"
        for o in card.options
    )
    how = text.how_to_answer(card)
    value = f"{card.exam_id}:{card.position}"
    if card.select_count == 1:
        answers = [
            button(
                o.letter,
                f"quiz_exam_answer_{o.letter}",
                f"{value}:{o.letter}",
                "primary" if o.letter in card.chosen_letters else None,
            )
            for o in card.options
        ]
    else:
        answers = [button(t(locale, "exam.button.answer"), "quiz_exam_multi", value, "primary")]
    moves = []
    if card.position > 1:
        moves.append(
            button(
                t(locale, "exam.button.previous"), "quiz_exam_previous", f"{card.exam_id}:{card.position - 1}"
            )
        )
    if card.position < card.size:
        moves.append(
            button(t(locale, "exam.button.next"), "quiz_exam_next", f"{card.exam_id}:{card.position + 1}")
        )
    moves.append(button(t(locale, "exam.button.submit"), "quiz_exam_submit", str(card.exam_id), "danger"))
    footer = [how, t(locale, "exam.submits_at", when=slack_date(card.deadline, locale))]
    if card.chosen_letters:
        footer.insert(0, t(locale, "exam.your_answer", letters=", ".join(card.chosen_letters)))
    return [
        header(t(locale, "exam.progress", position=card.position, size=card.size, answered=card.answered)),
        section(escape(card.stem)),
        section(options),
        {"type": "actions", "block_id": f"quiz_exam_{card.exam_id}_answer", "elements": answers},
        {"type": "actions", "block_id": f"quiz_exam_{card.exam_id}_move", "elements": moves},
        context(" · ".join(footer)),
    ]


def exam_fallback(card: ExamQuestionCard) -> str:
    return cut(
        t(card.locale, "exam.progress", position=card.position, size=card.size, answered=card.answered), 300
    )


def result_head_blocks(card: ExamResultCard) -> list[Block]:
    title, _, body = text.exam_result_head(card).partition("\n")
    return [header(title), section(escape(body))]


def result_review_blocks(card: ExamResultCard) -> list[list[Block]]:
    """The missed questions with their explanations, in messages of at most 50 blocks."""
    blocks = []
    for review in text.exam_missed(card):
        title, _, body = review.partition("\n")
        blocks += [section(f"*{escape(title)}*"), section(escape(body))]
    return [blocks[i : i + MESSAGE_BLOCKS] for i in range(0, len(blocks), MESSAGE_BLOCKS)]


# -- delivery -----------------------------------------------------------------------------


async def deliver_result(
    quiz: SlackQuiz, card: ExamResultCard, client: AsyncWebClient | None = None, *, head_shown: bool = False
) -> None:
    """Post a result to the DM the exam ran in, with the workspace's bot token. Reading
    the DM's history would need one more permission (im:history) from every workspace, so
    a result whose post arrived but whose reply was lost may be posted a second time: a
    repeat rather than a loss. A result that can never be posted (no token any more, or
    an answer from Slack that will not change) is given up at once with one log line;
    any other failure raises, and the closing loop tries again later."""
    if card.place is None:
        return
    client = client or await quiz.client_for(card.place.workspace)
    if client is None:
        await give_up(quiz, card, "no bot token for the workspace (app uninstalled?)")
        return
    channel = card.place.channel
    messages = ([] if head_shown else [result_head_blocks(card)]) + result_review_blocks(card)
    title = t(card.locale, "exam.result.title")
    try:
        for body in messages:
            await client.chat_postMessage(channel=channel, text=title, blocks=body, unfurl_links=False)
    except SlackApiError as error:
        reason = str(error.response.get("error"))
        if reason not in UNREACHABLE:
            raise
        await give_up(quiz, card, reason)
        return
    await quiz.engine.exam_result_sent(card.exam_id)


async def give_up(quiz: SlackQuiz, card: ExamResultCard, reason: str) -> None:
    """Stop offering a result that cannot be delivered; the one log line names the exam,
    the workspace and the reason, never a token."""
    log.warning(
        "the result of mock exam %s cannot be sent to workspace %s: %s; not trying again",
        card.exam_id,
        card.place.workspace if card.place else "?",
        reason,
    )
    await quiz.engine.exam_result_undeliverable(card.exam_id)


# -- handlers -----------------------------------------------------------------------------


async def start(
    quiz: SlackQuiz,
    client: AsyncWebClient,
    team: str,
    user: str,
    learner: LearnerRef,
    locale: str,
    args: list[str],
    private: Callable[[str], Awaitable[None]],
) -> None:
    count = next((int(a) for a in args if a.isdigit()), DEFAULT_EXAM_SIZE)
    if not 1 <= count <= MAX_EXAM_SIZE:
        await private(t(locale, "slack.usage.exam"))
        return
    opened = await client.conversations_open(users=user)
    channel = opened["channel"]["id"]
    try:
        card = await quiz.engine.start_exam(learner, PlaceRef("slack", team, channel), size=count)
    except EngineError:
        await private(t(locale, "exam.no_questions"))
        return
    minutes = round((card.deadline - quiz.engine.clock()).total_seconds() / 60)
    try:
        await client.chat_postMessage(
            channel=channel, text=t(card.locale, "exam.intro", count=card.size, minutes=minutes)
        )
    except SlackApiError:  # the DM cannot take it: no phantom exam may expire into the stats
        log.warning("could not open the mock exam in a DM (team %s)", team, exc_info=True)
        await quiz.engine.discard_exam_never_shown(card.exam_id)
        await private(t(locale, "slack.exam.dm_failed"))
        return
    await client.chat_postMessage(channel=channel, text=exam_fallback(card), blocks=exam_blocks(card))
    await private(t(locale, "exam.started", count=card.size, minutes=minutes))


async def show(
    quiz: SlackQuiz,
    client: AsyncWebClient,
    respond: Responder,
    card: ExamReply,
    channel: str,
    ts: str | None,
) -> None:
    """Update the exam message in place; a result also brings the review; a refusal is private."""
    if isinstance(card, ExamRefused):
        await respond(text=text.refusal(card), response_type="ephemeral", replace_original=False)
        return
    if isinstance(card, ExamQuestionCard):
        body, fallback = exam_blocks(card), exam_fallback(card)
    else:
        body, fallback = result_head_blocks(card), t(card.locale, "exam.result.title")
    if ts is not None:
        await client.chat_update(channel=channel, ts=ts, text=fallback, blocks=body)
    else:
        await client.chat_postMessage(channel=channel, text=fallback, blocks=body)
    if isinstance(card, ExamResultCard):
        await deliver_result(quiz, card, client, head_shown=True)


async def click(quiz: SlackQuiz, body: dict[str, Any], client: AsyncWebClient, respond: Responder) -> None:
    """A button of an exam message: answer, move or submit."""
    action = body["actions"][0]
    action_id, value = action["action_id"], str(action.get("value") or "")
    team, user = body["team"]["id"], body["user"]["id"]
    learner, person = await quiz.learner(client, team, user)
    parts = value.split(":")
    needed = 1 if action_id == "quiz_exam_submit" else 3 if ANSWER.match(action_id) else 2
    if len(parts) < needed or not all(part.isdigit() for part in parts[: min(needed, 2)]):  # forged
        text_ = t(quiz.locale(person), "exam.refused.unknown")
        await respond(text=text_, response_type="ephemeral", replace_original=False)
        return
    exam_id = int(parts[0])
    if action_id == "quiz_exam_submit":
        card: ExamReply = await quiz.engine.submit_exam(exam_id, learner)
    elif ANSWER.match(action_id):
        card = await quiz.engine.exam_answer(exam_id, learner, int(parts[1]), [parts[2]])
    else:
        card = await quiz.engine.exam_question(exam_id, learner, int(parts[1]))
    message_ts = (body.get("container") or {}).get("message_ts")
    await show(quiz, client, respond, card, body["channel"]["id"], message_ts)


async def open_multi(
    quiz: SlackQuiz, body: dict[str, Any], client: AsyncWebClient, respond: Responder
) -> None:
    """Open the answer form first (its trigger expires 3 s after the click)."""
    team, user, channel = body["team"]["id"], body["user"]["id"], body["channel"]["id"]
    parts = str(body["actions"][0].get("value") or "").split(":")
    if len(parts) != 2 or not all(part.isdigit() for part in parts):  # forged or damaged
        locale = await quiz.quick_locale(team, user, channel)
        await respond(
            text=t(locale, "exam.refused.unknown"), response_type="ephemeral", replace_original=False
        )
        return
    exam_id, position = int(parts[0]), int(parts[1])
    # no Slack call before the form opens: the person as this process knows them (a cold
    # cache asks users.info, which could outlast the trigger); the exam checks the user id
    known = quiz.people.peek(team, user)
    learner = LearnerRef("slack", user, known.name if known else "", known.locale if known else None)
    card = await quiz.engine.exam_question(exam_id, learner, position)
    if not isinstance(card, ExamQuestionCard):
        await show(quiz, client, respond, card, channel, (body.get("container") or {}).get("message_ts"))
        return
    metadata = {
        "exam": exam_id,
        "position": position,
        "count": card.select_count,
        "channel": channel,
        "ts": (body.get("container") or {}).get("message_ts"),
        "response_url": body.get("response_url"),
    }
    await client.views_open(
        trigger_id=body["trigger_id"], view=multi_answer_view(card, metadata, "quiz_exam_multi")
    )


async def submit_multi(
    quiz: SlackQuiz, ack: Callable[..., Awaitable[None]], body: dict[str, Any], client: AsyncWebClient
) -> None:
    form = await quiz.form_choice(ack, body)
    if form is None:
        return
    metadata, chosen = form
    team, user = body["team"]["id"], body["user"]["id"]
    learner, _ = await quiz.learner(client, team, user)
    card = await quiz.engine.exam_answer(int(metadata["exam"]), learner, int(metadata["position"]), chosen)

    async def respond(**reply: Any) -> None:
        await quiz.reply_after_form(client, metadata, user, reply["text"], [section(reply["text"])])

    await show(quiz, client, respond, card, metadata["channel"], metadata.get("ts"))
