"""The Outlook calendar part: a CoP's calendar event and people's invitation addresses.

Revision ID: 0008
Revises: 0007

``graph_cop_series`` keeps the event a CoP's meeting series became (keyed by CoP);
``people_mail`` the address a person gave for calendar invitations (encrypted text).
Plain ``sa`` types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "graph_cop_series",
        sa.Column("cop_id", sa.Integer(), nullable=False),
        sa.Column("organizer", sa.String(length=320), nullable=False),
        sa.Column("series_id", sa.Text(), nullable=False),
        sa.Column("ical_uid", sa.Text(), nullable=True),
        sa.Column("join_url", sa.Text(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["cop_id"], ["cops.id"], name="fk_graph_cop_series_cop_id_cops", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("cop_id", name="pk_graph_cop_series"),
    )
    op.create_table(
        "people_mail",
        sa.Column("workspace_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=255), nullable=False),
        sa.Column("mail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name="fk_people_mail_workspace_id_workspaces",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name="pk_people_mail"),
    )


def downgrade() -> None:
    op.drop_table("people_mail")
    op.drop_table("graph_cop_series")
