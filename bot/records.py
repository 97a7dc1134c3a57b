"""Presentation: the session record as Markdown (the IMS process documentation).

User text is escaped so that it can neither ping a channel nor inject markup where
the record is shown (chat platforms or a Markdown viewer).
"""

from __future__ import annotations

import re

from bot.flows.record import Entry, Record, StepRecord
from bot.i18n import t

_MARKUP = re.compile(r"([\\`*_\[\]#|~])")


def escape_text(text: str) -> str:
    """Neutralise markup and mentions in user text: ``&``, ``<``, ``>`` and Markdown marks."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = text.replace("@", "@\u200b")  # breaks @channel / @here in every renderer
    return _MARKUP.sub(r"\\\1", text)


def render_markdown(record: Record) -> str:
    """The whole record as a Markdown document in the record's language."""
    lang = record.language
    lines = [f"# {t('record.title', lang, method=record.method_name)}", ""]
    if record.case_owner and record.facilitator:
        lines.append(
            t(
                "record.people",
                lang,
                owner=_name(record.case_owner),
                facilitator=_name(record.facilitator),
            )
        )
    lines.append(t("record.participants", lang, count=record.participants))
    lines.append(t("record.started", lang, at=record.started_at.strftime("%Y-%m-%d %H:%M UTC")))
    if record.closed_at:
        lines.append(t("record.closed", lang, at=record.closed_at.strftime("%Y-%m-%d %H:%M UTC")))
        if record.approved_at:
            at = record.approved_at.strftime("%Y-%m-%d %H:%M UTC")
            lines.append(t("record.approved_on", lang, at=at))
        else:
            lines.append(f"_{t('record.draft_marker', lang)}_")
    lines.append("")
    for step in record.steps:
        lines.extend(_step_lines(step, lang))
    return "\n".join(lines).rstrip() + "\n"


def _step_lines(step: StepRecord, lang: str) -> list[str]:
    lines = [f"## {step.number}. {escape_text(step.title)}", ""]
    if not step.reached:
        return [*lines, f"_{t('record.not_reached', lang)}_", ""]
    lines.extend(_entries(step.entries))
    if step.votes:
        lines.append(f"**{t('record.votes', lang)}**")
        lines.extend(f"- {v.meaning}: {v.count}" for v in step.votes)
        lines.append("")
    if step.tallies_hidden:
        lines.extend([f"_{t('record.tallies_hidden', lang)}_", ""])
    if step.tallies:
        lines.append(f"**{t('record.reactions', lang)}**")
        for tally in step.tallies:
            meaning = f" ({tally.meaning})" if tally.meaning else ""
            lines.append(f"- :{tally.emoji}:{meaning}: {tally.count}")
        lines.append("")
    if step.individual_actions:
        lines.append(f"**{t('record.actions.individual', lang)}**")
        lines.extend(_entries(step.individual_actions))
    if step.team_actions:
        lines.append(f"**{t('record.actions.team', lang)}**")
        lines.extend(_entries(step.team_actions))
    if not (
        step.entries
        or step.votes
        or step.tallies
        or step.individual_actions
        or step.team_actions
        or step.tallies_hidden
    ):
        lines.extend([f"_{t('record.empty', lang)}_", ""])
    return lines


def _entries(entries: tuple[Entry, ...]) -> list[str]:
    if not entries:
        return []
    lines = []
    for entry in entries:
        text = escape_text(entry.text).replace("\n", "\n  ")
        lines.append(f"- **{_name(entry.author)}:** {text}" if entry.author else f"- {text}")
    return [*lines, ""]


def _name(user: str) -> str:
    return escape_text(user)
