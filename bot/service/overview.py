"""Read-mostly views over the workspace: accounts and their use, a number's history,
the App Home summary and who looks at it, the release preview."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from bot.domain.errors import NotAllowed, NotFound
from bot.domain.phone import parse_number
from bot.domain.records import (
    AccountInfo,
    AuditEntry,
    NumberRecord,
    PurchaseRequestRecord,
    Viewer,
)
from bot.domain.states import OPEN_REQUEST_STATES, NumberState, RequestState
from bot.service.accounts import AccountService
from bot.service.changes import keep_emergency_main, owned_number
from bot.service.context import Actor, Deps
from bot.service.numbers import NumberService, Summary, monthly_total
from bot.service.ports import UnitOfWork

HISTORY_PAGE = 10
# The App Home shows a few requests; the rest are one command away.
HOME_REQUESTS = 5
# Homes opened within this long are republished when what they show changes.
HOME_FRESH = timedelta(days=30)
HOME_REPUBLISH_LIMIT = 50


@dataclass(frozen=True, slots=True)
class AccountLine:
    """An account in `/numbers accounts`: its numbers, its channels, whether default."""

    account: AccountInfo
    numbers: int
    channels: tuple[str, ...]
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class HistoryPage:
    number: str
    entries: tuple[AuditEntry, ...]
    page: int
    has_more: bool


@dataclass(frozen=True, slots=True)
class HomeData:
    """What the App Home shows its viewer."""

    viewer: Actor
    summary: Summary
    accounts: tuple[AccountInfo, ...]
    waiting_for_you: tuple[PurchaseRequestRecord, ...]
    your_open: tuple[PurchaseRequestRecord, ...]


@dataclass(frozen=True, slots=True)
class ReleasePreview:
    number: NumberRecord
    account: AccountInfo
    aging_days: int
    seen: int = 0  # the number's latest audit event: the prompt acts only if none came since


class OverviewService:
    def __init__(self, deps: Deps, accounts: AccountService, numbers: NumberService) -> None:
        self.deps = deps
        self.accounts = accounts
        self.numbers = numbers

    # --- accounts -------------------------------------------------------------------

    async def account_lines(self, actor: Actor) -> list[AccountLine]:
        """Every account of the workspace, its numbers and the channels bound to it."""
        listed = await self.accounts.list_accounts(actor)  # creates the default on first use
        async with self.deps.uow(write=False) as uow:
            default = await uow.accounts.default_of(actor.workspace_id)
            use = await uow.overview.account_use(actor.workspace_id)
        lines = []
        for account in listed:
            found = use.get(account.id)
            lines.append(
                AccountLine(
                    account,
                    found.numbers if found else 0,
                    found.channels if found else (),
                    default is not None and default.id == account.id,
                )
            )
        return lines

    # --- history --------------------------------------------------------------------

    async def history(self, actor: Actor, number: str, page: int = 0) -> HistoryPage:
        """A number's audit trail in this workspace, newest first; admins only."""
        if not actor.is_admin:
            raise NotAllowed("Only numbers admins can read a number's history.")
        e164 = parse_number(number)
        page = max(0, page)
        async with self.deps.uow(write=False) as uow:
            entries = await uow.overview.number_history(
                actor.workspace_id, e164, offset=page * HISTORY_PAGE, limit=HISTORY_PAGE + 1
            )
        if not entries and page == 0:
            raise NotFound(f"{e164} has no history in this workspace.")
        return HistoryPage(
            e164, tuple(entries[:HISTORY_PAGE]), page, has_more=len(entries) > HISTORY_PAGE
        )

    # --- release --------------------------------------------------------------------

    async def release_preview(
        self, actor: Actor, number: str, *, channel_id: str | None = None
    ) -> ReleasePreview:
        """What releasing would do, refused up front when it would be refused on the click."""
        actor.require_admin("release numbers")
        e164 = parse_number(number)
        async with self.accounts.reading(actor, channel_id) as (uow, account):
            record = await owned_number(uow, account, e164, states=None)
            if record.state is NumberState.IN_SERVICE:
                await keep_emergency_main(uow, account, record, "release")
            seen = await uow.audit.latest_id(account.workspace_id, e164)
        return ReleasePreview(record, account, self.deps.settings.aging_days, seen)

    # --- the App Home ---------------------------------------------------------------

    async def _summary(self, uow: UnitOfWork, account: AccountInfo) -> Summary:
        counts = await uow.numbers.counts(account.id)
        return Summary(
            account=account,
            counts=counts,
            main_emergency_enabled=bool(await uow.numbers.emergency_main_numbers(account.id)),
            open_requests=await uow.overview.open_requests(account.id),
            monthly_total=monthly_total(self.deps, counts),
            currency=self.deps.settings.plan.currency,
        )

    async def home(
        self, actor: Actor, *, account_id: str | None = None, remember: bool = True
    ) -> HomeData:
        """The viewer's App Home: the account they chose (else the workspace default).

        `remember` records that they opened it (and the account they chose), so it is
        republished for them on changes; a republish itself passes False. People of
        another workspace (Slack Connect) are refused: nothing of it is theirs to read.
        """
        actor.require_member("see the App Home")
        # Channel-independent: the DM it is opened from may be bound to another account.
        default = await self.accounts.for_channel(replace(actor, channel_id=None))
        async with self.deps.uow(write=remember) as uow:
            repo = uow.overview
            if account_id is not None:
                chosen = await uow.accounts.get(account_id)
                if chosen is None or chosen.workspace_id != actor.workspace_id:
                    raise NotFound("That account does not exist.")
            else:
                viewer = await repo.viewer(actor.workspace_id, actor.user_id)
                remembered = viewer.account_id if viewer else None
                chosen = (await uow.accounts.get(remembered)) if remembered else None
            account = chosen or default
            if remember:
                now = self.deps.clock()
                await repo.remember_viewer(actor.workspace_id, actor.user_id, account_id, now)
                await uow.commit()
        async with self.deps.uow(write=False) as uow:
            summary = await self._summary(uow, account)
            accounts = await uow.accounts.all(actor.workspace_id)
            waiting: list[PurchaseRequestRecord] = []
            if actor.is_approver:
                pending = await uow.requests.find(
                    actor.workspace_id, states=[RequestState.AWAITING_APPROVAL], limit=20
                )
                waiting = [r for r in pending if self.deps.decider(actor)(r)][:HOME_REQUESTS]
            mine = await uow.requests.find(
                actor.workspace_id,
                requester_id=actor.user_id,
                states=sorted(OPEN_REQUEST_STATES),
                limit=HOME_REQUESTS,
            )
        shown = {r.id for r in waiting}
        return HomeData(
            actor,
            summary,
            tuple(accounts),
            tuple(waiting),
            tuple(r for r in mine if r.id not in shown),
        )

    async def home_viewers(self, workspace_id: str) -> list[Viewer]:
        """People who opened the App Home lately (system side: to republish it)."""
        since = self.deps.clock() - HOME_FRESH
        async with self.deps.uow(write=False) as uow:
            return await uow.overview.viewers(workspace_id, since, HOME_REPUBLISH_LIMIT)
