"""Domain: a CoP's meeting series as one recurring calendar event with an online meeting.

Pure: from a ``Cop`` (its series, skipped dates, holidays) and what the caller looked up (the
members' e-mail addresses, the texts in the group's language, the time), build the neutral
``CalendarChange`` a calendar adapter applies: schedule (create the event or change it),
skip (cancel one occurrence), cancel (cancel the whole series).

Rules:

- The event repeats as the rule says, in the calendar's own terms: a rule with an ordinal
  weekday (``BYDAY=1TU``) repeats *relative monthly*; quarterly (``BYMONTH=1,4,7,10``) is
  every three months from the first meeting. Weekly and relative yearly rules map too; any
  other rule (``BYSETPOS``, several ordinal weekdays, months not evenly spaced, ...) raises
  ``ScheduleError("cop.calendar.unsupported_rule")``.
- The time zone is the series' IANA zone named as calendar servers on Windows name it
  (``Europe/Zurich`` -> ``W. Europe Standard Time``): not every server accepts every IANA name.
- Meetings that are not held (a skipped date, a public holiday of the series' calendar) are
  listed as occurrences to cancel, up to ``HORIZON`` ahead.
- ``transaction_id`` is derived from the CoP (its id and when it was created), so a create
  retried after a lost answer finds the event created before instead of adding another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from tzlocal.windows_tz import tz_win

from bot.flows.cop import Cop, MeetingSeries, ScheduleError, excluded, first_instance

HORIZON = timedelta(days=366)

_DAYS = {
    "MO": "monday",
    "TU": "tuesday",
    "WE": "wednesday",
    "TH": "thursday",
    "FR": "friday",
    "SA": "saturday",
    "SU": "sunday",
}
_INDEX = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}
_ORDINAL_DAY = re.compile(r"([+-]?\d)?(MO|TU|WE|TH|FR|SA|SU)")


class Action(StrEnum):
    SCHEDULE = "schedule"  # create the event, or change it to the series as it is now
    SKIP = "skip"  # cancel one occurrence
    CANCEL = "cancel"  # cancel the whole series


@dataclass(frozen=True)
class Recurrence:
    """How the event repeats: ``pattern`` is ``weekly``, ``relativeMonthly`` or
    ``relativeYearly``; ``index`` the week of the month (``first`` ... ``last``)."""

    pattern: str
    interval: int
    days_of_week: tuple[str, ...]
    start_date: date
    index: str | None = None
    month: int | None = None
    end_date: date | None = None
    count: int | None = None


@dataclass(frozen=True)
class Attendee:
    address: str
    name: str = ""


@dataclass(frozen=True)
class SeriesEvent:
    """The whole recurring event. ``start`` and ``end`` are wall-clock times of the first
    meeting in ``time_zone`` (a Windows zone name)."""

    subject: str
    body: str
    start: datetime
    end: datetime
    time_zone: str
    recurrence: Recurrence
    attendees: tuple[Attendee, ...]
    location: str
    transaction_id: str
    not_held: tuple[date, ...] = ()  # occurrences to cancel (skipped dates, holidays)
    # Members without an address whose id may name them in the organisation's directory
    # (a Teams member's id): the calendar adapter looks their address up.
    directory_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalendarChange:
    """A change to a CoP's calendar event, queued like a message (kind ``calendar``).

    Every change carries the whole event, so a skip or a schedule change finds it created
    even when an earlier change was given up on. ``day`` is the occurrence a skip cancels;
    ``comment`` goes to the attendees with a cancellation.
    """

    cop_id: int
    action: Action
    event: SeriesEvent
    day: date | None = None
    comment: str = ""
    kind: ClassVar[str] = "calendar"

    def to_dict(self) -> dict[str, Any]:
        event, rec = self.event, self.event.recurrence
        return {
            "cop_id": self.cop_id,
            "action": self.action.value,
            "day": _iso(self.day),
            "comment": self.comment,
            "event": {
                "subject": event.subject,
                "body": event.body,
                "start": event.start.isoformat(),
                "end": event.end.isoformat(),
                "time_zone": event.time_zone,
                "recurrence": {
                    "pattern": rec.pattern,
                    "interval": rec.interval,
                    "days_of_week": list(rec.days_of_week),
                    "start_date": rec.start_date.isoformat(),
                    "index": rec.index,
                    "month": rec.month,
                    "end_date": _iso(rec.end_date),
                    "count": rec.count,
                },
                "attendees": [[a.address, a.name] for a in event.attendees],
                "location": event.location,
                "transaction_id": event.transaction_id,
                "not_held": [d.isoformat() for d in event.not_held],
                "directory_ids": list(event.directory_ids),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CalendarChange:
        event, rec = data["event"], data["event"]["recurrence"]
        return cls(
            cop_id=int(data["cop_id"]),
            action=Action(data["action"]),
            day=_date(data.get("day")),
            comment=str(data.get("comment", "")),
            event=SeriesEvent(
                subject=event["subject"],
                body=event["body"],
                start=datetime.fromisoformat(event["start"]),
                end=datetime.fromisoformat(event["end"]),
                time_zone=event["time_zone"],
                recurrence=Recurrence(
                    pattern=rec["pattern"],
                    interval=int(rec["interval"]),
                    days_of_week=tuple(rec["days_of_week"]),
                    start_date=date.fromisoformat(rec["start_date"]),
                    index=rec.get("index"),
                    month=rec.get("month"),
                    end_date=_date(rec.get("end_date")),
                    count=rec.get("count"),
                ),
                attendees=tuple(Attendee(a, n) for a, n in event["attendees"]),
                location=event["location"],
                transaction_id=event["transaction_id"],
                not_held=tuple(date.fromisoformat(d) for d in event["not_held"]),
                directory_ids=tuple(event.get("directory_ids", ())),
            ),
        )


def windows_zone(iana: str) -> str:
    """The Windows name of an IANA time zone (``Europe/Zurich`` -> ``W. Europe Standard Time``).

    Raises:
        ScheduleError: ``cop.schedule.unknown_zone`` for a zone without a Windows name.
    """
    name = tz_win.get(iana)
    if name is None:
        raise ScheduleError("cop.schedule.unknown_zone", zone=iana)
    return name


def transaction_id(cop_id: int, created_at: datetime) -> str:
    """The idempotency key of the CoP's event: the same CoP always gives the same key, and
    two databases' CoPs with the same id (created at different times) do not collide."""
    return f"intervision-cop-{cop_id}-{created_at.strftime('%Y%m%dT%H%M%S')}"


def recurrence_of(series: MeetingSeries) -> Recurrence:
    """The series' rule in calendar terms, from its first meeting.

    Raises:
        ScheduleError: ``cop.calendar.unsupported_rule`` for a rule a calendar cannot repeat.
    """
    first = first_instance(series)
    if first is None:  # pragma: no cover - a MeetingSeries always has a first instance
        raise ScheduleError("cop.schedule.never")
    parts = dict(part.partition("=")[::2] for part in series.rrule.split(";"))
    unsupported = ScheduleError("cop.calendar.unsupported_rule", rule=series.rrule)
    if set(parts) - {"FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTH", "WKST"}:
        raise unsupported
    days = [_ORDINAL_DAY.fullmatch(d) for d in parts.get("BYDAY", "").split(",") if d]
    if not days or any(d is None for d in days):
        raise unsupported
    ordinals = {int(d.group(1)) if d.group(1) else None for d in days if d}
    names = tuple(_DAYS[d.group(2)] for d in days if d)
    interval = int(parts.get("INTERVAL", "1"))
    months = sorted(int(m) for m in parts["BYMONTH"].split(",")) if "BYMONTH" in parts else []
    start = first.astimezone(series.zone).date()
    end = _end_date(parts, series)
    count = int(parts["COUNT"]) if "COUNT" in parts else None
    frequency = parts["FREQ"]
    if frequency == "WEEKLY" and ordinals == {None} and not months:
        return Recurrence("weekly", interval, names, start, end_date=end, count=count)
    if len(days) != 1 or len(ordinals) != 1:
        raise unsupported
    (ordinal,) = ordinals
    index = _INDEX.get(ordinal) if ordinal is not None else None
    if index is None:
        raise unsupported
    if frequency == "MONTHLY":
        if months:
            interval *= _even_step(months, unsupported)
        return Recurrence("relativeMonthly", interval, names, start, index, None, end, count)
    if frequency == "YEARLY" and len(months) == 1:
        return Recurrence("relativeYearly", interval, names, start, index, months[0], end, count)
    raise unsupported


def series_event(
    cop: Cop,
    *,
    cop_id: int,
    created_at: datetime,
    attendees: tuple[Attendee, ...],
    body: str,
    now: datetime,
    directory_ids: tuple[str, ...] = (),
) -> SeriesEvent:
    """The CoP's series as one recurring event, with the meetings not held from ``now`` on.

    Raises:
        ScheduleError: see ``recurrence_of`` and ``windows_zone``.
    """
    series = cop.series
    recurrence = recurrence_of(series)
    first = first_instance(series)
    assert first is not None
    local = first.astimezone(series.zone).replace(tzinfo=None)
    not_held = sorted(
        {o.astimezone(series.zone).date() for o in excluded(series, now, now + HORIZON)}
    )
    return SeriesEvent(
        subject=cop.name,
        body=body,
        start=local,
        end=local + series.duration,
        time_zone=windows_zone(series.time_zone),
        recurrence=recurrence,
        attendees=attendees,
        location=series.place,
        transaction_id=transaction_id(cop_id, created_at),
        not_held=tuple(not_held),
        directory_ids=directory_ids,
    )


def _even_step(months: list[int], unsupported: ScheduleError) -> int:
    """The number of months between meetings when ``months`` repeat evenly every year."""
    step = 12 // len(months)
    if 12 % len(months) or any(
        (months[0] + step * k - 1) % 12 + 1 != m for k, m in enumerate(months)
    ):
        raise unsupported
    return step


def _end_date(parts: dict[str, str], series: MeetingSeries) -> date | None:
    if "UNTIL" not in parts:
        return None
    # stored in UTC (see flows.cop.MeetingSeries): the local date of that moment
    until = datetime.strptime(parts["UNTIL"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return until.astimezone(series.zone).date()


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
