"""Use cases: take a neutral event, load state, call the flow, save, return outbound messages.

``HANDLERS`` maps each inbound event type to its use case; platforms call
``dispatch(services, event)`` and never a handler directly.
"""

from __future__ import annotations

from collections.abc import Callable

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
from bot.handlers.cop import cop_command
from bot.handlers.privacy import privacy_command
from bot.handlers.record import (
    approve_command,
    export_command,
    private_command,
    withdraw_command,
)
from bot.handlers.retention import forget_command, my_data_command
from bot.handlers.timers import away_command, settings_command, with_timers
from storage.repositories import Tx

SUBCOMMANDS: dict[str, SubCommand] = {
    **BUILT_IN,
    "cop": cop_command,
    "away": away_command,
    "settings": settings_command,
    # confidentiality
    "private": private_command,
    "dm": private_command,
    "approve": approve_command,
    "withdraw": withdraw_command,
    "export": export_command,
    "forget": forget_command,
    "my-data": my_data_command,
    "privacy": privacy_command,
}

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
# A step opened by any event gets its deadline and reminders registered.
HANDLERS = {kind: with_timers(handler) for kind, handler in HANDLERS.items()}


def dispatch(
    services: Services, event: InboundEvent, *, finish: Callable[[Tx], object] | None = None
) -> bool:
    """Handle one inbound event exactly once; False if it had been handled before.

    ``finish`` runs in the event's transaction (see ``bot.handlers.context.handle``).
    """
    return handle(services, event, HANDLERS[type(event)], finish=finish)
