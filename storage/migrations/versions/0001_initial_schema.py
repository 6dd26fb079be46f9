"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 10:41:54.185554
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.models import UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=True),
        sa.Column("request_id", sa.String(length=36), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index("ix_audit_number", ["number", "id"], unique=False)
        batch_op.create_index("ix_audit_request", ["request_id", "id"], unique=False)

    op.create_table(
        "processed_deliveries",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "workspaces",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("default_account_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workspace_id", "name", name="uq_account_name"),
    )
    op.create_table(
        "channel_bindings",
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("bound_by", sa.String(length=32), nullable=False),
        sa.Column("bound_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("workspace_id", "channel_id"),
    )
    op.create_table(
        "numbers",
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("npa", sa.String(length=3), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("hold_request_id", sa.String(length=36), nullable=True),
        sa.Column("hold_expires_at", UtcDateTime(), nullable=True),
        sa.Column("aging_until", UtcDateTime(), nullable=True),
        sa.Column("purchased_at", UtcDateTime(), nullable=True),
        sa.Column("activate_at", UtcDateTime(), nullable=True),
        sa.Column("activated_at", UtcDateTime(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.PrimaryKeyConstraint("e164"),
    )
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_numbers_account_state_e164", ["account_id", "state", "e164"], unique=False
        )
        batch_op.create_index(
            "ix_numbers_account_state_npa", ["account_id", "state", "npa", "e164"], unique=False
        )
        batch_op.create_index("ix_numbers_hold_request", ["hold_request_id"], unique=False)
        batch_op.create_index("ix_numbers_state_hold", ["state", "hold_expires_at"], unique=False)

    op.create_table(
        "purchase_requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("workspace_id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("requester_id", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=48), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=24), nullable=False),
        sa.Column("quote", sa.JSON(), nullable=False),
        sa.Column("monthly_increase", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("hold_expires_at", UtcDateTime(), nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.Column("accepted_at", UtcDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=32), nullable=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("message_ts", sa.String(length=32), nullable=True),
        sa.Column("approval_cards", sa.JSON(), nullable=False),
        sa.Column("activation_notified_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_requests_requester", ["workspace_id", "requester_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_requests_state_hold", ["state", "hold_expires_at"], unique=False)
        batch_op.create_index(
            "ix_requests_workspace_state", ["workspace_id", "state", "created_at"], unique=False
        )

    op.create_table(
        "assignments",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("assigned_by", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
        ),
        sa.ForeignKeyConstraint(["number"], ["numbers.e164"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("number"),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignments_account_kind", ["account_id", "kind", "number"], unique=False
        )
        batch_op.create_index(
            "uq_assignments_one_faxbox",
            ["account_id"],
            unique=True,
            sqlite_where=sa.text("kind = 'faxbox'"),
            postgresql_where=sa.text("kind = 'faxbox'"),
        )

    op.create_table(
        "e911_addresses",
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("street_address", sa.String(length=100), nullable=False),
        sa.Column("extended_address", sa.String(length=100), nullable=True),
        sa.Column("locality", sa.String(length=60), nullable=False),
        sa.Column("region", sa.String(length=2), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("caller_name", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("latitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("longitude", sa.Numeric(precision=9, scale=6), nullable=True),
        sa.Column("plus_four", sa.String(length=4), nullable=True),
        sa.Column("updated_by", sa.String(length=32), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["number"], ["numbers.e164"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("number"),
    )
    with op.batch_alter_table("e911_addresses", schema=None) as batch_op:
        batch_op.create_index("ix_e911_status", ["status"], unique=False)

    op.create_table(
        "purchase_items",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("number", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("spare", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["request_id"], ["purchase_requests.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("request_id", "number"),
    )


def downgrade() -> None:

    op.drop_table("purchase_items")
    with op.batch_alter_table("e911_addresses", schema=None) as batch_op:
        batch_op.drop_index("ix_e911_status")

    op.drop_table("e911_addresses")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_assignments_one_faxbox",
            sqlite_where=sa.text("kind = 'faxbox'"),
            postgresql_where=sa.text("kind = 'faxbox'"),
        )
        batch_op.drop_index("ix_assignments_account_kind")

    op.drop_table("assignments")
    with op.batch_alter_table("purchase_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_requests_workspace_state")
        batch_op.drop_index("ix_requests_state_hold")
        batch_op.drop_index("ix_requests_requester")

    op.drop_table("purchase_requests")
    with op.batch_alter_table("numbers", schema=None) as batch_op:
        batch_op.drop_index("ix_numbers_state_hold")
        batch_op.drop_index("ix_numbers_hold_request")
        batch_op.drop_index("ix_numbers_account_state_npa")
        batch_op.drop_index("ix_numbers_account_state_e164")

    op.drop_table("numbers")
    op.drop_table("channel_bindings")
    op.drop_table("accounts")
    op.drop_table("workspaces")
    op.drop_table("processed_deliveries")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_request")
        batch_op.drop_index("ix_audit_number")

    op.drop_table("audit_events")
