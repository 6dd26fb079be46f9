"""The App Home: a summary of one account (the workspace default unless the viewer chose
another), its open requests, and the common flows. It summarises and never lists numbers,
so it stays far under Slack's 100 blocks whatever the account's size."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.blocks.echo import echo
from bot.blocks.ids import ManageId
from bot.blocks.payloads import HomeRef
from bot.blocks.requests import MayDecide, request_blocks
from bot.blocks.text import MAX_SELECT_OPTIONS
from bot.domain.assignment import LABELS, AssignmentKind
from bot.domain.billing import format_money
from bot.service.overview import HomeData

MAX_HOME_BLOCKS = 100
BUY_LABEL = "Buy Numbers"
SPARES_LABEL = "Add from Spare Numbers"
LIST_LABEL = "List numbers"
NO_E911_WARNING = (
    ":warning: *No main number is emergency enabled.* Emergency calls from this account "
    "carry no address. Set one with `/numbers e911 NUMBER` on a main number."
)


def _md(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text))


def _field(name: str, value: str) -> MarkdownTextObject:
    return MarkdownTextObject(text=f"*{name}:* {value}")


def _option(account_id: str, name: str) -> Option:
    return Option(value=account_id, label=name if len(name) <= 75 else name[:74] + "…")


def _account_block(data: HomeData) -> SectionBlock:
    account = data.summary.account
    section = _md(f"*Account:* {echo(account.name, 64)}")
    if len(data.accounts) > 1:
        options = [_option(a.id, a.name) for a in data.accounts[:MAX_SELECT_OPTIONS]]
        current = next((o for o in options if o.value == account.id), None)
        section.accessory = StaticSelectElement(
            action_id=ManageId.HOME_ACCOUNT,
            placeholder="Switch account",
            options=options,
            initial_option=current,
        )
    return section


def _without_e911(count: int) -> str:
    # Assigned numbers ring and call out: each one here places 911 calls nobody can locate.
    return f"{count} ⚠️ (`/numbers list no-e911`)" if count else "0"


def _counts_block(data: HomeData) -> SectionBlock:
    s, counts = data.summary, data.summary.counts
    assigned = counts.assigned
    coverage = f"{counts.emergency_enabled} of {counts.total_in_service}"
    if counts.emergency_enabled:
        coverage += " :ambulance:"
    fields = [
        _field(LABELS[AssignmentKind.MAIN], str(assigned.get(AssignmentKind.MAIN, 0))),
        _field(LABELS[AssignmentKind.CONFERENCE], str(assigned.get(AssignmentKind.CONFERENCE, 0))),
        _field(LABELS[AssignmentKind.FAXBOX], str(assigned.get(AssignmentKind.FAXBOX, 0))),
        _field("Users", str(assigned.get(AssignmentKind.USER, 0))),
        _field("Spare", str(counts.spare)),
        _field("Aging", str(counts.total_aging)),
        _field("Emergency enabled", coverage),
        _field("Assigned, no e911", _without_e911(counts.assigned_without_e911)),
        _field("Monthly total", format_money(s.monthly_total, s.currency)),
        _field("Open requests", str(s.open_requests)),
    ]
    return SectionBlock(fields=fields)


def _buttons(data: HomeData) -> ActionsBlock:
    """Each acts on the account the Home shows (carried in its value)."""
    shown = HomeRef(account_id=data.summary.account.id).dump()
    buttons = []
    if data.viewer.is_admin:
        buttons += [
            ButtonElement(
                text=BUY_LABEL, action_id=ManageId.HOME_BUY, style="primary", value=shown
            ),
            ButtonElement(text=SPARES_LABEL, action_id=ManageId.HOME_SPARES, value=shown),
        ]
    buttons.append(ButtonElement(text=LIST_LABEL, action_id=ManageId.HOME_LIST, value=shown))
    return ActionsBlock(elements=buttons)


def home_view(data: HomeData, may_decide: MayDecide) -> View:
    blocks: list[Block] = [
        HeaderBlock(text="Phone numbers"),
        _account_block(data),
        _counts_block(data),
    ]
    if not data.summary.main_emergency_enabled:
        blocks.append(_md(NO_E911_WARNING))
    blocks.append(_buttons(data))
    viewer = data.viewer.user_id
    names = {a.id: a.name for a in data.accounts}
    if data.waiting_for_you:
        blocks += [DividerBlock(), _md("*Waiting for your approval*")]
        for request in data.waiting_for_you:
            blocks += request_blocks(request, viewer_id=viewer, may_decide=may_decide, which=None)
    if data.your_open:
        blocks += [DividerBlock(), _md("*Your open requests*")]
        for request in data.your_open:
            blocks += request_blocks(
                request,
                viewer_id=viewer,
                may_decide=lambda _: False,
                which=None,
                account_name=names.get(request.account_id),
            )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Channels bound to an account (`/numbers account use NAME`) work on "
                    "it; `/numbers requests` shows every request."
                )
            ]
        )
    )
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])
