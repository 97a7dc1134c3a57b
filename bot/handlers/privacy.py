"""Use cases: the privacy guard in the flow of a reply, a group's privacy settings, the audit log.

Every text people write into a session passes ``guarded_contribute`` or ``guarded_edit``:
the guard (``bot.flows.guard``) redacts identifiers before anything is stored, and only the
author is told, by kind. A group chooses with ``/intervision privacy`` whether such a
contribution is stored redacted (``mode=redact``, the default) or held back until its
author edits it (``mode=hold``), how long its closed sessions are kept
(``retention=<days>``, default 30) and its own protocol reminder (``protocol=<text>``).

Administrative actions are written to the audit log with ``audit``: who, what, when and
on what, never what people wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bot.events import Command, Where
from bot.flows import limits
from bot.flows import session as flow
from bot.flows.guard import PrivacyMode, Screened, parse_mode, privacy_notice, screen
from bot.flows.privacy import PEOPLE_KINDS, IdentifierKind
from bot.flows.session import Notice, Outcome, RuleViolation, Session
from bot.handlers.context import Context
from bot.i18n import t
from bot.messages import Outbound, PrivateNotice
from storage.privacy_repository import PrivacyRepository
from storage.repositories import Group

DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 365
PROTOCOL_DEFAULT = "default"


@dataclass(frozen=True)
class GroupPrivacy:
    """A group's privacy settings, read from ``groups.settings`` with their defaults."""

    mode: PrivacyMode = PrivacyMode.REDACT
    retention_days: int = DEFAULT_RETENTION_DAYS
    protocol_reminder: str | None = None


def privacy_of(settings: Mapping[str, Any]) -> GroupPrivacy:
    """The privacy settings in a group's settings mapping; unknown values fall back safely."""
    days = settings.get("retention_days", DEFAULT_RETENTION_DAYS)
    if not isinstance(days, int) or not 1 <= days <= MAX_RETENTION_DAYS:
        days = DEFAULT_RETENTION_DAYS
    reminder = settings.get("protocol_reminder")
    return GroupPrivacy(
        mode=parse_mode(settings.get("privacy_mode", PrivacyMode.REDACT.value)),
        retention_days=days,
        protocol_reminder=reminder if isinstance(reminder, str) and reminder.strip() else None,
    )


def audit(
    ctx: Context, where: Where, actor: str, action: str, target: str | None = None, **detail: Any
) -> None:
    """Write an administrative action in ``where``'s workspace to the audit log.

    ``detail`` holds names and counts, never what people wrote.
    """
    PrivacyRepository(ctx.tx).audit(
        at=ctx.now,
        actor=actor,
        action=action,
        platform=where.platform,
        workspace=where.workspace,
        target=target,
        detail=detail,
    )


def audit_session(ctx: Context, actor: str, action: str, session_id: str, **detail: Any) -> None:
    """Write an administrative action on a session to the audit log."""
    group = ctx.tx.group_of_session(session_id)
    where = Where(group.platform, group.workspace, group.channel)
    audit(ctx, where, actor, action, f"session:{session_id}", **detail)


def group_here(ctx: Context, event: Command) -> Group:
    """The group of the channel where the command was typed (created on first use)."""
    where = event.where
    return ctx.tx.group(
        where.platform,
        where.workspace,
        where.channel,
        language=ctx.services.language,
        timezone=ctx.services.timezone,
    )


# --- the guard in the flow of a reply -------------------------------------------------------


def guarded_contribute(
    ctx: Context,
    session: Session,
    *,
    author: str,
    ref: str,
    text: str,
    at: datetime | None = None,
    private: bool = False,
) -> Outcome:
    """``flow.contribute`` with the text screened first; the author is told what was found.

    ``at`` is when it was written (default: now); its date is the guard's ``today``.
    """
    when = at or ctx.now
    screened = _screen(ctx, session, text, when, author)
    outcome = flow.contribute(
        session,
        author=author,
        ref=ref,
        text=screened.text,
        now=when,
        held=screened.held,
        private=private,
    )
    notice = privacy_notice(author, screened)
    if notice is None or outcome.session.contribution(ref) is None:
        return outcome
    return replace(outcome, effects=(notice, *outcome.effects))


def guarded_edit(
    ctx: Context,
    session: Session,
    *,
    editor: str,
    ref: str,
    text: str,
    at: datetime | None = None,
) -> Outcome:
    """``flow.edit`` with the new text screened; a held contribution edited clean is released."""
    when = at or ctx.now
    before = session.contribution(ref)
    screened = _screen(ctx, session, text, when, editor)
    outcome = flow.edit(
        session, editor=editor, ref=ref, text=screened.text, now=when, held=screened.held
    )
    notice = privacy_notice(editor, screened, edited=True)
    if notice is None and before is not None and before.held and outcome.session is not session:
        notice = Notice(editor, "privacy.released")
    if notice is None or outcome.session is session:
        return outcome
    return replace(outcome, effects=(notice, *outcome.effects))


def _screen(ctx: Context, session: Session, text: str, when: datetime, author: str) -> Screened:
    """The guard with this session's setting, people and language: the members' names
    stay, a client's name becomes ``[naam]``/``[Name]``/``[name]`` as the session reads."""
    return screen(
        text,
        today=when.date(),
        mode=_mode_of(ctx, session),
        members=members_of(session, author),
        placeholders=placeholders(session.language),
    )


def members_of(session: Session, author: str) -> tuple[str, ...]:
    """The names of the session's own people, which the guard leaves alone: the ids the
    session knows them by (the console's handles) and, where known, display names."""
    return (session.case_owner, session.facilitator, *session.participants, author)


def placeholders(language: str) -> dict[IdentifierKind, str]:
    """The words that stand in for a name or an institution in ``language``."""
    return {kind: t(f"privacy.placeholder.{kind.value}", language) for kind in PEOPLE_KINDS}


def _mode_of(ctx: Context, session: Session) -> PrivacyMode:
    return privacy_of(ctx.tx.group_of_session(session.id).settings).mode


def protocol_reminder(ctx: Context, group: Group, language: str) -> str:
    """The protocol reminder: the group's own, else the organisation's, else the catalogue's."""
    own = privacy_of(group.settings).protocol_reminder
    if own:
        return own
    organisation = ctx.services.protocol_reminders.get(language)
    return organisation or t("session.protocol_reminder", language)


# --- /intervision privacy ---------------------------------------------------------------------


def privacy_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``privacy`` shows the group's settings; ``privacy mode=hold retention=14
    protocol=<text>`` changes them (``protocol=default`` goes back to the standard text).

    Anyone in the channel may change them: the channel is the group. Every change is
    written to the audit log and confirmed with the new settings.
    """
    group = group_here(ctx, event)
    if not words:
        return [_notice(ctx, event, _describe(ctx, privacy_of(group.settings)))]
    settings = dict(group.settings)
    changed: list[str] = []
    rest = " ".join(words)
    protocol: str | None = None
    if "protocol=" in rest:
        rest, _, protocol = rest.partition("protocol=")
    for word in rest.split():
        key, sep, value = word.partition("=")
        if not sep:
            raise RuleViolation("privacy.usage")
        key = key.lower()
        if key == "mode":
            if value.lower() not in {m.value for m in PrivacyMode}:
                raise RuleViolation(
                    "start.bad_value", option="mode", value=value, allowed="redact, hold"
                )
            settings["privacy_mode"] = value.lower()
        elif key == "retention":
            if (
                not (value.isascii() and value.isdecimal())
                or not 1 <= int(value) <= MAX_RETENTION_DAYS
            ):
                raise RuleViolation(
                    "start.bad_value",
                    option="retention",
                    value=value,
                    allowed=f"1-{MAX_RETENTION_DAYS}",
                )
            settings["retention_days"] = int(value)
        else:
            raise RuleViolation("privacy.usage")
        changed.append(key)
    if protocol is not None:
        text = limits.within(protocol.strip(), limits.PROTOCOL, "protocol")
        if not text:
            raise RuleViolation("privacy.usage")
        if text.lower() == PROTOCOL_DEFAULT:
            settings.pop("protocol_reminder", None)
        else:
            settings["protocol_reminder"] = text
        changed.append("protocol")
    updated = ctx.tx.update_group(group.id, settings=settings)
    audit(ctx, event.where, event.user, "settings", f"group:{group.id}", changed=sorted(changed))
    description = _describe(ctx, privacy_of(updated.settings))
    return [_notice(ctx, event, f"{t('privacy.changed', ctx.language)}\n{description}")]


def _describe(ctx: Context, privacy: GroupPrivacy) -> str:
    return privacy_text(privacy, ctx.language)


def privacy_text(privacy: GroupPrivacy, lang: str) -> str:
    """A group's privacy settings in words."""
    reminder = privacy.protocol_reminder or t("privacy.protocol_standard", lang)
    return t(
        "privacy.settings",
        lang,
        mode=t(f"privacy.mode.{privacy.mode.value}", lang),
        days=privacy.retention_days,
        reminder=reminder,
    )


def _notice(ctx: Context, event: Command, text: str) -> PrivateNotice:
    return PrivateNotice(event.user, text, ctx.thread)
