"""Who accepted a purchase request (four eyes: the accepter may not approve it)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("accepted_by", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.drop_column("accepted_by")
