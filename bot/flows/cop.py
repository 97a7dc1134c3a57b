"""Domain: the Community of Practice. A meeting series, its preparation timeline, its members.

Pure: time comes in as an argument. A meeting series is an iCalendar recurrence rule (RFC 5545
``RRULE``) anchored at a start in the series' time zone; occurrences keep their wall-clock time
across daylight-saving changes (14:00 in Zurich stays 14:00 in summer and in winter).

Rules:

- An occurrence on a skipped date is not held.
- When the series has a ``calendar``, an occurrence on a public holiday of that calendar is not
  held either: it is skipped, not moved (a coordinator who wants another date skips it and
  plans an extra meeting). Weekends are not holidays here: a rule that says Saturday means it.
- The preparation timeline is a list of steps with offsets from the meeting's start. With a
  calendar, a step due in quiet time moves to the next working morning, unless that would put a
  step meant for before the meeting at or after its start: then it stays at its own time.
- Only coordinators change the schedule, skip a meeting, add coordinators or cancel; anyone may
  join; members add agenda items; the last coordinator cannot leave.

Refusals raise ``RuleViolation`` (from the session flow) with a catalogue key; a schedule that
cannot be understood raises ``ScheduleError`` (a ``ValueError``) with a catalogue key.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from dateutil.rrule import rrule, rrulestr

from bot.flows.errors import KeyedError
from bot.flows.session import RuleViolation, Session
from bot.flows.timing import TimingError, WorkingCalendar, wall_clock, zone

DEFAULT_RRULE = "FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1TU"
DEFAULT_ZONE = "Europe/Zurich"
DEFAULT_TIME = time(14, 0)
DEFAULT_DURATION = timedelta(hours=2)

_ALLOWED_FREQUENCIES = frozenset({"WEEKLY", "MONTHLY", "YEARLY"})
_ALLOWED_PARTS = frozenset(
    {
        "FREQ",
        "INTERVAL",
        "COUNT",
        "UNTIL",
        "BYDAY",
        "BYMONTHDAY",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYMONTH",
        "BYSETPOS",
        "WKST",
    }
)
_TIME_PARTS = frozenset({"BYHOUR", "BYMINUTE", "BYSECOND"})
# How many excluded occurrences in a row next/previous_occurrence look past before giving up.
_MAX_EXCLUDED_IN_A_ROW = 1000


class ScheduleError(KeyedError, ValueError):
    """A schedule that cannot be understood or used. ``key`` names the catalogue message."""


# The meeting series.


@dataclass(frozen=True)
class MeetingSeries:
    """A recurring meeting: a recurrence rule from ``start``, in ``time_zone``.

    ``rrule`` is the rule's value without ``DTSTART`` (``FREQ=...;...``, an ``RRULE:`` prefix is
    allowed); it is stored normalised: upper case, ``UNTIL`` in UTC. ``start`` anchors the rule
    and gives the meeting's wall-clock time; it is stored in ``time_zone``. The rule may repeat
    weekly, monthly or yearly; the time of day comes from ``start``, not from the rule.

    Raises:
        ScheduleError: ``cop.schedule.*`` for a rule that cannot be used.
    """

    start: datetime
    rrule: str = DEFAULT_RRULE
    time_zone: str = DEFAULT_ZONE
    duration: timedelta = DEFAULT_DURATION
    place: str = ""
    link: str = ""
    skipped: frozenset[date] = frozenset()
    calendar: WorkingCalendar | None = None

    def __post_init__(self) -> None:
        tz = _zone(self.time_zone)
        if self.start.tzinfo is None or self.start.utcoffset() is None:
            raise ScheduleError("cop.schedule.naive_start")
        if self.duration <= timedelta(0):
            raise ScheduleError("cop.schedule.bad_duration")
        object.__setattr__(self, "start", self.start.astimezone(tz))
        object.__setattr__(self, "skipped", frozenset(self.skipped))
        object.__setattr__(self, "rrule", _normalise_rule(self.rrule, tz))
        if first_instance(self) is None:
            raise ScheduleError("cop.schedule.never")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.time_zone)

    @property
    def time_of_day(self) -> time:
        return self.start.time().replace(tzinfo=None)


def default_series(
    *,
    after: datetime,
    place: str = "",
    link: str = "",
    calendar: WorkingCalendar | None = None,
) -> MeetingSeries:
    """The default: quarterly, the first Tuesday of January, April, July and October, 14:00
    Europe/Zurich, starting with the first such meeting after ``after``."""
    return series_from_rule(
        DEFAULT_RRULE,
        at=DEFAULT_TIME,
        time_zone=DEFAULT_ZONE,
        after=after,
        place=place,
        link=link,
        calendar=calendar,
    )


def series_from_rule(
    rule: str,
    *,
    at: time,
    time_zone: str,
    after: datetime,
    duration: timedelta = DEFAULT_DURATION,
    place: str = "",
    link: str = "",
    calendar: WorkingCalendar | None = None,
) -> MeetingSeries:
    """A series of ``rule`` at wall-clock ``at``, starting with its first meeting after ``after``.

    Raises:
        ScheduleError: ``cop.schedule.never`` when the rule has no meeting after ``after``.
    """
    tz = _zone(time_zone)
    anchor = wall_clock(_aware(after).astimezone(tz).date(), at, tz)
    draft = MeetingSeries(
        start=anchor,
        rrule=rule,
        time_zone=time_zone,
        duration=duration,
        place=place,
        link=link,
        calendar=calendar,
    )
    first = recurrence(draft).after(after, inc=False)
    if first is None:
        raise ScheduleError("cop.schedule.never")
    return replace(draft, start=first)


def recurrence(series: MeetingSeries) -> rrule:
    """The series' rule as a ``dateutil`` rule: every instance, skipped dates and holidays too."""
    return _parse_rule(series.rrule, series.start)


def first_instance(series: MeetingSeries) -> datetime | None:
    """The rule's first instance at or after ``start`` (skipped or not): the ICS ``DTSTART``."""
    return next(iter(recurrence(series)), None)


def last_instance(series: MeetingSeries) -> datetime | None:
    """The rule's last instance when it has ``COUNT`` or ``UNTIL``; None for an endless rule."""
    parts = dict(part.partition("=")[::2] for part in series.rrule.split(";"))
    if "COUNT" not in parts and "UNTIL" not in parts:
        return None
    instances = list(recurrence(series))
    return _normalise(instances[-1], series.zone) if instances else None


def occurrences(series: MeetingSeries, start: datetime, end: datetime) -> list[datetime]:
    """The meetings held from ``start`` (inclusive) to ``end`` (exclusive), in the series' zone.

    Skipped dates and, with a calendar, public holidays are left out.
    """
    return [o for o in _instances(series, start, end) if not _excluded(series, o)]


def excluded(series: MeetingSeries, start: datetime, end: datetime) -> list[datetime]:
    """The rule's instances from ``start`` to ``end`` that are not held (skipped or holiday)."""
    return [o for o in _instances(series, start, end) if _excluded(series, o)]


def holiday_clashes(series: MeetingSeries, start: datetime, end: datetime) -> list[datetime]:
    """The instances that fall on a public holiday of the series' calendar (and so are not held)."""
    return [o for o in _instances(series, start, end) if _on_holiday(series, o)]


def next_occurrence(series: MeetingSeries, after: datetime) -> datetime | None:
    """The first meeting held strictly after ``after``, or None when the series has ended."""
    return _held_from(series, after, forward=True)


def previous_occurrence(series: MeetingSeries, before: datetime) -> datetime | None:
    """The last meeting held strictly before ``before``, or None."""
    return _held_from(series, before, forward=False)


def _held_from(series: MeetingSeries, moment: datetime, *, forward: bool) -> datetime | None:
    """The nearest instance in one direction that is not skipped or on a holiday."""
    rule = recurrence(series)
    step = rule.after if forward else rule.before
    moment = _aware(moment)
    for _ in range(_MAX_EXCLUDED_IN_A_ROW):
        found = step(moment, inc=False)
        if found is None:
            return None
        if not _excluded(series, found):
            return _normalise(found, series.zone)
        moment = found
    return None


def is_occurrence(series: MeetingSeries, moment: datetime) -> bool:
    """True when a meeting is held at exactly ``moment`` (a scheduled job checks this first)."""
    return _aware(moment) in occurrences(series, moment, moment + timedelta(seconds=1))


def skip(series: MeetingSeries, day: date) -> MeetingSeries:
    """The series without its meeting on ``day`` (a local date). Skipping twice changes nothing.

    Raises:
        ScheduleError: ``cop.schedule.not_a_meeting`` when the rule has no meeting that day.
    """
    tz = series.zone
    start = wall_clock(day, time(0, 0), tz)
    end = wall_clock(day + timedelta(days=1), time(0, 0), tz)
    if not _instances(series, start, end):
        raise ScheduleError("cop.schedule.not_a_meeting", date=day.isoformat())
    return replace(series, skipped=series.skipped | {day})


def unskip(series: MeetingSeries, day: date) -> MeetingSeries:
    """The series with its meeting on ``day`` held again (a skip taken back)."""
    return replace(series, skipped=series.skipped - {day})


# The schedule syntax of ``/intervision cop schedule``.

_WEEKDAYS = {
    "monday": "MO",
    "tuesday": "TU",
    "wednesday": "WE",
    "thursday": "TH",
    "friday": "FR",
    "saturday": "SA",
    "sunday": "SU",
}
_WEEKDAY_WORDS = {
    **_WEEKDAYS,
    **{name[:3]: code for name, code in _WEEKDAYS.items()},
    **{name + "s": code for name, code in _WEEKDAYS.items()},
}
_ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "last": -1,
}
_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        1,
    )
}
_MONTH_WORDS = {**_MONTHS, **{name[:3]: number for name, number in _MONTHS.items()}}
_RHYTHMS: dict[str, tuple[str, int]] = {
    "weekly": ("WEEKLY", 1),
    "biweekly": ("WEEKLY", 2),
    "fortnightly": ("WEEKLY", 2),
    "monthly": ("MONTHLY", 1),
    "quarterly": ("MONTHLY", 3),
    "yearly": ("YEARLY", 1),
    "annually": ("YEARLY", 1),
}
_UNITS = {
    "week": "WEEKLY",
    "weeks": "WEEKLY",
    "month": "MONTHLY",
    "months": "MONTHLY",
    "year": "YEARLY",
    "years": "YEARLY",
}
_FILLER = frozenset({"of", "on", "the", "in", "and", "&", ","})
_TIME = re.compile(r"(\d{1,2})(?:[:.h](\d{2})|h)")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(h|hours?|m|min|mins|minutes?)")


@dataclass
class _Parsed:
    rule: str | None = None
    rhythm: tuple[str, int] | None = None
    quarterly: bool = False
    ordinal: int | None = None
    weekdays: list[str] = field(default_factory=list)
    months: list[int] = field(default_factory=list)
    at: time | None = None
    time_zone: str | None = None
    duration: timedelta | None = None
    place: str = ""
    link: str = ""


def parse_schedule(
    text: str,
    *,
    now: datetime,
    default_zone: str = DEFAULT_ZONE,
    calendar: WorkingCalendar | None = None,
) -> MeetingSeries:
    """Read a meeting series from a line such as the ones below; it starts after ``now``.

    ``quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz``
    ``monthly last friday at 9:30 for 90 minutes https://meet.example.org/ims``
    ``weekly monday and thursday 16:00``, ``every 2 weeks wednesday 10:00``
    ``yearly first monday of september 10:00``, ``quarterly first tuesday of february 14:00``
    ``FREQ=MONTHLY;BYMONTH=1,4,7,10;BYDAY=1TU 14:00 Europe/Zurich``

    A rhythm (weekly, biweekly, monthly, quarterly, yearly, every N weeks/months/years) or a raw
    ``RRULE``, weekdays (with an ordinal for monthly and longer rhythms), months, a time of day
    (required), an IANA time zone (else ``default_zone``), ``for`` a duration, a link, and last
    ``at`` a place (the rest of the line). Quarterly means January, April, July and October;
    with one month named, every third month from that one; with several, those months.

    Raises:
        ScheduleError: with a ``cop.schedule.*`` key saying what is wrong.
    """
    parsed = _read_words(text)
    if parsed.rule is not None and (
        parsed.rhythm or parsed.ordinal or parsed.weekdays or parsed.months
    ):
        raise ScheduleError("cop.schedule.rule_and_words")
    if parsed.at is None:
        raise ScheduleError("cop.schedule.no_time")
    rule = parsed.rule if parsed.rule is not None else _rule_from_words(parsed)
    return series_from_rule(
        rule,
        at=parsed.at,
        time_zone=parsed.time_zone or default_zone,
        after=now,
        duration=parsed.duration or DEFAULT_DURATION,
        place=parsed.place,
        link=parsed.link,
        calendar=calendar,
    )


def _read_words(text: str) -> _Parsed:
    words = [
        piece
        for word in text.split()
        for piece in ([word] if "=" in word or _is_link(word) else _split_commas(word))
    ]
    if not words:
        raise ScheduleError("cop.schedule.empty")
    parsed = _Parsed()
    i = 0
    while i < len(words):
        word, lower = words[i], words[i].lower()
        following = words[i + 1].lower() if i + 1 < len(words) else ""
        i += 1
        if "freq=" in lower:
            parsed.rule = word
        elif lower in _RHYTHMS:
            _set_rhythm(parsed, _RHYTHMS[lower], quarterly=lower == "quarterly")
        elif lower == "every":
            i = _read_every(parsed, words, i)
        elif lower in _ORDINALS:
            if parsed.ordinal is not None:
                raise ScheduleError("cop.schedule.repeated", word=word)
            parsed.ordinal = _ORDINALS[lower]
        elif lower in _WEEKDAY_WORDS:
            parsed.weekdays.append(_WEEKDAY_WORDS[lower])
        elif lower in _MONTH_WORDS:
            parsed.months.append(_MONTH_WORDS[lower])
        elif _TIME.fullmatch(lower):
            parsed.at = _read_time(word)
        elif lower == "at" and _TIME.fullmatch(following):
            parsed.at = _read_time(following)
            i += 1
        elif lower == "at":
            rest = " ".join(words[i:]).replace(" , ", ", ").strip()
            if not rest:
                raise ScheduleError("cop.schedule.no_place")
            if _is_link(rest):
                parsed.link = rest
            else:
                parsed.place = rest
            break
        elif lower == "for":
            i = _read_duration(parsed, words, i)
        elif _is_link(word):
            parsed.link = word
        elif "/" in word or lower == "utc":
            parsed.time_zone = _zone_name(word)
        elif lower in _FILLER:
            continue
        else:
            raise ScheduleError("cop.schedule.unknown_word", word=word)
    return parsed


def _split_commas(word: str) -> list[str]:
    """``monday,`` -> ``monday``, ``,``: commas are words of their own outside rules and links."""
    return [piece for piece in re.split(r"(,)", word) if piece]


def _set_rhythm(parsed: _Parsed, rhythm: tuple[str, int], *, quarterly: bool = False) -> None:
    if parsed.rhythm is not None:
        raise ScheduleError("cop.schedule.repeated", word="rhythm")
    parsed.rhythm = rhythm
    parsed.quarterly = quarterly


def _read_every(parsed: _Parsed, words: list[str], i: int) -> int:
    """``every week``, ``every other week``, ``every 3 months``: the index after the phrase."""
    ahead = [w.lower() for w in words[i : i + 2]]
    if ahead and ahead[0] in _UNITS:
        _set_rhythm(parsed, (_UNITS[ahead[0]], 1))
        return i + 1
    if len(ahead) == 2 and ahead[1] in _UNITS and (ahead[0] == "other" or ahead[0].isdigit()):
        interval = 2 if ahead[0] == "other" else int(ahead[0])
        if interval < 1:
            raise ScheduleError("cop.schedule.bad_interval", interval=interval)
        _set_rhythm(parsed, (_UNITS[ahead[1]], interval))
        return i + 2
    raise ScheduleError("cop.schedule.bad_every", text=" ".join(words[i - 1 : i + 2]))


def _read_time(word: str) -> time:
    match = _TIME.fullmatch(word.lower())
    assert match is not None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    if hour > 23 or minute > 59:
        raise ScheduleError("cop.schedule.bad_time", time=word)
    return time(hour, minute)


def _read_duration(parsed: _Parsed, words: list[str], i: int) -> int:
    """``for 2h``, ``for 90 minutes``, ``for 1.5 hours``: the index after the phrase."""
    for taken in (1, 2):
        phrase = "".join(words[i : i + taken]).lower()
        match = _DURATION.fullmatch(phrase)
        if match is not None:
            amount = float(match.group(1))
            minutes = amount * 60 if match.group(2).startswith("h") else amount
            if not 0 < minutes <= 24 * 60:
                raise ScheduleError("cop.schedule.bad_duration", duration=phrase)
            parsed.duration = timedelta(minutes=minutes)
            return i + taken
    raise ScheduleError("cop.schedule.bad_duration", duration=" ".join(words[i : i + 2]))


def _rule_from_words(parsed: _Parsed) -> str:
    if parsed.rhythm is None:
        raise ScheduleError("cop.schedule.no_rhythm")
    if not parsed.weekdays:
        raise ScheduleError("cop.schedule.no_weekday")
    frequency, interval = parsed.rhythm
    months = sorted(set(parsed.months))
    parts = [f"FREQ={frequency}"]
    if frequency == "WEEKLY":
        if parsed.ordinal is not None:
            raise ScheduleError("cop.schedule.ordinal_in_weekly")
        if interval > 1:
            parts.append(f"INTERVAL={interval}")
        parts.append("BYDAY=" + ",".join(dict.fromkeys(parsed.weekdays)))
        if months:
            parts.append("BYMONTH=" + ",".join(map(str, months)))
        return ";".join(parts)
    if parsed.ordinal is None:
        raise ScheduleError("cop.schedule.no_ordinal")
    if len(set(parsed.weekdays)) > 1:
        raise ScheduleError("cop.schedule.one_weekday")
    if parsed.quarterly:
        if len(months) <= 1:
            first = months[0] if months else 1
            months = sorted((first - 1 + 3 * k) % 12 + 1 for k in range(4))
    elif interval > 1:
        parts.append(f"INTERVAL={interval}")
    if frequency == "YEARLY" and not months:
        raise ScheduleError("cop.schedule.yearly_needs_month")
    if months:
        parts.append("BYMONTH=" + ",".join(map(str, months)))
    parts.append(f"BYDAY={parsed.ordinal}{parsed.weekdays[0]}")
    return ";".join(parts)


def _is_link(word: str) -> bool:
    return word.lower().startswith(("https://", "http://"))


@lru_cache(maxsize=1)
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def _zone_name(word: str) -> str:
    name = _zone_names().get(word.lower(), word)
    _zone(name)
    return name


# The preparation timeline.


class Audience(StrEnum):
    COORDINATORS = "coordinators"
    MEMBERS = "members"


@dataclass(frozen=True)
class PrepStep:
    """One thing to do around a meeting: ``offset`` from its start (negative = before).

    The message for it is the catalogue key ``cop.prep.<key>.<audience>``: for coordinators a
    to-do with what to do, for members the message itself.
    """

    key: str
    offset: timedelta
    audience: Audience

    @property
    def message_key(self) -> str:
        return f"cop.prep.{self.key}.{self.audience.value}"


DEFAULT_TIMELINE: tuple[PrepStep, ...] = (
    PrepStep("call_for_cases", -timedelta(weeks=4), Audience.COORDINATORS),
    PrepStep("call_for_cases", -timedelta(weeks=4), Audience.MEMBERS),
    PrepStep("agenda", -timedelta(weeks=2), Audience.COORDINATORS),
    PrepStep("member_reminder", -timedelta(days=1), Audience.COORDINATORS),
    PrepStep("member_reminder", -timedelta(days=1), Audience.MEMBERS),
    PrepStep("minutes_request", timedelta(days=1), Audience.COORDINATORS),
)


# The Community of Practice.


@dataclass(frozen=True)
class AgendaItem:
    author: str
    text: str
    added_at: datetime


@dataclass(frozen=True)
class Cop:
    """A Community of Practice: its people, its channel, its meetings and what is on the agenda."""

    name: str
    channel: str
    series: MeetingSeries
    members: tuple[str, ...] = ()
    coordinators: tuple[str, ...] = ()
    agenda: tuple[AgendaItem, ...] = ()
    timeline: tuple[PrepStep, ...] = DEFAULT_TIMELINE
    cancelled: bool = False

    @property
    def time_zone(self) -> str:
        return self.series.time_zone

    def is_member(self, user: str) -> bool:
        return user in self.members

    def is_coordinator(self, user: str) -> bool:
        return user in self.coordinators


def create(name: str, *, creator: str, channel: str, series: MeetingSeries) -> Cop:
    """A new CoP; its creator is its first member and coordinator.

    Raises:
        RuleViolation: ``rule.cop_name_empty`` for a blank name.
    """
    name = " ".join(name.split())
    if not name:
        raise RuleViolation("rule.cop_name_empty")
    return Cop(name, channel, series, members=(creator,), coordinators=(creator,))


def join(cop: Cop, *, user: str) -> Cop:
    """Anyone may join; joining twice changes nothing."""
    _require_active(cop)
    if cop.is_member(user):
        return cop
    return replace(cop, members=(*cop.members, user))


def leave(cop: Cop, *, user: str) -> Cop:
    """Leave the CoP (and its coordinators). Leaving when not a member changes nothing.

    Raises:
        RuleViolation: ``rule.cop_last_coordinator`` for the only coordinator.
    """
    if not cop.is_member(user) and not cop.is_coordinator(user):
        return cop
    if cop.coordinators == (user,):
        raise RuleViolation("rule.cop_last_coordinator")
    return replace(
        cop,
        members=tuple(m for m in cop.members if m != user),
        coordinators=tuple(c for c in cop.coordinators if c != user),
    )


def add_coordinator(cop: Cop, *, by: str, user: str) -> Cop:
    """A coordinator makes someone a coordinator (and a member, if they were not)."""
    _require_coordinator(cop, by)
    if cop.is_coordinator(user):
        return cop
    members = cop.members if cop.is_member(user) else (*cop.members, user)
    return replace(cop, members=members, coordinators=(*cop.coordinators, user))


def set_schedule(cop: Cop, *, by: str, series: MeetingSeries) -> Cop:
    """A coordinator replaces the meeting series."""
    _require_coordinator(cop, by)
    _require_active(cop)
    return replace(cop, series=series)


def skip_meeting(cop: Cop, *, by: str, day: date) -> Cop:
    """A coordinator skips the meeting on ``day`` (see ``skip``)."""
    _require_coordinator(cop, by)
    _require_active(cop)
    return replace(cop, series=skip(cop.series, day))


def cancel(cop: Cop, *, by: str) -> Cop:
    """A coordinator cancels the CoP: no more meetings or preparation. Cancelling twice is fine."""
    _require_coordinator(cop, by)
    return replace(cop, cancelled=True)


def add_agenda_item(cop: Cop, *, author: str, text: str, now: datetime) -> Cop:
    """A member adds an item for the next meeting.

    Raises:
        RuleViolation: ``rule.cop_not_member`` for a non-member, ``rule.cop_agenda_empty`` for
            a blank text, ``rule.cop_cancelled`` after cancelling.
    """
    _require_active(cop)
    if not cop.is_member(author):
        raise RuleViolation("rule.cop_not_member", cop=cop.name)
    text = text.strip()
    if not text:
        raise RuleViolation("rule.cop_agenda_empty")
    return replace(cop, agenda=(*cop.agenda, AgendaItem(author, text, _aware(now))))


def agenda_for(cop: Cop, occurrence: datetime) -> tuple[AgendaItem, ...]:
    """The items for a meeting: added after the meeting held before it, up to its start."""
    previous = previous_occurrence(cop.series, occurrence)
    return tuple(
        item
        for item in cop.agenda
        if (previous is None or item.added_at > previous) and item.added_at <= occurrence
    )


def preparation_due(cop: Cop, occurrence: datetime) -> list[tuple[datetime, PrepStep]]:
    """When each step of the CoP's timeline is due for the meeting at ``occurrence``.

    Sorted by time (timeline order for equal times), in the series' zone. With a calendar on
    the series, quiet times move (see the module's rules). A cancelled CoP prepares nothing.
    The caller checks ``is_occurrence`` first when the series may have changed since.
    """
    if cop.cancelled:
        return []
    meeting = _aware(occurrence).astimezone(cop.series.zone)
    due = [(_due_at(cop.series, meeting, step), n, step) for n, step in enumerate(cop.timeline)]
    return [(at, step) for at, _, step in sorted(due, key=lambda d: (d[0], d[1]))]


def preparation_between(
    cop: Cop, start: datetime, end: datetime
) -> list[tuple[datetime, datetime, PrepStep]]:
    """Every preparation step due from ``start`` (inclusive) to ``end`` (exclusive).

    Each as (due, occurrence, step), sorted by due time: what a scheduler registers for a window.
    """
    if cop.cancelled or not cop.timeline:
        return []
    offsets = [step.offset for step in cop.timeline]
    # A step may move to a later working morning: look a couple of weeks further back.
    slack = timedelta(days=14)
    meetings = occurrences(cop.series, start - max(offsets) - slack, end - min(offsets))
    found = [
        (at, meeting, step)
        for meeting in meetings
        for at, step in preparation_due(cop, meeting)
        if start <= at < end
    ]
    return sorted(found, key=lambda f: (f[0], f[1]))


def _due_at(series: MeetingSeries, meeting: datetime, step: PrepStep) -> datetime:
    # Same-zone arithmetic is wall-clock arithmetic: 14:00 four weeks before stays 14:00.
    at = _normalise(meeting + step.offset, series.zone)
    if series.calendar is None:
        return at
    moved = series.calendar.next_allowed(at).astimezone(series.zone)
    if step.offset < timedelta(0) and moved >= meeting:
        return at
    return moved


def _require_coordinator(cop: Cop, user: str) -> None:
    if not cop.is_coordinator(user):
        raise RuleViolation("rule.cop_only_coordinator", cop=cop.name)


def _require_active(cop: Cop) -> None:
    if cop.cancelled:
        raise RuleViolation("rule.cop_cancelled", cop=cop.name)


# The digest after a meeting.


@dataclass(frozen=True)
class SessionSummary:
    """What the digest needs from one session: its method, start, people and contributions."""

    method_id: str
    started_at: datetime
    participants: int
    contributions: int


@dataclass(frozen=True)
class Digest:
    """Sessions held from ``since`` (inclusive) to ``until`` (exclusive)."""

    since: datetime
    until: datetime
    sessions: int
    methods: tuple[tuple[str, int], ...]  # (method id, sessions), most used first
    mean_participants: float
    mean_contributions: float
    total_contributions: int


def summary_of(session: Session) -> SessionSummary:
    """A session's summary: everyone in it, and its counted contributions still standing."""
    counted = [c for c in session.contributions if c.counted and not c.withdrawn]
    return SessionSummary(
        session.method.id, session.started_at, len(session.members()), len(counted)
    )


def digest(summaries: Iterable[SessionSummary], since: datetime, until: datetime) -> Digest:
    """Sum up the sessions that started from ``since`` to ``until``."""
    held = [s for s in summaries if _aware(since) <= s.started_at < _aware(until)]
    methods = Counter(s.method_id for s in held)
    ranked = tuple(sorted(methods.items(), key=lambda m: (-m[1], m[0])))
    total = sum(s.contributions for s in held)
    count = len(held)
    return Digest(
        since=since,
        until=until,
        sessions=count,
        methods=ranked,
        mean_participants=sum(s.participants for s in held) / count if count else 0.0,
        mean_contributions=total / count if count else 0.0,
        total_contributions=total,
    )


# Helpers.


def _zone(name: str) -> ZoneInfo:
    try:
        return zone(name)
    except TimingError as error:
        raise ScheduleError("cop.schedule.unknown_zone", zone=name) from error


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is needed, got {moment!r}")
    return moment


def _normalise(moment: datetime, tz: ZoneInfo) -> datetime:
    """A wall-clock time that does not exist (spring forward) becomes the real instant."""
    return moment.astimezone(UTC).astimezone(tz)


def _instances(series: MeetingSeries, start: datetime, end: datetime) -> list[datetime]:
    found = recurrence(series).between(_aware(start), _aware(end), inc=True)
    tz = series.zone
    return [_normalise(o, tz) for o in found if start <= o < end]


def _excluded(series: MeetingSeries, occurrence: datetime) -> bool:
    local = occurrence.astimezone(series.zone).date()
    return local in series.skipped or _on_holiday(series, occurrence)


def _on_holiday(series: MeetingSeries, occurrence: datetime) -> bool:
    calendar = series.calendar
    return calendar is not None and calendar.is_holiday(occurrence.astimezone(series.zone).date())


def _normalise_rule(text: str, tz: ZoneInfo) -> str:
    """Upper case, no ``RRULE:`` prefix, ``UNTIL`` in UTC; only what a meeting series may use."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body or any(c.isspace() for c in body):
        raise ScheduleError("cop.schedule.bad_rule", rule=text)
    parts: dict[str, str] = {}
    for part in body.strip(";").split(";"):
        name, sep, value = part.partition("=")
        name, value = name.upper(), value.upper()
        if not sep or not value or name in parts:
            raise ScheduleError("cop.schedule.bad_rule", rule=text)
        if name in _TIME_PARTS:
            raise ScheduleError("cop.schedule.time_in_rule", rule=text)
        if name not in _ALLOWED_PARTS:
            raise ScheduleError("cop.schedule.bad_rule", rule=text)
        parts[name] = value
    if parts.get("FREQ") not in _ALLOWED_FREQUENCIES:
        raise ScheduleError("cop.schedule.frequency", frequency=parts.get("FREQ", ""))
    if "COUNT" in parts and "UNTIL" in parts:
        raise ScheduleError("cop.schedule.count_and_until", rule=text)
    if "UNTIL" in parts:
        parts["UNTIL"] = _until_in_utc(parts["UNTIL"], tz, text)
    return ";".join(f"{name}={value}" for name, value in parts.items())


def _until_in_utc(value: str, tz: ZoneInfo, rule: str) -> str:
    """``UNTIL`` as UTC: a date means the end of that day, a floating time is local time."""
    try:
        if re.fullmatch(r"\d{8}", value):
            day = datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a date, no zone
            moment = wall_clock(day, time(23, 59, 59), tz)
        elif re.fullmatch(r"\d{8}T\d{6}Z", value):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        elif re.fullmatch(r"\d{8}T\d{6}", value):
            naive = datetime.strptime(value, "%Y%m%dT%H%M%S")  # noqa: DTZ007 - local, zone below
            moment = wall_clock(naive.date(), naive.time(), tz)
        else:
            raise ScheduleError("cop.schedule.bad_rule", rule=rule)
    except ValueError as error:
        if isinstance(error, ScheduleError):
            raise
        raise ScheduleError("cop.schedule.bad_rule", rule=rule) from error
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _parse_rule(text: str, start: datetime) -> rrule:
    try:
        parsed = rrulestr(text, dtstart=start)
    except (ValueError, TypeError) as error:
        raise ScheduleError("cop.schedule.bad_rule", rule=text) from error
    if not isinstance(parsed, rrule):  # pragma: no cover - a single RRULE is never a set
        raise ScheduleError("cop.schedule.bad_rule", rule=text)
    return parsed
