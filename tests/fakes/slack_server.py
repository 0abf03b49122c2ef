"""A small but faithful fake of Slack (Web API, response URLs, Socket Mode) on 127.0.0.1.

Why: the Slack adapter is tested with the *real* slack-bolt ``AsyncApp`` over real sockets,
in HTTP mode (signed requests to ``/slack/events``) and in Socket Mode (a websocket opened
through ``apps.connections.open``). Point an ``AsyncWebClient(base_url=fake.api_url)`` at
this server; ``SlackClientSim`` plays the users' side against the app's HTTP endpoint.

Only what the quiz bot uses is modelled, but that behaves like Slack, including the details
that break apps (or hide their bugs) when a fake gets them wrong:

* errors are HTTP 200 with ``{"ok": false, "error": ...}``; only rate limits are HTTP 429,
  with ``Retry-After`` in whole seconds (slack_sdk's retry handler parses it with ``int``);
* arguments arrive as JSON, as a form, or in the query string (``users.info`` is a GET),
  and form values that hold JSON (``blocks``, ``view``, ``metadata``) are JSON strings;
* a private channel the bot was not invited to does not exist for it (``channel_not_found``);
  a public one it has not joined refuses posts (``not_in_channel``) unless the install has
  ``chat:write.public``; archived channels refuse posts (``is_archived``);
* trigger ids live 3 s and can be exchanged once (``expired_trigger_id``,
  ``exchanged_trigger_id``); response URLs take 5 posts within 30 minutes;
* ephemeral messages are not in ``conversations.history`` and cannot be edited through
  ``chat.update``: only through the response URL of an interaction on them;
* message metadata comes back from ``conversations.history`` only with ``include_all_metadata``;
* an app token (``xapp-``) only opens Socket Mode connections, bot tokens cannot;
* files go up in three steps (``files.getUploadURLExternal``, a POST of the bytes to the
  upload URL it returned, ``files.completeUploadExternal``), both methods need the
  ``files:write`` scope (``missing_scope`` with ``needed``/``provided`` otherwise), the
  bytes must be as many as announced, and a file is completed, and shared, once.

Times are ``time.monotonic()`` seconds, except Slack's own ``ts`` strings (epoch seconds).
"""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlencode

import aiohttp
from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

JSON = dict[str, Any]
TRIGGER_TTL = 3.0  # seconds a trigger_id can open a modal
RESPONSE_URL_USES, RESPONSE_URL_TTL = 5, 30 * 60.0
MAX_MESSAGE_BLOCKS, MAX_VIEW_BLOCKS, MAX_HOME_BYTES = 50, 100, 250_000
MAX_ALT_TEXT = 1000
MIME_TYPES = {"png": "image/png", "json": "application/json", "txt": "text/plain"}


class SlackError(Exception):
    """An ``ok: false`` answer; ``extra`` lands next to ``error`` (``response_metadata``...)."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


# --- the world ---------------------------------------------------------------------------


@dataclass
class Team:
    id: str
    name: str
    bot_user_id: str
    bot_id: str
    bot_tokens: set[str] = field(default_factory=set)
    scopes: set[str] = field(default_factory=lambda: {"commands", "chat:write", "users:read"})

    @property
    def domain(self) -> str:
        return self.name.lower().replace(" ", "-")


@dataclass
class User:
    id: str
    team_id: str
    name: str
    locale: str = "en-US"
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    real_name: str = ""
    display_name: str = ""
    tz: str = "UTC"

    def to_dict(self, *, include_locale: bool = False) -> JSON:
        real, display = self.real_name or self.name.title(), self.display_name
        profile = {"real_name": real, "display_name": display, "team": self.team_id}
        profile |= {"real_name_normalized": real, "display_name_normalized": display}
        data: JSON = {"id": self.id, "team_id": self.team_id, "name": self.name, "deleted": False}
        data |= {"real_name": real, "tz": self.tz, "tz_offset": 0, "profile": profile}
        data |= {"is_admin": self.is_admin, "is_owner": self.is_owner, "is_primary_owner": self.is_owner}
        data |= {"is_restricted": False, "is_ultra_restricted": False, "is_bot": self.is_bot}
        return data | {"is_app_user": False} | ({"locale": self.locale} if include_locale else {})


@dataclass
class Channel:
    id: str
    team_id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    members: set[str] = field(default_factory=set)  # user ids, the bot's user id when it was invited

    def to_dict(self, bot_user_id: str) -> JSON:
        data: JSON = {"id": self.id, "name": self.name, "name_normalized": self.name}
        data |= {"is_channel": not self.is_im, "is_group": False, "is_im": self.is_im}
        data |= {"is_private": self.is_private or self.is_im, "is_archived": self.is_archived}
        data |= {"is_general": self.name == "general", "is_member": bot_user_id in self.members}
        data |= {"created": 1_700_000_000, "context_team_id": self.team_id}
        return data | {"topic": {"value": ""}, "purpose": {"value": ""}}


# --- what tests inspect --------------------------------------------------------------------


@dataclass(eq=False)
class Message:
    """A posted message; ``visible_to`` is set on an ephemeral one (only that user sees it)."""

    channel: str
    ts: str
    text: str
    blocks: list[JSON]
    user: str  # the author: the bot's user id
    bot_id: str
    team: str
    thread_ts: str | None = None
    metadata: JSON | None = None
    visible_to: str | None = None
    via: str = "chat.postMessage"  # or chat.postEphemeral, response_url, ack
    edits: list[JSON] = field(default_factory=list)  # every edit's arguments, in order
    deleted: bool = False
    files: list[str] = field(default_factory=list)  # ids of the files shared with this message

    @property
    def ephemeral(self) -> bool:
        return self.visible_to is not None

    def to_dict(self, app_id: str, *, with_metadata: bool = True) -> JSON:
        data: JSON = {"type": "message", "text": self.text, "user": self.user, "bot_id": self.bot_id}
        data |= {"app_id": app_id, "ts": self.ts, "team": self.team, "blocks": self.blocks}
        if self.thread_ts:
            data["thread_ts"] = self.thread_ts
        if self.edits:
            data["edited"] = {"user": self.user, "ts": self.edits[-1].get("_ts", self.ts)}
        if self.files:
            data["files"] = [{"id": file_id} for file_id in self.files]
        return data | ({"metadata": self.metadata} if with_metadata and self.metadata else {})


@dataclass
class Call:
    """One Web API call as the fake received it; ``args`` merges query, form and JSON body."""

    method: str
    args: JSON
    token: str | None
    at: float
    status: int | None = None  # set once answered
    response: JSON | None = None

    @property
    def ok(self) -> bool:
        return bool(self.response and self.response.get("ok"))


@dataclass
class SharedFile:
    """A file on its way up, then shared: ``files.getUploadURLExternal`` announces it, the
    upload URL receives ``content``, ``files.completeUploadExternal`` shares it."""

    id: str
    team_id: str
    filename: str
    length: int  # bytes announced to files.getUploadURLExternal
    alt_txt: str
    upload_key: str  # the secret part of its upload URL
    content: bytes | None = None  # what reached the upload URL
    title: str = ""
    channels: list[str] = field(default_factory=list)
    completed: bool = False

    def to_dict(self, bot_user_id: str) -> JSON:
        kind = self.filename.rsplit(".", 1)[-1].lower() if "." in self.filename else "binary"
        data: JSON = {"id": self.id, "name": self.filename, "title": self.title or self.filename}
        data |= {"filetype": kind, "mimetype": MIME_TYPES.get(kind, "application/octet-stream")}
        data |= {"size": len(self.content or b""), "user": bot_user_id, "alt_txt": self.alt_txt}
        return data | {"channels": list(self.channels)}


@dataclass
class ResponseUrl:
    """A response URL the fake handed out with a command or interaction."""

    id: str
    url: str
    team_id: str
    channel_id: str
    user_id: str
    created: float
    original: Message | None = None  # what ``replace_original``/``delete_original`` acts on
    uses: int = 0


@dataclass
class ResponsePost:
    """One post to a response URL; ``outcome`` is ephemeral, in_channel, replaced, deleted or an error."""

    url_id: str
    body: JSON
    at: float
    outcome: str
    message: Message | None = None


@dataclass
class Delivery:
    """What the app answered to one simulated request: status, body and time to the ack."""

    status: int
    body: str
    elapsed: float
    headers: Mapping[str, str]
    payload: JSON  # what was sent (the form fields, or the JSON payload)

    @property
    def json(self) -> Any:
        """The body parsed, when the app answered JSON (Bolt answers ``ack("text")`` in plain text)."""
        is_json = self.headers.get("Content-Type", "").startswith("application/json")
        return json.loads(self.body) if self.body and is_json else None

    @property
    def response_url_id(self) -> str | None:
        url = self.payload.get("response_url")
        return str(url).rsplit("/", 1)[-1] if url else None


@dataclass
class SocketAck:
    envelope_id: str
    payload: JSON | None
    at: float
    elapsed: float  # seconds from sending the envelope


@dataclass(eq=False)
class _SocketConnection:
    ws: web.WebSocketResponse
    app_id: str
    opened_at: float


@dataclass
class _Fault:
    method: str
    error: str
    status: int
    retry_after: int


@dataclass
class _Trigger:
    user_id: str
    team_id: str
    issued: float
    used: bool = False


def _bool(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def _json_arg(args: Mapping[str, Any], key: str) -> Any:
    """Form-encoded calls carry ``blocks``/``view``/``metadata`` as JSON strings."""
    value = args.get(key)
    if isinstance(value, str) and value:
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            errors = {"blocks": "invalid_blocks_format", "metadata": "invalid_metadata_format"}
            raise SlackError(errors.get(key, "invalid_arguments")) from error
    return value


def _walk_elements(blocks: list[JSON]) -> Iterator[JSON]:
    """Every interactive element in blocks: actions/context elements, accessories, input elements."""
    for block in blocks:
        for element in block.get("elements") or []:
            if isinstance(element, dict) and "action_id" in element:
                yield element
        for key in ("accessory", "element"):
            if isinstance(block.get(key), dict) and "action_id" in block[key]:
                yield block[key]


def _check_blocks(blocks: Any, limit: int) -> list[JSON]:
    if not isinstance(blocks, list) or any(not isinstance(b, dict) or "type" not in b for b in blocks):
        raise SlackError("invalid_blocks")
    if len(blocks) > limit:
        raise SlackError("invalid_blocks", response_metadata={"messages": [f"no more than {limit} items"]})
    action_ids = [e["action_id"] for e in _walk_elements(blocks)]
    if len(set(action_ids)) != len(action_ids):
        raise SlackError("invalid_blocks", response_metadata={"messages": ["action_id already exists"]})
    return blocks


def _find_element(blocks: list[JSON], action_id: str) -> tuple[str, JSON] | None:
    """The block id and element that carry ``action_id``, if any block does."""
    for block in blocks:
        for element in _walk_elements([block]):
            if element["action_id"] == action_id:
                return str(block.get("block_id") or ""), element
    return None


# --- the server ----------------------------------------------------------------------------


@dataclass
class _Ctx:
    call: Call
    team: Team | None  # None for app-token and unauthenticated methods
    args: JSON
    headers: Mapping[str, str]

    @property
    def bot_team(self) -> Team:
        assert self.team is not None
        return self.team


Handler = Callable[[_Ctx], Awaitable[JSON]]


class FakeSlack:
    """Slack's Web API, response URLs and Socket Mode for one app, with a small world.

    The default world: team ``T1`` ("Quiz Lab") with bot token ``xoxb-test`` and bot user
    ``UBOT``; an admin ``UADMIN`` (ada, also the owner), a plain user ``UBOB`` (bob) and the
    public channel ``C1`` (#general) with all three in it. App token: ``xapp-test``.
    """

    def __init__(self, *, app_id: str = "A0FAKE", verification_token: str = "fake-verification") -> None:
        self.app_id = app_id
        self.verification_token = verification_token  # the deprecated ``token`` field in payloads
        self.client_id, self.client_secret = "1111.2222", "fake-client-secret"
        # token rotation, as turned on in the app's settings: oauth.v2.access then issues
        # expiring tokens (xoxe.xoxb-) with a single-use refresh token (xoxe-)
        self.token_rotation, self.token_lifetime = False, 43200
        self.issued_tokens: list[str] = []  # every access and refresh token oauth.v2.access issued
        self._refresh_tokens: dict[str, str] = {}  # refresh token → team id
        self._expires: dict[str, float] = {}  # expiring access token → when (monotonic) it stops working
        self.app_tokens: set[str] = {"xapp-test"}
        self.teams: dict[str, Team] = {}
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.calls: list[Call] = []
        self.files: dict[str, SharedFile] = {}  # file id → every file announced, uploaded or shared
        self.socket_received: list[JSON] = []  # every JSON frame a Socket Mode client sent
        self.socket_acks: dict[str, SocketAck] = {}
        self.socket_opened = 0  # websocket connections ever opened (reconnects count)
        self.url = ""
        self._messages: list[Message] = []
        self._response_urls: dict[str, ResponseUrl] = {}
        self._responses: list[ResponsePost] = []
        self._triggers: dict[str, _Trigger] = {}
        self._views: dict[str, tuple[JSON, str]] = {}  # view id → (view, user id)
        self._published: dict[str, list[JSON]] = {}
        self._oauth_codes: dict[str, tuple[str, str, str]] = {}  # code → team, user, scopes
        self._faults: list[_Fault] = []
        self._delays: dict[str, float] = {}
        self._drops: set[str] = set()
        self._tickets: dict[str, str] = {}  # Socket Mode ticket → app id
        self._sockets: list[_SocketConnection] = []
        self._sent_envelopes: dict[str, float] = {}
        self._socket_payloads: dict[str, JSON] = {}  # envelope id → payload, until acked
        self._last_ts = 0.0
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._methods: dict[str, tuple[Handler, Literal["bot", "app", "none"]]] = {
            "auth.test": (self._auth_test, "bot"),
            "chat.postMessage": (self._chat_post_message, "bot"),
            "chat.update": (self._chat_update, "bot"),
            "chat.delete": (self._chat_delete, "bot"),
            "chat.postEphemeral": (self._chat_post_ephemeral, "bot"),
            "views.open": (self._views_open, "bot"),
            "views.update": (self._views_update, "bot"),
            "views.publish": (self._views_publish, "bot"),
            "users.info": (self._users_info, "bot"),
            "conversations.info": (self._conversations_info, "bot"),
            "conversations.history": (self._conversations_history, "bot"),
            "conversations.replies": (self._conversations_replies, "bot"),
            "conversations.join": (self._conversations_join, "bot"),
            "conversations.open": (self._conversations_open, "bot"),
            "oauth.v2.access": (self._oauth_v2_access, "none"),
            "apps.connections.open": (self._apps_connections_open, "app"),
            "files.getUploadURLExternal": (self._files_get_upload_url_external, "bot"),
            "files.completeUploadExternal": (self._files_complete_upload_external, "bot"),
        }

        self.team = self.add_team("T1", "Quiz Lab", bot_token="xoxb-test", bot_user_id="UBOT")
        self.admin = self.add_user("UADMIN", "ada", is_admin=True, is_owner=True)
        self.member = self.add_user("UBOB", "bob")
        self.channel = self.add_channel("C1", "general", members={"UADMIN", "UBOB"})

    # --- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{url_id}", self._handle_response_url)
        app.router.add_get("/link/", self._handle_socket)
        app.router.add_post("/upload/{file_id}/{key}", self._handle_upload)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        for connection in list(self._sockets):
            await connection.ws.close(code=1001, message=b"fake slack stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """For ``AsyncWebClient(base_url=...)``: the trailing slash matters (``urljoin``)."""
        return f"{self.url}/api/"

    # --- shaping the world

    def add_team(
        self, team_id: str, name: str, *, bot_token: str | None = None, bot_user_id: str | None = None
    ) -> Team:
        """A workspace with the app installed: a bot user and one valid bot token."""
        bot_user_id = bot_user_id or f"UBOT{team_id}"
        team = Team(team_id, name, bot_user_id, f"B{bot_user_id[1:]}")
        team.bot_tokens.add(bot_token or f"xoxb-{team_id}-{secrets.token_hex(8)}")
        self.teams[team_id] = team
        self.users[bot_user_id] = User(bot_user_id, team_id, "quizbot", is_bot=True, real_name="QuizBot")
        return team

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        team: str = "T1",
        locale: str = "en-US",
        is_admin: bool = False,
        is_owner: bool = False,
        real_name: str = "",
        display_name: str = "",
    ) -> User:
        user = User(user_id, team, name, locale, is_admin, is_owner, False, real_name, display_name)
        self.users[user_id] = user
        return user

    def add_channel(
        self,
        channel_id: str,
        name: str,
        *,
        team: str = "T1",
        is_private: bool = False,
        members: set[str] | frozenset[str] = frozenset(),
        bot_member: bool = True,
        is_archived: bool = False,
    ) -> Channel:
        bot = {self.teams[team].bot_user_id} if bot_member else set()
        channel = Channel(channel_id, team, name, is_private, is_archived, members=set(members) | bot)
        self.channels[channel_id] = channel
        return channel

    def dm(self, user_id: str) -> Channel:
        """The DM between the bot and a user (``D`` + the user id), made on first use as Slack does."""
        user = self.users[user_id]
        channel_id = "D" + user_id[1:]
        if channel_id not in self.channels:
            members = {user_id, self.teams[user.team_id].bot_user_id}
            self.channels[channel_id] = Channel(
                channel_id, user.team_id, user_id, is_im=True, members=members
            )
        return self.channels[channel_id]

    def issue_trigger(self, user: str, team: str = "T1", *, age: float = 0.0) -> str:
        """A trigger_id as Slack sends with a command or interaction; ``age`` backdates it."""
        trigger_id = f"{int(time.time())}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"
        self._triggers[trigger_id] = _Trigger(user, team, time.monotonic() - age)
        return trigger_id

    def issue_response_url(
        self, team: str, channel: str, user: str, original: Message | None = None
    ) -> ResponseUrl:
        url_id = uuid.uuid4().hex
        url = ResponseUrl(url_id, f"{self.url}/response/{url_id}", team, channel, user, time.monotonic())
        url.original = original
        self._response_urls[url_id] = url
        return url

    def issue_oauth_code(
        self, team: str = "T1", user: str = "UADMIN", scopes: str = "commands,chat:write"
    ) -> str:
        """The ``code`` Slack's OAuth redirect would carry after ``user`` installs into ``team``."""
        code = f"{secrets.randbelow(10**12)}.{secrets.token_hex(12)}"
        self._oauth_codes[code] = (team, user, scopes)
        return code

    # --- inspection

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def unknown_calls(self) -> list[Call]:
        return [c for c in self.calls if c.method not in self._methods]

    def messages(self, channel: str, *, include_deleted: bool = False) -> list[Message]:
        """A channel's messages everyone sees, oldest first, thread replies included."""
        return [
            m
            for m in self._messages
            if m.channel == channel and not m.ephemeral and (include_deleted or not m.deleted)
        ]

    def ephemerals(self, channel: str, user: str) -> list[Message]:
        """What only ``user`` saw in ``channel``: chat.postEphemeral, response URLs, command acks."""
        return [m for m in self._messages if m.channel == channel and m.visible_to == user and not m.deleted]

    def files_in(self, channel: str) -> list[SharedFile]:
        """The files shared into ``channel``, in the order they were completed."""
        return [f for f in self.files.values() if channel in f.channels]

    def views_published(self, user: str) -> list[JSON]:
        """Every App Home view published for ``user``, in order."""
        return list(self._published.get(user, []))

    def view(self, view_id: str) -> JSON:
        return self._views[view_id][0]

    def responses(self, url_id: str) -> list[ResponsePost]:
        return [r for r in self._responses if r.url_id == url_id]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Waits until ``predicate()`` holds, re-checking after every call, post and socket frame."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_for_calls(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:  # noqa: ASYNC109
        """Waits until ``count`` calls to ``method`` have been answered, and returns them."""

        def answered() -> list[Call]:
            return [c for c in self.calls_to(method) if c.status is not None]

        await self.wait_for(lambda: len(answered()) >= count, timeout)
        return answered()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- fault injection ("response_url" names posts to response URLs)

    def fail_next(
        self, method: str, error: str = "ratelimited", status: int = 429, retry_after: int = 1
    ) -> None:
        """The next call answers HTTP ``status``; a 429 carries ``Retry-After`` (whole seconds)."""
        self._faults.append(_Fault(method, error, status, int(retry_after)))

    def error_next(self, method: str, error: str) -> None:
        """The next call answers HTTP 200 ``{"ok": false, "error": error}``."""
        self._faults.append(_Fault(method, error, 200, 0))

    def delay(self, method: str, seconds: float) -> None:
        """Every call to ``method`` takes ``seconds`` longer, until ``clear_faults``."""
        self._delays[method] = seconds

    def drop_after_store_next(self, method: str) -> None:
        """The next call is carried out, then its connection is closed with no answer: the
        client cannot tell whether it happened (a lost reply)."""
        self._drops.add(method)

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()
        self._drops.clear()

    async def _injected(self, method: str) -> web.Response | None:
        if method in self._delays:
            await asyncio.sleep(self._delays[method])
        fault = next((f for f in self._faults if f.method == method), None)
        if fault is None:
            return None
        self._faults.remove(fault)
        headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
        return web.json_response({"ok": False, "error": fault.error}, status=fault.status, headers=headers)

    # --- Web API plumbing

    def _team_for_token(self, token: str) -> Team | None:
        return next((t for t in self.teams.values() if token in t.bot_tokens), None)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        args: JSON = dict(request.query)
        if request.content_type == "application/json":
            try:
                args |= json.loads(await request.read() or b"{}")
            except json.JSONDecodeError:
                return web.json_response({"ok": False, "error": "invalid_json"})
        elif request.method == "POST" and request.can_read_body:
            args |= {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
        bearer = request.headers.get("Authorization", "")
        token = bearer[7:] if bearer.startswith("Bearer ") else args.pop("token", None)
        call = Call(method, args, token, time.monotonic())
        self.calls.append(call)
        response = await self._injected(method) or await self._answer(call, request.headers)
        call.status = response.status
        assert isinstance(response, web.Response) and response.body is not None
        call.response = json.loads(bytes(response.body))  # type: ignore[arg-type]
        await self._notify()
        if method in self._drops:
            self._drops.discard(method)
            if request.transport is not None:
                request.transport.close()  # stored, but the reply never arrives
        return response

    async def _answer(self, call: Call, headers: Mapping[str, str]) -> web.Response:
        if call.method not in self._methods:
            return web.json_response({"ok": False, "error": "unknown_method", "req_method": call.method})
        handler, token_kind = self._methods[call.method]
        team = None
        try:
            if token_kind != "none":
                if not call.token:
                    raise SlackError("not_authed")
                team, is_app = self._team_for_token(call.token), call.token in self.app_tokens
                if team is None and not is_app:
                    raise SlackError("invalid_auth")
                if self._expires.get(call.token, float("inf")) <= time.monotonic():
                    raise SlackError("token_expired")
                if is_app != (token_kind == "app"):
                    raise SlackError("not_allowed_token_type")
            body = await handler(_Ctx(call, team, call.args, headers))
        except SlackError as error:
            return web.json_response({"ok": False, "error": error.error, **error.extra})
        return web.json_response({"ok": True, **body})

    def _new_ts(self) -> str:
        """Slack's message ids: epoch seconds with six decimals, unique and increasing."""
        self._last_ts = max(round(time.time(), 6), round(self._last_ts + 0.000001, 6))
        return f"{self._last_ts:.6f}"

    def _user_in(self, team: Team, user_id: Any) -> User:
        user = self.users.get(str(user_id or ""))
        if user is None or user.team_id != team.id:
            raise SlackError("user_not_found")
        return user

    def _visible_channel(self, team: Team, channel_id: Any) -> Channel:
        """Private channels the bot is not in do not exist for it; user ids mean their DM."""
        channel_id = str(channel_id or "")
        if channel_id.startswith(("U", "W")) and channel_id in self.users:
            return self.dm(self._user_in(team, channel_id).id)
        channel = self.channels.get(channel_id)
        if channel is None or channel.team_id != team.id:
            raise SlackError("channel_not_found")
        if channel.is_private and team.bot_user_id not in channel.members:
            raise SlackError("channel_not_found")
        return channel

    def _postable_channel(self, team: Team, channel_id: Any) -> Channel:
        channel = self._visible_channel(team, channel_id)
        if channel.is_archived:
            raise SlackError("is_archived")
        if team.bot_user_id not in channel.members and "chat:write.public" not in team.scopes:
            raise SlackError("not_in_channel")
        return channel

    @staticmethod
    def _content(args: Mapping[str, Any], *, required: bool = True) -> tuple[str, list[JSON] | None]:
        text = str(args.get("text") or "")
        blocks = _json_arg(args, "blocks")
        if blocks is not None:
            blocks = _check_blocks(blocks, MAX_MESSAGE_BLOCKS)
        if required and not text and not blocks and not _json_arg(args, "attachments"):
            raise SlackError("no_text")
        if len(text) > 40_000:
            raise SlackError("msg_too_long")
        return text, blocks

    @staticmethod
    def _metadata(args: Mapping[str, Any]) -> JSON | None:
        metadata = _json_arg(args, "metadata")
        if metadata is None:
            return None
        ok_type = isinstance(metadata, dict) and isinstance(metadata.get("event_type"), str)
        if not ok_type or not isinstance(metadata.get("event_payload"), dict):
            raise SlackError("invalid_metadata_format")
        return {"event_type": metadata["event_type"], "event_payload": metadata["event_payload"]}

    def _stored(self, team: Team, channel: Channel, ts: Any) -> Message:
        for message in self._messages:
            if message.channel == channel.id and message.ts == ts and not message.ephemeral:
                if message.deleted:
                    break
                if message.user != team.bot_user_id:
                    raise SlackError("cant_update_message")
                return message
        raise SlackError("message_not_found")

    # --- Web API methods

    async def _auth_test(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        data: JSON = {"url": f"https://{team.domain}.slack.com/", "team": team.name, "user": "quizbot"}
        data |= {"team_id": team.id, "user_id": team.bot_user_id, "bot_id": team.bot_id}
        return data | {"is_enterprise_install": False}

    async def _chat_post_message(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._postable_channel(team, ctx.args.get("channel"))
        text, blocks = self._content(ctx.args)
        message = Message(
            channel.id, self._new_ts(), text, blocks or [], team.bot_user_id, team.bot_id, team.id
        )
        message.thread_ts = str(ctx.args["thread_ts"]) if ctx.args.get("thread_ts") else None
        message.metadata = self._metadata(ctx.args)
        self._messages.append(message)
        return {"channel": channel.id, "ts": message.ts, "message": message.to_dict(self.app_id)}

    async def _chat_update(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._visible_channel(team, ctx.args.get("channel"))
        message = self._stored(team, channel, ctx.args.get("ts"))
        if channel.is_archived:
            raise SlackError("is_archived")
        text, blocks = self._content(ctx.args, required=False)
        message.edits.append(dict(ctx.args) | {"_ts": self._new_ts()})
        message.text = text if "text" in ctx.args else message.text
        message.blocks = blocks if blocks is not None else message.blocks
        message.metadata = self._metadata(ctx.args) or message.metadata
        data = message.to_dict(self.app_id)
        return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": data}

    async def _chat_delete(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._visible_channel(team, ctx.args.get("channel"))
        try:
            message = self._stored(team, channel, ctx.args.get("ts"))
        except SlackError as error:
            raise SlackError(
                "cant_delete_message" if error.error == "cant_update_message" else error.error
            ) from None
        message.deleted = True
        return {"channel": channel.id, "ts": message.ts}

    async def _chat_post_ephemeral(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._postable_channel(team, ctx.args.get("channel"))
        user = self._user_in(team, ctx.args.get("user"))
        if user.id not in channel.members:
            raise SlackError("user_not_in_channel")
        text, blocks = self._content(ctx.args)
        message = Message(
            channel.id, self._new_ts(), text, blocks or [], team.bot_user_id, team.bot_id, team.id
        )
        message.thread_ts = str(ctx.args["thread_ts"]) if ctx.args.get("thread_ts") else None
        message.visible_to, message.via = user.id, "chat.postEphemeral"
        self._messages.append(message)
        return {"message_ts": message.ts}

    def _take_trigger(self, trigger_id: Any) -> _Trigger:
        trigger = self._triggers.get(str(trigger_id or ""))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.used:
            raise SlackError("exchanged_trigger_id")
        if time.monotonic() - trigger.issued > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        trigger.used = True
        return trigger

    @staticmethod
    def _valid_view(view: Any, kind: str) -> JSON:
        problems: list[str] = []
        if not isinstance(view, dict) or view.get("type") != kind:
            raise SlackError(
                "invalid_arguments", response_metadata={"messages": [f"view type must be {kind}"]}
            )
        blocks = view.get("blocks")
        if not isinstance(blocks, list) or len(blocks) > MAX_VIEW_BLOCKS:
            problems.append(
                f"[ERROR] must provide no more than {MAX_VIEW_BLOCKS} items [json-pointer:/view/blocks]"
            )
        if kind == "modal" and not (view.get("title") or {}).get("text"):
            problems.append("[ERROR] missing required field: title [json-pointer:/view]")
        if (
            len(str(view.get("private_metadata") or "")) > 3000
            or len(str(view.get("callback_id") or "")) > 255
        ):
            problems.append("[ERROR] private_metadata or callback_id too long [json-pointer:/view]")
        if kind == "home" and len(json.dumps(view).encode()) > MAX_HOME_BYTES:
            problems.append("[ERROR] view exceeds 250 kB [json-pointer:/view]")
        if problems:
            raise SlackError("invalid_arguments", response_metadata={"messages": problems})
        _check_blocks(blocks, MAX_VIEW_BLOCKS)
        return view

    def _store_view(self, team: Team, view: JSON, user_id: str, view_id: str | None = None) -> JSON:
        view_id = view_id or "V" + secrets.token_hex(5).upper()
        stored: JSON = {"id": view_id, "team_id": team.id, "type": view["type"], "blocks": view["blocks"]}
        stored |= {"private_metadata": "", "callback_id": "", "external_id": "", "state": {"values": {}}}
        stored |= {"title": None, "close": None, "submit": None, "clear_on_close": False}
        stored |= {"notify_on_close": False, "root_view_id": view_id, "previous_view_id": None}
        stored |= {"app_id": self.app_id, "app_installed_team_id": team.id, "bot_id": team.bot_id}
        stored |= {k: v for k, v in view.items() if k not in ("id", "team_id")}
        stored["hash"] = f"{time.time():.6f}.{secrets.token_hex(4)}"
        self._views[view_id] = (stored, user_id)
        return stored

    async def _views_open(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        view = self._valid_view(_json_arg(ctx.args, "view"), "modal")
        trigger = self._take_trigger(ctx.args.get("trigger_id"))
        return {"view": self._store_view(team, view, trigger.user_id)}

    async def _views_update(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        wanted = ctx.args.get("view_id") or ctx.args.get("external_id")
        found = [vid for vid, (v, _) in self._views.items() if wanted in (vid, v.get("external_id") or None)]
        if not wanted or not found:
            raise SlackError("not_found")
        old, user_id = self._views[found[0]]
        if ctx.args.get("hash") and ctx.args["hash"] != old["hash"]:
            raise SlackError("hash_conflict")
        view = self._valid_view(_json_arg(ctx.args, "view"), old["type"])
        return {"view": self._store_view(team, view, user_id, found[0])}

    async def _views_publish(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        user = self._user_in(team, ctx.args.get("user_id"))
        view = self._valid_view(_json_arg(ctx.args, "view"), "home")
        home_id = next(
            (vid for vid, (v, u) in self._views.items() if u == user.id and v["type"] == "home"), None
        )
        if home_id and ctx.args.get("hash") and ctx.args["hash"] != self._views[home_id][0]["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view(team, view, user.id, home_id)
        self._published.setdefault(user.id, []).append(stored)
        return {"view": stored}

    async def _users_info(self, ctx: _Ctx) -> JSON:
        user = self._user_in(ctx.bot_team, ctx.args.get("user"))
        return {"user": user.to_dict(include_locale=_bool(ctx.args.get("include_locale")))}

    async def _conversations_info(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._visible_channel(team, ctx.args.get("channel"))
        data = channel.to_dict(team.bot_user_id)
        if _bool(ctx.args.get("include_num_members")):
            data["num_members"] = len(channel.members)
        return {"channel": data}

    async def _conversations_history(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._visible_channel(team, ctx.args.get("channel"))
        if team.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        inclusive = _bool(ctx.args.get("inclusive"))
        oldest, latest = float(ctx.args.get("oldest") or 0), float(ctx.args.get("latest") or time.time() + 1)

        def in_range(ts: float) -> bool:
            return (oldest <= ts <= latest) if inclusive else (oldest < ts < latest)

        found = [
            m
            for m in reversed(self.messages(channel.id))
            if m.thread_ts in (None, m.ts) and in_range(float(m.ts))
        ]
        start = int(ctx.args.get("cursor") or 0)
        limit = max(1, min(int(ctx.args.get("limit") or 100), 999))
        page = found[start : start + limit]
        with_metadata = _bool(ctx.args.get("include_all_metadata"))
        cursor = str(start + limit) if start + limit < len(found) else ""
        return {
            "messages": [m.to_dict(self.app_id, with_metadata=with_metadata) for m in page],
            "has_more": bool(cursor),
            "pin_count": 0,
            "response_metadata": {"next_cursor": cursor},
        }

    async def _conversations_replies(self, ctx: _Ctx) -> JSON:
        """A thread: its parent first, then the replies, oldest first (one page is enough here)."""
        team = ctx.bot_team
        channel = self._visible_channel(team, ctx.args.get("channel"))
        if team.bot_user_id not in channel.members:
            raise SlackError("not_in_channel")
        ts = str(ctx.args.get("ts") or "")
        thread = [m for m in self.messages(channel.id) if m.ts == ts or m.thread_ts == ts]
        if not thread:
            raise SlackError("thread_not_found")
        limit = max(1, min(int(ctx.args.get("limit") or 1000), 1000))
        with_metadata = _bool(ctx.args.get("include_all_metadata"))
        return {
            "messages": [m.to_dict(self.app_id, with_metadata=with_metadata) for m in thread[:limit]],
            "has_more": len(thread) > limit,
            "response_metadata": {"next_cursor": ""},
        }

    async def _conversations_open(self, ctx: _Ctx) -> JSON:
        """The app's DM with a user (what App Home's messages tab shows)."""
        users = str(ctx.args.get("users") or "")
        if users not in self.users or "," in users:
            raise SlackError("user_not_found")
        return {"channel": {"id": self.dm(users).id}}

    async def _conversations_join(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        channel = self._visible_channel(team, ctx.args.get("channel"))
        if channel.is_private or channel.is_im:
            raise SlackError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise SlackError("is_archived")
        already = team.bot_user_id in channel.members
        channel.members.add(team.bot_user_id)
        warning = {"warning": "already_in_channel"} if already else {}
        return {"channel": channel.to_dict(team.bot_user_id)} | warning

    @staticmethod
    def _need_scope(team: Team, scope: str) -> None:
        if scope not in team.scopes:
            raise SlackError("missing_scope", needed=scope, provided=",".join(sorted(team.scopes)))

    async def _files_get_upload_url_external(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        self._need_scope(team, "files:write")
        filename = str(ctx.args.get("filename") or "")
        try:
            length = int(ctx.args.get("length", ""))
        except (TypeError, ValueError):
            raise SlackError("invalid_arguments") from None
        if not filename:
            raise SlackError("invalid_arguments")
        if length <= 0:
            raise SlackError("missing_argument")  # what Slack answers to a length of 0
        alt_txt = str(ctx.args.get("alt_txt") or "")
        if len(alt_txt) > MAX_ALT_TEXT:
            raise SlackError("alt_txt_too_large")
        file_id = "F" + secrets.token_hex(5).upper()
        upload = SharedFile(file_id, team.id, filename, length, alt_txt, secrets.token_urlsafe(16))
        self.files[file_id] = upload
        return {"upload_url": f"{self.url}/upload/{file_id}/{upload.upload_key}", "file_id": file_id}

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        """The upload URL: raw bytes or a multipart form, no token (the URL is the secret)."""
        upload = self.files.get(request.match_info["file_id"])
        if upload is None or not secrets.compare_digest(upload.upload_key, request.match_info["key"]):
            return web.Response(status=404, text="not found")
        if upload.content is not None or upload.completed:
            return web.Response(status=400, text="already uploaded")
        if request.content_type.startswith("multipart/"):
            content = b""
            async for part in await request.multipart():
                if isinstance(part, aiohttp.BodyPartReader) and part.filename is not None:
                    content = bytes(await part.read())
                    break
        else:
            content = await request.read()
        if len(content) != upload.length:
            return web.Response(status=400, text=f"expected {upload.length} bytes, got {len(content)}")
        upload.content = content
        await self._notify()
        return web.Response(text=f"OK - {len(content)}")

    async def _files_complete_upload_external(self, ctx: _Ctx) -> JSON:
        team = ctx.bot_team
        self._need_scope(team, "files:write")
        wanted = _json_arg(ctx.args, "files")
        if not isinstance(wanted, list) or not wanted or not all(isinstance(f, dict) for f in wanted):
            raise SlackError("invalid_arguments")
        uploads = []
        for item in wanted:
            upload = self.files.get(str(item.get("id") or ""))
            if upload is None or upload.team_id != team.id or upload.content is None or upload.completed:
                raise SlackError("file_not_found")  # unknown, never uploaded, or already completed
            uploads.append((upload, str(item.get("title") or "")))
        channel = None
        if ctx.args.get("channel_id"):
            channel = self._postable_channel(team, ctx.args["channel_id"])
        for upload, title in uploads:
            upload.completed, upload.title = True, title
            if channel is not None:
                upload.channels.append(channel.id)
        if channel is not None:
            text = str(ctx.args.get("initial_comment") or "")
            message = Message(channel.id, self._new_ts(), text, [], team.bot_user_id, team.bot_id, team.id)
            message.via, message.files = "files.completeUploadExternal", [u.id for u, _ in uploads]
            self._messages.append(message)
        return {"files": [upload.to_dict(team.bot_user_id) for upload, _ in uploads]}

    async def _oauth_v2_access(self, ctx: _Ctx) -> JSON:
        """Client credentials by HTTP Basic (slack_sdk) or in the body; codes and refresh
        tokens are single use."""
        client_id, secret = ctx.args.get("client_id"), ctx.args.get("client_secret")
        basic = ctx.headers.get("Authorization", "")
        if basic.startswith("Basic "):
            client_id, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if secret != self.client_secret:
            raise SlackError("bad_client_secret")
        data: JSON = {"app_id": self.app_id}
        if ctx.args.get("grant_type") == "refresh_token":
            team_id = self._refresh_tokens.pop(str(ctx.args.get("refresh_token") or ""), "")
            if not team_id:
                raise SlackError("invalid_refresh_token")
            scopes = ",".join(sorted(self.teams[team_id].scopes))
        else:
            grant = self._oauth_codes.pop(str(ctx.args.get("code") or ""), None)
            if grant is None:
                raise SlackError("invalid_code")
            team_id, user_id, scopes = grant
            data["authed_user"] = {"id": user_id}
        team = self.teams[team_id]
        token = f"xoxb-{team_id}-{secrets.token_hex(12)}"
        if self.token_rotation:
            token, refresh = f"xoxe.{token}", f"xoxe-1-{secrets.token_hex(16)}"
            self._refresh_tokens[refresh] = team_id
            self.issued_tokens.append(refresh)
            data |= {"refresh_token": refresh, "expires_in": self.token_lifetime}
            self._expires[token] = time.monotonic() + self.token_lifetime
        self.issued_tokens.append(token)
        team.bot_tokens.add(token)
        team.scopes |= set(scopes.split(","))
        data |= {"scope": scopes, "token_type": "bot", "access_token": token, "bot_user_id": team.bot_user_id}
        data |= {"team": {"id": team.id, "name": team.name}, "enterprise": None}
        return data | {"is_enterprise_install": False}

    async def _apps_connections_open(self, ctx: _Ctx) -> JSON:
        ticket = uuid.uuid4().hex
        self._tickets[ticket] = self.app_id
        return {"url": f"ws://{self.url.removeprefix('http://')}/link/?ticket={ticket}&app_id={self.app_id}"}

    # --- response URLs

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        url = self._response_urls.get(request.match_info["url_id"])
        body: JSON = await request.json() if request.can_read_body else {}
        if url is None:
            return web.json_response({"ok": False, "error": "invalid_url"}, status=404)
        injected = await self._injected("response_url")
        if injected is not None:
            self._responses.append(ResponsePost(url.id, body, time.monotonic(), "injected_fault"))
            await self._notify()
            return injected
        url.uses += 1
        outcome, message = self._apply_response(url, body)
        self._responses.append(ResponsePost(url.id, body, time.monotonic(), outcome, message))
        await self._notify()
        if outcome in ("used_url", "expired_url", "no_text"):
            return web.json_response(
                {"ok": False, "error": outcome}, status=404 if outcome != "no_text" else 400
            )
        return web.json_response({"ok": True})

    def _apply_response(
        self, url: ResponseUrl, body: JSON, via: str = "response_url"
    ) -> tuple[str, Message | None]:
        """What Slack does with a response: replace or delete the original, or post a new message."""
        if url.uses > RESPONSE_URL_USES:
            return "used_url", None
        if time.monotonic() - url.created > RESPONSE_URL_TTL:
            return "expired_url", None
        original = url.original
        if _bool(body.get("delete_original")):
            if original is not None:
                original.deleted = True
            return "deleted", original
        try:
            text, blocks = self._content(body)
        except SlackError as error:
            return error.error, None
        if _bool(body.get("replace_original")) and original is not None and not original.deleted:
            original.edits.append(dict(body) | {"_ts": self._new_ts()})
            original.text, original.blocks = text, blocks if blocks is not None else []
            return "replaced", original
        team = self.teams[url.team_id]
        in_channel = body.get("response_type") == "in_channel"
        message = Message(
            url.channel_id, self._new_ts(), text, blocks or [], team.bot_user_id, team.bot_id, team.id
        )
        message.thread_ts = body.get("thread_ts")
        message.visible_to, message.via = (None if in_channel else url.user_id), via
        self._messages.append(message)
        url.original = url.original or message
        return ("in_channel" if in_channel else "ephemeral"), message

    def _acked(self, payload: JSON, ack: Any) -> None:
        """What Slack does with an ack's body: a slash command's is shown to the user (as the first
        response), a view submission's ``response_action`` keeps, updates or closes the modal."""
        if payload.get("type") == "view_submission":
            view_id = payload["view"]["id"]
            action = ack.get("response_action") if isinstance(ack, dict) else None
            if action == "update" and view_id in self._views:
                old, user_id = self._views[view_id]
                team = self.teams[old["team_id"]]
                self._store_view(team, self._valid_view(ack.get("view"), "modal"), user_id, view_id)
            elif action not in ("errors", "push"):
                self._views.pop(view_id, None)
            return
        url_id = str(payload.get("response_url") or "").rsplit("/", 1)[-1]
        if "command" not in payload or url_id not in self._response_urls or not ack:
            return
        body = ack if isinstance(ack, dict) else {"text": str(ack)}
        outcome, message = self._apply_response(self._response_urls[url_id], body, via="ack")
        self._responses.append(ResponsePost(url_id, body, time.monotonic(), f"ack:{outcome}", message))

    # --- payloads, as Slack sends them to the app (over HTTP or Socket Mode)

    def slash_command_payload(
        self,
        text: str = "",
        *,
        user: str | None = None,
        channel: str | None = None,
        team: str = "T1",
        command: str = "/quiz",
    ) -> JSON:
        """The form fields of a slash command, with a fresh response URL and trigger id."""
        user_id, channel_id = user or self.member.id, channel or self.channel.id
        channel_name = self.channels[channel_id].name if channel_id in self.channels else "unknown"
        url = self.issue_response_url(team, channel_id, user_id)
        fields: JSON = {
            "token": self.verification_token,
            "team_id": team,
            "team_domain": self.teams[team].domain,
        }
        fields |= {"channel_id": channel_id, "channel_name": channel_name, "user_id": user_id}
        fields |= {"user_name": self.users[user_id].name, "command": command, "text": text}
        fields |= {"api_app_id": self.app_id, "is_enterprise_install": "false", "response_url": url.url}
        return fields | {"trigger_id": self.issue_trigger(user_id, team)}

    def _user_ref(self, user_id: str) -> JSON:
        user = self.users[user_id]
        return {"id": user.id, "username": user.name, "name": user.name, "team_id": user.team_id}

    def _common(self, kind: str, user_id: str, team: str) -> JSON:
        data: JSON = {"type": kind, "user": self._user_ref(user_id), "api_app_id": self.app_id}
        data |= {"token": self.verification_token, "trigger_id": self.issue_trigger(user_id, team)}
        data |= {"team": {"id": team, "domain": self.teams[team].domain}, "enterprise": None}
        return data | {"is_enterprise_install": False}

    def block_action_payload(
        self,
        action_id: str,
        value: str | None = None,
        *,
        user: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        container: Literal["message", "view"] = "message",
        view_id: str | None = None,
        team: str = "T1",
    ) -> JSON:
        """A click on an element the bot really showed: in a message (the newest one holding
        ``action_id`` unless ``message_ts`` says which) or in a view. ``value`` picks a select option.
        LookupError when no such element is on screen, as a user could not click it."""
        user_id = user or self.member.id
        data = self._common("block_actions", user_id, team)
        if container == "view":
            views = [
                v
                for v, u in self._views.values()
                if view_id in (None, v["id"]) and u == user_id and _find_element(v["blocks"], action_id)
            ]
            if not views:
                raise LookupError(f"user {user_id} sees no view with action {action_id!r}")
            view, blocks = views[-1], views[-1]["blocks"]
            data |= {"container": {"type": "view", "view_id": view["id"]}, "view": view}
        else:
            channel_id = channel or self.channel.id
            shown = [
                m
                for m in self._messages
                if m.channel == channel_id
                and not m.deleted
                and m.visible_to in (None, user_id)
                and message_ts in (None, m.ts)
                and _find_element(m.blocks, action_id)
            ]
            if not shown:
                raise LookupError(f"no message in {channel_id} shows {user_id} the action {action_id!r}")
            message, blocks = shown[-1], shown[-1].blocks
            url = self.issue_response_url(team, channel_id, user_id, original=message)
            box: JSON = {"type": "message", "message_ts": message.ts, "channel_id": channel_id}
            data |= {"container": box | {"is_ephemeral": message.ephemeral}, "response_url": url.url}
            data |= {"channel": {"id": channel_id, "name": self.channels[channel_id].name}}
            if not message.ephemeral:  # Slack leaves the message out for ephemeral ones
                data["message"] = message.to_dict(self.app_id)
            data["state"] = {"values": {}}
        clicked = _find_element(blocks, action_id)
        assert clicked is not None
        block_id, element = clicked
        action: JSON = {"action_id": action_id, "block_id": block_id, "type": element["type"]}
        action["action_ts"] = f"{time.time():.6f}"
        if element["type"] == "button":
            action |= {"text": element.get("text"), "value": element.get("value")}
        elif "options" in element:
            option = next((o for o in element["options"] if o.get("value") == value), None)
            if option is None:
                raise ValueError(f"{action_id!r} offers no option {value!r}")
            action["selected_option"] = option
        else:
            action["value"] = value
        return data | {"actions": [action]}

    def view_submission_payload(
        self,
        callback_id: str | None = None,
        state_values: JSON | None = None,
        *,
        user: str | None = None,
        private_metadata: str | None = None,
        view_id: str | None = None,
        team: str = "T1",
    ) -> JSON:
        """A user submits a modal the bot opened (the newest with ``callback_id`` unless ``view_id``)."""
        user_id = user or self.member.id
        modals = [
            v
            for v, u in self._views.values()
            if u == user_id
            and v["type"] == "modal"
            and view_id in (None, v["id"])
            and callback_id in (None, v["callback_id"])
        ]
        if not modals:
            raise LookupError(f"user {user_id} has no open modal {callback_id or view_id!r}")
        view = dict(modals[-1]) | {"state": {"values": state_values or {}}}
        if private_metadata is not None:
            view["private_metadata"] = private_metadata
        return self._common("view_submission", user_id, team) | {"view": view, "response_urls": []}

    def event_envelope(self, event: JSON, *, team: str = "T1", event_id: str | None = None) -> JSON:
        """An Events API delivery; pass the same ``event_id`` again to model Slack's retries."""
        bot = self.teams[team]
        event = {"event_ts": f"{time.time():.6f}"} | event
        authorization = {"enterprise_id": None, "team_id": team, "user_id": bot.bot_user_id, "is_bot": True}
        data: JSON = {"token": self.verification_token, "team_id": team, "api_app_id": self.app_id}
        data |= {
            "event": event,
            "type": "event_callback",
            "event_id": event_id or "Ev" + secrets.token_hex(5),
        }
        data |= {"event_time": int(time.time()), "is_ext_shared_channel": False}
        return data | {"authorizations": [authorization | {"is_enterprise_install": False}]}

    # --- Socket Mode

    async def _handle_socket(self, request: web.Request) -> web.StreamResponse:
        app_id = self._tickets.pop(request.query.get("ticket", ""), None)
        if app_id is None:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)  # answers the client's pings with pongs
        await ws.prepare(request)
        connection = _SocketConnection(ws, app_id, time.monotonic())
        self._sockets.append(connection)
        self.socket_opened += 1
        hello = {
            "type": "hello",
            "num_connections": len(self._sockets),
            "connection_info": {"app_id": app_id},
        }
        debug = {"host": "applink-fake", "build_number": 1, "approximate_connection_time": 18060}
        await ws.send_str(json.dumps(hello | {"debug_info": debug}))
        await self._notify()
        try:
            async for frame in ws:
                if frame.type != WSMsgType.TEXT:
                    continue
                data = json.loads(frame.data)
                self.socket_received.append(data)
                envelope_id = data.get("envelope_id")
                if envelope_id and envelope_id not in self.socket_acks:
                    sent = self._sent_envelopes.get(envelope_id, time.monotonic())
                    ack = SocketAck(
                        envelope_id, data.get("payload"), time.monotonic(), time.monotonic() - sent
                    )
                    self.socket_acks[envelope_id] = ack
                    self._acked(self._socket_payloads.pop(envelope_id, {}), ack.payload)
                await self._notify()
        finally:
            self._sockets.remove(connection)
            await self._notify()
        return ws

    @property
    def socket_connections(self) -> int:
        """Open Socket Mode connections."""
        return sum(not c.ws.closed for c in self._sockets)

    async def socket_send(
        self,
        envelope_type: Literal["slash_commands", "interactive", "events_api"],
        payload: JSON,
        *,
        retry_attempt: int | None = None,
        retry_reason: str | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> str:
        """Sends an envelope on the newest connection (waiting for one) and returns its id."""
        await self.wait_for(lambda: self.socket_connections > 0, timeout)
        connection = [c for c in self._sockets if not c.ws.closed][-1]
        envelope_id = str(uuid.uuid4())
        accepts = envelope_type == "slash_commands" or payload.get("type") == "view_submission"
        envelope: JSON = {"envelope_id": envelope_id, "type": envelope_type, "payload": payload}
        envelope["accepts_response_payload"] = accepts
        if envelope_type == "events_api":
            envelope |= {"retry_attempt": retry_attempt or 0, "retry_reason": retry_reason or ""}
        self._sent_envelopes[envelope_id] = time.monotonic()
        self._socket_payloads[envelope_id] = payload
        await connection.ws.send_str(json.dumps(envelope))
        return envelope_id

    async def socket_ack(self, envelope_id: str, timeout: float = 3.0) -> SocketAck:  # noqa: ASYNC109
        """The client's ack of an envelope; TimeoutError if none came in time."""
        await self.wait_for(lambda: envelope_id in self.socket_acks, timeout)
        return self.socket_acks[envelope_id]

    async def socket_disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's periodic refresh: a ``disconnect`` message; the client should reconnect."""
        message = {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}
        for connection in [c for c in self._sockets if not c.ws.closed]:
            await connection.ws.send_str(json.dumps(message))

    async def socket_close(self, code: int = 1011) -> None:
        """Closes every connection without a ``disconnect`` message first, as a server crash would."""
        for connection in list(self._sockets):
            await connection.ws.close(code=code)


class SlackClientSim:
    """Users' side of Slack against the app's HTTP endpoint, signed like Slack signs.

    Every method returns a ``Delivery``: the HTTP status, body and seconds until the app's
    response, which Bolt sends at ``ack()``. ``timestamp`` backdates the request (older than
    5 minutes is refused with 401) and ``bad_signature`` signs with the wrong secret.
    """

    def __init__(self, fake: FakeSlack, url: str, signing_secret: str) -> None:
        self.fake, self.url = fake, url
        self._verifier = SignatureVerifier(signing_secret)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> SlackClientSim:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def send(
        self,
        body: str,
        content_type: str,
        payload: JSON,
        *,
        headers: Mapping[str, str] | None = None,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> Delivery:
        """Signs ``v0:{timestamp}:{body}`` and posts it; any body, for requests the helpers lack."""
        stamp = str(timestamp if timestamp is not None else int(time.time()))
        signature = self._verifier.generate_signature(timestamp=stamp, body=body) or ""
        if bad_signature:
            signature = "v0=" + "0" * 64
        sent = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature,
        }
        self._session = self._session or aiohttp.ClientSession()
        started = time.monotonic()
        async with self._session.post(
            self.url, data=body.encode(), headers=sent | dict(headers or {})
        ) as reply:
            text = await reply.text()
            elapsed = time.monotonic() - started
            delivery = Delivery(reply.status, text, elapsed, dict(reply.headers), payload)
        if reply.status == 200:
            self.fake._acked(payload, delivery.json or text)
        return delivery

    async def _form(self, fields: JSON, **signing: Any) -> Delivery:
        return await self.send(urlencode(fields), "application/x-www-form-urlencoded", fields, **signing)

    async def _interaction(self, payload: JSON, **signing: Any) -> Delivery:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded", payload, **signing)

    async def slash_command(
        self,
        text: str = "",
        user: str | None = None,
        channel: str | None = None,
        team: str = "T1",
        command: str = "/quiz",
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> Delivery:
        fields = self.fake.slash_command_payload(text, user=user, channel=channel, team=team, command=command)
        return await self._form(fields, timestamp=timestamp, bad_signature=bad_signature)

    async def block_action(
        self,
        action_id: str,
        value: str | None = None,
        user: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        container: Literal["message", "view"] = "message",
        view_id: str | None = None,
        team: str = "T1",
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> Delivery:
        payload = self.fake.block_action_payload(
            action_id,
            value,
            user=user,
            channel=channel,
            message_ts=message_ts,
            container=container,
            view_id=view_id,
            team=team,
        )
        return await self._interaction(payload, timestamp=timestamp, bad_signature=bad_signature)

    async def view_submission(
        self,
        callback_id: str | None = None,
        state_values: JSON | None = None,
        user: str | None = None,
        private_metadata: str | None = None,
        view_id: str | None = None,
        team: str = "T1",
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> Delivery:
        payload = self.fake.view_submission_payload(
            callback_id,
            state_values,
            user=user,
            private_metadata=private_metadata,
            view_id=view_id,
            team=team,
        )
        return await self._interaction(payload, timestamp=timestamp, bad_signature=bad_signature)

    async def event(
        self,
        event: JSON,
        team: str = "T1",
        retry_num: int | None = None,
        *,
        event_id: str | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        bad_signature: bool = False,
    ) -> Delivery:
        """An Events API delivery; a retry carries ``X-Slack-Retry-Num`` (reuse ``event_id``)."""
        envelope = self.fake.event_envelope(event, team=team, event_id=event_id)
        headers = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        return await self.send(
            json.dumps(envelope),
            "application/json",
            envelope,
            headers=headers,
            timestamp=timestamp,
            bad_signature=bad_signature,
        )

    async def url_verification(
        self, challenge: str, *, timestamp: int | None = None, bad_signature: bool = False
    ) -> Delivery:
        payload = {"token": self.fake.verification_token, "challenge": challenge, "type": "url_verification"}
        return await self.send(
            json.dumps(payload), "application/json", payload, timestamp=timestamp, bad_signature=bad_signature
        )
