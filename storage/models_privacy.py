"""Storage: the tables of confidentiality (audit log, session summaries), as SQLAlchemy models.

Registered on the shared ``storage.models.metadata`` (``storage.models`` imports this module
at its end); migration ``0004_confidentiality`` creates them.

- ``audit_log``: who did what administrative action, when, on which session or group. It
  never holds what people wrote: ``detail`` is a small mapping of settings names, counts
  and ids.
- ``session_summaries``: what is left of a session once the retention period purged it:
  its method, mode, dates and counts, for the Community of Practice digest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, false, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base


class AuditRow(Base):
    """One administrative action (close, pause, approve, settings, forget, purge, rotation)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "at"), Index(None, "workspace_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    workspace_id: Mapped[int | None] = mapped_column(
        ForeignKey("workspaces.id", ondelete="CASCADE")
    )
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))


class SessionSummaryRow(Base):
    """The counts of a purged session; its texts, people and record are gone."""

    __tablename__ = "session_summaries"
    __table_args__ = (Index(None, "group_id"), Index(None, "closed_at"))

    session_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    method_id: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    started_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    participants: Mapped[int] = mapped_column(Integer)
    contributions: Mapped[int] = mapped_column(Integer)
    steps_reached: Mapped[int] = mapped_column(Integer)
    approved: Mapped[bool] = mapped_column(Boolean, server_default=false())
    purged_at: Mapped[datetime]
