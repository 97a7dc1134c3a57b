"""Ports: what the core needs from a platform, as typing Protocols adapters implement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.messages import Outbound


@dataclass(frozen=True)
class Delivery:
    """One outbound message with where it goes.

    ``thread`` is the session's anchor message (for thread replies); ``anchor`` is the
    same ref when an anchor is to be updated in place.
    """

    workspace: str
    channel: str
    message: Outbound
    thread: str | None = None


class TemporaryFailure(Exception):
    """The platform could not take the message now; try again after ``retry_after`` seconds."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class PermanentFailure(Exception):
    """The platform refused the message for good (for example the channel is gone)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Messenger(Protocol):
    """Sends neutral messages on one platform."""

    platform: str

    def deliver(self, delivery: Delivery) -> str | None:
        """Send (or, for an anchor update, edit) a message.

        Returns:
            The platform's id of the posted message, when there is one.

        Raises:
            TemporaryFailure: rate limit, server error or network trouble; retry later.
            PermanentFailure: the platform will never accept this message.
        """
        ...
