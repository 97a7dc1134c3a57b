"""Storage: repository of time — due work, reminders sent, people away, Communities of Practice.

``TimeRepository(tx)`` works inside one business transaction (``Store.transaction``), on the
same SQLAlchemy session as ``Tx``, so a scheduled job, a reminder marked as sent and the
outbound message it queues commit together or not at all. The use cases see plain values
(``DueJob``, ``StoredCop``, the domain ``Cop``), never a row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as DbSession

from bot.flows.cop import AgendaItem, Cop, MeetingSeries
from bot.flows.group_settings import timing_of
from bot.flows.timing import WorkingCalendar
from storage.models import Base, GroupRow, SessionRow, StepRunRow, WorkspaceRow
from storage.models_time import (
    AwayRow,
    CopAgendaItemRow,
    CopPersonRow,
    CopRow,
    DueJobRow,
    SentReminderRow,
)
from storage.repositories import Group, Tx

_ERROR_LENGTH = 255
_CURRENT_RUN = (
    select(
        SessionRow.group_id,
        SessionRow.status,
        SessionRow.mode,
        StepRunRow.position,
        StepRunRow.step_id,
        StepRunRow.opened_at,
        StepRunRow.deadline,
        StepRunRow.closed_at,
    )
    .join(StepRunRow, StepRunRow.session_id == SessionRow.id)
    .where(SessionRow.id == bindparam("session_id"))
    .order_by(StepRunRow.position.desc())
    .limit(1)
)
_CANCELLED = "cancelled"


@dataclass(frozen=True)
class DueJob:
    """A piece of due work: ``kind`` names the job function, ``args`` its plain arguments."""

    id: int
    key: str
    kind: str
    subject: str
    args: Mapping[str, Any] = field(hash=False)
    due_at: datetime
    attempts: int = 0


@dataclass(frozen=True)
class CurrentRun:
    """What the timers need to know about a session's open step (one query, no session load)."""

    session_id: str
    group_id: int
    status: str
    mode: str
    position: int
    step_id: str
    opened_at: datetime
    deadline: datetime | None
    closed: bool


@dataclass(frozen=True)
class StoredCop:
    """A CoP as stored: its id, its group (channel), the domain value and its bookkeeping."""

    id: int
    group: Group
    cop: Cop
    sequence: int
    created_at: datetime


class TimeRepository:
    """Due work, reminders, absences and CoPs, inside the transaction ``tx``."""

    def __init__(self, tx: Tx) -> None:
        self.tx = tx
        self._db: DbSession = tx.db

    # Due work

    def schedule(
        self,
        key: str,
        kind: str,
        subject: str,
        due_at: datetime,
        args: Mapping[str, Any],
        *,
        revive: bool = False,
    ) -> bool:
        """Register work due at ``due_at`` unless work with ``key`` exists (done or not).

        With ``revive``, work with ``key`` that was cancelled (not run) is registered again,
        with this due time: a meeting skipped and planned again is prepared again.

        Returns:
            True when it was registered (or revived) now.
        """
        created = self._insert_new(
            DueJobRow,
            {
                "key": key,
                "kind": kind,
                "subject": subject,
                "args": dict(args),
                "due_at": due_at,
                "attempts": 0,
            },
            conflict=("key",),
        )
        if created or not revive:
            return created
        result = self._db.execute(
            update(DueJobRow)
            .where(DueJobRow.key == key, DueJobRow.last_error == _CANCELLED)
            .values(done_at=None, last_error=None, due_at=due_at, args=dict(args)),
            execution_options={"synchronize_session": False},
        )
        return bool(getattr(result, "rowcount", 0))

    def has_job(self, key: str) -> bool:
        return self._db.scalar(select(DueJobRow.id).where(DueJobRow.key == key)) is not None

    def cancel_pending(self, subject: str, now: datetime, *, keep: Sequence[str] = ()) -> int:
        """Mark the pending work of ``subject`` done (cancelled), except the keys in ``keep``."""
        query = update(DueJobRow).where(DueJobRow.subject == subject, DueJobRow.done_at.is_(None))
        if keep:
            query = query.where(DueJobRow.key.not_in(list(keep)))
        result = self._db.execute(
            query.values(done_at=now, last_error=_CANCELLED),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def pending_keys(self, subject: str) -> set[str]:
        return set(
            self._db.scalars(
                select(DueJobRow.key).where(
                    DueJobRow.subject == subject, DueJobRow.done_at.is_(None)
                )
            )
        )

    def claim_due(self, now: datetime, *, exclude: Sequence[int] = ()) -> DueJob | None:
        """The oldest due job, locked for this transaction (other claimers skip it on
        PostgreSQL; SQLite has one writer at a time). The caller runs it and calls
        ``finish`` or ``postpone`` in the same transaction."""
        query = (
            select(DueJobRow)
            .where(DueJobRow.done_at.is_(None), DueJobRow.due_at <= now)
            .order_by(DueJobRow.due_at, DueJobRow.id)
            .limit(1)
        )
        if exclude:
            query = query.where(DueJobRow.id.not_in(list(exclude)))
        if self._db.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        row = self._db.scalars(query.execution_options(populate_existing=True)).first()
        if row is None:
            return None
        return DueJob(
            row.id, row.key, row.kind, row.subject, dict(row.args), row.due_at, row.attempts
        )

    def finish(self, job_id: int, now: datetime) -> None:
        """Mark the job done (it ran; a cancellation by its own run does not count)."""
        self._update_job(job_id, done_at=now, last_error=None)

    def postpone(self, job_id: int, due_at: datetime) -> None:
        """Leave the job pending until ``due_at`` (a paused session, a quiet hour)."""
        self._update_job(job_id, due_at=due_at)

    def failed(self, job_id: int, error: str, retry_at: datetime | None, now: datetime) -> None:
        """Count a failed attempt: retry at ``retry_at``, or give up when it is None."""
        values: dict[str, Any] = {
            "attempts": DueJobRow.attempts + 1,
            "last_error": error[:_ERROR_LENGTH],
        }
        if retry_at is None:
            values["done_at"] = now
        else:
            values["due_at"] = retry_at
        self._update_job(job_id, **values)

    def jobs(self, subject: str | None = None, *, pending: bool = False) -> list[DueJob]:
        """Registered work, by due time (for status texts and tests)."""
        query = select(DueJobRow).order_by(DueJobRow.due_at, DueJobRow.id)
        if subject is not None:
            query = query.where(DueJobRow.subject == subject)
        if pending:
            query = query.where(DueJobRow.done_at.is_(None))
        return [
            DueJob(r.id, r.key, r.kind, r.subject, dict(r.args), r.due_at, r.attempts)
            for r in self._db.scalars(query.execution_options(populate_existing=True))
        ]

    def next_due(self) -> datetime | None:
        """When the earliest pending work is due."""
        found: datetime | None = self._db.scalar(
            select(func.min(DueJobRow.due_at)).where(DueJobRow.done_at.is_(None))
        )
        if found is not None and found.tzinfo is None:  # SQLite keeps no offset; it is UTC
            found = found.replace(tzinfo=UTC)
        return found

    # Reminders sent

    def record_sent(self, key: str, now: datetime) -> bool:
        """Note that the message ``key`` goes out; False when it had gone out before."""
        return self._insert_new(SentReminderRow, {"key": key, "sent_at": now}, conflict=("key",))

    def was_sent(self, key: str) -> bool:
        return self._db.get(SentReminderRow, key) is not None

    # People away

    def set_away(self, platform: str, workspace: str, user: str, until: date | None) -> None:
        """Pause a person's reminders until ``until`` (inclusive); None takes the pause back."""
        workspace_id = self._workspace_id(platform, workspace)
        self._db.execute(
            delete(AwayRow).where(AwayRow.workspace_id == workspace_id, AwayRow.user_id == user)
        )
        if until is not None:
            self._db.execute(
                insert(AwayRow).values(workspace_id=workspace_id, user_id=user, until=until)
            )

    def away_until(self, platform: str, workspace: str, user: str) -> date | None:
        return self._db.scalar(
            select(AwayRow.until)
            .join(WorkspaceRow, WorkspaceRow.id == AwayRow.workspace_id)
            .where(
                WorkspaceRow.platform == platform,
                WorkspaceRow.external_id == workspace,
                AwayRow.user_id == user,
            )
        )

    # Sessions, as the timers see them

    def current_run(self, session_id: str) -> CurrentRun | None:
        """The session's newest step run with the session's status and mode."""
        # every event that touched a session asks: a statement built once, no mapped rows
        found = self._db.connection().execute(_CURRENT_RUN, {"session_id": session_id}).first()
        if found is None:
            return None
        group_id, status, mode, position, step_id, opened_at, deadline, closed_at = found
        return CurrentRun(
            session_id,
            group_id,
            status,
            mode,
            position,
            step_id,
            opened_at,
            deadline,
            closed_at is not None,
        )

    def sessions_between(
        self, platform: str, workspace: str, since: datetime, until: datetime
    ) -> list[tuple[str, str]]:
        """(session id, channel) of every session of a workspace started in [since, until)."""
        rows = self._db.execute(
            select(SessionRow.id, GroupRow.channel)
            .join(GroupRow, GroupRow.id == SessionRow.group_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(
                WorkspaceRow.platform == platform,
                WorkspaceRow.external_id == workspace,
                SessionRow.started_at >= since,
                SessionRow.started_at < until,
            )
            .order_by(SessionRow.started_at, SessionRow.id)
        ).all()
        return [(row.id, row.channel) for row in rows]

    # Communities of Practice

    def add_cop(self, group: Group, cop: Cop, now: datetime) -> StoredCop:
        result = self._db.execute(
            insert(CopRow).values(
                group_id=group.id,
                created_at=now,
                sequence=0,
                **_series_values(cop),
            )
        )
        key = cast(CursorResult[Any], result).inserted_primary_key
        assert key is not None
        cop_id = int(key[0])
        self._write_people(cop_id, cop)
        self._write_agenda(cop_id, cop, stored=0)
        found = self.get_cop(cop_id)
        assert found is not None
        return found

    def save_cop(self, cop_id: int, cop: Cop, *, schedule_changed: bool = False) -> StoredCop:
        """Make the stored CoP match ``cop``; a changed schedule raises its ICS sequence."""
        values = _series_values(cop)
        if schedule_changed:
            values["sequence"] = CopRow.sequence + 1
        self._db.execute(
            update(CopRow).where(CopRow.id == cop_id).values(**values),
            execution_options={"synchronize_session": False},
        )
        self._db.execute(delete(CopPersonRow).where(CopPersonRow.cop_id == cop_id))
        self._write_people(cop_id, cop)
        stored = self._db.scalar(
            select(func.count())
            .select_from(CopAgendaItemRow)
            .where(CopAgendaItemRow.cop_id == cop_id)
        )
        self._write_agenda(cop_id, cop, stored=int(stored or 0))
        found = self.get_cop(cop_id)
        assert found is not None
        return found

    def get_cop(self, cop_id: int) -> StoredCop | None:
        found = self._cops(CopRow.id == cop_id)
        return found[0] if found else None

    def cops_in_channel(self, platform: str, workspace: str, channel: str) -> list[StoredCop]:
        return self._cops(
            WorkspaceRow.platform == platform,
            WorkspaceRow.external_id == workspace,
            GroupRow.channel == channel,
        )

    def cops_in_workspace(self, platform: str, workspace: str) -> list[StoredCop]:
        return self._cops(WorkspaceRow.platform == platform, WorkspaceRow.external_id == workspace)

    def cops_named(self, name: str) -> list[StoredCop]:
        """Every CoP of that name in any workspace (the operator's command line)."""
        return self._cops(func.lower(CopRow.name) == name.lower())

    def active_cops(self) -> list[StoredCop]:
        return self._cops(CopRow.cancelled.is_(False))

    # Internals

    def _cops(self, *conditions: Any) -> list[StoredCop]:
        rows = self._db.execute(
            select(CopRow, GroupRow, WorkspaceRow.platform, WorkspaceRow.external_id)
            .join(GroupRow, GroupRow.id == CopRow.group_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(*conditions)
            .order_by(CopRow.id)
            .execution_options(populate_existing=True)
        ).all()
        found: list[StoredCop] = []
        for row, group_row, platform, workspace in rows:
            group = Group(
                id=group_row.id,
                platform=platform,
                workspace=workspace,
                channel=group_row.channel,
                language=group_row.language,
                timezone=group_row.timezone,
                settings=dict(group_row.settings or {}),
            )
            found.append(
                StoredCop(row.id, group, self._domain(row, group), row.sequence, row.created_at)
            )
        return found

    def _domain(self, row: CopRow, group: Group) -> Cop:
        people = self._db.scalars(
            select(CopPersonRow)
            .where(CopPersonRow.cop_id == row.id)
            .order_by(CopPersonRow.position)
            .execution_options(populate_existing=True)
        ).all()
        agenda = self._db.scalars(
            select(CopAgendaItemRow)
            .where(CopAgendaItemRow.cop_id == row.id)
            .order_by(CopAgendaItemRow.id)
            .execution_options(populate_existing=True)
        ).all()
        series = MeetingSeries(
            start=row.start,
            rrule=row.rrule,
            time_zone=row.time_zone,
            duration=timedelta(minutes=row.duration_minutes),
            place=row.place,
            link=row.link,
            skipped=frozenset(date.fromisoformat(day) for day in row.skipped),
            calendar=cop_calendar(group, row.time_zone),
        )
        return Cop(
            name=row.name,
            channel=group.channel,
            series=series,
            members=tuple(p.user_id for p in people),
            coordinators=tuple(p.user_id for p in people if p.coordinator),
            agenda=tuple(AgendaItem(a.author, a.text, a.added_at) for a in agenda),
            cancelled=row.cancelled,
        )

    def _write_people(self, cop_id: int, cop: Cop) -> None:
        people = list(dict.fromkeys((*cop.members, *cop.coordinators)))
        for position, user in enumerate(people):
            self._db.execute(
                insert(CopPersonRow).values(
                    cop_id=cop_id,
                    user_id=user,
                    position=position,
                    coordinator=cop.is_coordinator(user),
                )
            )

    def _write_agenda(self, cop_id: int, cop: Cop, *, stored: int) -> None:
        """Agenda items are only ever appended: write those past the ``stored`` count."""
        for item in cop.agenda[stored:]:
            self._db.execute(
                insert(CopAgendaItemRow).values(
                    cop_id=cop_id, author=item.author, text=item.text, added_at=item.added_at
                )
            )

    def _update_job(self, job_id: int, **values: Any) -> None:
        self._db.execute(
            update(DueJobRow).where(DueJobRow.id == job_id).values(**values),
            execution_options={"synchronize_session": False},
        )

    def _workspace_id(self, platform: str, external_id: str) -> int:
        where = (WorkspaceRow.platform == platform, WorkspaceRow.external_id == external_id)
        found = self._db.scalar(select(WorkspaceRow.id).where(*where))
        if found is None:
            self._insert_new(
                WorkspaceRow,
                {"platform": platform, "external_id": external_id, "created_at": datetime.now(UTC)},
                conflict=("platform", "external_id"),
            )
            found = self._db.scalar(select(WorkspaceRow.id).where(*where))
        assert found is not None
        return found

    def _insert_new(
        self, model: type[Base], values: Mapping[str, Any], *, conflict: Sequence[str]
    ) -> bool:
        dialect = self._db.get_bind().dialect.name
        statement: Any
        if dialect == "postgresql":
            statement = postgresql_insert(model).values(**values)
        else:
            statement = sqlite_insert(model).values(**values)
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
        result = self._db.connection().execute(
            statement, execution_options={"preserve_rowcount": True}
        )
        return result.rowcount == 1


def cop_calendar(group: Group, time_zone: str) -> WorkingCalendar | None:
    """The public holidays a CoP's meetings avoid: the group's country and region, if set,
    with the group's quiet hours, read in the series' zone."""
    timing = timing_of(group.settings, time_zone)
    if timing.country is None:
        return None
    try:
        return timing.calendar
    except ValueError:
        return None


def _series_values(cop: Cop) -> dict[str, Any]:
    series = cop.series
    return {
        "name": cop.name,
        "rrule": series.rrule,
        "start": series.start,
        "time_zone": series.time_zone,
        "duration_minutes": int(series.duration.total_seconds() // 60),
        "place": series.place,
        "link": series.link,
        "skipped": sorted(day.isoformat() for day in series.skipped),
        "cancelled": cop.cancelled,
    }
