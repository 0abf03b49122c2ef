"""Who is clicking: name, language and admin flag from ``users.info``, cached.

The click path must not wait on a Slack API call it made a minute ago: entries live for
an hour (a changed display name or language shows up within that time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine.lru import LruCache

TTL_SECONDS = 3600.0


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    locale: str | None
    is_admin: bool
    fetched_at: float


class People:
    def __init__(self, size: int = 50_000) -> None:
        self._cache: LruCache[tuple[str, str], Person] = LruCache(size)

    async def get(
        self, client: AsyncWebClient, team_id: str, user_id: str, fallback_name: str = ""
    ) -> Person:
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached.fetched_at < TTL_SECONDS:
            return cached
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError:
            return Person(user_id, fallback_name or user_id, None, False, time.monotonic())
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        name = (
            profile.get("display_name")
            or user.get("real_name")
            or user.get("name")
            or fallback_name
            or user_id
        )
        person = Person(
            user_id,
            str(name),
            user.get("locale"),
            bool(user.get("is_admin") or user.get("is_owner")),
            time.monotonic(),
        )
        self._cache.put(key, person)
        return person
