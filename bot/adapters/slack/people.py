"""Who is clicking: name, language and admin flag from ``users.info``, cached.

The click path must not wait on a Slack API call it made a minute ago: entries are
trusted for an hour (a changed display name or language shows up within that time), and
when Slack refuses (rate limited) the last known entry, or a plain guess, is kept for a
minute instead of asking again on every click.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.engine.lru import LruCache

TTL_SECONDS = 3600.0
FALLBACK_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str
    locale: str | None
    is_admin: bool
    trusted_until: float  # time.monotonic() after which Slack is asked again
    timezone: str | None = None  # users.info's tz, e.g. America/Sao_Paulo


class People:
    def __init__(self, size: int = 50_000) -> None:
        self._cache: LruCache[tuple[str, str], Person] = LruCache(size)

    def peek(self, team_id: str, user_id: str) -> Person | None:
        """What is known without asking Slack (for work that must not wait, like opening a form)."""
        return self._cache.get((team_id, user_id))

    def forget(self, team_id: str, user_id: str) -> None:
        """The person asked to be forgotten: their name leaves this process's memory too."""
        self._cache.pop((team_id, user_id))

    async def get(
        self,
        client: AsyncWebClient,
        team_id: str,
        user_id: str,
        fallback_name: str = "",
        *,
        fresh: bool = False,
    ) -> Person:
        """``fresh`` re-reads Slack: organiser actions must not trust an hour-old admin flag."""
        key = (team_id, user_id)
        cached = self._cache.get(key)
        if not fresh and cached is not None and time.monotonic() < cached.trusted_until:
            return cached
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError:
            later = time.monotonic() + FALLBACK_TTL_SECONDS
            kept = (
                Person(cached.user_id, cached.name, cached.locale, cached.is_admin, later, cached.timezone)
                if cached is not None
                else Person(user_id, fallback_name or user_id, None, False, later)
            )
            self._cache.put(key, kept)
            return kept
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
            time.monotonic() + TTL_SECONDS,
            user.get("tz") or None,
        )
        self._cache.put(key, person)
        return person
