"""Working time: quiet hours, weekends, public holidays per region, reminders, time away, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.flows.timing import (
    QuietHours,
    TimingError,
    WorkingCalendar,
    is_away,
    parse_reminder_offsets,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
BERLIN = ZoneInfo("Europe/Berlin")
ZURICH = ZoneInfo("Europe/Zurich")

NL = WorkingCalendar("Europe/Amsterdam", "NL")


def ams(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)


# next_allowed: quiet hours and weekends


def test_a_moment_in_working_time_stays_and_comes_back_in_utc():
    moment = ams(2026, 3, 10, 10, 0)  # a Tuesday

    allowed = NL.next_allowed(moment)

    assert allowed == moment
    assert allowed.tzinfo is UTC


def test_a_reminder_at_21_00_moves_to_08_00_next_morning():
    assert NL.next_allowed(ams(2026, 3, 10, 21, 0)) == ams(2026, 3, 11, 8, 0)


def test_a_reminder_before_08_00_moves_to_08_00_the_same_morning():
    assert NL.next_allowed(ams(2026, 3, 10, 6, 30)) == ams(2026, 3, 10, 8, 0)


def test_the_evening_starts_at_18_00_sharp():
    assert NL.next_allowed(ams(2026, 3, 10, 17, 59)) == ams(2026, 3, 10, 17, 59)
    assert NL.next_allowed(ams(2026, 3, 10, 18, 0)) == ams(2026, 3, 11, 8, 0)


def test_friday_evening_moves_to_monday_morning():
    assert NL.next_allowed(ams(2026, 3, 13, 19, 0)) == ams(2026, 3, 16, 8, 0)


def test_saturday_moves_to_monday_morning():
    assert NL.next_allowed(ams(2026, 3, 14, 12, 0)) == ams(2026, 3, 16, 8, 0)


def test_weekends_are_working_days_when_the_group_says_so():
    calendar = WorkingCalendar("Europe/Amsterdam", "NL", quiet=QuietHours(weekends=False))

    assert calendar.next_allowed(ams(2026, 3, 14, 12, 0)) == ams(2026, 3, 14, 12, 0)


def test_custom_quiet_hours_are_respected():
    calendar = WorkingCalendar("Europe/Amsterdam", "NL", quiet=QuietHours(time(17, 0), time(9, 30)))

    assert calendar.next_allowed(ams(2026, 3, 10, 17, 15)) == ams(2026, 3, 11, 9, 30)


def test_a_moment_in_another_zone_is_judged_by_the_calendars_wall_clock():
    # 07:30 in New York is 13:30 in Amsterdam: working time there.
    moment = datetime(2026, 3, 10, 7, 30, tzinfo=ZoneInfo("America/New_York"))

    assert NL.next_allowed(moment) == moment


# next_allowed: public holidays per country and region


def test_easter_monday_in_the_netherlands_moves_to_tuesday():
    assert NL.next_allowed(ams(2026, 4, 6, 10, 0)) == ams(2026, 4, 7, 8, 0)


def test_whit_monday_in_the_netherlands_moves_to_tuesday():
    assert NL.next_allowed(ams(2026, 5, 25, 10, 0)) == ams(2026, 5, 26, 8, 0)


def test_christmas_in_the_netherlands_moves_past_both_days_and_the_weekend():
    # 2025: Christmas on Thursday, the second day on Friday.
    assert NL.next_allowed(ams(2025, 12, 24, 20, 0)) == ams(2025, 12, 29, 8, 0)


def test_corpus_christi_is_quiet_in_bavaria():
    bavaria = WorkingCalendar("Europe/Berlin", "DE", "BY")

    allowed = bavaria.next_allowed(datetime(2026, 6, 4, 10, 0, tzinfo=BERLIN))

    assert allowed == datetime(2026, 6, 5, 8, 0, tzinfo=BERLIN)


def test_corpus_christi_is_a_working_day_in_berlin():
    berlin = WorkingCalendar("Europe/Berlin", "DE", "BE")
    moment = datetime(2026, 6, 4, 10, 0, tzinfo=BERLIN)

    assert berlin.next_allowed(moment) == moment


def test_berchtoldstag_is_quiet_in_the_canton_of_bern():
    bern = WorkingCalendar("Europe/Zurich", "CH", "BE")

    allowed = bern.next_allowed(datetime(2026, 1, 2, 10, 0, tzinfo=ZURICH))

    assert allowed == datetime(2026, 1, 5, 8, 0, tzinfo=ZURICH)


def test_berchtoldstag_is_a_working_day_in_basel_landschaft():
    basel_land = WorkingCalendar("Europe/Zurich", "CH", "BL")
    moment = datetime(2026, 1, 2, 10, 0, tzinfo=ZURICH)

    assert basel_land.next_allowed(moment) == moment


def test_a_calendar_without_country_has_no_holidays():
    calendar = WorkingCalendar("Europe/Amsterdam", None)
    moment = ams(2026, 4, 6, 10, 0)

    assert calendar.next_allowed(moment) == moment


def test_holiday_names_come_from_the_holidays_package():
    assert NL.holiday(date(2026, 4, 27)) == "King's Day"
    assert NL.holiday(date(2026, 4, 28)) is None


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"time_zone": "Mars/Olympus"}, "timing.unknown_zone"),
        ({"country": "XX"}, "timing.unknown_country"),
        ({"country": "DE", "subdivision": "ZZ"}, "timing.unknown_subdivision"),
        ({"country": None, "subdivision": "BY"}, "timing.subdivision_without_country"),
    ],
)
def test_a_calendar_with_unknown_names_is_refused(kwargs: dict[str, str | None], key: str):
    with pytest.raises(TimingError) as refused:
        WorkingCalendar(**kwargs)  # type: ignore[arg-type]

    assert refused.value.key == key


def test_quiet_hours_must_end_in_the_morning_before_the_evening_starts():
    with pytest.raises(TimingError) as refused:
        QuietHours(evening_start=time(7, 0), morning_end=time(8, 0))

    assert refused.value.key == "timing.quiet_hours_order"


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        NL.next_allowed(datetime(2026, 3, 10, 10, 0))


# next_allowed across daylight-saving changes (last Sundays of March and October)

EVENINGS_ONLY = WorkingCalendar("Europe/Amsterdam", "NL", quiet=QuietHours(weekends=False))


def test_the_morning_after_clocks_go_forward_is_08_00_summer_time():
    allowed = EVENINGS_ONLY.next_allowed(ams(2026, 3, 28, 21, 0))

    assert allowed == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)  # 08:00 CEST


def test_the_morning_after_clocks_go_back_is_08_00_winter_time():
    allowed = EVENINGS_ONLY.next_allowed(ams(2026, 10, 24, 21, 0))

    assert allowed == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)  # 08:00 CET


def test_the_repeated_hour_when_clocks_go_back_is_night():
    second_0230 = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 02:30 CET, the second one

    assert EVENINGS_ONLY.next_allowed(second_0230) == datetime(2026, 10, 25, 7, 0, tzinfo=UTC)


def test_a_weekend_spanning_the_change_lands_on_monday_summer_time():
    assert NL.next_allowed(ams(2026, 3, 27, 20, 0)) == datetime(2026, 3, 30, 6, 0, tzinfo=UTC)


# reminder_times


def test_the_halfway_reminder_of_a_48_hour_step():
    opened = ams(2026, 3, 9, 10, 0)  # Monday

    reminders = NL.reminder_times(opened, opened + timedelta(hours=48), [0.5])

    assert reminders == [ams(2026, 3, 10, 10, 0)]


def test_no_offsets_means_no_reminders():
    opened = ams(2026, 3, 9, 10, 0)

    assert NL.reminder_times(opened, opened + timedelta(hours=48), []) == []


def test_a_step_without_deadline_has_no_reminders():
    assert NL.reminder_times(ams(2026, 3, 9, 10, 0), None, [0.5]) == []


def test_a_reminder_moved_past_the_deadline_is_dropped():
    opened = ams(2026, 3, 13, 10, 0)  # Friday; halfway is Friday 22:00 -> Monday 08:00

    assert NL.reminder_times(opened, opened + timedelta(hours=24), [0.5]) == []


def test_a_halfway_reminder_at_night_moves_to_the_morning():
    opened = ams(2026, 3, 9, 18, 0)  # Monday evening; halfway is Tuesday 06:00

    reminders = NL.reminder_times(opened, opened + timedelta(hours=24), [0.5])

    assert reminders == [ams(2026, 3, 10, 8, 0)]


def test_reminders_that_move_to_the_same_morning_are_sent_once():
    opened = ams(2026, 3, 13, 10, 0)  # Friday to Monday 10:00

    reminders = NL.reminder_times(opened, opened + timedelta(hours=72), [0.5, 0.75])

    assert reminders == [ams(2026, 3, 16, 8, 0)]


def test_several_offsets_give_reminders_in_order():
    opened = ams(2026, 3, 9, 9, 0)  # Monday to Friday 09:00

    reminders = NL.reminder_times(opened, opened + timedelta(hours=96), [0.75, 0.25])

    assert reminders == [ams(2026, 3, 10, 9, 0), ams(2026, 3, 12, 9, 0)]


def test_a_halfway_reminder_across_the_spring_change_is_half_the_elapsed_time():
    opened = ams(2026, 3, 28, 10, 0)  # Saturday 09:00 UTC
    deadline = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # 48 hours later: Monday 11:00 CEST

    reminders = EVENINGS_ONLY.reminder_times(opened, deadline, [0.5])

    assert reminders == [datetime(2026, 3, 29, 9, 0, tzinfo=UTC)]  # Sunday 11:00 CEST


def test_local_times_across_the_spring_change_count_real_hours():
    opened = ams(2026, 3, 28, 10, 0)  # 10:00 CET
    deadline = ams(2026, 3, 30, 10, 0)  # 10:00 CEST: 47 hours later, not 48

    reminders = EVENINGS_ONLY.reminder_times(opened, deadline, [0.5])

    assert reminders == [datetime(2026, 3, 29, 8, 30, tzinfo=UTC)]


@pytest.mark.parametrize("offset", [0.0, 1.0, -0.5, 1.5])
def test_an_offset_outside_the_step_is_refused(offset: float):
    opened = ams(2026, 3, 9, 10, 0)

    with pytest.raises(TimingError) as refused:
        NL.reminder_times(opened, opened + timedelta(hours=48), [offset])

    assert refused.value.key == "timing.bad_offset"


@pytest.mark.parametrize(
    ("text", "offsets"),
    [
        ("never", ()),
        ("", ()),
        ("50%", (0.5,)),
        ("0.5", (0.5,)),
        ("90%, 50%", (0.5, 0.9)),
    ],
)
def test_reminder_settings_are_read(text: str, offsets: tuple[float, ...]):
    assert parse_reminder_offsets(text) == offsets


@pytest.mark.parametrize(
    ("text", "key"), [("soon", "timing.bad_offsets"), ("150%", "timing.bad_offset")]
)
def test_unreadable_reminder_settings_are_refused(text: str, key: str):
    with pytest.raises(TimingError) as refused:
        parse_reminder_offsets(text)

    assert refused.value.key == key


# is_away


def test_nobody_is_away_without_a_date():
    assert not is_away(None, ams(2026, 12, 1, 10, 0))


def test_away_until_a_date_includes_that_date():
    assert is_away(date(2026, 12, 1), ams(2026, 12, 1, 17, 0), time_zone="Europe/Amsterdam")


def test_away_ends_the_day_after():
    assert not is_away(date(2026, 12, 1), ams(2026, 12, 2, 8, 0), time_zone="Europe/Amsterdam")


def test_away_is_read_in_the_groups_zone():
    just_after_midnight = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)  # 00:30 on 2 Dec in Amsterdam

    assert not NL.is_away(date(2026, 12, 1), just_after_midnight)
    assert is_away(date(2026, 12, 1), just_after_midnight)  # read in UTC
