"""Use-case plumbing: what every handler gets, and the one place inbound events enter.

``handle`` claims the event id, runs the handler, saves and queues the outbound
messages in one database transaction: an event delivered twice changes nothing the
second time, and a crash before commit loses nothing the platform will not resend.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.events import InboundEvent
from bot.flows.errors import KeyedError
from bot.flows.method import Catalogue
from bot.i18n import t
from bot.messages import AnchorView, Outbound, PrivateNotice, StepPost, ThreadNote, to_payload
from storage.repositories import Store, Tx

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Services:
    """Long-lived dependencies of the use cases, built by the composition root."""

    store: Store
    catalogue: Catalogue
    clock: Callable[[], datetime]
    new_id: Callable[[], str]
    language: str = "en"
    timezone: str = "Europe/Amsterdam"
    # the organisation's protocol reminder per language, over the catalogue's
    protocol_reminders: Mapping[str, str] = field(default_factory=dict, hash=False)
    files_dir: Path = Path("intervision-files")  # .ics files and digest charts are written here
    # Outlook calendars are configured: CoP schedule changes are queued for the ``graph``
    # messenger, like messages
    graph_calendar: bool = False


@dataclass
class Context:
    """One event's view of the world: the open transaction and the reader's language."""

    tx: Tx
    services: Services
    now: datetime
    language: str
    session_id: str | None = None
    thread: str | None = None
    outbound: list[Outbound] = field(default_factory=list)


Handler = Callable[[Context, InboundEvent], list[Outbound]]


def handle(
    services: Services,
    event: InboundEvent,
    handler: Handler,
    *,
    finish: Callable[[Tx], object] | None = None,
) -> bool:
    """Run ``handler`` for ``event`` exactly once.

    A refusal (any ``KeyedError``: a rule, a schedule, a time setting) becomes a private
    notice to the person who acted, in their language; the session is left as it was.
    ``finish`` runs last in the same transaction (the runtime removes the event from the
    inbox there), also for a duplicate.

    Returns:
        False when the event had been handled before (a platform retry).
    """
    where = event.where
    now = services.clock()
    with services.store.transaction() as tx:
        if finish is not None:
            finish(tx)
        if not tx.claim_event(where.platform, event.event_id, now):
            logger.info("duplicate event ignored", extra={"event_id": event.event_id})
            return False
        language = (
            getattr(event, "language", None)
            or tx.group(
                where.platform,
                where.workspace,
                where.channel,
                language=services.language,
                timezone=services.timezone,
            ).language
        )
        ctx = Context(tx, services, now, language, thread=where.thread)
        try:
            messages = handler(ctx, event)
        except KeyedError as refusal:
            messages = [
                PrivateNotice(
                    event.user, t(refusal.key, ctx.language, **refusal.params), ctx.thread
                )
            ]
        for message in messages:
            session_id = getattr(message, "session_id", None) or ctx.session_id
            channel = where.channel
            if isinstance(message, AnchorView | StepPost | ThreadNote) and message.session_id:
                # the session's own channel, also for a command typed in a direct message
                channel = tx.group_of_session(message.session_id).channel
            tx.enqueue(
                where.platform, where.workspace, channel, session_id, to_payload(message), now
            )
    return True
