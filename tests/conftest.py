"""Shared fixtures: the real use cases on each database (SQLite file, and PostgreSQL when
INTERVISION_TEST_POSTGRES_URL names a server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.crypto import configure_cipher, current_cipher
from tests.support.app import Harness, make_harness
from tests.support.databases import BACKENDS, postgres_schema_url


@pytest.fixture(params=BACKENDS)
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    """A console harness whose storage is on SQLite, then on PostgreSQL."""
    try:
        previous = current_cipher()
    except Exception:
        previous = None
    if request.param == "sqlite":
        yield make_harness(tmp_path)
    else:
        with postgres_schema_url() as url:
            built = make_harness(tmp_path, database_url=url)
            yield built
            built.services.store.engine.dispose()
    configure_cipher(previous)
