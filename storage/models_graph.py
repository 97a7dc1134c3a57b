"""Storage: the Outlook calendar's tables (CoP series, members' addresses), as models.

Registered on the shared ``storage.models.metadata`` (``storage.models`` imports this module
at its end); migration ``0008_graph_calendar`` creates them.

- ``graph_cop_series``: the calendar event a CoP's meeting series became, once the calendar
  server created it: its id, iCalendar UID and online meeting join link, keyed by CoP.
- ``people_mail``: the e-mail address a person gave for calendar invitations, per workspace
  (encrypted: it is personal data and not needed to run sessions).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, PrimaryKeyConstraint, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from storage.crypto import EncryptedText
from storage.models import Base


class GraphCopSeriesRow(Base):
    """The recurring event of one CoP in the organizer's calendar."""

    __tablename__ = "graph_cop_series"

    cop_id: Mapped[int] = mapped_column(ForeignKey("cops.id", ondelete="CASCADE"), primary_key=True)
    organizer: Mapped[str] = mapped_column(String(320))
    series_id: Mapped[str] = mapped_column(Text())
    ical_uid: Mapped[str | None] = mapped_column(Text())
    join_url: Mapped[str | None] = mapped_column(Text())
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PersonMailRow(Base):
    """Where a person of a workspace gets calendar invitations."""

    __tablename__ = "people_mail"
    __table_args__ = (PrimaryKeyConstraint("workspace_id", "user_id"),)

    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(255))
    mail: Mapped[str] = mapped_column(EncryptedText())
