"""The production web process: the WSGI application gunicorn serves (``bot.web_config``).

``create_app`` runs in each gunicorn worker process: it builds the services and the Slack
app, and starts the runtime's threads (inbox worker, delivery, scheduler) unless
``INTERVISION_ROLE=web`` leaves them to an ``intervision worker`` process.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING

from bot.config import load_settings
from bot.platforms.slack.serve import build, wsgi_app

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from bot.runtime.process import Runtime

SWITCH_INTERVAL_SECONDS = 0.0005

_started: list[Runtime] = []
_lock = threading.Lock()


def create_app() -> WSGIApplication:
    """The Slack endpoint and ``/healthz``, with this process's runtime running."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Request threads wait for the interpreter lock behind the worker's threads; handing it
    # over more often keeps an answer from waiting several 5 ms slices (the default).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    slack = build(load_settings())
    slack.runtime.start()
    with _lock:
        _started.append(slack.runtime)
    return wsgi_app(slack)


def shutdown() -> None:
    """Stop the runtime this process started (gunicorn's ``worker_exit``)."""
    with _lock:
        while _started:
            _started.pop().stop()
