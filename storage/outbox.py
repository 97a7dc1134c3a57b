"""Storage: the outbox of outbound messages, drained by the delivery worker.

A message is queued in the business transaction that caused it (``Tx.enqueue``) and
taken from here by ``claim``: only the oldest undelivered message of a channel, so a later
post never overtakes an earlier one, leased to one worker for a few seconds
(``claimed_until``). A message in several parts records each part as it goes
(``record_part``), so a worker that died resumes at the next part. Sending a message
also remembers the bot's post for its session (the anchor, a step post) in the same
transaction. On PostgreSQL, rows another process is claiming right now are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import (
    ColumnElement,
    Connection,
    CursorResult,
    Engine,
    Table,
    and_,
    case,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.orm import aliased, sessionmaker

from storage.db import reader
from storage.models import OutboxRow, SessionPostRow, SessionRow

DEFAULT_LEASE = timedelta(seconds=5)
_ERROR_LENGTH = 1000

PostKind = Literal["anchor", "step", "note"]


@dataclass(frozen=True)
class OutboxItem:
    """A queued outbound message, claimed for delivery.

    ``attempts`` counts the delivery attempts made before this one; ``parts_sent`` and
    ``part_refs`` what an earlier attempt already posted of a message in several parts.
    ``anchor_ref`` is the session's anchor as stored when the message was claimed.
    """

    id: int
    platform: str
    workspace: str
    channel: str
    session_id: str | None
    payload: dict[str, Any] = field(hash=False)
    attempts: int = 0
    parts_sent: int = 0
    part_refs: tuple[str, ...] = ()
    anchor_ref: str | None = None


@dataclass(frozen=True)
class BotPost:
    """A post of the bot's to remember with its session once it is sent.

    An ``anchor`` also becomes the session's anchor (the thread its steps go into).
    """

    session_id: str
    kind: PostKind
    step_id: str | None = None


@dataclass(frozen=True)
class Contact:
    """Whom to tell when a session's messages cannot be posted, and in which language."""

    facilitator: str
    language: str


class Outbox:
    """The outbox table: claim, record progress, mark sent, retry, give up.

    Args:
        engine: a migrated engine (``storage.db``).
        lease: how long a claimed message stays hidden from other claimers; a message
            whose worker died is due again after it (``renew`` extends it).
    """

    def __init__(self, engine: Engine, *, lease: timedelta = DEFAULT_LEASE) -> None:
        self.engine = engine
        self.lease = lease
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self._reads = sessionmaker(reader(engine), expire_on_commit=False, autoflush=False)

    def add(
        self,
        platform: str,
        workspace: str,
        channel: str,
        session_id: str | None,
        payload: Mapping[str, Any],
        now: datetime,
    ) -> int:
        """Queue a message in a transaction of its own (the worker's own notices)."""
        with self._sessions.begin() as db:
            return enqueue(db, platform, workspace, channel, session_id, payload, now)

    def claim(
        self, now: datetime, limit: int = 20, *, platforms: Collection[str] | None = None
    ) -> list[OutboxItem]:
        """Lease up to ``limit`` due messages, at most one per channel, oldest first.

        Only a channel's oldest undelivered message is due: a later post never overtakes
        an earlier one waiting for a retry or leased to another worker.
        """
        query = (
            select(OutboxRow, SessionRow.anchor_ref)
            .outerjoin(SessionRow, SessionRow.id == OutboxRow.session_id)
            .where(_pending(), _head_of_channel(), _due(now))
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        if platforms is not None:
            query = query.where(OutboxRow.platform.in_(list(platforms)))
        with self._sessions.begin() as db:
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=OutboxRow)
            rows = db.execute(query.execution_options(populate_existing=True)).all()
            if not rows:
                return []
            items = [_item(row, anchor_ref) for row, anchor_ref in rows]
            db.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_([item.id for item in items]))
                .values(attempts=OutboxRow.attempts + 1, claimed_until=now + self.lease),
                execution_options={"synchronize_session": False},
            )
        return items

    def renew(self, item_ids: Collection[int], now: datetime) -> None:
        """Extend the lease of messages still being delivered."""
        if item_ids:
            self._update(OutboxRow.id.in_(list(item_ids)), claimed_until=now + self.lease)

    def record_part(self, item_id: int, refs: Sequence[str], next_at: datetime) -> bool:
        """Record that ``refs[-1]`` (the part after ``refs[:-1]``) was posted.

        The message stays claimable from ``next_at`` for its next part; progress resets
        its attempts. False when the stored progress is not ``refs[:-1]`` (another worker
        took the message over after this one's lease ran out): stop delivering it.
        """
        with self._sessions.begin() as db:
            result = db.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id, OutboxRow.parts_sent == len(refs) - 1)
                .values(
                    parts_sent=len(refs),
                    part_refs=list(refs),
                    attempts=0,
                    claimed_until=None,
                    next_attempt_at=next_at,
                ),
                execution_options={"synchronize_session": False},
            )
            return bool(_rowcount(result) == 1)

    def mark_sent(
        self,
        item_id: int,
        platform_ref: str | None,
        now: datetime,
        *,
        post: BotPost | None = None,
        pace_until: datetime | None = None,
    ) -> None:
        """The message is delivered; remember ``post``; its channel's next waits for
        ``pace_until`` (the platform's posting rate), in one transaction."""
        with self._sessions.begin() as db:
            channel = db.execute(
                select(OutboxRow.platform, OutboxRow.workspace, OutboxRow.channel).where(
                    OutboxRow.id == item_id
                )
            ).first()
            db.execute(
                update(OutboxRow)
                .where(OutboxRow.id == item_id)
                .values(
                    sent_at=now, platform_ref=platform_ref, last_error=None, claimed_until=None
                ),
                execution_options={"synchronize_session": False},
            )
            if post is not None and platform_ref:
                _remember(db, post, platform_ref)
            if pace_until is not None and channel is not None:
                db.execute(
                    update(OutboxRow)
                    .where(
                        _pending(),
                        _same_channel(*channel),
                        OutboxRow.id > item_id,
                        OutboxRow.next_attempt_at < pace_until,
                    )
                    .values(next_attempt_at=pace_until),
                    execution_options={"synchronize_session": False},
                )

    def mark_retry(
        self, item_id: int, error: str, retry_at: datetime, *, counts: bool = True
    ) -> None:
        """Leave the message queued until ``retry_at``; ``error`` is the platform's reason.

        ``counts=False`` (a rate limit, a credential an admin must fix) gives the attempt
        back: waiting where the platform says to wait never makes a message dead.
        """
        values: dict[str, Any] = {
            "last_error": error[:_ERROR_LENGTH],
            "next_attempt_at": retry_at,
            "claimed_until": None,
        }
        if not counts:
            values["attempts"] = case(
                (OutboxRow.attempts > 0, OutboxRow.attempts - 1), else_=OutboxRow.attempts
            )
        self._update(OutboxRow.id == item_id, **values)

    def mark_dead(self, item_id: int, error: str) -> None:
        """Give up on the message; its channel's next message is due."""
        self._update(
            OutboxRow.id == item_id, last_error=error[:_ERROR_LENGTH], dead=True, claimed_until=None
        )

    def release_claims(self) -> int:
        """Make every leased message claimable again (a single process, at start: no other
        worker can hold one). Returns how many were released."""
        with self._sessions.begin() as db:
            result = db.execute(
                update(OutboxRow)
                .where(_pending(), OutboxRow.claimed_until.is_not(None))
                .values(claimed_until=None),
                execution_options={"synchronize_session": False},
            )
            return _rowcount(result)

    def next_due(self, *, platforms: Collection[str] | None = None) -> datetime | None:
        """When the earliest channel's next message falls due; None when nothing waits."""
        due_at = case(
            (
                and_(
                    OutboxRow.claimed_until.is_not(None),
                    OutboxRow.claimed_until > OutboxRow.next_attempt_at,
                ),
                OutboxRow.claimed_until,
            ),
            else_=OutboxRow.next_attempt_at,
        )
        query = select(func.min(due_at)).where(_pending(), _head_of_channel())
        if platforms is not None:
            query = query.where(OutboxRow.platform.in_(list(platforms)))
        with self._reads.begin() as db:
            found: datetime | None = db.scalar(query)
        return found

    def pending_count(self) -> int:
        """Messages neither sent nor given up on."""
        with self._reads.begin() as db:
            count = db.scalar(select(func.count()).select_from(OutboxRow).where(_pending()))
        return int(count or 0)

    def contact_of(self, session_id: str) -> Contact | None:
        """The facilitator of a session and its language; None when it is gone."""
        with self._sessions.begin() as db:
            found = db.execute(
                select(SessionRow.facilitator, SessionRow.language).where(
                    SessionRow.id == session_id
                )
            ).first()
        return Contact(found.facilitator, found.language) if found is not None else None

    def _update(self, where: ColumnElement[bool], **values: Any) -> None:
        with self._sessions.begin() as db:
            db.execute(
                update(OutboxRow).where(where).values(**values),
                execution_options={"synchronize_session": False},
            )


def enqueue(
    db: DbSession | Connection,
    platform: str,
    workspace: str,
    channel: str,
    session_id: str | None,
    payload: Mapping[str, Any],
    now: datetime,
) -> int:
    """Insert a message into the outbox in ``db``'s transaction; returns its id."""
    result = db.execute(
        _INSERT,
        {
            "platform": platform,
            "workspace": workspace,
            "channel": channel,
            "session_id": session_id,
            "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
            "dead": False,
        },
    )
    key = cast(CursorResult[Any], result).inserted_primary_key
    assert key is not None
    return int(key[0])


# Built once: queuing is on the path of every event.
_INSERT = insert(cast(Table, OutboxRow.__table__))


def _pending() -> ColumnElement[bool]:
    return and_(OutboxRow.sent_at.is_(None), ~OutboxRow.dead)


def _same_channel(platform: str, workspace: str, channel: str) -> ColumnElement[bool]:
    return and_(
        OutboxRow.platform == platform,
        OutboxRow.workspace == workspace,
        OutboxRow.channel == channel,
    )


def _head_of_channel() -> ColumnElement[bool]:
    """True for the oldest pending message of its channel."""
    earlier = aliased(OutboxRow, name="earlier")
    return ~exists().where(
        earlier.platform == OutboxRow.platform,
        earlier.workspace == OutboxRow.workspace,
        earlier.channel == OutboxRow.channel,
        earlier.id < OutboxRow.id,
        earlier.sent_at.is_(None),
        ~earlier.dead,
    )


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxRow.next_attempt_at <= now,
        or_(OutboxRow.claimed_until.is_(None), OutboxRow.claimed_until <= now),
    )


def _item(row: OutboxRow, anchor_ref: str | None) -> OutboxItem:
    return OutboxItem(
        id=row.id,
        platform=row.platform,
        workspace=row.workspace,
        channel=row.channel,
        session_id=row.session_id,
        payload=json.loads(row.payload),
        attempts=row.attempts,
        parts_sent=row.parts_sent,
        part_refs=tuple(row.part_refs or ()),
        anchor_ref=anchor_ref,
    )


def _remember(db: DbSession, post: BotPost, ref: str) -> None:
    """Store the bot's post with its session (idempotent per ref), and an anchor as such."""
    if post.kind == "anchor":
        db.execute(
            update(SessionRow).where(SessionRow.id == post.session_id).values(anchor_ref=ref),
            execution_options={"synchronize_session": False},
        )
    values = {"session_id": post.session_id, "ref": ref, "kind": post.kind, "step_id": post.step_id}
    dialect = db.get_bind().dialect.name
    insert_new = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert_new(SessionPostRow).values(**values)
    db.execute(statement.on_conflict_do_nothing(index_elements=["session_id", "ref"]))


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)
