"""Storage: repositories for sessions, groups, inbound event ids and the outbound queue.

The use cases see ``Store`` and ``Tx`` and the plain values they return, never a row.
A domain ``Session`` is rebuilt from its rows on load and written back by diffing
against what is stored, so one transaction holds exactly the state the flow returned.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Engine,
    Select,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased, sessionmaker

from bot.flows.method import Method
from bot.flows.session import Contribution, Mode, Reaction, Session, Status, StepRun, Vote
from storage.models import (
    Base,
    ContributionRow,
    GroupRow,
    OutboxRow,
    ProcessedEventRow,
    ReactionRow,
    SessionPostRow,
    SessionRow,
    StepRunRow,
    VoteRow,
    WorkspaceRow,
)

MethodLookup = Callable[[str], Method]
PostKind = Literal["anchor", "step", "note"]

DEFAULT_LEASE = timedelta(seconds=60)
DEFAULT_TIMEZONE = "Europe/Amsterdam"
_POST_KINDS: frozenset[str] = frozenset({"anchor", "step", "note"})
_ERROR_LENGTH = 1000

RowT = TypeVar("RowT", bound=Base)


class NotFoundError(LookupError):
    """A session or group that the caller expected to exist is not stored."""


class UnknownMethodError(LookupError):
    """A stored session names a method the catalogue no longer has."""


@dataclass(frozen=True)
class Group:
    """An intervision group: one channel of one workspace on one platform."""

    id: int
    platform: str
    workspace: str
    channel: str
    language: str
    timezone: str
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class OutboxItem:
    """A queued outbound message, claimed for delivery.

    ``attempts`` counts the delivery attempts made before this one.
    """

    id: int
    platform: str
    workspace: str
    channel: str
    session_id: str | None
    payload: dict[str, Any] = field(hash=False)
    attempts: int = 0


class Store:
    """The database behind the use cases: business transactions and the outbox.

    Args:
        engine: from ``storage.db.make_engine``, migrated with ``storage.db.upgrade``.
        methods: the method for a stored ``method_id`` (the catalogue).
        lease: how long a claimed outbox item stays hidden from other claimers;
            an item whose sender died becomes due again after it.
    """

    def __init__(
        self, engine: Engine, methods: MethodLookup, *, lease: timedelta = DEFAULT_LEASE
    ) -> None:
        self.engine = engine
        self._methods = methods
        self._lease = lease
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as db:
            yield Tx(db, self._methods)

    # The outbox is drained outside business transactions, one short transaction per call.

    def claim_outbox(
        self, now: datetime, limit: int = 20, *, platform: str | None = None
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due messages for delivery, oldest first.

        At most one message per channel, and only the channel's oldest undelivered
        one: a later post never overtakes an earlier one still waiting for a retry.
        Claimed messages are leased (hidden from other claimers for the lease time);
        on PostgreSQL, rows another process is claiming right now are skipped.
        """
        earlier = aliased(OutboxRow, name="earlier")
        blocked = exists().where(
            earlier.platform == OutboxRow.platform,
            earlier.workspace == OutboxRow.workspace,
            earlier.channel == OutboxRow.channel,
            earlier.id < OutboxRow.id,
            earlier.sent_at.is_(None),
            ~earlier.dead,
        )
        query = (
            select(OutboxRow)
            .where(
                OutboxRow.sent_at.is_(None),
                ~OutboxRow.dead,
                OutboxRow.next_attempt_at <= now,
                ~blocked,
            )
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        if platform is not None:
            query = query.where(OutboxRow.platform == platform)
        with self._sessions.begin() as db:
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxRow)
            rows = _fresh(db, query)
            if not rows:
                return []
            items = [
                OutboxItem(
                    id=row.id,
                    platform=row.platform,
                    workspace=row.workspace,
                    channel=row.channel,
                    session_id=row.session_id,
                    payload=json.loads(row.payload),
                    attempts=row.attempts,
                )
                for row in rows
            ]
            db.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([item.id for item in items]))
                .values(attempts=OutboxRow.attempts + 1, next_attempt_at=now + self._lease),
                execution_options={"synchronize_session": False},
            )
        return items

    def mark_sent(self, item_id: int, platform_ref: str | None, now: datetime) -> None:
        self._update_outbox(item_id, sent_at=now, platform_ref=platform_ref, last_error=None)

    def mark_retry(self, item_id: int, error: str, retry_at: datetime) -> None:
        """Leave the message queued until ``retry_at``; ``error`` is the platform's reason."""
        self._update_outbox(item_id, last_error=error[:_ERROR_LENGTH], next_attempt_at=retry_at)

    def mark_dead(self, item_id: int, error: str) -> None:
        """Give up on the message (the platform refused it for good)."""
        self._update_outbox(item_id, last_error=error[:_ERROR_LENGTH], dead=True)

    def pending_count(self) -> int:
        """Messages neither sent nor given up on."""
        with self._sessions.begin() as db:
            count = db.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where(OutboxRow.sent_at.is_(None), ~OutboxRow.dead)
            )
        return int(count or 0)

    def _update_outbox(self, item_id: int, **values: Any) -> None:
        with self._sessions.begin() as db:
            db.execute(
                update(OutboxRow).where(OutboxRow.id == item_id).values(**values),
                execution_options={"synchronize_session": False},
            )


class Tx:
    """One open business transaction (see ``Store.transaction``)."""

    def __init__(self, db: DbSession, methods: MethodLookup) -> None:
        self._db = db
        self._methods = methods
        # Contributions as this transaction last read or wrote them, by session: saving
        # compares against these instead of reading (and decrypting) every reply again.
        self._known: dict[str, dict[str, Contribution]] = {}

    @property
    def db(self) -> DbSession:
        """This transaction's SQLAlchemy session, for the repositories in other storage
        modules (``storage.time_repository``); use cases never touch it."""
        return self._db

    # Inbound events

    def claim_event(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record an inbound event id; False when it was handled before.

        Claim in the same transaction that saves the event's effects: if that
        transaction fails, the claim goes with it and the platform's retry is handled.
        """
        return self._insert_new(
            ProcessedEventRow,
            {"platform": platform, "event_id": event_id, "processed_at": now},
            conflict=("platform", "event_id"),
        )

    # Groups

    def group(
        self,
        platform: str,
        workspace: str,
        channel: str,
        *,
        language: str = "en",
        timezone: str = DEFAULT_TIMEZONE,
    ) -> Group:
        """The group of a channel, created (with its workspace) on first use.

        ``language`` and ``timezone`` are only the new group's defaults; an existing
        group keeps its own.
        """
        found = self._find_group(platform, workspace, channel)
        if found is not None:
            return found
        workspace_id = self._workspace_id(platform, workspace)
        self._insert_new(
            GroupRow,
            {
                "workspace_id": workspace_id,
                "channel": channel,
                "language": language,
                "timezone": timezone,
                "settings": {},
                "created_at": _utcnow(),
            },
            conflict=("workspace_id", "channel"),
        )
        created = self._find_group(platform, workspace, channel)
        assert created is not None
        return created

    def update_group(
        self,
        group_id: int,
        *,
        language: str | None = None,
        timezone: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Group:
        """Change what is given and keep the rest; ``settings`` replaces the whole mapping."""
        values: dict[str, Any] = {}
        if language is not None:
            values["language"] = language
        if timezone is not None:
            values["timezone"] = timezone
        if settings is not None:
            values["settings"] = dict(settings)
        if values:
            self._db.execute(
                update(GroupRow).where(GroupRow.id == group_id).values(**values),
                execution_options={"synchronize_session": False},
            )
        found = self._group_where(GroupRow.id == group_id)
        if found is None:
            raise NotFoundError(f"group {group_id} is not stored")
        return found

    def group_of_session(self, session_id: str) -> Group:
        found = self._group_where(
            GroupRow.id
            == select(SessionRow.group_id).where(SessionRow.id == session_id).scalar_subquery()
        )
        if found is None:
            raise NotFoundError(f"session {session_id} is not stored")
        return found

    # Sessions

    def add_session(self, session: Session, group_id: int) -> None:
        """Store a new session in a group."""
        self._db.execute(
            insert(SessionRow).values(id=session.id, group_id=group_id, **_session_values(session))
        )
        self._sync_parts(session)

    def save_session(self, session: Session) -> None:
        """Make the stored session match ``session`` exactly (its runs, replies, reactions, votes).

        Raises:
            NotFoundError: the session was never added.
        """
        result = self._db.execute(
            update(SessionRow)
            .where(SessionRow.id == session.id)
            .values(**_session_values(session)),
            execution_options={"synchronize_session": False},
        )
        if cast(CursorResult[Any], result).rowcount != 1:
            raise NotFoundError(f"session {session.id} is not stored; add it first")
        self._sync_parts(session)

    def get_session(self, session_id: str) -> Session | None:
        rows = _fresh(self._db, select(SessionRow).where(SessionRow.id == session_id))
        sessions = self._build(rows)
        return sessions[0] if sessions else None

    def session_for_thread(
        self, platform: str, workspace: str, channel: str, thread_ref: str
    ) -> Session | None:
        """The session whose anchor (or another post of the bot's) starts the thread."""
        where = _in_channel(platform, workspace, channel)
        rows = _fresh(self._db, where.where(SessionRow.anchor_ref == thread_ref).limit(1))
        if not rows:
            posted = select(SessionPostRow.session_id).where(SessionPostRow.ref == thread_ref)
            rows = _fresh(self._db, where.where(SessionRow.id.in_(posted)).limit(1))
        sessions = self._build(rows)
        return sessions[0] if sessions else None

    def open_sessions_in(self, platform: str, workspace: str, channel: str) -> list[Session]:
        """Sessions of the channel that are not closed, the most recently started first."""
        query = _in_channel(platform, workspace, channel).where(
            SessionRow.status != Status.CLOSED.value
        )
        return self._build(_fresh(self._db, query))

    def open_sessions_of_user(
        self, platform: str, workspace: str, user: str
    ) -> list[tuple[Session, str]]:
        """A person's sessions in one workspace that are not closed, with their channel.

        A person's sessions are those they own, facilitate or take part in, and the open
        ones anybody may join.
        """
        query = (
            select(SessionRow, GroupRow.channel)
            .join(GroupRow, GroupRow.id == SessionRow.group_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(
                WorkspaceRow.platform == platform,
                WorkspaceRow.external_id == workspace,
                SessionRow.status != Status.CLOSED.value,
            )
            .order_by(SessionRow.started_at.desc(), SessionRow.id.desc())
        )
        rows = self._db.execute(query).all()
        channels = {row.SessionRow.id: row.channel for row in rows}
        sessions = self._build([row.SessionRow for row in rows])
        return [
            (session, channels[session.id])
            for session in sessions
            if session.open_membership or session.role_of(user) is not None
        ]

    def session_for_message(
        self, platform: str, workspace: str, channel: str, ref: str
    ) -> tuple[Session, str] | None:
        """The session and step a message belongs to: a step post of the bot's, or a reply.

        Used to place reactions. The anchor and notes belong to no step, so they give None.
        """
        found = self._db.execute(
            select(SessionPostRow.session_id, SessionPostRow.step_id)
            .join(SessionRow, SessionRow.id == SessionPostRow.session_id)
            .where(SessionPostRow.ref == ref, _channel_filter(platform, workspace, channel))
            .limit(1)
        ).first()
        if found is None:
            found = self._db.execute(
                select(ContributionRow.session_id, ContributionRow.step_id)
                .join(SessionRow, SessionRow.id == ContributionRow.session_id)
                .where(ContributionRow.ref == ref, _channel_filter(platform, workspace, channel))
                .limit(1)
            ).first()
        if found is None or found.step_id is None:
            return None
        session = self.get_session(found.session_id)
        if session is None:
            return None
        return session, found.step_id

    # The bot's own posts

    def set_anchor(self, session_id: str, ref: str) -> None:
        self._db.execute(
            update(SessionRow).where(SessionRow.id == session_id).values(anchor_ref=ref),
            execution_options={"synchronize_session": False},
        )

    def anchor_of(self, session_id: str) -> str | None:
        return self._db.scalar(select(SessionRow.anchor_ref).where(SessionRow.id == session_id))

    def add_post(self, session_id: str, ref: str, kind: PostKind, step_id: str | None) -> None:
        """Remember a message the bot posted for a session (idempotent per ``ref``)."""
        if kind not in _POST_KINDS:
            raise ValueError(f"unknown post kind {kind!r}")
        self._insert_new(
            SessionPostRow,
            {"session_id": session_id, "ref": ref, "kind": kind, "step_id": step_id},
            conflict=("session_id", "ref"),
        )

    def step_of_post(self, session_id: str, ref: str) -> str | None:
        return self._db.scalar(
            select(SessionPostRow.step_id).where(
                SessionPostRow.session_id == session_id, SessionPostRow.ref == ref
            )
        )

    # Outbound messages

    def enqueue(
        self,
        platform: str,
        workspace: str,
        channel: str,
        session_id: str | None,
        payload: Mapping[str, Any],
        now: datetime,
    ) -> int:
        """Queue a message to be posted once this transaction commits; returns its id."""
        result = self._db.execute(
            insert(OutboxRow).values(
                platform=platform,
                workspace=workspace,
                channel=channel,
                session_id=session_id,
                payload=json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                created_at=now,
                attempts=0,
                next_attempt_at=now,
                dead=False,
            )
        )
        key = cast(CursorResult[Any], result).inserted_primary_key
        assert key is not None
        return int(key[0])

    # Internals

    def _insert_new(
        self, model: type[Base], values: Mapping[str, Any], *, conflict: Sequence[str]
    ) -> bool:
        """Insert a row unless one with the same ``conflict`` key exists; True if inserted."""
        dialect = self._db.get_bind().dialect.name
        if dialect == "postgresql":
            statement: Any = postgresql_insert(model).values(**values)
        elif dialect == "sqlite":
            statement = sqlite_insert(model).values(**values)
        else:
            try:
                with self._db.begin_nested():
                    self._db.execute(insert(model).values(**values))
            except IntegrityError:
                return False
            return True
        statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
        # SQLAlchemy keeps the row count of an INSERT only when asked (psycopg: -1 otherwise).
        result = self._db.connection().execute(
            statement, execution_options={"preserve_rowcount": True}
        )
        return result.rowcount == 1

    def _workspace_id(self, platform: str, external_id: str) -> int:
        where = (WorkspaceRow.platform == platform, WorkspaceRow.external_id == external_id)
        found = self._db.scalar(select(WorkspaceRow.id).where(*where))
        if found is None:
            self._insert_new(
                WorkspaceRow,
                {"platform": platform, "external_id": external_id, "created_at": _utcnow()},
                conflict=("platform", "external_id"),
            )
            found = self._db.scalar(select(WorkspaceRow.id).where(*where))
        assert found is not None
        return found

    def _find_group(self, platform: str, workspace: str, channel: str) -> Group | None:
        return self._group_where(
            WorkspaceRow.platform == platform,
            WorkspaceRow.external_id == workspace,
            GroupRow.channel == channel,
        )

    def _group_where(self, *conditions: ColumnElement[bool]) -> Group | None:
        found = self._db.execute(
            select(GroupRow, WorkspaceRow.platform, WorkspaceRow.external_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(*conditions)
            .execution_options(populate_existing=True)
        ).first()
        if found is None:
            return None
        row, platform, workspace = found
        return Group(
            id=row.id,
            platform=platform,
            workspace=workspace,
            channel=row.channel,
            language=row.language,
            timezone=row.timezone,
            settings=dict(row.settings or {}),
        )

    def _method(self, method_id: str) -> Method:
        try:
            return self._methods(method_id)
        except KeyError as error:
            raise UnknownMethodError(
                f"a stored session uses method {method_id!r}, which is not in the catalogue"
            ) from error

    def _build(self, rows: Sequence[SessionRow]) -> list[Session]:
        """Domain sessions for ``rows`` (in their order), their parts loaded in four queries."""
        if not rows:
            return []
        ids = [row.id for row in rows]
        runs = _by_session(
            _fresh(
                self._db,
                select(StepRunRow)
                .where(StepRunRow.session_id.in_(ids))
                .order_by(StepRunRow.position),
            )
        )
        contributions = _by_session(
            _fresh(
                self._db,
                select(ContributionRow)
                .where(ContributionRow.session_id.in_(ids))
                .order_by(ContributionRow.id),
            )
        )
        reactions = _by_session(
            _fresh(self._db, select(ReactionRow).where(ReactionRow.session_id.in_(ids)))
        )
        votes = _by_session(
            _fresh(
                self._db,
                select(VoteRow).where(VoteRow.session_id.in_(ids)).order_by(VoteRow.id),
            )
        )
        built = [
            Session(
                id=row.id,
                method=self._method(row.method_id),
                case_owner=row.case_owner,
                facilitator=row.facilitator,
                participants=tuple(row.participants),
                mode=Mode(row.mode),
                language=row.language,
                started_at=row.started_at,
                runs=tuple(
                    StepRun(r.step_id, r.opened_at, r.deadline, r.closed_at, frozenset(r.ready))
                    for r in runs[row.id]
                ),
                status=Status(row.status),
                named_record=row.named_record,
                open_membership=row.open_membership,
                deadline_hours=row.deadline_hours,
                contributions=tuple(
                    Contribution(
                        c.ref,
                        c.step_id,
                        c.author,
                        c.text,
                        c.at,
                        c.edited_at,
                        c.withdrawn,
                        c.counted,
                        c.held,
                    )
                    for c in contributions[row.id]
                ),
                reactions=frozenset(
                    Reaction(r.step_id, r.target, r.emoji, r.user_id) for r in reactions[row.id]
                ),
                votes=tuple(Vote(v.step_id, v.user_id, v.option) for v in votes[row.id]),
                closed_at=row.closed_at,
                approved_at=row.approved_at,
            )
            for row in rows
        ]
        for session in built:
            self._known[session.id] = {c.ref: c for c in session.contributions}
        return built

    def _sync_parts(self, session: Session) -> None:
        self._sync_runs(session)
        self._sync_contributions(session)
        self._sync_reactions(session)
        self._sync_votes(session)

    def _sync_runs(self, session: Session) -> None:
        stored = {
            row.position: row
            for row in _fresh(
                self._db, select(StepRunRow).where(StepRunRow.session_id == session.id)
            )
        }
        wanted = {
            position: {
                "step_id": run.step_id,
                "opened_at": run.opened_at,
                "deadline": run.deadline,
                "closed_at": run.closed_at,
                "ready": sorted(run.ready),
            }
            for position, run in enumerate(session.runs)
        }
        self._apply(
            StepRunRow,
            session.id,
            stored,
            wanted,
            new_row=lambda position, values: {"position": position, **values},
        )

    def _sync_contributions(self, session: Session) -> None:
        """Insert new replies, update changed ones, delete gone ones.

        Only ids and refs are read; a reply equal to the one this transaction loaded is
        left alone, so a save costs one decryption per changed reply, not per reply.
        """
        known = self._known.get(session.id, {})
        query = select(ContributionRow.ref, ContributionRow.id).where(
            ContributionRow.session_id == session.id
        )
        stored: dict[str, int] = {ref: row_id for ref, row_id in self._db.execute(query).all()}
        wanted = {c.ref: c for c in session.contributions}
        self._delete(
            ContributionRow, [row_id for ref, row_id in stored.items() if ref not in wanted]
        )
        for ref, contribution in wanted.items():
            if ref not in stored:
                self._insert_all(
                    ContributionRow, [{"session_id": session.id, **_values(contribution)}]
                )
            elif known.get(ref) != contribution:
                self._db.execute(
                    update(ContributionRow)
                    .where(ContributionRow.id == stored[ref])
                    .values(**_values(contribution)),
                    execution_options={"synchronize_session": False},
                )
        self._known[session.id] = wanted

    def _sync_reactions(self, session: Session) -> None:
        stored = {
            (row.step_id, row.target, row.emoji, row.user_id): row.id
            for row in _fresh(
                self._db, select(ReactionRow).where(ReactionRow.session_id == session.id)
            )
        }
        wanted = {(r.step_id, r.target, r.emoji, r.user) for r in session.reactions}
        gone = [row_id for key, row_id in stored.items() if key not in wanted]
        self._delete(ReactionRow, gone)
        self._insert_all(
            ReactionRow,
            [
                {"session_id": session.id, "step_id": s, "target": t, "emoji": e, "user_id": u}
                for (s, t, e, u) in sorted(wanted - stored.keys())
            ],
        )

    def _sync_votes(self, session: Session) -> None:
        """Votes keep their order: a changed vote moves to the end, as the flow puts it."""
        stored = _fresh(
            self._db,
            select(VoteRow).where(VoteRow.session_id == session.id).order_by(VoteRow.id),
        )
        have = [(row.step_id, row.user_id, row.option) for row in stored]
        want = [(v.step_id, v.user, v.option) for v in session.votes]
        same = 0
        while same < min(len(have), len(want)) and have[same] == want[same]:
            same += 1
        self._delete(VoteRow, [row.id for row in stored[same:]])
        self._insert_all(
            VoteRow,
            [
                {"session_id": session.id, "step_id": s, "user_id": u, "option": o}
                for (s, u, o) in want[same:]
            ],
        )

    def _apply(
        self,
        model: type[StepRunRow] | type[ContributionRow],
        session_id: str,
        stored: Mapping[Any, StepRunRow | ContributionRow],
        wanted: Mapping[Any, dict[str, Any]],
        *,
        new_row: Callable[[Any, dict[str, Any]], dict[str, Any]],
    ) -> None:
        """Delete, update and insert keyed rows so the stored set equals ``wanted``."""
        self._delete(model, [row.id for key, row in stored.items() if key not in wanted])
        for key, values in wanted.items():
            row = stored.get(key)
            if row is None:
                continue
            changed = {name: value for name, value in values.items() if getattr(row, name) != value}
            if changed:
                self._db.execute(
                    update(model).where(model.id == row.id).values(**changed),
                    execution_options={"synchronize_session": False},
                )
        self._insert_all(
            model,
            [
                {"session_id": session_id, **new_row(key, values)}
                for key, values in wanted.items()
                if key not in stored
            ],
        )

    def _delete(self, model: type[Any], row_ids: Sequence[int]) -> None:
        if row_ids:
            self._db.execute(
                delete(model).where(model.id.in_(row_ids)),
                execution_options={"synchronize_session": False},
            )

    def _insert_all(self, model: type[Base], rows: Sequence[Mapping[str, Any]]) -> None:
        # One statement per row keeps the ids in list order, which is the order rows are
        # read back in (contributions, votes).
        for row in rows:
            self._db.execute(insert(model).values(**row))


def _values(contribution: Contribution) -> dict[str, Any]:
    """The contribution row's columns for ``contribution``."""
    return {
        "ref": contribution.ref,
        "step_id": contribution.step_id,
        "author": contribution.author,
        "text": contribution.text,
        "at": contribution.at,
        "edited_at": contribution.edited_at,
        "withdrawn": contribution.withdrawn,
        "counted": contribution.counted,
        "held": contribution.held,
    }


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _session_values(session: Session) -> dict[str, Any]:
    """The session row's columns, except the anchor (set once the platform posted it)."""
    return {
        "method_id": session.method.id,
        "case_owner": session.case_owner,
        "facilitator": session.facilitator,
        "participants": list(session.participants),
        "mode": session.mode.value,
        "language": session.language,
        "status": session.status.value,
        "named_record": session.named_record,
        "open_membership": session.open_membership,
        "deadline_hours": session.deadline_hours,
        "started_at": session.started_at,
        "closed_at": session.closed_at,
        "approved_at": session.approved_at,
    }


def _fresh(db: DbSession, query: Select[RowT]) -> Sequence[RowT]:
    """Rows as the database has them now, even when an earlier statement changed them."""
    return db.scalars(query.execution_options(populate_existing=True)).all()


def _channel_filter(platform: str, workspace: str, channel: str) -> ColumnElement[bool]:
    """True for sessions of the given channel (a condition on ``SessionRow``)."""
    return SessionRow.group_id.in_(
        select(GroupRow.id)
        .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
        .where(
            WorkspaceRow.platform == platform,
            WorkspaceRow.external_id == workspace,
            GroupRow.channel == channel,
        )
    )


def _in_channel(platform: str, workspace: str, channel: str) -> Select[SessionRow]:
    return (
        select(SessionRow)
        .where(_channel_filter(platform, workspace, channel))
        .order_by(SessionRow.started_at.desc(), SessionRow.id.desc())
    )


SessionPartRow = TypeVar("SessionPartRow", StepRunRow, ContributionRow, ReactionRow, VoteRow)


def _by_session(rows: Iterable[SessionPartRow]) -> dict[str, list[SessionPartRow]]:
    grouped: dict[str, list[SessionPartRow]] = defaultdict(list)
    for row in rows:
        grouped[row.session_id].append(row)
    return grouped
