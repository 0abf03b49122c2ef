"""The secrets sweep: ``quizbot run`` at DEBUG, with Discord and Slack (OAuth install
included) and a database password, every secret a distinct random value, and none of
them anywhere in what the process writes.

The fakes issue random tokens too (the OAuth bot tokens and their refresh tokens, rotated
once; the interaction tokens; Slack's verification token in every payload), so a token
the bot only learns at run time is looked for as well. One case lifts the clamp on the
libraries' loggers (slack_sdk then logs whole request and response bodies, the OAuth
access response with the new bot token among them) to show that the filter, not only
the clamp, keeps them out.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import POSTGRES_URL, _admin, need_postgres
from tests.fakes.discord_server import FakeDiscord
from tests.fakes.slack_server import FakeSlack, SlackClientSim
from tests.helpers.slack_oauth import install, verify_url

REPO = Path(__file__).resolve().parent.parent
# ``quizbot run`` with the libraries' loggers left at the root's level (DEBUG)
UNCLAMPED = "import runpy, bot.logs; bot.logs.NOISY = (); runpy.run_module('bot', run_name='__main__')"


def discord_token(application_id: int) -> str:
    """A bot token shaped like Discord's: base64 of the id, a timestamp part, an HMAC part."""
    first = base64.b64encode(str(application_id).encode()).decode().rstrip("=")
    return f"{first}.{secrets.token_urlsafe(5)[:6]}.{secrets.token_urlsafe(30)[:38]}"


@dataclass
class Sweep:
    """Every secret by name, and the process's output."""

    secrets: dict[str, str] = field(default_factory=dict)
    output: str = ""

    def encodings(self) -> dict[str, str]:
        """Each secret as given and in the forms a library might write it in."""
        found: dict[str, str] = {}
        for name, value in self.secrets.items():
            found[name] = value
            found[f"{name} (URL-quoted)"] = quote(value, safe="")
            found[f"{name} (base64)"] = base64.b64encode(value.encode()).decode().rstrip("=")
        if "DISCORD_TOKEN" in self.secrets:  # its secret parts on their own
            _, stamp, hmac = self.secrets["DISCORD_TOKEN"].split(".")
            found["DISCORD_TOKEN (HMAC part)"] = hmac
            found["DISCORD_TOKEN (last two parts)"] = f"{stamp}.{hmac}"
        return found

    def leaks(self) -> dict[str, list[str]]:
        """Each secret found, with the lines it is in."""
        found: dict[str, list[str]] = {}
        for name, value in self.encodings().items():
            if value in self.output:
                found[name] = [line[:300] for line in self.output.splitlines() if value in line][:3]
        return found


@contextlib.asynccontextmanager
async def postgres_with_password() -> AsyncIterator[tuple[str, str]]:
    """A database owned by a new role with a password (one URL quoting is needed for), as
    a URL and the password. The server trusts local connections, but the password is
    still a secret to hide."""
    need_postgres()
    name = f"quizbot_secrets_{uuid.uuid4().hex[:12]}"
    password = f"pw/{secrets.token_urlsafe(12)}@{secrets.token_hex(4)}"
    literal = password.replace("'", "''")
    await _admin(f"CREATE ROLE \"{name}\" LOGIN PASSWORD '{literal}'")
    try:
        await _admin(f'CREATE DATABASE "{name}" OWNER "{name}"')
        host = POSTGRES_URL.split("@", 1)[1].rsplit("/", 1)[0]
        try:
            yield f"postgresql://{name}:{quote(password, safe='')}@{host}/{name}", password
        finally:
            await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await _admin(f'DROP ROLE IF EXISTS "{name}"')


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def drive_discord(fake: FakeDiscord) -> None:
    """Ready, a slash command that posts a question, and a click on it."""
    record = await fake.slash_command("quiz", {}, subcommand="question", user_id=fake.admin.user.id)
    assert (await record.response(timeout=5)).accepted
    await fake.wait_for(lambda: any(m.embeds and m.components for m in fake.messages(fake.channel.id)), 10)
    message = next(m for m in fake.messages(fake.channel.id) if m.embeds and m.components)
    component = message.components[0]["components"][0]
    if component["type"] == 2:
        clicked = await fake.click(component["custom_id"], message.id)
    else:
        values = [o["value"] for o in component["options"]][: component.get("min_values", 1)]
        clicked = await fake.select(component["custom_id"], values, message.id)
    assert (await clicked.response(timeout=5)).accepted


async def drive_slack_over_http(fake: FakeSlack, sim: SlackClientSim) -> None:
    """url_verification, a command before the install, the OAuth install (with token
    rotation: expiring tokens and a refresh token), then a command and a click in the newly
    installed workspace, each made with a token issued at run time."""
    fake.token_rotation, fake.token_lifetime = True, 600  # so close to expiry that Bolt rotates
    await verify_url(sim)
    await sim.slash_command("help", user=fake.member.id)  # not installed yet
    await install(fake, sim.url)
    assert len(fake.issued_tokens) == 2  # the bot token and its refresh token
    fake.token_lifetime = 43200  # the next request rotates them once, for good
    assert (await sim.slash_command("question", user=fake.admin.id)).status == 200
    await fake.wait_for(lambda: any(m.blocks for m in fake.messages(fake.channel.id)), 10)
    message = next(m for m in fake.messages(fake.channel.id) if m.blocks)
    actions = next(b for b in message.blocks if b["type"] == "actions")
    element = actions["elements"][0]
    used = len(fake.calls)
    clicked = await sim.block_action(
        element["action_id"], element.get("value"), user=fake.member.id, message_ts=message.ts
    )
    assert clicked.status == 200
    await fake.wait_for(lambda: any(c.token in fake.issued_tokens for c in fake.calls[used:]), 10)
    assert len(fake.calls_to("oauth.v2.access")) > 1  # the install, then rotations


async def drive_slack_socket_mode(fake: FakeSlack) -> None:
    await fake.wait_for(lambda: fake.socket_connections > 0, 30)
    envelope = await fake.socket_send(
        "slash_commands", fake.slash_command_payload("help", user=fake.member.id)
    )
    await fake.socket_ack(envelope)
    await fake.wait_for(lambda: bool(fake.ephemerals(fake.channel.id, fake.member.id)), 10)


async def sweep(tmp_path: Path, log_format: str, *, clamped: bool, socket_mode: bool) -> Sweep:
    """``quizbot run`` at DEBUG with Discord and Slack, driven through every path that
    handles a secret, then stopped with SIGTERM; the secrets and all it wrote."""
    found = Sweep()
    port = free_port()
    async with contextlib.AsyncExitStack() as stack:
        fake_slack = await stack.enter_async_context(FakeSlack(verification_token=secrets.token_hex(12)))
        fake_slack.client_secret = secrets.token_hex(16)
        fake_discord = FakeDiscord()
        fake_discord.token = discord_token(fake_discord.application_id)
        await stack.enter_async_context(fake_discord)
        signing = secrets.token_hex(16)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_", "QUIZBOT_"))}
        env |= {
            "PYTHONPATH": str(REPO),
            "QUIZBOT_LOG_LEVEL": "DEBUG",
            "QUIZBOT_LOG_FORMAT": log_format,
            "QUIZBOT_HTTP_PORT": str(port),
            "DISCORD_TOKEN": fake_discord.token,
            "DISCORD_API_BASE_URL": f"{fake_discord.url}/api/v10",
            "DISCORD_GATEWAY_URL": fake_discord.gateway_url,
            "SLACK_API_URL": fake_slack.api_url,
            "SLACK_SIGNING_SECRET": signing,
        }
        found.secrets |= {"DISCORD_TOKEN": fake_discord.token, "SLACK_SIGNING_SECRET": signing}
        found.secrets["Slack verification token"] = fake_slack.verification_token
        if socket_mode:  # one workspace, its bot token and an app-level token
            bot_token, app_token = f"xoxb-{secrets.token_hex(10)}", f"xapp-1-{secrets.token_hex(16)}"
            fake_slack.team.bot_tokens.add(bot_token)
            fake_slack.app_tokens.add(app_token)
            env |= {"SLACK_BOT_TOKEN": bot_token, "SLACK_APP_TOKEN": app_token}
            found.secrets |= {"SLACK_BOT_TOKEN": bot_token, "SLACK_APP_TOKEN": app_token}
            env["QUIZBOT_DATABASE_URL"] = f"sqlite:///{tmp_path / 'sweep.db'}"
        else:  # installable in many workspaces, on PostgreSQL with a password
            env |= {"SLACK_CLIENT_ID": fake_slack.client_id, "SLACK_CLIENT_SECRET": fake_slack.client_secret}
            found.secrets["SLACK_CLIENT_SECRET"] = fake_slack.client_secret
            url, password = await stack.enter_async_context(postgres_with_password())
            env["QUIZBOT_DATABASE_URL"] = url
            found.secrets |= {"QUIZBOT_DATABASE_URL": url, "database password": password}
        command = ("-c", UNCLAMPED, "run") if not clamped else ("-m", "bot", "run")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *command,
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        output = Output(process)
        try:
            async with SlackClientSim(fake_slack, f"http://127.0.0.1:{port}/slack/events", signing) as sim:
                if socket_mode:
                    await drive_slack_socket_mode(fake_slack)
                else:
                    await drive_slack_over_http(fake_slack, sim)
                await output.wait_for("discord adapter ready")
                await drive_discord(fake_discord)
        except Exception as error:
            error.add_note("the bot wrote:\n" + await output.stopped())
            raise
        found.output = await output.stopped()
        assert process.returncode == 0, found.output[-3000:]
        for number, token in enumerate(fake_slack.issued_tokens):
            found.secrets[f"OAuth-issued token {number}"] = token
        for number, interaction in enumerate(fake_discord.interactions):
            found.secrets[f"Discord interaction token {number}"] = interaction.token
    assert len(set(found.secrets.values())) == len(found.secrets)  # every secret distinct
    return found


class Output:
    """All a running process writes, read as it comes."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process, self.text = process, ""
        self._more = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stdout is not None
        async for line in self.process.stdout:
            async with self._more:
                self.text += line.decode(errors="replace")
                self._more.notify_all()

    async def wait_for(self, text: str, timeout: float = 30) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._more:
            await self._more.wait_for(lambda: text in self.text)

    async def stopped(self) -> str:
        """SIGTERM, then all the process wrote."""
        with contextlib.suppress(ProcessLookupError):
            self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 30)
        await self._reader
        return self.text


def debug_lines(sweep: Sweep, log_format: str) -> list[tuple[str, str]]:
    """(logger, message) of every DEBUG line."""
    lines = []
    for line in sweep.output.splitlines():
        if log_format == "json":
            with contextlib.suppress(ValueError):
                entry: dict[str, Any] = json.loads(line)
                if entry["level"] == "DEBUG":
                    lines.append((entry["logger"], entry["message"]))
        elif " DEBUG " in line:
            logger, _, message = line.split(" DEBUG ", 1)[1].partition(": ")
            lines.append((logger, message))
    return lines


@pytest.mark.parametrize(
    ("log_format", "clamped"),
    [("text", True), ("json", True), ("text", False)],
    ids=["text", "json", "text-libraries-at-debug"],
)
async def test_no_secret_in_the_output_at_debug_oauth_install_included(
    tmp_path: Path, log_format: str, clamped: bool
) -> None:
    result = await sweep(tmp_path, log_format, clamped=clamped, socket_mode=False)
    assert result.leaks() == {}
    lines = debug_lines(result, log_format)
    assert any(logger.startswith("discord.") for logger, _ in lines)  # a library at DEBUG
    slack = [message for logger, message in lines if logger.startswith(("slack_sdk.", "slack_bolt."))]
    if clamped:  # slack_bolt sets its loggers' level itself: its records are held back all the same
        assert slack == []
    else:  # the bodies are there, the OAuth access response among them, masked
        assert any("'access_token': '***'" in message for message in slack), slack[:5]


async def test_no_secret_in_the_output_at_debug_in_socket_mode(tmp_path: Path) -> None:
    result = await sweep(tmp_path, "text", clamped=False, socket_mode=True)
    assert result.leaks() == {}
    lines = debug_lines(result, "text")
    assert any(
        "apps.connections.open" in message for logger, message in lines if logger.startswith("slack_sdk.")
    )
