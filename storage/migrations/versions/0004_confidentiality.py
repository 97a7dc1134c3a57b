"""Confidentiality: record approval, held contributions, the audit log, session summaries.

Revision ID: 0004
Revises: 0003

Plain ``sa`` types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("sessions", sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "contributions",
        sa.Column("held", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=True),
        sa.Column("detail", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_audit_log_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_workspace_id", "audit_log", ["workspace_id"])
    op.create_table(
        "session_summaries",
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("method_id", sa.String(length=64), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("participants", sa.Integer(), nullable=False),
        sa.Column("contributions", sa.Integer(), nullable=False),
        sa.Column("steps_reached", sa.Integer(), nullable=False),
        sa.Column("approved", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("purged_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name="fk_session_summaries_group_id_groups",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_summaries"),
    )
    op.create_index("ix_session_summaries_group_id", "session_summaries", ["group_id"])
    op.create_index("ix_session_summaries_closed_at", "session_summaries", ["closed_at"])


def downgrade() -> None:
    op.drop_index("ix_session_summaries_closed_at", table_name="session_summaries")
    op.drop_index("ix_session_summaries_group_id", table_name="session_summaries")
    op.drop_table("session_summaries")
    op.drop_index("ix_audit_log_workspace_id", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
    with op.batch_alter_table("contributions") as batch:
        batch.drop_column("held")
    with op.batch_alter_table("sessions") as batch:
        batch.drop_column("approved_at")
