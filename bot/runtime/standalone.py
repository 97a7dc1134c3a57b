"""``intervision worker``: the runtime without a web server (the Procfile's ``worker``).

Web processes started with ``INTERVISION_ROLE=web`` only store events; this process
applies them, delivers what they cause and runs the scheduler, until SIGTERM or SIGINT.
Several may run on one PostgreSQL database: their claims skip each other's rows.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import replace
from types import FrameType

from bot.config import Settings

logger = logging.getLogger(__name__)


def run_worker(settings: Settings) -> int:
    """Run until stopped; returns the process exit code."""
    if settings.platform == "console":
        print(
            "intervision worker needs a chat platform (SLACK_* or TEAMS_* settings); "
            "the console runs everything in 'intervision run'",
            file=sys.stderr,
        )
        return 2
    from bot.web import compose

    runtime, _ = compose(replace(settings, role="all"))
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runtime.start()
    logger.warning("worker running: inbox, delivery and scheduler")
    try:
        stopped.wait()
    finally:
        runtime.stop()
    return 0
