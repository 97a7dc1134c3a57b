"""Delivery: drain the durable outbox through a platform's messenger.

A message is queued in the same transaction as the state change that caused it and
marked sent only after the platform took it, so a crash never loses a post. A
temporary failure (429, 5xx, network) leaves it queued for a later attempt; the
outbox never lets a later post in a channel overtake an earlier one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.messages import AnchorView, Outbound, StepPost, ThreadNote, from_payload
from bot.ports import Delivery, Messenger, PermanentFailure, TemporaryFailure
from storage.repositories import OutboxItem, Store

logger = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 300


def deliver_pending(
    store: Store, messenger: Messenger, clock: Callable[[], datetime], limit: int = 50
) -> int:
    """Send what is due in the outbox.

    Returns:
        How many messages were taken up (sent, left for a retry, or given up on);
        0 means nothing is due now. The outbox hands out one message per channel at a
        time, so callers drain by calling again until it returns 0.
    """
    items = store.claim_outbox(clock(), limit=limit, platform=messenger.platform)
    for item in items:
        _deliver_one(store, messenger, item, clock)
    return len(items)


def _deliver_one(
    store: Store, messenger: Messenger, item: OutboxItem, clock: Callable[[], datetime]
) -> None:
    message = from_payload(item.payload)
    thread = _thread_of(store, message, item.session_id)
    try:
        ref = messenger.deliver(Delivery(item.workspace, item.channel, message, thread))
    except TemporaryFailure as failure:
        _retry(store, item, failure.reason, failure.retry_after, clock())
        return
    except PermanentFailure as failure:
        logger.error("message %s refused by %s: %s", item.id, item.platform, failure.reason)
        store.mark_dead(item.id, failure.reason)
        return
    except Exception as error:  # a bug in an adapter must not lose the message
        logger.exception("delivering message %s failed", item.id)
        _retry(store, item, type(error).__name__, None, clock())
        return
    _remember_post(store, message, ref)
    store.mark_sent(item.id, ref, clock())


def _thread_of(store: Store, message: Outbound, session_id: str | None) -> str | None:
    """Thread replies and anchor updates go to the session's anchor message."""
    if isinstance(message, AnchorView) and not message.update:
        return None
    if isinstance(message, AnchorView | StepPost | ThreadNote) and session_id:
        with store.transaction() as tx:
            return tx.anchor_of(session_id)
    return getattr(message, "thread", None)


def _remember_post(store: Store, message: Outbound, ref: str | None) -> None:
    """Record the ids of the bot's own posts so replies and reactions find their session."""
    if ref is None or not isinstance(message, AnchorView | StepPost | ThreadNote):
        return
    with store.transaction() as tx:
        if isinstance(message, AnchorView):
            if not message.update:
                tx.set_anchor(message.session_id, ref)
                tx.add_post(message.session_id, ref, "anchor", None)
        elif isinstance(message, StepPost):
            tx.add_post(message.session_id, ref, "step", message.step_id)
        else:
            tx.add_post(message.session_id, ref, "note", None)


def _retry(
    store: Store, item: OutboxItem, reason: str, retry_after: float | None, now: datetime
) -> None:
    delay = (
        retry_after
        if retry_after is not None
        else min(2 ** (item.attempts + 1), MAX_BACKOFF_SECONDS)
    )
    logger.warning("message %s will be retried in %.0f s: %s", item.id, delay, reason)
    store.mark_retry(item.id, reason, now + timedelta(seconds=delay))
