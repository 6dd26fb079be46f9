"""Slack listeners: parse the payload, call one service function, render, send."""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.handlers import (
    approvals,
    assign,
    buy,
    commands,
    e911,
    home,
    manage,
    number_list,
    number_menu,
)
from bot.handlers.kit import InFlight


def register_all(app: AsyncApp, inflight: InFlight) -> None:
    for module in (commands, buy, approvals, manage, home, number_list, number_menu, e911, assign):
        module.register(app, inflight.track)
