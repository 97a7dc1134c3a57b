"""The web process with Teams configured, and the paths that must not load the Teams SDK."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.config import Settings, load_settings


def test_only_teams_settings_choose_the_teams_platform() -> None:
    settings = load_settings(
        {"TEAMS_CLIENT_ID": "id", "TEAMS_CLIENT_SECRET": "secret"}, dotenv=False
    )

    assert settings.platform == "teams"
    assert settings.teams_service_url_prefixes == ("https://smba.trafficmanager.net/",)


def test_the_web_process_starts_with_only_teams_configured(tmp_path: Path) -> None:
    from bot.web import compose

    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        key_file=tmp_path / "k.key",
        teams_client_id="00000000-0000-0000-0000-0000000000b1",
        teams_client_secret="secret",
    )
    runtime, application = compose(settings)
    statuses: list[str] = []

    def start_response(status: str, headers: list[Any]) -> None:
        statuses.append(status)

    health = {"PATH_INFO": "/healthz", "REQUEST_METHOD": "GET"}
    body = json.dumps({"type": "message", "id": "1", "text": "hi"}).encode()
    unsigned = {
        "PATH_INFO": "/api/messages",
        "REQUEST_METHOD": "POST",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    application(health, start_response)
    application(unsigned, start_response)

    assert "teams" in runtime.delivery._messengers
    assert statuses[0].startswith("200")
    assert statuses[1].startswith("401")  # production auth: no token, no entry


def test_the_cli_and_the_slack_path_do_not_import_the_teams_sdk() -> None:
    code = (
        "import sys, bot.cli, bot.web, bot.platforms.slack.serve; "
        "sys.exit(1 if any(m.startswith('microsoft_teams') for m in sys.modules) else 0)"
    )

    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
