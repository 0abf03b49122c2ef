"""Meeting a running bot's Slack endpoint: the first url_verification, and the OAuth
install as a workspace admin meets it."""

from __future__ import annotations

import asyncio
import contextlib

import aiohttp

from tests.fakes.slack_server import FakeSlack, SlackClientSim


async def verify_url(sim: SlackClientSim, attempts: int = 300) -> None:
    """Slack's url_verification, tried every 50 ms until the bot listens."""
    for _ in range(attempts):
        with contextlib.suppress(aiohttp.ClientError, OSError):
            verified = await sim.url_verification("ch4llenge")
            assert verified.status == 200 and "ch4llenge" in verified.body
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the bot never answered url_verification")


async def install(fake: FakeSlack, events_url: str, team: str = "T1", user: str = "UADMIN") -> None:
    """The install page, Slack's authorize step (a code from ``fake``), the redirect back."""
    base = events_url.removesuffix("/slack/events")
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{base}/slack/install", allow_redirects=False) as page:
            assert page.status in (200, 302)
            body = await page.text()
            location = page.headers.get("Location", "")
            cookies = {k: v.value for k, v in page.cookies.items()}
        source = location if "state=" in location else body
        state = source.split("state=")[1].split("&")[0].split('"')[0]
        code = fake.issue_oauth_code(team, user)
        async with http.get(
            f"{base}/slack/oauth_redirect", params={"code": code, "state": state}, cookies=cookies
        ) as done:
            assert done.status == 200, await done.text()
