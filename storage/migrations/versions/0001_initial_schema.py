"""Initial schema: workspaces, groups, sessions and their parts, inbound event ids, the outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Plain ``sa`` types only: this file must keep creating the same schema whatever the
models become. Encrypted columns are ``sa.Text`` here (the ciphertext).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each dialect's spelling of what is still to be sent, as its queries render it.
PENDING_POSTGRESQL = "sent_at IS NULL AND NOT dead"
PENDING_SQLITE = "sent_at IS NULL AND dead = 0"


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"], ["sessions.id"], name=f"fk_{table}_session_id_sessions", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_workspaces"),
        sa.UniqueConstraint("platform", "external_id", name="uq_workspaces_platform_external_id"),
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("language", sa.String(length=8), server_default="en", nullable=False),
        sa.Column(
            "timezone", sa.String(length=64), server_default="Europe/Amsterdam", nullable=False
        ),
        sa.Column("settings", sa.JSON(), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_groups_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("workspace_id", "channel", name="uq_groups_workspace_id_channel"),
    )
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("method_id", sa.String(length=64), nullable=False),
        sa.Column("case_owner", sa.String(length=255), nullable=False),
        sa.Column("facilitator", sa.String(length=255), nullable=False),
        sa.Column("participants", sa.JSON(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("named_record", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("open_membership", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("deadline_hours", sa.Integer(), nullable=True),
        sa.Column("anchor_ref", sa.String(length=255), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_sessions_group_id_groups", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
    )
    op.create_index("ix_sessions_status", "sessions", ["status"])
    op.create_index("ix_sessions_group_id", "sessions", ["group_id"])
    op.create_index("ix_sessions_anchor_ref", "sessions", ["anchor_ref"])

    op.create_table(
        "step_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ready", sa.JSON(), nullable=False),
        _session_fk("step_runs"),
        sa.PrimaryKeyConstraint("id", name="pk_step_runs"),
        sa.UniqueConstraint("session_id", "position", name="uq_step_runs_session_id_position"),
    )
    op.create_table(
        "contributions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("counted", sa.Boolean(), server_default=sa.true(), nullable=False),
        _session_fk("contributions"),
        sa.PrimaryKeyConstraint("id", name="pk_contributions"),
        sa.UniqueConstraint("session_id", "ref", name="uq_contributions_session_id_ref"),
    )
    op.create_index("ix_contributions_ref", "contributions", ["ref"])

    op.create_table(
        "reactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("emoji", sa.String(length=100), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        _session_fk("reactions"),
        sa.PrimaryKeyConstraint("id", name="pk_reactions"),
        sa.UniqueConstraint(
            "session_id",
            "target",
            "emoji",
            "user_id",
            name="uq_reactions_session_id_target_emoji_user_id",
        ),
    )
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("option", sa.String(length=64), nullable=False),
        _session_fk("votes"),
        sa.PrimaryKeyConstraint("id", name="pk_votes"),
        sa.UniqueConstraint(
            "session_id", "step_id", "user_id", name="uq_votes_session_id_step_id_user_id"
        ),
    )
    op.create_table(
        "session_posts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("ref", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.CheckConstraint("kind IN ('anchor', 'step', 'note')", name="ck_session_posts_kind"),
        _session_fk("session_posts"),
        sa.PrimaryKeyConstraint("id", name="pk_session_posts"),
        sa.UniqueConstraint("session_id", "ref", name="uq_session_posts_session_id_ref"),
    )
    op.create_index("ix_session_posts_ref", "session_posts", ["ref"])

    op.create_table(
        "processed_events",
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("platform", "event_id", name="pk_processed_events"),
    )
    op.create_index("ix_processed_events_processed_at", "processed_events", ["processed_at"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("platform", sa.String(length=32), nullable=False),
        sa.Column("workspace", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=255), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=True),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("platform_ref", sa.String(length=255), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("dead", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_outbox_session_id_sessions",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_session_id", "outbox", ["session_id"])
    # Partial indexes: only what is still to be sent is ever searched.
    op.create_index(
        "ix_outbox_pending_channel",
        "outbox",
        ["platform", "workspace", "channel", "id"],
        postgresql_where=sa.text(PENDING_POSTGRESQL),
        sqlite_where=sa.text(PENDING_SQLITE),
    )
    op.create_index(
        "ix_outbox_pending_due",
        "outbox",
        ["next_attempt_at"],
        postgresql_where=sa.text(PENDING_POSTGRESQL),
        sqlite_where=sa.text(PENDING_SQLITE),
    )


def downgrade() -> None:
    for table in (
        "outbox",
        "processed_events",
        "session_posts",
        "votes",
        "reactions",
        "contributions",
        "step_runs",
        "sessions",
        "groups",
        "workspaces",
    ):
        op.drop_table(table)
