"""Domain: working time. When may the bot nudge someone, and when should a reminder go out?

Pure: every function takes the moment it reasons about as an argument; nothing reads the clock.
All datetimes are timezone-aware. A ``WorkingCalendar`` reasons in its own zone's wall-clock time
(so 08:00 stays 08:00 across daylight-saving changes) and answers in UTC.

Rules:

- Quiet hours are the evening and the night (``evening_start`` until ``morning_end`` the next
  day), by default 18:00 to 08:00, and by default the whole weekend.
- Public holidays of the calendar's country, and of its subdivision when one is named (a German
  state such as ``BY``, a Swiss canton such as ``BL``), are quiet all day. They come from the
  ``holidays`` package.
- A moment in quiet time moves to the next working morning at ``morning_end``.
- A step's reminders are fractions of its duration (0.5 = halfway), each moved out of quiet
  time; one that would then land at or after the deadline is dropped, and two that land on the
  same moment are sent once.
- ``away until 2026-12-01`` means away through the whole of 1 December, in the group's zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from bot.flows.errors import KeyedError

# The longest run of quiet days next_allowed will look through before giving up (a calendar
# whose every day is a holiday is a configuration error, not a reason to loop forever).
_MAX_QUIET_DAYS = 366

DEFAULT_TIME_ZONE = "Europe/Amsterdam"
DEFAULT_COUNTRY = "NL"
DEFAULT_REMINDER_OFFSETS: tuple[float, ...] = (0.5,)


class TimingError(KeyedError, ValueError):
    """A working-time setting that cannot be used. ``key`` names the catalogue message."""


@dataclass(frozen=True)
class QuietHours:
    """When nobody is nudged: each evening from ``evening_start`` until ``morning_end``.

    Times are wall-clock times of day in the calendar's zone. ``weekends`` makes Saturday and
    Sunday quiet all day.
    """

    evening_start: time = time(18, 0)
    morning_end: time = time(8, 0)
    weekends: bool = True

    def __post_init__(self) -> None:
        if self.evening_start.tzinfo is not None or self.morning_end.tzinfo is not None:
            raise TimingError("timing.quiet_hours_with_zone")
        if not self.morning_end < self.evening_start:
            raise TimingError(
                "timing.quiet_hours_order",
                morning_end=self.morning_end.isoformat("minutes"),
                evening_start=self.evening_start.isoformat("minutes"),
            )

    def is_quiet_time_of_day(self, wall_clock: time) -> bool:
        """True in the evening or the night, whatever the day."""
        return not self.morning_end <= wall_clock < self.evening_start


@dataclass(frozen=True)
class WorkingCalendar:
    """A group's working time: its zone, its public holidays, its quiet hours.

    ``country`` is an ISO code the ``holidays`` package knows (NL, DE, CH, ...) or None for no
    public holidays; ``subdivision`` is a German state (``BY``, ``BE``, ...) or Swiss canton
    (``BL``, ``BS``, ``ZH``, ...).

    Raises:
        TimingError: ``timing.unknown_zone``, ``timing.unknown_country`` or
            ``timing.unknown_subdivision`` when a name is not known.
    """

    time_zone: str = DEFAULT_TIME_ZONE
    country: str | None = DEFAULT_COUNTRY
    subdivision: str | None = None
    quiet: QuietHours = field(default_factory=QuietHours)

    def __post_init__(self) -> None:
        zone(self.time_zone)  # raises TimingError for an unknown zone
        if self.country is None:
            if self.subdivision is not None:
                raise TimingError("timing.subdivision_without_country")
            return
        _check_region(self.country, self.subdivision)

    @property
    def zone(self) -> ZoneInfo:
        return zone(self.time_zone)

    def local(self, moment: datetime) -> datetime:
        """``moment`` as wall-clock time in the calendar's zone."""
        return _aware(moment).astimezone(self.zone)

    def holiday(self, day: date) -> str | None:
        """The name of the public holiday on ``day`` (English), or None for an ordinary day."""
        if self.country is None:
            return None
        return _holidays(self.country, self.subdivision, day.year).get(day)

    def is_holiday(self, day: date) -> bool:
        return self.holiday(day) is not None

    def is_working_day(self, day: date) -> bool:
        """Neither a quiet weekend day nor a public holiday."""
        weekend = day.weekday() >= 5
        return not (weekend and self.quiet.weekends) and not self.is_holiday(day)

    def is_working_time(self, moment: datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and not self.quiet.is_quiet_time_of_day(
            local.time()
        )

    def next_allowed(self, moment: datetime) -> datetime:
        """``moment`` itself (in UTC) when it is working time, else the next working morning.

        The working morning is the first working day's ``morning_end`` wall-clock time: today's
        when ``moment`` is before it, else a later day's.

        Raises:
            ValueError: for a naive ``moment``.
            TimingError: ``timing.no_working_day`` when no working day follows within a year.
        """
        local = self.local(moment)
        if self.is_working_time(local):
            return local.astimezone(UTC)
        day = local.date()
        if local.time() >= self.quiet.morning_end:
            day += timedelta(days=1)
        for _ in range(_MAX_QUIET_DAYS):
            if self.is_working_day(day):
                return wall_clock(day, self.quiet.morning_end, self.zone).astimezone(UTC)
            day += timedelta(days=1)
        raise TimingError("timing.no_working_day", after=moment.isoformat())

    def reminder_times(
        self,
        opened_at: datetime,
        deadline: datetime | None,
        offsets: Sequence[float] = DEFAULT_REMINDER_OFFSETS,
    ) -> list[datetime]:
        """When to remind people of a step that opened at ``opened_at`` and closes at ``deadline``.

        Each offset is a fraction of the step's duration (0.5 = halfway); an empty ``offsets``
        means never, and so does a step without a deadline. Each time is moved out of quiet time;
        those that then land at or after the deadline are dropped, duplicates are merged. The
        answer is sorted, in UTC.

        Raises:
            TimingError: ``timing.bad_offset`` for an offset outside (0, 1).
        """
        _check_offsets(offsets)
        if deadline is None:
            return []
        # In UTC: same-zone datetime arithmetic is wall-clock arithmetic, and a step lasts real
        # hours (a 48-hour step over the spring change is 48 elapsed hours).
        start, end = _aware(opened_at).astimezone(UTC), _aware(deadline).astimezone(UTC)
        times = {self.next_allowed(start + (end - start) * fraction) for fraction in offsets}
        return sorted(t for t in times if t < end)

    def is_away(self, user_away_until: date | None, moment: datetime) -> bool:
        """``is_away`` read in this calendar's zone."""
        return is_away(user_away_until, moment, time_zone=self.zone)


def is_away(
    user_away_until: date | None, moment: datetime, *, time_zone: tzinfo | str = UTC
) -> bool:
    """True when a person who paused reminders until ``user_away_until`` is still away.

    The date is inclusive: away until 1 December means no reminders on 1 December either. The
    date is read in ``time_zone`` (the group's zone; UTC unless given).
    """
    if user_away_until is None:
        return False
    tz = zone(time_zone) if isinstance(time_zone, str) else time_zone
    return _aware(moment).astimezone(tz).date() <= user_away_until


def parse_reminder_offsets(text: str) -> tuple[float, ...]:
    """Read a group's reminder setting: ``never``, ``50%``, ``0.5``, ``50%, 90%``.

    Raises:
        TimingError: ``timing.bad_offsets`` for anything else, ``timing.bad_offset`` for a
            fraction outside (0, 1).
    """
    words = [w for w in re.split(r"[\s,;]+", text.strip().lower()) if w]
    if words in ([], ["never"], ["none"], ["off"]):
        return ()
    fractions: list[float] = []
    for word in words:
        match = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", word)
        if match is None:
            raise TimingError("timing.bad_offsets", text=text)
        value = float(match.group(1))
        fractions.append(value / 100 if match.group(2) else value)
    _check_offsets(fractions)
    return tuple(sorted(set(fractions)))


def zone(name: str | tzinfo) -> ZoneInfo:
    """The ``ZoneInfo`` for an IANA name.

    Raises:
        TimingError: ``timing.unknown_zone`` for a name the time-zone database does not know.
    """
    if isinstance(name, ZoneInfo):
        return name
    if not isinstance(name, str):
        raise TimingError("timing.unknown_zone", zone=str(name))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise TimingError("timing.unknown_zone", zone=name) from error


def wall_clock(day: date, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at wall-clock ``at`` in ``tz``.

    A wall-clock time that does not exist that day (skipped when clocks go forward) becomes the
    same instant read after the change (02:30 on the spring-forward night becomes 03:30); an
    ambiguous one (repeated when clocks go back) is the first of the two.
    """
    naive = datetime.combine(day, at.replace(tzinfo=None))
    return naive.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is needed, got {moment!r}")
    return moment


def _check_offsets(offsets: Sequence[float]) -> None:
    for fraction in offsets:
        if not 0 < fraction < 1:
            raise TimingError("timing.bad_offset", offset=fraction)


@lru_cache(maxsize=1)
def _regions() -> dict[str, frozenset[str]]:
    """Each country the ``holidays`` package knows, with its subdivisions."""
    known: dict[str, list[str]] = holidays.list_supported_countries()
    return {country: frozenset(subdivisions) for country, subdivisions in known.items()}


def _check_region(country: str, subdivision: str | None) -> None:
    known = _regions()
    if country not in known:
        raise TimingError("timing.unknown_country", country=country)
    if subdivision is not None and subdivision not in known[country]:
        raise TimingError("timing.unknown_subdivision", country=country, subdivision=subdivision)


@lru_cache(maxsize=256)
def _holidays(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    """The public holidays of one region and year (cached: building them is not cheap)."""
    found = holidays.country_holidays(country, subdiv=subdivision, years=year)
    return dict(found.items())
