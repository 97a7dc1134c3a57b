"""Outbox delivery: a short claim lease of its own and the progress through multi-part posts.

Revision ID: 0006
Revises: 0005

``claimed_until`` separates a worker's lease from ``next_attempt_at`` (the retry time), so
claims can be released at start without forgetting a Retry-After. ``parts_sent`` and
``part_refs`` let a restart resume a message posted in several parts at the next part.
Plain ``sa`` types only (see 0001).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "outbox", sa.Column("parts_sent", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column(
        "outbox", sa.Column("part_refs", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("part_refs")
        batch.drop_column("parts_sent")
        batch.drop_column("claimed_until")
