"""The production web process: the WSGI application gunicorn serves (``bot.web_config``).

``create_app`` runs in each gunicorn worker process: it builds the services, the Slack
app and the Teams app (each when configured; ``POST /api/messages`` is Teams'), and
starts the runtime's threads (inbox worker, delivery, scheduler) unless
``INTERVISION_ROLE=web`` leaves them to an ``intervision worker`` process.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING

from bot.bootstrap import build_services
from bot.config import Settings, load_settings
from bot.platforms.slack.serve import build, wsgi_app
from bot.ports import Messenger

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from bot.runtime.process import Runtime

SWITCH_INTERVAL_SECONDS = 0.0005

_started: list[Runtime] = []
_lock = threading.Lock()


def create_app() -> WSGIApplication:
    """The Slack and Teams endpoints (whichever are configured) and ``/healthz``, with this
    process's runtime running."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # Request threads wait for the interpreter lock behind the worker's threads; handing it
    # over more often keeps an answer from waiting several 5 ms slices (the default).
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    runtime, application = compose(load_settings())
    runtime.start()
    with _lock:
        _started.append(runtime)
    return application


def compose(settings: Settings) -> tuple[Runtime, WSGIApplication]:
    """One runtime for every configured platform, and the WSGI application serving them.

    The Teams SDK and msgraph-sdk are imported only when Teams or Outlook calendars are
    configured (they cost seconds). Calendar changes are delivered by the ``graph``
    messenger, through the same outbox as messages.
    """
    from bot.runtime.process import Runtime

    services = build_services(settings)
    teams = None
    messengers: dict[str, Messenger] = {}
    if settings.teams_configured:
        from bot.platforms.teams.app import build_teams

        teams = build_teams(settings, services)
        messengers[teams.messenger.platform] = teams.messenger
    if settings.graph_configured:
        from bot.platforms.teams.calendar import build_graph

        bridge = teams.bridge if teams is not None else None
        graph = build_graph(settings, services.store, services.clock, bridge)
        if graph is not None:
            messengers[graph.platform] = graph
    if settings.slack_configured or teams is None:
        slack = build(settings, services=services, messengers=messengers)
        runtime = slack.runtime
    else:
        slack, runtime = None, Runtime(services, settings, messengers)
    if teams is not None:
        teams.connect(runtime.ingress)
    return runtime, wsgi_app(slack, teams=teams.endpoint if teams is not None else None)


def shutdown() -> None:
    """Stop the runtime this process started (gunicorn's ``worker_exit``)."""
    with _lock:
        while _started:
            _started.pop().stop()
