"""Accounts and which one a channel works on."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.domain.errors import Conflict, InvalidInput, NotAllowed, NotFound
from bot.domain.names import name_skeleton
from bot.domain.records import AccountInfo, AuditEvent
from bot.service.context import Actor, Deps
from bot.service.ports import ConstraintViolation, UnitOfWork

_NAME = re.compile(r"^[\w][\w .&'-]{0,63}$")


KAZOO_ACCOUNTS = (
    "With Kazoo, the accounts are Kazoo's sub-accounts: create it in Kazoo, and it"
    " appears here after the next sync."
)


def check_account_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not _NAME.match(cleaned):
        raise InvalidInput(
            "account", "An account name is 1 to 64 letters, digits, spaces or . & ' - _."
        )
    return cleaned


def name_to_find(name: str) -> str:
    """A name to look an account up by: any characters, as the account has them.

    The creation rule (`check_account_name`) is the bot's own; Kazoo's accounts
    keep Kazoo's names ("Acme (East), Inc.", "Ünited"), which must be found.
    """
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > 128:
        raise InvalidInput("account", "Say the account's name, as the account list shows it.")
    return cleaned


class AccountService:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps

    async def _default(self, uow: UnitOfWork, workspace_id: str) -> AccountInfo:
        now = self.deps.clock()
        default_id = await uow.accounts.ensure_workspace(workspace_id, now)
        if default_id:
            account = await uow.accounts.get(default_id)
            if account:
                return account
        name = self.deps.settings.default_account_name
        account = await uow.accounts.by_name(workspace_id, name)
        if account is None:
            account = await uow.accounts.create(self.deps.ids(), workspace_id, name, now)
        await uow.accounts.set_default(workspace_id, account.id)
        return account

    async def resolve_in(
        self, uow: UnitOfWork, workspace_id: str, channel_id: str | None
    ) -> AccountInfo:
        """The channel's bound account, else the workspace default (created on first use)."""
        if channel_id:
            bound = await uow.accounts.binding(workspace_id, channel_id)
            if bound:
                account = await uow.accounts.get(bound)
                if account:
                    return account
        return await self._default(uow, workspace_id)

    async def _lookup(
        self, uow: UnitOfWork, workspace_id: str, channel_id: str | None
    ) -> AccountInfo | None:
        if channel_id:
            bound = await uow.accounts.binding(workspace_id, channel_id)
            if bound:
                return await uow.accounts.get(bound)
        return await uow.accounts.default_of(workspace_id)

    async def _chosen(self, uow: UnitOfWork, actor: Actor) -> AccountInfo | None:
        """The account the actor chose (`Actor.account_id`), if of their workspace."""
        if actor.account_id is None:
            return None
        account = await uow.accounts.get(actor.account_id)
        if account is None or account.workspace_id != actor.workspace_id:
            raise NotFound("That account does not exist.")
        return account

    @asynccontextmanager
    async def reading(
        self, actor: Actor, channel_id: str | None = None
    ) -> AsyncIterator[tuple[UnitOfWork, AccountInfo]]:
        """A read unit of work and the channel's account, found in that same read."""
        channel = channel_id or actor.channel_id
        async with self.deps.uow(write=False) as uow:
            found = await self._chosen(uow, actor) or await self._lookup(
                uow, actor.workspace_id, channel
            )
            if found is not None:
                yield uow, found
                return
        account = await self.for_channel(actor, channel)  # first use: creates the default
        async with self.deps.uow(write=False) as uow:
            yield uow, account

    async def for_channel(self, actor: Actor, channel_id: str | None = None) -> AccountInfo:
        """The channel's account; a read, unless the workspace has none yet."""
        channel = channel_id or actor.channel_id
        async with self.deps.uow(write=False) as uow:
            found = await self._chosen(uow, actor) or await self._lookup(
                uow, actor.workspace_id, channel
            )
        if found is not None:
            return found
        async with self.deps.uow() as uow:
            account = await self.resolve_in(uow, actor.workspace_id, channel)
            await uow.commit()
            return account

    async def get(self, account_id: str) -> AccountInfo:
        """An account by id (system side: for naming it on cards)."""
        async with self.deps.uow(write=False) as uow:
            account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFound("That account does not exist.")
        return account

    async def list_accounts(self, actor: Actor) -> list[AccountInfo]:
        async with self.deps.uow() as uow:
            await self._default(uow, actor.workspace_id)
            accounts = await uow.accounts.all(actor.workspace_id)
            await uow.commit()
        if self.deps.carrier.inventory is not None:
            # The carrier's accounts are the synced ones: an account the sync never linked
            # (a leftover default) has nothing at the carrier to bind a channel to or move
            # into.
            return [a for a in accounts if a.external_id]
        return accounts

    async def by_name(self, uow: UnitOfWork, actor: Actor, name: str) -> AccountInfo:
        wanted = name_to_find(name)
        account = await uow.accounts.by_name(actor.workspace_id, wanted)
        if account is None:
            # The database compares case only in ASCII; Kazoo's names are any text.
            account = next(
                (
                    a
                    for a in await uow.accounts.all(actor.workspace_id)
                    if " ".join(a.name.split()).casefold() == wanted.casefold()
                ),
                None,
            )
        synced = self.deps.carrier.inventory is not None
        if account is not None and synced and not account.external_id:
            account = None  # not the carrier's account: nothing there to bind to or move into
        if account is None:
            # The names that do exist, so the person can pick one without another command.
            offered = [
                a for a in await uow.accounts.all(actor.workspace_id) if a.external_id or not synced
            ]
            names = ", ".join(a.name for a in offered)
            raise NotFound(f"There is no account named “{name}”. The accounts are: {names}.")
        return account

    async def create(self, actor: Actor, name: str) -> AccountInfo:
        actor.require_admin("create accounts")
        if self.deps.carrier.inventory is not None:
            raise NotAllowed(KAZOO_ACCOUNTS)
        cleaned = check_account_name(name)
        async with self.deps.uow() as uow:
            await self._default(uow, actor.workspace_id)
            await self._check_new_name(uow, actor.workspace_id, cleaned)
            now = self.deps.clock()
            try:
                async with uow.savepoint():
                    account = await uow.accounts.create(
                        self.deps.ids(), actor.workspace_id, cleaned, now
                    )
            except ConstraintViolation:
                # Created by someone else a moment ago: the unique key decides.
                raise Conflict(f"An account named “{cleaned}” already exists.") from None
            await uow.audit.add(
                AuditEvent(
                    "account.created",
                    actor.user_id,
                    actor.workspace_id,
                    after={"account_id": account.id, "name": cleaned},
                ),
                now,
            )
            await uow.commit()
            return account

    async def _check_new_name(self, uow: UnitOfWork, workspace_id: str, name: str) -> None:
        """Refuse a name that is, or looks like, an existing account's (`bot.domain.names`)."""
        same = await uow.accounts.by_name(workspace_id, name)
        if same is not None:
            raise Conflict(f"An account named “{same.name}” already exists.")
        skeleton = name_skeleton(name)
        for other in await uow.accounts.all(workspace_id):
            if name_skeleton(other.name) == skeleton:
                raise Conflict(
                    f"“{name}” looks like the existing account “{other.name}” (letters of "
                    "another alphabet, or digits, that look the same), so people would take "
                    "one for the other. Choose a name that looks different."
                )

    async def use(self, actor: Actor, channel_id: str, name: str) -> AccountInfo:
        """Bind a channel to an account: its commands then act on that account."""
        actor.require_admin("choose a channel's account")
        async with self.deps.uow() as uow:
            await self._default(uow, actor.workspace_id)
            account = await self.by_name(uow, actor, name)
            before = await uow.accounts.binding(actor.workspace_id, channel_id)
            now = self.deps.clock()
            await uow.accounts.bind(actor.workspace_id, channel_id, account.id, actor.user_id, now)
            await uow.audit.add(
                AuditEvent(
                    "channel.bound",
                    actor.user_id,
                    actor.workspace_id,
                    before={"channel": channel_id, "account_id": before},
                    after={"channel": channel_id, "account_id": account.id},
                ),
                now,
            )
            await uow.commit()
            return account


class UsesAccounts:
    """A service that works on the account of the actor's channel."""

    def __init__(self, deps: Deps, accounts: AccountService) -> None:
        self.deps = deps
        self.accounts = accounts
