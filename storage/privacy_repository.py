"""Storage: confidentiality — audit log, approval look-ups, a person's data, retention, keys.

``PrivacyRepository(tx)`` works inside one business transaction (``Store.transaction``), on
the same SQLAlchemy session as ``Tx``. The use cases see plain values (``AuditEntry``,
``WrittenItem``, ``SessionSummary``, ``ExpiredSession``), never a row.

``rotate_keys(engine, cipher)`` is the one function here that works on a whole database
outside a business transaction: it re-encrypts every encrypted column (our own, found
through the models' metadata, and Slack's stored tokens) with the newest key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Engine,
    Select,
    Text,
    column,
    delete,
    func,
    insert,
    inspect,
    select,
    table,
    update,
)

from storage.crypto import Cipher, EncryptedText
from storage.models import (
    ContributionRow,
    GroupRow,
    OutboxRow,
    ReactionRow,
    SessionPostRow,
    SessionRow,
    StepRunRow,
    VoteRow,
    WorkspaceRow,
    metadata,
)
from storage.models_privacy import AuditRow, SessionSummaryRow
from storage.repositories import Tx

SLACK_TOKEN_TABLES: Mapping[str, tuple[str, ...]] = {
    "slack_bots": ("bot_token", "bot_refresh_token"),
    "slack_installations": (
        "bot_token",
        "bot_refresh_token",
        "user_token",
        "user_refresh_token",
    ),
}
SLACK_SECRET_PREFIX = "enc:"  # noqa: S105 - the marker bot.platforms.slack.app writes


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    platform: str | None
    workspace: str | None
    actor: str
    action: str
    target: str | None
    detail: Mapping[str, Any] = field(default_factory=dict, hash=False)


@dataclass(frozen=True)
class WrittenItem:
    """One contribution a person wrote, with where it belongs (for ``my-data``)."""

    session_id: str
    channel: str
    method_id: str
    started_at: datetime
    step_id: str
    ref: str
    text: str
    at: datetime
    withdrawn: bool
    held: bool


@dataclass(frozen=True)
class Forgotten:
    """What ``forget`` removed."""

    contributions: int
    reactions: int
    votes: int
    messages: int


@dataclass(frozen=True)
class ExpiredCandidate:
    """A closed session and the settings of its group (their retention decides)."""

    session_id: str
    closed_at: datetime
    settings: Mapping[str, Any] = field(hash=False)


@dataclass(frozen=True)
class SessionSummary:
    """The counts kept of a session after its texts were purged."""

    session_id: str
    group_id: int
    method_id: str
    mode: str
    language: str
    started_at: datetime
    closed_at: datetime | None
    participants: int
    contributions: int
    steps_reached: int
    approved: bool


class PrivacyRepository:
    """The confidentiality queries and writes inside one open business transaction."""

    def __init__(self, tx: Tx) -> None:
        self._tx = tx
        self._db = tx.db

    # --- audit log ----------------------------------------------------------------------

    def audit(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        platform: str | None = None,
        workspace: str | None = None,
        target: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Record an administrative action. ``detail`` must never hold what people wrote."""
        workspace_id = (
            self._workspace_id(platform, workspace) if platform and workspace is not None else None
        )
        self._db.execute(
            insert(AuditRow).values(
                at=at,
                workspace_id=workspace_id,
                actor=actor,
                action=action,
                target=target,
                detail=dict(detail or {}),
            )
        )

    def audit_entries(self, *, action: str | None = None) -> list[AuditEntry]:
        """The audit log, oldest first (optionally of one action)."""
        query = (
            select(AuditRow, WorkspaceRow.platform, WorkspaceRow.external_id)
            .outerjoin(WorkspaceRow, WorkspaceRow.id == AuditRow.workspace_id)
            .order_by(AuditRow.id)
        )
        if action is not None:
            query = query.where(AuditRow.action == action)
        return [
            AuditEntry(
                at=row.at,
                platform=platform,
                workspace=workspace,
                actor=row.actor,
                action=row.action,
                target=row.target,
                detail=dict(row.detail or {}),
            )
            for row, platform, workspace in self._db.execute(query).all()
        ]

    # --- finding a session for a person --------------------------------------------------

    def sessions_in_channel(
        self, platform: str, workspace: str, channel: str, *, unapproved_only: bool = False
    ) -> list[str]:
        """Ids of the channel's sessions, the most recently started first."""
        query = self._sessions_where(
            _workspace_is(platform, workspace), GroupRow.channel == channel
        )
        if unapproved_only:
            query = query.where(SessionRow.approved_at.is_(None))
        return list(self._db.scalars(query))

    def sessions_of_person(self, platform: str, workspace: str, user: str) -> list[str]:
        """Ids of a workspace's sessions the person owns, facilitates or wrote in, newest first."""
        wrote = select(ContributionRow.session_id).where(ContributionRow.author == user)
        query = self._sessions_where(
            _workspace_is(platform, workspace),
            (SessionRow.case_owner == user)
            | (SessionRow.facilitator == user)
            | SessionRow.id.in_(wrote),
        )
        ids = list(self._db.scalars(query))
        # participants is a JSON list: checked in Python, the same on every backend
        listed = self._db.execute(
            self._sessions_where(_workspace_is(platform, workspace)).add_columns(
                SessionRow.participants
            )
        ).all()
        ids += [str(row[0]) for row in listed if user in (row[1] or []) and row[0] not in ids]
        return ids

    def _sessions_where(self, *conditions: ColumnElement[bool]) -> Select[Any]:
        return (
            select(SessionRow.id)
            .join(GroupRow, GroupRow.id == SessionRow.group_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(*conditions)
            .order_by(SessionRow.started_at.desc(), SessionRow.id.desc())
        )

    # --- a person's data -------------------------------------------------------------------

    def written_by(self, platform: str, workspace: str, user: str) -> list[WrittenItem]:
        """Every contribution ``user`` wrote in the workspace, oldest first."""
        rows = self._db.execute(
            select(ContributionRow, SessionRow.method_id, SessionRow.started_at, GroupRow.channel)
            .join(SessionRow, SessionRow.id == ContributionRow.session_id)
            .join(GroupRow, GroupRow.id == SessionRow.group_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(_workspace_is(platform, workspace), ContributionRow.author == user)
            .order_by(SessionRow.started_at, ContributionRow.id)
        ).all()
        return [
            WrittenItem(
                session_id=c.session_id,
                channel=channel,
                method_id=method_id,
                started_at=started_at,
                step_id=c.step_id,
                ref=c.ref,
                text=c.text,
                at=c.at,
                withdrawn=c.withdrawn,
                held=c.held,
            )
            for c, method_id, started_at, channel in rows
        ]

    def forget(self, platform: str, workspace: str, user: str) -> Forgotten:
        """Delete what ``user`` wrote in the workspace: contributions, reactions, votes, and
        the sent copies of the bot's messages there (which may quote them)."""
        sessions = (
            select(SessionRow.id)
            .join(GroupRow, GroupRow.id == SessionRow.group_id)
            .join(WorkspaceRow, WorkspaceRow.id == GroupRow.workspace_id)
            .where(_workspace_is(platform, workspace))
        )
        counts = [
            self._delete_where(model, model.session_id.in_(sessions), where)
            for model, where in (
                (ContributionRow, ContributionRow.author == user),
                (ReactionRow, ReactionRow.user_id == user),
                (VoteRow, VoteRow.user_id == user),
            )
        ]
        messages = self._delete_where(
            OutboxRow,
            OutboxRow.platform == platform,
            OutboxRow.workspace == workspace,
            OutboxRow.sent_at.is_not(None) | OutboxRow.dead,
        )
        contributions, reactions, votes = counts
        return Forgotten(contributions, reactions, votes, messages)

    # --- retention ---------------------------------------------------------------------------

    def closed_sessions(self, closed_before: datetime) -> list[ExpiredCandidate]:
        """Closed sessions that closed before ``closed_before``, with their group's settings."""
        rows = self._db.execute(
            select(SessionRow.id, SessionRow.closed_at, GroupRow.settings)
            .join(GroupRow, GroupRow.id == SessionRow.group_id)
            .where(SessionRow.status == "closed", SessionRow.closed_at < closed_before)
            .order_by(SessionRow.closed_at)
        ).all()
        return [
            ExpiredCandidate(session_id, closed_at, dict(settings or {}))
            for session_id, closed_at, settings in rows
            if closed_at is not None
        ]

    def purge_session(self, session_id: str, *, now: datetime) -> SessionSummary | None:
        """Replace a session by its summary: every text, person and post of it is deleted."""
        # Locked first: an event applied to the session meanwhile is counted, then purged.
        row = self._db.get(SessionRow, session_id, populate_existing=True, with_for_update=True)
        if row is None:
            return None
        contributions = self._db.scalar(
            select(func.count())
            .select_from(ContributionRow)
            .where(
                ContributionRow.session_id == session_id,
                ContributionRow.counted,
                ~ContributionRow.withdrawn,
                ~ContributionRow.held,
            )
        )
        steps = self._db.scalar(
            select(func.count()).select_from(StepRunRow).where(StepRunRow.session_id == session_id)
        )
        members = {row.case_owner, row.facilitator, *(row.participants or [])}
        summary = SessionSummary(
            session_id=row.id,
            group_id=row.group_id,
            method_id=row.method_id,
            mode=row.mode,
            language=row.language,
            started_at=row.started_at,
            closed_at=row.closed_at,
            participants=len(members),
            contributions=int(contributions or 0),
            steps_reached=int(steps or 0),
            approved=row.approved_at is not None,
        )
        self._db.execute(
            insert(SessionSummaryRow).values(
                session_id=summary.session_id,
                group_id=summary.group_id,
                method_id=summary.method_id,
                mode=summary.mode,
                language=summary.language,
                started_at=summary.started_at,
                closed_at=summary.closed_at,
                participants=summary.participants,
                contributions=summary.contributions,
                steps_reached=summary.steps_reached,
                approved=summary.approved,
                purged_at=now,
            )
        )
        # Children first: the result does not depend on the database enforcing cascades.
        for model in (ContributionRow, ReactionRow, VoteRow, StepRunRow, SessionPostRow):
            self._delete_where(model, model.session_id == session_id)
        self._delete_where(OutboxRow, OutboxRow.session_id == session_id)
        self._db.expunge(row)
        self._delete_where(SessionRow, SessionRow.id == session_id)
        return summary

    def purge_sent_messages(self, sent_before: datetime) -> int:
        """Delete the copies of messages delivered (or given up on) before ``sent_before``."""
        return self._delete_where(
            OutboxRow,
            (OutboxRow.sent_at < sent_before)
            | (OutboxRow.dead & (OutboxRow.created_at < sent_before)),
        )

    def summaries(
        self, group_ids: Iterable[int] | None = None, *, since: datetime | None = None
    ) -> list[SessionSummary]:
        """Summaries of purged sessions (for the CoP digest), oldest first."""
        query = select(SessionSummaryRow).order_by(SessionSummaryRow.started_at)
        if group_ids is not None:
            query = query.where(SessionSummaryRow.group_id.in_(list(group_ids)))
        if since is not None:
            query = query.where(SessionSummaryRow.closed_at >= since)
        return [
            SessionSummary(
                session_id=row.session_id,
                group_id=row.group_id,
                method_id=row.method_id,
                mode=row.mode,
                language=row.language,
                started_at=row.started_at,
                closed_at=row.closed_at,
                participants=row.participants,
                contributions=row.contributions,
                steps_reached=row.steps_reached,
                approved=row.approved,
            )
            for row in self._db.scalars(query)
        ]

    # --- internals ------------------------------------------------------------------------------

    def _delete_where(self, model: type[Any], *conditions: ColumnElement[bool]) -> int:
        result = self._db.execute(
            delete(model).where(*conditions),
            execution_options={"synchronize_session": False},
        )
        return int(getattr(result, "rowcount", 0) or 0)

    def _workspace_id(self, platform: str, workspace: str) -> int | None:
        return self._db.scalar(
            select(WorkspaceRow.id).where(
                WorkspaceRow.platform == platform, WorkspaceRow.external_id == workspace
            )
        )


def _workspace_is(platform: str, workspace: str) -> ColumnElement[bool]:
    return (WorkspaceRow.platform == platform) & (WorkspaceRow.external_id == workspace)


# --- key rotation -------------------------------------------------------------------------------


def encrypted_columns() -> dict[str, tuple[list[str], list[str]]]:
    """Every table with encrypted columns: ``name -> (primary key columns, encrypted columns)``."""
    found: dict[str, tuple[list[str], list[str]]] = {}
    for model_table in metadata.sorted_tables:
        names = [c.name for c in model_table.columns if isinstance(c.type, EncryptedText)]
        if names:
            found[model_table.name] = ([c.name for c in model_table.primary_key.columns], names)
    return found


def rotate_keys(engine: Engine, cipher: Cipher) -> dict[str, int]:
    """Re-encrypt every stored secret with ``cipher``'s newest key, in one transaction.

    Covers every ``EncryptedText`` column of the models (contributions, queued messages, and
    any other issue's) and Slack's stored tokens (``enc:``-prefixed). Values are read and
    written as raw ciphertext: nothing is decrypted into Python longer than one call.

    Returns:
        How many values were re-encrypted, per ``table.column``.

    Raises:
        storage.crypto.DecryptionError: a value no configured key can read (nothing changes).
    """
    existing = set(inspect(engine).get_table_names())
    counts: dict[str, int] = {}
    with engine.begin() as connection:
        for name, (keys, columns) in encrypted_columns().items():
            if name not in existing:
                continue
            for column_name in columns:
                counts[f"{name}.{column_name}"] = _rotate_column(
                    connection, name, keys, column_name, cipher, prefix=""
                )
        for name, tokens in SLACK_TOKEN_TABLES.items():
            if name not in existing:
                continue
            present = {c["name"] for c in inspect(connection).get_columns(name)}
            for column_name in tokens:
                if column_name in present:
                    counts[f"{name}.{column_name}"] = _rotate_column(
                        connection, name, ["id"], column_name, cipher, prefix=SLACK_SECRET_PREFIX
                    )
    return counts


def _rotate_column(
    connection: Any,
    table_name: str,
    keys: Sequence[str],
    column_name: str,
    cipher: Cipher,
    *,
    prefix: str,
) -> int:
    raw = table(table_name, *(column(k) for k in keys), column(column_name, Text()))
    value = raw.c[column_name]
    rows = connection.execute(
        select(*(raw.c[k] for k in keys), value).where(value.is_not(None))
    ).all()
    rotated = 0
    for row in rows:
        stored = row[-1]
        if not stored or not stored.startswith(prefix):
            continue
        fresh = prefix + cipher.rotate(stored[len(prefix) :])
        where = [raw.c[k] == row[i] for i, k in enumerate(keys)]
        connection.execute(update(raw).where(*where).values({column_name: fresh}))
        rotated += 1
    return rotated
