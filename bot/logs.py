"""Logging set-up that never lets a secret through.

Libraries log whole requests and responses at DEBUG (slack_sdk logs the OAuth response,
which carries the new bot token; discord.py logs interaction and webhook URLs, whose path
holds a token). Their records stay at WARNING and above, whatever level a library gives
its own loggers (slack_bolt copies the root's level onto each logger it makes), and a
filter on every handler also masks the configured secrets, anything shaped like a Slack
or Discord token, the token in a Discord webhook or interaction URL or a Slack hooks URL,
and the value of any ``token``, ``secret`` or ``password`` field written out as a dict or
JSON, wherever it appears in a record.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

NOISY = (
    "alembic",
    "aiosqlite",
    "asyncio",
    "sqlalchemy",
    "slack_sdk",
    "slack_bolt",
    "discord.http",
    "discord.gateway",
    "discord.client",
    "aiohttp.access",
    "websockets",
)
TOKEN_SHAPES = re.compile(
    r"xox[abeposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+"  # Slack bot, user, refresh, app tokens
    r"|[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,40}"  # Discord bot tokens
)
MASK = "***"
# what comes after these is a token: kept, then the token masked
TOKEN_AFTER = re.compile(
    r"(/(?:webhooks|interactions)/\d+/)[^/\s'\"?#]+"  # Discord: interaction and webhook tokens
    r"|(hooks\.slack(?:-gov)?\.com/)[^\s'\"]+"  # Slack: response URLs, incoming webhooks
    r"|(['\"][A-Za-z_]*(?:token|secret|password)['\"]:\s*['\"])[^'\"]+",  # a field, as dict or JSON
    re.IGNORECASE,
)


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        text = TOKEN_SHAPES.sub(MASK, text)
        return TOKEN_AFTER.sub(lambda m: next(g for g in m.groups() if g is not None) + MASK, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if clean != message:
            record.msg, record.args = clean, None
        return True


class QuietLibraries(logging.Filter):
    """Drops the libraries' records below WARNING, even from a logger whose level the
    library set itself."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__()
        self.names = tuple(names)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return not any(record.name == n or record.name.startswith(n + ".") for n in self.names)


class JsonLines(logging.Formatter):
    """One JSON object per line, for log collectors (``QUIZBOT_LOG_FORMAT=json``). The
    message and traceback are the already-redacted ones: the filter runs first."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, secrets: Iterable[str] = (), log_format: str = "text") -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    if log_format == "json":
        for handler in root.handlers:
            handler.setFormatter(JsonLines())
    quiet, redactor = QuietLibraries(NOISY), RedactSecrets(secrets)
    for handler in root.handlers:
        handler.addFilter(quiet)
        handler.addFilter(redactor)
    for name in NOISY:
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
