"""A small but faithful fake of Discord (gateway websocket + REST API) on 127.0.0.1.

Why: dpytest cannot drive slash commands, buttons, selects or modals. Pointing the *real*
discord.py client at this server (``pointed_at``) tests the adapter end to end over real
sockets: login, gateway handshake, command sync, interactions, rate limits and retries.

Only what the quiz bot uses is modelled, but that behaves like Discord, including the
details that break clients (or hide their bugs) when a fake gets them wrong:

* JSON bodies carry ``Content-Type: application/json`` exactly: discord.py compares the
  header verbatim, and aiohttp's usual ``; charset=utf-8`` makes every body a string;
* interaction callbacks answer ``{"interaction": ..., "resource": ...}``: discord.py >= 2.5
  asks ``?with_response=1`` and parses it (a 204 crashes the command);
* a 429 carries ``Via``, or discord.py takes it for a Cloudflare ban and raises;
* the first callback must arrive within 3 s (then 404/10062) and only one is accepted
  (400/40060); follow-ups need an acknowledged interaction (404/10015); the first follow-up
  after a deferral edits the "thinking" message and keeps the deferral's ephemeral flag;
* ``nonce`` + ``enforce_nonce`` return the earlier message instead of posting again;
* permission overwrites apply: a bot without SEND_MESSAGES gets 403/50013;
* command and message bodies get Discord's main limits (names, 1-100 char descriptions
  in every locale, 25 options/choices, 2000 chars, 5x5 components, custom_id <= 100);
* privileged intents not enabled for the application close the gateway with 4014, and
  without the presences intent GUILD_CREATE carries only the bot's own member.

Fault-injection paths are regexes matched in full against the path after ``/api/v10``
(``r"/channels/\\d+/messages"``). Times are ``time.monotonic()`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import http
import itertools
import json
import math
import re
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntFlag
from typing import Any

from aiohttp import BodyPartReader, WSMsgType, web

JSON = dict[str, Any]
API_PREFIX = "/api/v10"
DISCORD_EPOCH_MS = 1_420_070_400_000


class Perm(IntFlag):
    """Discord permission bits the fake checks or hands out."""

    ADMINISTRATOR = 1 << 3
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    USE_APPLICATION_COMMANDS = 1 << 31


ALL_PERMISSIONS = (1 << 51) - 1
CHAT_PERMISSIONS = int(
    Perm.VIEW_CHANNEL | Perm.SEND_MESSAGES | Perm.EMBED_LINKS | Perm.ATTACH_FILES | Perm.READ_MESSAGE_HISTORY
)
EVERYONE_DEFAULT = CHAT_PERMISSIONS | Perm.ADD_REACTIONS | Perm.USE_APPLICATION_COMMANDS

SUPPRESS_EMBEDS, EPHEMERAL, LOADING, COMPONENTS_V2 = 1 << 2, 1 << 6, 1 << 7, 1 << 15  # message flags
INTENT_MEMBERS, INTENT_PRESENCES, INTENT_MESSAGE_CONTENT = 1 << 1, 1 << 8, 1 << 15  # privileged intents
PRIVILEGED_INTENTS = INTENT_MEMBERS | INTENT_PRESENCES | INTENT_MESSAGE_CONTENT
_APP_FLAG_FOR_INTENT = {INTENT_MEMBERS: 1 << 15, INTENT_PRESENCES: 1 << 13, INTENT_MESSAGE_CONTENT: 1 << 19}
APPLICATION_COMMAND, MESSAGE_COMPONENT, MODAL_SUBMIT = 2, 3, 5  # interaction types
CHANNEL_MESSAGE, DEFERRED_CHANNEL_MESSAGE, DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE, MODAL = 4, 5, 6, 7, 9


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class _Snowflakes:
    """Time-based, strictly increasing ids, so ``created_at`` and shard routing look real."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last = max((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22, self._last + 1)
        return self._last


# --- the world ---------------------------------------------------------------------------


@dataclass
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False

    def to_dict(self) -> JSON:
        names = {"username": self.username, "global_name": self.global_name, "discriminator": "0"}
        return {"id": str(self.id), **names, "avatar": None, "bot": self.bot}


@dataclass
class Role:
    id: int
    name: str
    permissions: int
    position: int = 0
    bot_id: int | None = None  # set on the bot's managed role

    def to_dict(self) -> JSON:
        data: JSON = {"id": str(self.id), "name": self.name, "permissions": str(self.permissions)}
        data |= {"position": self.position, "managed": self.bot_id is not None}
        return data | ({"tags": {"bot_id": str(self.bot_id)}} if self.bot_id else {})


@dataclass
class Overwrite:
    """A channel permission overwrite; ``type`` 0 targets a role (or @everyone), 1 a member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_dict(self) -> JSON:
        return {"id": str(self.id), "type": self.type, "allow": str(self.allow), "deny": str(self.deny)}


@dataclass
class Channel:
    id: int
    name: str
    guild_id: int | None  # None for a DM
    type: int = 0  # 0 guild text, 1 DM
    position: int = 0
    overwrites: dict[int, Overwrite] = field(default_factory=dict)
    recipient: User | None = None

    def to_dict(self) -> JSON:
        if self.recipient is not None:
            return {"id": str(self.id), "type": 1, "recipients": [self.recipient.to_dict()]}
        data: JSON = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": str(self.guild_id),
            "name": self.name,
        }
        overwrites = [o.to_dict() for o in self.overwrites.values()]
        return data | {"position": self.position, "permission_overwrites": overwrites}


@dataclass
class Member:
    user: User
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=_now_iso)

    def to_dict(self, *, with_user: bool = True) -> JSON:
        data: JSON = {"roles": [str(r) for r in self.roles], "nick": self.nick, "joined_at": self.joined_at}
        return data | {"flags": 0} | ({"user": self.user.to_dict()} if with_user else {})


@dataclass
class Guild:
    id: int
    name: str
    owner_id: int
    locale: str = "en-US"
    roles: dict[int, Role] = field(default_factory=dict)  # @everyone's id is the guild's id
    channels: dict[int, Channel] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)


def permissions_in(guild: Guild, user_id: int, channel: Channel | None) -> int:
    """Discord's order: owner and admins get all; roles; then @everyone, role and member overwrites."""
    member = guild.members.get(user_id)
    if member is None:
        return 0
    base = guild.roles[guild.id].permissions
    for role_id in member.roles:
        base |= guild.roles[role_id].permissions
    if user_id == guild.owner_id or base & Perm.ADMINISTRATOR:
        return ALL_PERMISSIONS
    if channel is None:
        return base
    overwrites = channel.overwrites
    if guild.id in overwrites:
        base = (base & ~overwrites[guild.id].deny) | overwrites[guild.id].allow
    roles = [overwrites[r] for r in member.roles if r in overwrites]
    deny, allow = _union(o.deny for o in roles), _union(o.allow for o in roles)
    base = (base & ~deny) | allow
    own = overwrites.get(user_id)
    if own is not None and own.type == 1:
        base = (base & ~own.deny) | own.allow
    return base if base & Perm.VIEW_CHANNEL else 0


def _union(values: Iterable[int]) -> int:
    result = 0
    for value in values:
        result |= value
    return result


# --- what tests inspect --------------------------------------------------------------------


@dataclass(eq=False)
class StoredMessage:
    """A message as the fake holds it: ``data`` is the wire object Discord would return."""

    data: JSON
    nonce: str | None = None
    interaction_id: int | None = None
    edits: list[JSON] = field(default_factory=list)  # every edit body, in order
    history: list[JSON] = field(default_factory=list)  # the wire object before each edit
    files: dict[str, bytes] = field(default_factory=dict)  # attachment filename → bytes
    deleted: bool = False

    @property
    def id(self) -> int:
        return int(self.data["id"])

    @property
    def channel_id(self) -> int:
        return int(self.data["channel_id"])

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def embeds(self) -> list[JSON]:
        return list(self.data.get("embeds") or [])

    @property
    def components(self) -> list[JSON]:
        return list(self.data.get("components") or [])

    @property
    def flags(self) -> int:
        return int(self.data.get("flags") or 0)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)


@dataclass
class RequestRecord:
    """One REST request; ``json`` is the body (``payload_json`` for multipart)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    at: float
    status: int | None = None  # set once answered


@dataclass
class CallbackRecord:
    """One interaction callback; ``accepted`` is False when Discord would have refused it."""

    interaction_id: int
    type: int
    data: JSON
    at: float
    elapsed: float  # seconds from dispatch to arrival
    accepted: bool = True
    status: int = 200

    @property
    def content(self) -> str:
        return str(self.data.get("content") or "")

    @property
    def ephemeral(self) -> bool:
        return bool(int(self.data.get("flags") or 0) & EPHEMERAL)


@dataclass(eq=False)
class InteractionRecord:
    """An interaction the fake dispatched, and everything the bot did with it."""

    id: int
    token: str
    type: int
    payload: JSON
    user_id: int
    channel_id: int
    guild_id: int | None
    message_id: int | None  # the message a component sat on
    fake: FakeDiscord = field(repr=False)
    dispatched_at: float = 0.0
    callbacks: list[CallbackRecord] = field(default_factory=list)
    followups: list[StoredMessage] = field(default_factory=list)
    original: StoredMessage | None = None  # what ``messages/@original`` refers to
    first: asyncio.Future[CallbackRecord] = field(default_factory=asyncio.Future, repr=False)

    async def response(self, timeout: float = 3.0) -> CallbackRecord:  # noqa: ASYNC109 - reads best in tests
        """The first callback the bot sent (check ``accepted``); TimeoutError if none came."""
        return await asyncio.wait_for(asyncio.shield(self.first), timeout)

    @property
    def acknowledged(self) -> bool:
        return any(c.accepted for c in self.callbacks)

    @property
    def acked_after(self) -> float | None:
        """Seconds from dispatch to the first accepted callback."""
        return next((c.elapsed for c in self.callbacks if c.accepted), None)

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[StoredMessage]:  # noqa: ASYNC109
        await self.fake.wait_for(lambda: len(self.followups) >= count, timeout)
        return list(self.followups)


@dataclass
class _Fault:
    method: str | None
    pattern: re.Pattern[str]
    status: int
    retry_after: float = 0.0  # a 429's wait, or a delay's length
    after_store: bool = False
    remaining: int = 1
    global_limit: bool = False

    def matches(self, method: str, path: str) -> bool:
        return self.method in (None, method) and self.pattern.fullmatch(path) is not None


@dataclass
class _Upload:
    filename: str
    content: bytes
    content_type: str


@dataclass
class _Session:
    id: str
    shard: tuple[int, int]
    intents: int
    seq: int = 0


@dataclass(eq=False)
class _Connection:
    ws: web.WebSocketResponse
    session: _Session | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def send(self, op: int, data: Any = None) -> None:
        async with self.lock:
            await self.ws.send_str(json.dumps({"op": op, "d": data, "s": None, "t": None}))

    async def dispatch(self, event: str, data: Any) -> None:
        assert self.session is not None
        async with self.lock:  # number and send together, so ``s`` arrives in order
            self.session.seq += 1
            await self.ws.send_str(json.dumps({"op": 0, "t": event, "s": self.session.seq, "d": data}))


def _json_response(body: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A bytes body and an explicit header: aiohttp adds ``; charset=utf-8`` to text bodies."""
    headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)


def _error(status: int, code: int, message: str, errors: JSON | None = None) -> web.Response:
    return _json_response({"message": message, "code": code} | ({"errors": errors} if errors else {}), status)


Problem = tuple[tuple[str | int, ...], str]  # where in the body, what is wrong


def _form_error(problems: Sequence[Problem]) -> web.Response:
    """400/50035 with Discord's nested ``errors`` tree, which discord.py flattens into its message."""
    errors: JSON = {}
    for path, message in problems:
        node = errors
        for key in path:
            node = node.setdefault(str(key), {})
        node.setdefault("_errors", []).append({"code": "INVALID_FORM_BODY", "message": message})
    return _error(400, 50035, "Invalid Form Body", errors)


def _walk_components(components: Iterable[JSON]) -> Iterator[JSON]:
    for component in components:
        yield component
        children = component.get("components") or []
        wrapped = [component[k] for k in ("component", "accessory") if isinstance(component.get(k), dict)]
        yield from _walk_components([*children, *wrapped])


def _message_problems(payload: JSON) -> list[Problem]:
    problems: list[Problem] = []
    for key, limit in (("content", 2000), ("embeds", 10), ("nonce", 25)):
        value = payload.get(key)
        if isinstance(value, str | list) and len(value) > limit:
            problems.append(((key,), f"Must be {limit} or fewer in length."))
    rows = payload.get("components") or []
    legacy_rows = [] if int(payload.get("flags") or 0) & COMPONENTS_V2 else rows
    if len(legacy_rows) > 5 or any(len(row.get("components") or []) > 5 for row in legacy_rows):
        problems.append((("components",), "At most 5 action rows of at most 5 components."))
    custom_ids = [c["custom_id"] for c in _walk_components(rows) if "custom_id" in c]
    if any(not 1 <= len(custom_id) <= 100 for custom_id in custom_ids):
        problems.append((("components",), "custom_id must be 1-100 characters."))
    if len(set(custom_ids)) != len(custom_ids):
        problems.append((("components",), "Component custom id cannot be duplicated."))
    return problems


def _is_empty(payload: JSON, uploads: Sequence[_Upload]) -> bool:
    keys = ("content", "embeds", "components", "sticker_ids", "poll")
    return not (uploads or any(payload.get(key) for key in keys))


_NAME = re.compile(r"[-_\w]{1,32}")


def _command_problems(commands: Sequence[JSON]) -> list[Problem]:
    """The checks on a bulk overwrite that a bot is most likely to trip over, in every locale."""
    problems: list[Problem] = []

    def check(item: JSON, path: tuple[str | int, ...], chat_input: bool) -> None:
        names = [item.get("name") or "", *(item.get("name_localizations") or {}).values()]
        if any(not _NAME.fullmatch(n) or (chat_input and n != n.lower()) for n in names):
            problems.append(((*path, "name"), f"Invalid name in {names}."))
        texts = [item.get("description") or "", *(item.get("description_localizations") or {}).values()]
        if chat_input and any(not 1 <= len(text) <= 100 for text in texts):
            problems.append(((*path, "description"), "Must be between 1 and 100 in length (every locale)."))
        options = item.get("options") or []
        if len(options) > 25 or len(item.get("choices") or []) > 25:
            problems.append((path, "At most 25 options and 25 choices."))
        values = [o for o in options if o.get("type") not in (1, 2)]
        if any(o.get("required") and not p.get("required") for p, o in itertools.pairwise(values)):
            problems.append(((*path, "options"), "Required options must come before optional ones."))
        for index, option in enumerate(options):
            check(option, (*path, "options", index), True)

    keys = [(int(c.get("type", 1)), c.get("name")) for c in commands]
    if len(set(keys)) != len(keys):
        problems.append(((), "Duplicate command names."))
    for index, command in enumerate(commands):
        check(command, (index,), int(command.get("type", 1)) == 1)
    return problems


# --- the server ----------------------------------------------------------------------------

Handler = Callable[..., Awaitable[web.StreamResponse]]


class FakeDiscord:
    """Discord's gateway and REST API for one bot, with a small world of guilds to play in.

    A default world is ready on construction: ``guild`` ("Quiz Lab", owned by ``admin``)
    with the text channel ``channel`` (#general), a plain ``member`` (bob) and the bot's
    member with its managed role. Shape the world before the client connects: as with
    Discord, the client only learns of later changes through gateway events (``dispatch``).
    """

    def __init__(
        self, *, token: str = "fake-token", privileged_intents: int = 0, shard_count: int = 1
    ) -> None:
        self.token = token
        self.privileged_intents = privileged_intents  # as toggled in the developer portal
        self.shard_count = shard_count  # what GET /gateway/bot recommends
        self.heartbeat_interval_ms = 41250
        self.ack_deadline = 3.0  # seconds an interaction waits for its first callback
        self.url = self.gateway_url = ""
        self.requests: list[RequestRecord] = []
        self.unknown_routes: list[RequestRecord] = []
        self.interactions: list[InteractionRecord] = []
        self.interaction_callbacks: list[CallbackRecord] = []
        self.gateway_received: list[JSON] = []  # every payload the client sent on the gateway
        self.users: dict[int, User] = {}
        self.guilds: dict[int, Guild] = {}
        self._ids = _Snowflakes()
        self._channels: dict[int, Channel] = {}
        self._messages: dict[int, StoredMessage] = {}  # in creation order
        self._attachments: dict[int, _Upload] = {}
        self._commands: dict[int | None, list[JSON]] = {}  # guild id (None: global) → commands
        self._faults: list[_Fault] = []
        self._opened_commands: set[tuple[str, int | None]] = set()
        self._delays: list[_Fault] = []
        self._connections: list[_Connection] = []
        self._sessions: dict[str, _Session] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._routes = self._route_table()

        self.bot_user = self._user("QuizBot", bot=True)
        self.application_id = self.bot_user.id  # true of every application made since 2019
        self.guild = self.add_guild("Quiz Lab")
        self.admin = self.guild.members[self.guild.owner_id]
        self.channel = next(iter(self.guild.channels.values()))
        self.member = self.add_member(self.guild.id, "bob", global_name="Bob")

    # --- lifecycle

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_rest)
        app.router.add_get("/gateway", self._handle_gateway)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._handle_attachment)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        port = self._runner.addresses[0][1]
        self.url, self.gateway_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/gateway"

    async def stop(self) -> None:
        for connection in list(self._connections):
            await connection.ws.close(code=1001, message=b"fake discord stopping")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- shaping the world

    def _user(self, name: str, *, global_name: str | None = None, bot: bool = False) -> User:
        user = User(self._ids.next(), name, global_name, bot)
        self.users[user.id] = user
        return user

    def add_guild(self, name: str, *, locale: str = "en-US", owner_name: str = "ada") -> Guild:
        """A guild with @everyone, the bot's managed role and member, an owner and #general."""
        owner = self._user(owner_name, global_name=owner_name.title())
        guild = Guild(self._ids.next(), name, owner.id, locale)
        self.guilds[guild.id] = guild
        guild.roles[guild.id] = Role(guild.id, "@everyone", EVERYONE_DEFAULT)
        bot_role = self.add_role(guild.id, self.bot_user.username, CHAT_PERMISSIONS | Perm.ADD_REACTIONS)
        bot_role.bot_id = self.bot_user.id
        guild.members[owner.id] = Member(owner)
        guild.members[self.bot_user.id] = Member(self.bot_user, [bot_role.id])
        self.add_channel(guild.id, "general")
        return guild

    def add_channel(self, guild_id: int, name: str) -> Channel:
        guild = self.guilds[guild_id]
        channel = Channel(self._ids.next(), name, guild_id, position=len(guild.channels))
        guild.channels[channel.id] = self._channels[channel.id] = channel
        return channel

    def add_role(self, guild_id: int, name: str, permissions: int = 0) -> Role:
        guild = self.guilds[guild_id]
        role = Role(self._ids.next(), name, int(permissions), position=len(guild.roles))
        guild.roles[role.id] = role
        return role

    def add_member(
        self, guild_id: int, username: str, *, global_name: str | None = None, roles: Sequence[int] = ()
    ) -> Member:
        user = self._user(username, global_name=global_name)
        member = self.guilds[guild_id].members[user.id] = Member(user, list(roles))
        return member

    def set_overwrite(self, channel_id: int, target_id: int, *, allow: int = 0, deny: int = 0) -> Overwrite:
        """A role (the guild id for @everyone) or member overwrite, told apart by the id."""
        channel = self._channels[channel_id]
        assert channel.guild_id is not None, "DM channels have no overwrites"
        kind = 0 if target_id in self.guilds[channel.guild_id].roles else 1
        overwrite = channel.overwrites[target_id] = Overwrite(target_id, kind, int(allow), int(deny))
        return overwrite

    def permissions_for(self, user_id: int, channel_id: int) -> int:
        channel = self._channels[channel_id]
        if channel.guild_id is None:
            return CHAT_PERMISSIONS
        return permissions_in(self.guilds[channel.guild_id], user_id, channel)

    def dm_channel(self, user_id: int) -> Channel:
        """The DM channel between the bot and a user, made on first use as Discord does."""
        for channel in self._channels.values():
            if channel.recipient is not None and channel.recipient.id == user_id:
                return channel
        channel = Channel(self._ids.next(), "", None, type=1, recipient=self.users[user_id])
        self._channels[channel.id] = channel
        return channel

    # --- inspection

    def messages(
        self, channel_id: int, *, include_ephemeral: bool = False, include_deleted: bool = False
    ) -> list[StoredMessage]:
        """A channel's messages, oldest first, interaction responses and follow-ups included."""
        return [
            m
            for m in self._messages.values()
            if m.channel_id == channel_id
            and (include_ephemeral or not m.ephemeral)
            and (include_deleted or not m.deleted)
        ]

    def message(self, message_id: int) -> StoredMessage:
        return self._messages[message_id]

    def registered_commands(self, guild_id: int | None = None) -> list[JSON]:
        """Commands as last bulk-overwritten (global ones when ``guild_id`` is None)."""
        return copy.deepcopy(self._commands.get(guild_id, []))

    def requests_to(self, method: str, path_regex: str) -> list[RequestRecord]:
        pattern = re.compile(path_regex)
        return [r for r in self.requests if r.method == method and pattern.fullmatch(r.path)]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Waits until ``predicate()`` holds, re-checking after every request and gateway payload."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(predicate), timeout)

    async def wait_for_request(
        self,
        method: str,
        path_regex: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[RequestRecord]:
        """Waits until ``count`` matching requests have been answered, and returns them."""

        def answered() -> list[RequestRecord]:
            return [r for r in self.requests_to(method, path_regex) if r.status is not None]

        await self.wait_for(lambda: len(answered()) >= count, timeout)
        return answered()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # --- fault injection

    def fail_next(
        self,
        method: str | None,
        path_regex: str,
        status: int = 429,
        retry_after: float = 0.2,
        *,
        times: int = 1,
        global_limit: bool = False,
    ) -> None:
        """Refuse the next ``times`` matching requests with ``status`` (a 429 as Discord words one)."""
        fault = _Fault(
            method, re.compile(path_regex), status, retry_after, remaining=times, global_limit=global_limit
        )
        self._faults.append(fault)

    def fail_after_store_next(self, method: str | None, path_regex: str, status: int = 500) -> None:
        """Do the work (store the message), then answer ``status``: the reply is lost, not the post."""
        self._faults.append(_Fault(method, re.compile(path_regex), status, after_store=True))

    def delay(self, path_regex: str, seconds: float, *, method: str | None = None) -> None:
        """Slow matching requests down (arrival time is taken before the delay) until ``clear_faults``."""
        self._delays.append(_Fault(method, re.compile(path_regex), 0, retry_after=seconds))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._delays.clear()

    def _take_fault(self, method: str, path: str, *, after_store: bool) -> web.Response | None:
        matching = [f for f in self._faults if f.after_store == after_store and f.matches(method, path)]
        if not matching:
            return None
        fault = matching[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            self._faults.remove(fault)
        headers = {"Via": "1.1 google"}  # discord.py only believes 429s that came through Discord's proxy
        if fault.status != 429:
            phrase = http.HTTPStatus(fault.status).phrase
            return _json_response({"message": f"{fault.status}: {phrase}", "code": 0}, fault.status, headers)
        wait = fault.retry_after
        headers |= {
            "Retry-After": str(math.ceil(wait)),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": f"{wait:.3f}",
            "X-RateLimit-Reset": f"{time.time() + wait:.3f}",
            "X-RateLimit-Bucket": "f4k3",
            "X-RateLimit-Scope": "global" if fault.global_limit else "user",
        }
        if fault.global_limit:
            headers["X-RateLimit-Global"] = "true"
        body = {"message": "You are being rate limited.", "retry_after": wait, "global": fault.global_limit}
        return _json_response(body, 429, headers)

    # --- REST plumbing

    def _route_table(self) -> list[tuple[str, re.Pattern[str], Handler, bool]]:
        message = r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)"
        webhook = r"/webhooks/(?P<app_id>\d+)/(?P<token>[^/]+)"
        webhook_message = webhook + r"/messages/(?P<message_id>@original|\d+)"
        commands = r"/applications/(?P<app_id>\d+)(?:/guilds/(?P<guild_id>\d+))?/commands"
        callback = r"/interactions/(?P<interaction_id>\d+)/(?P<token>[^/]+)/callback"
        routes: list[tuple[str, str, Handler, bool]] = [  # method, path, handler, needs the bot token
            ("GET", r"/users/@me", self._get_me, True),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user, True),
            ("GET", r"/oauth2/applications/@me", self._get_application, True),
            ("GET", r"/gateway", self._get_gateway, False),
            ("GET", r"/gateway/bot", self._get_gateway, True),
            ("GET", commands, self._commands_route, True),
            ("PUT", commands, self._commands_route, True),
            ("POST", r"/channels/(?P<channel_id>\d+)/messages", self._create_message, True),
            *[(method, message, self._channel_message, True) for method in ("GET", "PATCH", "DELETE")],
            ("GET", r"/channels/(?P<channel_id>\d+)", self._get_channel, True),
            ("POST", r"/users/@me/channels", self._create_dm, True),
            ("POST", callback, self._callback, False),
            ("POST", webhook, self._create_followup, False),
            *[
                (method, webhook_message, self._webhook_message, False)
                for method in ("GET", "PATCH", "DELETE")
            ],
        ]
        return [(method, re.compile(path), handler, auth) for method, path, handler, auth in routes]

    async def _handle_rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        record = RequestRecord(request.method, path, dict(request.query), None, time.monotonic())
        self.requests.append(record)
        try:
            response = await self._respond(request, record)
        except json.JSONDecodeError:
            response = _error(400, 50109, "The request body contains invalid JSON.")
        record.status = response.status
        await self._notify()
        return response

    async def _respond(self, request: web.Request, record: RequestRecord) -> web.StreamResponse:
        record.json, uploads = await self._read_body(request)
        for delay in self._delays:
            if delay.matches(record.method, record.path):
                await asyncio.sleep(delay.retry_after)
        refusal = self._take_fault(record.method, record.path, after_store=False)
        if refusal is not None:
            return refusal
        for method, pattern, handler, auth in self._routes:
            match = pattern.fullmatch(record.path)
            if method == record.method and match:
                if auth and request.headers.get("Authorization") != f"Bot {self.token}":
                    return _error(401, 0, "401: Unauthorized")
                response = await handler(record, uploads, **match.groupdict())
                return self._take_fault(record.method, record.path, after_store=True) or response
        self.unknown_routes.append(record)
        return _error(404, 0, "404: Not Found")

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[_Upload]]:
        if not request.content_type.startswith("multipart/"):
            raw = await request.read()
            return (json.loads(raw) if raw else None), []
        payload: Any = None
        uploads: list[_Upload] = []
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if isinstance(part, BodyPartReader) and part.name == "payload_json":
                payload = json.loads(await part.text())
            elif isinstance(part, BodyPartReader):
                kind = part.headers.get("Content-Type", "application/octet-stream")
                uploads.append(_Upload(part.filename or "file", bytes(await part.read()), kind))
        return payload, uploads

    async def _handle_attachment(self, request: web.Request) -> web.StreamResponse:
        upload = self._attachments.get(int(request.match_info["attachment_id"]))
        if upload is None:
            return web.Response(status=404)
        return web.Response(body=upload.content, headers={"Content-Type": upload.content_type})

    # --- REST: who am I, where is the gateway, which commands

    def _app_flags(self) -> int:
        return _union(
            flag for intent, flag in _APP_FLAG_FOR_INTENT.items() if self.privileged_intents & intent
        )

    async def _get_me(self, record: RequestRecord, uploads: list[_Upload]) -> web.Response:
        return _json_response(self.bot_user.to_dict() | {"verified": True, "mfa_enabled": False, "flags": 0})

    async def _get_user(self, record: RequestRecord, uploads: list[_Upload], user_id: str) -> web.Response:
        user = self.users.get(int(user_id))
        return _json_response(user.to_dict()) if user else _error(404, 10013, "Unknown User")

    async def _get_application(self, record: RequestRecord, uploads: list[_Upload]) -> web.Response:
        return _json_response(
            {
                "id": str(self.application_id),
                "name": self.bot_user.username,
                "icon": None,
                "description": "",
                "bot": self.bot_user.to_dict(),
                "owner": self.admin.user.to_dict(),
                "team": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0" * 64,
                "flags": self._app_flags(),
                "interactions_endpoint_url": None,  # set, Discord would stop sending INTERACTION_CREATE
            }
        )

    async def _get_gateway(self, record: RequestRecord, uploads: list[_Upload]) -> web.Response:
        if record.path == "/gateway":
            return _json_response({"url": self.gateway_url})
        limit = {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1}
        return _json_response(
            {"url": self.gateway_url, "shards": self.shard_count, "session_start_limit": limit}
        )

    async def _commands_route(
        self, record: RequestRecord, uploads: list[_Upload], app_id: str, guild_id: str | None
    ) -> web.Response:
        if int(app_id) != self.application_id or (guild_id and int(guild_id) not in self.guilds):
            return _error(403, 50001, "Missing Access")  # also the answer when a scope is missing
        scope = int(guild_id) if guild_id else None
        if record.method == "GET":
            return _json_response(self._commands.get(scope, []))
        problems = _command_problems(record.json or [])
        if problems:
            return _form_error(problems)
        known_ids = {(c["type"], c["name"]): c["id"] for c in self._commands.get(scope, [])}
        stored = []
        for command in record.json or []:
            entry = {
                "description": "",
                "options": [],
                "default_member_permissions": None,
                "type": 1,
                **command,
            }
            key = (entry["type"], entry["name"])
            entry["id"] = known_ids.get(key) or str(self._ids.next())  # an overwrite keeps known ids
            entry |= {"application_id": str(self.application_id), "version": str(self._ids.next())}
            stored.append(entry | ({"guild_id": str(scope)} if scope else {}))
        self._commands[scope] = stored
        return _json_response(stored)

    # --- REST: channels and messages

    def _store_message(
        self,
        channel: Channel,
        payload: JSON,
        uploads: Sequence[_Upload],
        *,
        msg_type: int = 0,
        interaction: InteractionRecord | None = None,
        flags: int = 0,
    ) -> StoredMessage:
        kept_flags = SUPPRESS_EMBEDS | EPHEMERAL | COMPONENTS_V2 | 1 << 12  # 1 << 12: silent
        data: JSON = {
            "id": str(self._ids.next()),
            "channel_id": str(channel.id),
            "type": msg_type,
            "author": self.bot_user.to_dict(),
            "content": payload.get("content") or "",
            "embeds": [{"type": "rich", **e} for e in payload.get("embeds") or []],
            "components": payload.get("components") or [],
            "attachments": [],
            "flags": flags | (int(payload.get("flags") or 0) & kept_flags),
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(payload.get("tts")),
            "mentions": [],
            "pinned": False,
        }
        if payload.get("nonce") is not None:
            data["nonce"] = payload["nonce"]
        if interaction is not None:
            data["webhook_id"] = data["application_id"] = str(self.application_id)
            data["interaction_metadata"] = {
                "id": str(interaction.id),
                "type": interaction.type,
                "user": self.users[interaction.user_id].to_dict(),
                "authorizing_integration_owners": interaction.payload["authorizing_integration_owners"],
            }
        message = StoredMessage(data, data.get("nonce"), interaction.id if interaction else None)
        self._attach(message, uploads)
        self._messages[message.id] = message
        return message

    def _attach(self, message: StoredMessage, uploads: Sequence[_Upload]) -> None:
        for upload in uploads:
            attachment_id = self._ids.next()
            self._attachments[attachment_id] = upload
            url = f"{self.url}/attachments/{attachment_id}/{upload.filename}"
            attachment = {"id": str(attachment_id), "filename": upload.filename, "size": len(upload.content)}
            message.data["attachments"].append(attachment | {"url": url, "proxy_url": url})
            message.files[upload.filename] = upload.content

    def _apply_edit(self, message: StoredMessage, payload: JSON, uploads: Sequence[_Upload]) -> None:
        data = message.data
        message.history.append(copy.deepcopy(data))
        message.edits.append(payload)
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in payload:
                data[key] = payload[key] if payload[key] is not None else empty
        if payload.get("flags") is not None:
            changeable = SUPPRESS_EMBEDS | COMPONENTS_V2  # the others are fixed once sent
            data["flags"] = (data["flags"] & ~SUPPRESS_EMBEDS) | (int(payload["flags"]) & changeable)
        if payload.get("attachments") is not None:
            keep = {str(a.get("id")) for a in payload["attachments"]}
            data["attachments"] = [a for a in data["attachments"] if a["id"] in keep]
        self._attach(message, uploads)
        if not data["flags"] & LOADING:  # filling in a "thinking" message is not an edit
            data["edited_timestamp"] = _now_iso()
        data["flags"] &= ~LOADING

    def _bot_refusal(self, channel: Channel, needed: int) -> web.Response | None:
        have = self.permissions_for(self.bot_user.id, channel.id)
        if not have & Perm.VIEW_CHANNEL:
            return _error(403, 50001, "Missing Access")
        return _error(403, 50013, "Missing Permissions") if have & needed != needed else None

    def _invalid_message(
        self, payload: JSON, uploads: Sequence[_Upload], *, new: bool
    ) -> web.Response | None:
        problems = _message_problems(payload)
        if problems:
            return _form_error(problems)
        if new and _is_empty(payload, uploads):
            return _error(400, 50006, "Cannot send an empty message")
        return None

    async def _create_message(
        self, record: RequestRecord, uploads: list[_Upload], channel_id: str
    ) -> web.Response:
        channel = self._channels.get(int(channel_id))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        payload: JSON = record.json or {}
        needed = Perm.SEND_MESSAGES | (Perm.ATTACH_FILES if uploads else 0)
        refusal = self._bot_refusal(channel, needed) or self._invalid_message(payload, uploads, new=True)
        if refusal is not None:
            return refusal
        if payload.get("nonce") is not None and payload.get("enforce_nonce"):
            for earlier in self.messages(channel.id, include_deleted=True):
                if earlier.nonce == payload["nonce"]:
                    return _json_response(earlier.data)
        message_type = 19 if payload.get("message_reference") else 0  # 19: a reply
        return _json_response(self._store_message(channel, payload, uploads, msg_type=message_type).data)

    async def _channel_message(
        self, record: RequestRecord, uploads: list[_Upload], channel_id: str, message_id: str
    ) -> web.Response:
        message = self._messages.get(int(message_id))
        if message is None or message.deleted or message.ephemeral or message.channel_id != int(channel_id):
            return _error(404, 10008, "Unknown Message")  # ephemeral messages are not reachable this way
        if record.method == "DELETE":
            message.deleted = True
            return web.Response(status=204)
        if record.method == "PATCH":
            refusal = self._invalid_message(record.json or {}, uploads, new=False)
            if refusal is not None:
                return refusal
            self._apply_edit(message, record.json or {}, uploads)
        return _json_response(message.data)

    async def _get_channel(
        self, record: RequestRecord, uploads: list[_Upload], channel_id: str
    ) -> web.Response:
        channel = self._channels.get(int(channel_id))
        if channel is None:
            return _error(404, 10003, "Unknown Channel")
        return self._bot_refusal(channel, 0) or _json_response(channel.to_dict())

    async def _create_dm(self, record: RequestRecord, uploads: list[_Upload]) -> web.Response:
        user = self.users.get(int((record.json or {}).get("recipient_id") or 0))
        if user is None or user.bot:
            return _error(400, 50033, "Invalid Recipient(s)")
        return _json_response(self.dm_channel(user.id).to_dict())

    # --- REST: interaction callbacks and their webhooks

    async def _callback(
        self, record: RequestRecord, uploads: list[_Upload], interaction_id: str, token: str
    ) -> web.Response:
        interaction = next((i for i in self.interactions if i.id == int(interaction_id)), None)
        if interaction is None or interaction.token != token:
            return _error(404, 10062, "Unknown interaction")
        kind, data = int((record.json or {}).get("type", 0)), (record.json or {}).get("data") or {}
        callback = CallbackRecord(
            interaction.id, kind, data, record.at, record.at - interaction.dispatched_at
        )
        refusal = self._callback_refusal(interaction, callback, uploads)
        callback.accepted, callback.status = refusal is None, refusal.status if refusal else 200
        self.interaction_callbacks.append(callback)
        interaction.callbacks.append(callback)
        if not interaction.first.done():
            interaction.first.set_result(callback)
        if refusal is not None:
            return refusal

        channel = self._channels[interaction.channel_id]
        message_type = 20 if interaction.type == APPLICATION_COMMAND else 0  # 20: a slash command's reply
        if kind == CHANNEL_MESSAGE:
            interaction.original = self._store_message(
                channel, data, uploads, msg_type=message_type, interaction=interaction
            )
        elif kind == DEFERRED_CHANNEL_MESSAGE:  # a "thinking" message, filled in by the first edit
            flags = LOADING | (int(data.get("flags") or 0) & EPHEMERAL)
            interaction.original = self._store_message(
                channel, {}, (), msg_type=message_type, interaction=interaction, flags=flags
            )
        elif kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and interaction.message_id is not None:
            interaction.original = self._messages[interaction.message_id]
            if kind == UPDATE_MESSAGE:
                self._apply_edit(interaction.original, data, uploads)
        original = interaction.original if kind != MODAL else None
        answer = {"id": str(interaction.id), "type": interaction.type}
        answer |= {"response_message_loading": kind == DEFERRED_CHANNEL_MESSAGE}
        answer |= {"response_message_ephemeral": bool(original and original.ephemeral)}
        answer |= {"response_message_id": str(original.id)} if original else {}
        resource = {"type": kind} | ({"message": original.data} if original and kind in (4, 7) else {})
        return _json_response({"interaction": answer} | ({"resource": resource} if kind != MODAL else {}))

    def _callback_refusal(
        self, interaction: InteractionRecord, callback: CallbackRecord, uploads: Sequence[_Upload]
    ) -> web.Response | None:
        if interaction.acknowledged:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if callback.elapsed > self.ack_deadline:
            return _error(404, 10062, "Unknown interaction")
        kind, data = callback.type, callback.data
        no_message = kind in (DEFERRED_UPDATE_MESSAGE, UPDATE_MESSAGE) and interaction.message_id is None
        modal_on_modal = kind == MODAL and interaction.type == MODAL_SUBMIT
        if kind not in (4, 5, 6, 7, 9) or no_message or modal_on_modal:
            return _form_error([(("type",), f"Response type {kind} is not valid for this interaction.")])
        modal_fits = 1 <= len(data.get("title") or "") <= 45 and 1 <= len(data.get("components") or []) <= 5
        if kind == MODAL and not modal_fits:
            return _form_error([(("data",), "A modal needs a title of 1-45 characters and 1-5 components.")])
        return self._invalid_message(data, uploads, new=kind == 4) if kind in (4, 7) else None

    def _webhook_interaction(self, app_id: str, token: str) -> InteractionRecord | None:
        """Follow-ups exist only once the interaction has been answered, for 15 minutes."""
        found = next((i for i in self.interactions if i.token == token), None)
        return found if found and int(app_id) == self.application_id and found.acknowledged else None

    async def _create_followup(
        self, record: RequestRecord, uploads: list[_Upload], app_id: str, token: str
    ) -> web.Response:
        interaction = self._webhook_interaction(app_id, token)
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        payload: JSON = record.json or {}
        refusal = self._invalid_message(payload, uploads, new=True)
        if refusal is not None:
            return refusal
        if interaction.original is not None and interaction.original.flags & LOADING:
            self._apply_edit(interaction.original, payload, uploads)  # Discord fills the "thinking" message
            message = interaction.original
        else:
            channel = self._channels[interaction.channel_id]
            message = self._store_message(channel, payload, uploads, interaction=interaction)
        interaction.followups.append(message)
        wait = record.query.get("wait", "").lower() in ("true", "1")
        return _json_response(message.data) if wait else web.Response(status=204)

    async def _webhook_message(
        self, record: RequestRecord, uploads: list[_Upload], app_id: str, token: str, message_id: str
    ) -> web.Response:
        interaction = self._webhook_interaction(app_id, token)
        if interaction is None:
            return _error(404, 10015, "Unknown Webhook")
        own = [m for m in (interaction.original, *interaction.followups) if m is not None and not m.deleted]
        wanted = interaction.original if message_id == "@original" else None
        message = next((m for m in own if m is wanted or str(m.id) == message_id), None)
        if message is None:
            return _error(404, 10008, "Unknown Message")
        if record.method == "DELETE":
            message.deleted = True
            return web.Response(status=204)
        if record.method == "PATCH":
            refusal = self._invalid_message(record.json or {}, uploads, new=False)
            if refusal is not None:
                return refusal
            self._apply_edit(message, record.json or {}, uploads)
        return _json_response(message.data)

    # --- gateway

    async def _handle_gateway(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        connection = _Connection(ws)
        self._connections.append(connection)
        try:
            await connection.send(10, {"heartbeat_interval": self.heartbeat_interval_ms})  # HELLO
            async for frame in ws:
                if frame.type is WSMsgType.TEXT:
                    payload = json.loads(frame.data)
                    self.gateway_received.append(payload)
                    await self._on_gateway_payload(connection, payload.get("op"), payload.get("d") or {})
                    await self._notify()
        finally:
            self._connections.remove(connection)
        return ws

    async def _on_gateway_payload(self, connection: _Connection, op: int, data: Any) -> None:
        if op == 1:
            await connection.send(11)  # HEARTBEAT_ACK
        elif op == 2:
            await self._identify(connection, data)
        elif op == 6:
            await self._resume(connection, data)
        elif connection.session is None:
            await connection.ws.close(code=4003, message=b"Not authenticated.")
        elif op == 8:
            await self._request_members(connection, data)
        elif op not in (3, 4):  # presence and voice updates are accepted and ignored
            await connection.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, connection: _Connection, data: JSON) -> None:
        intents = int(data.get("intents") or 0)
        shard_id, shard_count = data.get("shard") or (0, 1)
        closes = [  # the close codes Discord uses, first match wins
            (connection.session is not None, 4005, b"Already authenticated."),
            (data.get("token") != self.token, 4004, b"Authentication failed."),
            (bool(intents & PRIVILEGED_INTENTS & ~self.privileged_intents), 4014, b"Disallowed intent(s)."),
            (not 0 <= shard_id < shard_count, 4010, b"Invalid shard."),
        ]
        for refused, code, reason in closes:
            if refused:
                await connection.ws.close(code=code, message=reason)
                return
        session = _Session(uuid.uuid4().hex, (shard_id, shard_count), intents)
        self._sessions[session.id] = connection.session = session
        guilds = [g for g in self.guilds.values() if (g.id >> 22) % shard_count == shard_id]
        ready = {
            "v": 10,
            "user": self.bot_user.to_dict() | {"verified": True},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.id,
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(self.application_id), "flags": self._app_flags()},
            "private_channels": [],
        }
        await connection.dispatch("READY", ready)
        for guild in guilds:
            await connection.dispatch("GUILD_CREATE", self._guild_create(guild, intents))

    def _guild_create(self, guild: Guild, intents: int) -> JSON:
        bot = guild.members[self.bot_user.id]
        members = guild.members.values() if intents & INTENT_PRESENCES else [bot]  # as Discord does
        return {
            "id": str(guild.id),
            "name": guild.name,
            "owner_id": str(guild.owner_id),
            "icon": None,
            "preferred_locale": guild.locale,
            "features": [],
            "unavailable": False,
            "large": False,
            "member_count": len(guild.members),
            "joined_at": bot.joined_at,
            "roles": [r.to_dict() for r in guild.roles.values()],
            "channels": [c.to_dict() for c in guild.channels.values()],
            "members": [m.to_dict() for m in members],
            "emojis": [],
            "stickers": [],
            "threads": [],
            "presences": [],
            "voice_states": [],
        }

    async def _resume(self, connection: _Connection, data: JSON) -> None:
        session = self._sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.token:
            await connection.send(9, False)  # INVALID_SESSION, not resumable
            return
        connection.session = session
        await connection.dispatch("RESUMED", {})

    async def _request_members(self, connection: _Connection, data: JSON) -> None:
        guild = self.guilds.get(int(data.get("guild_id") or 0))
        if guild is None:
            return
        members = list(guild.members.values())
        user_ids = data.get("user_ids")
        if user_ids:
            wanted = {int(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
            members = [m for m in members if m.user.id in wanted]
        elif data.get("query"):
            members = [m for m in members if m.user.username.lower().startswith(str(data["query"]).lower())]
        members = members[: data.get("limit") or None]
        chunk: JSON = {"guild_id": str(guild.id), "members": [m.to_dict() for m in members]}
        chunk |= {"chunk_index": 0, "chunk_count": 1, "nonce": data.get("nonce")}
        await connection.dispatch("GUILD_MEMBERS_CHUNK", chunk)

    def _connection_for(self, guild_id: int | None) -> _Connection:
        for connection in self._connections:
            if connection.session is not None and not connection.ws.closed:
                shard_id, shard_count = connection.session.shard
                if ((guild_id or 0) >> 22) % shard_count == shard_id:  # Discord's formula; DMs go to shard 0
                    return connection
        raise RuntimeError(f"no identified gateway session serves guild {guild_id}: is the client connected?")

    async def dispatch(self, event: str, data: JSON, *, guild_id: int | None = None) -> None:
        """Sends any gateway event (GUILD_MEMBER_ADD, CHANNEL_UPDATE...) to the session serving the guild."""
        await self._connection_for(guild_id).dispatch(event, data)

    async def request_reconnect(self) -> None:
        """Op 7 on every session, as in Discord's rolling restarts: clients should RESUME."""
        for connection in list(self._connections):
            if connection.session is not None:
                await connection.send(7)

    # --- simulating users

    async def slash_command(
        self,
        name: str,
        options: Mapping[str, Any] | None = None,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        guild_id: int | None = None,
        locale: str = "en-US",
        subcommand: str | None = None,
        member_permissions: int | None = None,
    ) -> InteractionRecord:
        """A user runs ``/name [group] [subcommand] options``: INTERACTION_CREATE type 2.

        Like Discord's own client this refuses what a user could not send: unregistered
        commands, unknown or missing options, values outside the choices, and commands that
        ``default_member_permissions`` hide from the member (``PermissionError``).
        """
        channel = self._channels[channel_id or self.channel.id]
        if guild_id is not None and channel.guild_id != guild_id:
            raise ValueError(f"channel {channel.id} is not in guild {guild_id}")
        user_id = user_id or self.member.user.id
        command = self._find_command(name, channel.guild_id)
        definitions: list[JSON] = command.get("options") or []
        path: list[JSON] = []
        for part in (subcommand or "").split():
            path.append(next((o for o in definitions if o["name"] == part and o["type"] in (1, 2)), {}))
            if not path[-1]:
                raise LookupError(f"/{name} has no subcommand {part!r}")
            definitions = path[-1].get("options") or []
        if any(o["type"] in (1, 2) for o in definitions):
            raise ValueError(f"/{name} {subcommand or ''} needs a subcommand")
        resolved: JSON = {}
        given = self._options(name, definitions, options or {}, channel, resolved)
        for wrapper in reversed(path):
            given = [{"name": wrapper["name"], "type": wrapper["type"], "options": given}]
        data: JSON = {"id": command["id"], "name": name, "type": 1, "options": given}
        data |= {"guild_id": command["guild_id"]} if "guild_id" in command else {}
        data |= {"resolved": resolved} if resolved else {}
        permissions = self._member_permissions(user_id, channel, member_permissions)
        if (name, channel.guild_id) not in self._opened_commands:
            self._check_visible(command, channel, permissions)
        return await self._send_interaction(APPLICATION_COMMAND, data, user_id, channel, locale, permissions)

    def open_command_to_everyone(self, name: str, guild_id: int | None = None) -> None:
        """What a server admin can do in Server Settings → Integrations: override a command's
        default member permissions, so the bot's own run-time check is all that is left."""
        self._opened_commands.add((name, guild_id or self.guild.id))

    def _find_command(self, name: str, guild_id: int | None) -> JSON:
        for scope in [guild_id, None] if guild_id else [None]:
            for command in self._commands.get(scope, []):
                if command["name"] == name and command["type"] == 1:
                    return command
        raise LookupError(f"/{name} is not registered with the fake Discord: sync the command tree first")

    @staticmethod
    def _check_visible(command: JSON, channel: Channel, permissions: int) -> None:
        if channel.guild_id is None:
            contexts = command.get("contexts")
            if command.get("dm_permission") is False or (contexts is not None and 1 not in contexts):
                raise PermissionError(f"/{command['name']} is not offered in DMs")
            return
        required = command.get("default_member_permissions")
        if required is None or permissions & Perm.ADMINISTRATOR:
            return
        if int(required) == 0 or permissions & int(required) != int(required):
            raise PermissionError(f"Discord hides /{command['name']} from members without {required}")

    def _options(
        self,
        name: str,
        definitions: Sequence[JSON],
        values: Mapping[str, Any],
        channel: Channel,
        resolved: JSON,
    ) -> list[JSON]:
        by_name = {d["name"]: d for d in definitions}
        unknown = set(values) - set(by_name)
        missing = [d["name"] for d in definitions if d.get("required") and d["name"] not in values]
        if unknown or missing:
            raise ValueError(f"/{name}: unknown options {sorted(unknown)}, missing required {missing}")
        given = []
        for key, value in values.items():
            kind = by_name[key]["type"]
            choices = [c["value"] for c in by_name[key].get("choices") or []]
            if choices and value not in choices:
                raise ValueError(f"/{name} {key}: {value!r} is not one of {choices}")
            if kind in (6, 7, 8, 9):  # user, channel, role, mentionable: a snowflake plus resolved data
                value = self._resolve(int(value), kind, channel, resolved)
            given.append({"name": key, "type": kind, "value": value})
        return given

    def _resolve(self, snowflake: int, kind: int, channel: Channel, resolved: JSON) -> str:
        guild = self.guilds.get(channel.guild_id or 0)
        if kind in (6, 9) and snowflake in self.users:
            resolved.setdefault("users", {})[str(snowflake)] = self.users[snowflake].to_dict()
            if guild is not None and snowflake in guild.members:
                member = guild.members[snowflake].to_dict(with_user=False)
                member["permissions"] = str(permissions_in(guild, snowflake, channel))
                resolved.setdefault("members", {})[str(snowflake)] = member
        elif kind in (8, 9) and guild is not None and snowflake in guild.roles:
            resolved.setdefault("roles", {})[str(snowflake)] = guild.roles[snowflake].to_dict()
        elif kind == 7 and snowflake in self._channels:
            target = self._channels[snowflake].to_dict() | {"permissions": str(ALL_PERMISSIONS)}
            resolved.setdefault("channels", {})[str(snowflake)] = target
        else:
            raise ValueError(f"option value {snowflake} names nothing of type {kind} in the fake world")
        return str(snowflake)

    def _member_permissions(self, user_id: int, channel: Channel, override: int | None) -> int:
        if channel.guild_id is not None and user_id not in self.guilds[channel.guild_id].members:
            raise LookupError(f"user {user_id} is not a member of guild {channel.guild_id}: add_member first")
        return int(override) if override is not None else self.permissions_for(user_id, channel.id)

    async def click(
        self,
        custom_id: str,
        message_id: int,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user presses a button on a stored message: INTERACTION_CREATE type 3."""
        return await self._component(custom_id, message_id, None, user_id, channel_id, locale)

    async def select(
        self,
        custom_id: str,
        values: Sequence[str],
        message_id: int,
        *,
        user_id: int | None = None,
        channel_id: int | None = None,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """A user picks ``values`` in a select menu on a stored message."""
        return await self._component(
            custom_id, message_id, [str(v) for v in values], user_id, channel_id, locale
        )

    async def _component(
        self,
        custom_id: str,
        message_id: int,
        values: list[str] | None,
        user_id: int | None,
        channel_id: int | None,
        locale: str,
    ) -> InteractionRecord:
        message = self._messages.get(message_id)
        if message is None or message.deleted or channel_id not in (None, message.channel_id):
            raise LookupError(f"no message {message_id} in channel {channel_id or 'any'}")
        found = [c for c in _walk_components(message.components) if c.get("custom_id") == custom_id]
        wanted = {3, 5, 6, 7, 8} if values is not None else {2}  # selects, or a button
        if not found or found[0]["type"] not in wanted or found[0].get("disabled"):
            raise LookupError(f"message {message_id} has no enabled component {custom_id!r} of type {wanted}")
        component = found[0]
        data: JSON = {"custom_id": custom_id, "component_type": component["type"]}
        if values is not None:
            offered = {o["value"] for o in component.get("options") or []}
            fits = component.get("min_values", 1) <= len(values) <= component.get("max_values", 1)
            if not fits or (component["type"] == 3 and not offered.issuperset(values)):
                raise ValueError(f"select {custom_id!r} does not accept {values}")
            data["values"] = values
        channel = self._channels[message.channel_id]
        user_id = user_id or self.member.user.id
        permissions = self._member_permissions(user_id, channel, None)
        return await self._send_interaction(
            MESSAGE_COMPONENT, data, user_id, channel, locale, permissions, message
        )

    async def submit_modal(
        self, custom_id: str, fields: Mapping[str, str | Sequence[str]], *, user_id: int | None = None
    ) -> InteractionRecord:
        """A user submits a modal the bot showed them (a type 9 callback): INTERACTION_CREATE type 5."""
        user_id = user_id or self.member.user.id
        shown = [
            (interaction, c.data)
            for interaction in self.interactions
            for c in interaction.callbacks
            if interaction.user_id == user_id
            and c.accepted
            and c.type == MODAL
            and c.data["custom_id"] == custom_id
        ]
        if not shown:
            raise LookupError(f"the bot never showed user {user_id} a modal {custom_id!r}")
        origin, modal = shown[-1]
        inputs = [c for c in _walk_components(modal["components"]) if "custom_id" in c]
        unknown = set(fields) - {c["custom_id"] for c in inputs}
        if unknown:
            raise ValueError(f"modal {custom_id!r} has no field(s) {sorted(unknown)}")

        def submitted(component: JSON) -> JSON:
            answer = {"type": component["type"], "custom_id": component["custom_id"]}
            value = fields.get(component["custom_id"])
            if component["type"] != 4:  # a select inside a label
                return answer | {"values": list(value or [])}
            if value is None and component.get("required", True):
                raise ValueError(f"modal field {component['custom_id']!r} is required")
            return answer | {"value": value or ""}

        rows = [  # answered in the shape it was asked: action rows (type 1) or labels (type 18)
            {"type": 1, "components": [submitted(c) for c in top["components"]]}
            if top["type"] == 1
            else {"type": 18, "component": submitted(top["component"])}
            for top in modal["components"]
            if top["type"] in (1, 18)
        ]
        channel = self._channels[origin.channel_id]
        permissions = self._member_permissions(user_id, channel, None)
        message = self._messages.get(origin.message_id or 0)
        data = {"custom_id": custom_id, "components": rows}
        return await self._send_interaction(
            MODAL_SUBMIT, data, user_id, channel, "en-US", permissions, message
        )

    async def _send_interaction(
        self,
        kind: int,
        data: JSON,
        user_id: int,
        channel: Channel,
        locale: str,
        permissions: int,
        message: StoredMessage | None = None,
    ) -> InteractionRecord:
        guild = self.guilds.get(channel.guild_id or 0)
        connection = self._connection_for(guild.id if guild else None)
        interaction_id, token = self._ids.next(), secrets.token_hex(32)
        payload: JSON = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel.id),
            "channel": channel.to_dict() | {"permissions": str(permissions)},
            "locale": locale,
            "app_permissions": str(self.permissions_for(self.bot_user.id, channel.id)),
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(guild.id)} if guild else {"1": str(user_id)},
            "context": 0 if guild else 1,  # 1: the bot's DM
            "attachment_size_limit": 10 * 1024 * 1024,  # discord.py requires it
        }
        if guild is not None:
            payload["guild_id"], payload["guild_locale"] = str(guild.id), guild.locale
            payload["guild"] = {"id": str(guild.id), "locale": guild.locale, "features": []}
            payload["member"] = guild.members[user_id].to_dict() | {"permissions": str(permissions)}
        else:
            payload["user"] = self.users[user_id].to_dict()
        if message is not None:
            payload["message"] = message.data
        guild_id = guild.id if guild is not None else None
        message_id = message.id if message is not None else None
        interaction = InteractionRecord(
            interaction_id, token, kind, payload, user_id, channel.id, guild_id, message_id, self
        )
        self.interactions.append(interaction)
        interaction.dispatched_at = time.monotonic()
        await connection.dispatch("INTERACTION_CREATE", payload)
        return interaction


@contextlib.contextmanager
def pointed_at(fake: FakeDiscord) -> Iterator[FakeDiscord]:
    """Points discord.py's REST base and default gateway at ``fake``, restoring both afterwards."""
    import discord.gateway
    import discord.http
    import yarl

    old_base, old_gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = f"{fake.url}{API_PREFIX}"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)
    try:
        yield fake
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway
