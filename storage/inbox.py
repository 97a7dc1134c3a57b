"""Storage: the inbox of inbound events (see ``storage.models_inbox``).

Ingress ``accept``s an event in a short transaction of its own and commits before the
platform is answered. Workers ``claim`` the oldest waiting event of each lane, apply it
and ``finish`` it inside the transaction that applied it. On PostgreSQL, rows another
process is claiming right now are skipped (``FOR UPDATE SKIP LOCKED``); a lane whose
oldest event is claimed or backing off blocks the rest of the lane, so events of one lane
are applied in order, one at a time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import sessionmaker

from storage.models_inbox import InboxRow
from storage.repositories import Tx
from storage.writer_turns import urgent

DEFAULT_LEASE = timedelta(seconds=15)
BELL = "intervision_inbox"
"""PostgreSQL's notification channel: rung by every event stored, heard by every worker."""
_RING = text(f"NOTIFY {BELL}")
CLAIM_WINDOW = 500
"""How many of the oldest waiting events a claim looks through for lane heads."""
_ERROR_LENGTH = 1000

logger = logging.getLogger(__name__)
# built once: it runs for every event applied
_FINISH = delete(InboxRow).where(InboxRow.id == bindparam("item_id"))


@dataclass(frozen=True)
class InboxItem:
    """A claimed inbound event; ``attempts`` counts the tries before this one."""

    id: int
    platform: str
    event_id: str
    lane: str
    payload: dict[str, Any] = field(hash=False)
    received_at: datetime
    attempts: int = 0


class Inbox:
    """The inbox table: accept, claim, finish, retry, give up."""

    def __init__(self, engine: Engine, *, lease: timedelta = DEFAULT_LEASE) -> None:
        self.engine = engine
        self._lease = lease
        self._sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)

    def accept(
        self, platform: str, event_id: str, lane: str, payload: Mapping[str, Any], now: datetime
    ) -> bool:
        """Store an event durably (committed when this returns); False for a duplicate."""
        values = {
            "platform": platform,
            "event_id": event_id,
            "lane": lane,
            "payload": json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
            "received_at": now,
            "attempts": 0,
            "dead": False,
        }
        with urgent(), self._sessions.begin() as db:
            postgres = db.get_bind().dialect.name == "postgresql"
            insert = postgresql_insert if postgres else sqlite_insert
            statement = insert(InboxRow).values(**values)
            statement = statement.on_conflict_do_nothing(index_elements=["platform", "event_id"])
            result = db.connection().execute(
                statement, execution_options={"preserve_rowcount": True}
            )
            accepted = bool(result.rowcount == 1)
            if accepted and postgres:
                db.execute(_RING)  # delivered at commit, to workers in other processes
            return accepted

    def claim(self, now: datetime, limit: int = 20) -> list[InboxItem]:
        """Lease the oldest waiting event of up to ``limit`` lanes, oldest first."""
        # Each lane's head among the oldest waiting events: the cost follows the window,
        # not the length of a backlog. A lane with an event in the window has its head
        # there too (heads are older), so no lane is ever skipped ahead of its turn. A
        # head that is leased or backing off keeps the rest of its lane waiting.
        oldest = (
            select(InboxRow.id, InboxRow.lane)
            .where(~InboxRow.dead)
            .order_by(InboxRow.id)
            .limit(CLAIM_WINDOW)
            .subquery()
        )
        heads = select(func.min(oldest.c.id)).group_by(oldest.c.lane)
        query = (
            select(InboxRow)
            .where(
                InboxRow.id.in_(heads),
                or_(InboxRow.not_before.is_(None), InboxRow.not_before <= now),
            )
            .order_by(InboxRow.id)
            .limit(limit)
        )
        with self._sessions.begin() as db:
            if db.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=InboxRow)
            rows = db.scalars(query.execution_options(populate_existing=True)).all()
            if not rows:
                return []
            items = [
                InboxItem(
                    id=row.id,
                    platform=row.platform,
                    event_id=row.event_id,
                    lane=row.lane,
                    payload=json.loads(row.payload),
                    received_at=row.received_at,
                    attempts=row.attempts,
                )
                for row in rows
            ]
            db.execute(
                update(InboxRow)
                .where(InboxRow.id.in_([item.id for item in items]))
                .values(attempts=InboxRow.attempts + 1, not_before=now + self._lease),
                execution_options={"synchronize_session": False},
            )
        return items

    @staticmethod
    def finish(tx: Tx, item_id: int) -> None:
        """Remove an applied event, inside the transaction that applied it."""
        tx.db.connection().execute(_FINISH, {"item_id": item_id})

    def retry(self, item_id: int, reason: str, at: datetime) -> None:
        """Applying failed for a reason that may pass: try again at ``at``."""
        self._update(item_id, not_before=at, last_error=reason[:_ERROR_LENGTH])

    def give_up(self, item_id: int, reason: str) -> None:
        """Applying keeps failing: keep the row for an operator, out of its lane's way."""
        self._update(item_id, dead=True, last_error=reason[:_ERROR_LENGTH])

    def release_claims(self) -> int:
        """Make every leased event due now (a single process starting: the lessee died)."""
        with self._sessions.begin() as db:
            result = db.execute(
                update(InboxRow)
                .where(~InboxRow.dead, InboxRow.not_before.is_not(None))
                .values(not_before=None),
                execution_options={"synchronize_session": False},
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def waiting(self) -> int:
        """Events not yet applied (and not given up on)."""
        with self._sessions.begin() as db:
            count = db.scalar(select(func.count()).select_from(InboxRow).where(~InboxRow.dead))
        return int(count or 0)

    def _update(self, item_id: int, **values: Any) -> None:
        with self._sessions.begin() as db:
            db.execute(
                update(InboxRow).where(InboxRow.id == item_id).values(**values),
                execution_options={"synchronize_session": False},
            )


def listen_for_events(
    engine: Engine, heard: Callable[[], object], stop: threading.Event, *, timeout: float = 1.0
) -> None:
    """Call ``heard`` whenever any process stores an event (PostgreSQL), until ``stop`` is
    set: a worker in another process than the web process is woken at once instead of at
    its next poll. Reconnects after a lost connection; returns at once on SQLite, where
    one process both stores and applies."""
    if engine.dialect.name != "postgresql":
        return
    import psycopg

    conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    while not stop.is_set():
        try:
            with psycopg.connect(conninfo, autocommit=True) as connection:
                connection.execute(f"LISTEN {BELL}")
                while not stop.is_set():
                    for _ in connection.notifies(timeout=timeout, stop_after=1):
                        heard()
        except psycopg.Error as error:
            logger.warning("listening for stored events failed: %s", type(error).__name__)
            stop.wait(timeout)
