"""Outbound neutral messages: what the bot wants to say, before any platform renders it.

Texts are already in the reader's language; adapters render the structure (Block Kit,
an Adaptive Card, plain console text). Messages go through the durable outbox, so each
one converts to and from a plain JSON-able dict.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from bot.flows.cop_calendar import CalendarChange


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Choice:
    """One choice a message offers: the key the bot reads back and its label in the reader's
    language (a reaction's meaning, a method's name)."""

    key: str
    label: str


@dataclass(frozen=True)
class AnchorView:
    """The one message per session, posted in the channel and updated in place."""

    session_id: str
    language: str
    method_name: str
    case_owner: str
    facilitator: str
    step_number: int
    step_count: int
    step_title: str
    status: str
    deadline: datetime | None = None
    update: bool = False  # False: post it; True: edit the anchor already posted
    kind: ClassVar[str] = "anchor"


@dataclass(frozen=True)
class StepPost:
    """A step of the method, posted as a reply in the session's thread."""

    session_id: str
    language: str
    step_id: str
    number: int
    count: int
    title: str
    instruction: str
    speakers: str
    listeners: str
    input_hint: str
    media: tuple[Link, ...] = ()
    deadline: datetime | None = None
    # The meanings a reactions step asks for; the key is the method's reaction (what the
    # flow counts). Platforms without free emoji offer them as a choice.
    reactions: tuple[Choice, ...] = ()
    kind: ClassVar[str] = "step"


@dataclass(frozen=True)
class ThreadNote:
    """Plain text from the bot in the session's thread (paused, resumed, closed, the record)."""

    session_id: str
    text: str
    kind: ClassVar[str] = "thread_note"


@dataclass(frozen=True)
class PrivateNotice:
    """Text only ``user`` sees, in the channel where they acted (Slack: ephemeral)."""

    user: str
    text: str
    thread: str | None = None
    kind: ClassVar[str] = "notice"


@dataclass(frozen=True)
class StartForm(PrivateNotice):
    """The start form for ``user``, who asked to start a session without saying for whom.

    A platform that shows forms in messages (Teams: a card in the channel) shows the form,
    with ``methods`` to choose from; every other platform shows ``text`` (how to start)
    like any private notice.
    """

    language: str = "en"
    methods: tuple[Choice, ...] = ()
    method_id: str | None = None  # chosen already (``start ims``)
    kind: ClassVar[str] = "start_form"


@dataclass(frozen=True)
class DirectMessage:
    """A direct message to ``user`` (reminders; never a public mention)."""

    user: str
    text: str
    kind: ClassVar[str] = "direct"


# A change to a CoP's calendar event (the ``graph`` platform): queued and retried like a post.
# (A ``StartForm`` is a ``PrivateNotice``.)
Outbound = AnchorView | StepPost | ThreadNote | PrivateNotice | DirectMessage | CalendarChange

_KINDS: dict[str, type[Any]] = {
    cls.kind: cls
    for cls in (
        AnchorView,
        StepPost,
        ThreadNote,
        PrivateNotice,
        StartForm,
        DirectMessage,
        CalendarChange,
    )
}


def to_payload(message: Outbound) -> dict[str, Any]:
    """A JSON-able dict of the message, with its kind."""
    if isinstance(message, CalendarChange):
        return {"kind": message.kind, **message.to_dict()}
    data = dataclasses.asdict(message)
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = value.isoformat()
    return {"kind": message.kind, **data}


def from_payload(payload: dict[str, Any]) -> Outbound:
    """The message a ``to_payload`` dict describes."""
    data = dict(payload)
    cls = _KINDS[data.pop("kind")]
    if cls is CalendarChange:
        return CalendarChange.from_dict(data)
    fields = {f.name: f.type for f in dataclasses.fields(cls)}
    if "media" in data:
        data["media"] = tuple(Link(**link) for link in data["media"])
    for name in ("reactions", "methods"):
        if name in data:
            data[name] = tuple(Choice(**choice) for choice in data[name])
    if data.get("deadline") and "deadline" in fields:
        data["deadline"] = datetime.fromisoformat(data["deadline"])
    message: Outbound = cls(**data)
    return message
