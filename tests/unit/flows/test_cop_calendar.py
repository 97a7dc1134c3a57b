"""A CoP's meeting series as one recurring calendar event (``bot.flows.cop_calendar``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from bot.flows import cop as cops
from bot.flows.cop_calendar import (
    Action,
    Attendee,
    CalendarChange,
    Recurrence,
    SeriesEvent,
    recurrence_of,
    series_event,
    transaction_id,
    windows_zone,
)
from bot.flows.timing import WorkingCalendar

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
CREATED = datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
PEOPLE = (Attendee("anna@example.ch", "Anna"), Attendee("ben@example.ch"))


def _series(text: str) -> cops.MeetingSeries:
    return cops.parse_schedule(text, now=NOW)


def _cop(text: str = "quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz") -> cops.Cop:
    return cops.create("IMS CoP", creator="ben", channel="C1", series=_series(text))


def _event(cop: cops.Cop) -> SeriesEvent:
    return series_event(
        cop, cop_id=7, created_at=CREATED, attendees=PEOPLE, body="Our meeting.", now=NOW
    )


def test_quarterly_first_tuesday_repeats_relative_monthly_every_three_months() -> None:
    recurrence = recurrence_of(_series("quarterly first tuesday 14:00 Europe/Zurich"))

    assert recurrence == Recurrence(
        "relativeMonthly", 3, ("tuesday",), date(2027, 1, 5), index="first"
    )


def test_the_default_rule_is_the_same_quarterly_recurrence() -> None:
    series = cops.default_series(after=NOW)

    assert recurrence_of(series).pattern == "relativeMonthly"
    assert recurrence_of(series).interval == 3


def test_monthly_last_friday_repeats_every_month_in_the_last_week() -> None:
    recurrence = recurrence_of(_series("monthly last friday 9:30"))

    assert (recurrence.pattern, recurrence.interval, recurrence.index) == (
        "relativeMonthly",
        1,
        "last",
    )


def test_weekly_days_repeat_weekly() -> None:
    recurrence = recurrence_of(_series("every 2 weeks monday and thursday 16:00"))

    assert (recurrence.pattern, recurrence.interval, recurrence.days_of_week) == (
        "weekly",
        2,
        ("monday", "thursday"),
    )


def test_yearly_first_monday_of_september_repeats_relative_yearly() -> None:
    recurrence = recurrence_of(_series("yearly first monday of september 10:00"))

    assert (recurrence.pattern, recurrence.month, recurrence.index) == (
        "relativeYearly",
        9,
        "first",
    )


def test_a_counted_rule_keeps_its_count() -> None:
    recurrence = recurrence_of(_series("FREQ=MONTHLY;INTERVAL=3;BYDAY=1TU;COUNT=4 14:00"))

    assert (recurrence.interval, recurrence.count) == (3, 4)


def test_a_rule_until_a_date_ends_on_that_local_date() -> None:
    recurrence = recurrence_of(_series("FREQ=MONTHLY;BYDAY=1TU;UNTIL=20271231 14:00"))

    assert recurrence.end_date == date(2027, 12, 31)


@pytest.mark.parametrize(
    "text",
    [
        "FREQ=MONTHLY;BYDAY=TU;BYSETPOS=1 14:00",
        "FREQ=MONTHLY;BYMONTH=1,2,7;BYDAY=1TU 14:00",
        "FREQ=MONTHLY;BYDAY=1TU,3TU 14:00",
    ],
)
def test_a_rule_a_calendar_cannot_repeat_is_refused(text: str) -> None:
    with pytest.raises(cops.ScheduleError) as refused:
        recurrence_of(_series(text))

    assert refused.value.key == "cop.calendar.unsupported_rule"


def test_zurich_is_named_as_windows_names_it() -> None:
    assert windows_zone("Europe/Zurich") == "W. Europe Standard Time"


def test_the_event_starts_at_the_first_meeting_in_the_windows_zone() -> None:
    event = _event(_cop())

    assert event.start == datetime(2027, 1, 5, 14, 0)
    assert event.end == datetime(2027, 1, 5, 16, 0)
    assert event.time_zone == "W. Europe Standard Time"


def test_the_event_carries_subject_place_attendees_and_body() -> None:
    event = _event(_cop())

    assert event.subject == "IMS CoP"
    assert event.location == "Campus Muttenz"
    assert event.attendees == PEOPLE
    assert event.body == "Our meeting."


def test_the_transaction_id_depends_only_on_the_cop() -> None:
    cop = _cop()
    changed = cops.skip_meeting(cop, by="ben", day=date(2027, 4, 6))

    assert _event(cop).transaction_id == _event(changed).transaction_id
    assert transaction_id(7, CREATED) != transaction_id(8, CREATED)
    assert transaction_id(7, CREATED) != transaction_id(7, NOW)


def test_skipped_dates_and_holidays_are_not_held() -> None:
    cop = cops.skip_meeting(_cop(), by="ben", day=date(2027, 7, 6))
    # Basel-Landschaft: 2027-04-06 is not a holiday; the rule below meets on 2027-01-01.
    holidays = cops.create(
        "New year",
        creator="ben",
        channel="C1",
        series=replace(
            _series("FREQ=YEARLY;BYMONTH=1;BYDAY=1FR 10:00 Europe/Zurich"),
            calendar=WorkingCalendar("Europe/Zurich", "CH", "BL"),
        ),
    )

    assert _event(cop).not_held == (date(2027, 7, 6),)
    assert _event(holidays).not_held == (date(2027, 1, 1),)


def test_a_change_survives_the_outbox_payload() -> None:
    event = series_event(
        cops.skip_meeting(_cop(), by="ben", day=date(2027, 7, 6)),
        cop_id=7,
        created_at=CREATED,
        attendees=PEOPLE,
        body="Our meeting.",
        now=NOW,
    )
    change = CalendarChange(7, Action.SKIP, event, day=date(2027, 7, 6), comment="Summer.")

    assert CalendarChange.from_dict(change.to_dict()) == change
