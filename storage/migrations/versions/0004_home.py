"""Who opened the App Home, to republish it when what it shows changes

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_viewers",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["workspace_id"], ["workspaces.id"]),
        sa.PrimaryKeyConstraint("workspace_id", "user_id"),
    )
    with op.batch_alter_table("home_viewers", schema=None) as batch_op:
        batch_op.create_index("ix_home_viewers_opened", ["workspace_id", "opened_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("home_viewers", schema=None) as batch_op:
        batch_op.drop_index("ix_home_viewers_opened")
    op.drop_table("home_viewers")
