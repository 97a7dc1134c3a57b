"""Storage: repositories for sessions, groups, inbound event ids and the outbound queue.

The use cases see ``Store`` and ``Tx`` and the plain values they return, never a row.
A domain ``Session`` is rebuilt from its rows on load (its row locked: one writer per
session) and written back as the difference between the session as the transaction
loaded it and as the flow returned it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    delete,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import sessionmaker

from bot.flows.method import Method
from bot.flows.session import Contribution, Mode, Reaction, Session, Status, StepRun, Vote
from storage.crypto import current_cipher
from storage.models import (
    Base,
    ContributionRow,
    GroupRow,
    ProcessedEventRow,
    ReactionRow,
    SessionPostRow,
    SessionRow,
    StepRunRow,
    VoteRow,
    WorkspaceRow,
)
from storage.outbox import DEFAULT_LEASE, Outbox, OutboxItem, enqueue

MethodLookup = Callable[[str], Method]
PostKind = Literal["anchor", "step", "note"]

DEFAULT_TIMEZONE = "Europe/Amsterdam"
_POST_KINDS: frozenset[str] = frozenset({"anchor", "step", "note"})

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
class Scope:
    """The parts of a session one event's rules read, for loading no more than those.

    ``person``'s contributions in the current step, reactions and votes, and the
    contributions named in ``refs`` (a reply's own ref, the one edited). That is all a
    reply, an edit, a withdrawal or a reaction needs, however long the session is; the
    session comes back ``partial`` (see ``bot.flows.session.Session``).
    """

    person: str
    refs: tuple[str, ...] = ()


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
        self.outbox = Outbox(engine, lease=lease)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        with self._sessions.begin() as db:
            yield Tx(db, self._methods)

    # The outbox is drained outside business transactions (``storage.outbox``); these
    # delegate to it for the callers that hold a ``Store``.

    def claim_outbox(
        self, now: datetime, limit: int = 20, *, platform: str | None = None
    ) -> list[OutboxItem]:
        """Take up to ``limit`` due messages for delivery (see ``Outbox.claim``)."""
        platforms = None if platform is None else (platform,)
        return self.outbox.claim(now, limit, platforms=platforms)

    def mark_sent(self, item_id: int, platform_ref: str | None, now: datetime) -> None:
        self.outbox.mark_sent(item_id, platform_ref, now)

    def mark_retry(self, item_id: int, error: str, retry_at: datetime) -> None:
        """Leave the message queued until ``retry_at``; ``error`` is the platform's reason."""
        self.outbox.mark_retry(item_id, error, retry_at)

    def mark_dead(self, item_id: int, error: str) -> None:
        """Give up on the message (the platform refused it for good)."""
        self.outbox.mark_dead(item_id, error)

    def pending_count(self) -> int:
        """Messages neither sent nor given up on."""
        return self.outbox.pending_count()


class Tx:
    """One open business transaction (see ``Store.transaction``)."""

    def __init__(self, db: DbSession, methods: MethodLookup) -> None:
        self._db = db
        self._methods = methods
        # Each session as this transaction loaded or last saved it: a save writes the
        # difference to it, never to what other transactions stored meanwhile.
        self._loaded: dict[str, Session] = {}
        # What this transaction already read, so an event does not read it twice: the
        # sessions whose row it locked (their row cannot change until it commits), their
        # anchors and groups (a session never moves to another group).
        self._locked: set[str] = set()
        self._anchors: dict[str, str | None] = {}
        self._group_ids: dict[str, int] = {}
        self._groups: dict[int, Group] = {}

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
        known = self._groups.get(self._group_ids.get(session_id, -1))
        if known is not None:
            return known
        found = self._group_where(
            GroupRow.id
            == select(SessionRow.group_id).where(SessionRow.id == session_id).scalar_subquery()
        )
        if found is None:
            raise NotFoundError(f"session {session_id} is not stored")
        self._group_ids[session_id] = found.id
        return found

    # Sessions
    #
    # One writer per session: a loader that feeds a use case locks the session's row
    # (``lock=True``, the default) before it reads the parts, so the transaction that
    # applies an event is the only one changing that session until it commits. On
    # PostgreSQL that is ``SELECT ... FOR NO KEY UPDATE`` (it still lets other tables'
    # foreign keys point at the row); SQLite transactions begin IMMEDIATE, one writer at a
    # time. Several sessions are locked in id order, so two transactions never wait on
    # each other. Read-only listings pass ``lock=False``.

    def add_session(self, session: Session, group_id: int) -> None:
        """Store a new session in a group."""
        self._db.execute(
            insert(SessionRow).values(id=session.id, group_id=group_id, **_session_values(session))
        )
        self._write_parts(_bare(session), session)
        self._loaded[session.id] = session

    def save_session(self, session: Session) -> None:
        """Write what changed since this transaction loaded (or last saved) the session.

        Only the difference is written: new replies, reactions, votes and step runs are
        inserted, changed ones updated, and only those the flow removed from what was
        loaded are deleted; a row the loaded session never had is left alone. A session
        this transaction did not load is compared with what is stored now (locked).

        Raises:
            NotFoundError: the session was never added.
            ValueError: a partial session (``Scope``) from another transaction, or one
                loaded again (whole instead of in part, or the other way) before saving.
        """
        before = self._loaded.get(session.id)
        if before is None and session.partial:
            # compared with the whole stored session, what it lacks would look removed
            raise ValueError(f"session {session.id} was loaded in part in another transaction")
        if before is None:
            stored = self._by_ids([session.id], lock=True)
            before = stored[0] if stored else None
        values = _session_values(session)
        if before is None or session.id not in self._locked or values != _session_values(before):
            # a row this transaction holds locked and the flow left as it was is not written
            result = self._conn().execute(_UPDATE_SESSION, {"row_id": session.id, **values})
            if before is None or cast(CursorResult[Any], result).rowcount != 1:
                raise NotFoundError(f"session {session.id} is not stored; add it first")
        if before.partial != session.partial:
            # a difference between a whole and a partial session is no change of the flow's
            raise ValueError(
                f"session {session.id} was loaded again, whole or in part, before saving"
            )
        self._write_parts(before, session)
        self._loaded[session.id] = session

    def get_session(
        self, session_id: str, *, lock: bool = True, scope: Scope | None = None
    ) -> Session | None:
        """The session, whole or (with ``scope``) only the parts an event's rules read."""
        sessions = self._by_ids([session_id], lock=lock, scope=scope)
        return sessions[0] if sessions else None

    def session_for_thread(
        self,
        platform: str,
        workspace: str,
        channel: str,
        thread_ref: str,
        *,
        lock: bool = True,
        scope: Scope | None = None,
    ) -> Session | None:
        """The session whose anchor (or another post of the bot's) starts the thread."""
        # the common case, a reply to the anchor, in one statement: the row is read (and on
        # PostgreSQL read again) once its lock is granted, as ``_by_ids`` does
        query = _SESSION_BY_ANCHOR_LOCKED if lock else _SESSION_BY_ANCHOR
        params = {"platform": platform, "workspace": workspace, "channel": channel}
        by_anchor = self._conn().execute(query, {**params, "thread": thread_ref}).first()
        if by_anchor is not None:
            return self._build([by_anchor], scope, locked=lock)[0]
        posted = select(SessionPostRow.session_id).where(SessionPostRow.ref == thread_ref)
        where = _in_channel(platform, workspace, channel).where(SessionRow.id.in_(posted))
        found = self._db.scalar(where.limit(1))
        return None if found is None else self.get_session(found, lock=lock, scope=scope)

    def open_sessions_in(
        self,
        platform: str,
        workspace: str,
        channel: str,
        *,
        lock: bool = True,
        scope: Scope | None = None,
    ) -> list[Session]:
        """Sessions of the channel that are not closed, the most recently started first."""
        query = _in_channel(platform, workspace, channel).where(
            SessionRow.status != Status.CLOSED.value
        )
        found = self._by_ids(list(self._db.scalars(query)), lock=lock, scope=scope)
        # one may have closed while this transaction waited for its lock
        return [session for session in found if session.status is not Status.CLOSED]

    def open_sessions_of_user(
        self, platform: str, workspace: str, user: str
    ) -> list[tuple[Session, str]]:
        """A person's sessions in one workspace that are not closed, with their channel.

        A person's sessions are those they own, facilitate or take part in, and the open
        ones anybody may join. A read-only listing: nothing is locked.
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
        self,
        platform: str,
        workspace: str,
        channel: str,
        ref: str,
        *,
        lock: bool = True,
        scope: Scope | None = None,
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
        session = self.get_session(found.session_id, lock=lock, scope=scope)
        if session is None:
            return None
        return session, found.step_id

    # The bot's own posts

    def set_anchor(self, session_id: str, ref: str) -> None:
        self._db.execute(
            update(SessionRow).where(SessionRow.id == session_id).values(anchor_ref=ref),
            execution_options={"synchronize_session": False},
        )
        self._anchors[session_id] = ref

    def anchor_of(self, session_id: str) -> str | None:
        if session_id in self._anchors:
            return self._anchors[session_id]
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

    def posts_of(self, session_id: str) -> list[tuple[str, str, str | None]]:
        """The bot's posts of a session as ``(ref, kind, step_id)``, oldest first."""
        rows = self._db.execute(
            select(SessionPostRow.ref, SessionPostRow.kind, SessionPostRow.step_id)
            .where(SessionPostRow.session_id == session_id)
            .order_by(SessionPostRow.id)
        )
        return [(row.ref, row.kind, row.step_id) for row in rows]

    def refs_in_channel(self, platform: str, workspace: str, channel: str) -> set[str]:
        """Every message ref a session of the channel holds: anchors, the bot's posts and
        contributions (withdrawn ones too). A platform that numbers its own messages (the
        console) continues after them."""
        sessions = select(SessionRow.id).where(_channel_filter(platform, workspace, channel))
        anchors = select(SessionRow.anchor_ref).where(SessionRow.id.in_(sessions))
        posts = select(SessionPostRow.ref).where(SessionPostRow.session_id.in_(sessions))
        replies = select(ContributionRow.ref).where(ContributionRow.session_id.in_(sessions))
        found = self._db.scalars(anchors.union(posts, replies))
        return {ref for ref in found if ref is not None}

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
        return enqueue(self._conn(), platform, workspace, channel, session_id, payload, now)

    # Internals

    def _insert_new(
        self, model: type[Base], values: Mapping[str, Any], *, conflict: Sequence[str]
    ) -> bool:
        """Insert a row unless one with the same ``conflict`` key exists; True if inserted."""
        connection = self._conn()
        statement = _insert_unless_stored(model, tuple(conflict), connection.dialect.name)
        if statement is None:
            try:
                with self._db.begin_nested():
                    self._db.execute(insert(model).values(**values))
            except IntegrityError:
                return False
            return True
        # SQLAlchemy keeps the row count of an INSERT only when asked (psycopg: -1 otherwise).
        result = connection.execute(
            statement, dict(values), execution_options={"preserve_rowcount": True}
        )
        return result.rowcount == 1

    def _conn(self) -> Connection:
        """The transaction's connection, for Core statements built once (module level):
        the ORM's per-statement work is not needed where no mapped object is read."""
        return self._db.connection()

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
        params = {"platform": platform, "workspace": workspace, "channel": channel}
        return self._group_from(self._conn().execute(_GROUP_OF_CHANNEL, params).first())

    def _group_where(self, *conditions: ColumnElement[bool]) -> Group | None:
        return self._group_from(self._conn().execute(_GROUPS.where(*conditions)).first())

    def _group_from(self, found: Any) -> Group | None:
        if found is None:
            return None
        group = Group(
            id=found.id,
            platform=found.platform,
            workspace=found.external_id,
            channel=found.channel,
            language=found.language,
            timezone=found.timezone,
            settings=dict(found.settings or {}),
        )
        self._groups[group.id] = group
        return group

    def _method(self, method_id: str) -> Method:
        try:
            return self._methods(method_id)
        except KeyError as error:
            raise UnknownMethodError(
                f"a stored session uses method {method_id!r}, which is not in the catalogue"
            ) from error

    def _by_ids(
        self, ids: Sequence[str], *, lock: bool, scope: Scope | None = None
    ) -> list[Session]:
        """The sessions ``ids`` (in that order; unknown ids left out), locked if asked.

        The rows are read after their lock is granted, so they hold what the transaction
        that held it before committed; the parts are read after that.
        """
        if not ids:
            return []
        # SQLite ignores FOR UPDATE: its IMMEDIATE transactions already have one writer.
        query = _SESSIONS_BY_IDS_LOCKED if lock else _SESSIONS_BY_IDS
        rows = {row.id: row for row in self._conn().execute(query, {"ids": list(ids)})}
        return self._build([rows[i] for i in dict.fromkeys(ids) if i in rows], scope, locked=lock)

    def _build(
        self, rows: Sequence[Any], scope: Scope | None = None, *, locked: bool = False
    ) -> list[Session]:
        """Domain sessions for ``rows`` (in their order), their parts loaded in four queries.

        Contribution texts stay encrypted (``SealedText``) until something reads them.
        With a ``scope`` only its parts are read and the sessions come back ``partial``.
        Each session is remembered as loaded: ``save_session`` writes the difference.
        """
        if not rows:
            return []
        ids = [row.id for row in rows]
        run = self._conn().execute
        runs = _group(run(_RUNS, {"ids": ids}))
        current = {session_id: found[-1][0] for session_id, found in runs.items()}
        if scope is not None and len(ids) == 1:
            # one session for one event (a reply, an edit, a reaction): statements built once
            [session_id] = ids
            params = {
                "ids": ids,
                "person": scope.person,
                "refs": list(scope.refs),
                "step": current.get(session_id),
            }
            contributions = _group(run(_SCOPED_CONTRIBUTIONS, params))
            reactions = _group(run(_SCOPED_REACTIONS, params))
            votes = _group(run(_SCOPED_VOTES, params))
        else:
            contributions = _group(run(_contributions_of(ids, scope, current)))
            reactions = _group(run(_reactions_of(ids, scope)))
            votes = _group(run(_votes_of(ids, scope)))
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
                    StepRun(step, opened, deadline, closed, frozenset(ready))
                    for step, opened, deadline, closed, ready in runs[row.id]
                ),
                status=Status(row.status),
                named_record=row.named_record,
                open_membership=row.open_membership,
                deadline_hours=row.deadline_hours,
                contributions=tuple(
                    Contribution(ref, step, author, Sealed(token), *rest)
                    for ref, step, author, token, *rest in contributions[row.id]
                ),
                reactions=frozenset(Reaction(*values) for values in reactions[row.id]),
                votes=tuple(Vote(*values) for values in votes[row.id]),
                closed_at=row.closed_at,
                approved_at=row.approved_at,
                partial=scope is not None,
            )
            for row in rows
        ]
        for session in built:
            self._loaded[session.id] = session
        for row in rows:
            self._group_ids[row.id] = row.group_id
            if locked:
                # no other transaction changes a row this one holds locked
                self._locked.add(row.id)
                self._anchors[row.id] = row.anchor_ref
        return built

    def _write_parts(self, before: Session, after: Session) -> None:
        """Write the difference between two states of one session's parts."""
        self._write_runs(after.id, before.runs, after.runs)
        self._write_contributions(after.id, before.contributions, after.contributions)
        self._write_reactions(after.id, before.reactions, after.reactions)
        self._write_votes(after.id, before.votes, after.votes)

    def _write_runs(
        self, session_id: str, before: Sequence[StepRun], after: Sequence[StepRun]
    ) -> None:
        """Step runs are kept by position; a flow only changes the last and appends."""
        where = StepRunRow.session_id == session_id
        if len(after) < len(before):
            self._execute(delete(StepRunRow).where(where, StepRunRow.position >= len(after)))
        for position, run in enumerate(after):
            if position < len(before) and before[position] == run:
                continue
            values = _run_values(run)
            if position < len(before):
                self._execute(
                    update(StepRunRow).where(where, StepRunRow.position == position).values(values)
                )
            else:
                self._db.execute(
                    insert(StepRunRow).values(session_id=session_id, position=position, **values)
                )

    def _write_contributions(
        self, session_id: str, before: Sequence[Contribution], after: Sequence[Contribution]
    ) -> None:
        """Contributions are kept by ref. One left as it was loaded is not touched (nor
        decrypted); a changed one has only its changed columns written."""
        loaded = {c.ref: c for c in before}
        kept = {c.ref for c in after}
        gone = [ref for ref in loaded if ref not in kept]
        if gone:
            self._execute(
                delete(ContributionRow).where(
                    ContributionRow.session_id == session_id, ContributionRow.ref.in_(gone)
                )
            )
        for contribution in after:
            old = loaded.get(contribution.ref)
            if old is None:
                # one statement per row: ids in the flow's order break ties of ``at``
                self._conn().execute(
                    _INSERT_CONTRIBUTION,
                    {"session_id": session_id, **_contribution_values(contribution)},
                )
            elif old is not contribution:
                changed = _contribution_changes(old, contribution)
                if changed:
                    self._execute(
                        update(ContributionRow)
                        .where(
                            ContributionRow.session_id == session_id,
                            ContributionRow.ref == contribution.ref,
                        )
                        .values(changed)
                    )

    def _write_reactions(
        self, session_id: str, before: frozenset[Reaction], after: frozenset[Reaction]
    ) -> None:
        for r in sorted(before - after, key=_reaction_key):
            self._execute(
                delete(ReactionRow).where(
                    ReactionRow.session_id == session_id,
                    ReactionRow.step_id == r.step_id,
                    ReactionRow.target == r.target,
                    ReactionRow.emoji == r.emoji,
                    ReactionRow.user_id == r.user,
                )
            )
        for r in sorted(after - before, key=_reaction_key):
            self._db.execute(
                insert(ReactionRow).values(
                    session_id=session_id,
                    step_id=r.step_id,
                    target=r.target,
                    emoji=r.emoji,
                    user_id=r.user,
                )
            )

    def _write_votes(self, session_id: str, before: Sequence[Vote], after: Sequence[Vote]) -> None:
        """Votes keep their order: a changed vote moves to the end, as the flow puts it."""
        for v in [v for v in before if v not in after]:
            self._execute(
                delete(VoteRow).where(
                    VoteRow.session_id == session_id,
                    VoteRow.step_id == v.step_id,
                    VoteRow.user_id == v.user,
                    VoteRow.option == v.option,
                )
            )
        for v in [v for v in after if v not in before]:
            self._db.execute(
                insert(VoteRow).values(
                    session_id=session_id, step_id=v.step_id, user_id=v.user, option=v.option
                )
            )

    def _execute(self, statement: Any) -> None:
        """An UPDATE or DELETE by condition; the identity map is not consulted."""
        self._db.execute(statement, execution_options={"synchronize_session": False})


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


def _channel_filter(platform: Any, workspace: Any, channel: Any) -> ColumnElement[bool]:
    """True for sessions of the given channel (a condition on ``SessionRow``); the names as
    values or as bound parameters."""
    return SessionRow.group_id.in_(
        select(GroupRow.id)
        .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
        .where(
            WorkspaceRow.platform == platform,
            WorkspaceRow.external_id == workspace,
            GroupRow.channel == channel,
        )
    )


def _in_channel(platform: str, workspace: str, channel: str) -> Select[str]:
    """Ids of the channel's sessions, the most recently started first."""
    return (
        select(SessionRow.id)
        .where(_channel_filter(platform, workspace, channel))
        .order_by(SessionRow.started_at.desc(), SessionRow.id.desc())
    )


# Statements of the hot path (an event applied), built once: SQLAlchemy then reuses their
# compiled form without building and hashing them again for every event.


def _table(model: type[Base]) -> Table:
    return cast(Table, model.__table__)


_SESSION_TABLE = _table(SessionRow)
_SESSIONS_BY_IDS = (
    select(_SESSION_TABLE)
    .where(SessionRow.id.in_(bindparam("ids", expanding=True)))
    .order_by(SessionRow.id)
)
_SESSIONS_BY_IDS_LOCKED = _SESSIONS_BY_IDS.with_for_update(key_share=True)
_SESSION_BY_ANCHOR = (
    select(_SESSION_TABLE)
    .where(
        _channel_filter(bindparam("platform"), bindparam("workspace"), bindparam("channel")),
        SessionRow.anchor_ref == bindparam("thread"),
    )
    .order_by(SessionRow.started_at.desc(), SessionRow.id.desc())
    .limit(1)
)
_SESSION_BY_ANCHOR_LOCKED = _SESSION_BY_ANCHOR.with_for_update(key_share=True)
_GROUPS = select(
    GroupRow.id,
    GroupRow.channel,
    GroupRow.language,
    GroupRow.timezone,
    GroupRow.settings,
    WorkspaceRow.platform,
    WorkspaceRow.external_id,
).join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
_GROUP_OF_CHANNEL = _GROUPS.where(
    WorkspaceRow.platform == bindparam("platform"),
    WorkspaceRow.external_id == bindparam("workspace"),
    GroupRow.channel == bindparam("channel"),
)
_UPDATE_SESSION = update(_SESSION_TABLE).where(SessionRow.id == bindparam("row_id"))
_INSERT_CONTRIBUTION = insert(_table(ContributionRow))


def _insert_unless_stored(model: type[Base], conflict: tuple[str, ...], dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` for ``model``, built once per dialect; None for a
    dialect without it."""
    key = (model, conflict, dialect)
    if key not in _UPSERTS:
        if dialect == "postgresql":
            base: Any = postgresql_insert(_table(model))
        elif dialect == "sqlite":
            base = sqlite_insert(_table(model))
        else:
            return None
        _UPSERTS[key] = base.on_conflict_do_nothing(index_elements=list(conflict))
    return _UPSERTS[key]


_UPSERTS: dict[tuple[type[Base], tuple[str, ...], str], Any] = {}


class Sealed:
    """A contribution's text as stored: decrypted once, the first time it is read.

    Equal to its plain text (and to another ``Sealed`` of the same text), as the domain's
    ``SealedText`` asks. Its repr never shows the text.
    """

    __slots__ = ("_plain", "_token")

    def __init__(self, token: str) -> None:
        self._token = token
        self._plain: str | None = None

    def open(self) -> str:
        if self._plain is None:
            self._plain = current_cipher().decrypt(self._token)
        return self._plain

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sealed):
            return self._token == other._token or self.open() == other.open()
        if isinstance(other, str):
            return self.open() == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.open())

    def __repr__(self) -> str:
        return "Sealed(...)"


def _bare(session: Session) -> Session:
    """``session`` without parts: what is stored of a session not added yet."""
    return replace(session, runs=(), contributions=(), reactions=frozenset(), votes=())


def _runs_of(ids: Sequence[str]) -> Select[*tuple[Any, ...]]:
    r = StepRunRow
    return (
        select(r.session_id, r.step_id, r.opened_at, r.deadline, r.closed_at, r.ready)
        .where(r.session_id.in_(ids))
        .order_by(r.session_id, r.position)
    )


def _contributions_of(
    ids: Sequence[str], scope: Scope | None, current: Mapping[str, str]
) -> Select[*tuple[Any, ...]]:
    """Contributions in the order they were written (the platform's time, then arrival),
    their text as the stored ciphertext; with a ``scope``, only its person's in the current
    step (``current``: step id by session) and those it names."""
    c = ContributionRow
    query = (
        select(
            c.session_id,
            c.ref,
            c.step_id,
            c.author,
            type_coerce(c.text, Text()),
            c.at,
            c.edited_at,
            c.withdrawn,
            c.counted,
            c.held,
        )
        .where(c.session_id.in_(ids))
        .order_by(c.session_id, c.at, c.id)
    )
    if scope is None:
        return query
    in_step = [
        and_(c.session_id == session_id, c.step_id == step_id, c.author == scope.person)
        for session_id, step_id in current.items()
    ]
    return query.where(or_(c.ref.in_(scope.refs), *in_step))


def _reactions_of(ids: Sequence[str], scope: Scope | None) -> Select[*tuple[Any, ...]]:
    r = ReactionRow
    query = select(r.session_id, r.step_id, r.target, r.emoji, r.user_id).where(
        r.session_id.in_(ids)
    )
    return query if scope is None else query.where(r.user_id == scope.person)


def _votes_of(ids: Sequence[str], scope: Scope | None) -> Select[*tuple[Any, ...]]:
    v = VoteRow
    query = (
        select(v.session_id, v.step_id, v.user_id, v.option)
        .where(v.session_id.in_(ids))
        .order_by(v.session_id, v.id)
    )
    return query if scope is None else query.where(v.user_id == scope.person)


# The parts of one session a ``Scope`` names, as statements built once (see ``Tx._build``):
# ``ids`` the session, ``person`` the scope's, ``refs`` its refs, ``step`` the current step
# (None when no step has run: then only ``refs``).
_IDS: Any = bindparam("ids", expanding=True)
_PERSON: Any = bindparam("person")
_RUNS = _runs_of(_IDS)
_SCOPED_CONTRIBUTIONS = _contributions_of(_IDS, None, {}).where(
    or_(
        ContributionRow.ref.in_(bindparam("refs", expanding=True)),
        and_(ContributionRow.step_id == bindparam("step"), ContributionRow.author == _PERSON),
    )
)
_SCOPED_REACTIONS = _reactions_of(_IDS, None).where(ReactionRow.user_id == _PERSON)
_SCOPED_VOTES = _votes_of(_IDS, None).where(VoteRow.user_id == _PERSON)


def _group(rows: Iterable[Any]) -> dict[str, list[tuple[Any, ...]]]:
    """Rows whose first column is a session id, by session, without that column."""
    grouped: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for session_id, *values in rows:
        grouped[session_id].append(tuple(values))
    return grouped


def _run_values(run: StepRun) -> dict[str, Any]:
    return {
        "step_id": run.step_id,
        "opened_at": run.opened_at,
        "deadline": run.deadline,
        "closed_at": run.closed_at,
        "ready": sorted(run.ready),
    }


def _contribution_values(contribution: Contribution) -> dict[str, Any]:
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


_CONTRIBUTION_FLAGS = ("step_id", "author", "at", "edited_at", "withdrawn", "counted", "held")


def _contribution_changes(old: Contribution, new: Contribution) -> dict[str, Any]:
    """The columns that differ; the text only when the flow gave a new one (no decryption)."""
    changed = {
        name: getattr(new, name)
        for name in _CONTRIBUTION_FLAGS
        if getattr(old, name) != getattr(new, name)
    }
    if new.body is not old.body and old.body != new.body:
        changed["text"] = new.text
    return changed


def _reaction_key(reaction: Reaction) -> tuple[str, str, str, str]:
    return (reaction.step_id, reaction.target, reaction.emoji, reaction.user)
