"""Storage: keep what people wrote out of the logs, even with every logger at DEBUG.

SQLAlchemy logs result rows at DEBUG *after* the column types processed them, so an
encrypted column would appear decrypted; and statement parameters at INFO. Engines are
built with ``hide_parameters=True`` (``storage.db.make_engine``), and ``guard_sql_logs``
drops the row records. ``drop_debug`` does the same for libraries that log request and
response bodies at DEBUG (slack_sdk).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

SQL_LOGGERS = ("sqlalchemy.engine.Engine", "sqlalchemy.engine.base.Engine")


class _DropRows(logging.Filter):
    """Drops SQLAlchemy's ``Row (...)`` records (they carry decrypted values)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Row")


class _DropDebug(logging.Filter):
    """Drops DEBUG records (request and response bodies)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


def _install(names: Iterable[str], guard: logging.Filter) -> None:
    for name in names:
        logger = logging.getLogger(name)
        if not any(type(f) is type(guard) for f in logger.filters):
            logger.addFilter(guard)


def guard_sql_logs() -> None:
    """Make SQLAlchemy's engine loggers leave result rows out (idempotent)."""
    _install(SQL_LOGGERS, _DropRows())


def drop_debug(names: Iterable[str]) -> None:
    """Make the named loggers leave their DEBUG records out (idempotent)."""
    _install(names, _DropDebug())
