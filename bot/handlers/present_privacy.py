"""Use-case helper: the confidentiality messages — the reveal of a private step, the draft
record for the case owner, the approved record, a person's data export.

User text in them is escaped (``bot.records.escape_text``) like the record's, so it can
neither ping a channel nor inject markup on any platform.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.flows.record import build_record
from bot.flows.session import Session
from bot.i18n import t
from bot.messages import DirectMessage, Outbound, ThreadNote
from bot.records import escape_text, render_markdown
from storage.privacy_repository import WrittenItem


def reveal_note(session: Session, step_id: str) -> ThreadNote:
    """Everything written privately in a step, shown together (without names when the step
    is anonymous or the group chose an anonymous record; then sorted, so the order of
    arrival tells nothing either)."""
    lang = session.language
    step = session.method.step(step_id)
    contributions = [c for c in session.contributions_in(step_id) if c.counts]
    named = session.named_record and not step.anonymous
    lines = [f"**{t('private.revealed', lang, title=escape_text(step.title[lang]))}**", ""]
    if named:
        lines += [f"- **{escape_text(c.author)}:** {_one(c.text)}" for c in contributions]
    else:
        lines += [f"- {_one(text)}" for text in sorted(c.text for c in contributions)]
    if not contributions:
        lines.append(f"_{t('private.revealed_none', lang)}_")
    return ThreadNote(session.id, "\n".join(lines))


def closing(session: Session) -> list[Outbound]:
    """At close: a note in the thread, and the draft record to the case owner privately."""
    lang = session.language
    draft = render_markdown(build_record(session))
    return [
        ThreadNote(session.id, t("record.pending", lang, owner=session.case_owner)),
        DirectMessage(
            session.case_owner,
            f"{t('record.draft_intro', lang, session=session.id)}\n\n{draft}\n"
            f"{t('record.draft_approve', lang, session=session.id)}",
        ),
    ]


def approved(session: Session) -> list[Outbound]:
    """After approval: the note and the record, in the thread."""
    lang = session.language
    return [
        ThreadNote(session.id, t("record.approved_note", lang, owner=session.case_owner)),
        ThreadNote(session.id, render_markdown(build_record(session))),
    ]


def my_data(user: str, items: Sequence[WrittenItem], language: str) -> DirectMessage:
    """A person's export of everything they wrote in a workspace, grouped by session."""
    lines = [t("my_data.title", language, user=escape_text(user), count=len(items))]
    session_id = None
    for item in items:
        if item.session_id != session_id:
            session_id = item.session_id
            when = item.started_at.strftime("%Y-%m-%d")
            lines += [
                "",
                f"## {t('my_data.session', language, method=item.method_id, date=when)}"
                f" ({escape_text(item.channel)}, {item.session_id})",
            ]
        state = ""
        if item.withdrawn:
            state = f" _{t('my_data.withdrawn', language)}_"
        elif item.held:
            state = f" _{t('my_data.held', language)}_"
        lines.append(f"- [{escape_text(item.ref)}] {item.step_id}: {_one(item.text)}{state}")
    if not items:
        lines.append(t("my_data.none", language))
    return DirectMessage(user, "\n".join(lines).strip())


def _one(text: str) -> str:
    return escape_text(text).replace("\n", "\n  ")
