"""The Community of Practice: ``/intervision cop ...``, its preparation jobs and its digest.

Typed into the console harness (SQLite and PostgreSQL); the jobs run through ``run_due``
as the scheduler runs them, with the fake clock moved to when they fall due.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import icalendar
import pytest
import recurring_ical_events
from sqlalchemy import text

from bot.events import Command, Where
from bot.handlers import dispatch
from bot.handlers.timers import run_due
from bot.scheduler import JOBS
from storage.time_repository import TimeRepository
from tests.support.app import Harness

CREATE = "/intervision cop create IMS CoP"
SCHEDULE = "/intervision cop schedule quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz"


@pytest.fixture(autouse=True)
def _still_clock(harness: Harness) -> None:
    harness.clock.step = timedelta(0)


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def _travel(harness: Harness, to: datetime) -> str:
    assert harness.console is not None
    harness.clock.now = to
    start = len(harness.transcript)
    run_due(harness.services, JOBS)
    harness.console.flush()
    return harness.transcript[start:]


def _dms(out: str) -> list[tuple[str, str]]:
    return re.findall(r"^\(direct message to (\w+)\) (.*)$", out, flags=re.M)


def _cop_setup(harness: Harness) -> str:
    """ben creates and schedules the CoP; clara and david join."""
    return harness.type(
        "/as ben",
        CREATE,
        SCHEDULE,
        "/as clara",
        "/intervision cop join",
        "/as david",
        "/intervision cop join",
    )


def _pending(harness: Harness) -> list[str]:
    with harness.services.store.transaction() as tx:
        return [j.key for j in TimeRepository(tx).jobs(pending=True)]


# Commands


def test_create_makes_the_creator_coordinator_and_plans_quarterly_meetings(
    harness: Harness,
) -> None:
    out = harness.type("/as ben", CREATE)

    assert "IMS CoP is set up, and you coordinate it." in out
    assert "Next meeting of IMS CoP: 2027-01-05 14:00 (Europe/Amsterdam)" in out


def test_a_second_cop_in_the_channel_or_a_taken_name_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", CREATE, "/intervision cop create Other")
    assert "This channel already has a Community of Practice: IMS CoP." in out

    where = Where("console", "local", "C-other")
    dispatch(harness.services, Command("e1", where, "eva", "cop create ims cop", harness.clock()))
    harness.console.flush()
    assert "There is already a Community of Practice called 'ims cop'" in harness.transcript


def test_members_join_and_leave_and_the_last_coordinator_stays(harness: Harness) -> None:
    out = harness.type(
        "/as clara",
        "/intervision cop join",
        "/as ben",
        CREATE,
        "/as clara",
        "/intervision cop join",
        "/intervision cop leave",
        "/as ben",
        "/intervision cop leave",
    )

    assert "(only clara) This channel has no Community of Practice." in out
    assert "(only clara) You are a member of IMS CoP." in out
    assert "(only clara) You have left IMS CoP." in out
    assert "(only ben) You are the last coordinator: add another before you leave." in out


def test_only_coordinators_manage_and_are_told_so_in_their_language(harness: Harness) -> None:
    _cop_setup(harness)
    where = Where("console", "local", "console")
    now = harness.clock()
    for n, line in enumerate(["cop schedule monthly first friday 9:00", "cop skip 2027-04-06"]):
        dispatch(harness.services, Command(f"de{n}", where, "clara", line, now, language="de"))
    harness.type("/as clara", "/intervision cop cancel", "/intervision cop coordinators add @eva")

    out = harness.transcript
    assert out.count("(only clara) Nur eine Koordinatorin oder ein Koordinator von IMS CoP") == 2
    assert out.count("(only clara) Only a coordinator of IMS CoP can do this.") == 2


def test_a_coordinator_adds_a_coordinator_who_may_then_schedule(harness: Harness) -> None:
    out = harness.type(
        "/as ben",
        CREATE,
        "/intervision cop coordinators add @clara",
        "/as clara",
        "/intervision cop schedule monthly last friday 9:30 Europe/Berlin for 90 minutes",
    )

    assert "Coordinators of IMS CoP: ben, clara." in out
    assert "- 2026-11-27 09:30 (Europe/Berlin)" in out


def test_a_schedule_that_cannot_be_read_is_refused_with_its_reason(harness: Harness) -> None:
    out = harness.type("/as ben", CREATE, "/intervision cop schedule quarterly first tuesday")

    assert "(only ben) Give the time of day the meetings start, for example 14:00." in out


def test_next_shows_the_meeting_in_the_cops_zone_and_its_preparation(harness: Harness) -> None:
    out = _cop_setup(harness) + harness.type("/intervision cop next")

    assert "Next meeting of IMS CoP: 2027-01-05 14:00 (Europe/Zurich), Campus Muttenz." in out
    assert "- 2026-12-08 14:00 (Europe/Zurich): members: call for cases" in out
    assert "- 2026-12-22 14:00 (Europe/Zurich): coordinators: send the agenda" in out
    assert "- 2027-01-04 14:00 (Europe/Zurich): members: reminder of the meeting" in out
    assert "- 2027-01-06 14:00 (Europe/Zurich): coordinators: write and share the minutes" in out


def test_a_year_of_meetings_with_a_skipped_one_and_a_holiday(harness: Harness) -> None:
    out = harness.type(
        "/as ben",
        "/intervision settings country=CH region=BL timezone=Europe/Zurich",
        CREATE,
        "/intervision cop schedule monthly last monday 14:00 at Campus Muttenz",
        "/intervision cop skip 2027-01-25",
        "/intervision cop year",
    )

    year = out.split("in the coming twelve months (Europe/Zurich):")[1]
    lines = [line.strip() for line in year.splitlines() if line.strip().startswith("- 2")]
    assert len(lines) == 12
    assert lines[0] == "- 2026-11-30 14:00 (Europe/Zurich)"
    assert "- 2027-01-25 14:00 (Europe/Zurich) - skipped" in lines
    assert "- 2027-03-29 14:00 (Europe/Zurich) - not held: public holiday (Easter Monday)" in lines


def test_members_add_agenda_items_and_outsiders_cannot(harness: Harness) -> None:
    _cop_setup(harness)
    out = harness.type(
        "/as clara",
        "/intervision cop agenda add A teenager in care who refuses contact",
        "/as eva",
        "/intervision cop agenda add Something",
        "/as david",
        "/intervision cop agenda",
    )

    assert "(only clara) Added. The next meeting has 1 agenda item(s) now." in out
    assert "(only eva) Join IMS CoP first with /intervision cop join." in out
    assert "1. A teenager in care who refuses contact" in out


def test_the_calendar_file_imports_with_the_right_dates(harness: Harness) -> None:
    _cop_setup(harness)
    out = harness.type("/as ben", "/intervision cop skip 2027-04-06", "/intervision cop ics")

    path = Path(re.search(r"Calendar file written: (\S+\.ics)\.", out).group(1))
    calendar = icalendar.Calendar.from_ical(path.read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Europe/Zurich"
    assert event["SEQUENCE"] == 2  # scheduled, then a meeting skipped
    meetings = recurring_ical_events.of(calendar).between(date(2027, 1, 1), date(2028, 1, 1))
    starts = sorted(m["DTSTART"].dt for m in meetings)
    assert [s.strftime("%Y-%m-%d %H:%M %Z") for s in starts] == [
        "2027-01-05 14:00 CET",
        "2027-07-06 14:00 CEST",
        "2027-10-05 14:00 CEST",
    ]
    assert str(meetings[0]["LOCATION"]) == "Campus Muttenz"


def test_the_calendar_on_a_chat_platform_comes_as_a_direct_message(harness: Harness) -> None:
    where = Where("slack", "T1", "C1")
    now = harness.clock()
    dispatch(harness.services, Command("s1", where, "U1", "cop create Team CoP", now))
    dispatch(harness.services, Command("s2", where, "U1", "cop ics", now))

    with harness.services.store.transaction() as tx:
        pending = tx.db.execute(
            text("SELECT count(*) FROM outbox WHERE platform = 'slack'")
        ).scalar()
    assert pending == 2
    items = harness.services.store.claim_outbox(now, limit=10, platform="slack")
    direct = [i.payload for i in items if i.payload["kind"] == "direct"]
    if not direct:  # the outbox hands out one message per channel at a time
        for item in items:
            harness.services.store.mark_sent(item.id, None, now)
        items = harness.services.store.claim_outbox(now, limit=10, platform="slack")
        direct = [i.payload for i in items if i.payload["kind"] == "direct"]
    (message,) = direct
    assert message["user"] == "U1"
    assert "BEGIN:VCALENDAR" in message["text"]
    assert 'intervision cop ics "Team CoP"' in message["text"]


def test_a_workspace_never_sees_another_workspaces_cop(harness: Harness) -> None:
    _cop_setup(harness)
    where = Where("console", "elsewhere", "C9")
    now = harness.clock()
    dispatch(harness.services, Command("x1", where, "mallory", "cop join IMS CoP", now))
    dispatch(harness.services, Command("x2", where, "mallory", "cop ics IMS CoP", now))
    harness.console.flush()

    assert harness.transcript.count("There is no Community of Practice called 'IMS CoP'") == 2


def test_cancel_stops_every_meeting_and_preparation(harness: Harness) -> None:
    _cop_setup(harness)
    assert _pending(harness)

    out = harness.type("/as ben", "/intervision cop cancel", "/intervision cop next")

    assert "IMS CoP is cancelled" in out
    assert "IMS CoP has no meeting planned." in out
    assert _pending(harness) == []


# The preparation timeline and the digest


def test_the_preparation_messages_of_the_next_meeting(harness: Harness) -> None:
    _cop_setup(harness)
    harness.type("/as clara", "/intervision cop agenda add Two cases about school absence")

    call = _dms(_travel(harness, _utc(2026, 12, 8, 13, 1)))
    agenda = _dms(_travel(harness, _utc(2026, 12, 22, 13, 1)))
    eve = _dms(_travel(harness, _utc(2027, 1, 4, 13, 1)))
    digest = _dms(_travel(harness, _utc(2027, 1, 5, 15, 1)))
    minutes = _dms(_travel(harness, _utc(2027, 1, 6, 13, 1)))

    assert sorted(user for user, _ in call) == ["ben", "ben", "clara", "david"]
    assert any(u == "ben" and t.startswith("To do for IMS CoP") for u, t in call)
    assert any(u == "clara" and "Do you have a case" in t for u, t in call)
    ((who, text),) = agenda
    assert who == "ben"
    assert "Put the agenda together" in text
    assert "1. Two cases about school absence" in harness.transcript
    assert sorted(user for user, _ in eve) == ["ben", "ben", "clara", "david"]
    assert any("meets tomorrow, 2027-01-05 14:00 (Europe/Zurich)" in t for _, t in eve)
    assert [u for u, _ in digest] == ["ben"]
    assert "Digest for IMS CoP" in digest[0][1]
    assert [u for u, _ in minutes] == ["ben"]
    assert "needs its minutes" in minutes[0][1]


def test_a_preparation_message_is_never_sent_twice(harness: Harness) -> None:
    _cop_setup(harness)
    first = _travel(harness, _utc(2026, 12, 8, 13, 1))
    with harness.services.store.transaction() as tx:
        tx.db.execute(text("UPDATE due_jobs SET done_at = NULL"))
    again = _travel(harness, _utc(2026, 12, 8, 13, 2))

    assert len(_dms(first)) == 4
    assert _dms(again) == []


def test_a_skipped_meeting_is_not_prepared(harness: Harness) -> None:
    _cop_setup(harness)
    harness.type("/as ben", "/intervision cop skip 2027-01-05")

    out = _travel(harness, _utc(2026, 12, 8, 13, 1))

    assert _dms(out) == []


def test_after_a_meeting_the_coordinators_get_a_digest_with_a_chart(harness: Harness) -> None:
    _cop_setup(harness)
    harness.clock.now = _utc(2026, 12, 1, 9, 0)
    harness.type(
        "/as ben",
        "/intervision start ims owner=anna with=clara,david",
        "/as anna",
        "My case, pseudonymised.",
        "/as clara",
        "A view.",
        "/as ben",
        "/intervision close",
    )

    out = _travel(harness, _utc(2027, 1, 5, 15, 1))  # the meeting ended at 16:00 in Zurich

    ((who, text),) = _dms(out)
    assert who == "ben"
    assert "Digest for IMS CoP after the meeting of 2027-01-05 14:00 (Europe/Zurich)" in text
    assert "1 intervision session(s)" in text
    assert "IMS" in out
    chart = Path(re.search(r"Chart of the methods used: (\S+\.png)", out).group(1))
    assert chart.read_bytes().startswith(b"\x89PNG")


def test_the_plan_rolls_forward_to_the_following_meeting(harness: Harness) -> None:
    _cop_setup(harness)
    assert not any("20270706" in key for key in _pending(harness))

    out = _travel(harness, _utc(2027, 4, 7, 13, 1))

    assert any(key.startswith("cop-prep:") and "20270706" in key for key in _pending(harness))
    # what the scheduler could not send in time is dropped, not sent months late
    assert [text[:40] for _, text in _dms(out) if "To do" in text or "Reminder" in text] == [
        "To do for IMS CoP: yesterday's meeting ("
    ]


def test_the_digest_counts_sessions_already_purged_for_retention(harness: Harness) -> None:
    from bot.handlers.retention import purge_expired

    _cop_setup(harness)
    harness.clock.now = _utc(2026, 12, 1, 9, 0)
    harness.type(
        "/as ben",
        "/intervision start ims owner=anna with=clara,david",
        "/as anna",
        "My case, pseudonymised.",
        "/as ben",
        "/intervision close",
        "/as anna",
        "/intervision approve",
    )
    assert purge_expired(harness.services, _utc(2027, 1, 2, 9, 0)).sessions

    out = _travel(harness, _utc(2027, 1, 5, 15, 1))

    ((_, text),) = _dms(out)
    assert "1 intervision session(s)" in text
