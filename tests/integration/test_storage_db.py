"""Integration: engines are built for the right driver, and SQLite gets its safety settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from storage.db import make_engine, normalise_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "postgres://bot:pw@db:5432/intervision",
            "postgresql+psycopg://bot:pw@db:5432/intervision",
        ),
        ("postgresql://bot@db/intervision", "postgresql+psycopg://bot@db/intervision"),
        ("postgresql+psycopg://bot@db/intervision", "postgresql+psycopg://bot@db/intervision"),
        ("sqlite:///intervision.db", "sqlite:///intervision.db"),
    ],
)
def test_postgres_urls_are_sent_to_the_psycopg_driver(given: str, expected: str) -> None:
    assert normalise_url(given) == expected


def test_make_engine_rewrites_a_heroku_style_url_without_connecting() -> None:
    engine = make_engine("postgres://bot:pw@db.invalid:5432/intervision")

    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_sqlite_engine_turns_on_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")

    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()


def test_in_memory_sqlite_keeps_one_database_across_connections() -> None:
    engine = make_engine("sqlite://")

    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar() == 0
    engine.dispose()


def test_sqlite_ddl_is_rolled_back_with_its_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'bot.db'}")

    def create_then_fail() -> None:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x INTEGER)"))
            raise RuntimeError("fail after the DDL")

    with pytest.raises(RuntimeError):
        create_then_fail()

    with engine.connect() as connection:
        tables = connection.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert "t" not in tables
    engine.dispose()
