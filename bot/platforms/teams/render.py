"""Teams adapter, outbound: pure functions from neutral messages to Adaptive Cards.

A card is plain JSON (``dict``); the messenger wraps it in an activity. Text that reaches
a card goes through ``escape``: ``<at>`` (a mention) and other angle-bracket markup in
what people wrote is made inert, so a contribution or a name cannot ping anyone or
inject markup. Only this module makes mentions: the case owner and facilitator on the
anchor, each with the mention entity Teams needs. Bot text keeps its Markdown (bold,
lists, links), as on Slack; headings become bold lines (cards have no headings).

Times use the card's ``{{DATE()}}``/``{{TIME()}}`` functions, so every reader sees them
in their own time zone. A message stays far under Teams' 100 KB limit: long text is
split over several cards, nothing is truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bot.i18n import LANGUAGES, t
from bot.messages import AnchorView, Link, StartForm, StepPost
from bot.platforms.markup import fill_escaped
from bot.platforms.teams.ids import (
    ACTION_KEY,
    CHOICE_KEY,
    MAX_CHOICES,
    MAX_PEOPLE,
    OFFERED_KEY,
    REACT_VERB,
    SESSION_KEY,
    START_VERB,
)
from bot.start_form import MAX_DEADLINE_HOURS, NAMED_RECORD_OPTION, FormField

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_VERSION = "1.5"
MAX_CARD_TEXT = 20_000  # characters of text per card: far under 100 KB even as UTF-16
MAX_SUMMARY_CHARS = 200  # the notification text

Names = Callable[[str], str | None]
"""A person's display name by their ``29:…`` id, or None when unknown."""

_MARKUP = re.compile(r"<(/?)([A-Za-z!])")
_PERSON_ID = re.compile(r"\b29:(?=[A-Za-z0-9_\-]*[A-Za-z])[A-Za-z0-9_\-]{2,}")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
_SAFE_URL = re.compile(r"^https?://[^\s<>()\[\]]+$")
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#~>|])")
_SHORTCODE = re.compile(r":([a-z0-9_+\-]{1,40}):")
EMOJI = {
    # the methods' reaction and vote emoji (Slack's short names in the method files)
    "fearful": "😨",
    "thinking_face": "🤔",
    "raised_hand": "✋",
    "worried": "😟",
    "bulb": "💡",
    "upside_down_face": "🙃",
    "bell": "🔔",
    "mag": "🔍",
    "gift": "🎁",
    # Teams' own reactions, as they are counted
    "like": "👍",
    "heart": "❤️",
    "laugh": "😆",
    "surprised": "😮",
    "sad": "😢",
    "angry": "😠",
}
"""Short names in bot text (``:fearful:``) shown as the emoji; Teams shows no short names."""


def _unknown(user: str) -> str | None:
    return None


@dataclass(frozen=True)
class TeamsMessage:
    """One Teams message: the notification ``text`` and its card."""

    text: str
    card: dict[str, Any]
    mentions: list[dict[str, Any]] = field(default_factory=list)


def escape(value: str) -> str:
    """Make angle-bracket markup inert: ``<at>`` and ``<b>`` are shown as typed (a zero-width
    space after the ``<`` keeps Teams from reading a tag)."""
    return _MARKUP.sub("<\u200b\\1\\2", value)


def escape_markdown(value: str) -> str:
    """A name or a title shown literally: Markdown characters escaped too."""
    return escape(_MD_SPECIAL.sub(r"\\\1", value))


def with_names(value: str, names: Names) -> str:
    """Bare people's ids in bot text (``29:1abc…``) shown as their names."""
    return _PERSON_ID.sub(lambda match: names(match.group(0)) or match.group(0), value)


def teams_date(moment: datetime) -> str:
    """A moment every reader sees in their own time zone."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({stamp}, SHORT)}}}} {{{{TIME({stamp})}}}}"


def progress_bar(number: int, count: int) -> str:
    return "■" * number + "□" * max(count - number, 0)


def emoji(value: str) -> str:
    """Known emoji short names as the emoji; others stay as typed."""
    return _SHORTCODE.sub(lambda match: EMOJI.get(match.group(1), match.group(0)), value)


def link(item: Link) -> str:
    title = escape_markdown(item.title)
    if _SAFE_URL.match(item.url):
        return f"[{title}]({item.url})"
    return f"{title}: {escape_markdown(item.url)}"


def fill(key: str, language: str, **markup: str) -> str:
    """A catalogue text, escaped, with ``markup`` (already safe) put in its place."""
    return fill_escaped(lambda **tokens: t(key, language, **tokens), escape_markdown, markup)


def markdown(value: str) -> str:
    """The bot's Markdown for a card: headings as bold lines."""
    return _MD_HEADING.sub(r"**\1**", value)


def split_text(value: str, limit: int = MAX_CARD_TEXT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line ends, else spaces."""
    pieces: list[str] = []
    current = ""
    for line in value.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        while len(line) > limit:
            cut = line.rfind(" ", limit // 2, limit)
            cut = cut if cut > 0 else limit
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        current = line
    if current or not pieces:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [""]


# --- cards ------------------------------------------------------------------------------------


def text_block(value: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": value, "wrap": True, **style}


def card(
    body: list[dict[str, Any]],
    actions: list[dict[str, Any]] | None = None,
    mentions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    built: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if actions:
        built["actions"] = actions
    if mentions:
        built["msteams"]["entities"] = mentions
    return built


def button(verb: str, label: str, session_id: str) -> dict[str, Any]:
    return {
        "type": "Action.Submit",
        "title": label[:75],
        "data": {ACTION_KEY: verb, SESSION_KEY: session_id},
    }


def mention(user: str, names: Names) -> tuple[str, dict[str, Any] | None]:
    """A mention of ``user`` and its entity; their id as plain text when the name is unknown."""
    name = names(user)
    if not name or not user.startswith("29:"):
        return escape_markdown(name or user), None
    shown = f"<at>{escape_markdown(name).replace('<', '')}</at>"
    return shown, {"type": "mention", "text": shown, "mentioned": {"id": user, "name": name}}


def summary(value: str) -> str:
    first = next((line for line in value.splitlines() if line.strip()), "")
    first = first.replace("*", "").replace("\\", "")
    return first if len(first) <= MAX_SUMMARY_CHARS else first[: MAX_SUMMARY_CHARS - 1] + "…"


def render_anchor(view: AnchorView, names: Names = _unknown) -> TeamsMessage:
    """The session's anchor: method, people, progress, deadline; Resume while paused."""
    lang = view.language
    owner, owner_entity = mention(view.case_owner, names)
    facilitator, facilitator_entity = mention(view.facilitator, names)
    title = escape_markdown(t("anchor.title", lang, method=view.method_name))
    status = t(f"status.{view.status}", lang)
    progress = t("anchor.progress", lang, number=view.step_number, count=view.step_count)
    body = [
        text_block(title, size="Large", weight="Bolder"),
        text_block(fill("anchor.people", lang, owner=owner, facilitator=facilitator)),
        text_block(
            f"{progress_bar(view.step_number, view.step_count)} {escape_markdown(progress)}: "
            f"{escape_markdown(view.step_title)} ({escape_markdown(status)})"
        ),
    ]
    if view.deadline and view.status == "running":
        body.append(
            text_block(
                fill("anchor.deadline", lang, deadline=teams_date(view.deadline)), isSubtle=True
            )
        )
    actions = []
    if view.status == "paused":
        actions.append(button("resume", t("slack.button.resume", lang), view.session_id))
    entities = [e for e in (owner_entity, facilitator_entity) if e is not None]
    unique = list({e["mentioned"]["id"]: e for e in entities}.values())
    return TeamsMessage(summary(title), card(body, actions, unique), unique)


def render_step(post: StepPost) -> list[TeamsMessage]:
    """A step in the thread: instruction, who speaks and listens, input, media, buttons."""
    lang = post.language
    progress = t("anchor.progress", lang, number=post.number, count=post.count)
    heading = f"{escape_markdown(progress)}: {escape_markdown(post.title)}"
    blocks = [text_block(heading, size="Medium", weight="Bolder")]
    lines = [escape(post.instruction)]
    lines += [escape(line) for line in (post.speakers, post.listeners) if line]
    hint = post.input_hint
    if post.reactions:
        # The hint's first line names Slack's emoji; the choice below takes its place.
        hint = "\n".join(hint.split("\n")[1:])
    if hint:
        lines.append(emoji(escape(hint)))
    if post.media:
        lines.append("\n".join(f"- {link(item)}" for item in post.media))
    texts = [piece for line in lines for piece in split_text(line)]
    if post.deadline:
        texts.append(fill("anchor.deadline", lang, deadline=teams_date(post.deadline)))
    buttons = [
        button("ready", t("slack.button.ready", lang), post.session_id),
        button("next", t("slack.button.next", lang), post.session_id),
        button("pause", t("slack.button.pause", lang), post.session_id),
    ]
    tail: list[dict[str, Any]] = []
    if post.reactions:
        tail, send = reaction_choice(post)
        buttons.insert(0, send)
    return _pack(blocks, texts, summary(heading), buttons, tail)


def reaction_choice(post: StepPost) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The Teams form of a step's reaction meanings: a multiple choice and its Send button.

    Teams has no free emoji (and reports only its six reactions), so each meaning is a
    choice; sending it states the person's whole choice, which replaces the one before.
    """
    lang = post.language
    choices = post.reactions[:MAX_CHOICES]
    choice_set = {
        "type": "Input.ChoiceSet",
        "id": CHOICE_KEY,
        "isMultiSelect": True,
        "style": "expanded",
        "label": t("teams.reactions.choose", lang),
        "choices": [{"title": c.label, "value": c.key} for c in choices],
    }
    send = button(REACT_VERB, t("teams.reactions.send", lang), post.session_id)
    send["data"][OFFERED_KEY] = ",".join(c.key for c in choices)
    return [choice_set], send


def render_text(value: str, names: Names = _unknown) -> list[TeamsMessage]:
    """Bot text (notes, the record, notices, direct messages) in as many cards as it needs."""
    markup = emoji(escape(markdown(with_names(value, names))))
    return _pack([], split_text(markup), summary(markup), [])


def _pack(
    head: list[dict[str, Any]],
    texts: list[str],
    short: str,
    actions: list[dict[str, Any]],
    tail: list[dict[str, Any]] | None = None,
) -> list[TeamsMessage]:
    """Text blocks in cards of at most ``MAX_CARD_TEXT`` characters; the head goes on the
    first card, the tail (inputs) and the buttons on the last."""
    cards: list[list[dict[str, Any]]] = [list(head)]
    size = 0
    for piece in texts:
        if cards[-1] and size + len(piece) > MAX_CARD_TEXT:
            cards.append([])
            size = 0
        cards[-1].append(text_block(piece))
        size += len(piece)
    cards[-1].extend(tail or [])
    last = len(cards) - 1
    return [
        TeamsMessage(short, card(body, actions if index == last else None))
        for index, body in enumerate(cards)
        if body
    ]


LANGUAGE_NAMES = {"nl": "Nederlands", "de": "Deutsch", "en": "English"}


def render_start_form(form: StartForm, people: list[tuple[str, str]]) -> TeamsMessage:
    """The start form as a card (Slack's modal): method, case owner, facilitator,
    participants, mode, hours, language, named record. ``people`` are the channel's
    members (id, name) to choose from; the one who asked facilitates unless changed."""
    lang = form.language
    who = [{"title": name[:100] or user, "value": user} for user, name in people[:MAX_PEOPLE]]
    methods = [{"title": m.label, "value": m.key} for m in form.methods]
    chosen = form.method_id or (form.methods[0].key if form.methods else "")

    def choose(name: FormField, key: str, choices: list[dict[str, str]], **extra: Any) -> Any:
        return {
            "type": "Input.ChoiceSet",
            "id": name.value,
            "label": t(key, lang),
            "choices": choices,
            **extra,
        }

    modes = [{"title": t(f"slack.modal.mode.{m}", lang), "value": m} for m in ("sync", "async")]
    languages = [{"title": LANGUAGE_NAMES[code], "value": code} for code in LANGUAGES]
    body = [
        text_block(escape_markdown(t("slack.modal.title", lang)), size="Large", weight="Bolder"),
        choose(FormField.METHOD, "slack.modal.method", methods, value=chosen, isRequired=True),
        choose(FormField.CASE_OWNER, "slack.modal.case_owner", who, style="filtered"),
        choose(
            FormField.FACILITATOR, "slack.modal.facilitator", who, style="filtered", value=form.user
        ),
        choose(
            FormField.PARTICIPANTS,
            "slack.modal.participants",
            who,
            style="filtered",
            isMultiSelect=True,
        ),
        text_block(escape_markdown(t("slack.modal.participants_hint", lang)), isSubtle=True),
        choose(FormField.MODE, "slack.modal.mode", modes, style="expanded", value="sync"),
        {
            "type": "Input.Number",
            "id": FormField.DEADLINE_HOURS.value,
            "label": t("slack.modal.deadline_hours", lang),
            "min": 1,
            "max": MAX_DEADLINE_HOURS,
        },
        choose(FormField.LANGUAGE, "slack.modal.language", languages, value=lang),
        {
            "type": "Input.Toggle",
            "id": FormField.NAMED_RECORD.value,
            "label": t("slack.modal.record", lang),
            "title": t("slack.modal.named_record", lang),
            "value": NAMED_RECORD_OPTION,
            "valueOn": NAMED_RECORD_OPTION,
            "valueOff": "",
        },
    ]
    submit = {
        "type": "Action.Execute",
        "title": t("slack.modal.submit", lang)[:75],
        "verb": START_VERB,
        "data": {ACTION_KEY: START_VERB},
    }
    title = t("slack.modal.title", lang)
    return TeamsMessage(summary(title), card(body, [submit]))


def plain(message: TeamsMessage) -> str:
    """All the text of a rendered card (tests)."""
    parts = [str(b.get("text", "")) for b in message.card.get("body", [])]
    parts += [str(a.get("title", "")) for a in message.card.get("actions", [])]
    return "\n".join(parts)
