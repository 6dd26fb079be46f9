"""The words of workspace installs (OAuth): the pages a person installing sees, and what
a workspace without an install is told."""

from __future__ import annotations

from html import escape

NOT_INSTALLED = (
    "numbers-bot is not installed in this workspace any more. Ask a workspace admin to add"
    " it again."
)

_START_AGAIN = 'Start again: <a href="{install}">Add numbers-bot to Slack</a>.'

# Why an install failed, by bolt's reason (or Slack's `error`), in the installer's words.
_FAILURES = {
    "invalid_state": "This install link has expired or was already used. " + _START_AGAIN,
    "invalid_browser": (
        "This install was started in another browser, or the browser did not keep its cookie."
        " Start again in this browser: "
        '<a href="{install}">Add numbers-bot to Slack</a>.'
    ),
    "access_denied": "The install was cancelled in Slack: nothing was installed.",
    "missing_code": "Slack did not confirm the install. " + _START_AGAIN,
    "invalid_code": "Slack did not confirm the install (its code was refused). " + _START_AGAIN,
    "storage_error": (
        "The install could not be saved. Try again in a minute; if it keeps failing, tell"
        " whoever runs numbers-bot."
    ),
}
_OTHER = "Slack refused the install ({reason}). " + _START_AGAIN


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title></head>"
        f"<body><h1>{escape(title)}</h1><p>{body}</p></body></html>\n"
    )


def failure_page(reason: str, install_path: str) -> str:
    """The page for a failed install; `reason` is bolt's or Slack's code (echoed escaped)."""
    template = _FAILURES.get(reason, _OTHER)
    body = template.format(install=escape(install_path), reason=escape(reason[:100]))
    return _page("numbers-bot was not installed", body)


def success_page(team_name: str | None) -> str:
    where = f"in {escape(team_name[:100])}" if team_name else "in your workspace"
    return _page(
        "numbers-bot is installed",
        f"numbers-bot is installed {where}. Open Slack and type <code>/numbers help</code>.",
    )
