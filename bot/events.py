"""Inbound neutral events: what happened on a platform, stripped of the platform's shape.

Every event carries ``event_id``, the platform's own id for the delivery, so a use case
handles it exactly once even when the platform sends it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any

from bot.flows.session import Mode


@dataclass(frozen=True)
class Where:
    """The channel (and thread, if any) an event happened in."""

    platform: str
    workspace: str
    channel: str
    thread: str | None = None


@dataclass(frozen=True)
class Command:
    """A slash command such as ``/intervision start ims``; ``text`` is what follows the command."""

    event_id: str
    where: Where
    user: str
    text: str
    at: datetime
    language: str | None = None


@dataclass(frozen=True)
class Reply:
    """A message posted in a thread; ``ref`` is the platform's id of that message."""

    event_id: str
    where: Where
    user: str
    ref: str
    text: str
    at: datetime


@dataclass(frozen=True)
class ReplyEdited:
    event_id: str
    where: Where
    user: str
    ref: str
    text: str
    at: datetime


@dataclass(frozen=True)
class ReplyDeleted:
    event_id: str
    where: Where
    user: str
    ref: str
    at: datetime


@dataclass(frozen=True)
class ReactionChanged:
    """An emoji reaction added to or removed from the message ``target``."""

    event_id: str
    where: Where
    user: str
    target: str
    emoji: str
    added: bool
    at: datetime


@dataclass(frozen=True)
class ButtonPressed:
    """A button on a step post: ``action`` is one of ``ready``, ``next``, ``pause``, ``resume``."""

    event_id: str
    where: Where
    user: str
    session_id: str
    action: str
    at: datetime


@dataclass(frozen=True)
class StartRequest:
    """Everything needed to start a session, from the command line or a platform's form."""

    method_id: str
    case_owner: str
    facilitator: str
    participants: tuple[str, ...] = ()
    mode: Mode = Mode.SYNC
    language: str | None = None
    named_record: bool = True
    deadline_hours: int | None = None


@dataclass(frozen=True)
class StartSubmitted:
    """A filled-in start form (Slack modal, Teams card) for the channel in ``where``."""

    event_id: str
    where: Where
    user: str
    request: StartRequest
    at: datetime
    language: str | None = None


@dataclass(frozen=True)
class MessageAdopted:
    """A message posted in the channel instead of the thread, added to the current step
    by ``user`` (Slack: a message shortcut). ``author`` wrote it; ``ref`` is its id."""

    event_id: str
    where: Where
    user: str
    author: str
    ref: str
    text: str
    at: datetime


InboundEvent = (
    StartSubmitted
    | Command
    | Reply
    | MessageAdopted
    | ReplyEdited
    | ReplyDeleted
    | ReactionChanged
    | ButtonPressed
)


_KINDS: dict[str, type] = {
    kind.__name__: kind
    for kind in (
        StartSubmitted,
        Command,
        Reply,
        MessageAdopted,
        ReplyEdited,
        ReplyDeleted,
        ReactionChanged,
        ButtonPressed,
    )
}


def to_payload(event: InboundEvent) -> dict[str, Any]:
    """The event as plain JSON values, tagged with its kind (for the inbox)."""
    values = {f.name: _plain(getattr(event, f.name)) for f in fields(event)}
    return {"kind": type(event).__name__, **values}


def from_payload(payload: Mapping[str, Any]) -> InboundEvent:
    """The event ``to_payload`` made.

    Raises:
        ValueError: not a payload of a known kind.
    """
    kind = _KINDS.get(str(payload.get("kind")))
    if kind is None:
        raise ValueError(f"unknown event kind {payload.get('kind')!r}")
    values = {name: value for name, value in payload.items() if name != "kind"}
    values["where"] = Where(**values["where"])
    values["at"] = datetime.fromisoformat(values["at"])
    if "request" in values:
        request = dict(values["request"])
        request["mode"] = Mode(request["mode"])
        request["participants"] = tuple(request["participants"])
        values["request"] = StartRequest(**request)
    event: InboundEvent = kind(**values)
    return event


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mode):
        return value.value
    if isinstance(value, tuple):
        return list(value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    return value
