"""What happens when someone clicks or submits: parse, call the engine, answer privately.

Every handler answers Discord within its 3-second window: work that finishes quickly is
answered directly; slower work (a busy database) is deferred first and answered with a
follow-up. Any error is logged with its context and the member gets a polite private
message, never Discord's "This interaction failed".
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from bot.adapters import plaintext
from bot.adapters.background import tracked
from bot.adapters.discord import render
from bot.engine import AnswerRefused, FeedbackCard, LearnerRef, PlaceRef, QuestionCard, RecordedCard
from bot.engine.cards import SessionSummaryCard
from bot.engine.locale import resolve_locale
from bot.engine.model import FlagReason
from bot.engine.service import EngineError
from bot.i18n import t

if TYPE_CHECKING:
    from bot.adapters.discord.client import QuizClientMixin
    from bot.engine import QuizEngine

log = logging.getLogger(__name__)
T = TypeVar("T")
FAST_REPLY_SECONDS = 1.5  # answer directly if the work is done by then; else defer first

Handler = Callable[..., Coroutine[Any, Any, None]]


# A DM Discord will not take, now or later: the member closed their DMs or left every
# server shared with the bot (403), or the user or channel is gone (404). Anything else
# (a 429, a 5xx, a network error) may pass and is tried again.
REFUSED_FOR_GOOD = (discord.Forbidden, discord.NotFound)


def quiz_client(interaction: discord.Interaction) -> QuizClientMixin:
    from bot.adapters.discord.client import QuizClientMixin

    client = interaction.client
    assert isinstance(client, QuizClientMixin)
    return client


def engine_of(interaction: discord.Interaction) -> QuizEngine:
    return quiz_client(interaction).engine


def learner_of(interaction: discord.Interaction) -> LearnerRef:
    user = interaction.user
    return LearnerRef("discord", str(user.id), user.display_name, str(interaction.locale))


def place_of(interaction: discord.Interaction) -> PlaceRef:
    guild = str(interaction.guild_id) if interaction.guild_id else "dm"
    return PlaceRef("discord", guild, str(interaction.channel_id))


def locale_of(interaction: discord.Interaction) -> str:
    return resolve_locale(str(interaction.locale), None, engine_of(interaction).default_locale)


async def defer_private(interaction: discord.Interaction) -> None:
    """Acknowledge now (Discord's 3 s), answer with a follow-up once the work is done."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)


async def send_private(interaction: discord.Interaction, **kwargs: Any) -> None:
    """Reply privately, whether or not the interaction was already answered or deferred."""
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=True, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=True, **kwargs)


async def reply_private(
    interaction: discord.Interaction, work: Awaitable[T], build: Callable[[T], dict[str, Any]]
) -> None:
    """Run ``work``; answer with its result directly if quick, after a deferral if not."""
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=FAST_REPLY_SECONDS)
    if task not in done:
        await interaction.response.defer(ephemeral=True, thinking=True)
    await send_private(interaction, **build(await task))


def guarded(handler: Handler) -> Handler:
    """Log any error with its context and apologise privately instead of failing silently."""

    @functools.wraps(handler)
    async def run(interaction: discord.Interaction, *args: Any, **kwargs: Any) -> None:
        running: set[asyncio.Task[Any]] = getattr(interaction.client, "handling", set())
        with tracked(running):
            try:
                await handler(interaction, *args, **kwargs)
            except Exception as error:
                if interaction.client.is_closed():  # stopping: the connection went first, say so in one line
                    log.warning("interaction %s was not answered: stopping (%s)", interaction.id, error)
                    return
                log.exception(
                    "%s failed (guild %s, channel %s, user %s, custom_id %s)",
                    handler.__name__,
                    interaction.guild_id,
                    interaction.channel_id,
                    interaction.user.id,
                    dict(interaction.data or {}).get("custom_id"),
                )
                await apologise(interaction)

    return run


async def apologise(interaction: discord.Interaction) -> None:
    try:
        await send_private(interaction, content=t(locale_of(interaction), "discord.error"))
    except discord.HTTPException:
        log.warning("could not send the apology for interaction %s", interaction.id)


def answer_message(result: AnswerRefused | FeedbackCard | RecordedCard) -> dict[str, Any]:
    if isinstance(result, FeedbackCard):
        return {
            "embed": render.feedback_embed(result),
            "view": render.feedback_view(result, result.session_id),
        }
    if isinstance(result, RecordedCard):
        return {"content": render.recorded_message(result), "view": render.recorded_view(result)}
    return {"content": render.refusal_message(result)}


@guarded
async def answer(interaction: discord.Interaction, round_id: int, letters: list[str]) -> None:
    engine = engine_of(interaction)
    work = engine.answer(round_id, learner_of(interaction), letters, place=place_of(interaction))
    await reply_private(interaction, work, answer_message)


def question_or_summary(card: QuestionCard | SessionSummaryCard) -> dict[str, Any]:
    if isinstance(card, QuestionCard):
        return {"embed": render.question_embed(card), "view": render.question_view(card)}
    return {"embed": render.summary_embed(card)}


@guarded
async def next_question(interaction: discord.Interaction, session_id: int) -> None:
    engine = engine_of(interaction)
    try:
        await reply_private(
            interaction, engine.next_question(session_id, learner_of(interaction)), question_or_summary
        )
    except EngineError:  # someone else's session, or one that no longer exists
        await send_private(interaction, content=t(locale_of(interaction), "refused.unknown_round"))


@guarded
async def guessed(interaction: discord.Interaction, round_id: int) -> None:
    """ "I guessed": re-grade the clicker's own right answer to this round as Hard. A
    second click, a wrong answer, someone else's or an unknown round change nothing;
    before an at-close round closes, the reply is the same for right and wrong answers."""
    locale = locale_of(interaction)
    work = engine_of(interaction).guess(round_id, learner_of(interaction))
    await reply_private(
        interaction, work, lambda outcome: {"content": plaintext.guess_reply(locale, outcome)}
    )


@guarded
async def open_report(interaction: discord.Interaction, round_id: int) -> None:
    from bot.adapters.discord.components import ReportModal

    locale = locale_of(interaction)
    modal = ReportModal(
        round_id, interaction.id, t(locale, "discord.report.title"), t(locale, "discord.report.label")
    )
    await interaction.response.send_modal(modal)


@guarded
async def submit_report(interaction: discord.Interaction, round_id: int, comment: str) -> None:
    await defer_private(interaction)
    engine = engine_of(interaction)
    question_id = await engine.flag_round(
        learner_of(interaction), round_id, FlagReason.WRONG, comment or None
    )
    locale = locale_of(interaction)
    if question_id is None:
        await send_private(interaction, content=t(locale, "refused.unknown_round"))
    else:
        await send_private(interaction, content=t(locale, "discord.report.thanks", id=question_id))


async def is_organiser(interaction: discord.Interaction) -> bool:
    """Manage Server, or the quiz-organiser role the server chose (checked at run time:
    Discord's own command permissions can be changed by server admins). Reading the role
    touches the database, so the interaction is acknowledged first."""
    if interaction.guild is None or not isinstance(interaction.user, discord.Member):
        return False
    if interaction.permissions.manage_guild:
        return True
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=True, thinking=True)
    settings = await engine_of(interaction).fresh_settings(place_of(interaction))
    role = settings.organiser_role
    return role is not None and any(str(r.id) == role for r in interaction.user.roles)


@guarded
async def confirm_reset(interaction: discord.Interaction, season: int) -> None:
    locale = locale_of(interaction)
    await defer_private(interaction)
    if not await is_organiser(interaction):
        await send_private(interaction, content=t(locale, "discord.not_organiser"))
        return
    settings = await engine_of(interaction).reset_season(place_of(interaction), from_season=season)
    await send_private(interaction, content=t(locale, "discord.reset.done", season=settings.season))


@guarded
async def confirm_forget(interaction: discord.Interaction, user_id: int) -> None:
    """Erase the member who asked; anyone else's click (a forged id) changes nothing."""
    locale = locale_of(interaction)
    if interaction.user.id != user_id:
        await send_private(
            interaction, content=t(locale, "privacy.forget.not_yours", command="/quiz privacy")
        )
        return
    await defer_private(interaction)
    report = await engine_of(interaction).forget_learner("discord", str(user_id))
    key = "privacy.forget.done" if report.found else "privacy.forget.nothing"
    await send_private(interaction, content=t(locale, key))
