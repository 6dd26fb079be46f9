"""The `numbers-bot` command: run | serve | console | migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys
import textwrap

from bot.config import Settings, SettingsError, load_settings


async def _migrate(settings: Settings) -> None:
    from storage.db import create_engine
    from storage.migrate import shown_url, upgrade

    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()
    print(f"Database is up to date ({shown_url(settings.database_url)}).")


# What `--help` says of each command.
COMMANDS = {
    "run": "Slack when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set (Socket Mode with "
    "SLACK_APP_TOKEN, else HTTP), otherwise the offline console (the default)",
    "serve": "connect to Slack only; stops when the Slack settings are missing",
    "console": "the offline console: the real app, with a stand-in for Slack",
    "migrate": "bring the database schema up to date, then exit",
}


def main(argv: list[str] | None = None) -> int:
    epilog = "commands:\n" + "\n".join(
        textwrap.fill(text, 79, initial_indent=f"  {name:<9} ", subsequent_indent=" " * 12)
        for name, text in COMMANDS.items()
    )
    parser = argparse.ArgumentParser(
        prog="numbers-bot",
        description=__doc__,
        epilog=epilog + "\n\nSettings come from the environment or numbers-bot.yml "
        "(see README.md).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=list(COMMANDS),
        metavar="COMMAND",
        help="one of " + ", ".join(COMMANDS) + " (run when left out); each is explained below",
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"numbers-bot: {exc}", file=sys.stderr)
        return 2
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
        return 0
    from bot.cli import run_command

    return run_command(args.command, settings)


if __name__ == "__main__":
    sys.exit(main())
