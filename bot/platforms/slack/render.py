"""Slack adapter, outbound: pure functions from neutral messages to Block Kit.

Every piece of text that reaches Slack goes through ``escape`` (``&``, ``<``, ``>``), so a
contribution or a display name containing ``<!channel>``, ``<!here>`` or ``<@U123>`` is
shown as typed and pings nobody. Only what this module builds itself becomes markup:
mentions of the case owner and facilitator on the anchor, dates, links and buttons.

Block Kit limits are guarded here, never left to Slack: a section holds at most 3000
characters and a message at most 50 blocks; longer text is split over several sections
and, if need be, several messages. Nothing is truncated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.i18n import t
from bot.messages import AnchorView, DirectMessage, Link, PrivateNotice, StepPost, ThreadNote
from bot.platforms.markup import fill_escaped
from bot.platforms.slack.ids import Action

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 2000
MAX_MESSAGE_CHARS = 12_000  # total block text per message; Slack refuses much larger ones
MAX_FALLBACK_CHARS = 300  # the notification text; the blocks carry the whole message

_ENTITY_AMP = re.compile(r"&(?!(?:amp|lt|gt);)")
_USER_ID = re.compile(r"\b[UW](?=[A-Z0-9]*\d)[A-Z0-9]{6,}\b")
_MD_HEADING = re.compile(r"^#{1,6}\s+(.*)$", re.MULTILINE)
_MD_BOLD = re.compile(r"\*\*(.+?)\*\*")
_MD_ESCAPE = re.compile(r"\\([\\`*_\[\]#|~])")
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")

Names = Callable[[str], str]


def _same(user: str) -> str:
    return user


@dataclass(frozen=True)
class SlackMessage:
    """One Slack message: the notification ``text`` and the Block Kit ``blocks`` (as dicts)."""

    text: str
    blocks: list[dict[str, Any]]


def text(key: str, language: str | None, **params: Any) -> str:
    """The catalogue text (kept as a name the listeners already use)."""
    return t(key, language, **params)


# --- escaping and small pieces -------------------------------------------------------------------


def escape(value: str) -> str:
    """Make text inert in mrkdwn: ``&``, ``<`` and ``>`` become entities (idempotent)."""
    return _ENTITY_AMP.sub("&amp;", value).replace("<", "&lt;").replace(">", "&gt;")


def is_user_id(value: str) -> bool:
    return bool(re.fullmatch(r"[UW][A-Z0-9]{2,}", value))


def mention(user: str) -> str:
    """A Slack mention for a user id; anything else is shown as escaped text."""
    return f"<@{user}>" if is_user_id(user) else escape(user)


def slack_date(moment: datetime) -> str:
    """A date every reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def progress_bar(number: int, count: int) -> str:
    return "■" * number + "□" * max(count - number, 0)


def link(item: Link) -> str:
    title = escape(item.title)
    if _SAFE_URL.match(item.url):
        return f"<{item.url}|{title}>"
    return f"{title}: {escape(item.url)}"


def fill(key: str, language: str, **markup: str) -> str:
    """A catalogue text, escaped, with ``markup`` (already safe Slack markup) put in its place."""
    return fill_escaped(lambda **tokens: text(key, language, **tokens), escape, markup)


def with_names(value: str, names: Names) -> str:
    """Bare user ids in bot text (``U0123ABC``) replaced by display names, before escaping."""
    if names is _same:
        return value
    return _USER_ID.sub(lambda match: names(match.group(0)), value)


def markdown_to_mrkdwn(value: str) -> str:
    """The bot's Markdown (the record) as Slack mrkdwn: headings and ``**`` become ``*``."""
    value = _MD_HEADING.sub(r"**\1**", value)
    value = _MD_BOLD.sub(r"*\1*", value)
    return _MD_ESCAPE.sub(r"\1", value)


# --- splitting -----------------------------------------------------------------------------------


def split_text(value: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at line ends, else spaces, never inside
    an entity or a ``<...>`` markup; nothing is dropped but the whitespace at a cut."""
    pieces: list[str] = []
    current = ""
    for line in value.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = ""
        while len(line) > limit:
            cut = _cut_point(line, limit)
            pieces.append(line[:cut].rstrip())
            line = line[cut:].lstrip()
        current = line
    if current or not pieces:
        pieces.append(current)
    return [piece for piece in pieces if piece.strip()] or [value[:0]]


def _cut_point(line: str, limit: int) -> int:
    cut = line.rfind(" ", limit // 2, limit)
    if cut <= 0:
        cut = limit
    amp = line.rfind("&", max(cut - 5, 0), cut)
    if amp != -1 and ";" not in line[amp:cut]:
        cut = amp
    lt = line.rfind("<", max(cut - 300, 0), cut)
    if lt != -1 and ">" not in line[lt:cut] and lt > 0:
        cut = lt
    return cut


def sections(markup: str) -> list[Block]:
    """Section blocks for safe mrkdwn of any length."""
    return [SectionBlock(text=MarkdownTextObject(text=piece)) for piece in split_text(markup)]


def pack(blocks: Sequence[Block], fallback: str, tail: Sequence[Block] = ()) -> list[SlackMessage]:
    """Blocks in as many messages as the limits need; ``tail`` (buttons) goes on the last one."""
    messages: list[list[dict[str, Any]]] = [[]]
    size = 0
    for block in blocks:
        as_dict = block.to_dict()  # validates the block's own limits
        length = _text_length(as_dict)
        full = len(messages[-1]) >= MAX_BLOCKS - len(tail) or size + length > MAX_MESSAGE_CHARS
        if messages[-1] and full:
            messages.append([])
            size = 0
        messages[-1].append(as_dict)
        size += length
    messages[-1].extend(block.to_dict() for block in tail)
    short = _fallback(fallback)
    return [SlackMessage(short, blocks) for blocks in messages if blocks]


def _text_length(block: dict[str, Any]) -> int:
    total = 0
    if isinstance(block.get("text"), dict):
        total += len(block["text"].get("text", ""))
    for element in block.get("elements", []) or []:
        if isinstance(element, dict) and "text" in element and isinstance(element["text"], str):
            total += len(element["text"])
    return total


def _fallback(markup: str) -> str:
    first = next((line for line in markup.splitlines() if line.strip()), "")
    if len(first) > MAX_FALLBACK_CHARS:
        cut = _cut_point(first, MAX_FALLBACK_CHARS - 1)
        first = first[:cut].rstrip() + "…"
    return first.replace("*", "")


# --- messages ----------------------------------------------------------------------------


def button(
    action: Action, label: str, session_id: str, *, style: str | None = None
) -> ButtonElement:
    return ButtonElement(text=label[:75], action_id=action.value, value=session_id, style=style)


def render_anchor(view: AnchorView) -> SlackMessage:
    """The session's anchor: method, people, progress bar, deadline; Resume while paused."""
    lang = view.language
    status = escape(t(f"status.{view.status}", lang))
    progress = escape(t("anchor.progress", lang, number=view.step_number, count=view.step_count))
    title = f"*{escape(t('anchor.title', lang, method=view.method_name))}*"
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=title)),
        SectionBlock(
            text=MarkdownTextObject(
                text=fill(
                    "anchor.people",
                    lang,
                    owner=mention(view.case_owner),
                    facilitator=mention(view.facilitator),
                )
            )
        ),
        *sections(
            f"{progress_bar(view.step_number, view.step_count)} {progress}: "
            f"{escape(view.step_title)} ({status})"
        ),
    ]
    if view.deadline and view.status == "running":
        deadline = fill("anchor.deadline", lang, deadline=slack_date(view.deadline))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=deadline)]))
    tail: list[Block] = []
    if view.status == "paused":
        label = text("slack.button.resume", lang)
        tail.append(ActionsBlock(elements=[button(Action.RESUME, label, view.session_id)]))
    messages = pack(blocks, title, tail)
    if len(messages) != 1:  # pragma: no cover - an anchor is a handful of short blocks
        raise ValueError("an anchor must fit in one message")
    return messages[0]


def render_step(post: StepPost) -> list[SlackMessage]:
    """A step in the thread: instruction, who speaks and listens, input, media, buttons."""
    lang = post.language
    progress = t("anchor.progress", lang, number=post.number, count=post.count)
    heading = f"*{escape(progress)}: {escape(post.title)}*"
    blocks: list[Block] = [*sections(heading), *sections(escape(post.instruction))]
    people = [escape(line) for line in (post.speakers, post.listeners) if line]
    blocks.extend(ContextBlock(elements=[MarkdownTextObject(text=piece)]) for piece in people)
    if post.input_hint:
        blocks.extend(sections(escape(post.input_hint)))
    if post.media:
        blocks.extend(sections("\n".join(f"• {link(item)}" for item in post.media)))
    if post.deadline:
        deadline = fill("anchor.deadline", lang, deadline=slack_date(post.deadline))
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=deadline)]))
    buttons = ActionsBlock(
        elements=[
            button(
                Action.READY, text("slack.button.ready", lang), post.session_id, style="primary"
            ),
            button(Action.NEXT, text("slack.button.next", lang), post.session_id),
            button(Action.PAUSE, text("slack.button.pause", lang), post.session_id),
        ]
    )
    return pack(blocks, heading, [buttons])


def render_text(value: str, names: Names = _same) -> list[SlackMessage]:
    """Bot text (notes, the record, notices, direct messages), Markdown turned into mrkdwn."""
    markup = escape(markdown_to_mrkdwn(with_names(value, names)))
    return pack(sections(markup), markup)


def render(
    message: ThreadNote | PrivateNotice | DirectMessage, names: Names = _same
) -> list[SlackMessage]:
    return render_text(message.text, names)


def plain(blocks: Iterable[dict[str, Any]]) -> str:
    """All the text in rendered blocks (for tests and logs of structure, never of user text)."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block.get("text"), dict):
            parts.append(block["text"].get("text", ""))
        for element in block.get("elements", []) or []:
            if isinstance(element, dict):
                inner = element.get("text")
                parts.append(inner.get("text", "") if isinstance(inner, dict) else str(inner or ""))
    return "\n".join(parts)
