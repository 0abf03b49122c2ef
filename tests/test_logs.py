"""Secrets never reach a log line, whoever logs them."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.logs import RedactSecrets


def test_configured_secrets_and_token_shapes_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.secrets")
    redactor = RedactSecrets(["my-signing-secret", "short"])
    caplog.handler.addFilter(redactor)
    try:
        with caplog.at_level(logging.DEBUG, logger="tests.secrets"):
            logger.debug("signing with %s", "my-signing-secret")
            logger.debug("oauth.v2.access -> %s", {"access_token": "xoxb-1234-5678-abcdef", "ok": True})
            discord_token = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE." + "abcdefghijklmnopqrstuvwxyz0123"
            logger.debug("app token xapp-1-A0-99-zz and discord %s", discord_token)
            try:
                raise RuntimeError("failed with xoxb-9-9-secret")
            except RuntimeError:
                logger.exception("boom")
    finally:
        caplog.handler.removeFilter(redactor)
    text = caplog.text
    for secret in (
        "my-signing-secret",
        "xoxb-1234-5678-abcdef",
        "xapp-1-A0-99-zz",
        "xoxb-9-9-secret",
        "MTIzNDU2Nzg5MDEyMzQ1Njc4.GAbCdE",
    ):
        assert secret not in text
    assert text.count("***") >= 4
    assert "short" not in redactor.secrets  # too short to mask safely


def json_lines_of(program: str) -> tuple[list[dict[str, str]], str]:
    """Runs ``program`` in a fresh interpreter: its stderr as JSON objects, and as text."""
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30, cwd=repo, check=True
    )
    return [json.loads(line) for line in result.stderr.splitlines()], result.stderr


def test_json_lines_carry_level_logger_message_and_traceback_with_secrets_masked() -> None:
    """A fresh interpreter, as ``quizbot`` configures it: every line is one JSON object."""
    program = """
import logging
from bot.logs import configure_logging
configure_logging("DEBUG", ["sig-secret-value"], "json")
log = logging.getLogger("bot.example")
log.info("posted %s", "olá")
log.debug("signing with sig-secret-value")
try:
    raise RuntimeError("token xoxb-1-2-three")
except RuntimeError:
    log.exception("failed")
"""
    lines, stderr = json_lines_of(program)
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("INFO", "bot.example", "posted olá"),
        ("DEBUG", "bot.example", "signing with ***"),
        ("ERROR", "bot.example", "failed"),
    ]
    assert "RuntimeError: token ***" in lines[2]["exception"] and lines[0]["time"].endswith("+00:00")
    assert "sig-secret-value" not in stderr and "xoxb-1-2-three" not in stderr


def test_tokens_in_urls_and_in_token_fields_are_masked() -> None:
    """Tokens the bot only meets at run time: in a Discord webhook or interaction URL (the
    path holds the token), a Slack hooks URL, and any token, secret or password field of
    a body a library writes out as a dict or as JSON; a Slack refresh token by its shape."""
    redactor = RedactSecrets()
    lines = {
        "POST https://discord.com/api/v10/interactions/123/aW50ZXJhY3Rpb24.abc-_/callback": "tion24",
        "POST https://discord.com/api/v10/webhooks/456/aW50ZXJhY3Rpb24.abc-_/messages/@original": "tion24",
        "response_url https://hooks.slack.com/actions/T1/99/s3cr3tPart": "s3cr3tPart",
        "event {'t': 'INTERACTION_CREATE', 'd': {'id': '1', 'token': 'opaque-interaction-token'}}": "opaque",
        'body {"verification_token": "v3r1f", "refresh_token": "r3fr3sh", "client_secret": "c"}': "r3fr3sh",
        "installation {'bot_refresh_token': 'xoxe-1-abc', 'password': 'pw-value'}": "pw-value",
        "refresh token xoxe-1-My0xLTEyMy1hYmM in a message": "My0xLTEyMy1hYmM",
    }
    for line, secret in lines.items():
        masked = redactor.redact(line)
        assert secret not in masked and "***" in masked, masked
    masked = redactor.redact("POST /interactions/123/tok3n/callback {'token_type': 'bot', 'ok': True}")
    assert masked == "POST /interactions/123/***/callback {'token_type': 'bot', 'ok': True}"


def test_libraries_stay_quiet_below_warning_even_when_they_set_their_own_level() -> None:
    """slack_bolt copies the root's level onto each logger it makes, after the set-up ran;
    an ``extra`` field never reaches a JSON line."""
    program = """
import logging
from bot.logs import configure_logging
configure_logging("DEBUG", ["sig-secret-value"], "json")
bolt = logging.getLogger("slack_bolt.AsyncApp")
bolt.setLevel(logging.DEBUG)
bolt.debug("Handling an OAuth callback (request: code=quiet-please)")
bolt.warning("signing with sig-secret-value")
logging.getLogger("bot.example").debug("stored", extra={"token": "sig-secret-value", "x": "in-extra"})
"""
    lines, stderr = json_lines_of(program)
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("WARNING", "slack_bolt.AsyncApp", "signing with ***"),
        ("DEBUG", "bot.example", "stored"),
    ]
    assert "quiet-please" not in stderr and "in-extra" not in stderr
