"""The Community of Practice: its meeting series, schedule syntax, timeline, members and digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.flows import cop as cops
from bot.flows import session as flow
from bot.flows.cop import (
    DEFAULT_TIMELINE,
    Audience,
    Cop,
    MeetingSeries,
    PrepStep,
    ScheduleError,
    SessionSummary,
)
from bot.flows.session import RuleViolation, Session
from bot.flows.timing import WorkingCalendar

ZURICH = ZoneInfo("Europe/Zurich")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
YEAR_2027 = (datetime(2027, 1, 1, tzinfo=ZURICH), datetime(2028, 1, 1, tzinfo=ZURICH))
FIRST_TUESDAYS_2027 = [
    datetime(2027, 1, 5, 14, 0, tzinfo=ZURICH),
    datetime(2027, 4, 6, 14, 0, tzinfo=ZURICH),
    datetime(2027, 7, 6, 14, 0, tzinfo=ZURICH),
    datetime(2027, 10, 5, 14, 0, tzinfo=ZURICH),
]
BASEL_LAND = WorkingCalendar("Europe/Zurich", "CH", "BL")


def zurich(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZURICH)


def quarterly(calendar: WorkingCalendar | None = None) -> MeetingSeries:
    return cops.default_series(after=NOW, place="Campus Muttenz", calendar=calendar)


def ims(series: MeetingSeries | None = None) -> Cop:
    """The IMS CoP: ana coordinates, ben and cem are members."""
    cop = cops.create("IMS CoP", creator="ana", channel="C-IMS", series=series or quarterly())
    return cops.join(cops.join(cop, user="ben"), user="cem")


# The meeting series


def test_the_default_series_meets_on_the_first_tuesdays_of_each_quarter_in_2027():
    assert cops.occurrences(quarterly(), *YEAR_2027) == FIRST_TUESDAYS_2027


def test_the_default_series_starts_with_its_first_meeting_after_now():
    assert quarterly().start == zurich(2027, 1, 5, 14, 0)


def test_meetings_keep_their_wall_clock_time_across_daylight_saving():
    meetings = cops.occurrences(quarterly(), *YEAR_2027)

    assert {m.astimezone(ZURICH).time() for m in meetings} == {time(14, 0)}
    assert [m.astimezone(UTC).hour for m in meetings] == [13, 12, 12, 12]


def test_a_weekly_series_keeps_its_time_across_the_autumn_change():
    weekly = cops.series_from_rule(
        "FREQ=WEEKLY;BYDAY=TH", at=time(9, 0), time_zone="Europe/Zurich", after=NOW
    )

    around = cops.occurrences(weekly, zurich(2027, 10, 20), zurich(2027, 11, 5))

    assert [m.date() for m in around] == [date(2027, 10, 21), date(2027, 10, 28), date(2027, 11, 4)]
    assert {m.time() for m in around} == {time(9, 0)}
    assert [m.astimezone(UTC).hour for m in around] == [7, 7, 8]  # CEST, then CET from 31 Oct


def test_a_skipped_date_is_excluded():
    series = cops.skip(quarterly(), date(2027, 7, 6))

    assert cops.occurrences(series, *YEAR_2027) == [
        FIRST_TUESDAYS_2027[0],
        FIRST_TUESDAYS_2027[1],
        FIRST_TUESDAYS_2027[3],
    ]


def test_skipping_a_date_without_meeting_is_refused():
    with pytest.raises(ScheduleError) as refused:
        cops.skip(quarterly(), date(2027, 7, 7))

    assert refused.value.key == "cop.schedule.not_a_meeting"


def test_skipping_twice_changes_nothing():
    once = cops.skip(quarterly(), date(2027, 7, 6))

    assert cops.skip(once, date(2027, 7, 6)) == once


def test_a_skip_can_be_taken_back():
    series = cops.skip(quarterly(), date(2027, 7, 6))

    assert cops.unskip(series, date(2027, 7, 6)) == quarterly()


def test_a_meeting_on_a_public_holiday_of_the_calendar_is_skipped():
    series = quarterly(calendar=BASEL_LAND)  # 1 January 2030 is the first Tuesday

    meetings = cops.occurrences(series, zurich(2030, 1, 1), zurich(2030, 12, 31))

    assert zurich(2030, 1, 1, 14, 0) not in meetings
    assert cops.holiday_clashes(series, zurich(2030, 1, 1), zurich(2030, 12, 31)) == [
        zurich(2030, 1, 1, 14, 0)
    ]


def test_without_a_calendar_holidays_do_not_count():
    meetings = cops.occurrences(quarterly(), zurich(2030, 1, 1), zurich(2030, 2, 1))

    assert meetings == [zurich(2030, 1, 1, 14, 0)]


def test_the_next_meeting_is_strictly_after_the_moment():
    assert cops.next_occurrence(quarterly(), FIRST_TUESDAYS_2027[0]) == FIRST_TUESDAYS_2027[1]


def test_the_next_meeting_jumps_over_a_skipped_one():
    series = cops.skip(quarterly(), date(2027, 4, 6))

    assert cops.next_occurrence(series, zurich(2027, 2, 1)) == FIRST_TUESDAYS_2027[2]


def test_a_finished_series_has_no_next_meeting():
    series = cops.series_from_rule(
        "FREQ=MONTHLY;BYDAY=1TU;COUNT=2", at=time(14, 0), time_zone="Europe/Zurich", after=NOW
    )

    assert cops.next_occurrence(series, zurich(2027, 6, 1)) is None


def test_the_previous_meeting_is_strictly_before_the_moment():
    assert cops.previous_occurrence(quarterly(), FIRST_TUESDAYS_2027[2]) == FIRST_TUESDAYS_2027[1]


def test_is_occurrence_knows_a_meeting_from_a_skipped_one():
    series = cops.skip(quarterly(), date(2027, 4, 6))

    assert cops.is_occurrence(series, FIRST_TUESDAYS_2027[0])
    assert not cops.is_occurrence(series, FIRST_TUESDAYS_2027[1])


def test_a_series_needs_an_aware_start():
    with pytest.raises(ScheduleError) as refused:
        MeetingSeries(start=datetime(2027, 1, 5, 14, 0))

    assert refused.value.key == "cop.schedule.naive_start"


# The schedule syntax


@pytest.mark.parametrize(
    ("text", "rule", "start"),
    [
        (
            "quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz",
            "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1TU",
            zurich(2027, 1, 5, 14, 0),
        ),
        (
            "quarterly first tuesday of february 14:00",
            "FREQ=MONTHLY;BYMONTH=2,5,8,11;BYDAY=1TU",
            zurich(2027, 2, 2, 14, 0),
        ),
        ("monthly last friday at 9:30", "FREQ=MONTHLY;BYDAY=-1FR", zurich(2026, 11, 27, 9, 30)),
        ("weekly monday and thursday 16:00", "FREQ=WEEKLY;BYDAY=MO,TH", zurich(2026, 11, 23, 16)),
        ("Weekly Mon, Thu 16.00", "FREQ=WEEKLY;BYDAY=MO,TH", zurich(2026, 11, 23, 16)),
        (
            "every 2 weeks wednesday 10:00",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
            zurich(2026, 12, 2, 10),
        ),
        (
            "yearly first monday of september 10h",
            "FREQ=YEARLY;BYMONTH=9;BYDAY=1MO",
            zurich(2027, 9, 6, 10),
        ),
        (
            "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1TU 14:00 Europe/Zurich",
            "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1TU",
            zurich(2027, 1, 5, 14, 0),
        ),
        ("RRULE:freq=monthly;byday=1tu 14:00", "FREQ=MONTHLY;BYDAY=1TU", zurich(2026, 12, 1, 14)),
    ],
)
def test_a_schedule_is_read(text: str, rule: str, start: datetime):
    series = cops.parse_schedule(text, now=NOW)

    assert (series.rrule, series.start) == (rule, start)


def test_a_schedule_names_its_place_after_at():
    series = cops.parse_schedule("quarterly first tuesday 14:00 at Campus Muttenz, room 3", now=NOW)

    assert (series.place, series.link) == ("Campus Muttenz, room 3", "")


def test_a_schedule_may_give_an_online_link_and_a_duration():
    series = cops.parse_schedule(
        "monthly first tuesday 14:00 for 90 minutes https://meet.example.org/ims", now=NOW
    )

    assert (series.link, series.duration) == ("https://meet.example.org/ims", timedelta(minutes=90))


def test_a_schedule_reads_its_zone_in_any_case():
    series = cops.parse_schedule("monthly first tuesday 14:00 europe/amsterdam", now=NOW)

    assert series.time_zone == "Europe/Amsterdam"


def test_a_schedule_without_zone_uses_the_default_zone():
    series = cops.parse_schedule(
        "monthly first tuesday 14:00", now=NOW, default_zone="Europe/Berlin"
    )

    assert series.time_zone == "Europe/Berlin"


def test_an_until_in_a_raw_rule_is_kept_in_utc():
    series = cops.parse_schedule("FREQ=MONTHLY;BYDAY=1TU;UNTIL=20271231 14:00", now=NOW)

    assert series.rrule == "FREQ=MONTHLY;BYDAY=1TU;UNTIL=20271231T225959Z"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("", "cop.schedule.empty"),
        ("sometimes 14:00", "cop.schedule.unknown_word"),
        ("first tuesday 14:00", "cop.schedule.no_rhythm"),
        ("quarterly first tuesday", "cop.schedule.no_time"),
        ("quarterly tuesday 14:00", "cop.schedule.no_ordinal"),
        ("quarterly first 14:00", "cop.schedule.no_weekday"),
        ("monthly first tuesday and friday 14:00", "cop.schedule.one_weekday"),
        ("weekly first monday 10:00", "cop.schedule.ordinal_in_weekly"),
        ("yearly first monday 10:00", "cop.schedule.yearly_needs_month"),
        ("quarterly first tuesday 25:00", "cop.schedule.bad_time"),
        ("quarterly first tuesday 14:00 Mars/Olympus", "cop.schedule.unknown_zone"),
        ("monthly first tuesday 14:00 for ever", "cop.schedule.bad_duration"),
        ("weekly monday 10:00 at", "cop.schedule.no_place"),
        ("every fortnight monday 10:00", "cop.schedule.bad_every"),
        ("FREQ=HOURLY 14:00", "cop.schedule.frequency"),
        ("FREQ=MONTHLY;BYHOUR=3 14:00", "cop.schedule.time_in_rule"),
        ("FREQ=MONTHLY;BYDAY=1XX 14:00", "cop.schedule.bad_rule"),
        ("FREQ=MONTHLY;COUNT=2;UNTIL=20280101 14:00", "cop.schedule.count_and_until"),
        ("FREQ=MONTHLY;BYDAY=1TU weekly 14:00", "cop.schedule.rule_and_words"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=31 14:00", "cop.schedule.never"),
        ("FREQ=MONTHLY;BYDAY=1TU;UNTIL=20200101 14:00", "cop.schedule.never"),
    ],
)
def test_a_bad_schedule_is_refused_with_its_reason(text: str, key: str):
    with pytest.raises(ScheduleError) as refused:
        cops.parse_schedule(text, now=NOW)

    assert refused.value.key == key


def test_a_schedule_error_is_a_value_error():
    with pytest.raises(ValueError, match=r"cop\.schedule\.unknown_word"):
        cops.parse_schedule("whenever", now=NOW)


# The preparation timeline


def test_the_preparation_timeline_of_a_meeting():
    due = cops.preparation_due(ims(), zurich(2027, 4, 6, 14, 0))

    assert [(at, step.key, step.audience) for at, step in due] == [
        (zurich(2027, 3, 9, 14, 0), "call_for_cases", Audience.COORDINATORS),
        (zurich(2027, 3, 9, 14, 0), "call_for_cases", Audience.MEMBERS),
        (zurich(2027, 3, 23, 14, 0), "agenda", Audience.COORDINATORS),
        (zurich(2027, 4, 5, 14, 0), "member_reminder", Audience.COORDINATORS),
        (zurich(2027, 4, 5, 14, 0), "member_reminder", Audience.MEMBERS),
        (zurich(2027, 4, 7, 14, 0), "minutes_request", Audience.COORDINATORS),
    ]


def test_coordinators_get_every_step_of_the_default_timeline_as_a_to_do():
    keys = {step.key for step in DEFAULT_TIMELINE}
    for_coordinators = {s.key for s in DEFAULT_TIMELINE if s.audience is Audience.COORDINATORS}

    assert (
        keys
        == for_coordinators
        == {
            "call_for_cases",
            "agenda",
            "member_reminder",
            "minutes_request",
        }
    )


def test_a_step_names_its_catalogue_message():
    step = PrepStep("agenda", -timedelta(weeks=2), Audience.COORDINATORS)

    assert step.message_key == "cop.prep.agenda.coordinators"


def test_with_a_calendar_a_sunday_reminder_moves_to_monday_morning():
    series = cops.series_from_rule(
        "FREQ=WEEKLY;BYDAY=MO",
        at=time(10, 0),
        time_zone="Europe/Zurich",
        after=NOW,
        calendar=BASEL_LAND,
    )
    reminder = PrepStep("member_reminder", -timedelta(days=1), Audience.MEMBERS)
    cop = Cop("IMS CoP", "C-IMS", series, ("ana",), ("ana",), timeline=(reminder,))

    assert cops.preparation_due(cop, zurich(2027, 3, 8, 10, 0)) == [
        (zurich(2027, 3, 8, 8, 0), reminder)
    ]


def test_a_step_before_the_meeting_never_moves_past_its_start():
    series = cops.series_from_rule(
        "FREQ=WEEKLY;BYDAY=MO",
        at=time(7, 30),
        time_zone="Europe/Zurich",
        after=NOW,
        calendar=BASEL_LAND,
    )
    reminder = PrepStep("member_reminder", -timedelta(days=1), Audience.MEMBERS)
    cop = Cop("IMS CoP", "C-IMS", series, ("ana",), ("ana",), timeline=(reminder,))

    assert cops.preparation_due(cop, zurich(2027, 3, 8, 7, 30)) == [
        (zurich(2027, 3, 7, 7, 30), reminder)
    ]


def test_a_cancelled_cop_prepares_nothing():
    cop = cops.cancel(ims(), by="ana")

    assert cops.preparation_due(cop, FIRST_TUESDAYS_2027[1]) == []


def test_preparation_between_lists_what_a_scheduler_registers():
    due = cops.preparation_between(ims(), zurich(2027, 3, 1), zurich(2027, 4, 1))

    assert [(at, meeting, step.key) for at, meeting, step in due] == [
        (zurich(2027, 3, 9, 14, 0), FIRST_TUESDAYS_2027[1], "call_for_cases"),
        (zurich(2027, 3, 9, 14, 0), FIRST_TUESDAYS_2027[1], "call_for_cases"),
        (zurich(2027, 3, 23, 14, 0), FIRST_TUESDAYS_2027[1], "agenda"),
    ]


# Members and coordinators


def test_the_creator_is_the_first_member_and_coordinator():
    cop = cops.create("  IMS   CoP ", creator="ana", channel="C-IMS", series=quarterly())

    assert (cop.name, cop.members, cop.coordinators) == ("IMS CoP", ("ana",), ("ana",))


def test_a_cop_needs_a_name():
    with pytest.raises(RuleViolation) as refused:
        cops.create("  ", creator="ana", channel="C-IMS", series=quarterly())

    assert refused.value.key == "rule.cop_name_empty"


def test_anyone_may_join():
    assert cops.join(ims(), user="dee").members == ("ana", "ben", "cem", "dee")


def test_joining_twice_changes_nothing():
    assert cops.join(ims(), user="ben") == ims()


def test_a_member_may_leave():
    assert cops.leave(ims(), user="ben").members == ("ana", "cem")


def test_the_last_coordinator_cannot_leave():
    with pytest.raises(RuleViolation) as refused:
        cops.leave(ims(), user="ana")

    assert refused.value.key == "rule.cop_last_coordinator"


def test_a_coordinator_who_leaves_stops_coordinating():
    cop = cops.add_coordinator(ims(), by="ana", user="ben")

    cop = cops.leave(cop, user="ana")

    assert (cop.members, cop.coordinators) == (("ben", "cem"), ("ben",))


def test_a_coordinator_adds_a_coordinator_who_becomes_a_member():
    cop = cops.add_coordinator(ims(), by="ana", user="dee")

    assert cop.coordinators == ("ana", "dee")
    assert cop.is_member("dee")


def test_only_a_coordinator_adds_coordinators():
    with pytest.raises(RuleViolation) as refused:
        cops.add_coordinator(ims(), by="ben", user="cem")

    assert refused.value.key == "rule.cop_only_coordinator"


def test_only_a_coordinator_skips_a_meeting():
    with pytest.raises(RuleViolation) as refused:
        cops.skip_meeting(ims(), by="ben", day=date(2027, 4, 6))

    assert refused.value.key == "rule.cop_only_coordinator"


def test_a_coordinator_skips_a_meeting():
    cop = cops.skip_meeting(ims(), by="ana", day=date(2027, 4, 6))

    assert cop.series.skipped == frozenset({date(2027, 4, 6)})


def test_only_a_coordinator_changes_the_schedule():
    new = cops.parse_schedule("monthly first tuesday 14:00", now=NOW)

    with pytest.raises(RuleViolation) as refused:
        cops.set_schedule(ims(), by="cem", series=new)

    assert refused.value.key == "rule.cop_only_coordinator"


def test_nobody_joins_a_cancelled_cop():
    cop = cops.cancel(ims(), by="ana")

    with pytest.raises(RuleViolation) as refused:
        cops.join(cop, user="dee")

    assert refused.value.key == "rule.cop_cancelled"


# The agenda


def test_a_member_adds_an_agenda_item():
    cop = cops.add_agenda_item(ims(), author="ben", text=" Case about onboarding ", now=NOW)

    assert cop.agenda == (cops.AgendaItem("ben", "Case about onboarding", NOW),)


def test_a_non_member_cannot_add_to_the_agenda():
    with pytest.raises(RuleViolation) as refused:
        cops.add_agenda_item(ims(), author="zoe", text="Hello", now=NOW)

    assert refused.value.key == "rule.cop_not_member"


def test_an_empty_agenda_item_is_refused():
    with pytest.raises(RuleViolation) as refused:
        cops.add_agenda_item(ims(), author="ben", text="   ", now=NOW)

    assert refused.value.key == "rule.cop_agenda_empty"


def test_the_agenda_of_a_meeting_holds_the_items_added_since_the_one_before():
    cop = ims()
    cop = cops.add_agenda_item(cop, author="ben", text="old", now=zurich(2026, 12, 1))
    cop = cops.add_agenda_item(cop, author="ben", text="new", now=zurich(2027, 2, 1))
    cop = cops.add_agenda_item(cop, author="cem", text="next", now=zurich(2027, 4, 7))

    agenda = cops.agenda_for(cop, FIRST_TUESDAYS_2027[1])

    assert [item.text for item in agenda] == ["new"]


# The digest


def summary(method_id: str, day: int, participants: int, contributions: int) -> SessionSummary:
    return SessionSummary(
        method_id, datetime(2027, 2, day, 10, 0, tzinfo=UTC), participants, contributions
    )


def test_the_digest_sums_up_the_sessions_since_the_last_meeting():
    sessions = [
        summary("incident", 1, 5, 20),
        summary("balint", 2, 4, 12),
        summary("incident", 3, 6, 10),
        summary("incident", 28, 9, 99),  # after the meeting: not in this digest
    ]

    result = cops.digest(sessions, FIRST_TUESDAYS_2027[0], zurich(2027, 2, 20))

    assert (result.sessions, result.methods) == (3, (("incident", 2), ("balint", 1)))
    assert (result.mean_participants, result.mean_contributions) == (5.0, 14.0)
    assert result.total_contributions == 42


def test_a_digest_without_sessions_has_zero_means():
    result = cops.digest([], FIRST_TUESDAYS_2027[0], FIRST_TUESDAYS_2027[1])

    assert (result.sessions, result.methods, result.mean_participants) == (0, (), 0.0)


def test_a_sessions_summary_counts_its_people_and_standing_contributions(
    start_session: Callable[..., Session],
):
    session = start_session()
    session = flow.contribute(session, author="ana", ref="m1", text="my case", now=NOW).session
    session = flow.contribute(session, author="ana", ref="m2", text="more", now=NOW).session
    session = flow.withdraw(session, user="ana", ref="m2").session

    result = cops.summary_of(session)

    assert (result.method_id, result.participants, result.contributions) == ("test", 5, 1)
