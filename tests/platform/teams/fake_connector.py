"""A fake Bot Connector: the service URL the test activities name.

A stdlib HTTP server that records every call the bot makes and answers like the Bot
Connector's REST API v3 (new activities get numeric ids, 1:1 chats ``a:dm-N``, a
conversation's members are ``members``).
``fail_next.append((429, {"Retry-After": "7"}))`` makes the next call fail that way.
Also serves a Bot Framework key set (``/keys``) and signs tokens with its key, so one
test can run the SDK's real JWT validation offline.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any

    @property
    def conversation(self) -> str:
        parts = self.path.split("/")
        return parts[3] if len(parts) > 3 else ""

    def card(self) -> dict[str, Any]:
        attachments = (self.body or {}).get("attachments") or [{}]
        content: dict[str, Any] = attachments[0].get("content") or {}
        return content

    def card_text(self) -> str:
        body = self.card().get("body", [])
        return "\n".join(str(block.get("text", "")) for block in body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class FakeConnector:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.members: list[dict[str, Any]] = []  # what GET .../members answers
        self.lock = threading.Lock()
        self._ids = itertools.count(1_700_000_001_000)
        self._chats = itertools.count(1)
        self._jwks: dict[str, Any] = {"keys": []}
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeConnector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the bot sent -------------------------------------------------------------------

    def posts(self) -> list[Call]:
        with self.lock:
            return [
                c for c in self.calls if c.method in ("POST", "PUT") and "/activities" in c.path
            ]

    def top_level(self, channel: str) -> list[Call]:
        return [c for c in self.posts() if c.method == "POST" and c.conversation == channel]

    def in_thread(self, channel: str, root: str) -> list[Call]:
        return [c for c in self.posts() if c.conversation == f"{channel};messageid={root}"]

    def updates(self, channel: str, activity_id: str) -> list[Call]:
        return [c for c in self.posts() if c.method == "PUT" and c.path.endswith(activity_id)]

    def ids_of(self, calls: list[Call]) -> list[str]:
        return [str(c.body.get("_answered_id")) for c in calls]

    # --- JWT key set -------------------------------------------------------------------------

    def key_set(self) -> Any:
        """A fresh RSA key whose public half this server publishes at ``/v1/.well-known/keys``."""
        from cryptography.hazmat.primitives.asymmetric import rsa
        from jwt.algorithms import RSAAlgorithm

        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
        jwk.update({"kid": "test-kid", "use": "sig", "alg": "RS256", "endorsements": ["msteams"]})
        self._jwks = {"keys": [jwk]}
        return key

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    # --- the server ---------------------------------------------------------------------------

    def _answer(self, method: str, path: str) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if path.endswith("/.well-known/keys"):
            return 200, self._jwks
        if parts[:2] != ["v3", "conversations"]:
            return 404, {"error": {"code": "NotFound"}}
        if len(parts) == 2 and method == "POST":
            return 201, {"id": f"a:dm-{next(self._chats)}"}
        if len(parts) == 4 and parts[3] == "members" and method == "GET":
            return 200, self.members
        if len(parts) == 4 and parts[3] == "activities" and method == "POST":
            return 201, {"id": str(next(self._ids))}
        if len(parts) == 5 and parts[3] == "activities" and method == "PUT":
            return 200, {"id": parts[4]}
        return 404, {"error": {"code": "NotFound"}}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real service

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = Call(self.command, unquote(split.path), split.query, headers, body)
                with outer.lock:
                    failure = outer.fail_next.pop(0) if outer.fail_next else None
                    if "/.well-known/" not in call.path:
                        outer.calls.append(call)
                if failure is not None:
                    status, extra = failure
                    self._send(status, {"error": {"code": "Throttled"}}, extra)
                    return
                status, payload = outer._answer(self.command, call.path)
                if isinstance(body, dict) and isinstance(payload, dict) and "id" in payload:
                    body["_answered_id"] = payload["id"]
                self._send(status, payload)

            def _send(
                self, status: int, payload: Any, headers: dict[str, str] | None = None
            ) -> None:
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        return Handler


def sign(key: Any, *, app_id: str, service_url: str, lifetime: int = 3600) -> str:
    """A Bot Framework-style token for an inbound activity, signed with ``key``."""
    import jwt

    now = int(time.time())
    claims = {
        "iss": "https://api.botframework.com",
        "aud": app_id,
        "serviceurl": service_url,
        "nbf": now - 10,
        "iat": now - 10,
        "exp": now + lifetime,
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "test-kid"})


def bot_token(*_: Any) -> str:
    """The bot's outbound token in tests: the SDK decodes it, so it must look like a JWT."""
    import jwt

    now = int(time.time())
    claims = {"aud": "https://api.botframework.com", "iat": now, "exp": now + 3600}
    return jwt.encode(claims, "a-test-key-that-is-long-enough-for-hs256!", algorithm="HS256")
