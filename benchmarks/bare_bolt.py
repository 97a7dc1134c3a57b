"""Benchmark baseline: a bare slack-bolt App whose listeners do nothing, as a WSGI app.

Configured from the same environment as the web process (SLACK_SIGNING_SECRET,
SLACK_BOT_TOKEN, SLACK_API_URL), it answers ``POST /slack/events`` through Bolt's request
verification and dispatch, and ``GET /healthz``. Whatever the real web process spends above
this is the project's own cost.

  gunicorn [the Procfile's settings] benchmarks.bare_bolt:app   (a production server)
  python -m benchmarks.bare_bolt                               (the stdlib threaded server on $PORT)
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment


def create_app() -> WSGIApplication:
    client = WebClient(
        token=os.environ["SLACK_BOT_TOKEN"],
        base_url=os.environ.get("SLACK_API_URL", "https://slack.com/api/"),
    )
    bolt = App(client=client, signing_secret=os.environ["SLACK_SIGNING_SECRET"])

    @bolt.event("message")
    def on_message() -> None:
        """No-op: the baseline costs only what Bolt itself costs."""

    @bolt.command("/intervision")
    def on_command(ack: Any) -> None:
        ack()

    handler = SlackRequestHandler(bolt)

    def application(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        result: Iterable[bytes] = handler(environ, start_response)
        return result

    return application


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    server = make_server(
        "127.0.0.1",
        int(os.environ.get("PORT", "3000")),
        app,
        server_class=_ThreadingWSGIServer,
        handler_class=_Quiet,
    )
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stopped.set())
    threading.Thread(target=server.serve_forever, args=(0.5,), daemon=True).start()
    stopped.wait()
    server.shutdown()


app = create_app()

if __name__ == "__main__":
    main()
