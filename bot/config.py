"""Settings from the environment or a ``.env`` file, validated once at start.

Every problem names the variable that caused it, so a misconfigured deployment fails
with a message an organiser can act on instead of a traceback deep in a library.
Secrets are kept in :class:`Secret` so that printing a Settings object never shows them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

SUPPORTED_LOCALES = ("en", "pt-BR")
DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///quizbot.db"
MAX_RETENTION_DAYS = 3650


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|KEY")


class Secret(str):
    """A string that never shows its value in repr or logs."""

    def __repr__(self) -> str:
        return "Secret('***')"


def redact_url(url: str) -> str:
    """The URL with any password replaced, for messages and logs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        rest = f"{credentials.split(':', 1)[0]}:***@{host}"
    return f"{scheme}://{rest.split('?', 1)[0]}" + ("?***" if "?" in rest else "")


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    locale: str = "en"
    questions_dirs: tuple[Path, ...] = ()
    log_level: str = "INFO"
    log_format: str = "text"
    http_port: int = 3000
    daily_grace_minutes: int = 120
    retention_days: int = 30  # how long a workspace's data is kept after the bot left it
    extra: Mapping[str, Secret] = field(default_factory=dict, repr=False)

    @property
    def secrets(self) -> list[str]:
        """What the log filter masks: every token, secret, password or key among the
        ``DISCORD_*`` and ``SLACK_*`` settings, the database URL and, on its own, its password
        (as written in the URL and unquoted), which a library or an error message may show
        without the rest of the URL. Ids, URLs and scopes stay readable: logs must still
        say which server or endpoint a problem was about."""
        values: list[str] = [value for name, value in self.extra.items() if SECRET_NAME.search(name)]
        values.append(self.database_url)
        credentials = self.database_url.partition("://")[2].rpartition("@")[0]
        if ":" in credentials:
            password = credentials.split(":", 1)[1]
            values += [password, unquote(password)]
        return values

    def __repr__(self) -> str:
        return (
            f"Settings(database_url={redact_url(self.database_url)!r}, locale={self.locale!r}, "
            f"questions_dirs={self.questions_dirs!r}, log_level={self.log_level!r}, "
            f"log_format={self.log_format!r}, http_port={self.http_port}, extra={sorted(self.extra)!r})"
        )


def parse_dotenv(text: str) -> dict[str, str]:
    """Parse the common ``KEY=value`` subset of .env files (comments, quotes, export)."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.isidentifier():
            raise SettingsError(f".env line {number}: expected KEY=value")
        value = value.strip()
        if value[:1] in {'"', "'"} and value.find(value[0], 1) > 0:  # quoted, maybe then a comment
            value = value[1 : value.find(value[0], 1)]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


def _normalise_database_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick the async driver."""
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith(("postgresql:", "postgres:")):
        return "postgresql+asyncpg:" + url.split(":", 1)[1]
    return url


def database_url(value: str, name: str = "QUIZBOT_DATABASE_URL") -> str:
    """The URL with its async driver named, or SettingsError naming ``name``."""
    url = _normalise_database_url(value.strip())
    if not url.startswith(("sqlite+aiosqlite:///", "postgresql+asyncpg://")):
        raise SettingsError(
            f"{name} must be a SQLite URL (sqlite:///path/to/quizbot.db) or a "
            f"PostgreSQL URL (postgresql://user:pass@host/db), got one starting {value.split(':', 1)[0]!r}:"
        )
    return url


def _locale(value: str) -> str:
    for known in SUPPORTED_LOCALES:
        if value.strip().lower() == known.lower():
            return known
    raise SettingsError(f"QUIZBOT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}, got {value!r}")


def _questions_dirs(value: str) -> tuple[Path, ...]:
    dirs = tuple(Path(part).expanduser() for part in value.split(os.pathsep) if part.strip())
    for path in dirs:
        if not path.is_dir():
            raise SettingsError(f"QUIZBOT_QUESTIONS_DIRS: {path} is not a directory")
    return dirs


def _log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
        raise SettingsError(f"QUIZBOT_LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, got {value!r}")
    return level


def _port(value: str) -> int:
    if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
        raise SettingsError(f"QUIZBOT_HTTP_PORT must be a port number from 1 to 65535, got {value!r}")
    return int(value)


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")) -> Settings:
    """Merge ``.env`` (if present) under the real environment, then validate."""
    merged: dict[str, str] = {}
    if env_file is not None and env_file.is_file():
        merged.update(parse_dotenv(env_file.read_text(encoding="utf-8")))
    merged.update(os.environ if environ is None else environ)
    kwargs: dict[str, object] = {}
    if merged.get("QUIZBOT_DATABASE_URL", "").strip():
        kwargs["database_url"] = database_url(merged["QUIZBOT_DATABASE_URL"])
    if merged.get("QUIZBOT_LOCALE", "").strip():
        kwargs["locale"] = _locale(merged["QUIZBOT_LOCALE"])
    if merged.get("QUIZBOT_QUESTIONS_DIRS", "").strip():
        kwargs["questions_dirs"] = _questions_dirs(merged["QUIZBOT_QUESTIONS_DIRS"])
    if merged.get("QUIZBOT_LOG_LEVEL", "").strip():
        kwargs["log_level"] = _log_level(merged["QUIZBOT_LOG_LEVEL"])
    if merged.get("QUIZBOT_LOG_FORMAT", "").strip():
        log_format = merged["QUIZBOT_LOG_FORMAT"].strip().lower()
        if log_format not in {"text", "json"}:
            given = merged["QUIZBOT_LOG_FORMAT"]
            raise SettingsError(f"QUIZBOT_LOG_FORMAT must be text or json, got {given!r}")
        kwargs["log_format"] = log_format
    if merged.get("QUIZBOT_DAILY_GRACE_MINUTES", "").strip():
        value = merged["QUIZBOT_DAILY_GRACE_MINUTES"].strip()
        if not value.isdigit() or not 0 <= int(value) <= 1440:
            raise SettingsError(
                f"QUIZBOT_DAILY_GRACE_MINUTES must be a number of minutes from 0 to 1440, got {value!r}"
            )
        kwargs["daily_grace_minutes"] = int(value)
    if merged.get("QUIZBOT_RETENTION_DAYS", "").strip():
        value = merged["QUIZBOT_RETENTION_DAYS"].strip()
        if not value.isdigit() or not 0 <= int(value) <= MAX_RETENTION_DAYS:
            raise SettingsError(
                "QUIZBOT_RETENTION_DAYS must be a whole number of days from 0 (delete at once) "
                f"to {MAX_RETENTION_DAYS}, got {value!r}"
            )
        kwargs["retention_days"] = int(value)
    if merged.get("QUIZBOT_HTTP_PORT", "").strip():
        kwargs["http_port"] = _port(merged["QUIZBOT_HTTP_PORT"])
    secrets = {k: Secret(v) for k, v in merged.items() if k.startswith(("DISCORD_", "SLACK_"))}
    return Settings(extra=secrets, **kwargs)  # type: ignore[arg-type]
