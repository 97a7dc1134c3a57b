"""Configuration: one ``Settings`` object read once from the environment (and ``.env``).

Nothing here runs at import; ``load_settings`` is called by the composition root.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import load_dotenv

from bot.i18n import LANGUAGES

ROLES = ("all", "web")
# The environment variables Outlook calendars need, by the setting each fills.
GRAPH_SETTINGS = {
    "GRAPH_TENANT_ID": "graph_tenant_id",
    "GRAPH_CLIENT_ID": "graph_client_id",
    "GRAPH_CLIENT_SECRET": "graph_client_secret",
    "GRAPH_ORGANIZER": "graph_organizer",
}


class ConfigError(Exception):
    """The configuration cannot work; the message lists every problem at once."""


@dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///intervision.db"
    methods_dir: Path | None = None
    language: str = "en"
    timezone: str = "Europe/Amsterdam"
    encryption_keys: str | None = None
    key_file: Path = Path("intervision.key")
    # The organisation's own protocol reminder per language (INTERVISION_PROTOCOL_REMINDER_NL ...)
    protocol_reminders: Mapping[str, str] = field(default_factory=dict, hash=False)
    files_dir: Path = Path("intervision-files")
    scheduler_poll_seconds: float = 30.0
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_client_id: str | None = None
    slack_client_secret: str | None = None
    slack_api_url: str = "https://slack.com/api/"
    port: int = 3000
    # Seconds between two posts into one channel (Slack allows about one a second).
    pace_seconds: float = 1.0
    # "all": this process answers requests and runs the workers and the scheduler;
    # "web": it only answers requests (an ``intervision worker`` process does the rest).
    role: str = "all"
    inbox_threads: int = 2
    # Microsoft Teams (the ``teams`` extra): the bot's Entra app registration. Our own
    # names: the Teams SDK would read generic ones (CLIENT_ID ...), so every value is
    # passed to it explicitly.
    teams_client_id: str | None = None
    teams_client_secret: str | None = None
    teams_tenant_id: str | None = None
    teams_service_url: str = "https://smba.trafficmanager.net/teams/"
    # The bot sends its token only to Bot Connector URLs starting with one of these.
    teams_service_url_prefixes: tuple[str, ...] = ("https://smba.trafficmanager.net/",)
    # Outlook calendars through Microsoft Graph (the ``teams`` extra): an Entra app with the
    # Calendars.ReadWrite application permission, and the mailbox the CoP series live in.
    graph_tenant_id: str | None = None
    graph_client_id: str | None = None
    graph_client_secret: str | None = None
    graph_organizer: str | None = None
    graph_base_url: str = "https://graph.microsoft.com/v1.0"

    @property
    def graph_configured(self) -> bool:
        return all(getattr(self, name) for name in GRAPH_SETTINGS.values())

    @property
    def slack_configured(self) -> bool:
        return bool(self.slack_signing_secret and (self.slack_bot_token or self.slack_client_id))

    @property
    def teams_configured(self) -> bool:
        return bool(self.teams_client_id and self.teams_client_secret)

    @property
    def platform(self) -> str:
        """``slack`` when Slack credentials are configured, ``teams`` when only Teams is,
        else the local ``console``. The web process serves both when both are configured."""
        if self.slack_configured:
            return "slack"
        if self.teams_configured:
            return "teams"
        return "console"


def load_settings(environ: Mapping[str, str] | None = None, *, dotenv: bool = True) -> Settings:
    """Build the settings from ``environ`` (default: ``os.environ`` after loading ``.env``).

    Raises:
        ConfigError: with one line per wrong value.
    """
    if environ is None:
        if dotenv:
            load_dotenv(override=False)
        environ = os.environ
    env = {k: v for k, v in environ.items() if v != ""}
    problems: list[str] = []
    language = env.get("INTERVISION_LANGUAGE", "en")
    if language not in LANGUAGES:
        problems.append(f"INTERVISION_LANGUAGE must be one of {', '.join(LANGUAGES)}")
    timezone = env.get("INTERVISION_TIMEZONE", "Europe/Amsterdam")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"INTERVISION_TIMEZONE {timezone!r} is not an IANA time zone")
    port = env.get("PORT", "3000")
    if not port.isdigit():
        problems.append("PORT must be a number")
    poll = env.get("INTERVISION_SCHEDULER_POLL_SECONDS", "30")
    try:
        poll_seconds = float(poll)
    except ValueError:
        poll_seconds = 0.0
    if not 0.1 <= poll_seconds <= 3600:
        problems.append("INTERVISION_SCHEDULER_POLL_SECONDS must be a number from 0.1 to 3600")
    pace_seconds = _number(env, "INTERVISION_PACE_SECONDS", "1", 0.0, 60.0, problems)
    inbox_threads = int(_number(env, "INTERVISION_INBOX_THREADS", "2", 1, 32, problems))
    role = env.get("INTERVISION_ROLE", "all")
    if role not in ROLES:
        problems.append(f"INTERVISION_ROLE must be one of {', '.join(ROLES)}")
    methods_dir = Path(env["INTERVISION_METHODS_DIR"]) if "INTERVISION_METHODS_DIR" in env else None
    graph_given = [name for name in GRAPH_SETTINGS if name in env]
    if graph_given and len(graph_given) < len(GRAPH_SETTINGS):
        missing = ", ".join(name for name in GRAPH_SETTINGS if name not in env)
        problems.append(f"Outlook calendars need every GRAPH_ setting: {missing} missing")
    if problems:
        raise ConfigError("; ".join(problems))
    return Settings(
        database_url=env.get("DATABASE_URL", Settings.database_url),
        methods_dir=methods_dir,
        language=language,
        timezone=timezone,
        encryption_keys=env.get("INTERVISION_ENCRYPTION_KEYS"),
        key_file=Path(env.get("INTERVISION_KEY_FILE", "intervision.key")),
        protocol_reminders={
            lang: env[f"INTERVISION_PROTOCOL_REMINDER_{lang.upper()}"]
            for lang in LANGUAGES
            if f"INTERVISION_PROTOCOL_REMINDER_{lang.upper()}" in env
        },
        files_dir=Path(env.get("INTERVISION_FILES_DIR", "intervision-files")),
        scheduler_poll_seconds=poll_seconds,
        slack_bot_token=env.get("SLACK_BOT_TOKEN"),
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET"),
        slack_app_token=env.get("SLACK_APP_TOKEN"),
        slack_client_id=env.get("SLACK_CLIENT_ID"),
        slack_client_secret=env.get("SLACK_CLIENT_SECRET"),
        slack_api_url=env.get("SLACK_API_URL", Settings.slack_api_url),
        port=int(port),
        pace_seconds=pace_seconds,
        role=role,
        inbox_threads=inbox_threads,
        teams_client_id=env.get("TEAMS_CLIENT_ID"),
        teams_client_secret=env.get("TEAMS_CLIENT_SECRET"),
        teams_tenant_id=env.get("TEAMS_TENANT_ID"),
        teams_service_url=env.get("TEAMS_SERVICE_URL", Settings.teams_service_url),
        teams_service_url_prefixes=tuple(
            prefix.strip()
            for prefix in env.get("TEAMS_SERVICE_URL_PREFIXES", "").split(",")
            if prefix.strip()
        )
        or Settings.teams_service_url_prefixes,
        graph_tenant_id=env.get("GRAPH_TENANT_ID"),
        graph_client_id=env.get("GRAPH_CLIENT_ID"),
        graph_client_secret=env.get("GRAPH_CLIENT_SECRET"),
        graph_organizer=env.get("GRAPH_ORGANIZER"),
        graph_base_url=env.get("GRAPH_BASE_URL", Settings.graph_base_url),
    )


def _number(
    env: Mapping[str, str],
    name: str,
    default: str,
    low: float,
    high: float,
    problems: list[str],
) -> float:
    """``env[name]`` as a number from ``low`` to ``high``; a problem is noted otherwise."""
    try:
        value = float(env.get(name, default))
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        problems.append(f"{name} must be a number from {low:g} to {high:g}")
        return float(default)
    return value
