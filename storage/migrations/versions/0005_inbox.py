"""The inbox: inbound events stored before the platform is answered.

Revision ID: 0005
Revises: 0004

Plain ``sa`` types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("lane", sa.String(length=600), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("dead", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_inbox"),
        sa.UniqueConstraint("platform", "event_id", name="uq_inbox_platform_event_id"),
    )
    op.create_index(
        "ix_inbox_waiting_lane",
        "inbox",
        ["lane", "id"],
        postgresql_where=sa.text("NOT dead"),
        sqlite_where=sa.text("dead = 0"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbox_waiting_lane", table_name="inbox")
    op.drop_table("inbox")
