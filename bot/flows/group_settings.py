"""Domain: a group's time settings, read from the free-form ``groups.settings`` mapping.

Pure. Every setting has a default, so a group that never configured anything works:

=================  ==============================  =========================================
key                default                         meaning
=================  ==============================  =========================================
deadline_action    ``advance``                     at an asynchronous step's deadline: move
                                                   on (``advance``) or tell the facilitator
                                                   privately that time is up (``notify``)
reminder_offsets   ``[0.5]``                       fractions of a step's time at which those
                                                   who have not contributed get a direct
                                                   message; ``[]`` means never
quiet_start        ``"18:00"``                     evening: no reminders from here ...
quiet_end          ``"08:00"``                     ... until this time the next morning
quiet_weekends     ``true``                        Saturday and Sunday are quiet all day
country            ``"NL"``                        public holidays (``holidays`` package);
                                                   ``null`` for none
subdivision        ``null``                        a German state (``BY``) or Swiss canton
                                                   (``BL``)
=================  ==============================  =========================================

The time zone is the group's own column (``groups.timezone``), not a setting here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from enum import StrEnum
from typing import Any

from bot.flows.timing import (
    DEFAULT_COUNTRY,
    DEFAULT_REMINDER_OFFSETS,
    QuietHours,
    TimingError,
    WorkingCalendar,
)


class DeadlineAction(StrEnum):
    ADVANCE = "advance"
    NOTIFY = "notify"


@dataclass(frozen=True)
class GroupTiming:
    """A group's time settings, typed and checked."""

    time_zone: str
    deadline_action: DeadlineAction = DeadlineAction.ADVANCE
    reminder_offsets: tuple[float, ...] = DEFAULT_REMINDER_OFFSETS
    quiet: QuietHours = field(default_factory=QuietHours)
    country: str | None = DEFAULT_COUNTRY
    subdivision: str | None = None

    @property
    def calendar(self) -> WorkingCalendar:
        """The working calendar (raises ``TimingError`` for names nobody knows)."""
        return WorkingCalendar(self.time_zone, self.country, self.subdivision, self.quiet)

    def to_settings(self) -> dict[str, Any]:
        """The JSON-able mapping stored in ``groups.settings`` (without the time zone)."""
        return {
            "deadline_action": self.deadline_action.value,
            "reminder_offsets": list(self.reminder_offsets),
            "quiet_start": self.quiet.evening_start.isoformat("minutes"),
            "quiet_end": self.quiet.morning_end.isoformat("minutes"),
            "quiet_weekends": self.quiet.weekends,
            "country": self.country,
            "subdivision": self.subdivision,
        }


def timing_of(settings: Mapping[str, Any], time_zone: str) -> GroupTiming:
    """The time settings in ``settings``; a value that cannot be used falls back to its default.

    Stored settings were checked when they were set (``checked_timing``); falling back here
    keeps a hand-edited database from stopping every reminder.
    """
    try:
        return checked_timing(settings, time_zone)
    except (TimingError, ValueError, TypeError):
        return GroupTiming(time_zone)


def checked_timing(settings: Mapping[str, Any], time_zone: str) -> GroupTiming:
    """The time settings in ``settings``, checked.

    Raises:
        TimingError: with a ``timing.*`` key for a value that cannot be used.
        ValueError: for a value of the wrong shape.
    """
    defaults = GroupTiming(time_zone)
    action = DeadlineAction(str(settings.get("deadline_action", defaults.deadline_action)))
    offsets = tuple(float(o) for o in settings.get("reminder_offsets", defaults.reminder_offsets))
    quiet = QuietHours(
        evening_start=time.fromisoformat(str(settings.get("quiet_start", "18:00"))),
        morning_end=time.fromisoformat(str(settings.get("quiet_end", "08:00"))),
        weekends=bool(settings.get("quiet_weekends", True)),
    )
    country = settings.get("country", DEFAULT_COUNTRY)
    subdivision = settings.get("subdivision")
    timing = GroupTiming(
        time_zone=time_zone,
        deadline_action=action,
        reminder_offsets=offsets,
        quiet=quiet,
        country=str(country).upper() if country else None,
        subdivision=str(subdivision).upper() if subdivision else None,
    )
    _ = timing.calendar  # building it checks the zone, the country and the region
    for fraction in offsets:
        if not 0 < fraction < 1:
            raise TimingError("timing.bad_offset", offset=fraction)
    return timing
