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
    repo = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=30, cwd=repo, check=True
    )
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("INFO", "bot.example", "posted olá"),
        ("DEBUG", "bot.example", "signing with ***"),
        ("ERROR", "bot.example", "failed"),
    ]
    assert "RuntimeError: token ***" in lines[2]["exception"] and lines[0]["time"].endswith("+00:00")
    assert "sig-secret-value" not in result.stderr and "xoxb-1-2-three" not in result.stderr
