"""Use cases: thread replies, their edits and deletions, reactions, and step buttons.

Messages outside a session's thread are not the bot's business and are ignored.
A reply, an edit, a deletion and a reaction load only the parts of the session their
rules read (``Scope``: the person's own in the current step, the message named), so
their cost does not grow with the session; the session row is locked for the change.
"""

from __future__ import annotations

from bot.events import (
    ButtonPressed,
    InboundEvent,
    MessageAdopted,
    ReactionChanged,
    Reply,
    ReplyDeleted,
    ReplyEdited,
)
from bot.flows import session as flow
from bot.flows.session import Outcome, RuleViolation, Session
from bot.handlers.command import apply_action
from bot.handlers.context import Context
from bot.handlers.present import present
from bot.handlers.privacy import guarded_contribute, guarded_edit
from bot.messages import Outbound
from storage.repositories import Scope

BUTTON_ACTIONS = frozenset({"ready", "next", "pause", "resume", "close"})


def on_reply(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """A reply in a session thread becomes a contribution to the current step (its text
    screened by the privacy guard first)."""
    assert isinstance(event, Reply)
    session = _thread_session(ctx, event, Scope(event.user, (event.ref,)))
    if session is None:
        return []
    outcome = guarded_contribute(
        ctx, session, author=event.user, ref=event.ref, text=event.text, at=event.at
    )
    return _save(ctx, outcome)


def on_adopt(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """A channel message added to the open session's current step, as if replied in the thread."""
    assert isinstance(event, MessageAdopted)
    where = event.where
    sessions = ctx.tx.open_sessions_in(
        where.platform, where.workspace, where.channel, scope=Scope(event.author, (event.ref,))
    )
    if not sessions:
        raise RuleViolation("session.none_here")
    session = sessions[0]
    _enter(ctx, session)
    outcome = guarded_contribute(
        ctx, session, author=event.author, ref=event.ref, text=event.text, at=event.at
    )
    return _save(ctx, outcome)


def on_edit(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """An edited reply updates the stored contribution."""
    assert isinstance(event, ReplyEdited)
    session = _thread_session(ctx, event, Scope(event.user, (event.ref,)))
    if session is None:
        return []
    outcome = guarded_edit(
        ctx, session, editor=event.user, ref=event.ref, text=event.text, at=event.at
    )
    return _save(ctx, outcome)


def on_delete(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """A deleted reply withdraws the contribution."""
    assert isinstance(event, ReplyDeleted)
    session = _thread_session(ctx, event, Scope(event.user, (event.ref,)))
    if session is None:
        return []
    return _save(ctx, flow.withdraw(session, user=event.user, ref=event.ref))


def on_reaction(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """A reaction on a step post or a contribution is tallied for that step."""
    assert isinstance(event, ReactionChanged)
    where = event.where
    found = ctx.tx.session_for_message(
        where.platform, where.workspace, where.channel, event.target, scope=Scope(event.user)
    )
    if found is None:
        return []
    session, step_id = found
    _enter(ctx, session)
    change = flow.react if event.added else flow.unreact
    outcome = change(
        session, user=event.user, step_id=step_id, target=event.target, emoji=event.emoji
    )
    return _save(ctx, outcome)


def on_button(ctx: Context, event: InboundEvent) -> list[Outbound]:
    """A button on a step post: the same as the sub-command of that name."""
    assert isinstance(event, ButtonPressed)
    if event.action not in BUTTON_ACTIONS:
        return []
    session = ctx.tx.get_session(event.session_id)
    if session is None or not _same_place(ctx, session, event):
        # a guessed id, or one of another workspace: both are simply not found here
        raise RuleViolation("session.not_found", session=event.session_id)
    return apply_action(ctx, session, event.user, event.action)


def _thread_session(
    ctx: Context, event: Reply | ReplyEdited | ReplyDeleted, scope: Scope
) -> Session | None:
    where = event.where
    if where.thread is None:
        return None
    session = ctx.tx.session_for_thread(
        where.platform, where.workspace, where.channel, where.thread, scope=scope
    )
    if session is not None:
        _enter(ctx, session)
    return session


def _same_place(ctx: Context, session: Session, event: ButtonPressed) -> bool:
    """A button can only act on a session of its own workspace (ids can be guessed)."""
    group = ctx.tx.group_of_session(session.id)
    return (group.platform, group.workspace) == (event.where.platform, event.where.workspace)


def _enter(ctx: Context, session: Session) -> None:
    ctx.language = session.language
    ctx.session_id = session.id
    ctx.thread = ctx.tx.anchor_of(session.id)


def _save(ctx: Context, outcome: Outcome) -> list[Outbound]:
    ctx.tx.save_session(outcome.session)
    return present(outcome.session, outcome.effects, ctx.thread)
