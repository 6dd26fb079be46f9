"""An in-process stand-in for the Slack Web API, for the console and end-to-end tests.

It speaks Slack's HTTP protocol (``POST /api/<method>`` answering ``{"ok": ...}``), so the
real app, given ``api_url`` as its Web API base URL, cannot tell it from Slack for the
methods listed in ``FakeSlack._methods``. It also plays Slack's side of interactivity:
it issues trigger ids and ``response_url``s (``/response/<id>``), keeps the modal stacks,
and records everything in a :class:`SlackState` that tests assert on.

Where to find a Slack method: every ``_<method_name>`` handler below is one Slack method
(``_chat_post_message`` is ``chat.postMessage``); the table in ``FakeSlack.__init__`` maps
the names. ``driver.py`` is the other half: the person clicking in the Slack client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import dataclasses
import itertools
import json
import re
import secrets
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

from aiohttp import web

Json = dict[str, Any]
Handler = Callable[[Json], Json]
ViewOutcome = Literal["closed", "errors", "updated", "pushed", "cleared"]

# Limits Slack enforces that an app can plausibly hit.
MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_VIEW_TITLE = 24
MAX_VIEW_STACK = 3
MAX_TEXT = 40_000
TRIGGER_TTL = 3.0
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5
OAUTH_CODE_TTL = 10 * 60.0


class SlackError(Exception):
    """A Slack error answer: ``{"ok": false, "error": error}`` with an HTTP status."""

    def __init__(
        self,
        error: str,
        *,
        detail: str | None = None,
        status: int = 200,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{error}: {detail}" if detail else error)
        self.error = error
        self.detail = detail
        self.status = status
        self.retry_after = retry_after

    def body(self) -> Json:
        out: Json = {"ok": False, "error": self.error}
        if self.detail:
            # Slack explains invalid_arguments/invalid_blocks in response_metadata.
            out["response_metadata"] = {"messages": [f"[ERROR] {self.detail}"]}
        return out


# --------------------------------------------------------------------------------------
# The state model: what a test asserts on.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """A workspace and the app's installation in it (`bot_token` "" until installed)."""

    team_id: str
    team_domain: str
    app_id: str
    bot_user_id: str
    bot_id: str
    bot_token: str
    # Set: an organization-wide (Enterprise Grid) install. Its token belongs to the
    # organization, not to a team, and interaction payloads may name no team.
    enterprise_id: str | None = None
    team_name: str = ""


@dataclass(frozen=True)
class OAuthApp:
    """The app's credentials, for workspace installs (`oauth.v2.access`)."""

    client_id: str
    client_secret: str


@dataclass
class _OAuthCode:
    """What Slack's authorize page hands back in the redirect: good once, for 10 minutes."""

    team_id: str
    user_id: str
    scopes: str
    issued_at: float
    used: bool = False


@dataclass
class User:
    id: str
    name: str
    real_name: str = ""
    is_admin: bool = False
    is_owner: bool = False
    is_bot: bool = False
    team_id: str = ""
    # Shown in `profile.email` (Slack needs the users:read.email scope for it).
    email: str = ""

    def to_api(self) -> Json:
        real_name = self.real_name or self.name
        profile: Json = {"real_name": real_name, "display_name": self.name}
        if self.email:
            profile["email"] = self.email
        return {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "real_name": real_name,
            "deleted": False,
            "is_admin": self.is_admin,
            "is_owner": self.is_owner,
            "is_primary_owner": False,
            "is_bot": self.is_bot,
            "tz": "UTC",
            "profile": profile,
        }


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool = False
    bot_is_member: bool = True
    im_user: str | None = None  # set for the bot's DM with this user

    @property
    def is_im(self) -> bool:
        return self.im_user is not None

    def to_api(self) -> Json:
        out: Json = {
            "id": self.id,
            "name": self.name,
            "is_channel": not self.is_im and not self.is_private,
            "is_group": self.is_private,
            "is_im": self.is_im,
            "is_private": self.is_private or self.is_im,
            "is_member": self.bot_is_member,
        }
        if self.im_user:
            out["user"] = self.im_user
        return out


@dataclass
class MessageVersion:
    """A previous content of an edited message."""

    text: str
    blocks: list[Json]


@dataclass
class Message:
    channel: str
    ts: str
    text: str
    blocks: list[Json]
    user: str  # the poster: the bot's user id, or a person's
    seq: int  # global arrival order, across channels and ephemerals
    bot_id: str | None = None
    app_id: str | None = None
    thread_ts: str | None = None
    ephemeral_to: str | None = None  # the only user who sees it
    response_type: str | None = None  # set when it came through a response_url or an ack
    history: list[MessageVersion] = field(default_factory=list)
    edited_ts: str | None = None
    deleted: bool = False
    # state.values of its selects/checkboxes, as the Slack client holds them.
    state: Json = field(default_factory=dict)

    def visible_to(self, user_id: str) -> bool:
        return not self.deleted and self.ephemeral_to in (None, user_id)

    def to_api(self) -> Json:
        out: Json = {
            "type": "message",
            "ts": self.ts,
            "text": self.text,
            "blocks": copy.deepcopy(self.blocks),
            "user": self.user,
        }
        if self.bot_id:
            out.update(bot_id=self.bot_id, app_id=self.app_id)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
        if self.edited_ts:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        return out


@dataclass
class View:
    id: str
    user_id: str
    definition: Json  # what the app sent, with missing block/action ids filled in
    hash: str
    state: Json  # state.values: block_id -> action_id -> {"type": ..., value}
    workspace: Workspace
    root_view_id: str
    previous_view_id: str | None = None
    errors: dict[str, str] = field(default_factory=dict)  # block_id -> message shown
    closed: bool = False

    @property
    def type(self) -> str:
        return str(self.definition.get("type", ""))

    @property
    def title(self) -> str:
        return plain(self.definition.get("title"))

    @property
    def blocks(self) -> list[Json]:
        blocks: list[Json] = self.definition.get("blocks", [])
        return blocks

    @property
    def callback_id(self) -> str:
        return str(self.definition.get("callback_id", ""))

    @property
    def private_metadata(self) -> str:
        return str(self.definition.get("private_metadata", ""))

    @property
    def external_id(self) -> str:
        return str(self.definition.get("external_id", ""))

    @property
    def notify_on_close(self) -> bool:
        return bool(self.definition.get("notify_on_close", False))

    @property
    def clear_on_close(self) -> bool:
        return bool(self.definition.get("clear_on_close", False))

    def to_api(self) -> Json:
        ws = self.workspace
        out: Json = {
            "id": self.id,
            "team_id": ws.team_id,
            "type": self.type,
            "blocks": copy.deepcopy(self.blocks),
            "private_metadata": self.private_metadata,
            "callback_id": self.callback_id,
            "state": {"values": copy.deepcopy(self.state)},
            "hash": self.hash,
            "clear_on_close": self.clear_on_close,
            "notify_on_close": self.notify_on_close,
            "previous_view_id": self.previous_view_id,
            "root_view_id": self.root_view_id,
            "app_id": ws.app_id,
            "external_id": self.external_id,
            "app_installed_team_id": ws.team_id,
            "bot_id": ws.bot_id,
        }
        for key in ("title", "close", "submit"):
            if key in self.definition:
                out[key] = copy.deepcopy(self.definition[key])
        return out


@dataclass(frozen=True)
class ApiCall:
    """One request the app made: a Web API method, or ``"response_url"``."""

    method: str
    args: Json
    status: int
    response: Json
    # The token it was made with (None for a response_url, or a call without one).
    token: str | None = None

    @property
    def ok(self) -> bool:
        return self.response.get("ok") is True

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return str(error) if error is not None else None


@dataclass
class SlackState:
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    messages: dict[str, list[Message]] = field(default_factory=dict)  # by channel, with threads
    ephemerals: dict[tuple[str, str], list[Message]] = field(default_factory=dict)  # (ch, user)
    view_stacks: dict[str, list[View]] = field(default_factory=dict)  # user -> open modals
    home_views: dict[str, View] = field(default_factory=dict)  # user -> published home tab
    views: dict[str, View] = field(default_factory=dict)  # every view ever opened, by id
    usergroups: dict[str, list[str]] = field(default_factory=dict)
    calls: list[ApiCall] = field(default_factory=list)

    def messages_in(self, channel: str) -> list[Message]:
        """Messages everyone sees in a channel, oldest first (thread replies included)."""
        return [m for m in self.messages.get(channel, []) if not m.deleted]

    def latest(self, channel: str) -> Message | None:
        found = self.messages_in(channel)
        return found[-1] if found else None

    def ephemerals_for(self, channel: str, user: str) -> list[Message]:
        return [m for m in self.ephemerals.get((channel, user), []) if not m.deleted]

    def visible(self, user: str, channel: str | None = None) -> list[Message]:
        """What ``user`` sees, in arrival order: channel messages and their ephemerals."""
        shared = (m for msgs in self.messages.values() for m in msgs)
        own = (m for (_, u), msgs in self.ephemerals.items() if u == user for m in msgs)
        found = [
            m
            for m in itertools.chain(shared, own)
            if m.visible_to(user) and channel in (None, m.channel)
        ]
        return sorted(found, key=lambda m: m.seq)

    def find_message(self, ts: str, channel: str | None = None) -> Message | None:
        everything = itertools.chain(
            itertools.chain.from_iterable(self.messages.values()),
            itertools.chain.from_iterable(self.ephemerals.values()),
        )
        for message in everything:
            if message.ts == ts and channel in (None, message.channel) and not message.deleted:
                return message
        return None

    def top_view(self, user: str) -> View | None:
        stack = self.view_stacks.get(user) or []
        return stack[-1] if stack else None

    def home(self, user: str) -> View | None:
        return self.home_views.get(user)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method == method]

    def channel_by_name(self, name: str) -> Channel | None:
        name = name.removeprefix("#")
        return next((c for c in self.channels.values() if c.name == name), None)


# --------------------------------------------------------------------------------------
# Block Kit helpers shared with the driver and the renderer.
# --------------------------------------------------------------------------------------

# Stateful element type -> (key in state.values, key of its initial value, empty value).
_STATEFUL: dict[str, tuple[str, str, Any]] = {
    "plain_text_input": ("value", "initial_value", None),
    "number_input": ("value", "initial_value", None),
    "email_text_input": ("value", "initial_value", None),
    "url_text_input": ("value", "initial_value", None),
    "static_select": ("selected_option", "initial_option", None),
    "external_select": ("selected_option", "initial_option", None),
    "radio_buttons": ("selected_option", "initial_option", None),
    "multi_static_select": ("selected_options", "initial_options", []),
    "checkboxes": ("selected_options", "initial_options", []),
    "users_select": ("selected_user", "initial_user", None),
    "multi_users_select": ("selected_users", "initial_users", []),
    "conversations_select": ("selected_conversation", "initial_conversation", None),
    "channels_select": ("selected_channel", "initial_channel", None),
    "datepicker": ("selected_date", "initial_date", None),
    "timepicker": ("selected_time", "initial_time", None),
}
_NOT_INTERACTIVE = {"image"}


def plain(text: Any) -> str:
    """The string inside a text object (or a bare string)."""
    if isinstance(text, Mapping):
        return str(text.get("text", ""))
    return "" if text is None else str(text)


def state_key(element_type: str) -> str | None:
    """Which key of a state.values entry holds this element's value (None: stateless)."""
    spec = _STATEFUL.get(element_type)
    return spec[0] if spec else None


def initial_key(element_type: str) -> str | None:
    """Which key of the element holds its initial value (None: stateless)."""
    spec = _STATEFUL.get(element_type)
    return spec[1] if spec else None


def interactive_elements(blocks: Sequence[Json]) -> Iterator[tuple[Json, Json]]:
    """``(block, element)`` for every interactive element, in reading order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "actions":
            candidates: list[Json] = list(block.get("elements", []))
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            candidates = [block["accessory"]]
        elif kind == "input" and isinstance(block.get("element"), dict):
            candidates = [block["element"]]
        else:
            continue
        for element in candidates:
            if element.get("type") not in _NOT_INTERACTIVE:
                yield block, element


def element_options(element: Mapping[str, Any]) -> list[Json]:
    """An element's options, flattening option_groups."""
    if "options" in element:
        return list(element["options"])
    groups = element.get("option_groups", [])
    return [option for group in groups for option in group.get("options", [])]


def initial_state(blocks: Sequence[Json]) -> Json:
    """The state.values Slack starts a surface with: every stateful element's initial value."""
    values: Json = {}
    for block, element in interactive_elements(blocks):
        spec = _STATEFUL.get(str(element.get("type")))
        if spec is None or "action_id" not in element or "block_id" not in block:
            continue
        key, initial, empty = spec
        entry = {"type": element["type"], key: copy.deepcopy(element.get(initial, empty))}
        values.setdefault(block["block_id"], {})[element["action_id"]] = entry
    return values


def carry_state(old: Json, blocks: Sequence[Json]) -> Json:
    """State after an update: Slack keeps what the user typed where block and action ids stay."""
    values = initial_state(blocks)
    for block_id, entries in values.items():
        for action_id, entry in entries.items():
            before = old.get(block_id, {}).get(action_id)
            if before is not None and before.get("type") == entry["type"]:
                entries[action_id] = before
    return values


def _text_too_long(text: Any, limit: int) -> bool:
    return len(plain(text)) > limit


def _element_problem(element: Json) -> str | None:
    kind = element.get("type")
    if len(str(element.get("action_id", ""))) > 255:
        return "action_id must be at most 255 characters"
    if kind == "button":
        if _text_too_long(element.get("text"), 75):
            return "button text must be at most 75 characters"
        if len(str(element.get("value", ""))) > 2000:
            return "button value must be at most 2000 characters"
    if kind in _STATEFUL and len(element_options(element)) > 100:
        return f"{kind} has more than 100 options"
    return None


def _block_problem(block: Json) -> str | None:
    kind = block.get("type")
    if kind == "section":
        if _text_too_long(block.get("text"), 3000):
            return "section text must be at most 3000 characters"
        if len(block.get("fields", [])) > 10:
            return "a section has at most 10 fields"
        if not block.get("text") and not block.get("fields"):
            return "a section needs text or fields"
    if kind == "header" and _text_too_long(block.get("text"), 150):
        return "header text must be at most 150 characters"
    if kind == "actions" and len(block.get("elements", [])) > 25:
        return "an actions block has at most 25 elements"
    if kind == "input" and not plain(block.get("label")):
        return "an input block needs a label"
    return None


def check_blocks(blocks: Any, limit: int) -> str | None:
    """Why Slack would reject these blocks, or None. Only the limits that matter to us."""
    if not isinstance(blocks, list):
        return "blocks must be an array"
    if len(blocks) > limit:
        return f"no more than {limit} items allowed (got {len(blocks)})"
    seen: set[str] = set()
    for index, block in enumerate(blocks):
        if not isinstance(block, dict) or "type" not in block:
            return f"blocks[{index}] needs a type"
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in seen:
                return f"duplicate block_id {block_id!r}"
            seen.add(block_id)
        problem = _block_problem(block)
        if problem:
            return f"blocks[{index}]: {problem}"
    for _, element in interactive_elements(blocks):
        problem = _element_problem(element)
        if problem:
            return problem
    return None


def check_view(view: Any) -> str | None:
    """Why views.open/update/push/publish would answer invalid_arguments, or None."""
    if not isinstance(view, dict):
        return "view must be an object"
    kind = view.get("type")
    if kind not in ("modal", "home"):
        return "view type must be modal or home"
    problem = check_blocks(view.get("blocks", []), MAX_VIEW_BLOCKS)
    if problem:
        return problem
    if kind == "modal":
        if not plain(view.get("title")):
            return "a modal needs a title"
        for key in ("title", "submit", "close"):
            if _text_too_long(view.get(key), MAX_VIEW_TITLE):
                return f"{key} must be at most {MAX_VIEW_TITLE} characters"
        has_input = any(b.get("type") == "input" for b in view.get("blocks", []))
        if has_input and not view.get("submit"):
            return "a modal with input blocks needs submit"
    if len(str(view.get("private_metadata", ""))) > 3000:
        return "private_metadata must be at most 3000 characters"
    if len(str(view.get("callback_id", ""))) > 255:
        return "callback_id must be at most 255 characters"
    return None


# --------------------------------------------------------------------------------------
# Small records Slack keeps for interactivity.
# --------------------------------------------------------------------------------------


@dataclass
class _Trigger:
    user_id: str
    issued_at: float
    exchanged: bool = False


@dataclass
class _ResponseUrl:
    channel: str
    user_id: str
    issued_at: float
    source: Message | None  # the message clicked in, for replace_original/delete_original
    uses: int = 0


@dataclass
class _Failure:
    method: str
    error: str
    status: int
    retry_after: int | None
    times: int


# --------------------------------------------------------------------------------------
# The stand-in.
# --------------------------------------------------------------------------------------


class FakeSlack:
    """Slack's Web API, response URLs and client-side state; one workspace unless more are
    added (`add_workspace`) and the app installed in them (`authorize`, `oauth.v2.access`)."""

    def __init__(
        self,
        *,
        team_id: str = "T0NUMBERS",
        team_domain: str = "numbers",
        app_id: str = "A0NUMBERS",
        bot_user_id: str = "U0BOT",
        bot_id: str = "B0BOT",
        bot_token: str = "xoxb-test",
        clock: Callable[[], float] = time.time,
        enterprise_id: str | None = None,
    ) -> None:
        self.workspace = Workspace(
            team_id, team_domain, app_id, bot_user_id, bot_id, bot_token, enterprise_id
        )
        self.state = SlackState()
        self.tokens = {bot_token}
        # Every workspace by team id, and the one each bot token speaks for.
        self.workspaces: dict[str, Workspace] = {team_id: self.workspace}
        self._token_workspace: dict[str, Workspace] = {bot_token: self.workspace}
        self._caller = self.workspace  # the workspace of the call being answered
        self.oauth_app: OAuthApp | None = None
        self._codes: dict[str, _OAuthCode] = {}
        self._clock = clock
        self._clock_offset = 0.0
        self._ids = itertools.count(1)
        self._triggers: dict[str, _Trigger] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._failures: list[_Failure] = []
        self._changed = asyncio.Event()
        # Views whose submission awaits the app's answer (see `submitting`).
        self._submitting: dict[str, asyncio.Event] = {}
        self._runner: web.AppRunner | None = None
        self._base_url = ""
        # The Slack methods this stand-in answers. Anything else: unknown_method.
        self._methods: dict[str, Handler] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "usergroups.users.list": self._usergroups_users_list,
            "conversations.open": self._conversations_open,
            "conversations.info": self._conversations_info,
        }
        self.add_user(bot_user_id, "numbers-bot", is_bot=True)

    # ---- lifecycle -------------------------------------------------------------------

    async def start(self) -> Self:
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        host, port = self._runner.addresses[0][:2]
        self._base_url = f"http://{host}:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_url(self) -> str:
        """The Web API base URL to give the app, e.g. ``http://127.0.0.1:PORT/api/``."""
        if not self._base_url:
            raise RuntimeError("FakeSlack is not started")
        return f"{self._base_url}/api/"

    # ---- clock and waiting -----------------------------------------------------------

    def now(self) -> float:
        return self._clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the stand-in's clock (trigger and response_url expiry) without sleeping."""
        self._clock_offset += seconds

    # A bounded wait is the point of this helper, hence the timeout parameter.
    async def wait_for(
        self,
        predicate: Callable[[SlackState], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> SlackState:
        """Wait until ``predicate(state)`` holds; re-checked on every state change."""
        try:
            async with asyncio.timeout(timeout):
                while not predicate(self.state):
                    await self._changed.wait()
        except TimeoutError:
            recent = [f"{c.method}:{c.error or 'ok'}" for c in self.state.calls[-8:]]
            raise TimeoutError(f"condition not met in {timeout}s; last calls {recent}") from None
        return self.state

    def _notify(self) -> None:
        # Wake every waiter once, then arm a fresh event for the next change.
        self._changed.set()
        self._changed = asyncio.Event()

    # ---- seeding the workspace -------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        name: str,
        *,
        real_name: str = "",
        is_admin: bool = False,
        is_owner: bool = False,
        is_bot: bool = False,
        email: str = "",
        team_id: str = "",
    ) -> User:
        team = team_id or self.workspace.team_id
        user = User(user_id, name, real_name, is_admin, is_owner, is_bot, team, email)
        self.state.users[user_id] = user
        return user

    # ---- workspace installs (OAuth) -----------------------------------------------------

    def register_app(self, client_id: str, client_secret: str) -> OAuthApp:
        """The app's credentials (Basic Information → App Credentials)."""
        self.oauth_app = OAuthApp(client_id, client_secret)
        return self.oauth_app

    def add_workspace(self, team_id: str, team_domain: str, *, team_name: str = "") -> Workspace:
        """Another workspace, where the app is not installed yet."""
        suffix = team_id.removeprefix("T")
        workspace = Workspace(
            team_id,
            team_domain,
            self.workspace.app_id,
            f"U0BOT{suffix}",
            f"B0BOT{suffix}",
            "",
            team_name=team_name or team_domain,
        )
        self.workspaces[team_id] = workspace
        return workspace

    def authorize(self, url: str, *, team_id: str, user_id: str) -> dict[str, str]:
        """A person of `team_id` opens the install's authorize URL and clicks Allow: the
        query Slack redirects their browser back with (`code`, and the `state` given)."""
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
        app = self.oauth_app
        if app is None or query.get("client_id", [""])[0] != app.client_id:
            raise SlackError("invalid_client_id")
        if team_id not in self.workspaces:
            raise SlackError("team_not_found")
        code = f"{next(self._ids)}.{secrets.token_hex(16)}"
        scopes = query.get("scope", [""])[0]
        self._codes[code] = _OAuthCode(team_id, user_id, scopes, self.now())
        redirect = {"code": code}
        if "state" in query:
            redirect["state"] = query["state"][0]
        return redirect

    def uninstall(self, team_id: str) -> None:
        """The app is removed from the workspace: its bot token stops working."""
        workspace = self.workspaces[team_id]
        self.tokens.discard(workspace.bot_token)
        self._token_workspace.pop(workspace.bot_token, None)
        self.workspaces[team_id] = dataclasses.replace(workspace, bot_token="")

    def _oauth_v2_access(self, args: Json, basic: tuple[str, str] | None) -> Json:
        app = self.oauth_app
        client_id, secret = basic or (
            str(args.get("client_id") or ""),
            str(args.get("client_secret") or ""),
        )
        if app is None or client_id != app.client_id:
            raise SlackError("invalid_client_id")
        if secret != app.client_secret:
            raise SlackError("bad_client_secret")
        grant = self._codes.get(str(args.get("code") or ""))
        if grant is None or grant.used or self.now() - grant.issued_at > OAUTH_CODE_TTL:
            raise SlackError("invalid_code")
        grant.used = True
        workspace = self.workspaces[grant.team_id]
        token = f"xoxb-{workspace.team_id}-{secrets.token_hex(12)}"
        self.tokens.discard(workspace.bot_token)  # a re-install replaces the bot token
        self._token_workspace.pop(workspace.bot_token, None)
        workspace = dataclasses.replace(workspace, bot_token=token)
        self.workspaces[workspace.team_id] = workspace
        self.tokens.add(token)
        self._token_workspace[token] = workspace
        if workspace.bot_user_id not in self.state.users:
            bot_user = workspace.bot_user_id
            self.add_user(bot_user, "numbers-bot", is_bot=True, team_id=workspace.team_id)
        # The shape Slack documents for oauth.v2.access (no user scopes asked: no user token).
        return {
            "access_token": token,
            "token_type": "bot",
            "scope": grant.scopes,
            "bot_user_id": workspace.bot_user_id,
            "app_id": workspace.app_id,
            "team": {"id": workspace.team_id, "name": workspace.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
            "authed_user": {"id": grant.user_id},
        }

    def add_channel(
        self, channel_id: str, name: str, *, is_private: bool = False, bot_is_member: bool = True
    ) -> Channel:
        channel = Channel(channel_id, name, is_private, bot_is_member)
        self.state.channels[channel_id] = channel
        return channel

    def add_usergroup(self, group_id: str, user_ids: Sequence[str]) -> None:
        self.state.usergroups[group_id] = list(user_ids)

    def dm_channel(self, user_id: str) -> Channel:
        """The bot's DM with a user (the app's Messages tab), created on first use."""
        for channel in self.state.channels.values():
            if channel.im_user == user_id:
                return channel
        channel = Channel(f"D{next(self._ids):08d}", "directmessage", im_user=user_id)
        self.state.channels[channel.id] = channel
        return channel

    # ---- interactivity that Slack issues to the app ------------------------------------

    def issue_trigger_id(self, user_id: str) -> str:
        trigger_id = f"{next(self._ids)}.{int(self.now())}.{secrets.token_hex(8)}"
        self._triggers[trigger_id] = _Trigger(user_id, self.now())
        return trigger_id

    def issue_response_url(
        self, channel: str, user_id: str, *, source: Message | None = None
    ) -> str:
        rid = secrets.token_hex(8)
        self._response_urls[rid] = _ResponseUrl(channel, user_id, self.now(), source)
        return f"{self._base_url}/response/{rid}"

    def apply_reply(self, response_url: str, payload: Json) -> Message | None:
        """Show a reply as Slack does for a response_url POST (also a slash command's ack body).

        Returns the message created or changed, None when one was deleted.
        """
        target = self._response_urls.get(response_url.rsplit("/", 1)[-1])
        if target is None:
            raise SlackError("no_service", status=404)
        return self._reply(target, payload)

    def fail_next(
        self,
        method: str,
        error: str = "ratelimited",
        status: int | None = None,
        retry_after: int | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (or ``"response_url"``) fail."""
        if status is None:
            status = 429 if error == "ratelimited" else 200
        if status == 429 and retry_after is None:
            retry_after = 1  # Slack always says when to come back
        self._failures.append(_Failure(method, error, status, retry_after, times))

    # ---- client-side view changes (used by the driver) --------------------------------

    def set_value(
        self, surface: View | Message, block_id: str, action_id: str, entry: Json
    ) -> None:
        """Record what the user picked or typed in an element, as the Slack client would."""
        surface.state.setdefault(block_id, {})[action_id] = entry
        self._notify()

    def apply_view_response(self, user_id: str, view_id: str, body: Json | None) -> ViewOutcome:
        """Apply an app's answer to view_submission; returns what happened.

        ``closed`` (empty body), ``errors``, ``updated``, ``pushed`` or ``cleared``.
        Raises SlackError when Slack would show "We had some trouble connecting".
        """
        view = self.state.views[view_id]
        action = (body or {}).get("response_action")
        if action == "errors":
            self._show_errors(view, (body or {}).get("errors"))
            return "errors"
        if action in ("update", "push"):
            definition = self._checked_view((body or {}).get("view"))
            if action == "update":
                self._update_view(view, definition)
                return "updated"
            self._push_view(user_id, definition)
            return "pushed"
        if action == "clear":
            self.close_view(user_id, clear=True)
            return "cleared"
        self._pop_view(user_id, view)
        return "closed"

    @contextlib.contextmanager
    def submitting(self, view_id: str) -> Iterator[None]:
        """While a view's submission awaits the app's answer.

        Slack applies that answer (a `response_action: update`, say) before a
        `views.update` the app makes after answering; here the driver applies it once
        the HTTP exchange is over, so such a call waits for it, as it would in order.
        """
        done = asyncio.Event()
        self._submitting[view_id] = done
        try:
            yield
        finally:
            done.set()
            if self._submitting.get(view_id) is done:
                del self._submitting[view_id]

    def clear_errors(self, view: View) -> None:
        view.errors = {}
        self._notify()

    def close_view(self, user_id: str, *, clear: bool = False) -> None:
        """Close the user's top modal, or all of them with ``clear``."""
        stack = self.state.view_stacks.get(user_id, [])
        closing = list(stack) if clear else stack[-1:]
        for view in closing:
            view.closed = True
            stack.remove(view)
        self._notify()

    # ---- HTTP plumbing -----------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: Json = {}
        headers: dict[str, str] = {}
        try:
            args = await _read_args(request)
            token = _bearer(request) or args.get("token")
            args.pop("token", None)
            self._raise_injected(method)
            if method == "oauth.v2.access":  # the app's own credentials, not a token
                given = dict(args)
                args.pop("client_secret", None)  # never kept in the record
                body, status = {"ok": True, **self._oauth_v2_access(given, _basic(request))}, 200
                self._record(ApiCall(method, args, status, body, token))
                return web.json_response(body, status=status)
            if token is None:
                raise SlackError("not_authed")
            if token not in self.tokens:
                raise SlackError("invalid_auth")
            pending = self._submitting.get(str(args.get("view_id") or ""))
            if pending is not None and method == "views.update":
                await pending.wait()
            handler = self._methods.get(method)
            if handler is None:
                raise SlackError("unknown_method", detail=f"{method} is not in the stand-in")
            self._caller = self._token_workspace.get(token, self.workspace)
            body, status = {"ok": True, **handler(args)}, 200
        except SlackError as exc:
            body, status = exc.body(), exc.status
            if exc.retry_after is not None:
                headers["Retry-After"] = str(exc.retry_after)
        self._record(ApiCall(method, args, status, body, token))
        return web.json_response(body, status=status, headers=headers)

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        args: Json = {}
        try:
            parsed = json.loads(await request.text())
            if not isinstance(parsed, dict):
                raise SlackError("invalid_payload", status=400)
            args = parsed
            self._raise_injected("response_url")
            target = self._use_response_url(request.match_info["rid"])
            self._reply(target, args)
        except json.JSONDecodeError:
            return self._response_url_error(args, SlackError("invalid_payload", status=400))
        except SlackError as exc:
            return self._response_url_error(args, exc)
        self._record(ApiCall("response_url", args, 200, {"ok": True}))
        return web.Response(text="ok")

    def _response_url_error(self, args: Json, exc: SlackError) -> web.Response:
        # Response URLs answer in plain text, with a 4xx status, unlike the Web API.
        status = exc.status if exc.status >= 400 else 400
        self._record(ApiCall("response_url", args, status, exc.body()))
        return web.Response(status=status, text=exc.error)

    def _record(self, call: ApiCall) -> None:
        self.state.calls.append(call)
        self._notify()

    def _raise_injected(self, method: str) -> None:
        for failure in self._failures:
            if failure.method == method:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                raise SlackError(
                    failure.error, status=failure.status, retry_after=failure.retry_after
                )

    def _use_response_url(self, rid: str) -> _ResponseUrl:
        target = self._response_urls.get(rid)
        if target is None:
            raise SlackError("no_service", status=404)
        if self.now() - target.issued_at > RESPONSE_URL_TTL:
            raise SlackError("expired_url", status=404)
        if target.uses >= RESPONSE_URL_USES:
            raise SlackError("used_url", status=404)
        target.uses += 1
        return target

    # ---- messages ----------------------------------------------------------------------

    def _next_ts(self) -> tuple[str, int]:
        seq = next(self._ids)
        return f"{int(self.now())}.{seq:06d}", seq

    def _post(
        self,
        channel: str,
        text: str,
        blocks: list[Json],
        *,
        thread_ts: str | None = None,
        ephemeral_to: str | None = None,
        response_type: str | None = None,
    ) -> Message:
        ts, seq = self._next_ts()
        ws = self.workspace
        message = Message(
            channel=channel,
            ts=ts,
            text=text,
            blocks=blocks,
            user=ws.bot_user_id,
            seq=seq,
            bot_id=ws.bot_id,
            app_id=ws.app_id,
            thread_ts=thread_ts,
            ephemeral_to=ephemeral_to,
            response_type=response_type,
            state=initial_state(blocks),
        )
        if ephemeral_to is None:
            self.state.messages.setdefault(channel, []).append(message)
        else:
            self.state.ephemerals.setdefault((channel, ephemeral_to), []).append(message)
        return message

    def _edit(self, message: Message, text: str, blocks: list[Json]) -> None:
        message.history.append(MessageVersion(message.text, message.blocks))
        message.text, message.blocks = text, blocks
        message.edited_ts = self._next_ts()[0]
        message.state = initial_state(blocks)  # the client drops picks on re-render

    def _reply(self, target: _ResponseUrl, payload: Json) -> Message | None:
        source = target.source
        if payload.get("delete_original") and source is not None:
            source.deleted = True
            self._notify()
            return None
        text, blocks = self._content(payload)
        if payload.get("replace_original") and source is not None:
            self._edit(source, text, blocks)
            self._notify()
            return source
        kind = str(payload.get("response_type") or "ephemeral")
        in_channel = kind == "in_channel"
        message = self._post(
            target.channel,
            text,
            blocks,
            thread_ts=payload.get("thread_ts"),
            ephemeral_to=None if in_channel else target.user_id,
            response_type=kind,
        )
        self._notify()
        return message

    def _content(self, args: Json) -> tuple[str, list[Json]]:
        blocks = self._blocks_arg(args.get("blocks"), MAX_MESSAGE_BLOCKS, "invalid_blocks")
        text = str(args.get("text") or "")
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if len(text) > MAX_TEXT:
            raise SlackError("msg_too_long")
        return text, blocks

    def _blocks_arg(self, raw: Any, limit: int, error: str) -> list[Json]:
        if raw in (None, "", []):
            return []
        blocks = _json_value(raw, error)
        problem = check_blocks(blocks, limit)
        if problem:
            raise SlackError(error, detail=problem)
        return self._with_ids(blocks)

    def _with_ids(self, blocks: list[Json]) -> list[Json]:
        """Copy blocks, filling in block_id/action_id as Slack does when they are missing."""
        blocks = copy.deepcopy(blocks)
        for block in blocks:
            block.setdefault("block_id", f"b{next(self._ids)}")
        for _, element in interactive_elements(blocks):
            element.setdefault("action_id", f"a{next(self._ids)}")
        return blocks

    def _channel_for_posting(self, ref: Any) -> Channel:
        """Resolve chat.* ``channel``: a channel id or name, or a user id (their DM)."""
        ref = str(ref or "")
        if ref in self.state.users:
            return self.dm_channel(ref)
        channel = self.state.channels.get(ref) or self.state.channel_by_name(ref)
        if channel is None:
            raise SlackError("channel_not_found")
        if channel.is_im or channel.bot_is_member:
            return channel
        # Slack hides private channels the bot is not in; public ones say not_in_channel.
        raise SlackError("channel_not_found" if channel.is_private else "not_in_channel")

    def _message_arg(self, args: Json, ts_key: str = "ts") -> Message:
        channel = self._channel_for_posting(args.get("channel"))
        message = self.state.find_message(str(args.get(ts_key) or ""), channel.id)
        if message is None or message.ephemeral_to is not None:
            raise SlackError("message_not_found")
        return message

    # ---- Slack methods: auth, chat -------------------------------------------------------

    def _auth_test(self, args: Json) -> Json:
        ws = self._caller
        return {
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": ws.team_domain,
            "user": self.state.users[ws.bot_user_id].name,
            "team_id": None if ws.enterprise_id else ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "enterprise_id": ws.enterprise_id,
            "is_enterprise_install": ws.enterprise_id is not None,
        }

    def _chat_post_message(self, args: Json) -> Json:
        channel = self._channel_for_posting(args.get("channel"))
        text, blocks = self._content(args)
        message = self._post(channel.id, text, blocks, thread_ts=args.get("thread_ts") or None)
        return {"channel": channel.id, "ts": message.ts, "message": message.to_api()}

    def _chat_update(self, args: Json) -> Json:
        message = self._message_arg(args)
        if message.user != self.workspace.bot_user_id:
            raise SlackError("cant_update_message")
        # Slack keeps the previous blocks/text when the field is left out.
        merged = {"text": message.text, "blocks": message.blocks, **args}
        text, blocks = self._content(merged)
        self._edit(message, text, blocks)
        return {
            "channel": message.channel,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_api(),
        }

    def _chat_post_ephemeral(self, args: Json) -> Json:
        channel = self._channel_for_posting(args.get("channel"))
        user = str(args.get("user") or "")
        if user not in self.state.users:
            raise SlackError("user_not_found")
        text, blocks = self._content(args)
        thread_ts = args.get("thread_ts") or None
        message = self._post(channel.id, text, blocks, thread_ts=thread_ts, ephemeral_to=user)
        return {"message_ts": message.ts}

    def _chat_delete(self, args: Json) -> Json:
        message = self._message_arg(args)
        message.deleted = True
        return {"channel": message.channel, "ts": message.ts}

    def _chat_get_permalink(self, args: Json) -> Json:
        message = self._message_arg(args, "message_ts")
        ws = self.workspace
        link = f"https://{ws.team_domain}.slack.com/archives/{message.channel}/p"
        return {"channel": message.channel, "permalink": link + message.ts.replace(".", "")}

    # ---- Slack methods: views --------------------------------------------------------------

    def _views_open(self, args: Json) -> Json:
        definition = self._view_arg(args)
        trigger = self._exchange_trigger(args.get("trigger_id"))
        self.close_view(trigger.user_id, clear=True)  # a new modal replaces any open stack
        view = self._push_view(trigger.user_id, definition)
        return {"view": view.to_api()}

    def _views_push(self, args: Json) -> Json:
        definition = self._view_arg(args)
        trigger = self._exchange_trigger(args.get("trigger_id"))
        view = self._push_view(trigger.user_id, definition)
        return {"view": view.to_api()}

    def _views_update(self, args: Json) -> Json:
        view = self._find_view(args)
        self._check_hash(view, args.get("hash"))
        definition = self._view_arg(args, replacing=view)
        self._update_view(view, definition)
        return {"view": view.to_api()}

    def _views_publish(self, args: Json) -> Json:
        user = str(args.get("user_id") or "")
        if user not in self.state.users:
            raise SlackError("user_not_found")
        current = self.state.home_views.get(user)
        definition = self._view_arg(args, replacing=current)
        if definition.get("type") != "home":
            raise SlackError("invalid_arguments", detail="views.publish needs a home view")
        if current is None:
            current = self._new_view(user, definition)
            self.state.home_views[user] = current
        else:
            self._check_hash(current, args.get("hash"))
            self._update_view(current, definition)
        return {"view": current.to_api()}

    def _view_arg(self, args: Json, *, replacing: View | None = None) -> Json:
        definition = self._checked_view(args.get("view"))
        external_id = definition.get("external_id")
        for other in self.state.views.values():
            clash = external_id and other.external_id == external_id
            if clash and other is not replacing and not other.closed:
                raise SlackError("duplicate_external_id")
        return definition

    def _checked_view(self, raw: Any) -> Json:
        view = _json_value(raw, "invalid_arguments")
        problem = check_view(view)
        if problem:
            raise SlackError("invalid_arguments", detail=problem)
        assert isinstance(view, dict)  # check_view said so
        return {**view, "blocks": self._with_ids(view.get("blocks", []))}

    def _exchange_trigger(self, trigger_id: Any) -> _Trigger:
        trigger = self._triggers.get(str(trigger_id or ""))
        if trigger is None:
            raise SlackError("invalid_trigger_id")
        if trigger.exchanged:
            raise SlackError("exchanged_trigger_id")
        if self.now() - trigger.issued_at > TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        trigger.exchanged = True
        return trigger

    def _find_view(self, args: Json) -> View:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        for view in self.state.views.values():
            if view.closed:
                continue
            if (view_id and view.id == view_id) or (
                not view_id and external_id and view.external_id == external_id
            ):
                return view
        raise SlackError("not_found")

    @staticmethod
    def _check_hash(view: View, hash_: Any) -> None:
        if hash_ and hash_ != view.hash:
            raise SlackError("hash_conflict")

    def _new_view(self, user_id: str, definition: Json, *, previous: View | None = None) -> View:
        view_id = f"V{next(self._ids):08d}"
        view = View(
            id=view_id,
            user_id=user_id,
            definition=definition,
            hash=self._new_hash(),
            state=initial_state(definition["blocks"]),
            workspace=self._caller,
            root_view_id=previous.root_view_id if previous else view_id,
            previous_view_id=previous.id if previous else None,
        )
        self.state.views[view_id] = view
        return view

    def _push_view(self, user_id: str, definition: Json) -> View:
        stack = self.state.view_stacks.setdefault(user_id, [])
        if len(stack) >= MAX_VIEW_STACK:
            raise SlackError("push_limit_reached")
        view = self._new_view(user_id, definition, previous=stack[-1] if stack else None)
        stack.append(view)
        self._notify()
        return view

    def _update_view(self, view: View, definition: Json) -> None:
        view.definition = definition
        view.state = carry_state(view.state, view.blocks)
        view.hash = self._new_hash()
        view.errors = {}
        self._notify()

    def _pop_view(self, user_id: str, view: View) -> None:
        stack = self.state.view_stacks.get(user_id, [])
        if view in stack:
            stack.remove(view)
        view.closed = True
        self._notify()

    def _show_errors(self, view: View, errors: Any) -> None:
        if not isinstance(errors, dict) or not errors:
            raise SlackError("invalid_arguments", detail="errors must map block_id to text")
        inputs = {b["block_id"] for b in view.blocks if b.get("type") == "input"}
        unknown = sorted(set(errors) - inputs)
        if unknown:
            # Slack shows the user a generic failure when an error names no input block.
            raise SlackError("invalid_arguments", detail=f"no input block {unknown}")
        view.errors = {str(k): str(v) for k, v in errors.items()}
        self._notify()

    def _new_hash(self) -> str:
        return f"{self.now():.6f}.{secrets.token_hex(4)}"

    # ---- Slack methods: users, groups, conversations -------------------------------------

    def _users_info(self, args: Json) -> Json:
        user = self.state.users.get(str(args.get("user") or ""))
        if user is None:
            raise SlackError("user_not_found")
        return {"user": user.to_api()}

    def _users_lookup_by_email(self, args: Json) -> Json:
        wanted = str(args.get("email") or "").strip().lower()
        for user in self.state.users.values():
            if wanted and user.email.lower() == wanted:
                return {"user": user.to_api()}
        raise SlackError("users_not_found")

    def _usergroups_users_list(self, args: Json) -> Json:
        members = self.state.usergroups.get(str(args.get("usergroup") or ""))
        if members is None:
            raise SlackError("no_such_subteam")
        return {"users": list(members)}

    def _conversations_open(self, args: Json) -> Json:
        if args.get("channel"):
            channel = self.state.channels.get(str(args["channel"]))
            if channel is None:
                raise SlackError("channel_not_found")
            return {"channel": channel.to_api()}
        raw = args.get("users") or ""
        users = raw if isinstance(raw, list) else [u for u in str(raw).split(",") if u]
        if len(users) != 1:
            raise SlackError("invalid_arguments", detail="the stand-in opens one-user DMs only")
        if users[0] not in self.state.users:
            raise SlackError("user_not_found")
        return {"channel": self.dm_channel(users[0]).to_api()}

    def _conversations_info(self, args: Json) -> Json:
        channel = self.state.channels.get(str(args.get("channel") or ""))
        if channel is None or (channel.is_private and not channel.bot_is_member):
            raise SlackError("channel_not_found")
        return {"channel": channel.to_api()}


# --------------------------------------------------------------------------------------
# Request parsing.
# --------------------------------------------------------------------------------------

_BEARER = re.compile(r"^Bearer\s+(\S+)$")


def _bearer(request: web.Request) -> str | None:
    match = _BEARER.match(request.headers.get("Authorization", ""))
    return match.group(1) if match else None


def _basic(request: web.Request) -> tuple[str, str] | None:
    """HTTP Basic credentials (how slack_sdk sends the client id and secret)."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


async def _read_args(request: web.Request) -> Json:
    """Arguments from the query string and a JSON or form body, as Slack accepts them."""
    args: Json = dict(request.query)
    if not request.body_exists:
        return args
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except json.JSONDecodeError:
            raise SlackError("invalid_json") from None
        if not isinstance(body, dict):
            raise SlackError("invalid_json")
        args.update(body)
    else:
        form = await request.post()
        args.update({k: v for k, v in form.items() if isinstance(v, str)})
    return args


def _json_value(raw: Any, error: str) -> Any:
    """Form bodies carry blocks/views as JSON strings, JSON bodies as values."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        raise SlackError(error, detail="not valid JSON") from None
