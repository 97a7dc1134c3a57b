"""Settings of the production web server (gunicorn), for the Procfile's ``web`` process.

``gunicorn.conf.py`` in the repository root loads this module; ``intervision run`` with
Slack configured starts gunicorn with it too, so both serve the same way. Values come from
the environment where a hosting platform sets them (``PORT``, ``WEB_CONCURRENCY``).

Each request is answered once its event is in the inbox, so threads are held only for a
short database commit; the listen backlog queues a burst of connections instead of
resetting them. With SQLite keep one worker process: it owns the database file.
"""

from __future__ import annotations

import os
from typing import Any

wsgi_app = "bot.web:create_app()"
bind = f"0.0.0.0:{os.environ.get('PORT', '3000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("INTERVISION_WEB_THREADS", "16"))
backlog = 2048
timeout = 30
graceful_timeout = 20
keepalive = 5
# Access lines would carry query strings (OAuth codes); errors go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("INTERVISION_LOG_LEVEL", "warning").lower()


def worker_exit(server: Any, worker: Any) -> None:
    """Stop this worker's runtime threads (inbox, delivery, scheduler) on the way out."""
    from bot.web import shutdown

    shutdown()
