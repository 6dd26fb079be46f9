"""Accounts are found by a normalized name key (NFKC, case folded), unique per workspace

SQLite's `lower()` folds ASCII only: "Örebro" could not be found by its own name, and
"Équipe" and "éQUIPE" could both be created. Existing rows are backfilled; of two
names that now share a key, the later account's key is suffixed with its id, so the
upgrade never fails (the earlier one keeps the name; an admin can tell them apart by
`/numbers accounts`).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 09:30:00
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _key(name: str) -> str:
    # `bot.domain.names.name_key` as of this revision (a migration keeps its own copy).
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def upgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_key", sa.String(length=256), nullable=True))
    accounts = sa.table(
        "accounts",
        sa.column("id", sa.String),
        sa.column("workspace_id", sa.String),
        sa.column("name", sa.String),
        sa.column("name_key", sa.String),
        sa.column("created_at", sa.DateTime),
    )
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(accounts.c.id, accounts.c.workspace_id, accounts.c.name).order_by(
            accounts.c.created_at, accounts.c.id
        )
    ).all()
    taken: set[tuple[str, str]] = set()
    for account_id, workspace_id, name in rows:
        key = _key(name)
        if (workspace_id, key) in taken:
            key = f"{key} #{account_id}"
        taken.add((workspace_id, key))
        bind.execute(sa.update(accounts).where(accounts.c.id == account_id).values(name_key=key))
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.alter_column("name_key", existing_type=sa.String(length=256), nullable=False)
        batch_op.create_index("uq_account_name_key", ["workspace_id", "name_key"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index("uq_account_name_key")
        batch_op.drop_column("name_key")
