"""Room for a carrier's person ids in assignments and purchase targets

A person known only to the carrier is stored by the carrier's own id, which
need not be a Slack id's length (a UUID is 36 characters). PostgreSQL enforces
a VARCHAR's length where SQLite does not, so a longer id failed only there.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assignments") as batch:
        batch.alter_column("user_id", type_=sa.String(64), existing_type=sa.String(32))
    with op.batch_alter_table("purchase_requests") as batch:
        batch.alter_column("target", type_=sa.String(80), existing_type=sa.String(48))


def downgrade() -> None:
    with op.batch_alter_table("purchase_requests") as batch:
        batch.alter_column("target", type_=sa.String(48), existing_type=sa.String(80))
    with op.batch_alter_table("assignments") as batch:
        batch.alter_column("user_id", type_=sa.String(32), existing_type=sa.String(64))
