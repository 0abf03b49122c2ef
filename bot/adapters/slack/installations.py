"""slack_sdk's installation and OAuth-state stores over the bot's own database.

Installations live in the ``installations`` table (Alembic-managed), one row per
workspace or Enterprise Grid org, the Installation kept as JSON. Uninstalling removes it.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta
from logging import Logger, getLogger
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.store import SqlStore

STATE_LIFETIME = timedelta(minutes=10)


def _key(enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None) -> str:
    return f"E:{enterprise_id}" if is_enterprise_install and enterprise_id else f"T:{team_id}"


def _installation_data(installation: Installation) -> str:
    data = dict(installation.__dict__)
    for name in ("installed_at", "bot_token_expires_at", "user_token_expires_at"):
        value = data.get(name)
        if isinstance(value, datetime):
            data[name] = value.timestamp()
    return json.dumps(data, default=str)


class DbInstallationStore(AsyncInstallationStore):
    def __init__(self, store: SqlStore, logger: Logger | None = None) -> None:
        self.store = store
        self._logger = logger or getLogger(__name__)

    @property
    def logger(self) -> Logger:
        return self._logger

    async def async_save(self, installation: Installation) -> None:
        key = _key(installation.enterprise_id, installation.team_id, installation.is_enterprise_install)
        await self.store.save_installation("slack", key, _installation_data(installation), datetime.now(UTC))
        if installation.team_id:  # installed again before the purge: the workspace's data stays
            await self.store.cancel_departure("slack", installation.team_id)

    async def async_save_bot(self, bot: Bot) -> None:  # the installation row carries the bot
        return None

    async def _load(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
    ) -> dict[str, Any] | None:
        raw = await self.store.find_installation("slack", _key(enterprise_id, team_id, is_enterprise_install))
        return json.loads(raw) if raw else None

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        data = await self._load(enterprise_id, team_id, is_enterprise_install)
        if data is None:
            return None
        fields = {k: v for k, v in data.items() if k in Installation.__init__.__code__.co_varnames}
        return Installation(**fields)

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        installation = await self.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return installation.to_bot() if installation is not None and installation.bot_token else None

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        await self.store.delete_installation("slack", _key(enterprise_id, team_id, False))
        if enterprise_id:
            await self.store.delete_installation("slack", _key(enterprise_id, team_id, True))

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)


class DbOAuthStateStore(AsyncOAuthStateStore):
    def __init__(self, store: SqlStore, logger: Logger | None = None) -> None:
        self.store = store
        self._logger = logger or getLogger(__name__)

    @property
    def logger(self) -> Logger:
        return self._logger

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        state = secrets.token_urlsafe(24)
        await self.store.issue_state(state, datetime.now(UTC) + STATE_LIFETIME)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self.store.consume_state(state, datetime.now(UTC))
