"""The inbox worker: applies stored events, one transaction each, one writer per lane.

It claims the oldest waiting event of each lane (``storage.inbox``), runs its use case
(``bot.handlers.dispatch``) and removes it from the inbox in the transaction that applied
it: the change, the outbound messages and the removal commit together or not at all.
An event that fails is tried again with a growing pause; after ``max_attempts`` it is kept
aside for an operator and the person who acted is told, in their language, that it did
not work. Nothing of the payload is logged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from bot.events import Command, InboundEvent, StartSubmitted, from_payload
from bot.handlers import dispatch
from bot.handlers.context import Services
from bot.i18n import LANGUAGES, t
from bot.messages import PrivateNotice, to_payload
from storage.inbox import Inbox, InboxItem, listen_for_events

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
POLL_SECONDS = 0.5
LOCALE_TTL_SECONDS = 3600.0

LocaleOf = Callable[[str, str, str], str | None]
"""(platform, workspace, user) -> the person's locale on that platform (``de-DE``), or None."""


class Locales:
    """People's languages from their platform locale, when we speak it; an hour's cache.

    A lookup that failed is not cached: the next event asks again.
    """

    def __init__(self, locale_of: LocaleOf, *, ttl: float = LOCALE_TTL_SECONDS) -> None:
        self._locale_of = locale_of
        self._ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, str]] = {}
        self._lock = threading.Lock()

    def language(self, platform: str, workspace: str, user: str) -> str | None:
        key = (platform, workspace, user)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        locale = self._locale_of(platform, workspace, user) if user else None
        if not locale:
            return None
        short = locale.replace("_", "-").split("-")[0].lower()
        language = short if short in LANGUAGES else ""
        with self._lock:
            self._cache[key] = (now, language)
        return language or None


class InboxWorker:
    """Applies the inbox's events; ``run_once`` for a caller's loop, ``start`` for a thread."""

    def __init__(
        self,
        services: Services,
        inbox: Inbox,
        *,
        locales: Locales | None = None,
        on_applied: Callable[[], object] | None = None,
        max_attempts: int = MAX_ATTEMPTS,
        poll_seconds: float = POLL_SECONDS,
        threads: int = 1,
    ) -> None:
        self._services = services
        self._inbox = inbox
        self.locales = locales
        self._on_applied = on_applied
        self._max_attempts = max_attempts
        self._poll = poll_seconds
        self._threads = max(1, threads)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._running: list[threading.Thread] = []

    def run_once(self, limit: int = 20) -> int:
        """Apply the oldest waiting event of up to ``limit`` lanes; returns how many were taken."""
        items = self._inbox.claim(self._services.clock(), limit=limit)
        for item in items:
            self._apply(item)
        if items and self._on_applied is not None:
            self._on_applied()
        return len(items)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stop.clear()
        listener = threading.Thread(
            target=listen_for_events,
            args=(self._inbox.engine, self.wake, self._stop),
            name="inbox-listener",
            daemon=True,
        )
        listener.start()
        self._running.append(listener)
        for number in range(self._threads):
            thread = threading.Thread(target=self._loop, name=f"inbox-{number}", daemon=True)
            thread.start()
            self._running.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._running:
            thread.join(timeout=timeout)
        self._running.clear()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                taken = self.run_once()
            except Exception as error:  # the database may be away for a moment
                logger.error("claiming inbound events failed: %s", type(error).__name__)
                taken = 0
            if not taken:
                self._wake.wait(self._poll)
                self._wake.clear()

    def _apply(self, item: InboxItem) -> None:
        try:
            event = from_payload(item.payload)
        except (KeyError, TypeError, ValueError) as error:
            logger.error("inbound event %s cannot be read: %s", item.id, type(error).__name__)
            self._inbox.give_up(item.id, f"unreadable: {type(error).__name__}")
            return
        try:
            dispatch(
                self._services,
                self._with_language(event),
                finish=lambda tx: Inbox.finish(tx, item.id),
            )
        except Exception as error:
            self._failed(item, event, error)

    def _with_language(self, event: InboundEvent) -> InboundEvent:
        """Commands and forms answer in the person's own language when the platform says it."""
        if not isinstance(event, Command | StartSubmitted) or event.language:
            return event
        if self.locales is None:
            return event
        where = event.where
        language = self.locales.language(where.platform, where.workspace, event.user)
        return replace(event, language=language) if language else event

    def _failed(self, item: InboxItem, event: InboundEvent, error: Exception) -> None:
        reason = type(error).__name__
        tries = item.attempts + 1
        if tries < self._max_attempts:
            delay = timedelta(seconds=min(2**tries, 60))
            logger.warning("event %s failed (%s); try %s again later", item.id, reason, tries)
            self._inbox.retry(item.id, reason, self._services.clock() + delay)
            return
        logger.error("event %s failed %s times (%s); kept aside", item.id, tries, reason)
        self._inbox.give_up(item.id, reason)
        self._apologise(event)

    def _apologise(self, event: InboundEvent) -> None:
        where = event.where
        language = getattr(event, "language", None) or self._services.language
        notice = PrivateNotice(event.user, t("runtime.failed", language), where.thread)
        try:
            with self._services.store.transaction() as tx:
                tx.enqueue(
                    where.platform,
                    where.workspace,
                    where.channel,
                    None,
                    to_payload(notice),
                    self._services.clock(),
                )
        except Exception as error:
            logger.error("could not queue the apology: %s", type(error).__name__)
