"""Slack adapter, inbound: pure functions from Slack payloads to neutral events.

Nothing here does I/O. Each payload kind has one function; ``parse_event`` looks the
Events API event up in a table keyed by ``(type, subtype)``. A payload the bot has no
business with (another bot, the bot itself, a message outside any thread) gives ``None``.

Event ids are stable across Slack's retries: the Events API envelope's ``event_id``, and
for interactions (which Slack does not retry) the one-time ``trigger_id``.
"""

from __future__ import annotations

import json
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
    StartRequest,
    StartSubmitted,
    Where,
)
from bot.flows.session import Mode
from bot.platforms.slack.ids import NAMED_RECORD_OPTION, SCHEDULE_FIELD, Action, Field

PLATFORM = "slack"

Payload = Mapping[str, Any]

_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")

# Message subtypes that are still a person writing in a thread.
_REPLY_SUBTYPES = frozenset({None, "thread_broadcast", "file_share"})


def normalise_mentions(text: str) -> str:
    """``<@U123|anna>`` and ``<@U123>`` become ``U123`` (what the core stores as a person)."""
    return _MENTION.sub(r"\1", text)


def at(ts: str | float | None) -> datetime:
    """A Slack ``ts`` (seconds since the epoch, as text) as an aware UTC datetime."""
    if ts is None or ts == "":
        return datetime.fromtimestamp(0, UTC)
    return datetime.fromtimestamp(float(ts), UTC)


def workspace_of(body: Payload) -> str:
    """The team the payload came from (events: ``team_id``; interactions: ``team.id``)."""
    team = body.get("team")
    if isinstance(team, Mapping) and team.get("id"):
        return str(team["id"])
    if body.get("team_id"):
        return str(body["team_id"])
    view = body.get("view")
    if isinstance(view, Mapping) and view.get("team_id"):
        return str(view["team_id"])
    return ""


# --- slash command -------------------------------------------------------------------------


def command_words(text: str) -> list[str]:
    """The words after the command, mentions normalised."""
    return normalise_mentions(text).split()


def parse_command(body: Payload, *, now: datetime, language: str | None = None) -> Command:
    """``/intervision ...`` as a neutral ``Command``; ``language`` is the user's, if known.

    Slash commands carry no time of their own, so the caller passes ``now``.
    """
    return Command(
        event_id=f"command:{body.get('trigger_id') or body.get('command_ts', '')}",
        where=Where(PLATFORM, workspace_of(body), str(body.get("channel_id", ""))),
        user=str(body.get("user_id", "")),
        text=normalise_mentions(str(body.get("text", ""))).strip(),
        at=now,
        language=language,
    )


def wants_schedule_modal(text: str) -> bool:
    """``cop schedule`` with nothing after it opens the schedule modal."""
    return [word.lower() for word in command_words(text)] == ["cop", "schedule"]


def parse_schedule_submission(
    body: Payload, *, now: datetime, language: str | None = None
) -> Command:
    """The submitted CoP schedule modal as the ``cop schedule <text>`` command it stands for."""
    view = body.get("view") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    state = (view.get("state") or {}).get("values") or {}
    typed = str(((state.get(SCHEDULE_FIELD) or {}).get(SCHEDULE_FIELD) or {}).get("value") or "")
    return Command(
        event_id=f"view:{body.get('trigger_id') or view.get('id', '')}:{view.get('hash', '')}",
        where=Where(PLATFORM, workspace_of(body), str(meta.get("channel", ""))),
        user=str((body.get("user") or {}).get("id", "")),
        text=f"cop schedule {' '.join(typed.split())}".strip(),
        at=now,
        language=language,
    )


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
    """An Events API envelope as a neutral event, or ``None`` when it is not the bot's business."""
    event = body.get("event")
    if not isinstance(event, Mapping):
        return None
    parser = _EVENT_PARSERS.get((event.get("type"), event.get("subtype")))
    if parser is None:
        return None
    envelope_id = str(body.get("event_id") or "")
    if not envelope_id:
        return None
    return parser(envelope_id, workspace_of(body), event, bot_user_id)


def _is_from_bot(message: Payload, bot_user_id: str | None) -> bool:
    return bool(
        message.get("bot_id")
        or message.get("bot_profile")
        or (bot_user_id and message.get("user") == bot_user_id)
    )


def _in_thread(message: Payload) -> str | None:
    """The thread a message is a reply in (``None`` for a channel message or a thread parent)."""
    thread = message.get("thread_ts")
    if thread and thread != message.get("ts"):
        return str(thread)
    return None


def _message(event_id: str, workspace: str, event: Payload, bot: str | None) -> Reply | None:
    if event.get("subtype") not in _REPLY_SUBTYPES or event.get("hidden"):
        return None
    thread = _in_thread(event)
    if thread is None or _is_from_bot(event, bot) or not event.get("user"):
        return None
    return Reply(
        event_id=event_id,
        where=Where(PLATFORM, workspace, str(event.get("channel", "")), thread),
        user=str(event["user"]),
        ref=str(event["ts"]),
        text=str(event.get("text", "")),
        at=at(event.get("ts")),
    )


def _message_changed(
    event_id: str, workspace: str, event: Payload, bot: str | None
) -> ReplyEdited | None:
    message = event.get("message")
    if not isinstance(message, Mapping):
        return None
    thread = _in_thread(message)
    if thread is None or _is_from_bot(message, bot) or not message.get("user"):
        return None
    previous = event.get("previous_message")
    if isinstance(previous, Mapping) and previous.get("text") == message.get("text"):
        return None  # an unfurl or a reply count changed, not the words
    edited = message.get("edited")
    edited_ts = edited.get("ts") if isinstance(edited, Mapping) else None
    return ReplyEdited(
        event_id=event_id,
        where=Where(PLATFORM, workspace, str(event.get("channel", "")), thread),
        user=str(message["user"]),
        ref=str(message["ts"]),
        text=str(message.get("text", "")),
        at=at(edited_ts or event.get("event_ts") or event.get("ts")),
    )


def _message_deleted(
    event_id: str, workspace: str, event: Payload, bot: str | None
) -> ReplyDeleted | None:
    previous = event.get("previous_message")
    if not isinstance(previous, Mapping):
        return None
    thread = _in_thread(previous)
    if thread is None or _is_from_bot(previous, bot) or not previous.get("user"):
        return None
    return ReplyDeleted(
        event_id=event_id,
        where=Where(PLATFORM, workspace, str(event.get("channel", "")), thread),
        user=str(previous["user"]),
        ref=str(event.get("deleted_ts") or previous.get("ts")),
        at=at(event.get("event_ts") or event.get("ts")),
    )


def _reaction(
    event_id: str, workspace: str, event: Payload, bot: str | None
) -> ReactionChanged | None:
    item = event.get("item")
    if not isinstance(item, Mapping) or item.get("type") != "message":
        return None
    user = event.get("user")
    if not user or (bot and user == bot):
        return None
    return ReactionChanged(
        event_id=event_id,
        where=Where(PLATFORM, workspace, str(item.get("channel", ""))),
        user=str(user),
        target=str(item.get("ts", "")),
        emoji=str(event.get("reaction", "")).split("::")[0],  # drop a skin tone
        added=event.get("type") == "reaction_added",
        at=at(event.get("event_ts")),
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
    actions = body.get("actions") or []
    if not actions:
        return None
    action = actions[0]
    try:
        verb = Action(action.get("action_id")).verb
    except ValueError:
        return None
    container = body.get("container") or {}
    message = body.get("message") or {}
    channel = (body.get("channel") or {}).get("id") or container.get("channel_id", "")
    thread = container.get("thread_ts") or message.get("thread_ts") or container.get("message_ts")
    return ButtonPressed(
        event_id=f"action:{body.get('trigger_id') or action.get('action_ts', '')}",
        where=Where(PLATFORM, workspace_of(body), str(channel), str(thread) if thread else None),
        user=str((body.get("user") or {}).get("id", "")),
        session_id=str(action.get("value", "")),
        action=verb,
        at=at(action.get("action_ts")),
    )


def parse_shortcut(body: Payload) -> MessageAdopted | None:
    """The "add to the current step" message shortcut on a channel message."""
    message = body.get("message") or {}
    if _is_from_bot(message, None) or not message.get("user"):
        return None
    return MessageAdopted(
        event_id=f"shortcut:{body.get('trigger_id', '')}",
        where=Where(PLATFORM, workspace_of(body), str((body.get("channel") or {}).get("id", ""))),
        user=str((body.get("user") or {}).get("id", "")),
        author=str(message["user"]),
        ref=str(message.get("ts", "")),
        text=str(message.get("text", "")),
        at=at(body.get("action_ts") or message.get("ts")),
    )


def modal_metadata(channel: str, thread: str | None = None) -> str:
    """What the start modal remembers about where it was opened (``private_metadata``)."""
    return json.dumps({"channel": channel, "thread": thread})


def parse_start_submission(
    body: Payload, *, now: datetime, language: str | None = None
) -> StartSubmitted:
    """The submitted start modal (``view_submission``) as ``StartSubmitted``."""
    view = body.get("view") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    values = start_form_values(view)
    user = str((body.get("user") or {}).get("id", ""))
    return StartSubmitted(
        event_id=f"view:{body.get('trigger_id') or view.get('id', '')}:{view.get('hash', '')}",
        where=Where(PLATFORM, workspace_of(body), str(meta.get("channel", "")), meta.get("thread")),
        user=user,
        request=start_request(values, invoker=user),
        at=now,
        language=language,
    )


def start_form_values(view: Payload) -> dict[str, Any]:
    """The modal's inputs by field, each as its plain value (ids, strings, lists, bools)."""
    state = (view.get("state") or {}).get("values") or {}
    out: dict[str, Any] = {}
    for field in Field:
        element = (state.get(field.value) or {}).get(field.value) or {}
        kind = element.get("type")
        if kind == "users_select":
            out[field] = element.get("selected_user")
        elif kind == "multi_users_select":
            out[field] = list(element.get("selected_users") or [])
        elif kind in ("static_select", "radio_buttons"):
            out[field] = (element.get("selected_option") or {}).get("value")
        elif kind == "checkboxes":
            out[field] = [o.get("value") for o in element.get("selected_options") or []]
        else:
            out[field] = element.get("value")
    return out


def start_request(values: Mapping[str, Any], *, invoker: str) -> StartRequest:
    """The ``StartRequest`` a filled-in modal describes."""
    hours = values.get(Field.DEADLINE_HOURS)
    mode = values.get(Field.MODE) or Mode.SYNC.value
    return StartRequest(
        method_id=str(values.get(Field.METHOD) or ""),
        case_owner=str(values.get(Field.CASE_OWNER) or ""),
        facilitator=str(values.get(Field.FACILITATOR) or invoker),
        participants=tuple(values.get(Field.PARTICIPANTS) or ()),
        mode=Mode(mode),
        language=values.get(Field.LANGUAGE) or None,
        named_record=NAMED_RECORD_OPTION in (values.get(Field.NAMED_RECORD) or []),
        deadline_hours=int(hours) if hours and str(hours).isdigit() and mode == "async" else None,
    )


FormError = tuple[str, dict[str, Any]]


def start_form_errors(values: Mapping[str, Any]) -> dict[str, FormError]:
    """Inline errors for the modal: ``block_id`` -> (catalogue key, its parameters)."""
    errors: dict[str, FormError] = {}
    owner = values.get(Field.CASE_OWNER)
    facilitator = values.get(Field.FACILITATOR)
    if not owner:
        errors[Field.CASE_OWNER.value] = ("start.usage", {})
    elif facilitator and owner == facilitator:
        errors[Field.FACILITATOR.value] = ("rule.owner_is_facilitator", {})
    hours = values.get(Field.DEADLINE_HOURS)
    if hours and (not str(hours).isdigit() or not 1 <= int(hours) <= 336):
        params = {"option": "hours", "value": hours, "allowed": "1-336"}
        errors[Field.DEADLINE_HOURS.value] = ("start.bad_value", params)
    return errors
