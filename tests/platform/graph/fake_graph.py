"""A fake Microsoft Graph for the calendar part: a stdlib HTTP/1.1 server on 127.0.0.1.

It answers what msgraph-sdk sends for a CoP's series, with Graph's shapes:

    POST   /v1.0/users/{u}/events                    201 the event (a known transactionId:
                                                     the event created before, not a new one)
    GET    /v1.0/users/{id}                          200 a user of the directory (``users``)
    GET    /v1.0/users/{u}/events/{id}               200 the event
    PATCH  /v1.0/users/{u}/events/{id}               200 the event with the fields sent
    GET    /v1.0/users/{u}/events/{id}/instances     200 occurrences in startDateTime..endDateTime
    POST   /v1.0/users/{u}/events/{id}/cancel        202 (an occurrence, or the whole series)
    GET    /v1.0/users/{u}/onlineMeetings?$filter=JoinWebUrl eq '...'
    PATCH  /v1.0/users/{u}/onlineMeetings/{id}       200 the meeting with the fields sent

Unknown ids answer 404 ``ErrorItemNotFound``. ``fail_next`` takes (status, headers) answers
given before anything else (a 429 with ``Retry-After``); ``lose_answers`` carries requests
out but answers 504, as when an answer is lost on the way. Every request is recorded in
``calls`` with its JSON body.
"""

from __future__ import annotations

import calendar
import itertools
import json
import threading
from dataclasses import dataclass
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEK_INDEX = {"first": 0, "second": 1, "third": 2, "fourth": 3, "last": -1}


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


class FakeGraph:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.refuse_meeting_options: int | None = None  # a status for onlineMeetings PATCH
        self.lose_answers = 0  # carry out the next requests but answer 504 (a lost answer)
        self.users: dict[str, dict[str, Any]] = {}  # the directory, by object id
        self.events: dict[str, dict[str, Any]] = {}
        self.meetings: dict[str, dict[str, Any]] = {}
        self.cancelled: list[tuple[str, str]] = []  # (event or occurrence id, comment)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1.0"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # --- what tests read -------------------------------------------------------------------

    def requests(self, method: str, suffix: str = "") -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.endswith(suffix)]

    def creates(self) -> list[Call]:
        return [c for c in self.calls if c.method == "POST" and c.path.endswith("/events")]

    # --- the server ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                call = Call(
                    self.command,
                    unquote(split.path),
                    parse_qs(split.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    json.loads(raw) if raw else None,
                )
                status, headers, payload = fake._answer(call)
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if data:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

        return Handler

    def _answer(self, call: Call) -> tuple[int, dict[str, str], Any]:
        with self._lock:
            self.calls.append(call)
            if self.fail_next:
                status, headers = self.fail_next.pop(0)
                code = "TooManyRequests" if status == 429 else "ServiceUnavailable"
                return status, headers, {"error": {"code": code, "message": "fake failure"}}
            status, payload = self._route(call)
            if self.lose_answers:
                self.lose_answers -= 1
                return 504, {}, {"error": {"code": "GatewayTimeout", "message": "lost"}}
            return status, {}, payload

    def _route(self, call: Call) -> tuple[int, Any]:
        parts = call.path.removeprefix("/v1.0/").split("/")
        body = _camel(call.body) if call.body is not None else {}
        if len(parts) == 2 and parts[0] == "users" and call.method == "GET":
            user = self.users.get(parts[1])
            return (200, user) if user is not None else _not_found(parts[1])
        if len(parts) < 3 or parts[0] != "users":
            return _not_found(call.path)
        user, collection, rest = parts[1], parts[2], parts[3:]
        if collection == "events":
            return self._events(call.method, user, rest, body, call.query)
        if collection == "onlineMeetings":
            return self._meetings(call.method, rest, body, call.query)
        return _not_found(call.path)

    def _events(
        self, method: str, user: str, rest: list[str], body: Any, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        if not rest and method == "POST":
            return 201, self._create(user, body)
        event_id = rest[0] if rest else ""
        action = rest[1] if len(rest) > 1 else ""
        if "|" in event_id:  # an occurrence: "<master>|<date>"
            master = event_id.split("|")[0]
            if master not in self.events or action != "cancel" or method != "POST":
                return _not_found(event_id)
            self.events[master].setdefault("_cancelled_days", []).append(event_id.split("|")[1])
            self.cancelled.append((event_id, body.get("comment", "")))
            return 202, None
        event = self.events.get(event_id)
        if event is None:
            return _not_found(event_id)
        if not action and method == "GET":
            return 200, _public(event)
        if not action and method == "PATCH":
            event.update(body)
            return 200, _public(event)
        if action == "cancel" and method == "POST":
            event["isCancelled"] = True
            self.cancelled.append((event_id, body.get("comment", "")))
            return 202, None
        if action == "instances" and method == "GET":
            return 200, {"value": _occurrences(event, query)}
        return _not_found(event_id)

    def _create(self, user: str, body: Any) -> dict[str, Any]:
        transaction = body.get("transactionId")
        for event in self.events.values():
            if transaction and event.get("transactionId") == transaction:
                return _public(event)
        event_id = f"AAMkAD-{next(self._ids)}"
        meeting_id = f"meeting-{event_id}"
        join_url = f"https://teams.example/l/meetup-join/{event_id}"
        self.meetings[meeting_id] = {"id": meeting_id, "joinWebUrl": join_url}
        event = {
            **body,
            "id": event_id,
            "iCalUId": f"ical-{event_id}",
            "type": "seriesMaster" if body.get("recurrence") else "singleInstance",
            "organizer": {"emailAddress": {"address": user}},
            "onlineMeeting": {"joinUrl": join_url} if body.get("isOnlineMeeting") else None,
        }
        self.events[event_id] = event
        return _public(event)

    def _meetings(
        self, method: str, rest: list[str], body: Any, query: dict[str, list[str]]
    ) -> tuple[int, Any]:
        if not rest and method == "GET":
            wanted = (query.get("$filter") or [""])[0].split(" eq ", 1)[-1].strip("'")
            wanted = wanted.replace("''", "'")
            return 200, {"value": [m for m in self.meetings.values() if m["joinWebUrl"] == wanted]}
        meeting = self.meetings.get(rest[0]) if rest else None
        if meeting is None or method != "PATCH":
            return _not_found("/".join(rest))
        if self.refuse_meeting_options is not None:
            return self.refuse_meeting_options, {"error": {"code": "Forbidden", "message": "no"}}
        meeting.update(body)
        return 200, meeting


def _occurrences(event: dict[str, Any], query: dict[str, list[str]]) -> list[dict[str, Any]]:
    """The held occurrences of a relativeMonthly series in the window asked for."""
    start = _day(query["startDateTime"][0])
    end = _day(query["endDateTime"][0])
    pattern = event["recurrence"]["pattern"]
    first = date.fromisoformat(event["recurrence"]["range"]["startDate"])
    assert pattern["type"] == "relativeMonthly", "the fake repeats relativeMonthly only"
    weekday = WEEKDAYS.index(pattern["daysOfWeek"][0])
    index = WEEK_INDEX[pattern["index"]]
    clock, until = event["start"]["dateTime"][10:], event["end"]["dateTime"][10:]
    cancelled = set(event.get("_cancelled_days", []))
    found = []
    year, month = first.year, first.month
    while date(year, month, 1) <= end:
        day = _nth_weekday(year, month, weekday, index)
        if start <= day <= end and day >= first and day.isoformat() not in cancelled:
            zone = event["start"]["timeZone"]
            found.append(
                {
                    "id": f"{event['id']}|{day.isoformat()}",
                    "type": "occurrence",
                    "seriesMasterId": event["id"],
                    "start": {"dateTime": day.isoformat() + clock, "timeZone": zone},
                    "end": {"dateTime": day.isoformat() + until, "timeZone": zone},
                }
            )
        month += pattern["interval"]
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return found


def _nth_weekday(year: int, month: int, weekday: int, index: int) -> date:
    days = calendar.monthrange(year, month)[1]
    matching = [date(year, month, d) for d in range(1, days + 1)]
    return [d for d in matching if d.weekday() == weekday][index]


def _day(text: str) -> date:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).date()


def _camel(value: Any) -> Any:
    """Keys as Graph spells them: msgraph-sdk sends action bodies in PascalCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _camel(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_camel(v) for v in value]
    return value


def _public(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if not k.startswith("_")}


def _not_found(what: str) -> tuple[int, Any]:
    return 404, {"error": {"code": "ErrorItemNotFound", "message": f"{what} not found"}}
