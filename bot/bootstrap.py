"""The composition root: builds everything from the settings. Nothing else wires concretes."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.flows.method import Catalogue, builtin_dir, load_catalogue
from bot.handlers.context import Services
from storage.crypto import Cipher, configure_cipher, load_or_create_keys
from storage.db import make_engine, upgrade
from storage.repositories import Store

if TYPE_CHECKING:
    from bot.scheduler import Scheduler

logger = logging.getLogger(__name__)


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return uuid.uuid4().hex[:12]


def load_methods(settings: Settings) -> Catalogue:
    """Built-in methods with the organisation's own files over them; refused files are logged."""
    catalogue = load_catalogue(builtin_dir(), settings.methods_dir)
    for error in catalogue.errors:
        logger.error("method file refused: %s", error)
    return catalogue


def build_services(settings: Settings, *, migrate: bool = True) -> Services:
    """Open the database (migrating it), set up encryption, load the methods."""
    keys, created = load_or_create_keys(settings.encryption_keys, settings.key_file)
    if created:
        logger.warning(
            "no INTERVISION_ENCRYPTION_KEYS set: generated a key into %s (owner-only); "
            "keep it safe, without it the stored cases cannot be read",
            settings.key_file,
        )
    configure_cipher(Cipher(keys))
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    catalogue = load_methods(settings)
    store = Store(engine, methods=lambda method_id: catalogue.methods[method_id])
    return Services(
        store=store,
        catalogue=catalogue,
        clock=utc_now,
        new_id=new_id,
        language=settings.language,
        timezone=settings.timezone,
        protocol_reminders=dict(settings.protocol_reminders),
        files_dir=settings.files_dir,
        graph_calendar=settings.graph_configured,
    )


class TravelClock:
    """The wall clock (UTC) plus an offset that only moves forward.

    The console's ``/later 2h`` moves it, so a demo sees deadlines pass and reminders arrive
    without waiting; everywhere else the offset stays zero.
    """

    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return self._now() + self.offset

    def shift(self, delta: timedelta) -> None:
        if delta > timedelta(0):
            self.offset += delta


def start_scheduler(
    services: Services,
    settings: Settings,
    *,
    after_run: Callable[[], object] | None = None,
    guard: AbstractContextManager[Any] | None = None,
) -> Scheduler:
    """Start the scheduler of deadlines, reminders and CoP preparation (``bot.scheduler``).

    With SQLite it runs in this process; with PostgreSQL this process competes for it with
    an advisory lock and runs it while it holds the lock. ``after_run`` is called after work
    ran (the console prints, Slack drains the outbox); ``guard`` is held meanwhile.
    """
    from bot.scheduler import Scheduler

    scheduler = Scheduler(
        services,
        poll_seconds=settings.scheduler_poll_seconds,
        after_run=after_run,
        guard=guard,
    )
    scheduler.start()
    return scheduler
