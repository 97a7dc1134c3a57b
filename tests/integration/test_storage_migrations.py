"""Integration: the Alembic migrations build the schema the models describe, on both backends."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from storage.db import include_name, upgrade
from storage.models import metadata

HEAD = "0008"
TABLES = {
    "workspaces",
    "groups",
    "sessions",
    "step_runs",
    "contributions",
    "reactions",
    "votes",
    "session_posts",
    "processed_events",
    "outbox",
    "slack_installations",
    "slack_bots",
    "slack_oauth_states",
}


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_creates_every_table(engine: Engine) -> None:
    upgrade(engine)

    assert set(inspect(engine).get_table_names()) >= TABLES


def test_upgrade_reaches_the_head_revision(engine: Engine) -> None:
    upgrade(engine)

    assert _revision(engine) == HEAD


def test_upgrading_twice_changes_nothing(engine: Engine) -> None:
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO processed_events (platform, event_id, processed_at) "
                "VALUES ('slack', 'E1', CURRENT_TIMESTAMP)"
            )
        )

    upgrade(engine)

    assert _revision(engine) == HEAD
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM processed_events")).scalar() == 1


def test_upgrade_accepts_a_url(database_url: str, engine: Engine) -> None:
    upgrade(database_url)

    assert set(inspect(engine).get_table_names()) >= TABLES


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    upgrade(engine)

    with engine.connect() as connection:
        options = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, metadata)

    assert differences == []
