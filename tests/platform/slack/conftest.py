"""Fixtures for the Slack platform tests: the fake Web API, the real app on a real port.

Requests go over HTTP into the app's WSGI endpoint, signed with the signing secret; the
app's slack_sdk client talks to ``FakeSlack`` through ``SLACK_API_URL``. The app answers a
request once the event is in the inbox; the runtime's workers are not started here:
after each request the fixture settles the runtime in the test's thread (applies the
inbox, delivers the outbox), so what the request caused has happened when ``post``
returns. The resilience tests (tests/resilience) run the real web process instead.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.signature import SignatureVerifier

from bot.config import Settings
from bot.platforms.slack.app import SlackApp, build_slack_app
from bot.platforms.slack.ids import COMMAND
from bot.platforms.slack.messenger import make_client
from bot.platforms.slack.serve import start_http_server, wsgi_app
from tests.platform.slack.fake_slack import BOT_TOKEN, TEAM, FakeSlack
from tests.support.app import Harness, make_harness

SECRET = "test-signing-secret"
CHANNEL = "C0000001"
OWNER = "UANNA001"
FACILITATOR = "UBEN0001"
CLARA = "UCLARA01"
DAVID = "UDAVID01"


class InlineExecutor(Executor):
    """Runs submitted work at once, so lazy listeners finish inside the request."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # handed to the caller via the future
            future.set_exception(error)
        return future


@dataclass
class Response:
    status: int
    body: str


@dataclass
class Slack:
    """Drives the app the way Slack does: signed HTTP requests into ``/slack/events``."""

    url: str
    fake: FakeSlack
    app: SlackApp
    harness: Harness
    secret: str = SECRET
    _ids: Iterator[int] = field(default_factory=lambda: count(1))

    # --- raw requests ---------------------------------------------------------------------

    def post(
        self,
        body: str,
        content_type: str,
        *,
        headers: dict[str, str] | None = None,
        signature: str | None = None,
    ) -> Response:
        timestamp = str(int(time.time()))
        signed = SignatureVerifier(self.secret).generate_signature(timestamp=timestamp, body=body)
        request = urllib.request.Request(
            f"{self.url}/slack/events",
            data=body.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": signature or str(signed),
                **(headers or {}),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                answer = Response(response.status, response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            answer = Response(error.code, error.read().decode("utf-8"))
        self.settle()
        return answer

    def settle(self) -> None:
        """Apply every stored event and deliver everything due now."""
        self.app.runtime.settle()

    def get(self, path: str) -> Response:
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=10) as response:
                return Response(response.status, response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode("utf-8"))

    def _next(self) -> str:
        return str(next(self._ids))

    # --- what people do -------------------------------------------------------------------

    def command(self, text: str, user: str = FACILITATOR, channel: str = CHANNEL) -> Response:
        form = {
            "token": "legacy",
            "team_id": TEAM,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": "intervision",
            "user_id": user,
            "user_name": user.lower(),
            "command": COMMAND,
            "text": text,
            "api_app_id": "A0000001",
            "response_url": "https://hooks.slack.test/commands/1",
            "trigger_id": f"trigger.{self._next()}",
        }
        return self.post(urlencode(form), "application/x-www-form-urlencoded")

    def event(
        self,
        event: dict[str, Any],
        *,
        event_id: str | None = None,
        retry: int | None = None,
    ) -> Response:
        envelope = {
            "token": "legacy",
            "team_id": TEAM,
            "api_app_id": "A0000001",
            "event": {"event_ts": event.get("ts") or f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id or f"Ev{self._next():0>8}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM, "user_id": "UBOT0001", "is_bot": True}],
        }
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post(
            json.dumps(envelope), "application/json", headers=headers if retry else None
        )

    def interaction(self, payload: dict[str, Any]) -> Response:
        payload.setdefault("team", {"id": TEAM, "domain": "fake"})
        payload.setdefault("trigger_id", f"trigger.{self._next()}")
        payload.setdefault("api_app_id", "A0000001")
        payload.setdefault("token", "legacy")
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, "application/x-www-form-urlencoded")

    def reply(self, user: str, text: str, thread: str, channel: str = CHANNEL) -> dict[str, Any]:
        """``user`` replies in ``thread``; the fake keeps it and the app gets the event."""
        message = self.fake.user_message(channel, user, text, thread_ts=thread)
        assert self.event(dict(message)).status == 200
        return message

    def react(self, user: str, emoji: str, ts: str, *, added: bool = True) -> Response:
        self.fake.react(CHANNEL, ts, user, emoji, added=added)
        return self.event(
            {
                "type": "reaction_added" if added else "reaction_removed",
                "user": user,
                "reaction": emoji,
                "item": {"type": "message", "channel": CHANNEL, "ts": ts},
                "event_ts": f"{time.time():.6f}",
            }
        )

    def press(self, action_id: str, session_id: str, user: str, thread: str) -> Response:
        return self.interaction(
            {
                "type": "block_actions",
                "user": {"id": user},
                "channel": {"id": CHANNEL},
                "container": {
                    "type": "message",
                    "channel_id": CHANNEL,
                    "message_ts": thread,
                    "thread_ts": thread,
                },
                "message": {"ts": thread, "thread_ts": thread},
                "actions": [
                    {
                        "action_id": action_id,
                        "block_id": "b",
                        "type": "button",
                        "value": session_id,
                        "action_ts": f"{time.time():.6f}",
                    }
                ],
            }
        )

    # --- what the app did -------------------------------------------------------------------

    def anchor(self) -> dict[str, Any]:
        anchors = [m for m in self.fake.top_level(CHANNEL) if m.get("bot_id")]
        assert anchors, "no anchor was posted"
        return anchors[-1]

    def thread_text(self, thread: str) -> str:
        from bot.platforms.slack.render import plain

        return "\n".join(plain(m.get("blocks") or []) for m in self.fake.thread(CHANNEL, thread))

    def ephemeral_text(self, user: str) -> str:
        from bot.platforms.slack.render import plain

        return "\n".join(
            plain(e.get("blocks") or []) for e in self.fake.ephemerals if e.get("user") == user
        )

    def session(self) -> Any:
        with self.harness.services.store.transaction() as tx:
            sessions = tx.open_sessions_in("slack", TEAM, CHANNEL)
            return sessions[0] if sessions else None

    def drain(self) -> int:
        """Deliver what is due now; returns how many messages the outbox still holds."""
        self.settle()
        return self.harness.services.store.pending_count()


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    server.add_channel(CHANNEL, "UBOT0001", OWNER, FACILITATOR, CLARA, DAVID)
    yield server
    server.stop()


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


@pytest.fixture
def slack(fake: FakeSlack, harness: Harness) -> Iterator[Slack]:
    settings = Settings(
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SECRET,
        slack_api_url=fake.base_url,
    )
    client = make_client(
        fake.base_url, BOT_TOKEN, interval=FixedValueRetryIntervalCalculator(0.001)
    )
    app = build_slack_app(
        settings,
        harness.services,
        client=client,
        listener_executor=InlineExecutor(),
    )
    server, thread = start_http_server(wsgi_app(app), host="127.0.0.1", port=0, poll_interval=0.02)
    host, port = server.server_address[:2]
    yield Slack(f"http://{host!s}:{port}", fake, app, harness)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)
