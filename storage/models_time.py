"""Storage: the tables of time and the Community of Practice, as SQLAlchemy models.

Registered on the shared ``storage.models.metadata`` (``storage.models`` imports this module
at its end); migration ``0003_time_and_cop`` creates them.

- ``due_jobs``: work due at a moment (a step deadline, a reminder, a CoP preparation step, a
  digest). Written by the use cases in the same transaction as the change that caused it,
  run once by the scheduler (``bot.scheduler``), which marks it done in the transaction that
  carries out its effects. ``key`` is unique, so scheduling the same work twice is harmless.
- ``sent_reminders``: one row per direct message of a reminder or preparation step, keyed
  ``reminder:{session}:{step}:{user}:{offset}`` (and ``cop:...``): never sent twice.
- ``people_away``: ``/intervision away until <date>`` per person and workspace.
- ``cops``, ``cop_people``, ``cop_agenda_items``: Communities of Practice.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models import Base


class DueJobRow(Base):
    """A piece of work due at ``due_at``; ``done_at`` is set when it ran (or was cancelled)."""

    __tablename__ = "due_jobs"
    __table_args__ = (
        UniqueConstraint("key"),
        Index(None, "due_at"),
        Index(None, "subject"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    args: Mapped[dict[str, Any]]
    due_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    last_error: Mapped[str | None] = mapped_column(String(255))


class SentReminderRow(Base):
    """A reminder (or preparation message) already sent to one person."""

    __tablename__ = "sent_reminders"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    sent_at: Mapped[datetime]


class AwayRow(Base):
    """A person who paused their reminders until ``until`` (inclusive, in the group's zone)."""

    __tablename__ = "people_away"
    __table_args__ = (PrimaryKeyConstraint("workspace_id", "user_id"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    until: Mapped[date] = mapped_column(Date)


class CopRow(Base):
    """A Community of Practice of one channel, with its meeting series."""

    __tablename__ = "cops"
    __table_args__ = (UniqueConstraint("group_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    rrule: Mapped[str] = mapped_column(String(500))
    start: Mapped[datetime]
    time_zone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    place: Mapped[str] = mapped_column(String(500), default="", server_default="")
    link: Mapped[str] = mapped_column(String(1000), default="", server_default="")
    skipped: Mapped[list[str]]
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    sequence: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    created_at: Mapped[datetime]


class CopPersonRow(Base):
    """A member of a CoP; ``coordinator`` for those who run it."""

    __tablename__ = "cop_people"
    __table_args__ = (PrimaryKeyConstraint("cop_id", "user_id"),)

    cop_id: Mapped[int] = mapped_column(ForeignKey("cops.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    position: Mapped[int] = mapped_column(Integer)
    coordinator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class CopAgendaItemRow(Base):
    """An item a member added for a coming meeting (encrypted: people write freely here)."""

    __tablename__ = "cop_agenda_items"
    __table_args__ = (Index(None, "cop_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cop_id: Mapped[int] = mapped_column(ForeignKey("cops.id", ondelete="CASCADE"))
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(EncryptedText())
    added_at: Mapped[datetime]
