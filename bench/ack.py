"""Acknowledgement latency of `/numbers` and card buttons, next to a bare bolt app that only acks.

    python -m bench.ack [--concurrency 50] [--requests 1000] [--warmup 100] [--profile DIR]

Two apps are served through `bot.server.start_http` on 127.0.0.1, in a child process
(one event loop, as in production): the real app (`bot.app.build_app` on a real
`Runtime` with a temporary SQLite file, every real handler) and a bare `AsyncApp` with
the same signing secret, token and Web API client whose listeners only `await ack()`.
This process plays Slack: it runs the Slack stand-in (`bot.console.fake_slack`, the only
Web API either app can reach) and fires signed requests at each app, `--concurrency` in
flight, timing every HTTP round trip after `--warmup` requests. Between runs it waits
until the real app's listeners have finished what they do after their ack.

Operations: `/numbers help` (answered in the ack), `/numbers buy` by an admin (empty ack,
then `views.open` on the stand-in) and a click on `Cancel` of a billing card that was
already cancelled (empty ack, then an ephemeral "already cancelled" through the
`response_url`). Targets: the real app's p50 and p99 within 1.3x of the bare app's, and
its p99 far below Slack's 3 s (here: under 10% of it). Nothing is asserted on timing.

A second table times the same requests inside the app process (dispatch → the listener's
`ack()` call → the response) with the CPU each app spent per request, post-ack work
included: it tells work before the ack apart from the loop being busy with work after it.
`--profile DIR` writes cProfile stats of the app process for each real run.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import cProfile
import gc
import json
import multiprocessing
import re
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app import build_app, kit_for, web_client
from bot.blocks.ids import ActionId
from bot.bootstrap import start
from bot.config import Settings
from bot.console.driver import SlackDriver, sign
from bot.console.fake_slack import FakeSlack, Json, Message, plain
from bot.server import HttpServer, start_http

from ._common import (
    ADMIN,
    CHANNEL,
    Latency,
    bench_settings,
    environment,
    ms,
    percentile,
    ratio,
    table,
    verdict,
)

SECRET = "bench-ack-signing-secret"
TOKEN = "xoxb-bench-ack"
APPROVER = "UAPPROVER"
COMMAND = "/numbers"
FORM = "application/x-www-form-urlencoded"
VERIFICATION_TOKEN = "verification_token"
SLACK_ACK_LIMIT_MS = 3000.0
FAR_BELOW_MS = SLACK_ACK_LIMIT_MS / 10
WITHIN = 1.3
APPS = ("bare", "real")
LOCAL = "http://127.0.0.1:"


# --------------------------------------------------------------------------------------
# The apps' side: a child process serving both apps.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HostConfig:
    api_url: str
    db_path: str


def bare_app(settings: Settings) -> AsyncApp:
    """What every bolt app pays (signature check, auth, routing, ack) and nothing else:
    the real app's signing secret, token and Web API client, listeners that only ack."""
    app = AsyncApp(client=web_client(settings), signing_secret=settings.slack_signing_secret)

    async def only_ack(ack: AsyncAck) -> None:
        await ack()

    app.command(COMMAND)(only_ack)
    app.action(re.compile(".*"))(only_ack)
    return app


class _TimedAck(AsyncAck):
    """bolt's ack, noting when the listener called it."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.called_ns = 0

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        self.called_ns = self.called_ns or time.perf_counter_ns()
        return await super().__call__(*args, **kwargs)


def instrument(app: AsyncApp, samples: list[tuple[int, int]]) -> None:
    """Record (dispatch → ack() called, dispatch → response) in ns for every request.

    `bot.server`'s handler calls `app.async_dispatch` once the body is read; wrapping it on
    the instance times the app (middleware, listener, bolt's wait for the ack) and nothing
    of the client or the network.
    """
    dispatch = app.async_dispatch

    async def timed(req: AsyncBoltRequest) -> BoltResponse:
        began = time.perf_counter_ns()
        ack = _TimedAck()
        req.context["ack"] = ack
        response = await dispatch(req)
        done = time.perf_counter_ns()
        samples.append(((ack.called_ns or done) - began, done - began))
        return response

    app.async_dispatch = timed  # type: ignore[method-assign]


def quiet_gc() -> None:
    """Collect, then exempt what survives (startup, the stand-in's growing state) from
    later collections, so a full collection over it does not land in one run's p99."""
    gc.collect()
    gc.freeze()


def _host(conn: Connection, config: HostConfig) -> None:
    """Child process entry point."""
    asyncio.run(_serve_apps(conn, config))


async def _serve_apps(conn: Connection, config: HostConfig) -> None:
    settings = bench_settings(
        Path(config.db_path),
        slack_bot_token=TOKEN,
        slack_signing_secret=SECRET,
        slack_app_token=None,  # HTTP mode: signatures are checked
        slack_api_url=config.api_url,
        admins=[ADMIN],
        approvers=[APPROVER],
    )
    # Both apps' Web API clients (and so bolt's auth.test) talk to the stand-in only.
    if settings.slack_api_url != config.api_url or not config.api_url.startswith(LOCAL):
        raise RuntimeError(f"refusing to run against {settings.slack_api_url}")
    runtime = await start(settings)
    real = build_app(runtime)
    bare = bare_app(settings)
    samples: dict[str, list[tuple[int, int]]] = {"real": [], "bare": []}
    instrument(real, samples["real"])
    instrument(bare, samples["bare"])
    servers: dict[str, HttpServer] = {
        "real": await start_http(real, "127.0.0.1"),
        "bare": await start_http(bare, "127.0.0.1"),
    }
    idle = kit_for(real).inflight.idle
    profiler: cProfile.Profile | None = None
    conn.send({name: server.events_url for name, server in servers.items()})
    try:
        while True:
            command, arg = await asyncio.to_thread(conn.recv)
            if command == "reset":
                for kept in samples.values():
                    kept.clear()
                quiet_gc()
                if arg:
                    profiler = cProfile.Profile()
                    profiler.enable()
                conn.send(time.process_time())
            elif command == "drain":
                began = time.perf_counter()
                await idle()
                drained = time.perf_counter() - began
                if profiler is not None and arg:
                    profiler.disable()
                    profiler.dump_stats(arg)
                    profiler = None
                conn.send(Drained(drained, time.process_time(), dict(samples)))
            else:
                break
    finally:
        await asyncio.wait_for(idle(), timeout=30)
        for server in servers.values():
            await server.stop()
        await runtime.close()
        conn.send("stopped")


@dataclass(frozen=True, slots=True)
class Drained:
    seconds: float  # how long the real app still worked after the last ack
    cpu: float  # the app process's CPU time so far, s
    samples: dict[str, list[tuple[int, int]]]  # per app, since the last reset


class AppHost:
    """The parent's handle on the child process."""

    def __init__(self, config: HostConfig) -> None:
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe()
        self._process = context.Process(
            target=_host, args=(child_conn, config), name="bench-ack-apps", daemon=True
        )
        self._process.start()
        child_conn.close()
        self.urls: dict[str, str] = {}

    async def _ask(self, command: str, arg: Any = None) -> Any:
        self._conn.send((command, arg))
        return await self._recv()

    async def _recv(self) -> Any:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self._conn.recv), timeout=120)
        except EOFError:
            raise RuntimeError(f"the app process exited (code {self._process.exitcode})") from None

    async def started(self) -> None:
        self.urls = await self._recv()

    async def reset(self, *, profile: bool = False) -> float:
        """Forget the samples so far (and start profiling); returns the app CPU time."""
        return float(await self._ask("reset", profile))

    async def drain(self, profile_to: Path | None = None) -> Drained:
        """Wait until the real app has done what it does after its acks."""
        drained: Drained = await self._ask("drain", str(profile_to) if profile_to else None)
        return drained

    async def stop(self) -> None:
        if self._process.is_alive():
            try:
                await self._ask("stop")
            finally:
                await asyncio.to_thread(self._process.join, 30)
        self._conn.close()


# --------------------------------------------------------------------------------------
# Slack's side: the stand-in and the requests it sends.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Operation:
    name: str
    # A fresh request body: each call issues its own trigger id and response_url.
    body: Callable[[], bytes]


def slash_body(slack: FakeSlack, user: str, text: str) -> bytes:
    ws = slack.workspace
    person = slack.state.users[user]
    channel = slack.state.channels[CHANNEL]
    form = {
        "token": VERIFICATION_TOKEN,
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel.id,
        "channel_name": channel.name,
        "user_id": person.id,
        "user_name": person.name,
        "command": COMMAND,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": slack.issue_response_url(channel.id, person.id),
        "trigger_id": slack.issue_trigger_id(person.id),
    }
    return urlencode(form).encode()


def click_body(slack: FakeSlack, user: str, card: Message, button: Json, block_id: str) -> bytes:
    """A block_actions payload for a button on a card, as Slack sends it."""
    ws = slack.workspace
    person = slack.state.users[user]
    channel = slack.state.channels[card.channel]
    now = f"{time.time():.6f}"
    payload: Json = {
        "type": "block_actions",
        "user": {"id": person.id, "username": person.name, "name": person.name},
        "api_app_id": ws.app_id,
        "token": VERIFICATION_TOKEN,
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "trigger_id": slack.issue_trigger_id(person.id),
        "container": {
            "type": "message",
            "message_ts": card.ts,
            "channel_id": channel.id,
            "is_ephemeral": False,
        },
        "channel": {"id": channel.id, "name": channel.name},
        "message": card.to_api(),
        "state": {"values": card.state},
        "response_url": slack.issue_response_url(channel.id, person.id, source=card),
        "actions": [
            {
                "type": "button",
                "action_id": button["action_id"],
                "block_id": block_id,
                "text": button.get("text"),
                "value": button.get("value"),
                "action_ts": now,
            }
        ],
    }
    return urlencode({"payload": json.dumps(payload)}).encode()


async def decided_card(
    slack: FakeSlack, events_url: str, settle: Callable[[], Awaitable[object]]
) -> tuple[Message, Json, str]:
    """Quote one number with the real app, like a person would, then cancel the card.

    Returns the card as it was before the cancel, with its `Cancel` button and block id:
    every later click on it is a stale one (ack, then an ephemeral answer).
    """
    async with SlackDriver(slack, events_url, SECRET) as driver:
        opens = len(slack.state.calls_to("views.open"))
        await driver.slash(ADMIN, CHANNEL, text="buy")
        state = await slack.wait_for(lambda s: len(s.calls_to("views.open")) > opens)
        await driver.fill(ADMIN, "Area code", "415")
        view = state.top_view(ADMIN)
        assert view is not None
        drawn = view.hash  # the view is updated in place
        await driver.click(ADMIN, "Search")
        await slack.wait_for(lambda s: (top := s.top_view(ADMIN)) is not None and top.hash != drawn)
        searched = slack.state.top_view(ADMIN)
        assert searched is not None
        first = next(
            plain(option["text"])
            for block in searched.blocks
            if block.get("type") == "input" and block["element"].get("type") == "checkboxes"
            for option in block["element"]["options"]
        )
        await driver.check(ADMIN, [first])
        submitted = await driver.submit(ADMIN)
        if submitted.outcome != "closed":
            raise RuntimeError(f"the quote failed: {submitted.errors or submitted.problem}")
        state = await slack.wait_for(lambda s: _card_button(s.messages_in(CHANNEL)) is not None)
        found = _card_button(state.messages_in(CHANNEL))
        assert found is not None
        card, button, block_id = found
        before = copy.deepcopy(card)
        await settle()  # the submission's listener is done with the request
        await driver.click(ADMIN, "Cancel", channel=CHANNEL)
        await slack.wait_for(lambda s: _card_button(s.messages_in(CHANNEL)) is None)
    return before, button, block_id


def _card_button(messages: Sequence[Message]) -> tuple[Message, Json, str] | None:
    for message in messages:
        for block in message.blocks:
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == ActionId.CARD_CANCEL:
                    return message, element, str(block["block_id"])
    return None


# --------------------------------------------------------------------------------------
# Load and measurement.
# --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Run:
    """One operation against one app."""

    operation: str
    app: str
    samples: list[int] = field(default_factory=list)  # ns, measured requests only
    statuses: dict[int, int] = field(default_factory=dict)  # every request, warm-up included
    elapsed: float = 0.0  # s, measured phase
    drain: float = 0.0  # s the real app still worked after the last ack
    app_cpu: float = 0.0  # s of the apps' process, measured phase and drain
    client_cpu: float = 0.0  # s of this process (client and stand-in), same span
    # Inside the app process, per request: (dispatch → ack() called, dispatch → response), ns.
    inside: list[tuple[int, int]] = field(default_factory=list)

    @property
    def latency(self) -> Latency:
        return Latency(tuple(self.samples))

    @property
    def throughput(self) -> float:
        return len(self.samples) / self.elapsed if self.elapsed else 0.0

    @property
    def all_ok(self) -> bool:
        return set(self.statuses) == {200}


async def fire(
    session: aiohttp.ClientSession,
    url: str,
    body: Callable[[], bytes],
    count: int,
    concurrency: int,
    run: Run,
    *,
    record: bool,
) -> None:
    """`count` signed POSTs, at most `concurrency` in flight; times each round trip."""
    gate = asyncio.BoundedSemaphore(concurrency)
    timeout = aiohttp.ClientTimeout(total=30)

    async def one() -> None:
        async with gate:
            data = body()
            ts = str(int(time.time()))
            headers = {
                "Content-Type": FORM,
                "X-Slack-Request-Timestamp": ts,
                "X-Slack-Signature": sign(SECRET, ts, data),
            }
            began = time.perf_counter_ns()
            async with session.post(url, data=data, headers=headers, timeout=timeout) as response:
                await response.read()
                took = time.perf_counter_ns() - began
                status = response.status
        run.statuses[status] = run.statuses.get(status, 0) + 1
        if record:
            run.samples.append(took)

    began = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for _ in range(count):
            group.create_task(one())
    if record:
        run.elapsed = time.perf_counter() - began


@dataclass(frozen=True, slots=True)
class Options:
    requests: int = 1000
    concurrency: int = 50
    warmup: int = 100
    profile: Path | None = None


@dataclass(slots=True)
class Report:
    options: Options
    runs: list[Run]
    background: dict[str, str]

    def run(self, operation: str, app: str) -> Run:
        return next(r for r in self.runs if r.operation == operation and r.app == app)

    @property
    def all_ok(self) -> bool:
        return all(r.all_ok for r in self.runs)


async def run(options: Options) -> Report:
    """Both apps, every operation; the apps run in a child process."""
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp:
        async with FakeSlack(bot_token=TOKEN) as slack:
            slack.add_user(ADMIN, "alice")
            slack.add_user(APPROVER, "bob")
            slack.add_channel(CHANNEL, "numbers")
            host = AppHost(HostConfig(slack.api_url, str(Path(tmp) / "bench-ack.db")))
            try:
                await host.started()
                card, button, block_id = await decided_card(slack, host.urls["real"], host.drain)
                await host.drain()
                operations = [
                    Operation("/numbers help", lambda: slash_body(slack, ADMIN, "help")),
                    Operation("/numbers buy", lambda: slash_body(slack, ADMIN, "buy")),
                    Operation(
                        "Cancel (decided card)",
                        lambda: click_body(slack, ADMIN, card, button, block_id),
                    ),
                ]
                calls_before = len(slack.state.calls)
                for operation in operations:
                    for app in APPS:
                        runs.append(await measure(host, app, operation, options))
                background = summarize_calls(slack, calls_before)
            finally:
                await host.stop()
    return Report(options, runs, background)


async def measure(host: AppHost, app: str, operation: Operation, options: Options) -> Run:
    result = Run(operation.name, app)
    url = host.urls[app]
    profile_to: Path | None = None
    if options.profile is not None and app == "real":
        options.profile.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^a-z]+", "-", operation.name.lower()).strip("-")
        profile_to = options.profile.resolve() / f"real-{slug}.pstats"
    connector = aiohttp.TCPConnector(limit=options.concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        n, c = options.requests, options.concurrency
        await fire(session, url, operation.body, options.warmup, c, result, record=False)
        await host.drain()
        app_cpu = await host.reset(profile=profile_to is not None)
        quiet_gc()
        own_cpu = time.process_time()
        await fire(session, url, operation.body, n, c, result, record=True)
        drained = await host.drain(profile_to)
    result.drain = drained.seconds
    result.app_cpu = drained.cpu - app_cpu
    result.client_cpu = time.process_time() - own_cpu
    result.inside = drained.samples[app]
    return result


def summarize_calls(slack: FakeSlack, since: int) -> dict[str, str]:
    """What the apps asked of the stand-in during the measured runs, ok/failed per method."""
    tally: dict[str, list[int]] = {}
    errors: dict[str, set[str]] = {}
    for call in slack.state.calls[since:]:
        ok_failed = tally.setdefault(call.method, [0, 0])
        ok_failed[0 if call.ok else 1] += 1
        if call.error and not call.ok:
            errors.setdefault(call.method, set()).add(call.error)
    out: dict[str, str] = {}
    for method, (ok, failed) in sorted(tally.items()):
        shown = f"{ok} ok, {failed} failed"
        if method in errors:
            shown += f" ({', '.join(sorted(errors[method]))})"
        out[method] = shown
    return out


# --------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------


def _pct_ms(values: Sequence[int], q: float) -> str:
    return ms(percentile(values, q) / 1e6) if values else "-"


def render(report: Report) -> str:
    o = report.options
    headers = ["operation", "app", "p50 ms", "p99 ms", "max ms", "req/s", "non-200"]
    inside_headers = [
        "operation",
        "app",
        "to ack() p50",
        "p99",
        "to response p50",
        "p99",
        "app CPU ms/req",
        "drain s",
        "client+stand-in CPU ms/req",
    ]
    rows: list[list[str]] = []
    inside: list[list[str]] = []
    verdicts: list[str] = []
    for name in dict.fromkeys(r.operation for r in report.runs):
        bare, real = report.run(name, "bare"), report.run(name, "real")
        for r in (bare, real):
            first = name if r is bare else ""
            bad = sum(n for status, n in r.statuses.items() if status != 200)
            lat = r.latency
            rows.append(
                [
                    first,
                    r.app,
                    ms(lat.p50_ms),
                    ms(lat.p99_ms),
                    ms(lat.max_ms),
                    f"{r.throughput:.0f}",
                ]
            )
            rows[-1].append(str(bad))
            to_ack = [a for a, _ in r.inside]
            to_response = [t for _, t in r.inside]
            n = max(len(r.samples), 1)
            inside.append([first, r.app, _pct_ms(to_ack, 50), _pct_ms(to_ack, 99)])
            inside[-1] += [_pct_ms(to_response, 50), _pct_ms(to_response, 99)]
            inside[-1] += [f"{r.app_cpu / n * 1e3:.3f}", f"{r.drain:.3f}"]
            inside[-1].append(f"{r.client_cpu / n * 1e3:.3f}")
        p50 = ratio(real.latency.p50_ms, bare.latency.p50_ms)
        p99 = ratio(real.latency.p99_ms, bare.latency.p99_ms)
        rows.append(["", "real/bare", f"{p50:.2f}x", f"{p99:.2f}x", "", "", ""])
        verdicts.append(
            f"{name}: p50 {p50:.2f}x {verdict(p50 <= WITHIN)}, p99 {p99:.2f}x "
            f"{verdict(p99 <= WITHIN)} (target <= {WITHIN}x bare); real p99 "
            f"{ms(real.latency.p99_ms)} ms {verdict(real.latency.p99_ms < FAR_BELOW_MS)} "
            f"(target < {FAR_BELOW_MS:.0f} ms; Slack gives up at {SLACK_ACK_LIMIT_MS:.0f})"
        )
    lines = [
        f"bench.ack: {environment()}",
        f"{o.requests} requests per row after {o.warmup} warm-up, {o.concurrency} in flight",
        "",
        "HTTP round trip of POST /slack/events, as Slack would see it:",
        table(headers, rows, right={2, 3, 4, 5, 6}),
        "",
        *verdicts,
        "",
        "Inside the app process, from dispatch (body read) to the listener's ack() call and to",
        "the response (bolt polls for the ack every 10 ms); CPU includes the post-ack work:",
        table(inside_headers, inside, right=set(range(2, 9))),
        "",
        "Web API calls the real app made after its acks (measured runs, warm-ups included):",
        *(f"  {method}: {shown}" for method, shown in report.background.items()),
    ]
    if o.profile is not None:
        lines.append(f"cProfile of the app process during the real runs: {o.profile}/*.pstats")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ack", description=__doc__)
    parser.add_argument("--requests", type=int, default=1000, help="measured, per app and op")
    parser.add_argument("--concurrency", type=int, default=50, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured, per app and op")
    parser.add_argument(
        "--profile", type=Path, default=None, help="write cProfile stats of the real runs here"
    )
    args = parser.parse_args(argv)
    options = Options(args.requests, args.concurrency, args.warmup, args.profile)
    report = asyncio.run(run(options))
    print(render(report))
    if not report.all_ok:
        print("some requests were not answered 200", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    # Run the importable module, so the child process and the pickles name `bench.ack`.
    from bench.ack import main as _main

    raise SystemExit(_main())
