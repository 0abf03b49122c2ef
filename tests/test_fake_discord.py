"""The fake Discord against the real discord.py client, over real sockets.

These tests pin down that the fake is good enough for the adapter's end-to-end tests: a
stock ``discord.Client`` logs in, connects, syncs commands and answers slash commands,
buttons, selects and modals through it, and its rate-limit and retry handling behaves as
it does against Discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import discord
import pytest
from discord import app_commands

from tests.fakes.discord_server import (
    DEFERRED_CHANNEL_MESSAGE,
    DEFERRED_UPDATE_MESSAGE,
    EPHEMERAL,
    INTENT_MEMBERS,
    UPDATE_MESSAGE,
    FakeDiscord,
    Perm,
    pointed_at,
)

MESSAGES = r"/channels/\d+/messages"
PNG = b"\x89PNG\r\n\x1a\n"


class QuestionView(discord.ui.View):
    """Persistent: no timeout and fixed custom ids, registered in ``setup_hook``."""

    def __init__(self) -> None:
        super().__init__(timeout=None)

    @discord.ui.button(label="Answer", custom_id="t:btn")
    async def answer(self, interaction: discord.Interaction, button: discord.ui.Button[QuestionView]) -> None:
        await interaction.response.edit_message(content="clicked", view=self)

    @discord.ui.select(
        custom_id="t:sel",
        options=[discord.SelectOption(label="A", value="a"), discord.SelectOption(label="B", value="b")],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[QuestionView]) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content=f"picked {select.values[0]}")


class FlagModal(discord.ui.Modal, title="Flag a question"):
    reason: discord.ui.TextInput[FlagModal] = discord.ui.TextInput(label="Why?", custom_id="reason")

    def __init__(self) -> None:
        super().__init__(custom_id="t:flag")

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"flagged: {self.reason.value}", ephemeral=True)


class QuizClient(discord.Client):
    def __init__(self) -> None:
        # A short guild_ready_timeout: on_ready waits this long after the last GUILD_CREATE.
        super().__init__(intents=discord.Intents.default(), guild_ready_timeout=0.05)
        self.tree = app_commands.CommandTree(self)
        self.command_errors: list[Exception] = []
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]

        @self.tree.command(description="Check the bot is alive")
        async def ping(interaction: discord.Interaction) -> None:
            await interaction.response.send_message("pong", ephemeral=True)

        @self.tree.command(description="Think first, answer later")
        async def slow(interaction: discord.Interaction) -> None:
            await interaction.response.defer(ephemeral=True, thinking=True)
            await interaction.followup.send("done")

        @self.tree.command(description="Answers after the deadline")
        async def late(interaction: discord.Interaction) -> None:
            await asyncio.sleep(0.3)
            await interaction.response.send_message("too late")

        @self.tree.command(description="Report a question")
        async def flag(interaction: discord.Interaction) -> None:
            await interaction.response.send_modal(FlagModal())

        @self.tree.command(description="Organiser only")
        @app_commands.default_permissions(manage_guild=True)
        async def setup(interaction: discord.Interaction, rounds: int) -> None:
            await interaction.response.send_message(f"{rounds} rounds", ephemeral=True)

        quiz = app_commands.Group(name="quiz", description="Quiz rounds")

        @quiz.command(description="Start a round")
        async def start(
            interaction: discord.Interaction, rounds: int, rival: discord.Member | None = None
        ) -> None:
            against = rival.display_name if rival else "nobody"
            wheel = discord.File(io.BytesIO(PNG), "wheel.png")
            await interaction.response.send_message(f"{rounds} rounds vs {against}", file=wheel)

        self.tree.add_command(quiz)

    async def setup_hook(self) -> None:
        self.add_view(QuestionView())

    async def _on_tree_error(self, interaction: discord.Interaction, error: Exception) -> None:
        self.command_errors.append(error)


@dataclass
class Running:
    fake: FakeDiscord
    client: QuizClient

    @property
    def channel(self) -> discord.TextChannel:
        channel = self.client.get_channel(self.fake.channel.id)
        assert isinstance(channel, discord.TextChannel)
        return channel


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    async with FakeDiscord() as fake:
        with pointed_at(fake):
            client = QuizClient()
            await client.login("fake-token")
            connection = asyncio.create_task(client.connect(reconnect=True))
            try:
                await asyncio.wait_for(client.wait_until_ready(), 5)
                await client.tree.sync()
                yield Running(fake, client)
            finally:
                await client.close()
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(connection, 5)


async def test_json_content_type_is_exact() -> None:
    async with FakeDiscord() as fake, aiohttp.ClientSession() as session:
        async with session.get(f"{fake.url}/api/v10/gateway") as response:
            assert response.headers["Content-Type"] == "application/json"
        async with session.get(f"{fake.url}/api/v10/users/@me") as response:
            assert response.status == 401


async def test_login_connect_and_sync(running: Running) -> None:
    fake, client = running.fake, running.client
    assert client.user is not None and client.user.id == fake.bot_user.id
    assert client.application_id == fake.application_id
    guild = client.get_guild(fake.guild.id)
    assert guild is not None and guild.me is not None
    assert guild.me.guild_permissions.send_messages
    assert {c["name"] for c in fake.registered_commands()} == {
        "ping",
        "slow",
        "late",
        "flag",
        "setup",
        "quiz",
    }
    assert not fake.unknown_routes


async def test_ping_answers_pong_ephemerally_within_3s(running: Running) -> None:
    record = await running.fake.slash_command("ping")
    callback = await record.response(timeout=3)
    assert callback.accepted and callback.type == 4
    assert callback.content == "pong"
    assert int(callback.data["flags"]) & EPHEMERAL == 64
    assert record.acked_after is not None and record.acked_after < 3
    assert record.original is not None and record.original.ephemeral
    assert running.fake.messages(running.fake.channel.id) == []  # ephemeral: not in the channel


async def test_nonce_is_enforced(running: Running) -> None:
    first = await running.channel.send("hello", nonce=12345)
    second = await running.channel.send("hello", nonce=12345)
    assert first.id == second.id
    stored = running.fake.messages(running.fake.channel.id)
    assert [m.content for m in stored] == ["hello"] and stored[0].nonce == "12345"


async def test_429_is_retried_and_stored_once(running: Running) -> None:
    running.fake.fail_next("POST", MESSAGES, status=429, retry_after=0.2)
    message = await running.channel.send("after the limit")
    assert [r.status for r in running.fake.requests_to("POST", MESSAGES)] == [429, 200]
    assert [m.id for m in running.fake.messages(running.fake.channel.id)] == [message.id]


async def test_lost_reply_retry_is_deduplicated_by_nonce(running: Running) -> None:
    running.fake.fail_after_store_next("POST", MESSAGES, status=500)
    message = await running.channel.send("once only", nonce="round-7")  # discord.py retries after 1 s
    assert [r.status for r in running.fake.requests_to("POST", MESSAGES)] == [500, 200]
    assert [m.id for m in running.fake.messages(running.fake.channel.id)] == [message.id]


async def test_missing_send_permission_is_403_50013(running: Running) -> None:
    fake = running.fake
    fake.set_overwrite(fake.channel.id, fake.bot_user.id, deny=Perm.SEND_MESSAGES)
    with pytest.raises(discord.Forbidden) as raised:
        await running.channel.send("nope")
    assert raised.value.code == 50013
    assert fake.messages(fake.channel.id) == []


async def test_button_edits_its_message(running: Running) -> None:
    message = await running.channel.send("Question 1", view=QuestionView())
    record = await running.fake.click("t:btn", message.id)
    callback = await record.response(timeout=3)
    assert callback.accepted and callback.type == UPDATE_MESSAGE
    stored = running.fake.message(message.id)
    assert stored.content == "clicked" and len(stored.edits) == 1
    assert stored.history[0]["content"] == "Question 1"


async def test_select_defers_then_edits_original(running: Running) -> None:
    message = await running.channel.send("Question 2", view=QuestionView())
    record = await running.fake.select("t:sel", ["b"], message.id)
    assert (await record.response(timeout=3)).type == DEFERRED_UPDATE_MESSAGE
    await running.fake.wait_for(lambda: running.fake.message(message.id).content == "picked b")


async def test_first_followup_after_defer_edits_the_loading_message(running: Running) -> None:
    record = await running.fake.slash_command("slow")
    assert (await record.response(timeout=3)).type == DEFERRED_CHANNEL_MESSAGE
    [followup] = await record.wait_followups(1)
    assert followup is record.original
    assert followup.content == "done" and followup.ephemeral  # the deferral's ephemeral flag wins


async def test_a_late_first_callback_is_refused(running: Running) -> None:
    running.fake.ack_deadline = 0.1
    record = await running.fake.slash_command("late")
    callback = await record.response(timeout=3)
    assert not callback.accepted and callback.status == 404 and record.acked_after is None
    await running.fake.wait_for(lambda: bool(running.client.command_errors))
    error = running.client.command_errors[0]
    assert isinstance(getattr(error, "original", None), discord.NotFound)
    assert error.original.code == 10062  # type: ignore[attr-defined]


async def test_modal_round_trip(running: Running) -> None:
    record = await running.fake.slash_command("flag")
    assert (await record.response(timeout=3)).type == 9
    submitted = await running.fake.submit_modal("t:flag", {"reason": "two right answers"})
    callback = await submitted.response(timeout=3)
    assert callback.content == "flagged: two right answers" and callback.ephemeral


async def test_default_member_permissions_and_options(running: Running) -> None:
    fake = running.fake
    with pytest.raises(PermissionError):
        await fake.slash_command("setup", {"rounds": 3})
    record = await fake.slash_command("setup", {"rounds": 3}, user_id=fake.admin.user.id)
    assert (await record.response(timeout=3)).content == "3 rounds"
    with pytest.raises(ValueError):
        await fake.slash_command("setup", user_id=fake.admin.user.id)  # required option missing


async def test_reconnect_resumes_and_dm(running: Running) -> None:
    fake, client = running.fake, running.client
    resumed = asyncio.ensure_future(client.wait_for("resumed", timeout=5))
    await fake.request_reconnect()
    await resumed
    record = await fake.slash_command("ping")
    assert (await record.response(timeout=3)).content == "pong"
    dm = await client.create_dm(discord.Object(fake.member.user.id))
    await dm.send("your streak: 3 days")
    assert [m.content for m in fake.messages(dm.id)] == ["your streak: 3 days"]


async def test_subcommand_member_option_and_files(running: Running) -> None:
    fake = running.fake
    record = await fake.slash_command("quiz", {"rounds": 5, "rival": fake.admin.user.id}, subcommand="start")
    callback = await record.response(timeout=3)
    assert callback.content == "5 rounds vs Ada"  # the member came through ``resolved``
    assert record.original is not None and record.original.files == {"wheel.png": PNG}
    sent = await running.channel.send("chart", file=discord.File(io.BytesIO(PNG), "chart.png"))
    assert await sent.attachments[0].read() == PNG
    with pytest.raises(ValueError):
        await fake.slash_command("quiz", {"rounds": 5})  # a group needs its subcommand


class ShardedClient(discord.AutoShardedClient):
    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """discord.py waits 5 s before each later shard's IDENTIFY; the fake needs no such pacing."""


async def test_auto_sharded_client_gets_every_guild() -> None:
    async with FakeDiscord(shard_count=2) as fake:
        second = fake.add_guild("Study Hall")
        with pointed_at(fake):
            client = ShardedClient(intents=discord.Intents.default(), guild_ready_timeout=0.05)
            tree = app_commands.CommandTree(client)

            @tree.command(description="Which shard am I on?")
            async def shard(interaction: discord.Interaction) -> None:
                await interaction.response.send_message(
                    f"shard {interaction.guild and interaction.guild.shard_id}"
                )

            await client.login("fake-token")
            connection = asyncio.create_task(client.connect())
            try:
                await asyncio.wait_for(client.wait_until_ready(), 5)
                assert {tuple(p["d"]["shard"]) for p in fake.gateway_received if p["op"] == 2} == {
                    (0, 2),
                    (1, 2),
                }
                assert {g.id for g in client.guilds} == {fake.guild.id, second.id}
                await tree.sync()
                channel_id = next(iter(second.channels))
                record = await fake.slash_command("shard", user_id=second.owner_id, channel_id=channel_id)
                assert (await record.response(timeout=3)).content == f"shard {(second.id >> 22) % 2}"
            finally:
                await client.close()
                await asyncio.wait_for(connection, 5)


async def test_privileged_intents_must_be_enabled_in_the_portal() -> None:
    intents = discord.Intents.default()
    intents.members = True
    async with FakeDiscord() as fake:
        with pointed_at(fake):
            refused = discord.Client(intents=intents)
            await refused.login("fake-token")
            with pytest.raises(discord.PrivilegedIntentsRequired):
                await asyncio.wait_for(refused.connect(), 5)
            await refused.close()

            fake.privileged_intents = INTENT_MEMBERS
            client = discord.Client(intents=intents, guild_ready_timeout=0.05)
            await client.login("fake-token")
            connection = asyncio.create_task(client.connect())
            try:
                await asyncio.wait_for(client.wait_until_ready(), 5)
                guild = client.get_guild(fake.guild.id)
                assert guild is not None and guild.chunked  # members arrived by GUILD_MEMBERS_CHUNK
                assert {m.name for m in guild.members} == {"ada", "bob", "QuizBot"}
            finally:
                await client.close()
                await asyncio.wait_for(connection, 5)
