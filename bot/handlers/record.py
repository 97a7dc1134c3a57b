"""Use cases: write privately, approve the record, withdraw a contribution, fetch a record.

- ``/intervision private <text>`` (also ``dm``): a contribution to a step that collects
  privately; it is stored at once and shown to nobody until the step closes, when the
  bot reveals all of them together in the thread.
- ``/intervision approve [session]``: the case owner approves the record of a closed
  session; only then is it posted in the thread (and can be exported).
- ``/intervision withdraw [ref]``: without a ref, lists one's own contributions with their
  refs; with one, withdraws it (until the record is approved).
- ``/intervision export <session>``: the approved record by direct message, for a member
  of that session.

A session named by id must belong to the workspace the command came from; one of another
workspace is answered exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from bot.events import Command
from bot.flows import session as flow
from bot.flows.record import build_record
from bot.flows.session import RuleViolation, Session, Status
from bot.handlers.context import Context
from bot.handlers.present import present
from bot.handlers.privacy import audit_session, guarded_contribute
from bot.i18n import t
from bot.messages import DirectMessage, Outbound, PrivateNotice
from bot.records import escape_text, render_markdown
from storage.privacy_repository import PrivacyRepository

MAX_CANDIDATES = 20
PREVIEW_CHARS = 60

Wanted = Callable[[Session], bool]


# --- finding the session a person means ---------------------------------------------------------


def session_by_id(ctx: Context, event: Command, session_id: str) -> Session:
    """The session ``session_id`` if it belongs to this workspace.

    Raises:
        RuleViolation: ``session.not_found``, the same for a session of another workspace.
    """
    session = ctx.tx.get_session(session_id)
    if session is not None:
        group = ctx.tx.group_of_session(session.id)
        if (group.platform, group.workspace) == (event.where.platform, event.where.workspace):
            return session
    raise RuleViolation("session.not_found", session=session_id)


def find_session(ctx: Context, event: Command, wanted: Wanted) -> Session | None:
    """The session a person most likely means: the thread's, then the channel's (newest
    first), then any of theirs in the workspace (a command typed in a direct message).

    Candidates are read without a lock; only the one found is locked (and read again, as
    it is now), so this transaction writes one session and waits for no other.
    """
    where = event.where
    seen: set[str] = set()

    def candidates() -> list[str]:
        ids: list[str] = []
        if where.thread:
            found = ctx.tx.session_for_thread(
                where.platform, where.workspace, where.channel, where.thread, lock=False
            )
            ids += [found.id] if found else []
        repo = PrivacyRepository(ctx.tx)
        ids += repo.sessions_in_channel(where.platform, where.workspace, where.channel)
        ids += repo.sessions_of_person(where.platform, where.workspace, event.user)
        return ids

    for session_id in islice(candidates(), MAX_CANDIDATES * 3):
        if session_id in seen:
            continue
        seen.add(session_id)
        session = ctx.tx.get_session(session_id, lock=False)
        if session is not None and wanted(session):
            locked = ctx.tx.get_session(session_id)
            return locked if locked is not None and wanted(locked) else None
        if len(seen) >= MAX_CANDIDATES:
            break
    return None


def enter(ctx: Context, session: Session) -> None:
    """From now on this event speaks about ``session``, in its language and thread."""
    ctx.language = session.language
    ctx.session_id = session.id
    ctx.thread = ctx.tx.anchor_of(session.id)


# --- private contributions -------------------------------------------------------------------


def private_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``private <text>``: a contribution only revealed when the step closes."""
    text = _rest(event.text)
    if not text:
        raise RuleViolation("private.usage")
    user = event.user

    def collecting(session: Session) -> bool:
        return (
            session.status is Status.RUNNING
            and session.current_step.private
            and (session.open_membership or session.role_of(user) is not None)
        )

    session = find_session(ctx, event, collecting)
    if session is None:
        raise RuleViolation("private.no_step")
    reply_thread = ctx.thread
    enter(ctx, session)
    ref = f"p-{ctx.services.new_id()}"
    outcome = guarded_contribute(ctx, session, author=user, ref=ref, text=text, private=True)
    ctx.tx.save_session(outcome.session)
    messages = present(outcome.session, outcome.effects, reply_thread)
    kept = outcome.session.contribution(ref)
    # one kept for a later step (its author only listens in this one) was told so already
    if kept is not None and kept.step_id == session.current_step.id:
        received = t("private.received", ctx.language, ref=ref)
        messages.append(PrivateNotice(user, received, reply_thread))
    return messages


def _rest(text: str) -> str:
    """What follows the sub-command's name, line breaks kept."""
    parts = text.strip().split(None, 1)
    return parts[1].strip() if len(parts) > 1 else ""


# --- approval -----------------------------------------------------------------------------------


def approve_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``approve [session]``: the case owner approves the record; it is posted in the thread."""
    user = event.user
    if words:
        session = session_by_id(ctx, event, words[0])
    else:
        found = find_session(
            ctx,
            event,
            lambda s: s.case_owner == user and s.status is Status.CLOSED and s.approved_at is None,
        )
        if found is None:
            raise RuleViolation("record.nothing_to_approve")
        session = found
    enter(ctx, session)
    outcome = flow.approve(session, user=user, now=ctx.now)
    if not outcome.effects:
        raise RuleViolation("record.already_approved")
    ctx.tx.save_session(outcome.session)
    audit_session(ctx, user, "approve", session.id)
    messages = present(outcome.session, outcome.effects, ctx.thread)
    messages.append(PrivateNotice(user, t("record.approved_thanks", ctx.language), ctx.thread))
    return messages


# --- withdrawal ---------------------------------------------------------------------------------


def withdraw_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``withdraw``: list one's contributions; ``withdraw <ref>``: take one back."""
    user = event.user
    if not words:
        session = find_session(
            ctx, event, lambda s: any(c.author == user and not c.withdrawn for c in s.contributions)
        )
        if session is None:
            raise RuleViolation("withdraw.nothing")
        enter(ctx, session)
        return [PrivateNotice(user, _listing(session, user), ctx.thread)]
    ref = words[0]
    found = find_session(ctx, event, lambda s: s.contribution(ref) is not None)
    if found is None:
        raise RuleViolation("withdraw.unknown", ref=ref)
    enter(ctx, found)
    outcome = flow.withdraw(found, user=user, ref=ref)
    ctx.tx.save_session(outcome.session)
    messages = present(outcome.session, outcome.effects, ctx.thread)
    messages.append(PrivateNotice(user, t("withdraw.done", ctx.language, ref=ref), ctx.thread))
    return messages


def _listing(session: Session, user: str) -> str:
    lang = session.language
    lines = [t("withdraw.listing", lang)]
    for c in session.contributions:
        if c.author != user or c.withdrawn:
            continue
        preview = c.text if len(c.text) <= PREVIEW_CHARS else c.text[:PREVIEW_CHARS] + "…"
        title = session.method.step(c.step_id).title[lang]
        lines.append(f"- {escape_text(c.ref)} ({escape_text(title)}): {escape_text(preview)}")
    return "\n".join(lines)


# --- export in chat ---------------------------------------------------------------------------


def export_command(ctx: Context, event: Command, words: list[str]) -> list[Outbound]:
    """``export <session>``: the approved record by direct message, for the session's members."""
    if not words:
        raise RuleViolation("export.usage")
    session = session_by_id(ctx, event, words[0])
    if session.role_of(event.user) is None:
        raise RuleViolation("session.not_found", session=words[0])
    if session.approved_at is None:
        raise RuleViolation("record.not_approved")
    ctx.language = session.language
    audit_session(ctx, event.user, "export", session.id)
    return [DirectMessage(event.user, render_markdown(build_record(session)))]
