"""The SQLite database and its -wal and -shm files are created readable by their owner only."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import make_engine, upgrade


@pytest.fixture(autouse=True)
def _permissive_umask() -> Iterator[None]:
    """The usual umask (022) would make new files world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_and_shm_files_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "bot.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:  # an open connection keeps -wal and -shm in place
        connection.execute(text("SELECT 1"))
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert {p.name: _mode(p) for p in files} == {p.name: 0o600 for p in files}
    engine.dispose()


def test_an_existing_database_keeps_its_mode_and_a_readable_one_is_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o644)
    os.chmod(path, 0o644)

    with caplog.at_level(logging.WARNING, logger="storage.db"):
        make_engine(f"sqlite:///{path}").dispose()

    assert _mode(path) == 0o644
    assert "can be read by others" in caplog.text


def test_an_in_memory_database_creates_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    make_engine("sqlite://").dispose()
    make_engine("sqlite:///:memory:").dispose()

    assert list(tmp_path.iterdir()) == []
