"""Slack settings (``SLACK_*``), checked before anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import Secret, SettingsError

DEFAULT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "users:read",
    "channels:read",
    "groups:read",
    "im:write",
    "channels:history",  # to find a question whose post lost its reply, before posting again
    "groups:history",
    "files:write",  # the progress chart, uploaded to the learner's DM
)


@dataclass(frozen=True)
class SlackSettings:
    signing_secret: Secret = field(repr=False)
    bot_token: Secret | None = field(default=None, repr=False)  # one workspace
    client_id: str | None = None  # many workspaces (OAuth)
    client_secret: Secret | None = field(default=None, repr=False)
    app_token: Secret | None = field(default=None, repr=False)  # Socket Mode
    api_url: str | None = None  # another Web API base URL (GovSlack, a test server)
    admin_user_ids: tuple[str, ...] = ()
    http_port: int = 3000
    scopes: tuple[str, ...] = DEFAULT_SCOPES

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def multi_workspace(self) -> bool:
        return self.client_id is not None


def load_slack_settings(values: Mapping[str, str], http_port: int = 3000) -> SlackSettings | None:
    """None when Slack is not configured (neither SLACK_BOT_TOKEN nor SLACK_CLIENT_ID)."""
    token = values.get("SLACK_BOT_TOKEN", "").strip()
    client_id = values.get("SLACK_CLIENT_ID", "").strip()
    if not token and not client_id:
        return None
    if token and not token.startswith("xoxb-"):
        raise SettingsError("SLACK_BOT_TOKEN must be a bot token (xoxb-…), from OAuth & Permissions")
    client_secret = values.get("SLACK_CLIENT_SECRET", "").strip()
    if client_id and not client_secret:
        raise SettingsError("SLACK_CLIENT_SECRET is needed with SLACK_CLIENT_ID (Basic Information page)")
    app_token = values.get("SLACK_APP_TOKEN", "").strip()
    if app_token and not app_token.startswith("xapp-"):
        raise SettingsError("SLACK_APP_TOKEN must be an app-level token (xapp-…) with connections:write")
    signing_secret = values.get("SLACK_SIGNING_SECRET", "").strip()
    if not signing_secret and not app_token:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is needed in HTTP mode (or set SLACK_APP_TOKEN for Socket Mode)"
        )
    api_url = values.get("SLACK_API_URL", "").strip()
    if api_url and not api_url.startswith(("http://", "https://")):
        raise SettingsError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    if api_url and not api_url.endswith("/"):
        api_url += "/"  # slack_sdk appends the method name
    admins = tuple(u.strip() for u in values.get("SLACK_ADMIN_USER_IDS", "").split(",") if u.strip())
    scopes = (
        tuple(s.strip() for s in values.get("SLACK_SCOPES", "").split(",") if s.strip()) or DEFAULT_SCOPES
    )
    return SlackSettings(
        signing_secret=Secret(signing_secret or "socket-mode"),
        bot_token=Secret(token) if token else None,
        client_id=client_id or None,
        client_secret=Secret(client_secret) if client_secret else None,
        app_token=Secret(app_token) if app_token else None,
        api_url=api_url or None,
        admin_user_ids=admins,
        http_port=http_port,
        scopes=scopes,
    )
