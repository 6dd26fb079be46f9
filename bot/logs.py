"""Logging: plain text, or one JSON object a line (`NUMBERS_BOT_LOG_FORMAT=json`).

Every line carries the Slack request it was written for (`request_id`, made
by the middleware in bot/app.py) and the workspace, from context variables,
so they follow a request into the listener's task and the service calls it
makes. Whatever the format, the configured secrets (Slack tokens and signing
secret, API keys, the database password) and anything shaped like a Slack
token are masked in the finished line, tracebacks included.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Iterable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import IO, Any

from bot.config import MASK, SECRET_FIELDS, Settings

REQUEST_ID: ContextVar[str | None] = ContextVar("numbers_bot_request_id", default=None)
WORKSPACE: ContextVar[str | None] = ContextVar("numbers_bot_workspace", default=None)

# Settings that may be added with workspace installs; masked when present.
_MORE_SECRETS = ("slack_client_secret", "state_secret", "token_key")
_SLACK_TOKEN = re.compile(r"\bx(?:ox[abposre]|app)-[A-Za-z0-9-]{6,}")
_HANDLER_NAME = "numbers-bot"


def new_request_id() -> str:
    return uuid.uuid4().hex[:12]


def bind(request_id: str, workspace: str | None) -> tuple[Token[str | None], Token[str | None]]:
    """Name the request (and its workspace) in every line logged from this context on."""
    return REQUEST_ID.set(request_id), WORKSPACE.set(workspace)


def unbind(tokens: tuple[Token[str | None], Token[str | None]]) -> None:
    REQUEST_ID.reset(tokens[0])
    WORKSPACE.reset(tokens[1])


def secrets_of(settings: Settings) -> list[str]:
    """Every secret value the settings hold, longest first (so none is half-masked)."""
    found: list[str] = []
    for name in (*SECRET_FIELDS, *_MORE_SECRETS):
        value = getattr(settings, name, None)
        if isinstance(value, str) and value:
            found.append(value)
    password = _url_password(settings.database_url)
    if password:
        found.append(password)
    return sorted(set(found), key=len, reverse=True)


def _url_password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except (ArgumentError, ValueError):
        return None


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        self.secrets = [s for s in secrets if s]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return _SLACK_TOKEN.sub(MASK, text)


class _Context(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = REQUEST_ID.get()
        record.workspace = WORKSPACE.get()
        return True


class TextFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__("%(levelname)s %(name)s: %(message)s")
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        if request_id:
            line += f" [request {request_id}]"
        return self.redact(line)


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
            "request_id": getattr(record, "request_id", None),
            "workspace": getattr(record, "workspace", None),
        }
        if record.exc_info:
            entry["error"] = self.redact(self.formatException(record.exc_info))
        elif record.exc_text:
            entry["error"] = self.redact(record.exc_text)
        # Masked again after encoding: a secret must not survive as an escaped string.
        return self.redact(json.dumps(entry, ensure_ascii=False, default=str))


def configure_logging(
    settings: Settings, *, stream: IO[str] | None = None, level: int = logging.INFO
) -> logging.Handler:
    """Send the root logger's records to `stream` (stderr) in the configured format.

    Calling it again replaces the handler it installed before.
    """
    redact = Redactor(secrets_of(settings))
    handler = logging.StreamHandler(stream)
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(_Context())
    json_lines = getattr(settings, "log_format", "text") == "json"
    handler.setFormatter(JsonFormatter(redact) if json_lines else TextFormatter(redact))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return handler
