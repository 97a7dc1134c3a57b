"""Use cases of time in a session: step deadlines, reminders, ``away`` and ``settings``.

Layer: use cases (``bot/handlers``). Jobs: ``deadline`` and ``remind``, run by the scheduler
(``bot.scheduler``) through ``run_due``.

How it fits together:

- ``with_timers`` wraps every inbound handler: after an event touched a session, the open
  step's deadline and reminders are registered as due work (``due_jobs``) in the same
  transaction, at most once per step (the keys are unique). Work of steps that are over is
  cancelled.
- ``run_due`` takes each due job in its own transaction (locked, so two schedulers could
  never run it twice), runs its job function, and marks it done in that transaction: the
  messages it queued in the outbox and the "done" mark commit together. A job that fails is
  retried with backoff, a few times.
- ``deadline``: in asynchronous mode, at the step's deadline the group's setting decides:
  ``advance`` moves the session on (``flow.deadline_passed``), ``notify`` tells the
  facilitator by direct message that time is up, with how to move on.
- ``remind``: people asked to speak in the step who have not contributed get a direct
  message (never a public mention) saying how many have contributed, not who has not, with
  the thread. A case owner the step keeps silent is not asked, so not nudged; nor is anyone
  ``away``. Reminder times were moved out of quiet hours and holidays when registered; a job
  that runs late inside quiet time waits for the next working morning (or is dropped at the
  deadline). Each reminder is recorded as sent (``sent_reminders``) and never sent twice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.events import Command, InboundEvent
from bot.flows import limits
from bot.flows import session as flow
from bot.flows.group_settings import (
    DeadlineAction,
    GroupTiming,
    checked_timing,
    timing_of,
)
from bot.flows.session import Mode, RuleViolation, Session, Status
from bot.flows.timing import TimingError, parse_reminder_offsets, zone
from bot.handlers.context import Context, Handler, Services
from bot.handlers.present import present
from bot.i18n import t
from bot.messages import DirectMessage, Outbound, PrivateNotice, ThreadNote, to_payload
from storage.repositories import Group, Tx
from storage.time_repository import DueJob, TimeRepository

logger = logging.getLogger(__name__)

PAUSED_RETRY = timedelta(minutes=15)
MAX_ATTEMPTS = 5
MAX_BACKOFF = timedelta(hours=1)


# --- the jobs' plumbing ------------------------------------------------------------------------


@dataclass
class JobContext:
    """One due job's view of the world: the open transaction and the time it runs at."""

    tx: Tx
    repo: TimeRepository
    services: Services
    now: datetime

    def send(self, group: Group, message: Outbound, session_id: str | None = None) -> None:
        """Queue ``message`` in the group's channel (a direct message goes to its user)."""
        self.tx.enqueue(
            group.platform,
            group.workspace,
            group.channel,
            session_id,
            to_payload(message),
            self.now,
        )


JobResult = datetime | None
"""None: the job is done. A datetime: run it again then (a paused session, a quiet hour)."""

Job = Callable[[JobContext, DueJob], JobResult]


def run_due(services: Services, jobs: Mapping[str, Job], *, limit: int = 500) -> int:
    """Run every job due now, each in its own transaction; returns how many were taken up."""
    taken = 0
    while taken < limit:
        now = services.clock()
        with services.store.transaction() as tx:
            repo = TimeRepository(tx)
            job = repo.claim_due(now)
            if job is None:
                break
            taken += 1
            function = jobs.get(job.kind)
            try:
                if function is None:
                    raise LookupError("unknown job kind")
                with tx.db.begin_nested():
                    result = function(JobContext(tx, repo, services, now), job)
            except Exception as error:  # one bad job must not stop the others
                attempts = job.attempts + 1
                logger.error(
                    "job %s (%s) failed, attempt %s: %s",
                    job.id,
                    job.kind,
                    attempts,
                    type(error).__name__,
                )
                retry = None
                if function is not None and attempts < MAX_ATTEMPTS:
                    retry = now + min(timedelta(minutes=2**attempts), MAX_BACKOFF)
                repo.failed(job.id, type(error).__name__, retry, now)
                continue
            if result is None:
                repo.finish(job.id, now)
            else:
                repo.postpone(job.id, max(result, now + timedelta(seconds=1)))
    return taken


# --- registering a step's deadline and reminders ------------------------------------------------


def with_timers(handler: Handler) -> Handler:
    """``handler``, then the timers of the session it touched (in the same transaction)."""

    def timed(ctx: Context, event: InboundEvent) -> list[Outbound]:
        messages = handler(ctx, event)
        if ctx.session_id is not None:
            sync_session_timers(ctx.tx, ctx.session_id, ctx.now)
        return messages

    timed.__name__ = getattr(handler, "__name__", "timed")
    timed.__doc__ = handler.__doc__
    return timed


def subject_of(session_id: str) -> str:
    return f"session:{session_id}"


def sync_session_timers(tx: Tx, session_id: str, now: datetime) -> None:
    """Register the deadline and reminders of the session's open step, once.

    A closed session's pending work is cancelled; so is the work of steps that are over when
    a new step's work is registered.
    """
    repo = TimeRepository(tx)
    run = repo.current_run(session_id)
    subject = subject_of(session_id)
    if run is None or run.status == Status.CLOSED.value:
        repo.cancel_pending(subject, now)
        return
    if run.closed or run.deadline is None or run.mode != Mode.ASYNC.value:
        return
    deadline_key = f"deadline:{session_id}:{run.position}"
    if repo.has_job(deadline_key):
        return
    group = tx.group_of_session(session_id)
    timing = timing_of(group.settings, group.timezone)
    args = {"session": session_id, "position": run.position, "step": run.step_id}
    keys = [deadline_key]
    repo.schedule(deadline_key, "deadline", subject, run.deadline, args)
    for at in timing.calendar.reminder_times(run.opened_at, run.deadline, timing.reminder_offsets):
        key = f"remind:{session_id}:{run.position}:{_stamp(at)}"
        keys.append(key)
        repo.schedule(key, "remind", subject, at, {**args, "at": at.isoformat()})
    repo.cancel_pending(subject, now, keep=keys)


# --- the jobs ----------------------------------------------------------------------------------


def deadline_job(ctx: JobContext, job: DueJob) -> JobResult:
    """A step's deadline passed: advance, or tell the facilitator (the group's setting)."""
    session = _open_step_session(ctx, job)
    if session is None:
        return None
    if session.status is Status.PAUSED:
        return ctx.now + PAUSED_RETRY
    group = ctx.tx.group_of_session(session.id)
    timing = timing_of(group.settings, group.timezone)
    lang = session.language
    thread = ctx.tx.anchor_of(session.id)
    step = session.current_step
    if timing.deadline_action is DeadlineAction.NOTIFY:
        key = f"deadline-notice:{session.id}:{job.args['position']}"
        if ctx.repo.record_sent(key, ctx.now):
            text = t(
                "timing.deadline_notify",
                lang,
                **_step_params(session),
                link=thread_link(group, thread),
            )
            ctx.send(group, DirectMessage(session.facilitator, text), session.id)
        return None
    outcome = flow.deadline_passed(session, step_id=step.id, now=ctx.now)
    ctx.tx.save_session(outcome.session)
    note = ThreadNote(session.id, t("timing.deadline_passed", lang, **_step_params(session)))
    for message in [note, *present(outcome.session, outcome.effects, thread)]:
        ctx.send(group, message, session.id)
    sync_session_timers(ctx.tx, session.id, ctx.now)
    return None


def remind_job(ctx: JobContext, job: DueJob) -> JobResult:
    """Nudge, by direct message, those asked to speak in the step who have not yet."""
    session = _open_step_session(ctx, job)
    if session is None or session.status is not Status.RUNNING:
        return None
    deadline = session.current_run.deadline
    group = ctx.tx.group_of_session(session.id)
    timing = timing_of(group.settings, group.timezone)
    calendar = timing.calendar
    if not calendar.is_working_time(ctx.now):
        later = calendar.next_allowed(ctx.now)
        return later if deadline is None or later < deadline else None
    if deadline is not None and ctx.now >= deadline:
        return None
    step = session.current_step
    expected = session.expected_speakers(step)
    contributed = session.contributors(step.id) & expected
    link = thread_link(group, ctx.tx.anchor_of(session.id))
    offset = _stamp(datetime.fromisoformat(str(job.args.get("at", job.due_at.isoformat()))))
    for user in sorted(expected - contributed):
        away = ctx.repo.away_until(group.platform, group.workspace, user)
        if calendar.is_away(away, ctx.now):
            continue
        key = f"reminder:{session.id}:{step.id}:{user}:{offset}"
        if not ctx.repo.record_sent(key, ctx.now):
            continue
        text = t(
            "timing.reminder",
            session.language,
            **_step_params(session),
            contributed=len(contributed),
            expected=len(expected),
            deadline=local_time(deadline, group.timezone) if deadline else "-",
            link=link,
        )
        ctx.send(group, DirectMessage(user, text), session.id)
    return None


SESSION_JOBS: dict[str, Job] = {"deadline": deadline_job, "remind": remind_job}


def _open_step_session(ctx: JobContext, job: DueJob) -> Session | None:
    """The job's session when the job's step is still the open one, else None."""
    session = ctx.tx.get_session(str(job.args["session"]))
    if session is None or session.status is Status.CLOSED:
        return None
    run = session.current_run
    if (
        len(session.runs) - 1 != int(job.args["position"])
        or run.step_id != job.args["step"]
        or run.closed_at is not None
    ):
        return None
    return session


def _step_params(session: Session) -> dict[str, Any]:
    lang = session.language
    return {
        "method": session.method.names[lang],
        "number": session.step_number,
        "count": len(session.method.steps),
        "step": session.current_step.title[lang],
    }


def thread_link(group: Group, thread: str | None) -> str:
    """Where the session's thread is, for a direct message.

    Slack: a permalink (``/archives/<channel>/p<ts without the dot>``), which Slack opens in
    the right workspace. Elsewhere: the channel and the message the thread starts from.
    """
    if group.platform == "slack" and thread:
        return f"https://slack.com/archives/{group.channel}/p{thread.replace('.', '')}"
    return f"#{group.channel}" + (f" [{thread}]" if thread else "")


def local_time(moment: datetime, time_zone: str) -> str:
    """``2026-11-24 13:00 (Europe/Amsterdam)``: a moment as the group reads it."""
    return f"{moment.astimezone(zone(time_zone)).strftime('%Y-%m-%d %H:%M')} ({time_zone})"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


# --- /intervision away ---------------------------------------------------------------------------


def away_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``away until 2026-12-01`` pauses one's reminders through that day; ``away off`` ends it;
    ``away`` alone says whether they are paused."""
    where = event.where
    repo = TimeRepository(ctx.tx)
    group = ctx.tx.group(
        where.platform,
        where.workspace,
        where.channel,
        language=ctx.services.language,
        timezone=ctx.services.timezone,
    )
    rest = [w for w in words if w.lower() not in ("until", "till", "tot", "bis")]
    if not rest:
        until = repo.away_until(where.platform, where.workspace, event.user)
        if until is None or not is_away_now(until, ctx.now, group.timezone):
            return [_private(ctx, event.user, t("timing.away.none", ctx.language))]
        return [_private(ctx, event.user, t("timing.away.set", ctx.language, date=_day(until)))]
    if rest[0].lower() in ("off", "back", "none", "terug", "zurück", "zurueck"):
        repo.set_away(where.platform, where.workspace, event.user, None)
        return [_private(ctx, event.user, t("timing.away.off", ctx.language))]
    day = parse_day(rest[0])
    if day is None:
        raise RuleViolation("timing.away.usage")
    today = ctx.now.astimezone(zone(group.timezone)).date()
    if day < today:
        raise RuleViolation("timing.away.past", date=_day(day))
    repo.set_away(where.platform, where.workspace, event.user, day)
    return [_private(ctx, event.user, t("timing.away.set", ctx.language, date=_day(day)))]


def is_away_now(until: date, now: datetime, time_zone: str) -> bool:
    return now.astimezone(zone(time_zone)).date() <= until


def parse_day(text: str) -> date | None:
    """``2026-12-01``, ``1.12.2026`` or ``1-12-2026``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[.\-/](\d{1,2})[.\-/](\d{4})", text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _day(day: date) -> str:
    return day.isoformat()


# --- /intervision settings -----------------------------------------------------------------------

_SETTING_NAMES = ("deadline", "reminders", "quiet", "weekends", "country", "region", "timezone")


def settings_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``settings`` shows the channel's time settings; ``settings deadline=notify
    reminders=50%,90% quiet=18:00-08:00 weekends=quiet|working country=CH region=BL
    timezone=Europe/Zurich`` changes them (``reminders=never`` for none)."""
    where = event.where
    group = ctx.tx.group(
        where.platform,
        where.workspace,
        where.channel,
        language=ctx.services.language,
        timezone=ctx.services.timezone,
    )
    timing = timing_of(group.settings, group.timezone)
    if words:
        timing = _changed(timing, words)
        group = ctx.tx.update_group(
            group.id,
            timezone=timing.time_zone,
            settings={**group.settings, **timing.to_settings()},
        )
    return [_private(ctx, event.user, settings_text(timing, ctx.language))]


def settings_text(timing: GroupTiming, lang: str) -> str:
    offsets = ", ".join(f"{round(o * 100)}%" for o in timing.reminder_offsets)
    return t(
        "timing.settings",
        lang,
        deadline=t(f"timing.deadline_action.{timing.deadline_action.value}", lang),
        reminders=offsets or t("timing.never", lang),
        quiet=(
            f"{timing.quiet.evening_start.isoformat('minutes')}-"
            f"{timing.quiet.morning_end.isoformat('minutes')}"
        ),
        weekends=t(
            "timing.weekends.quiet" if timing.quiet.weekends else "timing.weekends.working", lang
        ),
        country=timing.country or "-",
        region=timing.subdivision or "-",
        timezone=timing.time_zone,
    )


def _changed(timing: GroupTiming, words: list[str]) -> GroupTiming:
    settings: dict[str, Any] = timing.to_settings()
    time_zone = timing.time_zone
    for word in words:
        name, sep, value = word.partition("=")
        name = name.lower()
        if not sep or name not in _SETTING_NAMES:
            raise RuleViolation("timing.settings_usage", word=word[: limits.SETTING])
        limits.within(value, limits.SETTING, "setting", option=name)
        try:
            if name == "deadline":
                settings["deadline_action"] = DeadlineAction(value.lower()).value
            elif name == "reminders":
                settings["reminder_offsets"] = list(parse_reminder_offsets(value))
            elif name == "quiet":
                start, _, end = value.partition("-")
                settings["quiet_start"] = time.fromisoformat(start).isoformat("minutes")
                settings["quiet_end"] = time.fromisoformat(end).isoformat("minutes")
            elif name == "weekends":
                settings["quiet_weekends"] = value.lower() in ("quiet", "on", "yes", "true")
            elif name == "country":
                none = value.lower() in ("none", "-", "")
                settings["country"] = None if none else value.upper()
                settings["subdivision"] = None
            elif name == "region":
                settings["subdivision"] = None if value.lower() in ("none", "-") else value
            else:
                zone(value)
                time_zone = value
        except TimingError as error:
            raise RuleViolation(error.key, **error.params) from None
        except ValueError:
            raise RuleViolation("timing.settings_usage", word=word) from None
    try:
        return checked_timing(settings, time_zone)
    except TimingError as error:
        raise RuleViolation(error.key, **error.params) from None
    except ValueError:
        raise RuleViolation("timing.settings_usage", word=" ".join(words)) from None


def _private(ctx: Context, user: str, text: str) -> PrivateNotice:
    return PrivateNotice(user, text, ctx.thread)


__all__ = [
    "SESSION_JOBS",
    "Job",
    "JobContext",
    "away_command",
    "deadline_job",
    "remind_job",
    "run_due",
    "settings_command",
    "sync_session_timers",
    "with_timers",
]
