"""Storage: the relational schema as SQLAlchemy models (read by the repositories and Alembic).

Every timestamp is stored in UTC and comes back timezone-aware on every backend.
Texts people wrote are ``EncryptedText``. Changing a model needs a new migration in
``storage/migrations/versions``; the initial revision does not import this module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.exc import DontWrapMixin
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from storage.crypto import EncryptedText

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# What is still to be sent, written the way each dialect renders ``sent_at IS NULL AND
# NOT dead`` in queries: SQLite only uses a partial index whose terms match literally.
PENDING_POSTGRESQL = "sent_at IS NULL AND NOT dead"
PENDING_SQLITE = "sent_at IS NULL AND dead = 0"


class NaiveDatetimeError(DontWrapMixin, ValueError):
    """A datetime without a timezone was about to be stored: its instant is unknown."""


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp, normalised to UTC.

    SQLite keeps no offset, so a value must be UTC before it is written for comparisons
    in SQL (``next_attempt_at <= now``) to hold; it comes back naive and is marked UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise NaiveDatetimeError(f"a naive datetime cannot be stored: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = metadata
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads it as a class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class WorkspaceRow(Base):
    """A Slack workspace, a Teams tenant, or the console."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class GroupRow(Base):
    """An intervision group: one channel of a workspace, with its language and settings."""

    __tablename__ = "groups"
    __table_args__ = (UniqueConstraint("workspace_id", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(255))
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    timezone: Mapped[str] = mapped_column(
        String(64), default="Europe/Amsterdam", server_default="Europe/Amsterdam"
    )
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default=text("'{}'"))
    created_at: Mapped[datetime]


class SessionRow(Base):
    __tablename__ = "sessions"
    __table_args__ = (
        Index(None, "status"),
        Index(None, "group_id"),
        Index(None, "anchor_ref"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("groups.id", ondelete="CASCADE"))
    method_id: Mapped[str] = mapped_column(String(64))
    case_owner: Mapped[str] = mapped_column(String(255))
    facilitator: Mapped[str] = mapped_column(String(255))
    participants: Mapped[list[str]]
    mode: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    named_record: Mapped[bool] = mapped_column(Boolean, server_default=true())
    open_membership: Mapped[bool] = mapped_column(Boolean, server_default=false())
    deadline_hours: Mapped[int | None] = mapped_column(Integer)
    anchor_ref: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    approved_at: Mapped[datetime | None]  # the case owner approved the record


class StepRunRow(Base):
    __tablename__ = "step_runs"
    __table_args__ = (UniqueConstraint("session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    step_id: Mapped[str] = mapped_column(String(64))
    opened_at: Mapped[datetime]
    deadline: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    ready: Mapped[list[str]]


class ContributionRow(Base):
    __tablename__ = "contributions"
    __table_args__ = (UniqueConstraint("session_id", "ref"), Index(None, "ref"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(255))
    step_id: Mapped[str] = mapped_column(String(64))
    author: Mapped[str] = mapped_column(String(255))
    text: Mapped[str] = mapped_column(EncryptedText())
    at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    withdrawn: Mapped[bool] = mapped_column(Boolean, server_default=false())
    counted: Mapped[bool] = mapped_column(Boolean, server_default=true())
    held: Mapped[bool] = mapped_column(Boolean, server_default=false())  # privacy guard


class ReactionRow(Base):
    __tablename__ = "reactions"
    __table_args__ = (UniqueConstraint("session_id", "target", "emoji", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(255))
    emoji: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(255))


class VoteRow(Base):
    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("session_id", "step_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    step_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[str] = mapped_column(String(255))
    option: Mapped[str] = mapped_column(String(64))


class SessionPostRow(Base):
    """A message the bot posted for a session, so replies and reactions on it find their step."""

    __tablename__ = "session_posts"
    __table_args__ = (
        UniqueConstraint("session_id", "ref"),
        CheckConstraint("kind IN ('anchor', 'step', 'note')", name="kind"),
        Index(None, "ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    ref: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(16))
    step_id: Mapped[str | None] = mapped_column(String(64))


class ProcessedEventRow(Base):
    """An inbound event id already handled: a platform's retry of it changes nothing."""

    __tablename__ = "processed_events"
    __table_args__ = (PrimaryKeyConstraint("platform", "event_id"), Index(None, "processed_at"))

    platform: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255))
    processed_at: Mapped[datetime]


class OutboxRow(Base):
    """A message waiting to be posted (or posted, or given up on).

    ``payload`` is the message's JSON, encrypted; ``last_error`` holds only the
    platform's reason, never what people wrote. ``claimed_until`` is a delivery worker's
    lease; ``parts_sent`` and ``part_refs`` (a JSON list of the platform's ids) record the
    progress through a message posted in several parts, so a restart resumes at the next.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index(
            "ix_outbox_pending_channel",
            "platform",
            "workspace",
            "channel",
            "id",
            postgresql_where=text(PENDING_POSTGRESQL),
            sqlite_where=text(PENDING_SQLITE),
        ),
        Index(
            "ix_outbox_pending_due",
            "next_attempt_at",
            postgresql_where=text(PENDING_POSTGRESQL),
            sqlite_where=text(PENDING_SQLITE),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform: Mapped[str] = mapped_column(String(32))
    workspace: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(255))
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="SET NULL"), index=True
    )
    payload: Mapped[str] = mapped_column(EncryptedText())
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    platform_ref: Mapped[str | None] = mapped_column(String(255))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    dead: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    claimed_until: Mapped[datetime | None]
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    part_refs: Mapped[list[str]] = mapped_column(default=list, server_default=text("'[]'"))


# The tables of time and the CoP, of confidentiality (audit log, session summaries),
# of the inbox and of Teams live in their own modules on the same metadata.
import storage.models_graph  # noqa: E402
import storage.models_inbox  # noqa: E402
import storage.models_privacy  # noqa: E402
import storage.models_teams  # noqa: E402
import storage.models_time  # noqa: E402, F401
