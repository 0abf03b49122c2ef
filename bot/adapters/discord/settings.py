"""Discord settings (``DISCORD_*``), checked before anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import Secret, SettingsError


@dataclass(frozen=True)
class DiscordSettings:
    token: Secret = field(repr=False)
    guild_ids: tuple[int, ...] = ()  # sync commands to these guilds at once (else globally)
    api_base_url: str | None = None  # a REST proxy, or a test server
    gateway_url: str | None = None
    shard_count: int | None = None
    shard_ids: tuple[int, ...] | None = None

    @property
    def application_id(self) -> int:
        """The bot's user id, which is its application id, is the token's first part."""
        return application_id_from_token(self.token)


def application_id_from_token(token: str) -> int:
    import base64

    first = token.split(".", 1)[0]
    try:
        return int(base64.b64decode(first + "=" * (-len(first) % 4)).decode())
    except (ValueError, UnicodeDecodeError) as error:
        raise SettingsError(
            "DISCORD_TOKEN does not look like a bot token (copy it from the Bot page)"
        ) from error


def _ids(name: str, value: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in value.replace(" ", "").split(",") if part)
    except ValueError as error:
        raise SettingsError(f"{name} must be comma-separated numeric ids, got {value!r}") from error


def _url(name: str, value: str, schemes: tuple[str, ...]) -> str:
    if not value.startswith(schemes):
        raise SettingsError(f"{name} must start with {' or '.join(schemes)}, got {value!r}")
    return value.rstrip("/")


def load_discord_settings(values: Mapping[str, str]) -> DiscordSettings | None:
    """None when Discord is not configured (no DISCORD_TOKEN)."""
    token = values.get("DISCORD_TOKEN", "").strip()
    if not token:
        return None
    shard_count = None
    if values.get("DISCORD_SHARD_COUNT", "").strip():
        (shard_count,) = _ids("DISCORD_SHARD_COUNT", values["DISCORD_SHARD_COUNT"]) or (0,)
        if shard_count < 1:
            raise SettingsError("DISCORD_SHARD_COUNT must be a positive whole number")
    shard_ids = (
        _ids("DISCORD_SHARD_IDS", values["DISCORD_SHARD_IDS"]) if values.get("DISCORD_SHARD_IDS") else None
    )
    if shard_ids is not None and (shard_count is None or any(not 0 <= s < shard_count for s in shard_ids)):
        raise SettingsError("DISCORD_SHARD_IDS needs DISCORD_SHARD_COUNT and ids from 0 to count - 1")
    api = values.get("DISCORD_API_BASE_URL", "").strip()
    gateway = values.get("DISCORD_GATEWAY_URL", "").strip()
    return DiscordSettings(
        token=Secret(token),
        guild_ids=_ids("DISCORD_GUILD_IDS", values.get("DISCORD_GUILD_IDS", "")),
        api_base_url=_url("DISCORD_API_BASE_URL", api, ("http://", "https://")) if api else None,
        gateway_url=_url("DISCORD_GATEWAY_URL", gateway, ("ws://", "wss://")) if gateway else None,
        shard_count=shard_count,
        shard_ids=shard_ids,
    )
