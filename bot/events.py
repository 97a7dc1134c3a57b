"""Inbound neutral events: what happened on a platform, stripped of the platform's shape.

Every event carries ``event_id``, the platform's own id for the delivery, so a use case
handles it exactly once even when the platform sends it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
