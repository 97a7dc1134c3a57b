"""Teams adapter: the one asyncio loop of a process, for the Teams SDK's coroutines.

The SDK's clients keep connections open on the loop that made them, so every call runs
on one long-lived loop in a daemon thread (``asyncio.run`` per call breaks on the second
call). Sync code (request threads, the delivery worker) calls ``run``; the loop itself
must never call it, or it would wait for itself.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 30.0


class AsyncBridge:
    """A running event loop in a daemon thread; ``run`` waits for a coroutine on it."""

    def __init__(self, name: str = "teams-loop") -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = DEFAULT_TIMEOUT_SECONDS) -> T:
        """The coroutine's result, run on the loop.

        Raises:
            RuntimeError: called from the loop's own thread.
            TimeoutError: no result within ``timeout`` seconds (the coroutine is cancelled).
        """
        if threading.current_thread() is self._thread:
            coroutine.close()
            raise RuntimeError("AsyncBridge.run called on its own loop: it would wait forever")
        future = asyncio.run_coroutine_threadsafe(coroutine, self.loop)
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def close(self) -> None:
        """Stop the loop and close it (tests; a process simply exits)."""
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        self.loop.close()
