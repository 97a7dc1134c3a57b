"""Domain: a CoP's meeting series as an iCalendar file (RFC 5545) that calendar software imports.

Pure: builds bytes from a ``Cop``; it reads no clock (``DTSTAMP`` comes in, or is derived from
the series). One ``VEVENT`` carries the recurrence rule with its time zone (``DTSTART;TZID=...``
and a ``VTIMEZONE``), skipped meetings and, when the series has a calendar, meetings on public
holidays as ``EXDATE`` exceptions. Holidays are endless, so they are listed up to a horizon (by
default ten years after the first meeting, or the rule's ``UNTIL``).

The ``UID`` is derived from the CoP's channel and name, so a file downloaded again updates the
event already imported instead of adding a second one (pass a higher ``sequence`` after a
change of schedule).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta

import icalendar

from bot.flows.cop import Cop, MeetingSeries, excluded, first_instance, last_instance
from bot.flows.timing import wall_clock

HORIZON = timedelta(days=3653)  # about ten years


def series_uid(cop: Cop, *, domain: str = "intervision-bot") -> str:
    """The stable ``UID`` of a CoP's meeting series."""
    key = f"intervision-bot:cop:{cop.channel}:{cop.name}"
    return f"cop-{uuid.uuid5(uuid.NAMESPACE_URL, key)}@{domain}"


def series_to_ics(
    cop: Cop,
    *,
    prodid: str,
    stamp: datetime | None = None,
    sequence: int = 0,
    description: str = "",
    horizon: datetime | None = None,
    uid_domain: str = "intervision-bot",
) -> bytes:
    """The CoP's meeting series as an iCalendar file (``text/calendar``, UTF-8).

    ``prodid`` names the producing program (``-//Org//intervision-bot//EN``); ``stamp`` is the
    ``DTSTAMP`` (when the file was made; the first meeting if not given); ``description`` is the
    text shown with the event (the place and link if empty); ``horizon`` bounds the holiday
    exceptions. A cancelled CoP's event has ``STATUS:CANCELLED``.

    Raises:
        ValueError: when the series has no meeting at all.
    """
    series = cop.series
    first = first_instance(series)
    if first is None:
        raise ValueError("the series has no meeting")
    end = _horizon(series, first, horizon)

    event = icalendar.Event()
    event.add("uid", series_uid(cop, domain=uid_domain))
    event.add("dtstamp", (stamp or first).astimezone(UTC))
    event.add("sequence", sequence)
    event.add("summary", cop.name)
    event.add("dtstart", first)
    event.add("dtend", first + series.duration)
    event.add("rrule", icalendar.vRecur.from_ical(series.rrule))
    exceptions = _exceptions(series, first, end)
    if exceptions:
        event.add("exdate", exceptions)
    location = series.place or series.link
    if location:
        event.add("location", location)
    if series.link:
        event.add("url", series.link)
    text = description or "\n".join(part for part in (series.place, series.link) if part)
    if text:
        event.add("description", text)
    if cop.cancelled:
        event.add("status", "CANCELLED")

    calendar = icalendar.Calendar()
    calendar.add("prodid", prodid)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", cop.name)
    calendar.add_component(event)
    calendar.add_missing_timezones(
        first_date=date(first.year - 1, 1, 1), last_date=date(end.year + 1, 12, 31)
    )
    ics: bytes = calendar.to_ical()
    return ics


def _horizon(series: MeetingSeries, first: datetime, horizon: datetime | None) -> datetime:
    """Where the holiday exceptions stop: just after the rule's last meeting, else ``horizon``."""
    last = last_instance(series)
    if last is not None:
        return last + timedelta(seconds=1)
    return horizon or first + HORIZON


def _exceptions(series: MeetingSeries, first: datetime, end: datetime) -> list[datetime]:
    """Every skipped meeting (however far) and every holiday clash up to ``end``, in order."""
    found = set(excluded(series, first, end))
    for day in series.skipped:
        start = wall_clock(day, time(0, 0), series.zone)
        stop = wall_clock(day + timedelta(days=1), time(0, 0), series.zone)
        found.update(excluded(series, start, stop))
    return sorted(found)
