"""Teams: service URLs per channel, and per person their name, locale and 1:1 chat.

Revision ID: 0007
Revises: 0006

What the Teams adapter remembers from inbound activities to send later (proactive 1:1
messages, replies from the delivery worker). Plain ``sa`` types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "teams_channels",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("channel_id", sa.String(255), primary_key=True),
        sa.Column("service_url", sa.String(500), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "teams_people",
        sa.Column("tenant_id", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.String(255), primary_key=True),
        sa.Column("service_url", sa.String(500), nullable=False),
        sa.Column("aad_object_id", sa.String(64), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("locale", sa.String(35), nullable=True),
        sa.Column("personal_chat", sa.String(255), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("teams_people")
    op.drop_table("teams_channels")
