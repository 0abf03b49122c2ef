"""The fake Slack against the real slack-bolt ``AsyncApp``, over real sockets.

These tests pin down that the fake is good enough for the adapter's end-to-end tests: a
stock Bolt app served by aiohttp (HTTP mode) and connected through ``AsyncSocketModeHandler``
(Socket Mode) acks signed commands, clicks, submissions and events through it, and
slack_sdk's rate-limit handling behaves as it does against Slack.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.slack_server import FakeSlack, SlackClientSim

SECRET = "s3cr3t"
QUESTION: list[dict[str, Any]] = [
    {"type": "section", "block_id": "q", "text": {"type": "mrkdwn", "text": "Which is a foundation model?"}},
    {
        "type": "actions",
        "block_id": "choices",
        "elements": [
            {
                "type": "button",
                "action_id": "answer",
                "value": "B",
                "text": {"type": "plain_text", "text": "B"},
            }
        ],
    },
]
FLAG_MODAL = {
    "type": "modal",
    "callback_id": "flag",
    "title": {"type": "plain_text", "text": "Flag a question"},
    "submit": {"type": "plain_text", "text": "Send"},
    "blocks": [
        {
            "type": "input",
            "block_id": "why",
            "label": {"type": "plain_text", "text": "Why?"},
            "element": {"type": "plain_text_input", "action_id": "reason"},
        }
    ],
}


def build_app(fake: FakeSlack, retries: list[str | None]) -> AsyncApp:
    """A minimal quiz app: every listener acks first, then works, as Bolt recommends."""
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    app = AsyncApp(signing_secret=SECRET, client=client)  # with ``token`` too, Bolt warns it is unused

    @app.command("/quiz")
    async def quiz(ack: Any, command: dict[str, Any], say: Any, respond: Any, client: AsyncWebClient) -> None:
        if command["text"] == "help":
            await ack("Try /quiz start")
            return
        await ack()
        if command["text"] == "flag":
            await client.views_open(trigger_id=command["trigger_id"], view=FLAG_MODAL)
            return
        await say(text="Question 1", blocks=QUESTION)
        await respond("Only you see this")

    @app.action("answer")
    async def answer(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        choice = body["actions"][0]["value"]
        await client.chat_postEphemeral(channel=body["channel"]["id"], user=body["user"]["id"], text=choice)

    @app.view("flag")
    async def flag(ack: Any, view: dict[str, Any]) -> None:
        reason = view["state"]["values"]["why"]["reason"]["value"]
        if len(reason) < 5:
            await ack(response_action="errors", errors={"why": "Say a little more"})
        else:
            await ack()

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any, request: Any) -> None:
        retries.append(request.headers.get("x-slack-retry-num", [None])[0])
        await say(f"hi <@{event['user']}>")

    return app


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack() as fake:
        yield fake


@pytest.fixture
def retries() -> list[str | None]:
    return []


@pytest.fixture
async def sim(fake: FakeSlack, retries: list[str | None]) -> AsyncIterator[SlackClientSim]:
    """The app served over HTTP on an ephemeral port, and a simulated Slack posting to it."""
    runner = web.AppRunner(build_app(fake, retries).web_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    async with SlackClientSim(fake, f"http://127.0.0.1:{port}/slack/events", SECRET) as sim:
        yield sim
    await runner.cleanup()


async def start_quiz(fake: FakeSlack, sim: SlackClientSim) -> None:
    """``/quiz start``, waiting for everything its listener does after the ack."""
    delivery = await sim.slash_command("start")
    assert delivery.response_url_id is not None
    url_id = delivery.response_url_id
    await fake.wait_for(lambda: bool(fake.messages("C1")) and bool(fake.responses(url_id)))


async def test_slash_command_acks_within_3s_then_says_and_responds(
    fake: FakeSlack, sim: SlackClientSim
) -> None:
    delivery = await sim.slash_command("start")
    assert delivery.status == 200 and delivery.elapsed < 3.0 and delivery.body == ""

    [post] = await fake.wait_for_calls("chat.postMessage")
    assert post.token == "xoxb-test" and post.args["channel"] == "C1"
    [message] = fake.messages("C1")
    assert message.text == "Question 1" and message.blocks == QUESTION
    url_id = delivery.response_url_id
    assert url_id is not None
    await fake.wait_for(lambda: len(fake.responses(url_id)) == 1)
    [response] = fake.responses(url_id)
    assert response.outcome == "ephemeral" and response.body["text"] == "Only you see this"
    assert [m.text for m in fake.ephemerals("C1", "UBOB")] == ["Only you see this"]
    assert fake.calls_to("auth.test")  # Bolt's single-team authorization, on the first request


async def test_an_ack_with_text_is_shown_to_the_user(fake: FakeSlack, sim: SlackClientSim) -> None:
    delivery = await sim.slash_command("help")
    assert delivery.status == 200 and delivery.body == "Try /quiz start"  # text/plain, not JSON
    assert [(m.text, m.via) for m in fake.ephemerals("C1", "UBOB")] == [("Try /quiz start", "ack")]


async def test_a_click_on_the_posted_button_gets_a_private_answer(
    fake: FakeSlack, sim: SlackClientSim
) -> None:
    await start_quiz(fake, sim)
    delivery = await sim.block_action("answer", user="UADMIN")
    assert delivery.status == 200 and delivery.elapsed < 3.0

    [call] = await fake.wait_for_calls("chat.postEphemeral")
    assert call.ok and call.args["user"] == "UADMIN"
    assert [m.text for m in fake.ephemerals("C1", "UADMIN")] == ["B"]
    with pytest.raises(LookupError):  # nobody can click what was never shown
        fake.block_action_payload("no-such-action")


async def test_ephemeral_messages_change_only_through_a_response_url(fake: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    posted = await client.chat_postEphemeral(channel="C1", user="UBOB", text="Q1", blocks=QUESTION)
    with pytest.raises(SlackApiError) as raised:
        await client.chat_update(channel="C1", ts=posted["message_ts"], text="edited")
    assert raised.value.response["error"] == "message_not_found"

    click = fake.block_action_payload("answer", user="UBOB")
    assert click["container"]["is_ephemeral"] is True and "message" not in click
    reply = await AsyncWebhookClient(click["response_url"]).send(text="answered", replace_original=True)
    assert reply.status_code == 200
    assert [m.text for m in fake.ephemerals("C1", "UBOB")] == ["answered"]


@pytest.mark.parametrize("tamper", ["signature", "timestamp"])
async def test_forged_or_stale_requests_are_refused_with_401(
    fake: FakeSlack, sim: SlackClientSim, tamper: str
) -> None:
    if tamper == "signature":
        delivery = await sim.slash_command("start", bad_signature=True)
    else:
        delivery = await sim.slash_command("start", timestamp=int(time.time()) - 6 * 60)
    assert delivery.status == 401
    assert fake.calls == [] and fake.messages("C1") == []


async def test_a_rate_limited_post_is_retried_by_the_retry_handler(
    fake: FakeSlack, sim: SlackClientSim
) -> None:
    fake.fail_next("chat.postMessage", retry_after=0)
    await start_quiz(fake, sim)
    calls = fake.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert len(fake.messages("C1")) == 1

    bare = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)  # no rate-limit handler: it raises
    fake.fail_next("chat.postMessage", retry_after=0)
    with pytest.raises(SlackApiError) as raised:
        await bare.chat_postMessage(channel="C1", text="x")
    assert raised.value.response.status_code == 429 and raised.value.response["error"] == "ratelimited"
    assert raised.value.response.headers["Retry-After"] == "0"


async def test_modal_needs_a_fresh_trigger_and_its_submission_acks(
    fake: FakeSlack, sim: SlackClientSim
) -> None:
    await sim.slash_command("flag")
    [opened] = await fake.wait_for_calls("views.open")
    assert opened.ok

    rejected = await sim.view_submission(
        "flag", {"why": {"reason": {"type": "plain_text_input", "value": "no"}}}
    )
    assert rejected.status == 200
    assert rejected.json == {"response_action": "errors", "errors": {"why": "Say a little more"}}
    accepted = await sim.view_submission(
        "flag", {"why": {"reason": {"type": "plain_text_input", "value": "typo!"}}}
    )
    assert accepted.status == 200 and accepted.body == ""
    with pytest.raises(LookupError):  # a plain ack closed the modal
        fake.view_submission_payload("flag")

    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    for trigger, error in [
        (fake.issue_trigger("UBOB", age=3.5), "expired_trigger_id"),
        (opened.args["trigger_id"], "exchanged_trigger_id"),
        ("made-up", "invalid_trigger_id"),
    ]:
        with pytest.raises(SlackApiError) as raised:
            await client.views_open(trigger_id=trigger, view=FLAG_MODAL)
        assert raised.value.response["error"] == error


async def test_events_and_their_retries_reach_the_app(
    fake: FakeSlack, sim: SlackClientSim, retries: list[str | None]
) -> None:
    assert (await sim.url_verification("ch4llenge")).json == {"challenge": "ch4llenge"}
    mention = {"type": "app_mention", "user": "UBOB", "channel": "C1", "text": "<@UBOT> hi", "ts": "1.000001"}
    first = await sim.event(mention)
    again = await sim.event(mention, retry_num=1, event_id=first.payload["event_id"])
    assert first.status == again.status == 200
    await fake.wait_for_calls("chat.postMessage", count=2)
    assert sorted(retries, key=str) == ["1", None]


@pytest.mark.filterwarnings("ignore:BasicAuth is deprecated:DeprecationWarning")  # slack_sdk on aiohttp 3.14
async def test_web_api_speaks_slack(fake: FakeSlack) -> None:
    """Forms, queries and JSON; tokens; channel visibility; metadata; OAuth installs."""
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    pt = fake.add_user("UPT", "joana", locale="pt-BR")
    assert (await client.users_info(user=pt.id, include_locale=True))["user"]["locale"] == "pt-BR"
    assert "locale" not in (await client.users_info(user=pt.id))["user"]
    assert (await client.users_info(user="UADMIN"))["user"]["is_admin"] is True

    fake.add_channel("C2", "secret", is_private=True, bot_member=False)
    fake.add_channel("C3", "random", bot_member=False)
    for channel, error in [
        ("C2", "channel_not_found"),
        ("C3", "not_in_channel"),
        ("C404", "channel_not_found"),
    ]:
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=channel, text="hi")
        assert raised.value.response["error"] == error
    assert (await client.conversations_join(channel="C3"))["channel"]["is_member"] is True

    metadata = {"event_type": "quiz_round", "event_payload": {"round": 7}}
    posted = await client.api_call(
        "chat.postMessage", data={"channel": "C1", "text": "form", "metadata": json.dumps(metadata)}
    )
    history = await client.conversations_history(channel="C1", include_all_metadata=True)
    assert history["messages"][0]["metadata"] == metadata and history["messages"][0]["ts"] == posted["ts"]
    assert "metadata" not in (await client.conversations_history(channel="C1"))["messages"][0]

    for bad, error in [
        (AsyncWebClient(token="xoxb-nope", base_url=fake.api_url), "invalid_auth"),
        (client, ""),
    ]:
        with pytest.raises(SlackApiError) as raised:
            await (bad.auth_test() if error else bad.api_call("quiz.start"))
        assert raised.value.response["error"] == (error or "unknown_method")
    assert [c.method for c in fake.unknown_calls] == ["quiz.start"]

    code = fake.issue_oauth_code()
    install = await client.oauth_v2_access(
        client_id=fake.client_id, client_secret=fake.client_secret, code=code
    )
    assert install["team"] == {"id": "T1", "name": "Quiz Lab"} and install["token_type"] == "bot"
    new_client = AsyncWebClient(token=install["access_token"], base_url=fake.api_url)
    assert (await new_client.auth_test())["user_id"] == install["bot_user_id"] == "UBOT"
    fake.token_rotation = True  # expiring tokens, each refresh token good once
    credentials = {"client_id": fake.client_id, "client_secret": fake.client_secret}
    rotating = await client.oauth_v2_access(**credentials, code=fake.issue_oauth_code())
    assert rotating["access_token"].startswith("xoxe.xoxb-") and rotating["expires_in"] == 43200
    refresh = {"grant_type": "refresh_token", "refresh_token": rotating["refresh_token"]}
    refreshed = await client.oauth_v2_access(**credentials, **refresh)
    assert refreshed["access_token"] not in (rotating["access_token"], install["access_token"])
    with pytest.raises(SlackApiError) as raised:
        await client.oauth_v2_access(**credentials, **refresh)
    assert raised.value.response["error"] == "invalid_refresh_token"
    assert fake.issued_tokens[-2:] == [refreshed["refresh_token"], refreshed["access_token"]]

    home = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    with pytest.raises(SlackApiError) as raised:
        await client.views_publish(user_id="UBOB", view=home)
    assert raised.value.response["error"] == "invalid_arguments"
    await client.views_publish(user_id="UBOB", view=home | {"blocks": home["blocks"][:100]})
    assert len(fake.views_published("UBOB")[0]["blocks"]) == 100


async def test_socket_mode_acks_envelopes_and_survives_a_refresh(fake: FakeSlack) -> None:
    handler = AsyncSocketModeHandler(build_app(fake, []), app_token="xapp-test")
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        envelope_id = await fake.socket_send("slash_commands", fake.slash_command_payload("start"))
        ack = await fake.socket_ack(envelope_id, timeout=3.0)
        assert ack.payload is None and ack.elapsed < 3.0
        await fake.wait_for_calls("chat.postMessage")
        assert fake.calls_to("apps.connections.open")[0].token == "xapp-test"
        for _ in range(200):  # the SDK pings right after connecting; the fake's pong marks it alive
            if handler.client.last_ping_pong_time is not None:
                break
            await asyncio.sleep(0.01)
        assert handler.client.last_ping_pong_time is not None

        await fake.socket_disconnect("refresh_requested")
        await fake.wait_for(lambda: fake.socket_opened == 2)
        envelope_id = await fake.socket_send("slash_commands", fake.slash_command_payload("help"))
        assert (await fake.socket_ack(envelope_id)).payload == {"text": "Try /quiz start"}
        assert [m.text for m in fake.ephemerals("C1", "UBOB")][-1] == "Try /quiz start"

        await fake.socket_close()  # no warning this time: the client must notice and reconnect
        await fake.wait_for(lambda: fake.socket_opened == 3)
        envelope_id = await fake.socket_send("slash_commands", fake.slash_command_payload("help"))
        assert (await fake.socket_ack(envelope_id)).payload == {"text": "Try /quiz start"}
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def test_a_file_goes_up_in_three_steps_into_a_dm(fake: FakeSlack) -> None:
    """slack_sdk's files_upload_v2 against the fake: the URL, the bytes, the completion."""
    fake.team.scopes.add("files:write")
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    dm = (await client.conversations_open(users=fake.member.id))["channel"]["id"]
    done = await client.files_upload_v2(
        channel=dm,
        file=PNG,
        filename="chart.png",
        title="Progress",
        alt_txt="a chart",
        initial_comment="Your chart",
    )
    assert done["file"]["name"] == "chart.png" and done["file"]["mimetype"] == "image/png"
    (asked,) = fake.calls_to("files.getUploadURLExternal")
    assert asked.args["filename"] == "chart.png" and int(asked.args["length"]) == len(PNG)
    (completed,) = fake.calls_to("files.completeUploadExternal")
    assert completed.args["channel_id"] == dm
    (shared,) = fake.files_in(dm)
    assert shared.content == PNG and shared.title == "Progress" and shared.alt_txt == "a chart"
    (message,) = fake.messages(dm)
    assert message.text == "Your chart" and message.files == [shared.id] and not message.ephemeral
    assert fake.calls_to("files.upload") == []  # the retired method is never needed


async def test_file_uploads_need_the_files_write_scope(fake: FakeSlack) -> None:
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)
    with pytest.raises(SlackApiError) as refused:
        await client.files_upload_v2(channel="C1", file=PNG, filename="chart.png")
    assert refused.value.response["error"] == "missing_scope"
    assert refused.value.response["needed"] == "files:write"
    assert "files:write" not in refused.value.response["provided"]
    assert fake.files == {} and fake.calls_to("files.completeUploadExternal") == []


async def test_uploads_are_checked_like_slack_checks_them(fake: FakeSlack) -> None:
    fake.team.scopes.add("files:write")
    client = AsyncWebClient(token="xoxb-test", base_url=fake.api_url)

    async def refused(method: str, **args: Any) -> str:
        with pytest.raises(SlackApiError) as error:
            await client.api_call(method, params=args)
        return str(error.value.response["error"])

    assert await refused("files.getUploadURLExternal", filename="chart.png", length=0) == "missing_argument"
    assert await refused("files.getUploadURLExternal", length=10) == "invalid_arguments"
    assert await refused("files.getUploadURLExternal", filename="c.png", length=1, alt_txt="x" * 1001) == (
        "alt_txt_too_large"
    )
    url = await client.files_getUploadURLExternal(filename="chart.png", length=len(PNG))
    file_id, upload_url = url["file_id"], url["upload_url"]
    files = json.dumps([{"id": file_id}])
    assert await refused("files.completeUploadExternal", files=files) == "file_not_found"  # nothing arrived
    async with aiohttp.ClientSession() as session:
        async with session.post(upload_url, data=PNG[:-1]) as short:
            assert short.status == 400  # fewer bytes than announced
        async with session.post(upload_url + "x", data=PNG) as forged:
            assert forged.status == 404
        async with session.post(upload_url, data=PNG) as sent:
            assert sent.status == 200 and (await sent.text()) == f"OK - {len(PNG)}"
    secret = fake.add_channel("G1", "secret", is_private=True, bot_member=False)
    assert await refused("files.completeUploadExternal", files=files, channel_id=secret.id) == (
        "channel_not_found"
    )
    assert await refused("files.completeUploadExternal", files="not json") == "invalid_arguments"
    await client.files_completeUploadExternal(files=[{"id": file_id}], channel_id="C1")
    assert [f.id for f in fake.files_in("C1")] == [file_id]
    assert await refused("files.completeUploadExternal", files=files, channel_id="C1") == "file_not_found"
