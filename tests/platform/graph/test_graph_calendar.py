"""``GraphCalendar``: the real msgraph-sdk over HTTP against the fake Graph."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime

import pytest

from bot.flows.cop_calendar import Attendee
from bot.platforms.teams.calendar import GraphCalendar, SeriesGone
from bot.ports import PermanentFailure, TemporaryFailure
from tests.platform.graph.conftest import ORGANIZER, quarterly_event
from tests.platform.graph.fake_graph import FakeGraph

pytest.importorskip("msgraph", reason="the teams extra is not installed")

DANA = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"  # an Entra object id, as Teams names a member


def test_create_posts_a_quarterly_teams_meeting_to_the_organizers_calendar(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    calendar.create_series(quarterly_event())

    (create,) = graph.creates()
    assert create.path == f"/v1.0/users/{ORGANIZER}/events"
    pattern = create.body["recurrence"]["pattern"]
    assert {k: v for k, v in pattern.items() if not k.startswith("@")} == {
        "daysOfWeek": ["tuesday"],
        "index": "first",
        "interval": 3,
        "type": "relativeMonthly",
    }
    assert create.body["recurrence"]["range"]["startDate"] == "2027-01-05"
    assert create.body["recurrence"]["range"]["type"] == "noEnd"


def test_create_sends_times_in_the_windows_zone(calendar: GraphCalendar, graph: FakeGraph) -> None:
    calendar.create_series(quarterly_event())

    body = graph.creates()[0].body
    assert body["start"]["dateTime"] == "2027-01-05T14:00:00"
    assert body["start"]["timeZone"] == "W. Europe Standard Time"
    assert body["end"]["dateTime"] == "2027-01-05T16:00:00"
    assert body["recurrence"]["range"]["recurrenceTimeZone"] == "W. Europe Standard Time"


def test_create_invites_the_attendees_to_an_online_meeting(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    calendar.create_series(quarterly_event())

    body = graph.creates()[0].body
    assert [a["emailAddress"]["address"] for a in body["attendees"]] == [
        "anna@example.ch",
        "ben@example.ch",
    ]
    assert body["isOnlineMeeting"] is True
    assert body["onlineMeetingProvider"] == "teamsForBusiness"
    assert body["location"]["displayName"] == "Campus Muttenz"
    assert body["subject"] == "IMS CoP"


def test_create_carries_the_transaction_id_and_answers_the_ids(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    created = calendar.create_series(quarterly_event())

    assert graph.creates()[0].body["transactionId"] == quarterly_event().transaction_id
    assert created.series_id in graph.events
    assert created.ical_uid == f"ical-{created.series_id}"
    assert (created.join_url or "").startswith("https://teams.example/")


def test_the_token_goes_to_the_configured_host(calendar: GraphCalendar, graph: FakeGraph) -> None:
    calendar.create_series(quarterly_event())

    assert graph.calls[0].headers["authorization"] == "Bearer fake-graph-token"


def test_a_retried_create_finds_the_event_created_before(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    first = calendar.create_series(quarterly_event())
    again = calendar.create_series(quarterly_event())

    assert again.series_id == first.series_id
    assert len(graph.events) == 1


def test_update_patches_time_recurrence_and_every_attendee(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    created = calendar.create_series(quarterly_event())
    later = quarterly_event(
        start=datetime(2027, 1, 5, 15, 0), end=datetime(2027, 1, 5, 17, 0), attendees=()
    )

    calendar.update_series(created.series_id, later)

    (patch,) = graph.requests("PATCH")
    assert patch.path.endswith(f"/events/{created.series_id}")
    assert patch.body["start"]["dateTime"] == "2027-01-05T15:00:00"
    assert patch.body["attendees"] == []
    assert "transactionId" not in patch.body


def test_cancel_occurrence_cancels_that_days_meeting_only(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    created = calendar.create_series(quarterly_event())

    found = calendar.cancel_occurrence(
        created.series_id, date(2027, 7, 6), "W. Europe Standard Time", "Summer break."
    )

    assert found is True
    assert graph.cancelled == [(f"{created.series_id}|2027-07-06", "Summer break.")]
    (instances,) = graph.requests("GET", "/instances")
    assert instances.headers["prefer"] == 'outlook.timezone="W. Europe Standard Time"'


def test_cancelling_an_occurrence_twice_finds_nothing_the_second_time(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    created = calendar.create_series(quarterly_event())
    calendar.cancel_occurrence(created.series_id, date(2027, 7, 6), "UTC", "")

    again = calendar.cancel_occurrence(created.series_id, date(2027, 7, 6), "UTC", "")

    assert again is False
    assert len(graph.cancelled) == 1


def test_cancel_series_cancels_the_master_with_the_comment(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    created = calendar.create_series(quarterly_event())

    calendar.cancel_series(created.series_id, "The CoP has ended.")

    assert graph.cancelled == [(created.series_id, "The CoP has ended.")]
    assert graph.events[created.series_id]["isCancelled"] is True


def test_recording_and_transcription_are_turned_off(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    created = calendar.create_series(quarterly_event())
    assert created.join_url is not None

    assert calendar.turn_off_recording(created.join_url) is True

    (patch,) = graph.requests("PATCH")
    assert patch.path.startswith(f"/v1.0/users/{ORGANIZER}/onlineMeetings/")
    assert {k: patch.body[k] for k in ("allowRecording", "allowTranscription")} == {
        "allowRecording": False,
        "allowTranscription": False,
    }
    assert patch.body["recordAutomatically"] is False


def test_a_429_is_a_temporary_failure_at_retry_after_and_not_retried_by_the_sdk(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    graph.fail_next.append((429, {"Retry-After": "7"}))

    with pytest.raises(TemporaryFailure) as failure:
        calendar.create_series(quarterly_event())

    assert failure.value.retry_after == 7.0
    assert len(graph.calls) == 1
    assert graph.events == {}


def test_a_503_without_retry_after_is_temporary(calendar: GraphCalendar, graph: FakeGraph) -> None:
    graph.fail_next.append((503, {}))

    with pytest.raises(TemporaryFailure) as failure:
        calendar.create_series(quarterly_event())

    assert failure.value.retry_after is None


def test_a_refused_body_is_a_permanent_failure(calendar: GraphCalendar, graph: FakeGraph) -> None:
    graph.fail_next.append((400, {}))

    with pytest.raises(PermanentFailure) as failure:
        calendar.create_series(quarterly_event())

    assert not isinstance(failure.value, TemporaryFailure)


def test_an_event_deleted_in_the_calendar_is_gone(calendar: GraphCalendar) -> None:
    with pytest.raises(SeriesGone):
        calendar.update_series("AAMkAD-unknown", quarterly_event())


def test_an_unreachable_server_is_temporary(calendar: GraphCalendar, graph: FakeGraph) -> None:
    graph.stop()

    with pytest.raises(TemporaryFailure):
        calendar.create_series(replace(quarterly_event(), subject="x"))


def test_a_directory_member_is_found_by_object_id(
    calendar: GraphCalendar, graph: FakeGraph
) -> None:
    graph.users[DANA] = {"id": DANA, "displayName": "Dana Keller", "mail": "dana@example.ch"}

    found = calendar.find_attendee(DANA)

    assert found == Attendee("dana@example.ch", "Dana Keller")
    assert graph.calls[-1].path == f"/v1.0/users/{DANA}"


def test_an_id_the_directory_does_not_know_finds_nobody(calendar: GraphCalendar) -> None:
    assert calendar.find_attendee(DANA) is None
