"""Use-case helper: turn a session and the effects of a transition into outbound messages."""

from __future__ import annotations

from collections.abc import Iterable

from bot.flows.method import Catalogue, InputKind, Role, Speakers, Step
from bot.flows.session import (
    Effect,
    Notice,
    RecordApproved,
    Session,
    SessionClosed,
    SessionPaused,
    SessionResumed,
    StepOpened,
    StepRevealed,
)
from bot.handlers.present_privacy import approved, closing, reveal_note
from bot.i18n import t
from bot.messages import (
    AnchorView,
    Choice,
    Link,
    Outbound,
    PrivateNotice,
    StartForm,
    StepPost,
    ThreadNote,
)


def anchor(session: Session, *, update: bool = True) -> AnchorView:
    """The session's anchor message as it should look now."""
    lang = session.language
    return AnchorView(
        session_id=session.id,
        language=lang,
        method_name=session.method.names[lang],
        case_owner=session.case_owner,
        facilitator=session.facilitator,
        step_number=session.step_number,
        step_count=len(session.method.steps),
        step_title=session.current_step.title[lang],
        status=session.status.value,
        deadline=session.current_run.deadline,
        update=update,
    )


def step_post(session: Session, step: Step) -> StepPost:
    """The thread reply that opens ``step``: what is asked now, and of whom."""
    lang = session.language
    run = session.current_run
    return StepPost(
        session_id=session.id,
        language=lang,
        step_id=step.id,
        number=session.method.index_of(step.id) + 1,
        count=len(session.method.steps),
        title=step.title[lang],
        instruction=step.instruction[lang],
        speakers=t(f"step.speakers.{step.speakers.value}", lang),
        listeners=_listeners(step, lang),
        input_hint=input_hint(session, step),
        media=tuple(Link(m.title[lang], m.url) for m in step.media),
        deadline=run.deadline if run.step_id == step.id else None,
        reactions=_reaction_choices(session, step),
    )


def input_hint(session: Session, step: Step) -> str:
    """One line telling people how to take part in this step."""
    lang = session.language
    hint = _input_hint(session, step)
    return f"{hint}\n{t('step.input.private', lang)}" if step.private else hint


def _input_hint(session: Session, step: Step) -> str:
    lang = session.language
    if step.input is InputKind.VOTE:
        options = ", ".join(
            f"{n} = {o.label[lang]} (:{o.emoji}:)" for n, o in enumerate(step.options, 1)
        )
        return t("step.input.vote", lang, options=options)
    if step.input is InputKind.REACTIONS:
        meanings = [*step.reactions, *session.method.reactions]
        listed = ", ".join(f":{r.emoji}: {r.meaning[lang]}" for r in meanings)
        return t("step.input.reactions", lang, meanings=listed)
    return t(f"step.input.{step.input.value}", lang)


def _reaction_choices(session: Session, step: Step) -> tuple[Choice, ...]:
    """The meanings a reactions step asks for (the step's own first, then the method's)."""
    if step.input is not InputKind.REACTIONS:
        return ()
    lang = session.language
    meanings = [*step.reactions, *session.method.reactions]
    return tuple(Choice(r.emoji, r.meaning[lang]) for r in meanings)


def _listeners(step: Step, lang: str) -> str:
    if not step.silent:
        return ""
    roles = ", ".join(t(f"role.{role.value}", lang) for role in sorted(step.silent))
    return t("step.silent", lang, roles=roles)


def start_form(
    user: str, language: str, thread: str | None, catalogue: Catalogue, method_id: str | None
) -> StartForm:
    """The start form for ``user`` (shown as how to start where forms are not messages)."""
    methods = tuple(Choice(m.id, m.names.get(language) or m.id) for m in catalogue.all())
    known = method_id if any(m.key == method_id for m in methods) else None
    return StartForm(
        user, t("start.usage", language), thread, language, methods=methods, method_id=known
    )


def opening(session: Session, protocol_reminder: str | None = None) -> list[Outbound]:
    """Everything posted when a session starts: anchor, intake note, first step.

    ``protocol_reminder`` replaces the catalogue's reminder (the organisation's own text).
    """
    lang = session.language
    messages: list[Outbound] = [anchor(session, update=False)]
    messages.append(ThreadNote(session.id, t("session.intake", lang, owner=session.case_owner)))
    if session.method.protocol_reminder:
        reminder = protocol_reminder or t("session.protocol_reminder", lang)
        messages.append(ThreadNote(session.id, reminder))
    messages.append(step_post(session, session.current_step))
    return messages


def present(session: Session, effects: Iterable[Effect], thread: str | None) -> list[Outbound]:
    """Messages for the effects of one transition; the anchor is updated at most once."""
    lang = session.language
    messages: list[Outbound] = []
    anchor_changed = False
    for effect in effects:
        if isinstance(effect, Notice):
            text = t(effect.key, lang, **_notice_params(effect, lang))
            messages.append(PrivateNotice(effect.to, text, thread))
        elif isinstance(effect, StepOpened):
            messages.append(step_post(session, session.method.step(effect.step_id)))
            anchor_changed = True
        elif isinstance(effect, StepRevealed):
            messages.append(reveal_note(session, effect.step_id))
        elif isinstance(effect, SessionClosed):
            # The record waits for the case owner's approval.
            messages.extend(closing(session))
            anchor_changed = True
        elif isinstance(effect, RecordApproved):
            messages.extend(approved(session))
        elif isinstance(effect, SessionPaused | SessionResumed):
            key = "session.paused" if isinstance(effect, SessionPaused) else "session.resumed"
            messages.append(ThreadNote(session.id, t(key, lang)))
            anchor_changed = True
    if anchor_changed:
        messages.append(anchor(session))
    return messages


def _notice_params(notice: Notice, lang: str) -> dict[str, object]:
    params = dict(notice.params)
    if "role" in params:
        params["role"] = t(f"role.{Role(params['role']).value}", lang)
    if "kinds" in params:  # identifier kinds the privacy guard found, by name only
        kinds = [t(f"privacy.kind.{kind}", lang) for kind in params["kinds"]]
        params["kinds"] = ", ".join(kinds)
    return params


def speakers_label(speakers: Speakers, lang: str) -> str:
    return t(f"step.speakers.{speakers.value}", lang)
