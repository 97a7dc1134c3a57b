"""Delivery: the worker that drains the durable outbox through each platform's messenger.

A message is queued in the transaction of the state change that caused it and marked
sent only after the platform took it, so a crash never loses a post. The worker runs in
a thread of its own, never in a request thread:

- **Order and pace per channel.** The outbox hands out only a channel's oldest message.
  After a post, the channel's next one falls due ``pace_seconds`` later (Slack takes
  about one post a second per channel); channels never wait for each other, and nothing
  sleeps while holding a claim or a lock.
- **Parts.** A message the platform takes in several posts is delivered one part per
  call; the progress is stored after each part, so a restart resumes at the next part.
- **Retries.** A temporary failure is retried at the time the platform names
  (Retry-After), otherwise with exponential backoff; after ``max_attempts`` failed tries
  without progress the message goes dead with its reason logged, and its channel's next
  message is delivered. Waiting where the platform says to wait never counts as a try.
- **Claims** are short leases, renewed while a delivery runs; ``release_claims`` frees
  those of a dead process at start (one process on its database).
- **Not a member.** When the bot cannot join a channel (a private one), the message goes
  dead and the session's facilitator is told by direct message how to invite the bot.

Logs name message ids, platforms and the platform's reasons, never what people wrote.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime, timedelta

from bot.i18n import t
from bot.messages import (
    AnchorView,
    DirectMessage,
    Outbound,
    StepPost,
    ThreadNote,
    from_payload,
    to_payload,
)
from bot.ports import Delivery, Messenger, NotAMember, PermanentFailure, Posted, TemporaryFailure
from storage.outbox import BotPost, Outbox, OutboxItem
from storage.repositories import Store

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0
POLL_SECONDS = 2.0
"""Longest sleep when idle: another process may queue messages without waking this one."""
ERROR_PAUSE_SECONDS = 5.0
CLAIM_LIMIT = 50
MAX_ROUNDS = 1000
THREADS = 4


class DeliveryWorker:
    """Delivers what the outbox holds, for every platform it has a messenger for.

    Args:
        outbox: the outbox repository (a ``Store`` stands for its ``outbox``).
        messengers: the messenger of each platform, by platform name.
        clock: the current time (aware, UTC); tests pass a fake.
        pace_seconds: seconds between two posts into one channel, one number for every
            platform or one per platform (missing: 0).
        max_attempts: failed tries without progress before a message goes dead.
        threads: channels delivered at the same time.
    """

    def __init__(
        self,
        outbox: Outbox | Store,
        messengers: Mapping[str, Messenger],
        clock: Callable[[], datetime],
        *,
        pace_seconds: float | Mapping[str, float] = 1.0,
        max_attempts: int = MAX_ATTEMPTS,
        threads: int = THREADS,
    ) -> None:
        self._outbox = outbox.outbox if isinstance(outbox, Store) else outbox
        self._messengers = dict(messengers)
        self._clock = clock
        self._pace = pace_seconds
        self._max_attempts = max_attempts
        self._threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._invited: set[tuple[str, str, str]] = set()
        self._lock = threading.Lock()

    # --- the API ------------------------------------------------------------------------

    def run_once(self) -> float | None:
        """Deliver everything due now, in every channel.

        Returns:
            Seconds until the next message falls due (0: due already), or None when
            nothing is queued.
        """
        if self.seconds_until_next() == 0:  # a read: claiming takes the writer's turn
            self.deliver_due()
        return self.seconds_until_next()

    def deliver_due(self) -> int:
        """Deliver every part due now; returns how many deliveries were tried (0: none due)."""
        tried = 0
        for _ in range(MAX_ROUNDS):
            items = self._outbox.claim(self._clock(), CLAIM_LIMIT, platforms=self._messengers)
            if not items:
                break
            self._deliver_all(items)
            tried += len(items)
        return tried

    def seconds_until_next(self) -> float | None:
        due = self._outbox.next_due(platforms=self._messengers)
        if due is None:
            return None
        return max(0.0, (due - self._clock()).total_seconds())

    def release_claims(self) -> int:
        """Free every claim (at start, when no other process delivers from this database)."""
        released = self._outbox.release_claims()
        if released:
            logger.info("released %d outbox claims left by an earlier process", released)
        return released

    def start(self) -> None:
        """Deliver in a background thread until ``stop``."""
        if self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._run, name="delivery", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Something was queued: deliver it now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    # --- the loop ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stopping.is_set():
            self._wake.clear()  # a wake during run_once stays set: the wait returns at once
            try:
                due = self.run_once()
            except Exception as error:  # the database is away: try again soon
                logger.error("delivering from the outbox failed: %s", type(error).__name__)
                due = ERROR_PAUSE_SECONDS
            self._wake.wait(POLL_SECONDS if due is None else min(due, POLL_SECONDS))

    def _deliver_all(self, items: list[OutboxItem]) -> None:
        """One delivery per item (each of another channel), in parallel; leases are
        renewed while deliveries run long."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="delivery")
        futures: dict[Future[None], OutboxItem] = {
            self._pool.submit(self._deliver_one, item): item for item in items
        }
        running = set(futures)
        renew_every = self._outbox.lease.total_seconds() / 3
        while running:
            _, running = wait(running, timeout=renew_every)
            if running:
                self._outbox.renew([futures[future].id for future in running], self._clock())
        for future in futures:
            future.result()

    # --- one delivery --------------------------------------------------------------------

    def _deliver_one(self, item: OutboxItem) -> None:
        try:
            message = from_payload(item.payload)
        except (KeyError, TypeError, ValueError):
            self._give_up(item, "unreadable_payload")
            return
        delivery = Delivery(
            item.workspace, item.channel, message, _thread_of(message, item), item.parts_sent
        )
        try:
            posted = self._messengers[item.platform].deliver(delivery)
        except TemporaryFailure as failure:
            self._retry(item, failure.reason, failure.retry_after)
        except NotAMember as failure:
            self._give_up(item, failure.reason)
            self._ask_for_invite(item)
        except PermanentFailure as failure:
            self._give_up(item, failure.reason)
        except Exception as error:  # a bug in an adapter must not lose the message
            logger.error("delivering message %s failed: %s", item.id, type(error).__name__)
            self._retry(item, type(error).__name__, None)
        else:
            self._record(item, message, posted)

    def _record(self, item: OutboxItem, message: Outbound, posted: Posted) -> None:
        now = self._clock()
        pace = self._pace_of(item.platform)
        pace_until = now + timedelta(seconds=pace) if pace > 0 else None
        refs = (*item.part_refs, posted.ref or "")
        if posted.more:
            if not self._outbox.record_part(item.id, refs, pace_until or now):
                logger.warning("message %s was taken over by another worker", item.id)
            return
        ref = next((found for found in refs if found), None)
        post = _post_of(message) if item.session_id else None
        self._outbox.mark_sent(item.id, ref, now, post=post, pace_until=pace_until)

    def _retry(self, item: OutboxItem, reason: str, retry_after: float | None) -> None:
        tries = item.attempts + 1
        counts = retry_after is None
        if counts and tries >= self._max_attempts:
            self._give_up(item, f"{reason} (after {tries} tries)")
            return
        delay = retry_after if retry_after is not None else min(2.0**tries, MAX_BACKOFF_SECONDS)
        logger.warning("message %s will be retried in %.0f s: %s", item.id, delay, reason)
        retry_at = self._clock() + timedelta(seconds=delay)
        self._outbox.mark_retry(item.id, reason, retry_at, counts=counts)

    def _give_up(self, item: OutboxItem, reason: str) -> None:
        logger.error("message %s to %s given up: %s", item.id, item.platform, reason)
        self._outbox.mark_dead(item.id, reason)

    def _ask_for_invite(self, item: OutboxItem) -> None:
        """Tell the session's facilitator, once per channel and process, to invite the bot."""
        channel = (item.platform, item.workspace, item.channel)
        if item.session_id is None:
            return
        with self._lock:
            if channel in self._invited:
                return
            self._invited.add(channel)
        contact = self._outbox.contact_of(item.session_id)
        if contact is None:
            return
        note = DirectMessage(contact.facilitator, t("delivery.invite_bot", contact.language))
        self._outbox.add(*channel, item.session_id, to_payload(note), self._clock())

    def _pace_of(self, platform: str) -> float:
        if isinstance(self._pace, Mapping):
            return float(self._pace.get(platform, 0.0))
        return float(self._pace)


def _thread_of(message: Outbound, item: OutboxItem) -> str | None:
    """Steps, notes and anchor updates go to the session's anchor message."""
    if isinstance(message, AnchorView) and not message.update:
        return None
    if isinstance(message, AnchorView | StepPost | ThreadNote) and item.session_id:
        return item.anchor_ref
    return getattr(message, "thread", None)


def _post_of(message: Outbound) -> BotPost | None:
    """The bot's post to remember, so replies and reactions on it find their session."""
    if isinstance(message, AnchorView):
        return None if message.update else BotPost(message.session_id, "anchor")
    if isinstance(message, StepPost):
        return BotPost(message.session_id, "step", message.step_id)
    if isinstance(message, ThreadNote):
        return BotPost(message.session_id, "note")
    return None
