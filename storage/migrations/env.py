"""Storage: the Alembic environment that runs the schema migrations.

``storage.db.upgrade`` hands over an open connection in ``config.attributes``; the
``alembic`` command line (``alembic -c storage/alembic.ini ...``) connects to
``DATABASE_URL`` instead, falling back to the ini file's ``sqlalchemy.url``.
"""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from storage.db import DEFAULT_URL, include_name, make_engine, normalise_url
from storage.models import metadata

config = context.config

# Only the command line configures logging; inside the bot the application owns it.
if config.config_file_name is not None and config.attributes.get("connection") is None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    return normalise_url(
        os.environ.get("DATABASE_URL") or config.get_main_option("sqlalchemy.url") or DEFAULT_URL
    )


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        # storage.db.make_engine makes SQLite DDL transactional, as PostgreSQL's is.
        transactional_ddl=connection.dialect.name in ("sqlite", "postgresql"),
        compare_type=True,
        include_name=include_name,
    )


def run_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=url.startswith("sqlite"),
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as own:
            _configure(own)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
