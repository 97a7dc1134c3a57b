"""Storage: what the Teams adapter must remember to talk to Teams later.

Registered on the shared ``storage.models.metadata`` (``storage.models`` imports this module
at its end); migration ``0007_teams`` creates the tables.

- ``teams_channels``: the Bot Connector's service URL per tenant and channel (it differs
  by region; every send goes to the one the channel's activities came from).
- ``teams_people``: per tenant and person (``29:…`` id) the service URL, their Entra object
  id, display name (encrypted: mentions need it), locale, and the 1:1 chat once the bot
  opened one (proactive notices and reminders go there).

``TeamsDirectory`` reads and writes them; rows change only when something changed, so a
busy channel does not write on every activity.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.crypto import EncryptedText
from storage.models import Base
from storage.writer_turns import urgent


class TeamsChannelRow(Base):
    __tablename__ = "teams_channels"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    service_url: Mapped[str] = mapped_column(String(500))
    updated_at: Mapped[datetime]


class TeamsPersonRow(Base):
    __tablename__ = "teams_people"

    tenant_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    service_url: Mapped[str] = mapped_column(String(500))
    aad_object_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(EncryptedText())
    locale: Mapped[str | None] = mapped_column(String(35))
    personal_chat: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime]


@dataclass(frozen=True)
class TeamsPerson:
    user_id: str
    service_url: str
    aad_object_id: str | None
    name: str | None
    locale: str | None
    personal_chat: str | None


class TeamsDirectory:
    """Service URLs, names, locales and 1:1 chats of Teams channels and people."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._seen: set[tuple[object, ...]] = set()
        self._lock = threading.Lock()

    def remember_channel(self, tenant: str, channel: str, service_url: str, now: datetime) -> None:
        key = ("channel", tenant, channel, service_url)
        if self._known(key):
            return
        with urgent(), Session(self._engine) as db, db.begin():
            row = db.get(TeamsChannelRow, (tenant, channel))
            if row is None:
                db.add(
                    TeamsChannelRow(
                        tenant_id=tenant,
                        channel_id=channel,
                        service_url=service_url,
                        updated_at=now,
                    )
                )
            elif row.service_url != service_url:
                row.service_url, row.updated_at = service_url, now
        self._note(key)

    def remember_person(
        self,
        tenant: str,
        user: str,
        service_url: str,
        now: datetime,
        *,
        aad_object_id: str | None = None,
        name: str | None = None,
        locale: str | None = None,
    ) -> None:
        """Keep what an activity told about ``user``; a missing value keeps the stored one."""
        key = ("person", tenant, user, service_url, aad_object_id, name, locale)
        if self._known(key):
            return
        with urgent(), Session(self._engine) as db, db.begin():
            row = db.get(TeamsPersonRow, (tenant, user))
            if row is None:
                row = TeamsPersonRow(
                    tenant_id=tenant, user_id=user, service_url=service_url, updated_at=now
                )
                db.add(row)
            changed = {
                "service_url": service_url,
                "aad_object_id": aad_object_id,
                "name": name,
                "locale": locale,
            }
            for field, value in changed.items():
                if value and getattr(row, field) != value:
                    setattr(row, field, value)
                    row.updated_at = now
        self._note(key)

    def remember_personal_chat(self, tenant: str, user: str, chat: str, now: datetime) -> None:
        with urgent(), Session(self._engine) as db, db.begin():
            row = db.get(TeamsPersonRow, (tenant, user))
            if row is not None:
                row.personal_chat, row.updated_at = chat, now

    def service_url(self, tenant: str, channel: str) -> str | None:
        with Session(self._engine) as db:
            found = db.execute(
                select(TeamsChannelRow.service_url).where(
                    TeamsChannelRow.tenant_id == tenant, TeamsChannelRow.channel_id == channel
                )
            ).scalar_one_or_none()
        return found

    def person(self, tenant: str, user: str) -> TeamsPerson | None:
        with Session(self._engine) as db:
            row = db.get(TeamsPersonRow, (tenant, user))
            if row is None:
                return None
            return TeamsPerson(
                row.user_id,
                row.service_url,
                row.aad_object_id,
                row.name,
                row.locale,
                row.personal_chat,
            )

    def _known(self, key: tuple[object, ...]) -> bool:
        with self._lock:
            return key in self._seen

    def _note(self, key: tuple[object, ...]) -> None:
        with self._lock:
            if len(self._seen) > 10_000:
                self._seen.clear()
            self._seen.add(key)
