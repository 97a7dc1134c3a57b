"""The GRAPH_ settings: all or none, and nothing of msgraph loaded without them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.platforms.teams.calendar import build_graph

GRAPH = {
    "GRAPH_TENANT_ID": "tenant",
    "GRAPH_CLIENT_ID": "client",
    "GRAPH_CLIENT_SECRET": "secret",
    "GRAPH_ORGANIZER": "cop-calendar@example.ch",
}


def test_every_graph_setting_configures_outlook_calendars() -> None:
    settings = load_settings(GRAPH, dotenv=False)

    assert settings.graph_configured
    assert settings.graph_base_url == "https://graph.microsoft.com/v1.0"


def test_without_graph_settings_calendars_are_off_and_no_messenger_is_built() -> None:
    settings = load_settings({}, dotenv=False)

    assert not settings.graph_configured
    assert build_graph(settings, store=None, clock=None) is None  # type: ignore[arg-type]


def test_some_graph_settings_without_the_others_are_refused() -> None:
    with pytest.raises(ConfigError, match="GRAPH_ORGANIZER"):
        load_settings({k: v for k, v in GRAPH.items() if k != "GRAPH_ORGANIZER"}, dotenv=False)


def test_the_calendar_module_does_not_import_msgraph() -> None:
    code = (
        "import sys, bot.platforms.teams.calendar, bot.handlers.cop\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'msgraph', 'azure', 'kiota_http'}))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout

    assert found.strip() == "[]"


def test_the_web_process_delivers_calendar_changes_when_graph_is_configured(
    tmp_path: Path,
) -> None:
    from bot.web import compose
    from tests.platform.slack.fake_slack import BOT_TOKEN, FakeSlack

    slack = FakeSlack().start()
    settings = load_settings(
        {
            **GRAPH,
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": "secret",
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'bot.db'}",
            "INTERVISION_KEY_FILE": str(tmp_path / "bot.key"),
        },
        dotenv=False,
    )

    try:
        runtime, _ = compose(settings)
    finally:
        slack.stop()

    assert set(runtime.platforms) == {"slack", "graph"}
