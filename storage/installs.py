"""Workspace installs (OAuth) in the bot's own database: slack_sdk's async installation
and state stores on our SQLAlchemy engine, so every replica sees every install.

Tokens (bot, user, refresh) are encrypted at rest with Fernet under NUMBERS_BOT_TOKEN_KEY;
several keys may be given (MultiFernet): the first encrypts, any decrypts, and
`rotate_keys` re-encrypts what an older key sealed.

The state `/slack/install` hands out is `nonce.signature`: the signature (HMAC-SHA256
under NUMBERS_BOT_STATE_SECRET) refuses a forged state without reading the database; the
nonce is stored with its expiry and deleted by the one redirect that consumes it, so a
state works once, on one replica, before it expires.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore
from sqlalchemy import CursorResult, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import models as m

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
STATE_TTL = timedelta(minutes=10)


class UndecryptableTokens(Exception):
    """Installed tokens that none of the keys given decrypts (the key was replaced)."""


class TokenCipher:
    """Fernet over the keys given, the newest (the one that encrypts) first."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("at least one key")
        self._newest = Fernet(keys[0])
        self._all = MultiFernet([Fernet(key) for key in keys])

    def seal(self, token: str | None) -> str | None:
        return None if token is None else self._all.encrypt(token.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        """The token; raises `InvalidToken` when no key decrypts it."""
        return None if sealed is None else self._all.decrypt(sealed.encode()).decode()

    def is_current(self, sealed: str | None) -> bool:
        if sealed is None:
            return True
        try:
            self._newest.decrypt(sealed.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, sealed: str | None) -> str | None:
        return None if sealed is None else self._all.rotate(sealed.encode()).decode()


_SEALED = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


def _key(value: str | None) -> str:
    return value or ""


def _as_timestamp(value: Any) -> int | None:
    return None if value is None else int(value)


class SqlInstallationStore(AsyncInstallationStore):
    """One row per workspace (client, enterprise, team): the bot and its installer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        cipher: TokenCipher,
        client_id: str,
        clock: Clock,
    ) -> None:
        self._sessions = sessions
        self._cipher = cipher
        self._client_id = client_id
        self._clock = clock

    @property
    def logger(self) -> logging.Logger:
        return log

    # --- writing --------------------------------------------------------------------

    async def async_save(self, installation: Installation) -> None:
        """Insert or replace the workspace's install (a re-install brings new tokens)."""
        row: dict[str, Any] = {
            "client_id": self._client_id,
            "app_id": installation.app_id,
            "enterprise_id": _key(installation.enterprise_id),
            "enterprise_name": installation.enterprise_name,
            "enterprise_url": installation.enterprise_url,
            "team_id": _key(installation.team_id),
            "team_name": installation.team_name,
            "is_enterprise_install": bool(installation.is_enterprise_install),
            "bot_token": self._cipher.seal(installation.bot_token),
            "bot_id": installation.bot_id,
            "bot_user_id": installation.bot_user_id,
            "bot_scopes": ",".join(installation.bot_scopes or []),
            "bot_refresh_token": self._cipher.seal(installation.bot_refresh_token),
            "bot_token_expires_at": _as_timestamp(installation.bot_token_expires_at),
            "user_id": installation.user_id or "",
            "user_token": self._cipher.seal(installation.user_token),
            "user_scopes": ",".join(installation.user_scopes or []),
            "user_refresh_token": self._cipher.seal(installation.user_refresh_token),
            "user_token_expires_at": _as_timestamp(installation.user_token_expires_at),
            "token_type": installation.token_type,
            "installed_at": self._clock(),
        }
        await self._upsert(row)

    async def async_save_bot(self, bot: Bot) -> None:
        """A refreshed bot token (token rotation): the bot's columns of the row."""
        row: dict[str, Any] = {
            "client_id": self._client_id,
            "app_id": bot.app_id,
            "enterprise_id": _key(bot.enterprise_id),
            "enterprise_name": bot.enterprise_name,
            "team_id": _key(bot.team_id),
            "team_name": bot.team_name,
            "is_enterprise_install": bool(bot.is_enterprise_install),
            "bot_token": self._cipher.seal(bot.bot_token),
            "bot_id": bot.bot_id,
            "bot_user_id": bot.bot_user_id,
            "bot_scopes": ",".join(bot.bot_scopes or []),
            "bot_refresh_token": self._cipher.seal(bot.bot_refresh_token),
            "bot_token_expires_at": _as_timestamp(bot.bot_token_expires_at),
        }
        await self._upsert(row, insert_defaults={"user_id": "", "user_scopes": ""})

    async def _upsert(
        self, row: dict[str, Any], insert_defaults: dict[str, Any] | None = None
    ) -> None:
        try:
            await self._write(row, insert_defaults)
        except IntegrityError:
            # Two installs of one workspace at once both inserted: the unique key kept
            # one, so this one is an update now.
            await self._write(row, insert_defaults)

    async def _write(self, row: dict[str, Any], insert_defaults: dict[str, Any] | None) -> None:
        async with self._sessions.begin() as session:
            found = await self._row(session, row["enterprise_id"], row["team_id"])
            if found is None:
                session.add(
                    m.SlackInstallation(
                        **{"installed_at": self._clock(), **(insert_defaults or {}), **row}
                    )
                )
                return
            for name, value in row.items():
                setattr(found, name, value)

    # --- reading --------------------------------------------------------------------

    async def _row(
        self, session: AsyncSession, enterprise_id: str | None, team_id: str | None
    ) -> m.SlackInstallation | None:
        return (
            await session.execute(
                select(m.SlackInstallation).where(
                    m.SlackInstallation.client_id == self._client_id,
                    m.SlackInstallation.enterprise_id == _key(enterprise_id),
                    m.SlackInstallation.team_id == _key(team_id),
                )
            )
        ).scalar_one_or_none()

    async def _find(
        self, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None
    ) -> m.SlackInstallation | None:
        if is_enterprise_install:
            team_id = None  # an organization-wide install is keyed by the enterprise alone
        async with self._sessions() as session:
            if enterprise_id is None and team_id:
                # By the team alone (team ids are unique across Slack): the bot's own
                # messages name the workspace only, even one of an Enterprise Grid.
                return (
                    (
                        await session.execute(
                            select(m.SlackInstallation).where(
                                m.SlackInstallation.client_id == self._client_id,
                                m.SlackInstallation.team_id == team_id,
                            )
                        )
                    )
                    .scalars()
                    .first()
                )
            return await self._row(session, enterprise_id, team_id)

    def _opened(self, row: m.SlackInstallation) -> dict[str, str | None] | None:
        try:
            return {name: self._cipher.open(getattr(row, name)) for name in _SEALED}
        except InvalidToken:
            # The key was replaced without keeping the old one after it: the workspace
            # is as good as not installed until it installs again.
            log.error("tokens of workspace %s: no NUMBERS_BOT_TOKEN_KEY opens them", row.team_id)
            return None

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        row = await self._find(enterprise_id, team_id, is_enterprise_install)
        if row is None or row.bot_token is None:
            return None
        tokens = self._opened(row)
        if tokens is None or tokens["bot_token"] is None:
            return None
        return Bot(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id or None,
            enterprise_name=row.enterprise_name,
            team_id=row.team_id or None,
            team_name=row.team_name,
            bot_token=tokens["bot_token"],
            bot_id=row.bot_id or "",
            bot_user_id=row.bot_user_id or "",
            bot_scopes=row.bot_scopes,
            bot_refresh_token=tokens["bot_refresh_token"],
            bot_token_expires_at=row.bot_token_expires_at,
            is_enterprise_install=row.is_enterprise_install,
            installed_at=row.installed_at.timestamp(),
        )

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        row = await self._find(enterprise_id, team_id, is_enterprise_install)
        if row is None or (user_id is not None and row.user_id != user_id):
            return None
        tokens = self._opened(row)
        if tokens is None:
            return None
        return Installation(
            app_id=row.app_id,
            enterprise_id=row.enterprise_id or None,
            enterprise_name=row.enterprise_name,
            enterprise_url=row.enterprise_url,
            team_id=row.team_id or None,
            team_name=row.team_name,
            bot_token=tokens["bot_token"],
            bot_id=row.bot_id,
            bot_user_id=row.bot_user_id,
            bot_scopes=row.bot_scopes,
            bot_refresh_token=tokens["bot_refresh_token"],
            bot_token_expires_at=row.bot_token_expires_at,
            user_id=row.user_id,
            user_token=tokens["user_token"],
            user_scopes=row.user_scopes,
            user_refresh_token=tokens["user_refresh_token"],
            user_token_expires_at=row.user_token_expires_at,
            is_enterprise_install=row.is_enterprise_install,
            token_type=row.token_type,
            installed_at=row.installed_at.timestamp(),
        )

    # --- deleting (app_uninstalled, tokens_revoked) -----------------------------------

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """The bot token revoked: without it the workspace is not served, so the whole
        row goes (the installer's token is of no use to the bot alone)."""
        await self.async_delete_all(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """A person's token revoked: forget it; the bot keeps serving the workspace."""
        async with self._sessions.begin() as session:
            row = await self._row(session, enterprise_id, team_id)
            if row is not None and (user_id is None or row.user_id == user_id):
                row.user_token = row.user_refresh_token = None
                row.user_token_expires_at = None

    async def async_delete_all(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                delete(m.SlackInstallation).where(
                    m.SlackInstallation.client_id == self._client_id,
                    m.SlackInstallation.enterprise_id == _key(enterprise_id),
                    m.SlackInstallation.team_id == _key(team_id),
                )
            )

    # --- keys -----------------------------------------------------------------------

    async def rotate_keys(self) -> int:
        """Re-encrypt under the newest key every token an older key sealed; how many rows.

        Raises `UndecryptableTokens` when a row decrypts with none of the keys: start-up
        stops rather than serve workspaces whose tokens it cannot read.
        """
        changed = 0
        async with self._sessions.begin() as session:
            rows = (await session.execute(select(m.SlackInstallation))).scalars().all()
            for row in rows:
                sealed = [getattr(row, name) for name in _SEALED]
                if all(self._cipher.is_current(value) for value in sealed):
                    continue
                try:
                    for name, value in zip(_SEALED, sealed, strict=True):
                        setattr(row, name, self._cipher.rotate(value))
                except InvalidToken:
                    raise UndecryptableTokens(row.team_id or row.enterprise_id) from None
                changed += 1
        return changed


class SqlOAuthStateStore(AsyncOAuthStateStore):
    """Signed, single-use, expiring OAuth states."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        secret: str,
        clock: Clock,
        ttl: timedelta = STATE_TTL,
    ) -> None:
        self._sessions = sessions
        self._secret = secret.encode()
        self._clock = clock
        self._ttl = ttl

    @property
    def logger(self) -> logging.Logger:
        return log

    def _sign(self, nonce: str) -> str:
        digest = hmac.new(self._secret, nonce.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def _nonce_of(self, state: str) -> str | None:
        """The nonce of a state we signed; None for anything else."""
        nonce, dot, signature = state.partition(".")
        if not dot or not nonce or len(nonce) > 64:
            return None
        return nonce if hmac.compare_digest(signature, self._sign(nonce)) else None

    async def async_issue(self, *args: Any, **kwargs: Any) -> str:
        nonce = secrets.token_urlsafe(24)
        now = self._clock()
        async with self._sessions.begin() as session:
            # States nobody came back with pile up otherwise; this keeps the table small.
            await session.execute(
                delete(m.SlackOAuthState).where(m.SlackOAuthState.expire_at <= now)
            )
            session.add(m.SlackOAuthState(nonce=nonce, expire_at=now + self._ttl))
        return f"{nonce}.{self._sign(nonce)}"

    async def async_consume(self, state: str) -> bool:
        """True once for a state issued here and not expired; False for any other."""
        nonce = self._nonce_of(state or "")
        if nonce is None:
            log.warning("refused an OAuth state that was not issued here")
            return False
        async with self._sessions.begin() as session:
            # The delete is the claim: of two redirects with one state, one deletes the row.
            result = await session.execute(
                delete(m.SlackOAuthState).where(
                    m.SlackOAuthState.nonce == nonce,
                    m.SlackOAuthState.expire_at > self._clock(),
                )
            )
        assert isinstance(result, CursorResult)
        if result.rowcount != 1:
            log.warning("refused an OAuth state already used or expired")
            return False
        return True
