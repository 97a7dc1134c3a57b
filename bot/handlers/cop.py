"""Use cases of the Community of Practice: ``/intervision cop ...`` and the CoP's jobs.

Layer: use cases (``bot/handlers``). Jobs: ``cop_prep`` (a step of a meeting's preparation
timeline), ``cop_digest`` (after a meeting) and ``cop_plan`` (rolls the window of registered
work forward), run by the scheduler through ``bot.handlers.timers.run_due``.

Sub-commands (the same text on every platform)::

    cop create <name>               a CoP for this channel; you coordinate it
    cop join [name] | leave [name]  (a name finds a CoP of this workspace from any channel)
    cop coordinators add @user      coordinators only
    cop schedule <text>             e.g. "quarterly first tuesday 14:00 Europe/Zurich at Campus
                                    Muttenz" (coordinators only; see ``flows.cop.parse_schedule``)
    cop next [name]                 the next meeting in the CoP's zone, its preparation steps
    cop year [name]                 the meetings of the coming twelve months
    cop agenda add <text>           an item for the next meeting (members); ``cop agenda`` shows it
    cop skip <date>                 no meeting that day (coordinators only)
    cop cancel                      no more meetings (coordinators only)
    cop ics [name]                  the series as an iCalendar file
    cop email <address> | off       where you get the CoP's calendar invitations

A CoP belongs to one channel (group) of one workspace; a workspace never sees another's CoPs.
Refusals (only coordinators manage) come back as private notices in the person's language.

Registered work: whenever a CoP changes and whenever one of its jobs runs, ``plan_cop``
registers the preparation steps and digests due in the next ``PLAN_WINDOW`` and one
``cop_plan`` job a while later, and cancels what no longer applies (a skipped meeting, a
changed schedule, a cancelled CoP). A preparation step the scheduler could not run in time
(down for days) is dropped once it is pointless: a step before the meeting after the meeting
began, any step more than ``STALE_AFTER`` late. A digest always goes out, however late.

The digest covers the sessions held since the meeting before, in the CoP's channel and in
every channel of the workspace where a CoP member took part: a CoP gathers people from
several teams. It counts; it names nobody.

Outlook calendars (when Graph is configured, ``Services.graph_calendar``): a schedule, a skipped
date and a cancellation each queue a ``CalendarChange`` in this transaction, for the ``graph``
platform in a lane of the CoP's own, so the delivery worker applies them in order and retries
them like messages. The attendees are the members who gave an address (``cop email``) and,
looked up by the calendar adapter, the members the organisation's directory knows by their id
(Teams members); a change of members or addresses updates an event already created.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.charts import digest_chart
from bot.events import Command
from bot.flows import cop as flow
from bot.flows import limits
from bot.flows.calendar_ics import series_to_ics
from bot.flows.cop import (
    DEFAULT_RRULE,
    DEFAULT_TIME,
    Audience,
    Cop,
    ScheduleError,
    SessionSummary,
    agenda_for,
    digest,
    excluded,
    is_occurrence,
    next_occurrence,
    occurrences,
    preparation_between,
    preparation_due,
    previous_occurrence,
    summary_of,
)
from bot.flows.cop_calendar import (
    Action,
    Attendee,
    CalendarChange,
    recurrence_of,
    series_event,
)
from bot.flows.session import RuleViolation
from bot.handlers.context import Context
from bot.handlers.timers import Job, JobContext, JobResult, local_time, parse_day
from bot.i18n import t
from bot.messages import DirectMessage, Outbound, PrivateNotice, to_payload
from storage.graph_repository import GraphRepository
from storage.privacy_repository import PrivacyRepository
from storage.repositories import Group, Tx
from storage.time_repository import DueJob, StoredCop, TimeRepository, cop_calendar

PLAN_WINDOW = timedelta(days=120)
PLAN_LOOKBACK = timedelta(days=7)
STALE_AFTER = timedelta(days=3)
PLAN_EVERY = timedelta(days=30)
PRODID = "-//intervision-bot//Community of Practice//EN"
MAX_MAIL = 254
_MAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;.]+")
# A Slack message carries about 40,000 characters; a longer calendar goes by the command line.
MAX_ICS_IN_MESSAGE = 12_000


# --- the sub-command ---------------------------------------------------------------------------


def cop_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``/intervision cop <sub-command> ...``; without one, the CoP help."""
    if not words:
        return [_private(ctx, event, t("help.cop", ctx.language))]
    sub, rest = words[0].lower(), words[1:]
    action = _ACTIONS.get(sub)
    if action is None:
        unknown = t("command.unknown", ctx.language, command=f"cop {sub}")
        return [_private(ctx, event, f"{unknown}\n\n{t('help.cop', ctx.language)}")]
    return action(ctx, event, rest)


def _create(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    name = limits.within(" ".join(words).strip(), limits.COP_NAME, "cop_name")
    group = _group(ctx, event)
    repo = TimeRepository(ctx.tx)
    here = repo.cops_in_channel(group.platform, group.workspace, group.channel)
    active = [c for c in here if not c.cop.cancelled]
    if active:
        raise RuleViolation("cop.exists_here", cop=active[0].cop.name)
    taken = {c.cop.name.lower() for c in repo.cops_in_workspace(group.platform, group.workspace)}
    if " ".join(name.split()).lower() in taken:
        raise RuleViolation("cop.exists", cop=name)
    series = flow.series_from_rule(
        DEFAULT_RRULE,
        at=DEFAULT_TIME,
        time_zone=group.timezone,
        after=ctx.now,
        calendar=cop_calendar(group, group.timezone),
    )
    cop = flow.create(name, creator=event.user, channel=group.channel, series=series)
    stored = repo.add_cop(group, cop, ctx.now)
    plan_cop(ctx.tx, stored, ctx.now)
    text = t(
        "cop.created",
        ctx.language,
        cop=cop.name,
        next=_meeting_line(stored, ctx.now, ctx.language),
    )
    return [_private(ctx, event, text)]


def _join(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, words)
    changed = _save(ctx, stored, flow.join(stored.cop, user=event.user))
    _follow_members(ctx, stored, changed)
    text = t("cop.joined", ctx.language, cop=changed.cop.name)
    return [_private(ctx, event, f"{text}\n{_meeting_line(changed, ctx.now, ctx.language)}")]


def _leave(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, words)
    changed = _save(ctx, stored, flow.leave(stored.cop, user=event.user))
    _follow_members(ctx, stored, changed)
    return [_private(ctx, event, t("cop.left", ctx.language, cop=stored.cop.name))]


def _coordinators(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    if len(words) < 2 or words[0].lower() != "add":
        raise RuleViolation("cop.usage.coordinators")
    stored = _resolve(ctx, event, [])
    people = [
        limits.within(w.strip().lstrip("@").strip(","), limits.PERSON, "person")
        for w in words[1:]
        if w.strip("@,")
    ]
    cop = stored.cop
    for user in people:
        cop = flow.add_coordinator(cop, by=event.user, user=user)
    changed = _save(ctx, stored, cop)
    text = t(
        "cop.coordinators",
        ctx.language,
        cop=changed.cop.name,
        coordinators=", ".join(changed.cop.coordinators),
    )
    return [_private(ctx, event, text)]


def _schedule(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, [])
    if not stored.cop.is_coordinator(event.user):  # before reading: the refusal says who may
        raise RuleViolation("rule.cop_only_coordinator", cop=stored.cop.name)
    if not words:
        raise RuleViolation("cop.usage.schedule")
    try:
        series = flow.parse_schedule(
            " ".join(words), now=ctx.now, default_zone=stored.cop.time_zone
        )
        series = replace(
            series,
            calendar=cop_calendar(stored.group, series.time_zone),
            skipped=stored.cop.series.skipped,
        )
        if ctx.services.graph_calendar:
            recurrence_of(series)  # a rule the calendar cannot repeat is refused here
    except ScheduleError as error:
        raise RuleViolation(error.key, **error.params) from None
    limits.within(series.place, limits.PLACE, "place")
    limits.within(series.link, limits.LINK, "link")
    limits.within(series.rrule, limits.SCHEDULE_RULE, "schedule_rule")
    changed = _save(
        ctx, stored, flow.set_schedule(stored.cop, by=event.user, series=series), schedule=True
    )
    _queue_calendar(ctx, changed, Action.SCHEDULE)
    lines = [t("cop.scheduled", ctx.language, cop=changed.cop.name)]
    lines.extend(_year_lines(changed, ctx.now, ctx.language, limit=4))
    return [_private(ctx, event, "\n".join(lines))]


def _next(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, words)
    return [_private(ctx, event, next_text(stored, ctx.now, ctx.language))]


def _year(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, words)
    lines = [t("cop.year.title", ctx.language, cop=stored.cop.name, zone=stored.cop.time_zone)]
    lines.extend(_year_lines(stored, ctx.now, ctx.language))
    return [_private(ctx, event, "\n".join(lines))]


def _agenda(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, [])
    cop = stored.cop
    if words and words[0].lower() == "add":
        item = limits.within(" ".join(words[1:]), limits.AGENDA_ITEM, "agenda_item")
        changed = _save(
            ctx, stored, flow.add_agenda_item(cop, author=event.user, text=item, now=ctx.now)
        )
        count = len(_agenda_items(changed, ctx.now))
        return [_private(ctx, event, t("cop.agenda.added", ctx.language, count=count))]
    if words:
        raise RuleViolation("cop.usage.agenda")
    text = _agenda_text(stored, ctx.now, ctx.language) or t("cop.agenda.empty", ctx.language)
    return [_private(ctx, event, text)]


def _skip(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, [])
    day = parse_day(words[0]) if len(words) == 1 else None
    if day is None:
        raise RuleViolation("cop.usage.skip")
    try:
        cop = flow.skip_meeting(stored.cop, by=event.user, day=day)
    except ScheduleError as error:
        raise RuleViolation(error.key, **error.params) from None
    changed = _save(ctx, stored, cop, schedule=True)
    _queue_calendar(ctx, changed, Action.SKIP, day=day)
    text = t("cop.skipped", ctx.language, cop=changed.cop.name, date=day.isoformat())
    return [_private(ctx, event, f"{text}\n{_meeting_line(changed, ctx.now, ctx.language)}")]


def _cancel(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, words)
    changed = _save(ctx, stored, flow.cancel(stored.cop, by=event.user), schedule=True)
    if changed is not stored:  # cancelling twice queues nothing
        _queue_calendar(ctx, changed, Action.CANCEL)
    return [_private(ctx, event, t("cop.cancelled", ctx.language, cop=stored.cop.name))]


def _ics(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    stored = _resolve(ctx, event, words)
    if not stored.cop.is_member(event.user) and not stored.cop.is_coordinator(event.user):
        raise RuleViolation("rule.cop_not_member", cop=stored.cop.name)
    content = ics_of(stored, ctx.now)
    if event.where.platform == "console":
        path = write_ics(stored, content, ctx.services.files_dir)
        return [_private(ctx, event, t("cop.ics.written", ctx.language, path=str(path)))]
    command = f'intervision cop ics "{stored.cop.name}"'
    text = t("cop.ics.by_command", ctx.language, cop=stored.cop.name, command=command)
    calendar = content.decode("utf-8")
    if len(calendar) <= MAX_ICS_IN_MESSAGE:
        text = t("cop.ics.in_message", ctx.language, cop=stored.cop.name, command=command)
        text = f"{text}\n```\n{calendar.strip()}\n```"
    return [DirectMessage(event.user, text)]


def _email(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    if len(words) != 1:
        raise RuleViolation("cop.usage.email")
    stored = _resolve(ctx, event, [])
    where = event.where
    repo = GraphRepository(ctx.tx)
    if words[0].lower() == "off":
        repo.set_mail(where.platform, where.workspace, event.user, None)
        text = t("cop.email.removed", ctx.language)
    else:
        mail = words[0].strip("<>")
        if len(mail) > MAX_MAIL or not _MAIL.fullmatch(mail):
            raise RuleViolation("cop.email.invalid")
        repo.set_mail(where.platform, where.workspace, event.user, mail)
        text = t("cop.email.set", ctx.language, mail=mail)
    if stored.cop.is_member(event.user):
        _follow_members(ctx, stored, stored, force=True)
    return [_private(ctx, event, text)]


_ACTIONS = {
    "create": _create,
    "join": _join,
    "leave": _leave,
    "coordinators": _coordinators,
    "coordinator": _coordinators,
    "schedule": _schedule,
    "next": _next,
    "year": _year,
    "agenda": _agenda,
    "skip": _skip,
    "cancel": _cancel,
    "ics": _ics,
    "email": _email,
}


# --- texts -------------------------------------------------------------------------------------


def next_text(stored: StoredCop, now: datetime, lang: str) -> str:
    """The next meeting in the CoP's zone, where, and its preparation steps with their dates."""
    cop = stored.cop
    meeting = None if cop.cancelled else next_occurrence(cop.series, now)
    if meeting is None:
        return t("cop.next.none", lang, cop=cop.name)
    lines = [
        t(
            "cop.next.meeting",
            lang,
            cop=cop.name,
            date=local_time(meeting, cop.time_zone),
            place=_place(cop, lang),
        ),
        t("cop.next.preparation", lang),
    ]
    for due, step in preparation_due(cop, meeting):
        done = t("cop.next.done", lang) if due <= now else ""
        label = t(f"cop.step.{step.key}.{step.audience.value}", lang)
        lines.append(f"- {local_time(due, cop.time_zone)}: {label}{done}")
    items = len(agenda_for(cop, meeting))
    lines.append(t("cop.next.agenda", lang, count=items))
    return "\n".join(lines)


def _year_lines(
    stored: StoredCop, now: datetime, lang: str, *, limit: int | None = None
) -> list[str]:
    """The meetings of the next twelve months, with the ones not held and why."""
    series = stored.cop.series
    end = now + timedelta(days=365)
    held = [(o, "") for o in occurrences(series, now, end)]
    dropped = []
    for o in excluded(series, now, end):
        day = o.astimezone(series.zone).date()
        if day in series.skipped:
            dropped.append((o, t("cop.year.skipped", lang)))
        else:
            holiday = series.calendar.holiday(day) if series.calendar else None
            dropped.append((o, t("cop.year.holiday", lang, holiday=holiday or "")))
    lines = [
        f"- {local_time(o, series.time_zone)}{note}" for o, note in sorted(held + dropped)[:limit]
    ]
    return lines or [t("cop.year.none", lang)]


def _meeting_line(stored: StoredCop, now: datetime, lang: str) -> str:
    cop = stored.cop
    meeting = next_occurrence(cop.series, now)
    if meeting is None or cop.cancelled:
        return t("cop.next.none", lang, cop=cop.name)
    return t(
        "cop.next.meeting",
        lang,
        cop=cop.name,
        date=local_time(meeting, cop.time_zone),
        place=_place(cop, lang),
    )


def _place(cop: Cop, lang: str) -> str:
    parts = [p for p in (cop.series.place, cop.series.link) if p]
    return ", ".join(parts) if parts else t("cop.no_place", lang)


def _agenda_items(stored: StoredCop, now: datetime) -> list[str]:
    meeting = next_occurrence(stored.cop.series, now)
    if meeting is None:
        return []
    return [item.text for item in agenda_for(stored.cop, meeting)]


def _agenda_text(stored: StoredCop, now: datetime, lang: str) -> str:
    items = _agenda_items(stored, now)
    if not items:
        return ""
    lines = [t("cop.agenda.title", lang, cop=stored.cop.name)]
    lines.extend(f"{n}. {text}" for n, text in enumerate(items, 1))
    return "\n".join(lines)


# --- the calendar file -------------------------------------------------------------------------


def ics_of(stored: StoredCop, now: datetime) -> bytes:
    """The CoP's series as iCalendar bytes (the ``SEQUENCE`` rises with every schedule change)."""
    return series_to_ics(stored.cop, prodid=PRODID, stamp=now, sequence=stored.sequence)


def ics_file_name(cop: Cop) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", cop.name.lower()).strip("-") or "cop"
    return f"{slug}.ics"


def write_ics(stored: StoredCop, content: bytes, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = (directory / ics_file_name(stored.cop)).resolve()
    path.write_bytes(content)
    return path


# --- registering the CoP's work ----------------------------------------------------------------


def subject_of(cop_id: int) -> str:
    return f"cop:{cop_id}"


def plan_cop(tx: Tx, stored: StoredCop, now: datetime) -> None:
    """Register the CoP's preparation steps and digests of the next ``PLAN_WINDOW``, and a
    ``cop_plan`` job to look further ahead later; cancel registered work that no longer
    applies. Registering twice changes nothing."""
    repo = TimeRepository(tx)
    subject = subject_of(stored.id)
    cop = stored.cop
    if cop.cancelled:
        repo.cancel_pending(subject, now)
        return
    keys: list[str] = []
    end = now + PLAN_WINDOW
    # Work due a little before now is kept (it may be waiting for its turn in this very run).
    for due, meeting, step in preparation_between(cop, now - PLAN_LOOKBACK, end):
        index = cop.timeline.index(step)
        key = f"cop-prep:{stored.id}:{_stamp(meeting)}:{index}"
        keys.append(key)
        args = {"cop": stored.id, "meeting": meeting.isoformat(), "step": index}
        repo.schedule(key, "cop_prep", subject, due, args, revive=True)
    duration = cop.series.duration
    for meeting in occurrences(cop.series, now - duration - PLAN_LOOKBACK, end):
        key = f"cop-digest:{stored.id}:{_stamp(meeting)}"
        keys.append(key)
        args = {"cop": stored.id, "meeting": meeting.isoformat()}
        repo.schedule(key, "cop_digest", subject, meeting + duration, args, revive=True)
    pending = repo.pending_keys(subject)
    plan = next((k for k in pending if k.startswith("cop-plan:")), None)
    if plan is None:
        plan = f"cop-plan:{stored.id}:{_stamp(now + PLAN_EVERY)}"
        repo.schedule(plan, "cop_plan", subject, now + PLAN_EVERY, {"cop": stored.id})
    keys.append(plan)
    repo.cancel_pending(subject, now, keep=keys)


# --- the jobs ----------------------------------------------------------------------------------


def prep_job(ctx: JobContext, job: DueJob) -> JobResult:
    """A step of a meeting's preparation: a direct message to each coordinator (what to do)
    or member (the message itself)."""
    stored = ctx.repo.get_cop(int(job.args["cop"]))
    if stored is None:
        return None
    cop = stored.cop
    meeting = datetime.fromisoformat(str(job.args["meeting"]))
    index = int(job.args["step"])
    if cop.cancelled or not is_occurrence(cop.series, meeting) or index >= len(cop.timeline):
        plan_cop(ctx.tx, stored, ctx.now)
        return None
    step = cop.timeline[index]
    if (step.offset < timedelta(0) and ctx.now >= meeting) or ctx.now - job.due_at > STALE_AFTER:
        plan_cop(ctx.tx, stored, ctx.now)  # the scheduler was down too long: too late for it
        return None
    group = stored.group
    lang = group.language
    agenda = _agenda_for_meeting(cop, meeting) or t("cop.agenda.empty", lang)
    text = t(
        step.message_key,
        lang,
        cop=cop.name,
        date=local_time(meeting, cop.time_zone),
        place=_place(cop, lang),
        agenda=agenda,
    )
    coordinators = step.audience is Audience.COORDINATORS
    people = cop.coordinators if coordinators else cop.members
    calendar = cop.series.calendar
    for user in people:
        if not coordinators and calendar is not None:
            away = ctx.repo.away_until(group.platform, group.workspace, user)
            if calendar.is_away(away, ctx.now):
                continue
        key = f"cop:{stored.id}:{_stamp(meeting)}:{step.key}.{step.audience.value}:{user}"
        if ctx.repo.record_sent(key, ctx.now):
            ctx.send(group, DirectMessage(user, text))
    plan_cop(ctx.tx, stored, ctx.now)
    return None


def digest_job(ctx: JobContext, job: DueJob) -> JobResult:
    """After a meeting: the coordinators get a digest of the sessions since the one before,
    with a chart file."""
    stored = ctx.repo.get_cop(int(job.args["cop"]))
    if stored is None:
        return None
    cop = stored.cop
    meeting = datetime.fromisoformat(str(job.args["meeting"]))
    if cop.cancelled or not is_occurrence(cop.series, meeting):
        plan_cop(ctx.tx, stored, ctx.now)
        return None
    group = stored.group
    text = digest_text(ctx, stored, meeting)
    for user in cop.coordinators:
        key = f"cop:{stored.id}:{_stamp(meeting)}:digest:{user}"
        if ctx.repo.record_sent(key, ctx.now):
            ctx.send(group, DirectMessage(user, text))
    plan_cop(ctx.tx, stored, ctx.now)
    return None


def digest_text(ctx: JobContext, stored: StoredCop, meeting: datetime) -> str:
    """The digest of the sessions held from the meeting before ``meeting`` to its end."""
    cop = stored.cop
    group = stored.group
    lang = group.language
    since = previous_occurrence(cop.series, meeting) or stored.created_at
    until = meeting + cop.series.duration
    people = set(cop.members)
    summaries = []
    for session_id, channel in ctx.repo.sessions_between(
        group.platform, group.workspace, since, until
    ):
        session = ctx.tx.get_session(session_id, lock=False)
        if session is None:
            continue
        if channel == group.channel or people & set(session.members()):
            summaries.append(summary_of(session))
    # Sessions past their retention period survive only as counts; those of the CoP's own
    # channel still count (who took part is gone with them, so other channels' cannot).
    summaries += [
        SessionSummary(s.method_id, s.started_at, s.participants, s.contributions)
        for s in PrivacyRepository(ctx.tx).summaries([group.id], since=since)
        if s.started_at < until
    ]
    found = digest(summaries, since, until)
    methods = ", ".join(
        f"{_method_name(ctx, method, lang)} ({count})" for method, count in found.methods
    )
    lines = [
        t(
            "cop.digest",
            lang,
            cop=cop.name,
            date=local_time(meeting, cop.time_zone),
            since=local_time(since, cop.time_zone),
            sessions=found.sessions,
            methods=methods or "-",
            participants=f"{found.mean_participants:.1f}",
            contributions=f"{found.mean_contributions:.1f}",
            total=found.total_contributions,
        )
    ]
    if found.sessions:
        name = f"digest-{stored.id}-{meeting.astimezone(cop.series.zone).date().isoformat()}.png"
        path = digest_chart(
            found,
            (ctx.services.files_dir / name).resolve(),
            title=t("cop.digest.chart_title", lang, cop=cop.name),
            sessions_label=t("cop.digest.sessions", lang),
        )
        lines.append(t("cop.digest.chart", lang, path=str(path)))
    return "\n".join(lines)


def plan_job(ctx: JobContext, job: DueJob) -> JobResult:
    """Look ahead: register the work of the coming ``PLAN_WINDOW``."""
    stored = ctx.repo.get_cop(int(job.args["cop"]))
    if stored is not None:
        ctx.repo.finish(job.id, ctx.now)  # done before planning, so a new look-ahead is made
        plan_cop(ctx.tx, stored, ctx.now)
    return None


COP_JOBS: dict[str, Job] = {"cop_prep": prep_job, "cop_digest": digest_job, "cop_plan": plan_job}


# --- helpers -----------------------------------------------------------------------------------


def _agenda_for_meeting(cop: Cop, meeting: datetime) -> str:
    items = agenda_for(cop, meeting)
    return "\n".join(f"{n}. {item.text}" for n, item in enumerate(items, 1))


def _method_name(ctx: JobContext, method_id: str, lang: str) -> str:
    method = ctx.services.catalogue.get(method_id)
    return method.names[lang] if method is not None else method_id


def _group(ctx: Context, event: Command) -> Group:
    where = event.where
    return ctx.tx.group(
        where.platform,
        where.workspace,
        where.channel,
        language=ctx.services.language,
        timezone=ctx.services.timezone,
    )


def _resolve(ctx: Context, event: Command, words: list[str]) -> StoredCop:
    """The CoP named by ``words`` in this workspace, else this channel's."""
    where = event.where
    repo = TimeRepository(ctx.tx)
    name = " ".join(" ".join(words).split()).strip("\"'")
    if name:
        named = [
            c
            for c in repo.cops_in_workspace(where.platform, where.workspace)
            if c.cop.name.lower() == name.lower()
        ]
        if not named:
            raise RuleViolation("cop.not_found", cop=name)
        return sorted(named, key=lambda c: (c.cop.cancelled, -c.id))[0]
    here = repo.cops_in_channel(where.platform, where.workspace, where.channel)
    if not here:
        raise RuleViolation("cop.none_here")
    return sorted(here, key=lambda c: (c.cop.cancelled, -c.id))[0]


def _save(ctx: Context, stored: StoredCop, cop: Cop, *, schedule: bool = False) -> StoredCop:
    if cop == stored.cop:
        return stored
    changed = TimeRepository(ctx.tx).save_cop(stored.id, cop, schedule_changed=schedule)
    plan_cop(ctx.tx, changed, ctx.now)
    return changed


def _private(ctx: Context, event: Command, text: str) -> PrivateNotice:
    return PrivateNotice(event.user, text, event.where.thread)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%MZ")


# --- the calendar event (Outlook, through the graph platform) ------------------------------


def _queue_calendar(
    ctx: Context, stored: StoredCop, action: Action, *, day: date | None = None
) -> None:
    """Queue the change for the ``graph`` platform in this transaction (when configured)."""
    if not ctx.services.graph_calendar:
        return
    cop, group = stored.cop, stored.group
    lang = group.language
    mails = GraphRepository(ctx.tx).mails(group.platform, group.workspace, cop.members)
    attendees = tuple(Attendee(mails[user]) for user in cop.members if user in mails)
    unknown = tuple(user for user in cop.members if user not in mails)
    body = t("cop.calendar.body", lang, cop=cop.name, place=_place(cop, lang))
    try:
        event = series_event(
            cop,
            cop_id=stored.id,
            created_at=stored.created_at,
            attendees=attendees,
            body=body,
            now=ctx.now,
            directory_ids=unknown,
        )
    except ScheduleError:  # a rule from before the calendar was configured: left out of it
        return
    comment = ""
    if action is Action.SKIP and day is not None:
        comment = t("cop.calendar.skipped", lang, cop=cop.name, date=day.isoformat())
    elif action is Action.CANCEL:
        comment = t("cop.calendar.cancelled", lang, cop=cop.name)
    change = CalendarChange(stored.id, action, event, day=day, comment=comment)
    lane = f"cop:{stored.id}"  # one CoP's changes are applied in order
    ctx.tx.enqueue("graph", group.workspace, lane, None, to_payload(change), ctx.now)


def _follow_members(
    ctx: Context, before: StoredCop, after: StoredCop, *, force: bool = False
) -> None:
    """New attendees for an event already created (members or their addresses changed)."""
    if not ctx.services.graph_calendar or after.cop.cancelled:
        return
    if not force and before.cop.members == after.cop.members:
        return
    if GraphRepository(ctx.tx).series(after.id) is None:
        return  # not created yet: the change that creates it reads the members then
    _queue_calendar(ctx, after, Action.SCHEDULE)
