"""``/quiz exam-date`` and ``/quiz remind`` on Slack, and the daily reminder's message.

Slack's ``users.info`` says each person's time zone (``tz``): a reminder time is read in
the zone the learner names, else that one, else the workspace's setting. The reminder is
a message in the app's DM (``conversations.open``) sent with the workspace's bot token;
its button starts practice in that DM, due reviews first (the App Home's practice flow).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from bot.adapters import plaintext as text
from bot.adapters.background import Undeliverable
from bot.adapters.plan import exam_date_reply, remind_reply
from bot.adapters.slack.blocks import Block, button, section
from bot.adapters.slack.people import Person
from bot.engine import LearnerRef, PlaceRef
from bot.engine.reminders import Reminder
from bot.i18n import t

if TYPE_CHECKING:
    from bot.adapters.slack.app import SlackQuiz

COMMANDS = ("exam-date", "remind")
REVIEW_ACTION = "quiz_review_due"
# Slack's answers that will not change by trying again today
UNREACHABLE = frozenset(
    {
        "account_inactive",
        "cannot_dm_bot",
        "channel_not_found",
        "invalid_auth",
        "is_archived",
        "messages_tab_disabled",
        "missing_scope",
        "not_authed",
        "team_not_found",
        "not_allowed_token_type",
        "restricted_action",
        "token_revoked",
        "user_disabled",
        "user_not_found",
        "user_not_visible",
    }
)


async def command(
    quiz: SlackQuiz,
    place: PlaceRef,
    learner: LearnerRef,
    person: Person,
    sub: str,
    args: list[str],
    private: Callable[..., Awaitable[None]],
) -> None:
    if sub == "exam-date":
        reply, _ = await exam_date_reply(quiz.engine, learner, " ".join(args), "/quiz exam-date")
        await private(reply)
        return
    reply = await remind_reply(
        quiz.engine,
        learner,
        args[0] if args else "",
        place,
        "/quiz remind",
        named_zone=args[1] if len(args) > 1 else None,
        platform_zone=person.timezone,
    )
    await private(reply)


def reminder_blocks(reminder: Reminder) -> list[Block]:
    label = t(reminder.locale, "plan.remind.button")
    return [
        section(text.reminder(reminder)),
        {"type": "actions", "elements": [button(label, REVIEW_ACTION, "10", "primary")]},
    ]


async def send_reminder(quiz: SlackQuiz, reminder: Reminder) -> None:
    """The reminder, in the app's DM with the learner, with their workspace's bot token."""
    client = await quiz.client_for(reminder.workspace or "")
    if client is None:
        raise Undeliverable(f"no bot token for workspace {reminder.workspace}")
    try:
        opened: Any = await client.conversations_open(users=reminder.user_id)
        await client.chat_postMessage(
            channel=opened["channel"]["id"],
            text=text.reminder(reminder),
            blocks=reminder_blocks(reminder),
            unfurl_links=False,
        )
    except SlackApiError as error:
        reason = error.response.get("error")
        if reason in UNREACHABLE:
            raise Undeliverable(str(reason)) from error
        raise
