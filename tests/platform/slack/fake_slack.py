"""Test fake: a small Slack Web API on 127.0.0.1 (real HTTP, port 0, a thread).

It keeps channels with their members, messages, threads, ``ts`` values and reactions,
answers the methods the bot uses with Slack's response shapes and error codes, and can be
told to fail the next calls of a method (HTTP 429 with ``Retry-After``, HTTP 500, or an
error code), to fail a share of all calls at random (``flaky``), or to let a test look at
each call before it is handled (``intercept``); it is safe to use from many threads. Tests
drive the people's side through ``user_message`` and ``react``, which return what Slack
would put in the Events API payload.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import random
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_TOKEN = "xoxb-test-token"
BOT_USER = "UBOT0001"
BOT_ID = "B0000001"
TEAM = "T0000001"

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_TEXT = 40_000


@dataclass
class Failure:
    status: int = 200
    error: str | None = None
    retry_after: int | None = None


@dataclass
class Flaky:
    """A share of calls that fail at random: HTTP 429 (with ``Retry-After``) or HTTP 500."""

    rate_429: float
    rate_500: float
    retry_after: int
    methods: frozenset[str] | None
    random: random.Random

    def draw(self, method: str) -> Failure | None:
        if method == "auth.test" or (self.methods is not None and method not in self.methods):
            return None
        roll = self.random.random()
        if roll < self.rate_429:
            return Failure(429, retry_after=self.retry_after)
        if roll < self.rate_429 + self.rate_500:
            return Failure(500)
        return None


# Looks at a call before the fake handles it; True drops the call (nothing is recorded and
# the caller gets HTTP 500), for example after the test killed the caller.
Intercept = Callable[[str, dict[str, Any]], bool]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # a burst of the bot's connections waits instead of being reset


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class Channel:
    id: str
    members: set[str]
    is_private: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)


class FakeSlack:
    """The fake's state and its HTTP server; ``base_url`` is what ``SLACK_API_URL`` gets."""

    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.calls: list[Call] = []
        self.ephemerals: list[dict[str, Any]] = []
        self.views: list[dict[str, Any]] = []
        self.home: dict[str, dict[str, Any]] = {}
        self._failures: dict[str, deque[Failure]] = {}
        self._flaky: Flaky | None = None
        self.intercept: Intercept | None = None
        self._ts = itertools.count(1)
        self._lock = threading.RLock()
        self._server = _Server(("127.0.0.1", 0), _handler_for(self))
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )
        self.add_user(BOT_USER, "intervision")

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/api/"

    # --- the world ------------------------------------------------------------------------

    def add_user(self, user: str, name: str, locale: str = "en-US") -> None:
        self.users[user] = {"id": user, "name": name, "locale": locale}

    def add_channel(self, channel: str, *members: str, private: bool = False) -> Channel:
        for member in members:
            if member not in self.users:
                self.add_user(member, member.lower())
        self.channels[channel] = Channel(channel, set(members), is_private=private)
        return self.channels[channel]

    def next_ts(self) -> str:
        return f"{1_800_000_000 + next(self._ts)}.000100"

    def user_message(
        self, channel: str, user: str, text: str, thread_ts: str | None = None
    ) -> dict[str, Any]:
        """A person posts; returns the message as the Events API carries it."""
        ts = self.next_ts()
        message = {"type": "message", "user": user, "text": text, "ts": ts, "channel": channel}
        if thread_ts:
            message["thread_ts"] = thread_ts
            message["parent_user_id"] = BOT_USER
        with self._lock:
            self.channels[channel].messages.append(dict(message))
        return message

    def edit(self, channel: str, ts: str, text: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """A person edits their message; returns (new message, previous message)."""
        with self._lock:
            message = self.message(channel, ts)
            previous = dict(message)
            message["text"] = text
            message["edited"] = {"user": message.get("user"), "ts": self.next_ts()}
            return dict(message), previous

    def delete(self, channel: str, ts: str) -> dict[str, Any]:
        """A person deletes their message; returns it as it was."""
        with self._lock:
            message = self.message(channel, ts)
            self.channels[channel].messages.remove(message)
            return message

    def react(self, channel: str, ts: str, user: str, emoji: str, *, added: bool = True) -> None:
        with self._lock:
            message = self.message(channel, ts)
            reactions = message.setdefault("reactions", {})
            users = reactions.setdefault(emoji, set())
            (users.add if added else users.discard)(user)

    def fail(
        self,
        method: str,
        times: int = 1,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """The next ``times`` calls of ``method`` fail."""
        with self._lock:
            queue = self._failures.setdefault(method, deque())
            queue.extend(Failure(status, error, retry_after) for _ in range(times))

    def flaky(
        self,
        *,
        rate_429: float = 0.0,
        rate_500: float = 0.0,
        retry_after: int = 1,
        methods: set[str] | None = None,
        seed: int = 0,
    ) -> None:
        """From now on every call (of ``methods``; never ``auth.test``) fails at random:
        HTTP 429 with ``Retry-After: retry_after`` at ``rate_429``, HTTP 500 at ``rate_500``.
        A failed call changes nothing. Rates of 0 turn it off."""
        with self._lock:
            chosen = frozenset(methods) if methods is not None else None
            on = rate_429 > 0 or rate_500 > 0
            self._flaky = (
                Flaky(rate_429, rate_500, retry_after, chosen, random.Random(seed)) if on else None
            )

    # --- looking ---------------------------------------------------------------------------

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        for message in self.channels[channel].messages:
            if message["ts"] == ts:
                return message
        raise KeyError(ts)

    def bot_posts(self, channel: str, thread_ts: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [
                m
                for m in self.channels[channel].messages
                if m.get("user") == BOT_USER
                and (thread_ts is None or m.get("thread_ts") == thread_ts)
            ]

    def top_level(self, channel: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.channels[channel].messages if not m.get("thread_ts")]

    def thread(self, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        with self._lock:
            return [m for m in self.channels[channel].messages if m.get("thread_ts") == thread_ts]

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.method == method]

    # --- the API ---------------------------------------------------------------------------

    def handle(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        intercept = self.intercept
        if intercept is not None and intercept(method, params):
            return 500, {"html": "<html>dropped</html>"}, {}
        with self._lock:
            self.calls.append(Call(method, params))
            queue = self._failures.get(method)
            failure = queue.popleft() if queue else None
            if failure is None and self._flaky is not None:
                failure = self._flaky.draw(method)
            if failure is not None:
                headers = {}
                if failure.retry_after is not None:
                    headers["Retry-After"] = str(failure.retry_after)
                if failure.status == 429:
                    return 429, {"ok": False, "error": "ratelimited"}, headers
                if failure.status >= 500:
                    return failure.status, {"html": "<html>upstream error</html>"}, headers
                return failure.status, {"ok": False, "error": failure.error}, headers
            if method != "auth.test" and token != BOT_TOKEN:
                return 200, {"ok": False, "error": "invalid_auth"}, {}
            api = getattr(self, "api_" + method.replace(".", "_"), None)
            if api is None:
                return 404, {"ok": False, "error": "unknown_method"}, {}
            return 200, api(params), {}

    def api_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.test/",
            "team": "Fake team",
            "user": "intervision",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _channel_for_post(self, params: dict[str, Any]) -> Channel | dict[str, Any]:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if BOT_USER not in channel.members:
            return {"ok": False, "error": "not_in_channel"}
        return channel

    def _check_content(self, params: dict[str, Any]) -> dict[str, Any] | None:
        text = params.get("text") or ""
        blocks = params.get("blocks")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        if not text and not blocks:
            return {"ok": False, "error": "no_text"}
        if len(text) > MAX_TEXT:
            return {"ok": False, "error": "msg_too_long"}
        if blocks is not None:
            if len(blocks) > MAX_BLOCKS:
                return {"ok": False, "error": "invalid_blocks", "errors": ["too many blocks"]}
            for block in blocks:
                inner = block.get("text") if isinstance(block, dict) else None
                if isinstance(inner, dict) and len(inner.get("text", "")) > MAX_SECTION_TEXT:
                    return {"ok": False, "error": "invalid_blocks", "errors": ["text too long"]}
            params["blocks"] = blocks
        return None

    def api_chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        if isinstance(channel, dict):
            return channel
        refused = self._check_content(params)
        if refused:
            return refused
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": params.get("text", ""),
            "blocks": params.get("blocks") or [],
            "ts": self.next_ts(),
        }
        thread = params.get("thread_ts")
        if thread:
            message["thread_ts"] = thread
        channel.messages.append(message)
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "message": message}

    def api_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        if isinstance(channel, dict):
            return channel
        refused = self._check_content(params)
        if refused:
            return refused
        try:
            message = self.message(channel.id, str(params.get("ts")))
        except KeyError:
            return {"ok": False, "error": "message_not_found"}
        if message.get("user") != BOT_USER:
            return {"ok": False, "error": "cant_update_message"}
        message.update(text=params.get("text", ""), blocks=params.get("blocks") or [])
        message["edited"] = {"user": BOT_USER, "ts": self.next_ts()}
        return {"ok": True, "channel": channel.id, "ts": message["ts"], "text": message["text"]}

    def api_chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_for_post(params)
        if isinstance(channel, dict):
            return channel
        refused = self._check_content(params)
        if refused:
            return refused
        user = str(params.get("user", ""))
        if user not in channel.members:
            return {"ok": False, "error": "user_not_in_channel"}
        ts = self.next_ts()
        self.ephemerals.append({**params, "channel": channel.id, "message_ts": ts})
        return {"ok": True, "message_ts": ts}

    def api_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = str(params.get("users", ""))
        if not users or users.split(",")[0] not in self.users:
            return {"ok": False, "error": "user_not_found"}
        dm = "D" + users.split(",")[0]
        if dm not in self.channels:
            self.channels[dm] = Channel(dm, {BOT_USER, *users.split(",")}, is_private=True)
        return {"ok": True, "channel": {"id": dm}}

    def api_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(params.get("channel", "")))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if channel.is_private:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        channel.members.add(BOT_USER)
        return {"ok": True, "channel": {"id": channel.id}}

    def api_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            return {"ok": False, "error": "invalid_trigger_id"}
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not view or not 1 <= len(view.get("blocks", [])) <= 100:
            return {"ok": False, "error": "invalid_arguments"}
        stored = {**view, "id": f"V{len(self.views) + 1:08d}", "hash": "h1"}
        self.views.append(stored)
        return {"ok": True, "view": stored}

    def api_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        user = str(params.get("user_id", ""))
        if user not in self.users:
            return {"ok": False, "error": "user_not_found"}
        self.home[user] = view or {}
        return {"ok": True, "view": view}

    def api_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user", "")))
        if user is None:
            return {"ok": False, "error": "user_not_found"}
        name = user["name"]
        info = {
            "id": user["id"],
            "name": name,
            "profile": {"display_name": name, "real_name": name.title()},
        }
        if str(params.get("include_locale", "")).lower() in ("1", "true"):
            info["locale"] = user["locale"]
        return {"ok": True, "user": info}


def _handler_for(fake: FakeSlack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            method = self.path.split("?")[0].rsplit("/", 1)[-1]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode("utf-8") if length else ""
            params: dict[str, Any] = {}
            if "?" in self.path:
                params.update({k: v[0] for k, v in parse_qs(self.path.split("?", 1)[1]).items()})
            if raw:
                if (self.headers.get("Content-Type") or "").startswith("application/json"):
                    params.update(json.loads(raw))
                else:
                    params.update({k: v[0] for k, v in parse_qs(raw).items()})
            auth = self.headers.get("Authorization") or ""
            token = auth.removeprefix("Bearer ") or params.get("token")
            status, body, headers = fake.handle(method, params, token)
            if "html" in body:
                payload = body["html"].encode()
                content_type = "text/html"
            else:
                payload = json.dumps(body).encode()
                content_type = "application/json; charset=utf-8"
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            # The caller may be gone (a test killed it): nothing to answer then.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
