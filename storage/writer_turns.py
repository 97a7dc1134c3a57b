"""Storage: SQLite's one writer, taken in turns by the threads of this process.

SQLite lets one transaction write at a time; a connection that finds the database busy
polls for it, sleeping longer each time (up to 100 ms between tries). Under load that
polling loses to whoever just committed: a request thread storing an event can wait for
seconds while the worker commits transaction after transaction. Here, threads wait for
their turn in arrival order, and the next one is woken the moment the writer before it
gives its connection back. A thread that someone is waiting on (a request storing an
event before it answers: ``urgent``) goes before the background writers in line. Other
processes still meet SQLite's busy handling (SQLite is for one process; PostgreSQL is
for several).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

WAIT_LIMIT_SECONDS = 30.0
"""A turn not given within this falls back to SQLite's own busy handling (never a hang)."""


_local = threading.local()


@contextmanager
def urgent() -> Iterator[None]:
    """Writes in this block go before background writers waiting for their turn."""
    before = getattr(_local, "urgent", False)
    _local.urgent = True
    try:
        yield
    finally:
        _local.urgent = before


class WriterTurns:
    """A first-come first-served lock whose holder is a database connection; urgent
    writers are served before the others."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: object | None = None
        self._waiting: deque[tuple[object, threading.Event]] = deque()
        self._urgent: deque[tuple[object, threading.Event]] = deque()

    def take(self, connection: object) -> None:
        """Wait for ``connection``'s turn; at once when it already has it."""
        line = self._urgent if getattr(_local, "urgent", False) else self._waiting
        with self._lock:
            if self._holder is None and not self._waiting and not self._urgent:
                self._holder = connection
                return
            if self._holder is connection:
                return
            turn = threading.Event()
            line.append((connection, turn))
        if not turn.wait(WAIT_LIMIT_SECONDS):
            with self._lock:
                if (connection, turn) in line:
                    line.remove((connection, turn))
                    logger.warning(
                        "no write turn within %.0f s; waiting on SQLite", WAIT_LIMIT_SECONDS
                    )

    def give_back(self, connection: object) -> None:
        """``connection`` is done writing: wake the next in line."""
        with self._lock:
            if self._holder is not connection:
                return
            line = self._urgent or self._waiting
            if line:
                self._holder, turn = line.popleft()
                turn.set()
            else:
                self._holder = None
