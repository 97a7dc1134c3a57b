"""Slack adapter, composition: build the Bolt app, its Web API client and the messenger.

Two ways to run: a single workspace with ``SLACK_BOT_TOKEN``, or many workspaces through
Slack's OAuth install, with slack_sdk's SQLAlchemy installation and state stores on our
own database. Bot tokens are encrypted at rest there (``EncryptedInstallationStore``).
Every Web API client the app creates uses ``SLACK_API_URL`` (tests point it at a fake).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from slack_bolt import App
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient
from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, MetaData, Table, Text

from bot.config import Settings
from bot.handlers.context import Services
from bot.platforms.slack import listeners
from bot.platforms.slack.messenger import SlackMessenger, make_client
from bot.ports import Messenger
from bot.runtime.process import Runtime
from storage.crypto import current_cipher
from storage.log_guard import drop_debug

logger = logging.getLogger(__name__)

BOT_SCOPES = (
    "commands",
    "chat:write",
    "channels:history",
    "groups:history",
    "channels:join",
    "reactions:read",
    "users:read",
    "im:write",
)
"""What the bot asks for at install; the same list is in ``slack/manifest.yaml``."""

SLACK_LOGGERS = (
    "slack_sdk.web.base_client",
    "slack_sdk.web.client",
    "slack_sdk.socket_mode",
    "slack_bolt.App",
    "slack_bolt.oauth",
    "slack_bolt.adapter.wsgi",
)

_SECRET_PREFIX = "enc:"  # noqa: S105 - a marker, not a secret
_TOKEN_FIELDS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token")


class ConfigurationError(Exception):
    """Slack is chosen but cannot run with these settings; the message says what to set."""


@dataclass
class SlackApp:
    """The built Slack side: Bolt app, the messenger, and the runtime behind them."""

    app: App
    messenger: SlackMessenger
    runtime: Runtime
    client: WebClient
    signing_secret: str = ""  # what the request guard verifies signatures with


class EncryptedInstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's SQLAlchemy store with every token encrypted by our cipher.

    Token columns are ``Text`` (ciphertext is longer than the stock ``String(200)``).
    Values written before encryption was on are read as they are.
    """

    @classmethod
    def build_installations_table(cls, metadata: MetaData, table_name: str) -> Table:
        table = super().build_installations_table(metadata, table_name)
        _widen(table)
        return table

    @classmethod
    def build_bots_table(cls, metadata: MetaData, table_name: str) -> Table:
        table = super().build_bots_table(metadata, table_name)
        _widen(table)
        return table

    def save(self, installation: Installation) -> None:
        super().save(_sealed(installation))

    def save_bot(self, bot: Bot) -> None:
        super().save_bot(_sealed(bot))

    def find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = super().find_bot(
            enterprise_id=enterprise_id,
            team_id=team_id,
            is_enterprise_install=is_enterprise_install,
        )
        return _opened(found) if found is not None else None

    def find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        found = super().find_installation(
            enterprise_id=enterprise_id,
            team_id=team_id,
            user_id=user_id,
            is_enterprise_install=is_enterprise_install,
        )
        return _opened(found) if found is not None else None


def _widen(table: Table) -> None:
    for name in _TOKEN_FIELDS:
        if name in table.c:
            table.c[name].type = Text()


def _sealed(entity: Any) -> Any:
    sealed = copy.copy(entity)
    for name in _TOKEN_FIELDS:
        value = getattr(sealed, name, None)
        if value and not str(value).startswith(_SECRET_PREFIX):
            setattr(sealed, name, _SECRET_PREFIX + current_cipher().encrypt(str(value)))
    return sealed


def _opened(entity: Any) -> Any:
    for name in _TOKEN_FIELDS:
        value = getattr(entity, name, None)
        if value and str(value).startswith(_SECRET_PREFIX):
            setattr(entity, name, current_cipher().decrypt(str(value)[len(_SECRET_PREFIX) :]))
    return entity


def build_slack_app(
    settings: Settings,
    services: Services,
    *,
    engine: Engine | None = None,
    client: WebClient | None = None,
    listener_executor: Executor | None = None,
    messengers: Mapping[str, Messenger] | None = None,
) -> SlackApp:
    """The Bolt app for ``settings`` with every listener registered, and its runtime
    (not started: the caller starts it, or tests ``settle`` it).

    Listeners run before the response (``process_before_response``): they store the event
    in the inbox, and Slack is answered after that. ``engine`` is the database for the
    OAuth stores (needed only with ``SLACK_CLIENT_ID``). Tests pass an inline
    ``listener_executor`` so the App Home's lazy listener finishes inside the request.

    Raises:
        ConfigurationError: naming the settings that are missing.
    """
    if not settings.slack_signing_secret:
        raise ConfigurationError("set SLACK_SIGNING_SECRET (Basic Information > App Credentials)")
    # slack_sdk and Bolt log request and response bodies (what people wrote) at DEBUG.
    drop_debug(SLACK_LOGGERS)
    web = client or make_client(settings.slack_api_url, settings.slack_bot_token)
    options: dict[str, Any] = {
        "signing_secret": settings.slack_signing_secret,
        "client": web,
        "process_before_response": True,
        "name": "intervision-bot",
    }
    if listener_executor is not None:
        options["listener_executor"] = listener_executor
    token_for: Callable[[str], str | None] | None = None
    if settings.slack_bot_token:
        if not web.token:  # Bolt takes the token from the client it is given
            web.token = settings.slack_bot_token
    elif settings.slack_client_id and settings.slack_client_secret:
        if engine is None:
            raise ConfigurationError("the OAuth install needs the database engine")
        store = EncryptedInstallationStore(client_id=settings.slack_client_id, engine=engine)
        states = SQLAlchemyOAuthStateStore(expiration_seconds=600, engine=engine)
        options["oauth_settings"] = OAuthSettings(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret,
            scopes=list(BOT_SCOPES),
            installation_store=store,
            state_store=states,
        )

        def token_for(workspace: str) -> str | None:
            bot = store.find_bot(enterprise_id=None, team_id=workspace)
            return bot.bot_token if bot is not None else None

    else:
        raise ConfigurationError(
            "set SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID and SLACK_CLIENT_SECRET "
            "(install into many workspaces)"
        )
    app = App(**options)
    messenger = SlackMessenger(web, token_for=token_for)
    # Other platforms' messengers (Teams) share this process's runtime and outbox.
    runtime = Runtime(services, settings, {**(messengers or {}), messenger.platform: messenger})
    listeners.register(app, services, runtime.ingress, runtime.locales)
    return SlackApp(
        app=app,
        messenger=messenger,
        runtime=runtime,
        client=web,
        signing_secret=settings.slack_signing_secret,
    )
