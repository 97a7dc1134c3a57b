"""Storage: a PostgreSQL session-level advisory lock that elects the one scheduler process.

The lock lives as long as its dedicated connection: when the holder dies, PostgreSQL closes
the connection and releases the lock, and another process can take it.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.pool import NullPool

logger = logging.getLogger(__name__)


class LeaderLock:
    """One process's claim on the lock ``lock_id`` over its own connection."""

    def __init__(self, engine: Engine, lock_id: int) -> None:
        self._lock_id = lock_id
        # Keepalives so a silently dead peer drops the connection (and the lock) soon.
        self._engine = create_engine(
            engine.url,
            poolclass=NullPool,
            connect_args={
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
        self._connection: Connection | None = None

    def acquire(self) -> bool:
        """Take the lock if nobody holds it; False when another process does (or no database)."""
        try:
            connection = self._engine.connect()
        except Exception as error:
            logger.warning("cannot reach the database for the lock: %s", type(error).__name__)
            return False
        try:
            got = bool(
                connection.execute(
                    text("SELECT pg_try_advisory_lock(:lock)"), {"lock": self._lock_id}
                ).scalar()
            )
            connection.commit()  # a session-level lock outlives the transaction
        except Exception as error:
            logger.warning("the scheduler lock connection failed: %s", type(error).__name__)
            got = False
        if got:
            self._connection = connection
        else:
            _close(connection)
        return got

    def check(self) -> None:
        """Prove the lock connection is alive; raises when it (and so the lock) is gone."""
        if self._connection is None:
            raise RuntimeError("the leader lock is not held")
        self._connection.execute(text("SELECT 1"))
        self._connection.commit()

    def release(self) -> None:
        """Let go of the lock (closing the session releases it)."""
        if self._connection is not None:
            _close(self._connection)
            self._connection = None

    def dispose(self) -> None:
        self.release()
        self._engine.dispose()


def _close(connection: Connection) -> None:
    try:
        connection.close()
    except Exception as error:
        logger.info("closing the scheduler lock connection: %s", type(error).__name__)
