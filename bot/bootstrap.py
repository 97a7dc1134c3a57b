"""The composition root: builds everything from the settings. Nothing else wires concretes."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from bot.config import Settings
from bot.flows.method import Catalogue, builtin_dir, load_catalogue
from bot.handlers.context import Services
from storage.crypto import Cipher, configure_cipher, load_or_create_keys
from storage.db import make_engine, upgrade
from storage.repositories import Store

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
    )
