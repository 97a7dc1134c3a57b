"""Step deadlines, reminders, ``away`` and ``settings``: the use cases and their jobs.

The console harness runs the real use cases on SQLite and PostgreSQL. Time moves with the
harness's fake clock; the jobs run through ``run_due`` exactly as the scheduler runs them
(the live scheduler is tested in ``tests/integration/test_scheduler.py``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.flows.method import Role
from bot.handlers.timers import JobContext, remind_job, run_due
from bot.scheduler import JOBS
from storage.time_repository import TimeRepository
from tests.support.app import Harness

# Monday 23 November 2026, 10:00 in Amsterdam (09:00 UTC): working time.
START = "/intervision start ims owner=anna with=clara,david mode=async hours=4"


@pytest.fixture(autouse=True)
def _still_clock(harness: Harness) -> None:
    """The clock stands still unless a test moves it (due times come out round)."""
    harness.clock.step = timedelta(0)


def _travel(harness: Harness, to: datetime) -> str:
    """Move the clock to ``to``, run what fell due, return what the console printed."""
    assert harness.console is not None
    harness.clock.now = to
    start = len(harness.transcript)
    run_due(harness.services, JOBS)
    harness.console.flush()
    return harness.transcript[start:]


def _session(harness: Harness):
    with harness.services.store.transaction() as tx:
        return tx.open_sessions_in("console", "local", "console")[0]


def _jobs(harness: Harness, kind: str | None = None, *, pending: bool = True):
    with harness.services.store.transaction() as tx:
        jobs = TimeRepository(tx).jobs(pending=pending)
    return [j for j in jobs if kind is None or j.kind == kind]


def _dms(out: str) -> dict[str, str]:
    return dict(re.findall(r"^\(direct message to (\w+)\) (.*)$", out, flags=re.M))


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# Deadlines


def test_an_async_step_registers_its_deadline_and_its_halfway_reminder(harness: Harness) -> None:
    harness.type("/as ben", START)

    deadline = _jobs(harness, "deadline")
    reminders = _jobs(harness, "remind")
    assert [j.due_at for j in deadline] == [_session(harness).current_run.deadline]
    assert len(reminders) == 1
    assert reminders[0].due_at == _utc(2026, 11, 23, 11, 0)  # halfway through four hours


def test_a_synchronous_session_has_no_deadline_work(harness: Harness) -> None:
    harness.type("/as ben", "/intervision start ims owner=anna with=clara,david")

    assert _jobs(harness) == []


def test_at_the_deadline_the_session_moves_on_by_default(harness: Harness) -> None:
    harness.type("/as ben", START)
    deadline = _session(harness).current_run.deadline

    out = _travel(harness, deadline + timedelta(minutes=1))

    assert _session(harness).step_number == 2
    assert "The time for step 1 of 6" in out
    assert "Step 2 of 6" in out
    # the new step has its own deadline registered
    assert [j.args["position"] for j in _jobs(harness, "deadline")] == [1]


def test_with_notify_the_facilitator_is_told_privately_and_nothing_moves(
    harness: Harness,
) -> None:
    harness.type("/as ben", "/intervision settings deadline=notify", START)
    deadline = _session(harness).current_run.deadline

    out = _travel(harness, deadline + timedelta(minutes=1))
    again = _travel(harness, deadline + timedelta(hours=5))

    assert _session(harness).step_number == 1
    assert list(_dms(out)) == ["ben"]
    assert "Time is up for step 1 of 6" in _dms(out)["ben"]
    assert "/intervision next" in _dms(out)["ben"]
    assert "The time for step" not in out
    assert again == ""


def test_a_step_the_facilitator_closed_early_has_its_deadline_cancelled(
    harness: Harness,
) -> None:
    harness.type("/as ben", START, "/intervision next")

    keys = {j.key for j in _jobs(harness)}
    assert all(":1" in key for key in keys)  # only the open step (position 1) has work


def test_a_closed_session_leaves_no_work_behind(harness: Harness) -> None:
    harness.type("/as ben", START, "/intervision close")

    assert _jobs(harness) == []


def test_a_paused_session_waits_and_moves_on_after_resume(harness: Harness) -> None:
    harness.type("/as ben", START, "/intervision pause")
    deadline = _session(harness).current_run.deadline

    _travel(harness, deadline + timedelta(minutes=1))
    assert _session(harness).step_number == 1
    harness.type("/intervision resume")
    _travel(harness, deadline + timedelta(minutes=20))

    assert _session(harness).step_number == 2


def test_a_deadline_missed_during_downtime_runs_late_once(harness: Harness) -> None:
    harness.type("/as ben", START)

    out = _travel(harness, _utc(2026, 11, 26, 9, 0))  # three days later

    assert _session(harness).step_number == 2
    assert out.count("The time for step") == 1
    assert _dms(out) == {}  # the halfway reminder is past its deadline: dropped


# Reminders


def test_halfway_those_who_have_not_contributed_get_a_direct_message(harness: Harness) -> None:
    harness.type("/as ben", START, "/as anna", "My case, pseudonymised.", "/as clara", "Hm.")

    out = _travel(harness, _utc(2026, 11, 23, 11, 1))

    dms = _dms(out)
    assert sorted(dms) == ["ben", "david"]
    assert "2 of 4 have contributed" in dms["david"]
    assert "clara" not in dms["david"]
    assert "anna" not in dms["david"]
    assert "#console [1]" in dms["david"]  # the thread
    assert "(only" not in out
    assert "[" not in out.split("(direct message")[0]


def test_a_reminder_is_never_sent_twice(harness: Harness) -> None:
    harness.type("/as ben", START)
    (job,) = _jobs(harness, "remind")
    first = _travel(harness, _utc(2026, 11, 23, 11, 1))

    # the same job run again, as a coalesced or restarted scheduler might
    with harness.services.store.transaction() as tx:
        context = JobContext(tx, TimeRepository(tx), harness.services, harness.clock())
        remind_job(context, job)
    second = _travel(harness, _utc(2026, 11, 23, 11, 2))

    assert sorted(_dms(first)) == ["anna", "ben", "clara", "david"]
    assert second == ""


def test_a_case_owner_who_only_listens_is_not_nudged(harness: Harness) -> None:
    method = harness.services.catalogue.get("kollegiale-beratung")
    assert method is not None
    silent = next(n for n, s in enumerate(method.steps) if s.is_silent(Role.CASE_OWNER))
    harness.type(
        "/as ben",
        "/intervision start kollegiale-beratung owner=anna with=clara,david mode=async hours=4",
        *["/intervision next"] * silent,
    )
    opened = _session(harness).current_run.opened_at

    out = _travel(harness, opened + timedelta(hours=2, minutes=1))

    assert _dms(out)
    assert "anna" not in _dms(out)


def test_someone_away_is_not_reminded(harness: Harness) -> None:
    out = harness.type("/as david", "/intervision away until 2026-11-30", "/as ben", START)
    assert "(only david) You get no reminders through 2026-11-30." in out

    reminded = _dms(_travel(harness, _utc(2026, 11, 23, 11, 1)))

    assert "david" not in reminded
    assert "clara" in reminded


def test_away_ends_with_off_and_refuses_a_day_in_the_past(harness: Harness) -> None:
    out = harness.type(
        "/as david",
        "/intervision away until 2026-01-01",
        "/intervision away until 1.12.2026",
        "/intervision away",
        "/intervision away off",
        "/intervision away",
    )

    assert "2026-01-01 has passed already" in out
    assert out.count("You get no reminders through 2026-12-01.") == 2
    assert "Welcome back" in out
    assert "Your reminders are on." in out


def test_away_is_answered_in_the_groups_language(harness: Harness) -> None:
    with harness.services.store.transaction() as tx:
        group = tx.group("console", "local", "console")
        tx.update_group(group.id, language="de")

    out = harness.type("/as david", "/intervision away until 2026-12-24")

    assert "Du bekommst bis und mit 2026-12-24 keine Erinnerungen." in out


def test_a_reminder_in_the_evening_moves_to_the_next_working_morning(harness: Harness) -> None:
    harness.type("/as ben", START.replace("hours=4", "hours=24"))

    (reminder,) = _jobs(harness, "remind")

    # halfway is 22:00 in Amsterdam: moved to Tuesday 08:00 (07:00 UTC)
    assert reminder.due_at == _utc(2026, 11, 24, 7, 0)


def test_a_reminder_on_a_public_holiday_moves_to_the_next_working_day(harness: Harness) -> None:
    harness.clock.now = _utc(2027, 4, 26, 8, 0)  # Monday before King's Day (NL)
    harness.type("/as ben", START.replace("hours=4", "hours=48"))

    (reminder,) = _jobs(harness, "remind")

    # halfway is King's Day, Tuesday 27 April, 10:00: moved to Wednesday 08:00 in Amsterdam
    assert reminder.due_at == _utc(2027, 4, 28, 6, 0)


def test_a_swiss_group_reminder_skips_the_cantons_holiday(harness: Harness) -> None:
    harness.clock.now = _utc(2027, 4, 30, 8, 0)  # Friday; 1 May is Labour Day in Basel-Land
    harness.type(
        "/as ben",
        "/intervision settings country=CH region=BL timezone=Europe/Zurich",
        START.replace("hours=4", "hours=96"),
    )

    (reminder,) = _jobs(harness, "remind")

    # halfway is Sunday 2 May 10:00: the weekend is quiet, so Monday 08:00 in Zurich
    assert reminder.due_at == _utc(2027, 5, 3, 6, 0)


def test_a_late_reminder_inside_quiet_hours_waits_for_the_morning(harness: Harness) -> None:
    harness.type("/as ben", START.replace("hours=4", "hours=48"))
    (reminder,) = _jobs(harness, "remind")
    assert reminder.due_at == _utc(2026, 11, 24, 9, 0)  # Tuesday 10:00 in Amsterdam

    late = _travel(harness, _utc(2026, 11, 24, 20, 0))  # the scheduler was down all day

    assert late == ""
    (waiting,) = _jobs(harness, "remind")
    assert waiting.due_at == _utc(2026, 11, 25, 7, 0)  # Wednesday 08:00 in Amsterdam
    assert sorted(_dms(_travel(harness, _utc(2026, 11, 25, 7, 1)))) == [
        "anna",
        "ben",
        "clara",
        "david",
    ]


def test_reminders_can_be_switched_off(harness: Harness) -> None:
    harness.type("/as ben", "/intervision settings reminders=never", START)

    assert _jobs(harness, "remind") == []
    assert _jobs(harness, "deadline")


def test_several_reminder_offsets(harness: Harness) -> None:
    harness.type("/as ben", "/intervision settings reminders=25%,75%", START)

    assert [j.due_at.hour for j in _jobs(harness, "remind")] == [10, 12]


# Settings


def test_settings_show_the_defaults(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision settings")

    assert "At a deadline (asynchronous sessions): move on to the next step" in out
    assert "Reminders: 50%" in out
    assert "Quiet hours: 18:00-08:00; weekends: quiet" in out
    assert "Public holidays: NL -" in out
    assert "Time zone: Europe/Amsterdam" in out


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("deadline=later", "I don't understand 'deadline=later'"),
        ("reminders=150%", "is not between 0 and 1"),
        ("country=XX", "public holidays for the country 'XX'"),
        ("region=ZZ", "'ZZ' is not a region of NL"),
        ("timezone=Mars/Olympus", "'Mars/Olympus' is not a time zone"),
        ("quiet=08:00-18:00", "the morning (18:00) must come before the evening (08:00)"),
        ("colour=blue", "I don't understand 'colour=blue'"),
    ],
)
def test_a_bad_setting_is_refused_with_its_reason(
    harness: Harness, setting: str, message: str
) -> None:
    out = harness.type("/as ben", f"/intervision settings {setting}")

    assert message in out
    assert "Time settings of this channel" not in out
