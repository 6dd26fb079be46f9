"""A person in Slack, driving the app through its real HTTP endpoint.

Each method does what the Slack client and Slack's servers do when someone types a slash
command, clicks a button, fills or submits a modal: it builds the payload Slack would send
(shapes from ``shared/reference/slack/payloads``), signs it with the signing secret, posts
it to the app, and applies the app's synchronous answer (a slash command's reply, a
view_submission's ``response_action``) to the :class:`FakeSlack` state.

Elements are found by their visible labels, the way a person finds them on screen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self
from urllib.parse import urlencode

import aiohttp

from bot.console.fake_slack import (
    Channel,
    FakeSlack,
    Json,
    Message,
    SlackError,
    User,
    View,
    ViewOutcome,
    element_options,
    interactive_elements,
    plain,
    state_key,
)

Surface = View | Message
SubmitOutcome = ViewOutcome | Literal["failed"]
VERIFICATION_TOKEN = "verification_token"  # deprecated by Slack, still sent in payloads
FORM = "application/x-www-form-urlencoded"

# Element types whose options a person picks one of / several of.
_SINGLE_PICK = {"static_select", "radio_buttons"}
_MULTI_PICK = {"checkboxes", "multi_static_select"}


# `@name` and `#name` as typed (not already inside a `<...>` mention), for escape_names.
_AT_NAME = re.compile(r"(?<![\w<@|])@([\w.\-]+)")
_HASH_NAME = re.compile(r"(?<![\w<#|&])#([\w.\-]+)")


def _split_tail(name: str) -> tuple[str, str]:
    """`morgan.` → (`morgan`, `.`): a sentence's full stop is not part of a name."""
    core = name.rstrip(".-")
    return core, name[len(core) :]


class DriverError(Exception):
    """The person cannot do that: no such label, no open modal, unknown user..."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """Slack's request signature: ``v0=hex(HMAC_SHA256(secret, "v0:{ts}:{body}"))``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class HttpResult:
    """The app's answer to one request Slack sent it."""

    status: int
    text: str
    headers: Mapping[str, str] = field(default_factory=dict)
    timed_out: bool = False  # no answer within the ack timeout: Slack gives up

    @property
    def json(self) -> Any:
        """The body parsed as JSON; None when empty or not JSON."""
        try:
            return json.loads(self.text) if self.text.strip() else None
        except ValueError:
            return None


@dataclass(frozen=True)
class SubmitResult:
    """What the person sees after pressing a modal's submit button."""

    outcome: SubmitOutcome
    http: HttpResult
    errors: dict[str, str]  # block_id -> message under the field, for "errors"
    view: View | None  # the user's top modal afterwards, if any
    problem: str | None = None  # why Slack would say "We had some trouble connecting"


@dataclass(frozen=True)
class _Hit:
    """An element found on a surface, with the option picked in it if any."""

    surface: Surface
    block: Json
    element: Json
    option: Json | None = None


def _norm(label: str) -> str:
    # People type "Approve" for ":white_check_mark: *Approve*".
    label = re.sub(r":[a-z0-9_+\-]+:", "", label)
    label = re.sub(r"[*_~`]", "", label)
    return " ".join(label.split()).casefold()


def _input_label(block: Json) -> str:
    return plain(block.get("label")) if block.get("type") == "input" else ""


class SlackDriver:
    """Plays people in Slack against the app at ``url`` (e.g. ``.../slack/events``)."""

    def __init__(
        self,
        slack: FakeSlack,
        url: str,
        signing_secret: str,
        *,
        ack_timeout: float | None = 3.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.slack = slack
        self.url = url
        self.signing_secret = signing_secret
        self.ack_timeout = ack_timeout  # Slack waits 3 s for the app to answer
        self._clock = clock  # signatures use real time: the app checks them against its own
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ---- raw signed requests -------------------------------------------------------------

    async def post_signed(
        self,
        body: bytes,
        content_type: str = FORM,
        *,
        headers: Mapping[str, str] | None = None,
        secret: str | None = None,
        timestamp: int | str | None = None,
        signature: str | None = None,
    ) -> HttpResult:
        """POST ``body`` signed like Slack. Override ``secret``/``timestamp`` to forge or
        age the signature, pass ``signature`` to send it verbatim ("" to leave it out)."""
        ts = str(int(self._clock()) if timestamp is None else timestamp)
        sig = sign(secret or self.signing_secret, ts, body) if signature is None else signature
        sent = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts}
        if sig:
            sent["X-Slack-Signature"] = sig
        sent.update(headers or {})
        if self._session is None:
            self._session = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=self.ack_timeout)
        try:
            async with self._session.post(
                self.url, data=body, headers=sent, timeout=timeout
            ) as response:
                return HttpResult(response.status, await response.text(), dict(response.headers))
        except TimeoutError:
            return HttpResult(0, "", timed_out=True)

    async def _interact(self, payload: Json) -> HttpResult:
        """Send an interaction payload the way Slack does: form field ``payload=<json>``."""
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return await self.post_signed(body)

    # ---- slash commands --------------------------------------------------------------------

    async def slash(
        self, user: str, channel: str, command: str = "/numbers", text: str = ""
    ) -> HttpResult:
        """Type ``command text`` in ``channel`` (an id or ``#name``)."""
        person, where = self._person(user), self._channel(channel)
        text = self.escape_names(text)
        response_url = self.slack.issue_response_url(where.id, person.id)
        ws = self.slack.workspace
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": person.team_id or ws.team_id,  # a Slack Connect guest's own team
            "team_domain": ws.team_domain,
            "channel_id": where.id,
            "channel_name": where.name,
            "user_id": person.id,
            "user_name": person.name,
            "command": command,
            "text": text,
            "api_app_id": ws.app_id,
            "is_enterprise_install": "true" if ws.enterprise_id else "false",
            **({"enterprise_id": ws.enterprise_id} if ws.enterprise_id else {}),
            "response_url": response_url,
            "trigger_id": self.slack.issue_trigger_id(person.id),
        }
        result = await self.post_signed(urlencode(form).encode())
        self._show_command_reply(result, response_url)
        return result

    def escape_names(self, text: str) -> str:
        """What Slack does to a command's text when the command has ``should_escape``:
        ``@morgan`` becomes ``<@U0MANAGER|morgan>`` and ``#general`` becomes
        ``<#C0GENERAL|general>``; names it does not know stay as typed."""

        def person(match: re.Match[str]) -> str:
            name, tail = _split_tail(match[1])
            found = self._user_named(name)
            return f"<@{found.id}|{found.name}>{tail}" if found else match[0]

        def channel(match: re.Match[str]) -> str:
            name, tail = _split_tail(match[1])
            found = self.slack.state.channel_by_name(name)
            if found is None or found.is_im:
                return match[0]
            return f"<#{found.id}|{found.name}>{tail}"

        return _HASH_NAME.sub(channel, _AT_NAME.sub(person, text))

    def _user_named(self, name: str) -> User | None:
        wanted = name.casefold()
        for user in self.slack.state.users.values():
            if wanted in (user.name.casefold(), user.real_name.casefold()):
                return user
        return None

    def _show_command_reply(self, result: HttpResult, response_url: str) -> None:
        # Slack shows a slash command's non-empty ack body like a response_url message.
        if result.status != 200 or not result.text.strip():
            return
        body = result.json
        if not isinstance(body, dict):
            body = {"text": result.text}
        if body.get("text") or body.get("blocks"):
            self.slack.apply_reply(response_url, body)

    # ---- clicking and picking ----------------------------------------------------------------

    async def click(
        self,
        user: str,
        label: str,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
        view: str | None = None,
    ) -> HttpResult | None:
        """Click a button, overflow option or select option by its visible label.

        Looks in ``view`` (a view id, or "home"), else the message ``message_ts``, else
        the user's open modal, else the newest message in ``channel`` (or anywhere) the user
        sees that shows this label. Returns None when Slack sends nothing (an input block).
        """
        surfaces = self._surfaces(user, channel, message_ts, view)
        hit = self._find(surfaces, label, self._clickables)
        if hit.element.get("type") == "button":
            return await self._send_action(user, hit, self._button_action(hit))
        assert hit.option is not None
        return await self._pick(user, hit, [hit.option])

    async def menu(
        self,
        user: str,
        row: str | int,
        item: str,
        *,
        channel: str | None = None,
        message_ts: str | None = None,
    ) -> HttpResult:
        """Pick ``item`` in the overflow menu of one row: a section whose text shows ``row``,
        or the ``row``-th section with a menu (1-based) on the newest message that has one."""
        surfaces = self._surfaces(user, channel, message_ts, None)
        rows_seen: list[str] = []
        for surface in surfaces:
            rows = list(menu_rows(surface.blocks))
            if not rows:
                continue
            for n, (text, block, element) in enumerate(rows, start=1):
                if (n == row) if isinstance(row, int) else _norm(str(row)) in _norm(text):
                    option = self._option(element, item)
                    hit = _Hit(surface, block, element, option)
                    return await self._send_action(user, hit, self._base_action(hit, option))
                rows_seen.append(text)
            if isinstance(row, int):
                break  # numbered rows count on the newest list only
        raise DriverError(f"no row {row!r} with a menu; rows: {rows_seen}")

    async def select(
        self,
        user: str,
        option_label: str,
        *,
        field: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        view: str | None = None,
    ) -> HttpResult | None:
        """Pick one option of a static select or radio group (``field``: its label,
        placeholder or action_id, when several show the same option)."""
        surfaces = self._surfaces(user, channel, message_ts, view)
        hit = self._find(surfaces, option_label, self._options_of(_SINGLE_PICK, field))
        assert hit.option is not None
        return await self._pick(user, hit, [hit.option])

    async def check(
        self,
        user: str,
        option_labels: Sequence[str],
        *,
        field: str | None = None,
        channel: str | None = None,
        message_ts: str | None = None,
        view: str | None = None,
    ) -> HttpResult | None:
        """Make exactly ``option_labels`` the checked boxes (or multi-select picks)."""
        surfaces = self._surfaces(user, channel, message_ts, view)
        labels = list(option_labels)
        if not labels:
            if field is None:
                raise DriverError("check() with no labels needs field= to know what to clear")
            hit = self._find_field(surfaces, field, _MULTI_PICK)
            return await self._pick(user, hit, [])
        hit = self._find(surfaces, labels[0], self._options_of(_MULTI_PICK, field))
        picked = [self._option(hit.element, label) for label in labels]
        return await self._pick(user, hit, picked)

    async def fill(self, user: str, label: str, value: str | Sequence[str]) -> HttpResult | None:
        """Set the input block labelled ``label`` in the user's open modal.

        ``value`` is text, an option label, a list of option labels (checkboxes), a user
        id or name (user selects), a channel id or name, or a date, by element type.
        """
        top = self._top_view(user)
        hit = self._find_field([top], label, None, inputs_only=True)
        entry = self._entry_for(hit.element, value)
        self.slack.set_value(top, hit.block["block_id"], hit.element["action_id"], entry)
        return await self._dispatch(user, hit, entry)

    async def _pick(self, user: str, hit: _Hit, options: list[Json]) -> HttpResult | None:
        kind = str(hit.element["type"])
        if kind == "overflow":
            return await self._send_action(user, hit, self._base_action(hit, options[0]))
        key = state_key(kind)
        assert key is not None
        value: Any = options if kind in _MULTI_PICK else options[0]
        entry = {"type": kind, key: value}
        self.slack.set_value(hit.surface, hit.block["block_id"], hit.element["action_id"], entry)
        return await self._dispatch(user, hit, entry)

    async def _dispatch(self, user: str, hit: _Hit, entry: Json) -> HttpResult | None:
        # Inside an input block, Slack only sends block_actions when dispatch_action is set.
        if hit.block.get("type") == "input" and not hit.block.get("dispatch_action"):
            return None
        action = {**entry, **self._ids(hit), "action_ts": self._action_ts()}
        return await self._send_action(user, hit, action)

    async def _send_action(self, user: str, hit: _Hit, action: Json) -> HttpResult:
        payload = self._block_actions(self._person(user), hit.surface, action)
        return await self._interact(payload)

    # ---- modals ----------------------------------------------------------------------------

    async def submit(self, user: str) -> SubmitResult:
        """Press the submit button of the user's top modal."""
        top = self._top_view(user)
        self.slack.clear_errors(top)
        payload = {
            **self._envelope("view_submission", self._person(user)),
            "trigger_id": self.slack.issue_trigger_id(user),
            "view": top.to_api(),
            "response_urls": [],
        }
        with self.slack.submitting(top.id):
            http = await self._interact(payload)
            body = http.json
            if http.status != 200 or (http.text.strip() and not isinstance(body, dict)):
                problem = (
                    "timed out" if http.timed_out else f"HTTP {http.status}: {http.text[:200]}"
                )
                return SubmitResult("failed", http, {}, self.slack.state.top_view(user), problem)
            try:
                outcome = self.slack.apply_view_response(user, top.id, body)
            except SlackError as exc:
                problem = exc.detail or exc.error
                return SubmitResult("failed", http, {}, self.slack.state.top_view(user), problem)
        errors = dict(top.errors) if outcome == "errors" else {}
        return SubmitResult(outcome, http, errors, self.slack.state.top_view(user))

    async def close(self, user: str) -> HttpResult | None:
        """Press the modal's close button; the app hears of it only with notify_on_close."""
        top = self._top_view(user)
        cleared = top.clear_on_close
        payload = {
            **self._envelope("view_closed", self._person(user)),
            "view": top.to_api(),
            "is_cleared": cleared,
        }
        self.slack.close_view(user, clear=cleared)
        return await self._interact(payload) if top.notify_on_close else None

    # ---- events ------------------------------------------------------------------------------

    def event_envelope(self, event: Json, *, event_id: str | None = None) -> Json:
        """Wrap an event as Slack's Events API ``event_callback``."""
        ws = self.slack.workspace
        return {
            "token": VERIFICATION_TOKEN,
            "team_id": ws.team_id,
            "api_app_id": ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{secrets.token_hex(5).upper()}",
            "event_time": int(self._clock()),
            "enterprise_id": ws.enterprise_id,
            "authorizations": [
                {
                    "enterprise_id": ws.enterprise_id,
                    # An organization-wide install is authorized for no team.
                    "team_id": None if ws.enterprise_id else ws.team_id,
                    "user_id": ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": ws.enterprise_id is not None,
                }
            ],
            "is_ext_shared_channel": False,
        }

    async def send_event(
        self,
        event: Json,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
    ) -> HttpResult:
        """Deliver an event (or a full envelope, to re-deliver it with ``retry_num``)."""
        envelope = event if event.get("type") == "event_callback" else self.event_envelope(event)
        headers: dict[str, str] = {}
        if retry_num is not None:
            headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": retry_reason}
        body = json.dumps(envelope).encode()
        return await self.post_signed(body, "application/json", headers=headers)

    async def app_home_opened(self, user: str, tab: str = "home") -> HttpResult:
        """The user opens the app's Home tab."""
        person = self._person(user)
        event: Json = {
            "type": "app_home_opened",
            "user": person.id,
            "channel": self.slack.dm_channel(person.id).id,
            "tab": tab,
            "event_ts": self._action_ts(),
        }
        home = self.slack.state.home(person.id)
        if home is not None:
            event["view"] = home.to_api()
        return await self.send_event(event)

    # ---- payload building --------------------------------------------------------------------

    def _envelope(self, kind: str, person: User) -> Json:
        ws = self.slack.workspace
        team = person.team_id or ws.team_id  # a Slack Connect guest's own team
        return {
            "type": kind,
            "user": {
                "id": person.id,
                "username": person.name,
                "name": person.name,
                "team_id": team,
            },
            "api_app_id": ws.app_id,
            "token": VERIFICATION_TOKEN,
            # An organization-wide install's interactions may name no team (bolt reads
            # `user.team_id` or `view.team_id` then).
            "team": None if ws.enterprise_id else {"id": team, "domain": ws.team_domain},
            "enterprise": {"id": ws.enterprise_id} if ws.enterprise_id else None,
            "is_enterprise_install": ws.enterprise_id is not None,
        }

    def _block_actions(self, person: User, surface: Surface, action: Json) -> Json:
        payload = {
            **self._envelope("block_actions", person),
            "trigger_id": self.slack.issue_trigger_id(person.id),
            "actions": [action],
        }
        if isinstance(surface, View):
            payload["container"] = {"type": "view", "view_id": surface.id}
            payload["view"] = surface.to_api()
            return payload
        channel = self.slack.state.channels[surface.channel]
        ephemeral = surface.ephemeral_to is not None
        payload["container"] = {
            "type": "message",
            "message_ts": surface.ts,
            "channel_id": channel.id,
            "is_ephemeral": ephemeral,
        }
        payload["channel"] = {"id": channel.id, "name": channel.name}
        if not ephemeral:  # Slack does not echo an ephemeral message back to the app
            payload["message"] = surface.to_api()
        payload["state"] = {"values": surface.state}
        payload["response_url"] = self.slack.issue_response_url(
            channel.id, person.id, source=surface
        )
        return payload

    def _button_action(self, hit: _Hit) -> Json:
        action = {
            "type": "button",
            **self._ids(hit),
            "text": hit.element.get("text"),
            "action_ts": self._action_ts(),
        }
        for key in ("value", "style", "url"):
            if key in hit.element:
                action[key] = hit.element[key]
        return action

    def _base_action(self, hit: _Hit, option: Json) -> Json:
        return {
            "type": hit.element["type"],
            **self._ids(hit),
            "selected_option": option,
            "action_ts": self._action_ts(),
        }

    @staticmethod
    def _ids(hit: _Hit) -> Json:
        return {"action_id": hit.element["action_id"], "block_id": hit.block["block_id"]}

    def _action_ts(self) -> str:
        return f"{self._clock():.6f}"

    # ---- finding things on screen ----------------------------------------------------------

    def _person(self, user: str) -> User:
        person = self.slack.state.users.get(user)
        if person is None:
            known = ", ".join(sorted(self.slack.state.users))
            raise DriverError(f"unknown user {user!r} (known: {known}); use slack.add_user()")
        return person

    def _channel(self, ref: str) -> Channel:
        state = self.slack.state
        found = state.channels.get(ref) or state.channel_by_name(ref)
        if found is None:
            known = ", ".join(f"{c.id} #{c.name}" for c in state.channels.values())
            raise DriverError(f"unknown channel {ref!r} (known: {known})")
        return found

    def _top_view(self, user: str) -> View:
        top = self.slack.state.top_view(self._person(user).id)
        if top is None:
            raise DriverError(f"{user} has no modal open")
        return top

    def _surfaces(
        self, user: str, channel: str | None, message_ts: str | None, view: str | None
    ) -> list[Surface]:
        state = self.slack.state
        person = self._person(user)
        if view is not None:
            found = state.home(person.id) if view == "home" else state.views.get(view)
            if found is None or found.closed:
                raise DriverError(f"no open view {view!r} for {user}")
            return [found]
        channel_id = self._channel(channel).id if channel else None
        if message_ts is not None:
            message = state.find_message(message_ts, channel_id)
            if message is None or not message.visible_to(person.id):
                raise DriverError(f"{user} sees no message {message_ts}")
            return [message]
        top = state.top_view(person.id)
        if channel is None and top is not None:
            return [top]  # an open modal covers the messages
        return list(reversed(state.visible(person.id, channel_id)))

    def _find(
        self,
        surfaces: Sequence[Surface],
        label: str,
        candidates: Callable[[Surface], Iterator[tuple[str, _Hit]]],
    ) -> _Hit:
        wanted = _norm(label)
        seen: list[str] = []
        for surface in surfaces:
            for shown, hit in candidates(surface):
                if _norm(shown) == wanted:
                    return hit
                if shown not in seen:
                    seen.append(shown)
        where = f"{len(surfaces)} message(s)/view(s)" if surfaces else "nothing on screen"
        raise DriverError(f"no {label!r} in {where}; labels there: {seen}")

    @staticmethod
    def _clickables(surface: Surface) -> Iterator[tuple[str, _Hit]]:
        elements = list(interactive_elements(surface.blocks))
        # With a menu on every row, a bare item label names no row: `menu ROW ITEM` does.
        menus = sum(1 for _, element in elements if element.get("type") == "overflow")
        for block, element in elements:
            kind = element.get("type")
            if kind == "button":
                yield plain(element.get("text")), _Hit(surface, block, element)
            elif (kind == "overflow" and menus == 1) or kind in _SINGLE_PICK:
                for option in element_options(element):
                    yield plain(option.get("text")), _Hit(surface, block, element, option)

    @staticmethod
    def _options_of(
        kinds: set[str] | None, field: str | None
    ) -> Callable[[Surface], Iterator[tuple[str, _Hit]]]:
        def candidates(surface: Surface) -> Iterator[tuple[str, _Hit]]:
            for block, element in interactive_elements(surface.blocks):
                if kinds is not None and element.get("type") not in kinds:
                    continue
                if field is not None and not _names_field(block, element, field):
                    continue
                for option in element_options(element):
                    yield plain(option.get("text")), _Hit(surface, block, element, option)

        return candidates

    def _find_field(
        self,
        surfaces: Sequence[Surface],
        field: str,
        kinds: set[str] | None,
        *,
        inputs_only: bool = False,
    ) -> _Hit:
        def candidates(surface: Surface) -> Iterator[tuple[str, _Hit]]:
            for block, element in interactive_elements(surface.blocks):
                if inputs_only and block.get("type") != "input":
                    continue
                if kinds is None or element.get("type") in kinds:
                    name = _input_label(block) or plain(element.get("placeholder"))
                    yield name or str(element.get("action_id")), _Hit(surface, block, element)

        return self._find(surfaces, field, candidates)

    @staticmethod
    def _option(element: Json, label: str) -> Json:
        """The option shown as ``label``; else the one option whose value is ``label`` or
        whose text starts with it as a word (`CA` picks `CA · California`), as a person
        typing into Slack's select would find it."""
        options = element_options(element)
        wanted = _norm(label)
        for option in options:
            if _norm(plain(option.get("text"))) == wanted:
                return option
        close = [
            o
            for o in options
            if _norm(str(o.get("value") or "")) == wanted
            or _norm(plain(o.get("text"))).startswith(wanted + " ")
        ]
        if len(close) == 1:
            return close[0]
        shown = [plain(o.get("text")) for o in options]
        raise DriverError(f"no option {label!r}; options: {shown}")

    def _entry_for(self, element: Json, value: str | Sequence[str]) -> Json:
        """The state.values entry for typing/picking ``value`` in ``element``."""
        kind = str(element.get("type"))
        key = state_key(kind)
        values = [value] if isinstance(value, str) else list(value)
        if key is None or kind == "external_select":
            raise DriverError(f"cannot fill a {kind} element")
        picked: Any
        if kind in _SINGLE_PICK:
            picked = self._option(element, values[0])
        elif kind in _MULTI_PICK:
            picked = [self._option(element, v) for v in values]
        elif kind == "users_select":
            picked = self._person_ref(values[0])
        elif kind == "multi_users_select":
            picked = [self._person_ref(v) for v in values]
        elif kind in ("conversations_select", "channels_select"):
            picked = self._channel(values[0]).id
        else:
            picked = values[0]
        return {"type": kind, key: picked}

    def _person_ref(self, ref: str) -> str:
        users = self.slack.state.users
        if ref in users:
            return ref
        name = ref.removeprefix("@")
        for user in users.values():
            if name in (user.name, user.real_name):
                return user.id
        raise DriverError(f"unknown user {ref!r}")


def _names_field(block: Json, element: Json, field: str) -> bool:
    names = (_input_label(block), plain(element.get("placeholder")), element.get("action_id"))
    return any(_norm(str(n)) == _norm(field) for n in names if n)


def menu_rows(blocks: Sequence[Json]) -> Iterator[tuple[str, Json, Json]]:
    """Sections with an overflow menu, in order: (their text, the block, the menu)."""
    for block in blocks:
        accessory = block.get("accessory")
        if block.get("type") != "section" or not isinstance(accessory, dict):
            continue
        if accessory.get("type") == "overflow":
            yield plain(block.get("text")), block, accessory
