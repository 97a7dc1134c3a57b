"""Ports: what the core needs from a platform, as typing Protocols adapters implement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.messages import Outbound


@dataclass(frozen=True)
class Delivery:
    """One outbound message with where it goes.

    ``thread`` is the session's anchor message (for thread replies, and the message to
    edit for an anchor update). ``part`` is the part to post now: a message the platform
    takes in several posts is delivered one part per ``deliver`` call, so the caller can
    store the progress after each and pace the posts.
    """

    workspace: str
    channel: str
    message: Outbound
    thread: str | None = None
    part: int = 0


@dataclass(frozen=True)
class Posted:
    """What one ``deliver`` call posted: the platform's id of the part (when it has one)
    and whether parts remain (then call again with ``part + 1``)."""

    ref: str | None
    more: bool = False


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


class NotAMember(PermanentFailure):
    """The bot is not in the channel and cannot join it itself (a private channel): a
    person has to invite it."""


class Messenger(Protocol):
    """Sends neutral messages on one platform. Never sleeps: pacing is the caller's."""

    platform: str

    def deliver(self, delivery: Delivery) -> Posted:
        """Send (or, for an anchor update, edit) one part of a message: ``delivery.part``.

        Returns:
            The id of the post and whether more parts follow.

        Raises:
            TemporaryFailure: rate limit, server error or network trouble; retry later
                (at ``retry_after`` when the platform named a time).
            NotAMember: the bot cannot post in the channel until someone invites it.
            PermanentFailure: the platform will never accept this message.
        """
        ...
