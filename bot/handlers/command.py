"""Use case: the ``/intervision`` slash command and its sub-commands.

The same syntax works on every platform: ``/intervision start ims owner=@anna
with=@ben,@carla mode=async lang=de``, ``next``, ``ready``, ``status``, ``pause``,
``resume``, ``close``, ``methods``, ``help``. Anything else gets the help text.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from bot.events import Command, InboundEvent, StartRequest, StartSubmitted
from bot.flows import limits
from bot.flows import session as flow
from bot.flows.session import Mode, RuleViolation, Session
from bot.handlers.context import Context, Handler
from bot.handlers.present import opening, present, start_form
from bot.handlers.privacy import audit_session, protocol_reminder
from bot.i18n import LANGUAGES, t
from bot.messages import Outbound, PrivateNotice

AUDITED_ACTIONS = frozenset({"pause", "resume", "close"})

SubCommand = Callable[[Context, Command, list[str]], list[Outbound]]
"""A sub-command: the context, the command, and the words after the sub-command's name."""


def command_handler(subcommands: Mapping[str, SubCommand]) -> Handler:
    """The ``/intervision`` use case over a table of sub-commands; unknown ones get the help.

    Example::

        on_command = command_handler({**BUILT_IN, "cop": on_cop})
    """

    def on_command(ctx: Context, event: InboundEvent) -> list[Outbound]:
        assert isinstance(event, Command)
        limits.within(event.text, limits.COMMAND, "command")
        words = event.text.split()
        sub = words[0].lower() if words else "help"
        chosen = subcommands.get(sub)
        if chosen is not None:
            return chosen(ctx, event, words[1:])
        unknown = t("command.unknown", ctx.language, command=sub)
        return [_private(ctx, event.user, f"{unknown}\n\n{help_text(ctx.language)}")]

    return on_command


def _start_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    try:
        request = parse_start(words, event.user)
    except RuleViolation as refusal:
        if refusal.key != "start.usage":
            raise
        # Not said for whom: the start form (where forms are messages), else how to start.
        method = words[0].lower() if words and "=" not in words[0] else None
        catalogue = ctx.services.catalogue
        return [start_form(event.user, ctx.language, ctx.thread, catalogue, method)]
    return start(ctx, event, request)


def _session_action(action: str) -> SubCommand:
    def run(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
        return act_on_session(ctx, event.user, action, event.where.thread, event)

    return run


def _status_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    return [_private(ctx, event.user, status_text(ctx, _session_here(ctx, event)))]


def _methods_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    return [_private(ctx, event.user, methods_text(ctx))]


def _help_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    return [_private(ctx, event.user, help_text(ctx.language))]


HELP_SECTIONS = ("help", "help.privacy", "help.cop")


def help_text(language: str) -> str:
    """The help: sessions first, then privacy, then time and the Community of Practice."""
    return "\n\n".join(t(key, language) for key in HELP_SECTIONS)


def parse_start(words: list[str], invoker: str) -> StartRequest:
    """Read ``<method> owner=@x [facilitator=@y] [with=@a,@b] [mode=] [lang=] [anonymous]``.

    Raises:
        RuleViolation: ``start.usage`` or ``start.bad_option`` naming what was wrong.
    """
    if not words or "=" in words[0]:
        raise RuleViolation("start.usage")
    options: dict[str, str] = {}
    flags: set[str] = set()
    for word in words[1:]:
        key, sep, value = word.partition("=")
        if sep:
            options[key.lower()] = value
        else:
            flags.add(word.lower())
    unknown = (set(options) - _START_OPTIONS) | (flags - {"anonymous"})
    if unknown:
        raise RuleViolation("start.bad_option", option=sorted(unknown)[0])
    if "owner" not in options:
        raise RuleViolation("start.usage")
    return StartRequest(
        method_id=words[0].lower(),
        case_owner=_person(options["owner"]),
        facilitator=_person(options.get("facilitator", invoker)),
        participants=tuple(_person(p) for p in options.get("with", "").split(",") if p),
        mode=_mode(options.get("mode", "sync")),
        language=_language(options.get("lang")),
        named_record="anonymous" not in flags,
        deadline_hours=_hours(options.get("hours")),
    )


def on_start_submitted(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """A filled-in start form."""
    assert isinstance(event, StartSubmitted)
    return start(ctx, event, event.request)


def start(ctx: Context, event: Command | StartSubmitted, request: StartRequest) -> list[Outbound]:
    """Open a session in the channel where the command was typed."""
    # ``owner=`` or ``facilitator=`` left empty would start a session nobody can lead or
    # whose record nobody can approve
    if not request.case_owner:
        raise RuleViolation("start.no_owner")
    if not request.facilitator:
        raise RuleViolation("start.no_facilitator")
    for person in (request.case_owner, request.facilitator, *request.participants):
        limits.within(person, limits.PERSON, "person")
    if request.language is not None:
        _language(request.language)  # a form's value may be anything
    method = ctx.services.catalogue.get(request.method_id)
    if method is None:
        raise RuleViolation(
            "start.unknown_method", method=request.method_id, methods=_method_ids(ctx)
        )
    where = event.where
    group = ctx.tx.group(
        where.platform,
        where.workspace,
        where.channel,
        language=ctx.services.language,
        timezone=ctx.services.timezone,
    )
    outcome = flow.start(
        ctx.services.new_id(),
        method,
        case_owner=request.case_owner,
        facilitator=request.facilitator,
        participants=request.participants,
        mode=request.mode,
        language=request.language or group.language,
        now=ctx.now,
        named_record=request.named_record,
        deadline_hours=request.deadline_hours,
    )
    ctx.tx.add_session(outcome.session, group.id)
    ctx.language = outcome.session.language
    ctx.session_id = outcome.session.id
    reminder = protocol_reminder(ctx, group, outcome.session.language)
    return opening(outcome.session, reminder)


def act_on_session(
    ctx: Context, user: str, action: str, thread: str | None, event: InboundEvent
) -> list[Outbound]:
    """``next``, ``ready``, ``pause``, ``resume`` or ``close`` on the session here."""
    session = _session_here(ctx, event)
    if session is None:
        raise RuleViolation("session.none_here")
    return apply_action(ctx, session, user, action)


def apply_action(ctx: Context, session: Session, user: str, action: str) -> list[Outbound]:
    """Run one facilitator or participant action on ``session`` and save it."""
    ctx.language = session.language
    ctx.session_id = session.id
    ctx.thread = ctx.tx.anchor_of(session.id)
    if action == "next":
        outcome = flow.advance(session, user=user, now=ctx.now)
    elif action == "ready":
        outcome = flow.mark_ready(session, user=user, now=ctx.now)
    elif action == "pause":
        outcome = flow.pause(session, user=user)
    elif action == "resume":
        outcome = flow.resume(session, user=user)
    else:
        outcome = flow.close(session, user=user, now=ctx.now)
    ctx.tx.save_session(outcome.session)
    if action in AUDITED_ACTIONS:
        audit_session(ctx, user, action, session.id)
    messages = present(outcome.session, outcome.effects, ctx.thread)
    if action == "ready" and not outcome.effects:
        messages.append(PrivateNotice(user, t("session.ready_noted", ctx.language), ctx.thread))
    return messages


def status_text(ctx: Context, session: Session | None) -> str:
    """A short private summary of the session here."""
    if session is None:
        return t("session.none_here", ctx.language)
    lang = ctx.language = session.language
    step = session.current_step
    contributed = len(session.contributors(step.id) & session.expected_speakers(step))
    return t(
        "status",
        lang,
        method=session.method.names[lang],
        number=session.step_number,
        count=len(session.method.steps),
        title=step.title[lang],
        status=t(f"status.{session.status.value}", lang),
        contributed=contributed,
        expected=len(session.expected_speakers(step)),
        ready=len(session.current_run.ready),
    )


def methods_text(ctx: Context) -> str:
    lang = ctx.language
    lines = [t("methods.title", lang)]
    for method in ctx.services.catalogue.all():
        lines.append(
            t("methods.line", lang, id=method.id, name=method.names[lang], steps=len(method.steps))
        )
    return "\n".join(lines)


def _session_here(ctx: Context, event: InboundEvent) -> Session | None:
    where = event.where
    if where.thread:
        found = ctx.tx.session_for_thread(
            where.platform, where.workspace, where.channel, where.thread
        )
        if found is not None:
            return found
    open_sessions = ctx.tx.open_sessions_in(where.platform, where.workspace, where.channel)
    return open_sessions[0] if open_sessions else None


def _private(ctx: Context, user: str, text: str) -> PrivateNotice:
    return PrivateNotice(user, text, ctx.thread)


def _method_ids(ctx: Context) -> str:
    return ", ".join(m.id for m in ctx.services.catalogue.all())


def _person(value: str) -> str:
    return value.strip().lstrip("@")


def _mode(value: str) -> Mode:
    try:
        return Mode(value.lower())
    except ValueError:
        raise RuleViolation(
            "start.bad_value", option="mode", value=value, allowed="sync, async"
        ) from None


def _language(value: str | None) -> str | None:
    if value is None:
        return None
    if value.lower() not in LANGUAGES:
        raise RuleViolation(
            "start.bad_value", option="lang", value=value, allowed=", ".join(LANGUAGES)
        )
    return value.lower()


def _hours(value: str | None) -> int | None:
    if value is None:
        return None
    if not (value.isascii() and value.isdecimal()) or not 1 <= int(value) <= 336:
        raise RuleViolation("start.bad_value", option="hours", value=value, allowed="1-336")
    return int(value)


BUILT_IN: dict[str, SubCommand] = {
    "start": _start_command,
    "status": _status_command,
    "methods": _methods_command,
    "help": _help_command,
    **{action: _session_action(action) for action in ("next", "ready", "pause", "resume", "close")},
}
_START_OPTIONS = {"owner", "facilitator", "with", "mode", "lang", "hours"}
