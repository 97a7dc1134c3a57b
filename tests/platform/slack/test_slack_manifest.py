"""Slack platform: the app manifest asks for exactly what the code uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.platforms.slack.app import BOT_SCOPES
from bot.platforms.slack.ids import COMMAND, Callback

MANIFEST = Path(__file__).resolve().parents[3] / "slack" / "manifest.yaml"


def _manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text("utf-8"))
    return loaded


def test_the_manifest_asks_for_the_scopes_the_oauth_install_asks_for() -> None:
    assert sorted(_manifest()["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)


def test_the_manifest_declares_the_command_the_shortcut_and_every_event_listened_to() -> None:
    manifest = _manifest()
    features, settings = manifest["features"], manifest["settings"]

    assert [c["command"] for c in features["slash_commands"]] == [COMMAND]
    assert features["slash_commands"][0]["should_escape"] is True  # mentions arrive as ids
    assert [s["callback_id"] for s in features["shortcuts"]] == [Callback.ADOPT_SHORTCUT.value]
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened",
        "message.channels",
        "message.groups",
        "reaction_added",
        "reaction_removed",
    }
    assert features["app_home"]["home_tab_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
