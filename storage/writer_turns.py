"""Storage: SQLite's one writer, taken in turns by the threads of this process.

SQLite lets one transaction write at a time; a connection that finds the database busy
polls for it, sleeping longer each time (up to 100 ms between tries). Under load that
polling loses to whoever just committed: a request thread storing an event can wait for
seconds while the worker commits transaction after transaction. Here, threads wait for
their turn in arrival order, and the next one is woken the moment the writer before it
gives its connection back. Other processes still meet SQLite's busy handling (SQLite is
for one process; PostgreSQL is for several).
"""

from __future__ import annotations

import logging
import threading
from collections import deque

logger = logging.getLogger(__name__)

WAIT_LIMIT_SECONDS = 30.0
"""A turn not given within this falls back to SQLite's own busy handling (never a hang)."""


class WriterTurns:
    """A first-come first-served lock whose holder is a database connection."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: object | None = None
        self._waiting: deque[tuple[object, threading.Event]] = deque()

    def take(self, connection: object) -> None:
        """Wait for ``connection``'s turn; at once when it already has it."""
        with self._lock:
            if self._holder is None and not self._waiting:
                self._holder = connection
                return
            if self._holder is connection:
                return
            turn = threading.Event()
            self._waiting.append((connection, turn))
        if not turn.wait(WAIT_LIMIT_SECONDS):
            with self._lock:
                if (connection, turn) in self._waiting:
                    self._waiting.remove((connection, turn))
                    logger.warning(
                        "no write turn within %.0f s; waiting on SQLite", WAIT_LIMIT_SECONDS
                    )

    def give_back(self, connection: object) -> None:
        """``connection`` is done writing: wake the next in line."""
        with self._lock:
            if self._holder is not connection:
                return
            if self._waiting:
                self._holder, turn = self._waiting.popleft()
                turn.set()
            else:
                self._holder = None
