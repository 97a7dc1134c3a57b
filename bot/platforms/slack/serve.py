"""Slack adapter, process: serve the Bolt app over HTTP (production) or Socket Mode (laptop).

HTTP mode answers ``POST /slack/events`` (events, commands, interactivity), the OAuth
install pages when OAuth is configured, and ``GET /healthz``, on ``$PORT``. It uses
Bolt's WSGI adapter: ``serve`` runs it on the standard library's threaded WSGI server;
under load run the same WSGI app with a production server, for example
``gunicorn -w 1 --threads 8 -b :$PORT 'bot.platforms.slack.serve:create_wsgi_app()'``.

Socket Mode is used when ``SLACK_APP_TOKEN`` is set (no public URL needed).

Besides requests, a background pump drains the outbox every few seconds, so a post
that met a rate limit or an outage goes out as soon as Slack takes it again.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from types import FrameType
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.bootstrap import build_services, start_scheduler
from bot.config import Settings, load_settings
from bot.platforms.slack.app import SlackApp, build_slack_app

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

PUMP_SECONDS = 5.0
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def wsgi_app(slack: SlackApp) -> WSGIApplication:
    """The WSGI application: ``/healthz`` here, everything else to Bolt."""
    bolt = SlackRequestHandler(slack.app, path=EVENTS_PATH)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") == "GET":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        result: Iterable[bytes] = bolt(environ, start_response)
        return result

    return application


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    """Access lines go to our logger at debug level (no query strings: they may hold codes)."""

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("http %s", self.command)


def start_http_server(
    application: WSGIApplication,
    host: str = "0.0.0.0",  # noqa: S104 - a web process listens on every interface
    port: int = 3000,
    *,
    poll_interval: float = 0.5,
) -> tuple[WSGIServer, threading.Thread]:
    """Serve ``application`` in a background thread; ``port=0`` picks a free port."""
    server = make_server(
        host, port, application, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler
    )
    thread = threading.Thread(
        target=server.serve_forever, args=(poll_interval,), name="slack-http", daemon=True
    )
    thread.start()
    return server, thread


class OutboxPump:
    """Drains the outbox every ``interval`` seconds until stopped."""

    def __init__(self, drain: Callable[[], int], interval: float = PUMP_SECONDS) -> None:
        self._drain = drain
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slack-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self._interval + 5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self._drain()
            except Exception as error:  # keep pumping; the next round retries
                logger.error("draining the outbox failed: %s", type(error).__name__)


def build(settings: Settings) -> SlackApp:
    """Services and the Slack app for ``settings``."""
    # Bolt logs the body of a request with a bad signature at INFO: keep payloads out of logs.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    services = build_services(settings)
    return build_slack_app(settings, services, engine=services.store.engine)


def create_wsgi_app() -> WSGIApplication:
    """WSGI factory for a production server: settings from the environment, pump and
    scheduler started (with several processes on PostgreSQL, one of them is elected to run
    the scheduler)."""
    settings = load_settings()
    slack = build(settings)
    OutboxPump(slack.outbox.drain).start()
    start_scheduler(slack.outbox.services, settings, after_run=slack.outbox.drain)
    return wsgi_app(slack)


def serve(settings: Settings) -> int:
    """Run the Slack platform until SIGINT/SIGTERM; returns the process exit code."""
    slack = build(settings)
    pump = OutboxPump(slack.outbox.drain)
    pump.start()
    scheduler = start_scheduler(slack.outbox.services, settings, after_run=slack.outbox.drain)
    try:
        if settings.slack_app_token:
            return _serve_socket_mode(slack, settings.slack_app_token)
        return _serve_http(slack, settings.port)
    finally:
        scheduler.stop()
        pump.stop()


def _serve_http(slack: SlackApp, port: int) -> int:
    server, thread = start_http_server(wsgi_app(slack), port=port)
    logger.warning("serving Slack on port %s (%s, %s)", port, EVENTS_PATH, HEALTH_PATH)
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    stopped.wait()
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    return 0


def _serve_socket_mode(slack: SlackApp, app_token: str) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    logger.warning("serving Slack over Socket Mode")
    handler = SocketModeHandler(slack.app, app_token, web_client=slack.client)
    try:
        handler.start()
    except KeyboardInterrupt:
        handler.close()
    return 0
