"""Time and the Community of Practice: reminders sent, people away, CoPs, their meetings and agendas.

Also the scheduler's own queue of due work (``due_jobs``). APScheduler's job table
(``apscheduler_jobs``) is created by its job store, not here (see ``storage.db.include_name``).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "due_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.String(length=255), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_due_jobs"),
        sa.UniqueConstraint("key", name="uq_due_jobs_key"),
    )
    op.create_index("ix_due_jobs_due_at", "due_jobs", ["due_at"])
    op.create_index("ix_due_jobs_subject", "due_jobs", ["subject"])
    op.create_table(
        "sent_reminders",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_sent_reminders"),
    )
    op.create_table(
        "people_away",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_people_away_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name="pk_people_away"),
    )
    op.create_table(
        "cops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("rrule", sa.String(length=500), nullable=False),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("place", sa.String(length=500), server_default="", nullable=False),
        sa.Column("link", sa.String(length=1000), server_default="", nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("sequence", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"], ["groups.id"], name="fk_cops_group_id_groups", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cops"),
        sa.UniqueConstraint("group_id", "name", name="uq_cops_group_id_name"),
    )
    op.create_table(
        "cop_people",
        sa.Column("cop_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("coordinator", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cop_id"], ["cops.id"], name="fk_cop_people_cop_id_cops", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("cop_id", "user_id", name="pk_cop_people"),
    )
    op.create_table(
        "cop_agenda_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cop_id", sa.Integer(), nullable=False),
        sa.Column("author", sa.String(length=255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cop_id"], ["cops.id"], name="fk_cop_agenda_items_cop_id_cops", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_cop_agenda_items"),
    )
    op.create_index("ix_cop_agenda_items_cop_id", "cop_agenda_items", ["cop_id"])


def downgrade() -> None:
    op.drop_index("ix_cop_agenda_items_cop_id", table_name="cop_agenda_items")
    op.drop_table("cop_agenda_items")
    op.drop_table("cop_people")
    op.drop_table("cops")
    op.drop_table("people_away")
    op.drop_table("sent_reminders")
    op.drop_index("ix_due_jobs_subject", table_name="due_jobs")
    op.drop_index("ix_due_jobs_due_at", table_name="due_jobs")
    op.drop_table("due_jobs")
