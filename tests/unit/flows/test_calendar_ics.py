"""The CoP's meeting series as an iCalendar file: parsed back with icalendar and expanded."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
from dateutil.rrule import rrulestr

from bot.flows import cop as cops
from bot.flows.calendar_ics import series_to_ics, series_uid
from bot.flows.cop import Cop, MeetingSeries
from bot.flows.timing import WorkingCalendar

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PRODID = "-//FHNW//intervision-bot//EN"
HELD_2027 = [
    datetime(2027, 1, 5, 14, 0, tzinfo=ZURICH),
    datetime(2027, 4, 6, 14, 0, tzinfo=ZURICH),
    datetime(2027, 10, 5, 14, 0, tzinfo=ZURICH),
]  # the first Tuesdays of each quarter, less 6 July, skipped


def ims(series: MeetingSeries | None = None, *, name: str = "IMS CoP") -> Cop:
    series = series or cops.default_series(
        after=NOW, place="Campus Muttenz", link="https://meet.example.org/ims"
    )
    series = cops.skip(series, date(2027, 7, 6))
    return cops.create(name, creator="ana", channel="C-IMS", series=series)


def parse(cop: Cop, *, stamp: datetime | None = None, description: str = "") -> icalendar.Calendar:
    ics = series_to_ics(cop, prodid=PRODID, stamp=stamp, description=description)
    return icalendar.Calendar.from_ical(ics)


def the_event(calendar: icalendar.Calendar) -> icalendar.Event:
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def test_the_file_is_a_calendar_with_its_producer():
    calendar = parse(ims())

    assert (str(calendar["PRODID"]), str(calendar["VERSION"])) == (PRODID, "2.0")


def test_the_event_starts_at_the_first_meeting_in_its_time_zone():
    start = the_event(parse(ims()))["DTSTART"]

    assert start.params["TZID"] == "Europe/Zurich"
    assert start.dt == datetime(2027, 1, 5, 14, 0, tzinfo=ZURICH)


def test_the_file_carries_the_time_zone_definition():
    zones = parse(ims()).walk("VTIMEZONE")

    assert [str(z["TZID"]) for z in zones] == ["Europe/Zurich"]


def test_the_event_carries_the_recurrence_rule():
    rule = the_event(parse(ims()))["RRULE"]

    assert rule.to_ical() == b"FREQ=MONTHLY;BYDAY=1TU;BYMONTH=1,4,7,10"


def test_a_skipped_meeting_is_an_exception():
    exdate = the_event(parse(ims()))["EXDATE"]

    assert [d.dt for d in exdate.dts] == [datetime(2027, 7, 6, 14, 0, tzinfo=ZURICH)]
    assert exdate.params["TZID"] == "Europe/Zurich"


def test_the_event_says_what_where_and_how_long():
    event = the_event(parse(ims()))

    assert str(event["SUMMARY"]) == "IMS CoP"
    assert str(event["LOCATION"]) == "Campus Muttenz"
    assert str(event["URL"]) == "https://meet.example.org/ims"
    assert str(event["DESCRIPTION"]) == "Campus Muttenz\nhttps://meet.example.org/ims"
    assert event["DTEND"].dt - event["DTSTART"].dt == timedelta(hours=2)


def test_a_given_description_and_stamp_are_used():
    stamp = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    event = the_event(parse(ims(), description="Bring a case.", stamp=stamp))

    assert (str(event["DESCRIPTION"]), event["DTSTAMP"].dt) == ("Bring a case.", stamp)


def test_the_uid_is_stable_for_the_same_cop():
    first, again = the_event(parse(ims())), the_event(parse(ims()))

    assert str(first["UID"]) == str(again["UID"]) == series_uid(ims())


def test_another_cop_has_another_uid():
    assert series_uid(ims()) != series_uid(ims(name="Other CoP"))


def test_the_file_is_the_same_bytes_each_time():
    assert series_to_ics(ims(), prodid=PRODID) == series_to_ics(ims(), prodid=PRODID)


def test_a_cancelled_cop_has_a_cancelled_event():
    event = the_event(parse(cops.cancel(ims(), by="ana")))

    assert str(event["STATUS"]) == "CANCELLED"


def test_the_rule_expands_with_dateutil_to_the_meetings_of_2027():
    event = the_event(parse(ims()))
    start = event["DTSTART"].dt
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    exceptions = {d.dt for d in event["EXDATE"].dts}

    meetings = rule.between(
        datetime(2027, 1, 1, tzinfo=ZURICH), datetime(2028, 1, 1, tzinfo=ZURICH), inc=True
    )

    assert [m for m in meetings if m not in exceptions] == HELD_2027


def test_the_file_expands_with_recurring_ical_events_to_the_meetings_of_2027():
    recurring_ical_events = pytest.importorskip("recurring_ical_events")

    found = recurring_ical_events.of(parse(ims())).between(date(2027, 1, 1), date(2028, 1, 1))

    assert [event["DTSTART"].dt for event in found] == HELD_2027


def test_meetings_on_public_holidays_are_exceptions_too():
    series = cops.default_series(
        after=NOW, place="Campus Muttenz", calendar=WorkingCalendar("Europe/Zurich", "CH", "BL")
    )

    exdate = the_event(parse(ims(series)))["EXDATE"]

    assert datetime(2030, 1, 1, 14, 0, tzinfo=ZURICH) in [d.dt for d in exdate.dts]


def test_a_finished_series_lists_holiday_exceptions_only_up_to_its_end():
    series = cops.series_from_rule(
        "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1TU;UNTIL=20301231T000000Z",
        at=time(14, 0),
        time_zone="Europe/Zurich",
        after=NOW,
        calendar=WorkingCalendar("Europe/Zurich", "CH", "BL"),
    )

    exdate = the_event(parse(ims(series)))["EXDATE"]

    assert [d.dt.date() for d in exdate.dts] == [date(2027, 7, 6), date(2030, 1, 1)]
