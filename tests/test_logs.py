"""Secrets never reach a log line, whoever logs them."""

from __future__ import annotations

import logging

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
