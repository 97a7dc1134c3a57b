"""Test support: the two databases every storage-touching test runs on."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy.engine import make_url

from storage.db import make_engine, normalise_url

POSTGRES_ENV = "INTERVISION_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@contextmanager
def postgres_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose connections work in a fresh schema, dropped afterwards."""
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"{POSTGRES_ENV} is not set: no PostgreSQL server to test against")
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = make_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(normalise_url(base)).update_query_dict(
            {"options": f"-csearch_path={schema}"}
        )
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()
