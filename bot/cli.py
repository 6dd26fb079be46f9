"""Starting the bot: Slack (HTTP or Socket Mode) or the offline console."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import sys

from bot.config import Settings, SettingsError
from bot.startup import credentials_problem


def _serve(settings: Settings) -> int:
    if not settings.has_slack_credentials:
        print(
            "numbers-bot: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for "
            "Socket Mode, or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and NUMBERS_BOT_STATE_SECRET "
            "for workspace installs) are needed to connect to Slack; `numbers-bot console` "
            "runs offline.",
            file=sys.stderr,
        )
        return 2
    from bot.logs import configure_logging
    from bot.server import serve

    configure_logging(settings)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings))
    except SettingsError as exc:  # a token refused, the port taken, tokens no key opens
        print(f"numbers-bot: {exc}", file=sys.stderr)
        return 2
    return 0


def _console(settings: Settings) -> int:
    try:
        repl = importlib.import_module("bot.console.repl")
    except ModuleNotFoundError as exc:
        if exc.name != "bot.console.repl":
            raise
        print("numbers-bot: the offline console is not available in this build.", file=sys.stderr)
        return 1
    result = repl.main(settings)
    return int(result or 0)


def run_command(command: str, settings: Settings) -> int:
    if command in ("serve", "run") and (problem := credentials_problem(settings)):
        # Half the Slack settings is a mistake, not a wish for the offline console.
        print(f"numbers-bot: {problem}", file=sys.stderr)
        return 2
    if command == "serve":
        return _serve(settings)
    if command == "console":
        return _console(settings)
    if command == "run":
        return _serve(settings) if settings.has_slack_credentials else _console(settings)
    print(f"numbers-bot: unknown command {command!r}", file=sys.stderr)
    return 2
