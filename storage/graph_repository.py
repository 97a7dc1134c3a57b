"""Storage: a CoP's calendar event and people's invitation addresses (``storage.models_graph``).

Used inside a business transaction: the CoP use cases read the addresses, the calendar
messenger records the event it created and its cancellation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session as DbSession

from storage.models import WorkspaceRow
from storage.models_graph import GraphCopSeriesRow, PersonMailRow
from storage.repositories import Tx


@dataclass(frozen=True)
class StoredSeries:
    """The calendar event of a CoP, as the calendar server named it."""

    cop_id: int
    organizer: str
    series_id: str
    ical_uid: str | None
    join_url: str | None
    cancelled: bool


class GraphRepository:
    """The calendar part's rows, inside the transaction ``tx``."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self._db: DbSession = tx.db

    # The CoP's event

    def series(self, cop_id: int) -> StoredSeries | None:
        row = self._db.get(GraphCopSeriesRow, cop_id)
        if row is None:
            return None
        return StoredSeries(
            row.cop_id, row.organizer, row.series_id, row.ical_uid, row.join_url, row.cancelled
        )

    def save_series(
        self,
        cop_id: int,
        *,
        organizer: str,
        series_id: str,
        ical_uid: str | None,
        join_url: str | None,
        now: datetime,
    ) -> None:
        """Record the event created for the CoP (a second create of the same event replaces
        the first record: the server answered the same event for the same transaction id)."""
        self._db.execute(delete(GraphCopSeriesRow).where(GraphCopSeriesRow.cop_id == cop_id))
        self._db.execute(
            insert(GraphCopSeriesRow).values(
                cop_id=cop_id,
                organizer=organizer,
                series_id=series_id,
                ical_uid=ical_uid,
                join_url=join_url,
                cancelled=False,
                created_at=now,
                updated_at=now,
            )
        )

    def mark_cancelled(self, cop_id: int, now: datetime) -> None:
        self._db.execute(
            update(GraphCopSeriesRow)
            .where(GraphCopSeriesRow.cop_id == cop_id)
            .values(cancelled=True, updated_at=now)
        )

    # Invitation addresses

    def set_mail(self, platform: str, workspace: str, user: str, mail: str | None) -> None:
        """The address ``user`` gets invitations at; None forgets it."""
        workspace_id = self._db.scalar(
            select(WorkspaceRow.id).where(
                WorkspaceRow.platform == platform, WorkspaceRow.external_id == workspace
            )
        )
        if workspace_id is None:
            raise ValueError("unknown workspace")  # a command in it has created it before
        self._db.execute(
            delete(PersonMailRow).where(
                PersonMailRow.workspace_id == workspace_id, PersonMailRow.user_id == user
            )
        )
        if mail is not None:
            self._db.execute(
                insert(PersonMailRow).values(workspace_id=workspace_id, user_id=user, mail=mail)
            )

    def mails(self, platform: str, workspace: str, users: Iterable[str]) -> dict[str, str]:
        """The invitation addresses of those of ``users`` who gave one."""
        wanted = list(users)
        if not wanted:
            return {}
        rows = self._db.execute(
            select(PersonMailRow.user_id, PersonMailRow.mail)
            .join(WorkspaceRow, WorkspaceRow.id == PersonMailRow.workspace_id)
            .where(
                WorkspaceRow.platform == platform,
                WorkspaceRow.external_id == workspace,
                PersonMailRow.user_id.in_(wanted),
            )
        )
        return {user: mail for user, mail in rows}
