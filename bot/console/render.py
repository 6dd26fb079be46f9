"""Block Kit as plain text for a terminal: pure functions, no I/O.

Conventions (tests assert on them):
    header          ``# Title``
    divider         a line of ``-``
    button          ``[ Label ]``
    select/overflow ``<Name: option1 | option2>``, `` = picked`` when one is picked
    input           ``Label: value`` or ``Label: ____``; its error on the next line, ``  ! msg``
    checkboxes      ``Label: [x] A  [ ] B``; radio buttons ``Label: (o) A  ( ) B``
    context         indented two spaces, parts joined with `` · ``
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from bot.console.fake_slack import (
    Message,
    View,
    element_options,
    initial_key,
    plain,
    state_key,
)

Names = Mapping[str, str]  # user or channel id -> name, to show mentions readably
BLANK = "____"
RULE = "-" * 40

_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def mrkdwn_to_plain(text: str, names: Names | None = None) -> str:
    """Slack's ``<@U1>``, ``<#C1|name>``, ``<url|label>``, ``<!here>`` and escapes, readable."""
    names = names or {}

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + (label or names.get(target[1:], target[1:]))
        if target.startswith("#"):
            return "#" + (label or names.get(target[1:], target[1:]))
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} ({target})" if label else target

    out = _LINK.sub(link, text)
    return out.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text(obj: Any, names: Names | None) -> str:
    return mrkdwn_to_plain(plain(obj), names)


def _option_text(option: Any) -> str:
    return plain(option.get("text")) if isinstance(option, Mapping) else ""


def _current(element: Mapping[str, Any], block_id: str, values: Mapping[str, Any]) -> Any:
    """The element's value in state.values, or its initial value."""
    kind = str(element.get("type"))
    key, initial = state_key(kind), initial_key(kind)
    if key is None or initial is None:
        return None
    entry = values.get(block_id, {}).get(str(element.get("action_id")))
    return entry.get(key) if entry is not None else element.get(initial)


def _show_value(value: Any, names: Names | None) -> str:
    """A picked value as a person reads it."""
    if value in (None, "", []):
        return BLANK
    if isinstance(value, Mapping):
        return _option_text(value)
    if isinstance(value, list):
        return ", ".join(_show_value(v, names) for v in value)
    text = str(value)
    return (names or {}).get(text, text)


def _element(
    element: Mapping[str, Any],
    block_id: str,
    values: Mapping[str, Any],
    names: Names | None,
    label: str = "",
) -> str:
    """One element, inline. ``label`` is the input block's label when inside one."""
    kind = str(element.get("type"))
    current = _current(element, block_id, values)
    if kind == "button":
        return f"[ {plain(element.get('text'))} ]"
    if kind == "checkboxes":
        picked = {_option_text(o) for o in current or []}
        return "  ".join(
            f"[{'x' if _option_text(o) in picked else ' '}] {_option_text(o)}"
            for o in element_options(element)
        )
    if kind == "radio_buttons":
        chosen = _option_text(current) if current else None
        return "  ".join(
            f"({'o' if _option_text(o) == chosen else ' '}) {_option_text(o)}"
            for o in element_options(element)
        )
    options = element_options(element)
    if options or kind.endswith("select") or kind == "overflow":
        name = label or plain(element.get("placeholder")) or ("..." if kind == "overflow" else "")
        listed = " | ".join(_option_text(o) for o in options)
        shown = f"<{name}: {listed}>" if listed else f"<{name or kind}>"
        return shown if current in (None, []) else f"{shown} = {_show_value(current, names)}"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    return _show_value(current, names)


def _input(
    block: Mapping[str, Any],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    names: Names | None,
) -> list[str]:
    element: Mapping[str, Any] = block.get("element", {})
    label = plain(block.get("label")) + (" (optional)" if block.get("optional") else "")
    kind = str(element.get("type"))
    block_id = str(block.get("block_id", ""))
    if kind in ("checkboxes", "radio_buttons"):
        lines = [f"{label}: {_element(element, block_id, values, names)}"]
    elif element_options(element):
        lines = [_element(element, block_id, values, names, label)]  # <Label: a | b>
    else:  # text, number, date, user or channel pickers show their value
        lines = [f"{label}: {_show_value(_current(element, block_id, values), names)}"]
    if block.get("hint"):
        lines.append(f"  ({plain(block.get('hint'))})")
    if block_id in errors:
        lines.append(f"  ! {errors[block_id]}")
    return lines


def _section(block: Mapping[str, Any], values: Mapping[str, Any], names: Names | None) -> list[str]:
    lines = _text(block.get("text"), names).splitlines() if block.get("text") else []
    lines += ["  " + _text(f, names) for f in block.get("fields", [])]
    accessory = block.get("accessory")
    if isinstance(accessory, Mapping):
        shown = _element(accessory, str(block.get("block_id", "")), values, names)
        if len(lines) == 1:
            lines[0] = f"{lines[0]}  {shown}"  # Slack shows it to the right of the text
        else:
            lines.append("  " + shown)
    return lines


def _rich_text(node: Any, names: Names | None) -> str:
    if isinstance(node, Mapping):
        if node.get("type") == "user":
            return "@" + (names or {}).get(str(node.get("user_id")), str(node.get("user_id")))
        if "text" in node and isinstance(node["text"], str):
            return str(node["text"])
        return "".join(_rich_text(child, names) for child in node.get("elements", []))
    return ""


def _block(
    block: Mapping[str, Any],
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    names: Names | None,
) -> list[str]:
    kind = block.get("type")
    block_id = str(block.get("block_id", ""))
    if kind == "header":
        return [f"# {_text(block.get('text'), names)}"]
    if kind == "divider":
        return [RULE]
    if kind == "section":
        return _section(block, values, names)
    if kind == "context":
        parts = [
            f"[image: {e.get('alt_text', '')}]" if e.get("type") == "image" else _text(e, names)
            for e in block.get("elements", [])
        ]
        return ["  " + " · ".join(parts)]
    if kind == "actions":
        return ["  ".join(_element(e, block_id, values, names) for e in block.get("elements", []))]
    if kind == "input":
        return _input(block, values, errors, names)
    if kind == "image":
        return [f"[image: {block.get('alt_text', '')}]"]
    if kind == "rich_text":
        return _rich_text(block, names).splitlines() or [""]
    return [f"[{kind}]"]


def render_blocks(
    blocks: Sequence[Mapping[str, Any]],
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    names: Names | None = None,
) -> str:
    """Blocks as lines of text; ``values`` is state.values, ``errors`` block_id -> message."""
    lines: list[str] = []
    for block in blocks:
        lines += _block(block, values or {}, errors or {}, names)
    return "\n".join(lines)


def render_message(
    message: Mapping[str, Any],
    *,
    values: Mapping[str, Any] | None = None,
    names: Names | None = None,
) -> str:
    """A message (as the API returns it): its blocks, or its text when it has none."""
    blocks = message.get("blocks") or []
    if blocks:
        return render_blocks(blocks, values=values, names=names)
    return mrkdwn_to_plain(str(message.get("text", "")), names)


def render_view(
    view: Mapping[str, Any],
    *,
    errors: Mapping[str, str] | None = None,
    names: Names | None = None,
) -> str:
    """A modal or Home tab (as the API returns it), with its title and buttons."""
    title = plain(view.get("title")) or ("Home" if view.get("type") == "home" else "")
    values = view.get("state", {}).get("values", {})
    lines = [f"=== {title} ==="]
    body = render_blocks(view.get("blocks", []), values=values, errors=errors, names=names)
    if body:
        lines.append(body)
    buttons = [f"[ {plain(view[k])} ]" for k in ("close", "submit") if view.get(k)]
    if view.get("type") == "modal" and not view.get("close"):
        buttons.insert(0, "[ Cancel ]")  # Slack's default close button
    if buttons:
        lines.append("  ".join(buttons))
    return "\n".join(lines)


def render_surface(surface: View | Message, names: Names | None = None) -> str:
    """A stand-in view or message, with what the user has typed and the errors shown."""
    if isinstance(surface, View):
        return render_view(surface.to_api(), errors=surface.errors, names=names)
    return render_message(surface.to_api(), values=surface.state, names=names)
