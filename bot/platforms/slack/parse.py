"""Slack adapter, inbound: pure functions from Slack payloads to neutral events.

Nothing here does I/O. Each payload kind has one function; ``parse_event`` looks the
Events API event up in a table keyed by ``(type, subtype)``. A payload the bot has no
business with (another bot, the bot itself, a message outside any thread) gives ``None``.

Event ids are stable across Slack's retries: the Events API envelope's ``event_id``, and
for interactions (which Slack does not retry) the one-time ``trigger_id``.

Every function is total: a field of the wrong type (an integer user, a list for a text, an
object where a string belongs), a missing id or an unreadable timestamp never raises
anything but ``ParseError``. The functions that may answer ``None`` do so; those that must
return an event (a command, a submitted modal) raise ``ParseError``, which the listener
logs by kind and drops. The guard in front of Bolt has already refused bodies that are
not Slack's envelope (``bot.platforms.slack.guard``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from bot.events import (
    ButtonPressed,
    Command,
    InboundEvent,
    MessageAdopted,
    ReactionChanged,
    Reply,
    ReplyDeleted,
    ReplyEdited,
    StartSubmitted,
    Where,
)
from bot.platforms.payload import id_of, obj, text_of
from bot.platforms.slack.ids import SCHEDULE_FIELD, Action, Field
from bot.start_form import start_request

PLATFORM = "slack"

Payload = Mapping[str, Any]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

# Message subtypes that are still a person writing in a thread.
_REPLY_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})
_TS = re.compile(r"[0-9]{1,12}(?:\.[0-9]{1,9})?")
MAX_EMOJI_LENGTH = 100  # and of the emoji column

_EPOCH = datetime.fromtimestamp(0, UTC)


class ParseError(ValueError):
    """A payload the bot cannot read as the event it must be (a command, a submitted modal)."""


def _ts(value: Any) -> str:
    """A Slack message timestamp (``"1700000000.000100"``), else ``""``."""
    return value if isinstance(value, str) and _TS.fullmatch(value) else ""


def normalise_mentions(text: str) -> str:
    """``<@U123|anna>`` and ``<@U123>`` become ``U123`` (what the core stores as a person)."""
    return _MENTION.sub(r"\1", text)


def at(ts: Any) -> datetime:
    """A Slack ``ts`` (seconds since the epoch, as text) as an aware UTC datetime; anything
    that is not one reads as the epoch."""
    if isinstance(ts, bool) or not isinstance(ts, str | int | float):
        return _EPOCH
    try:
        seconds = float(ts)
        return datetime.fromtimestamp(seconds, UTC) if math.isfinite(seconds) else _EPOCH
    except (ValueError, OverflowError, OSError):
        return _EPOCH


def workspace_of(body: Payload) -> str:
    """The team the payload came from (events: ``team_id``; interactions: ``team.id``)."""
    return (
        id_of(obj(body.get("team")).get("id"))
        or id_of(body.get("team_id"))
        or id_of(obj(body.get("view")).get("team_id"))
    )


def user_of(body: Payload) -> str:
    """The person who acted in an interaction (``user.id``), or ``""``."""
    return id_of(obj(body.get("user")).get("id"))


# --- slash command -------------------------------------------------------------------------


def command_words(text: str) -> list[str]:
    """The words after the command, mentions normalised."""
    return normalise_mentions(text).split()


def parse_command(body: Payload, *, now: datetime, language: str | None = None) -> Command:
    """``/intervision ...`` as a neutral ``Command``; ``language`` is the user's, if known.

    Slash commands carry no time of their own, so the caller passes ``now``.

    Raises:
        ParseError: without a trigger id, a user or a channel.
    """
    trigger, user, channel = (id_of(body.get(k)) for k in ("trigger_id", "user_id", "channel_id"))
    if not (trigger and user and channel):
        raise ParseError("a command without its ids")
    return Command(
        event_id=f"command:{trigger}",
        where=Where(PLATFORM, workspace_of(body), channel),
        user=user,
        text=normalise_mentions(text_of(body.get("text"))).strip(),
        at=now,
        language=language,
    )


def wants_schedule_modal(text: str) -> bool:
    """``cop schedule`` with nothing after it opens the schedule modal."""
    return [word.lower() for word in command_words(text)] == ["cop", "schedule"]


def parse_schedule_submission(
    body: Payload, *, now: datetime, language: str | None = None
) -> Command:
    """The submitted CoP schedule modal as the ``cop schedule <text>`` command it stands for.

    Raises:
        ParseError: without a view, a user or the channel it was opened in.
    """
    view = obj(body.get("view"))
    channel, _ = _opened_in(view)
    state = obj(obj(view.get("state")).get("values"))
    typed = text_of(obj(obj(state.get(SCHEDULE_FIELD)).get(SCHEDULE_FIELD)).get("value"))
    return Command(
        event_id=_view_event_id(body, view),
        where=Where(PLATFORM, workspace_of(body), channel),
        user=_submitter(body),
        text=f"cop schedule {' '.join(typed.split())}".strip(),
        at=now,
        language=language,
    )


def _opened_in(view: Payload) -> tuple[str, str | None]:
    """The channel and thread a modal was opened in (its ``private_metadata``)."""
    try:
        meta = json.loads(text_of(view.get("private_metadata")) or "{}")
    except (ValueError, RecursionError):
        raise ParseError("unreadable modal metadata") from None
    channel, thread = id_of(obj(meta).get("channel")), id_of(obj(meta).get("thread"))
    if not channel:
        raise ParseError("a modal without its channel")
    return channel, thread or None


def _view_event_id(body: Payload, view: Payload) -> str:
    trigger = id_of(body.get("trigger_id")) or id_of(view.get("id"))
    if not trigger:
        raise ParseError("a submitted modal without its ids")
    return f"view:{trigger}:{id_of(view.get('hash'))}"


def _submitter(body: Payload) -> str:
    user = user_of(body)
    if not user:
        raise ParseError("a submitted modal without its user")
    return user


def wants_start_modal(text: str) -> bool:
    """``start`` without a method or without ``owner=`` opens the start modal instead."""
    words = command_words(text)
    if not words or words[0].lower() != "start":
        return False
    rest = words[1:]
    has_method = bool(rest) and "=" not in rest[0]
    has_owner = any(word.lower().startswith("owner=") for word in rest)
    return not (has_method and has_owner)


def preselected_method(text: str) -> str | None:
    """The method named in ``/intervision start <method>``, if any."""
    words = command_words(text)
    if len(words) >= 2 and words[0].lower() == "start" and "=" not in words[1]:
        return words[1].lower()
    return None


# --- Events API ------------------------------------------------------------------------------


def parse_event(body: Payload, bot_user_id: str | None = None) -> InboundEvent | None:
    """An Events API envelope as a neutral event, or ``None`` when it is not the bot's business
    (or not readable as one)."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return None
    kind, subtype = event.get("type"), event.get("subtype")
    if not isinstance(kind, str) or not isinstance(subtype, str | None):
        return None
    parser = _EVENT_PARSERS.get((kind, subtype))
    envelope_id = id_of(body.get("event_id"))
    if parser is None or not envelope_id:
        return None
    return parser(envelope_id, workspace_of(body), event, bot_user_id)


def _is_from_bot(message: Payload, bot_user_id: str | None) -> bool:
    return bool(
        message.get("bot_id")
        or message.get("bot_profile")
        or (bot_user_id and message.get("user") == bot_user_id)
    )


def _in_thread(message: Payload) -> str | None:
    """The thread a message is a reply in (``None`` for a channel message or a thread parent,
    or when the message's ids are not readable)."""
    thread, ts = _ts(message.get("thread_ts")), _ts(message.get("ts"))
    return thread if thread and ts and thread != ts else None


def _message(event_id: str, workspace: str, event: Payload, bot: str | None) -> Reply | None:
    if event.get("subtype") not in _REPLY_SUBTYPES or event.get("hidden"):
        return None
    thread = _in_thread(event)
    channel = id_of(event.get("channel"))
    if thread is None or not channel or not id_of(event.get("user")) or _is_from_bot(event, bot):
        return None
    return Reply(
        event_id=event_id,
        where=Where(PLATFORM, workspace, channel, thread),
        user=id_of(event["user"]),
        ref=_ts(event["ts"]),
        text=text_of(event.get("text")),
        at=at(event["ts"]),
    )


def _message_changed(
    event_id: str, workspace: str, event: Payload, bot: str | None
) -> ReplyEdited | None:
    message = event.get("message")
    if not isinstance(message, Mapping):
        return None
    thread = _in_thread(message)
    channel = id_of(event.get("channel"))
    if (
        thread is None
        or not channel
        or not id_of(message.get("user"))
        or _is_from_bot(message, bot)
    ):
        return None
    previous = event.get("previous_message")
    if isinstance(previous, Mapping) and previous.get("text") == message.get("text"):
        return None  # an unfurl or a reply count changed, not the words
    edited_ts = _ts(obj(message.get("edited")).get("ts"))
    return ReplyEdited(
        event_id=event_id,
        where=Where(PLATFORM, workspace, channel, thread),
        user=id_of(message["user"]),
        ref=_ts(message["ts"]),
        text=text_of(message.get("text")),
        at=at(edited_ts or _ts(event.get("event_ts")) or _ts(event.get("ts"))),
    )


def _message_deleted(
    event_id: str, workspace: str, event: Payload, bot: str | None
) -> ReplyDeleted | None:
    previous = event.get("previous_message")
    if not isinstance(previous, Mapping):
        return None
    thread = _in_thread(previous)
    channel = id_of(event.get("channel"))
    if (
        thread is None
        or not channel
        or not id_of(previous.get("user"))
        or _is_from_bot(previous, bot)
    ):
        return None
    return ReplyDeleted(
        event_id=event_id,
        where=Where(PLATFORM, workspace, channel, thread),
        user=id_of(previous["user"]),
        ref=_ts(event.get("deleted_ts")) or _ts(previous["ts"]),
        at=at(_ts(event.get("event_ts")) or _ts(event.get("ts"))),
    )


def _reaction(
    event_id: str, workspace: str, event: Payload, bot: str | None
) -> ReactionChanged | None:
    item = obj(event.get("item"))
    user, channel, target = (
        id_of(event.get("user")),
        id_of(item.get("channel")),
        _ts(item.get("ts")),
    )
    emoji = text_of(event.get("reaction")).split("::")[0]  # drop a skin tone
    if item.get("type") != "message" or not (user and channel and target and emoji):
        return None
    if len(emoji) > MAX_EMOJI_LENGTH or "\x00" in emoji or (bot and user == bot):
        return None
    return ReactionChanged(
        event_id=event_id,
        where=Where(PLATFORM, workspace, channel),
        user=user,
        target=target,
        emoji=emoji,
        added=event.get("type") == "reaction_added",
        at=at(_ts(event.get("event_ts"))),
    )


_EventParser = Callable[[str, str, Payload, "str | None"], InboundEvent | None]

_EVENT_PARSERS: dict[tuple[Any, Any], _EventParser] = {
    ("message", None): _message,
    ("message", "thread_broadcast"): _message,
    ("message", "file_share"): _message,
    ("message", "message_changed"): _message_changed,
    ("message", "message_deleted"): _message_deleted,
    ("reaction_added", None): _reaction,
    ("reaction_removed", None): _reaction,
}


# --- interactions ----------------------------------------------------------------------------


def parse_action(body: Payload) -> ButtonPressed | None:
    """A button on a step post or the anchor (``block_actions``)."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions:
        return None
    action = obj(actions[0])
    verb = _VERBS.get(text_of(action.get("action_id")))
    container, message = obj(body.get("container")), obj(body.get("message"))
    channel = id_of(obj(body.get("channel")).get("id")) or id_of(container.get("channel_id"))
    thread = (
        _ts(container.get("thread_ts"))
        or _ts(message.get("thread_ts"))
        or _ts(container.get("message_ts"))
    )
    event_id = id_of(body.get("trigger_id")) or _ts(action.get("action_ts"))
    user, session_id = user_of(body), id_of(action.get("value"))
    if verb is None or not (channel and event_id and user and session_id):
        return None
    return ButtonPressed(
        event_id=f"action:{event_id}",
        where=Where(PLATFORM, workspace_of(body), channel, thread or None),
        user=user,
        session_id=session_id,
        action=verb,
        at=at(_ts(action.get("action_ts"))),
    )


def parse_shortcut(body: Payload) -> MessageAdopted | None:
    """The "add to the current step" message shortcut on a channel message."""
    message = obj(body.get("message"))
    trigger, user = id_of(body.get("trigger_id")), user_of(body)
    channel, author, ref = (
        id_of(obj(body.get("channel")).get("id")),
        id_of(message.get("user")),
        _ts(message.get("ts")),
    )
    if _is_from_bot(message, None) or not (trigger and user and channel and author and ref):
        return None
    return MessageAdopted(
        event_id=f"shortcut:{trigger}",
        where=Where(PLATFORM, workspace_of(body), channel),
        user=user,
        author=author,
        ref=ref,
        text=text_of(message.get("text")),
        at=at(_ts(body.get("action_ts")) or ref),
    )


def modal_metadata(channel: str, thread: str | None = None) -> str:
    """What the start modal remembers about where it was opened (``private_metadata``)."""
    return json.dumps({"channel": channel, "thread": thread})


def parse_start_submission(
    body: Payload, *, now: datetime, language: str | None = None
) -> StartSubmitted:
    """The submitted start modal (``view_submission``) as ``StartSubmitted``.

    Raises:
        ParseError: without a view, a user or the channel it was opened in.
    """
    view = obj(body.get("view"))
    channel, thread = _opened_in(view)
    user = _submitter(body)
    return StartSubmitted(
        event_id=_view_event_id(body, view),
        where=Where(PLATFORM, workspace_of(body), channel, thread),
        user=user,
        request=start_request(start_form_values(view), invoker=user),
        at=now,
        language=language,
    )


def start_form_values(view: Payload) -> dict[str, Any]:
    """The modal's inputs by field, each as its plain value: a string (``""`` when not
    filled in or not readable) or, for the multiple choices, a list of strings."""
    state = obj(obj(view.get("state")).get("values"))
    out: dict[str, Any] = {}
    for field in Field:
        element = obj(obj(state.get(field.value)).get(field.value))
        kind = element.get("type")
        if kind == "users_select":
            out[field] = id_of(element.get("selected_user"))
        elif kind == "multi_users_select":
            out[field] = _strings(element.get("selected_users"), id_of)
        elif kind in ("static_select", "radio_buttons"):
            out[field] = text_of(obj(element.get("selected_option")).get("value"))
        elif kind == "checkboxes":
            options = element.get("selected_options")
            values = [obj(o).get("value") for o in options] if isinstance(options, list) else []
            out[field] = _strings(values, text_of)
        else:
            out[field] = text_of(element.get("value"))
    return out


def _strings(values: Any, read: Callable[[Any], str]) -> list[str]:
    """The readable, non-empty strings of a list (nothing when ``values`` is not a list)."""
    if not isinstance(values, list):
        return []
    return [text for text in (read(v) for v in values) if text]


_VERBS = {action.value: action.verb for action in Action}
