"""Storage: the inbox, where every inbound platform event waits until it has been applied.

Registered on the shared ``storage.models.metadata`` (``storage.models`` imports this module
at its end); migration ``0005_inbox`` creates it.

A row is written (and committed) before the platform is answered, so nothing answered 2xx
is lost by a crash. ``lane`` orders the work: events of one lane (one channel) are applied
in the order they arrived, one at a time. A row is deleted in the transaction that applies
its event; ``processed_events`` keeps the id, so a late copy of the event changes nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models import Base

WAITING_POSTGRESQL = "NOT dead"
WAITING_SQLITE = "dead = 0"


class InboxRow(Base):
    """An inbound event not yet applied; ``payload`` is the neutral event's JSON, encrypted."""

    __tablename__ = "inbox"
    __table_args__ = (
        UniqueConstraint("platform", "event_id"),
        Index(
            "ix_inbox_waiting_lane",
            "lane",
            "id",
            postgresql_where=text(WAITING_POSTGRESQL),
            sqlite_where=text(WAITING_SQLITE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str] = mapped_column(String(600))
    payload: Mapped[str] = mapped_column(EncryptedText())
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Hidden from other claimers until then: a lease while a worker applies it, a back-off
    # after a failure. A worker that died leaves its rows due again when the lease ends.
    not_before: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(1000))
    dead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
