"""The runtime of one process: ingress, the inbox worker, delivery and the scheduler.

``intervision run`` starts everything in one process (the embedded default). The
Procfile can split it: ``web`` processes with ``INTERVISION_ROLE=web`` only answer
requests (ingress), an ``intervision worker`` process applies and delivers. With several
processes on PostgreSQL every one may run workers: claims skip each other's rows.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.handlers.context import Services
from bot.ports import Messenger
from bot.runtime.delivery import DeliveryWorker
from bot.runtime.ingress import Ingress
from bot.runtime.worker import InboxWorker, LocaleOf, Locales
from storage.inbox import Inbox

if TYPE_CHECKING:
    from bot.scheduler import Scheduler

logger = logging.getLogger(__name__)

SETTLE_ROUNDS = 1000


class Runtime:
    """Everything between a platform's request and its Web API, for one process."""

    def __init__(
        self,
        services: Services,
        settings: Settings,
        messengers: Mapping[str, Messenger],
    ) -> None:
        self.services = services
        self.settings = settings
        self.platforms = tuple(messengers)  # what the delivery worker can deliver to
        self.inbox = Inbox(services.store.engine)
        self.delivery = DeliveryWorker(
            services.store, messengers, services.clock, pace_seconds=settings.pace_seconds
        )
        self.locales = Locales(_locale_lookup(messengers))
        self.worker = InboxWorker(
            services,
            self.inbox,
            locales=self.locales,
            on_applied=self.delivery.wake,
            # SQLite applies one transaction at a time: a second thread would only wait.
            threads=1 if services.store.engine.dialect.name == "sqlite" else settings.inbox_threads,
        )
        self.ingress = Ingress(self.inbox, services.clock, on_accept=self.worker.wake)
        self._scheduler: Scheduler | None = None

    def start(self) -> None:
        """Run the workers and the scheduler in background threads (not for ``role=web``)."""
        if self.settings.role == "web":
            logger.warning("web role: events are applied by an 'intervision worker' process")
            return
        if self.services.store.engine.dialect.name == "sqlite":
            # One process owns a SQLite database: any claim left is a dead process's.
            self.inbox.release_claims()
            self.delivery.release_claims()
        from bot.bootstrap import start_scheduler

        self.worker.start()
        self.delivery.start()
        self._scheduler = start_scheduler(
            self.services, self.settings, after_run=self.delivery.wake
        )

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        self.worker.stop()
        self.delivery.stop()

    def settle(self) -> None:
        """Apply every stored event, then deliver what is due now, in this thread (tests,
        the console). A post that failed waits for its retry: it is not tried again here."""
        for _ in range(SETTLE_ROUNDS):
            if not self.worker.run_once():
                break
        for _ in range(SETTLE_ROUNDS):
            wait = self.delivery.run_once()
            if wait is None or wait > 0:
                return


def _locale_lookup(messengers: Mapping[str, Messenger]) -> LocaleOf:
    def locale_of(platform: str, workspace: str, user: str) -> str | None:
        messenger = messengers.get(platform)
        lookup = getattr(messenger, "locale_of", None)
        return lookup(workspace, user) if lookup is not None else None

    return locale_of
