"""What a member saw privately in reply to an interaction on the fake Discord."""

from __future__ import annotations

from typing import Any


async def followup_text(record: Any, timeout: float = 15) -> str:  # noqa: ASYNC109 - reads best in tests
    """What the member saw privately: the first response, or the follow-up after a deferral."""
    callback = await record.response(timeout=3)
    if callback.type == 4:
        content, embeds = callback.data.get("content") or "", callback.data.get("embeds") or []
    else:
        (message,) = await record.wait_followups(1, timeout=timeout)
        content, embeds = message.content or "", message.embeds
    parts = [content]
    for embed in embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f.get('name')} {f.get('value')}" for f in embed.get("fields") or []]
    return " ".join(parts)
