"""Slack adapter, the door: a WSGI middleware that refuses what Slack never sends.

It stands in front of Bolt's request handler on ``POST /slack/events`` and answers, before
anything is parsed by Bolt or the bot:

- 413 for a body over ``MAX_BODY_BYTES``;
- 401 for a request without a valid signature, including a timestamp that is not an
  integer (checked with slack_sdk's ``SignatureVerifier`` over the raw body);
- 400 for a body that is not UTF-8, and for a signed body that is not the shape Slack
  documents: JSON nested deeper than ``MAX_DEPTH``; a top level, ``event`` or ``payload``
  that is not an object; a command or interaction without the ids every request carries;
  a user, channel or team that is neither an id nor an object; an id holding a NUL
  character or longer than the database keeps (``MAX_ID_LENGTH``).

Everything else goes to Bolt unchanged (the body is handed on as read). The checks are
pure functions (``refusal``); ``SlackGuard`` only reads the request and answers.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from slack_sdk.signature import SignatureVerifier

from bot.platforms.payload import MAX_ID_LENGTH

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

MAX_BODY_BYTES = 1_000_000
"""Far above any payload Slack sends (a full modal's state is a few tens of kilobytes)."""
MAX_DEPTH = 64
"""Block Kit payloads nest about a dozen levels; thousands only come from an attacker."""

EVENTS_PATH = "/slack/events"

# Keys whose string values are ids the bot stores or looks up, wherever they appear.
ID_KEYS = frozenset(
    {
        "user",
        "user_id",
        "channel",
        "channel_id",
        "team",
        "team_id",
        "enterprise_id",
        "api_app_id",
        "event_id",
        "trigger_id",
        "ts",
        "thread_ts",
        "event_ts",
        "message_ts",
        "action_ts",
        "deleted_ts",
        "action_id",
        "block_id",
        "callback_id",
        "id",
    }
)
# Keys that Slack sends as an id or as an object with one; Bolt reads them either way.
ACTOR_KEYS = frozenset({"user", "channel", "team", "enterprise"})
# What every slash command carries (a form without them is not from Slack).
COMMAND_FIELDS = ("command", "user_id", "channel_id", "team_id", "trigger_id")
# Interaction fields that Slack always sends as objects when they are there.
INTERACTION_OBJECTS = ("user", "team", "channel", "container", "message", "view")

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class Malformed(ValueError):
    """A signed body that is not what Slack sends; answered 400."""


def refusal(
    body: bytes,
    *,
    content_type: str,
    timestamp: str | None,
    signature: str | None,
    verifier: SignatureVerifier,
) -> HTTPStatus | None:
    """The status to refuse this request with, or ``None`` to let it through."""
    if len(body) > MAX_BODY_BYTES:
        return HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    try:
        text = body.decode("utf-8")  # what Slack sends, and what the verifier can read
    except UnicodeDecodeError:
        return HTTPStatus.BAD_REQUEST
    if not signed(text, timestamp, signature, verifier):
        return HTTPStatus.UNAUTHORIZED
    try:
        check_shape(*parsed_body(text, content_type))
    except Malformed:
        return HTTPStatus.BAD_REQUEST
    return None


def signed(
    body: str, timestamp: str | None, signature: str | None, verifier: SignatureVerifier
) -> bool:
    """Slack's signature over the raw body, with a timestamp that is a plain integer."""
    if timestamp is None or signature is None or not _TIMESTAMP.fullmatch(timestamp):
        return False
    if not signature.isascii():  # hmac.compare_digest refuses other text with an exception
        return False
    return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)


Kind = Literal["envelope", "interaction", "form"]


def parsed_body(text: str, content_type: str) -> tuple[Kind, dict[str, Any]]:
    """The body as Bolt will read it (the same rules as ``slack_bolt``'s ``parse_body``):
    an Events API envelope (JSON), an interaction (a form's ``payload``), or a form."""
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or text.startswith("{"):
        return "envelope", _json_object(text, "body")
    form = dict(parse_qsl(text, keep_blank_values=True))  # the last of a repeated key wins
    if "payload" in form:
        return "interaction", _json_object(form["payload"], "payload")
    return "form", form


def check_shape(kind: Kind, body: Mapping[str, Any]) -> None:
    """Raise ``Malformed`` unless ``body`` has the envelope Slack documents for its kind."""
    if kind == "envelope":
        _check_envelope(body)
    elif kind == "interaction":
        _check_interaction(body)
    elif "ssl_check" not in body:  # a slash command
        for name in COMMAND_FIELDS:
            if not body.get(name):
                raise Malformed(f"command without {name}")
    if not _objects(body.get("authorizations", [])):
        raise Malformed("authorizations is not a list of objects")
    _check_ids(body)


def _objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, dict) for item in value)


def nesting_depth(text: str) -> int:
    """How deeply the JSON ``text`` nests arrays and objects (strings do not count)."""
    depth = deepest = 0
    for char in _STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _json_object(text: str, what: str) -> dict[str, Any]:
    if nesting_depth(text) > MAX_DEPTH:
        raise Malformed(f"{what} nested too deeply")
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise Malformed(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise Malformed(f"{what} is not an object")
    return value


def _check_envelope(body: Mapping[str, Any]) -> None:
    kind = body.get("type")
    if not isinstance(kind, str):
        raise Malformed("no type")
    if "event" in body or kind == "event_callback":
        event = body.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            raise Malformed("event is not an object with a type")


def _check_interaction(payload: Mapping[str, Any]) -> None:
    if not isinstance(payload.get("type"), str):
        raise Malformed("interaction without a type")
    for name in INTERACTION_OBJECTS:
        if payload.get(name) is not None and not isinstance(payload[name], dict):
            raise Malformed(f"interaction {name} is not an object")
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        raise Malformed("interaction without a user")
    if not isinstance(payload.get("response_urls", []), list):
        raise Malformed("response_urls is not a list")
    if not _objects(payload.get("actions", [])):
        raise Malformed("actions is not a list of objects")


def _check_ids(value: Any) -> None:
    """Everywhere in the body: an id-keyed string holds no NUL and fits the columns; a user,
    channel, team or enterprise is an id, an object or null (Bolt reads nothing else)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, child in item.items():
                if key in ID_KEYS and isinstance(child, str) and not _fits(child):
                    raise Malformed(f"{key} is not an id")
                if key in ACTOR_KEYS and not isinstance(child, str | dict | None):
                    raise Malformed(f"{key} is neither an id nor an object")
                pending.append(child)
        elif isinstance(item, list):
            pending.extend(item)


def _fits(identifier: str) -> bool:
    return "\x00" not in identifier and len(identifier) <= MAX_ID_LENGTH


class SlackGuard:
    """WSGI middleware: refuse malformed or unsigned requests to ``path``, pass the rest on."""

    def __init__(
        self,
        app: WSGIApplication,
        signing_secret: str,
        *,
        path: str = EVENTS_PATH,
        verifier: SignatureVerifier | None = None,
    ) -> None:
        self._app = app
        self._path = path
        self._verifier = verifier or SignatureVerifier(signing_secret)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != self._path or environ.get("REQUEST_METHOD") != "POST":
            return self._app(environ, start_response)
        length = _content_length(environ)
        if length is None:
            return _answer(start_response, HTTPStatus.BAD_REQUEST)
        if length > MAX_BODY_BYTES:
            return _answer(start_response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
        body: bytes = environ["wsgi.input"].read(length) if length else b""
        status = refusal(
            body,
            content_type=str(environ.get("CONTENT_TYPE", "")),
            timestamp=environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
            signature=environ.get("HTTP_X_SLACK_SIGNATURE"),
            verifier=self._verifier,
        )
        if status is not None:
            return _answer(start_response, status)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        return self._app(environ, start_response)


def _content_length(environ: WSGIEnvironment) -> int | None:
    raw = str(environ.get("CONTENT_LENGTH") or "0").strip()
    return int(raw) if raw.isascii() and raw.isdecimal() else None


def _answer(start_response: StartResponse, status: HTTPStatus) -> list[bytes]:
    body = f"{status.phrase}\n".encode()
    start_response(
        f"{status.value} {status.phrase}",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
