"""Ingress: a verified, parsed platform event goes into the inbox before anyone answers.

An adapter calls ``accept`` and answers the platform 2xx only when it returns: the event
is committed by then, so a crash after the answer loses nothing. A duplicate (a platform
retry, or the same event delivered several times at once) is answered at once too.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.events import InboundEvent, Where, to_payload
from storage.inbox import Inbox


def lane_of(where: Where) -> str:
    """Events of one channel are applied in the order they arrived, one at a time."""
    return f"{where.platform}:{where.workspace}:{where.channel}"


class Ingress:
    """Stores inbound events in the inbox and wakes the worker."""

    def __init__(
        self,
        inbox: Inbox,
        clock: Callable[[], datetime],
        *,
        on_accept: Callable[[], object] | None = None,
    ) -> None:
        self._inbox = inbox
        self._clock = clock
        self._on_accept = on_accept

    def accept(self, event: InboundEvent) -> bool:
        """Store ``event`` durably; False when the inbox already had it."""
        where = event.where
        accepted = self._inbox.accept(
            where.platform, event.event_id, lane_of(where), to_payload(event), self._clock()
        )
        if accepted and self._on_accept is not None:
            self._on_accept()
        return accepted
