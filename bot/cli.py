"""Starting the bot: Slack (HTTP or Socket Mode) or the offline console."""

from __future__ import annotations

import sys

from bot.config import Settings


def run_command(command: str, settings: Settings) -> int:
    print("numbers-bot: the Slack app is not part of this build yet.", file=sys.stderr)
    return 1
