"""Fixtures for the Teams platform tests: the fake Bot Connector, the real app on a real port.

Activities are POSTed over HTTP into the web process's WSGI application at
``/api/messages``, with the fake connector as their ``serviceUrl``; the SDK's outbound
calls go there. Auth is switched off here except in the one test that signs real JWTs.
The runtime's workers are not started: after each request the fixture settles the
runtime in the test's thread (applies the inbox, delivers the outbox).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("microsoft_teams.apps")

from bot.config import Settings
from bot.platforms.slack.serve import start_http_server, wsgi_app
from bot.platforms.teams.app import TeamsApp, build_teams
from bot.runtime.process import Runtime
from tests.platform.teams.fake_connector import FakeConnector, bot_token
from tests.support.app import Harness, make_harness

APP_ID = "00000000-0000-0000-0000-0000000000b1"
BOT = f"28:{APP_ID}"
TENANT = "72f988bf-0000-0000-0000-000000000001"
CHANNEL = "19:intervision@thread.tacv2"
TEAM = "19:team@thread.tacv2"
ANNA = "29:anna"
BEN = "29:ben"
CLARA = "29:clara"
NAMES = {ANNA: "Anna Peer", BEN: "Ben Coach", CLARA: "Clara Doe"}


@dataclass
class Response:
    status: int
    body: str


@dataclass
class Teams:
    """Drives the app the way the Bot Connector does: activities into ``/api/messages``."""

    url: str
    connector: FakeConnector
    app: TeamsApp
    runtime: Runtime
    harness: Harness
    token: str | None = None
    _ids: Iterator[int] = field(default_factory=lambda: count(1_700_000_000_100))

    def post(self, activity: dict[str, Any], *, token: str | None = None) -> Response:
        data = json.dumps(activity).encode()
        headers = {"Content-Type": "application/json"}
        if token or self.token:
            headers["Authorization"] = f"Bearer {token or self.token}"
        request = urllib.request.Request(
            f"{self.url}/api/messages", data=data, method="POST", headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=20) as response:
                answer = Response(response.status, response.read().decode())
        except urllib.error.HTTPError as error:
            answer = Response(error.code, error.read().decode())
        self.runtime.settle()
        return answer

    def next_id(self) -> str:
        return str(next(self._ids))

    def activity(
        self,
        user: str,
        text: str | None,
        *,
        root: str | None = None,
        kind: str = "message",
        activity_id: str | None = None,
        mentions: tuple[str, ...] = (),
        **extra: Any,
    ) -> dict[str, Any]:
        """A channel activity from ``user``; ``root`` makes it a reply in that thread."""
        activity_id = activity_id or self.next_id()
        entities: list[dict[str, Any]] = [{"type": "clientInfo", "locale": "en-US"}]
        for person in mentions:
            name = "intervision" if person == BOT else NAMES[person]
            entities.append(
                {
                    "type": "mention",
                    "text": f"<at>{name}</at>",
                    "mentioned": {"id": person, "name": name},
                }
            )
        activity: dict[str, Any] = {
            "type": kind,
            "id": activity_id,
            "timestamp": "2026-11-23T10:00:00.000Z",
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": user, "name": NAMES.get(user, user), "aadObjectId": f"aad-{user[3:]}"},
            "conversation": {
                "isGroup": True,
                "conversationType": "channel",
                "tenantId": TENANT,
                "id": f"{CHANNEL};messageid={root or activity_id}",
            },
            "recipient": {"id": BOT, "name": "intervision"},
            "entities": entities,
            "channelData": {
                "channel": {"id": CHANNEL},
                "team": {"id": TEAM},
                "tenant": {"id": TENANT},
            },
            "locale": "en-US",
            **extra,
        }
        if text is not None:
            activity["text"] = text
        if root is not None:
            activity["replyToId"] = root
        return activity

    def command(self, user: str, words: str, *, root: str | None = None) -> Response:
        """``@intervision <words>``; ``<at>Name</at>`` in ``words`` mention people."""
        mentioned = tuple(p for p, name in NAMES.items() if f"<at>{name}</at>" in words)
        text = f"<at>intervision</at> {words}"
        return self.post(self.activity(user, text, root=root, mentions=(BOT, *mentioned)))

    def reply(self, user: str, text: str, root: str, **extra: Any) -> tuple[Response, str]:
        activity = self.activity(user, text, root=root, **extra)
        return self.post(activity), activity["id"]

    def press(self, user: str, verb: str, session_id: str, root: str) -> Response:
        value = {"intervision": verb, "session": session_id}
        return self.post(self.activity(user, None, root=root, value=value))

    def personal(self, user: str, text: str, chat: str) -> Response:
        """``text`` from ``user`` in their 1:1 chat ``chat`` with the bot (no mention needed)."""
        activity = self.activity(user, text)
        activity["conversation"] = {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": chat,
        }
        activity["channelData"] = {"tenant": {"id": TENANT}}
        return self.post(activity)

    def session(self) -> Any:
        with self.harness.services.store.transaction() as tx:
            found = tx.open_sessions_in("teams", TENANT, CHANNEL)
            return found[0] if found else None


@pytest.fixture
def connector() -> Iterator[FakeConnector]:
    server = FakeConnector().start()
    yield server
    server.stop()


@pytest.fixture
def harness(tmp_path: Path) -> Harness:
    return make_harness(tmp_path)


def teams_settings(connector: FakeConnector) -> Settings:
    return Settings(
        teams_client_id=APP_ID,
        teams_client_secret="not-used-with-a-token",
        teams_tenant_id=TENANT,
        teams_service_url=connector.url,
        teams_service_url_prefixes=(connector.url,),
        pace_seconds=0.0,
    )


def serve_teams(connector: FakeConnector, harness: Harness, **options: Any) -> Iterator[Teams]:
    settings = teams_settings(connector)
    teams = build_teams(settings, harness.services, token=bot_token, **options)
    runtime = Runtime(harness.services, settings, {teams.messenger.platform: teams.messenger})
    teams.connect(runtime.ingress)
    server, thread = start_http_server(
        wsgi_app(None, teams=teams.endpoint), host="127.0.0.1", port=0, poll_interval=0.02
    )
    host, port = server.server_address[:2]
    try:
        yield Teams(f"http://{host!s}:{port}", connector, teams, runtime, harness)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        _close(teams)


def _close(teams: TeamsApp) -> None:
    """Close the SDK's HTTP clients on their own loop, then the loop."""

    async def close() -> None:
        for client in {id(c): c for c in _clients(teams)}.values():
            await client.aclose()

    teams.bridge.run(close())
    teams.bridge.close()


def _clients(teams: TeamsApp) -> list[Any]:
    found = []
    for holder in (getattr(teams.app, "http_client", None), getattr(teams.app.api, "http", None)):
        inner = getattr(holder, "http", None)
        if inner is not None and hasattr(inner, "aclose"):
            found.append(inner)
    return found


@pytest.fixture
def teams(connector: FakeConnector, harness: Harness) -> Iterator[Teams]:
    yield from serve_teams(connector, harness, allow_unauthenticated=True)
