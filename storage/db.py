"""Storage: building the database engine and migrating the schema to the newest revision.

SQLite (a file) is the embedded default; PostgreSQL is what several processes share.
Nothing connects at import time: the composition root calls ``make_engine`` and ``upgrade``.
"""

from __future__ import annotations

import logging
import os
import stat
import threading
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from storage.log_guard import guard_sql_logs
from storage.writer_turns import WriterTurns

logger = logging.getLogger(__name__)

DEFAULT_URL = "sqlite:///intervision.db"
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any constant will do; it only has to be the same in every process of a deployment.
_MIGRATION_LOCK_ID = 7_305_911_214

_POSTGRES_PREFIXES = ("postgres://", "postgresql://")


def normalise_url(url: str) -> str:
    """Send bare PostgreSQL URLs (as hosting platforms hand them out) to the psycopg 3 driver."""
    for prefix in _POSTGRES_PREFIXES:
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str = DEFAULT_URL) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and one writer at a time."""
    guard_sql_logs()
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, hide_parameters=True)
    memory = parsed.database in (None, "", ":memory:")
    options: dict[str, Any] = {
        "connect_args": {"check_same_thread": False},
        "hide_parameters": True,  # what people wrote stays out of logs and errors
    }
    if memory:
        # Every connection to ":memory:" is a new empty database: share one.
        options["poolclass"] = StaticPool
    elif parsed.database and not parsed.database.startswith("file:"):
        owner_only(Path(parsed.database))
    engine = create_engine(url, **options)
    _configure_sqlite(engine, wal=not memory)
    return engine


def reader(engine: Engine) -> Engine:
    """The same database for transactions that only read: on SQLite they neither take the
    write lock nor wait for a writer's turn (a frequent poll must not queue behind
    writers or hold them up)."""
    return engine.execution_options(**{READ_ONLY: True})


def owner_only(path: Path) -> None:
    """Create the SQLite file at ``path`` readable by its owner only (0600) if it is not
    there yet. SQLite gives the ``-wal`` and ``-shm`` files the database file's mode, so
    they are owner-only too. An existing file is left as it is, with a warning when
    others may read it (it holds who took part in which session)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            logger.warning("the database file %s can be read by others (mode %o)", path, mode)
    except FileNotFoundError:
        pass  # no such directory: SQLite's own error on connecting says so


def _configure_sqlite(engine: Engine, *, wal: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transactions out of the sqlite3 module's hands so that SQLAlchemy's
        # "begin" below decides how they start (and DDL becomes transactional).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=10000")
            if wal:
                cursor.execute("PRAGMA journal_mode=WAL")
                # A commit survives the process being killed (it is in the WAL file) without
                # an fsync each time; only a power cut may take the last moments with it.
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    turns = _turns_of(engine) if wal else None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(READ_ONLY):
            # A reader in WAL mode sees the last commit and blocks no writer: no turn.
            connection.exec_driver_sql("BEGIN")
            return
        if turns is not None:
            turns.take(connection.connection.dbapi_connection)
        # IMMEDIATE takes the write lock up front. A deferred transaction that reads and
        # then writes fails with "database is locked" when another writer got in between,
        # and waiting (busy_timeout) cannot save it; starting as a writer can wait instead.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    if turns is not None:
        # Given back when the connection returns to the pool: after its COMMIT or ROLLBACK.
        @event.listens_for(engine, "checkin")
        def _on_checkin(dbapi_connection: Any, _record: Any) -> None:
            turns.give_back(dbapi_connection)

        @event.listens_for(engine, "close")
        def _on_close(dbapi_connection: Any, _record: Any) -> None:
            turns.give_back(dbapi_connection)


READ_ONLY = "intervision_read_only"
"""Execution option for an engine whose transactions only read (see ``reader``)."""

_TURNS: dict[str, WriterTurns] = {}
_TURNS_LOCK = threading.Lock()


def _turns_of(engine: Engine) -> WriterTurns:
    """One line of writers per database file in this process, whatever the engine."""
    key = str(Path(engine.url.database or "").resolve())
    with _TURNS_LOCK:
        return _TURNS.setdefault(key, WriterTurns())


def alembic_config() -> Config:
    """An Alembic configuration built in code: works from an installed package and any cwd."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("path_separator", "os")
    return config


def upgrade(target: Engine | str, revision: str = "head") -> None:
    """Migrate the database at ``target`` (an engine or a URL) to ``revision``.

    Safe to run from several processes starting at once: on PostgreSQL they queue on
    an advisory lock, and whoever comes second finds nothing left to do.
    """
    engine = make_engine(target) if isinstance(target, str) else target
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _MIGRATION_LOCK_ID}
                )
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        if isinstance(target, str):
            engine.dispose()


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's filter: Slack's OAuth tables are shaped by slack_sdk (migration 0002) and
    APScheduler's job table by its job store (``bot.scheduler``), not by our models, so
    autogenerate must neither drop nor compare them."""
    return not (
        type_ == "table" and name is not None and name.startswith(("slack_", "apscheduler_"))
    )
