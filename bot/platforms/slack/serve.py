"""Slack adapter, process: serve the Bolt app over HTTP (production) or Socket Mode (laptop).

HTTP mode answers ``POST /slack/events`` (events, commands, interactivity), the OAuth
install pages when OAuth is configured, and ``GET /healthz``, on ``$PORT``, through
Bolt's WSGI adapter behind the request guard (``guard.SlackGuard``). Production serves
it with gunicorn (``bot.web``); tests serve it with ``start_http_server``.

Socket Mode is used when ``SLACK_APP_TOKEN`` is set (no public URL needed).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Iterable, Mapping
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.bootstrap import build_services
from bot.config import Settings
from bot.handlers.context import Services
from bot.platforms.slack.app import SlackApp, build_slack_app
from bot.platforms.slack.guard import SlackGuard
from bot.ports import Messenger

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

PUMP_SECONDS = 5.0
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
TEAMS_PATH = "/api/messages"


def wsgi_app(slack: SlackApp | None, *, teams: WSGIApplication | None = None) -> WSGIApplication:
    """The WSGI application: ``/healthz`` here, ``POST /api/messages`` to Teams (when
    configured), everything else to Bolt (404 without Slack)."""
    bolt = (
        SlackGuard(SlackRequestHandler(slack.app, path=EVENTS_PATH), slack.signing_secret)
        if slack is not None
        else None
    )

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH and method == "GET":
            start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"ok\n"]
        if teams is not None and path == TEAMS_PATH and method == "POST":
            return teams(environ, start_response)
        if bolt is None:
            start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"not found\n"]
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


def build(
    settings: Settings,
    *,
    services: Services | None = None,
    messengers: Mapping[str, Messenger] | None = None,
) -> SlackApp:
    """Services and the Slack app for ``settings`` (its runtime not started yet);
    ``messengers`` of other platforms share its runtime."""
    # Bolt logs the body of a request with a bad signature at INFO: keep payloads out of logs.
    logging.getLogger("slack_bolt.RequestVerification").setLevel(logging.WARNING)
    services = services or build_services(settings)
    return build_slack_app(settings, services, engine=services.store.engine, messengers=messengers)


def serve(settings: Settings) -> int:
    """Run the Slack platform until stopped; returns the process exit code.

    HTTP mode runs the production server (gunicorn, settings in ``bot.web_config``), the
    same as the Procfile's ``web``; Socket Mode runs in this process.
    """
    if not settings.slack_app_token:
        gunicorn = [sys.executable, "-m", "gunicorn", "--config", "python:bot.web_config"]
        os.execv(sys.executable, gunicorn)  # noqa: S606 - this process becomes the server
    slack = build(settings)
    slack.runtime.start()
    try:
        return _serve_socket_mode(slack, settings.slack_app_token)
    finally:
        slack.runtime.stop()


def _serve_socket_mode(slack: SlackApp, app_token: str) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    logger.warning("serving Slack over Socket Mode")
    handler = SocketModeHandler(slack.app, app_token, web_client=slack.client)
    try:
        handler.start()
    except KeyboardInterrupt:
        handler.close()
    return 0
