"""A CoP's meetings in Outlook, end to end: the console's ``cop`` commands queue calendar
changes in their own transaction, the delivery worker applies them through the ``graph``
messenger and the real msgraph-sdk, and the fake Graph records what it received."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from bot.platforms.console.app import ConsoleApp
from bot.platforms.console.board import Board
from bot.platforms.teams.bridge import AsyncBridge
from bot.platforms.teams.calendar import GraphCalendar, GraphMessenger
from bot.runtime.delivery import DeliveryWorker
from storage.graph_repository import GraphRepository
from tests.platform.graph.conftest import ORGANIZER, StubCredential
from tests.platform.graph.fake_graph import FakeGraph
from tests.support.app import Harness

SCHEDULE = "/intervision cop schedule quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz"

pytest.importorskip("msgraph", reason="the teams extra is not installed")


class Cop:
    """The console with Outlook calendars configured, and the graph delivery worker."""

    def __init__(self, harness: Harness, calendar: GraphCalendar) -> None:
        self.harness = harness
        self.services = replace(harness.services, graph_calendar=True)
        harness.console = ConsoleApp(self.services, Board(harness.out))
        messenger = GraphMessenger(calendar, self.services.store, harness.clock)
        self.delivery = DeliveryWorker(
            self.services.store, {"graph": messenger}, harness.clock, pace_seconds=0.0
        )

    def type(self, *lines: str) -> str:
        return self.harness.type(*lines)

    def deliver(self) -> float | None:
        """Apply every calendar change due now; seconds until the next one is due."""
        return self.delivery.run_once()

    def series_id(self, cop_id: int = 1) -> str | None:
        with self.services.store.transaction() as tx:
            stored = GraphRepository(tx).series(cop_id)
        return stored.series_id if stored else None


@pytest.fixture
def cop(harness: Harness, bridge: AsyncBridge, graph: FakeGraph) -> Iterator[Cop]:
    """On SQLite, then on PostgreSQL (the shared ``harness`` fixture)."""
    harness.clock.step = timedelta(0)
    calendar = GraphCalendar(
        bridge, organizer=ORGANIZER, credential=StubCredential, base_url=graph.base_url
    )
    cop = Cop(harness, calendar)
    cop.type(
        "/as ben",
        "/intervision cop create IMS CoP",
        "/intervision cop email ben@example.ch",
        "/as clara",
        "/intervision cop join",
        "/intervision cop email clara@example.org",
        "/as david",  # no address: not invited
        "/intervision cop join",
        "/as ben",
    )
    yield cop
    cop.delivery.stop()
    calendar.close()


def test_nothing_goes_to_the_calendar_before_the_cop_is_scheduled(
    cop: Cop, graph: FakeGraph
) -> None:
    cop.deliver()

    assert graph.calls == []


def test_scheduling_creates_one_recurring_teams_meeting(cop: Cop, graph: FakeGraph) -> None:
    cop.type(SCHEDULE)
    cop.deliver()

    (create,) = graph.creates()
    body = create.body
    pattern = body["recurrence"]["pattern"]
    assert (pattern["type"], pattern["interval"], pattern["daysOfWeek"], pattern["index"]) == (
        "relativeMonthly",
        3,
        ["tuesday"],
        "first",
    )
    assert body["recurrence"]["range"]["startDate"] == "2027-01-05"
    assert body["start"] == {
        "dateTime": "2027-01-05T14:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    assert [a["emailAddress"]["address"] for a in body["attendees"]] == [
        "ben@example.ch",
        "clara@example.org",
    ]
    assert body["isOnlineMeeting"] is True
    assert body["transactionId"].startswith("intervision-cop-1-")
    assert cop.series_id() == create_id(graph)


def test_scheduling_turns_recording_and_transcription_off(cop: Cop, graph: FakeGraph) -> None:
    cop.type(SCHEDULE)
    cop.deliver()

    (options,) = graph.requests("PATCH")
    assert "/onlineMeetings/" in options.path
    assert options.body["allowRecording"] is False
    assert options.body["allowTranscription"] is False


def test_a_tenant_refusing_the_meeting_options_still_gets_the_skipped_dates_cancelled(
    cop: Cop, graph: FakeGraph
) -> None:
    graph.refuse_meeting_options = 403  # no OnlineMeetings permission for the app
    cop.type("/intervision cop skip 2027-01-05", SCHEDULE)

    cop.deliver()

    assert len(graph.events) == 1
    assert [occurrence for occurrence, _ in graph.cancelled] == [f"{create_id(graph)}|2027-01-05"]


def test_a_new_schedule_changes_the_same_event(cop: Cop, graph: FakeGraph) -> None:
    cop.type(SCHEDULE)
    cop.deliver()

    cop.type("/intervision cop schedule quarterly first wednesday 15:30 Europe/Zurich")
    cop.deliver()

    assert len(graph.creates()) == 1
    (patch,) = [c for c in graph.requests("PATCH") if "/events/" in c.path]
    assert patch.path.endswith(f"/events/{create_id(graph)}")
    assert patch.body["start"]["dateTime"] == "2027-01-06T15:30:00"
    assert patch.body["recurrence"]["pattern"]["daysOfWeek"] == ["wednesday"]
    assert len(patch.body["attendees"]) == 2


def test_skipping_a_date_cancels_that_occurrence(cop: Cop, graph: FakeGraph) -> None:
    cop.type(SCHEDULE)
    cop.deliver()

    cop.type("/intervision cop skip 2027-07-06")
    cop.deliver()

    series = create_id(graph)
    assert graph.cancelled == [(f"{series}|2027-07-06", "IMS CoP does not meet on 2027-07-06.")]


def test_a_date_skipped_before_the_event_existed_is_cancelled_after_creating_it(
    cop: Cop, graph: FakeGraph
) -> None:
    cop.type("/intervision cop skip 2027-01-05", SCHEDULE)
    cop.deliver()

    assert len(graph.creates()) == 1
    assert [occurrence for occurrence, _ in graph.cancelled] == [f"{create_id(graph)}|2027-01-05"]


def test_cancelling_the_cop_cancels_the_series(cop: Cop, graph: FakeGraph) -> None:
    cop.type(SCHEDULE)
    cop.deliver()

    cop.type("/intervision cop cancel", "/intervision cop cancel")
    cop.deliver()

    series = create_id(graph)
    assert graph.cancelled == [(series, "IMS CoP has been cancelled: there are no more meetings.")]


def test_a_member_joining_later_is_invited_to_the_event(cop: Cop, graph: FakeGraph) -> None:
    cop.type(SCHEDULE)
    cop.deliver()

    cop.type("/as eva", "/intervision cop join", "/intervision cop email eva@example.ch")
    cop.deliver()

    patches = [c for c in graph.requests("PATCH") if "/events/" in c.path]
    assert [a["emailAddress"]["address"] for a in patches[-1].body["attendees"]] == [
        "ben@example.ch",
        "clara@example.org",
        "eva@example.ch",
    ]


def test_a_member_known_to_the_directory_is_invited_at_its_address(
    cop: Cop, graph: FakeGraph
) -> None:
    dana = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"  # a Teams member: an Entra object id
    graph.users[dana] = {"id": dana, "displayName": "Dana Keller", "mail": "dana@example.ch"}
    cop.type(f"/as {dana}", "/intervision cop join", "/as ben", SCHEDULE)

    cop.deliver()

    attendees = graph.creates()[0].body["attendees"]
    assert [a["emailAddress"]["address"] for a in attendees] == [
        "ben@example.ch",
        "clara@example.org",
        "dana@example.ch",
    ]
    assert attendees[-1]["emailAddress"]["name"] == "Dana Keller"
    assert [c.path for c in graph.requests("GET") if c.path.count("/") == 3] == [
        f"/v1.0/users/{dana}"  # david's id is not one to look up
    ]


def test_a_429_is_retried_at_retry_after_and_creates_once(cop: Cop, graph: FakeGraph) -> None:
    graph.fail_next.append((429, {"Retry-After": "30"}))
    cop.type(SCHEDULE)

    wait = cop.deliver()

    assert graph.events == {}
    assert wait == 30.0
    cop.harness.clock.advance(timedelta(seconds=30))
    cop.deliver()
    assert len(graph.events) == 1
    assert len(graph.creates()) == 2  # the refused one and the retry


def test_a_create_whose_answer_was_lost_is_not_created_twice(cop: Cop, graph: FakeGraph) -> None:
    graph.lose_answers = 1
    cop.type(SCHEDULE)

    cop.deliver()
    cop.harness.clock.advance(timedelta(minutes=5))
    cop.deliver()

    assert len(graph.creates()) == 2
    assert len(graph.events) == 1
    assert cop.series_id() == create_id(graph)


def test_a_schedule_a_calendar_cannot_repeat_is_refused(cop: Cop, graph: FakeGraph) -> None:
    out = cop.type("/intervision cop schedule FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2 14:00")
    cop.deliver()

    assert "Outlook calendars cannot repeat this schedule" in out
    assert graph.calls == []


def test_an_address_that_is_not_one_is_refused(cop: Cop) -> None:
    out = cop.type("/intervision cop email ben-at-example")

    assert "That is not an e-mail address." in out


def create_id(graph: FakeGraph) -> str:
    (series,) = graph.events
    return series
