"""Use cases: take a neutral event, load state, call the flow, save, return outbound messages.

``HANDLERS`` maps each inbound event type to its use case; platforms call
``dispatch(services, event)`` and never a handler directly.
"""

from __future__ import annotations

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
)
from bot.handlers.command import BUILT_IN, SubCommand, command_handler, on_start_submitted
from bot.handlers.context import Handler, Services, handle
from bot.handlers.contribute import (
    on_adopt,
    on_button,
    on_delete,
    on_edit,
    on_reaction,
    on_reply,
)

SUBCOMMANDS: dict[str, SubCommand] = {**BUILT_IN}

HANDLERS: dict[type, Handler] = {
    StartSubmitted: on_start_submitted,
    Command: command_handler(SUBCOMMANDS),
    Reply: on_reply,
    MessageAdopted: on_adopt,
    ReplyEdited: on_edit,
    ReplyDeleted: on_delete,
    ReactionChanged: on_reaction,
    ButtonPressed: on_button,
}


def dispatch(services: Services, event: InboundEvent) -> bool:
    """Handle one inbound event exactly once; False if it had been handled before."""
    return handle(services, event, HANDLERS[type(event)])
