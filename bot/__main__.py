"""The `numbers-bot` command: run | serve | console | migrate."""

from __future__ import annotations

import argparse
import asyncio
import sys

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="numbers-bot", description=__doc__)
    parser.add_argument(
        "command",
        nargs="?",
        default="run",
        choices=["run", "serve", "console", "migrate"],
        help="run: Slack when credentials are set, else the offline console",
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
