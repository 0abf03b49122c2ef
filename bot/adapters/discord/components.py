"""Buttons and menus whose custom ids carry what they act on, so they keep working after
the bot restarts: discord.py matches each click against these templates (``DynamicItem``)
instead of looking for a view kept in memory.

custom_id layout (at most 100 characters): ``quiz:<kind>:<id>[:<letter>]``.
"""

from __future__ import annotations

import re
from typing import Any

import discord

ID = r"\d{1,18}"


class AnswerButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"quiz:a:(?P<round>{ID}):(?P<letter>[A-F])"
):
    def __init__(self, round_id: int, letter: str, *, disabled: bool = False, correct: bool = False) -> None:
        style = discord.ButtonStyle.success if correct else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=letter, style=style, custom_id=f"quiz:a:{round_id}:{letter}", disabled=disabled
            )
        )
        self.round_id, self.letter = round_id, letter

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnswerButton:
        return cls(int(match["round"]), match["letter"])

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.answer(interaction, self.round_id, [self.letter])


class AnswerSelect(discord.ui.DynamicItem[discord.ui.Select[Any]], template=rf"quiz:m:(?P<round>{ID})"):
    """Multiple response: one menu where exactly ``count`` options are picked."""

    def __init__(
        self,
        round_id: int,
        options: list[discord.SelectOption],
        count: int,
        placeholder: str | None = None,
        *,
        disabled: bool = False,
    ) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"quiz:m:{round_id}",
                options=options,
                min_values=count,
                max_values=count,
                placeholder=placeholder,
                disabled=disabled,
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AnswerSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(int(match["round"]), item.options, item.min_values, item.placeholder)

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.answer(interaction, self.round_id, list(self.item.values))


class NextButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"quiz:n:(?P<session>{ID})"):
    def __init__(self, session_id: int, label: str = "Next") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.primary, custom_id=f"quiz:n:{session_id}"
            )
        )
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NextButton:
        return cls(int(match["session"]), getattr(item, "label", None) or "Next")

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.next_question(interaction, self.session_id)


class ReportButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"quiz:f:(?P<round>{ID})"):
    def __init__(self, round_id: int, label: str = "Report question") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, emoji="🚩", custom_id=f"quiz:f:{round_id}"
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReportButton:
        return cls(int(match["round"]), getattr(item, "label", None) or "Report question")

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.open_report(interaction, self.round_id)


class GuessedButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"quiz:g:(?P<round>{ID})"):
    """ "I guessed", under the feedback of a right answer: that review becomes Hard. The
    round in the id is checked against who clicks (``QuizEngine.guessed``)."""

    def __init__(self, round_id: int, label: str = "I guessed") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.secondary, emoji="🎲", custom_id=f"quiz:g:{round_id}"
            )
        )
        self.round_id = round_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> GuessedButton:
        return cls(int(match["round"]), getattr(item, "label", None) or "I guessed")

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.guessed(interaction, self.round_id)


class ResetButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=rf"quiz:reset:(?P<season>{ID})"):
    """The confirmation of /quizadmin reset-scores; carries the season it was shown for,
    so a second click (or a stale message) starts no further season."""

    def __init__(self, season: int, label: str = "Start a new season") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.danger, custom_id=f"quiz:reset:{season}")
        )
        self.season = season

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ResetButton:
        return cls(int(match["season"]), getattr(item, "label", None) or "Start a new season")

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.confirm_reset(interaction, self.season)


class ForgetButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"quiz:forget:(?P<user>\d{1,20})"
):
    """The confirmation of /quiz privacy forget; carries who asked, so only they can confirm
    (the message is private, but a custom id can be forged)."""

    def __init__(self, user_id: int, label: str = "Erase my data") -> None:
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.danger, custom_id=f"quiz:forget:{user_id}"
            )
        )
        self.user_id = user_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForgetButton:
        return cls(int(match["user"]), getattr(item, "label", None) or "Erase my data")

    async def callback(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.confirm_forget(interaction, self.user_id)


DYNAMIC_ITEMS = (
    AnswerButton,
    AnswerSelect,
    NextButton,
    ReportButton,
    ResetButton,
    ForgetButton,
    GuessedButton,
)


class ReportModal(discord.ui.Modal):
    """Asks for an optional comment; kept in memory only for the minutes the form is open."""

    def __init__(self, round_id: int, opener: int, title: str, label: str) -> None:
        # one form per opener: two members reporting the same round must not share it
        super().__init__(title=title[:45], custom_id=f"quiz:fm:{round_id}:{opener}", timeout=900)
        self.round_id = round_id
        self.comment: discord.ui.TextInput[ReportModal] = discord.ui.TextInput(
            label=label[:45],
            style=discord.TextStyle.paragraph,
            required=False,
            max_length=500,
            custom_id="comment",
        )
        self.add_item(self.comment)

    async def on_submit(self, interaction: discord.Interaction) -> None:
        from bot.adapters.discord import interactions  # the handlers import this module

        await interactions.submit_report(interaction, self.round_id, self.comment.value)
