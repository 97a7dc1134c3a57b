"""Teams adapter, composition and inbound I/O: the SDK's ``App`` inside our own server.

The SDK is built with every option said explicitly (it would otherwise read generic
names such as ``CLIENT_ID`` or ``DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS`` from the
environment and a ``.env``) and a route-collecting adapter instead of its own uvicorn:
``endpoint`` is a WSGI application for ``POST /api/messages`` that hands the body to the
SDK's handler on the process's one loop. The SDK checks the Bot Framework JWT (on in
production); our one handler then parses the activity into neutral events and stores
them through the runtime's ingress, off the loop, before the request is answered.
Nothing is applied or sent in the request: the inbox and delivery workers do that.

Nothing of an activity is logged (the SDK logs activities at debug level: dropped).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.handlers.context import Services
from bot.i18n import t
from bot.platforms.teams import parse
from bot.platforms.teams.bridge import AsyncBridge
from bot.platforms.teams.ids import CARD_ACTION_INVOKE, ENDPOINT
from bot.runtime.ingress import Ingress
from storage.log_guard import drop_debug
from storage.models_teams import TeamsDirectory

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

    from microsoft_teams.apps import App

    from bot.platforms.teams.messenger import TeamsMessenger

logger = logging.getLogger(__name__)

REQUEST_TIMEOUT_SECONDS = 15.0  # the Bot Connector gives up at about 15 s
MAX_BODY_BYTES = 1_000_000
SDK_TYPES = parse.HANDLED_TYPES | {"conversationUpdate", "installationUpdate"}
"""Types handed to the SDK; any other is answered 200 here (the SDK would answer 500)."""
TEAMS_LOGGERS = ("microsoft_teams", "microsoft_teams.apps", "microsoft_teams.apps.app_process")
CARD_ACTION_DONE = {
    "statusCode": 200,
    "type": "application/vnd.microsoft.activity.message",
    "value": "",
}

_raw_activity: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("activity")


class ConfigurationError(Exception):
    """Teams is chosen but cannot run with these settings; the message says what to set."""


class Routes:
    """The smallest ``HttpServerAdapter``: it keeps the handler the SDK registers."""

    def __init__(self) -> None:
        self.handlers: dict[tuple[str, str], Any] = {}

    def register_route(self, method: str, path: str, handler: Any) -> None:
        self.handlers[(method, path)] = handler


@dataclass
class TeamsApp:
    """The built Teams side: the SDK app on its loop, the directory and the messenger."""

    app: App
    bridge: AsyncBridge
    directory: TeamsDirectory
    messenger: TeamsMessenger
    routes: Routes
    allowed_service_url: Callable[[str], bool]
    clock: Callable[[], Any]
    language: str = "en"  # for a refusal when the activity has no locale we speak
    ingress: Ingress | None = field(default=None)

    def connect(self, ingress: Ingress) -> None:
        """Hand activities to ``ingress`` from now on (once, from the composition)."""
        self.ingress = ingress

        async def on_activity(ctx: Any) -> Any:
            activity = _raw_activity.get({})
            answer = await asyncio.to_thread(self.receive, activity)
            if activity.get("type") == "invoke":
                return {"status": 200, "body": answer or CARD_ACTION_DONE}
            return None

        self.app.on_activity(on_activity)
        self.bridge.run(self.app.initialize())

    def receive(self, activity: dict[str, Any]) -> dict[str, Any] | None:
        """Remember where the activity came from and store its events (a request thread).

        Returns:
            The answer to a card button's invoke when it is not the usual one: the start
            form's refusal, for the presser alone.
        """
        assert self.ingress is not None, "connect() first"
        service_url = parse.service_url_of(activity)
        where = parse.where_of(activity)
        if not self.allowed_service_url(service_url):
            logger.warning("Teams activity with a service URL not allowed: ignored")
            return None
        if where is not None:
            self._remember(activity, where.workspace, where.channel, service_url)
        if parse.is_start_form(activity):
            return self._start_form(activity)
        for event in parse.parse_activity(activity):
            self.ingress.accept(event)
        return None

    def _start_form(self, activity: dict[str, Any]) -> dict[str, Any] | None:
        """A filled-in start form goes to the inbox; one with errors is answered with them
        (the same rules as Slack's modal), in the person's language."""
        assert self.ingress is not None
        event, errors = parse.parse_start_form(activity)
        if event is not None:
            self.ingress.accept(event)
            return None
        if not errors:
            return None
        lang = parse.language_of(activity) or self.language
        lines = [
            f"{t(f'slack.modal.{field}', lang)}: {t(key, lang, **params)}"
            for field, (key, params) in errors.items()
        ]
        return {**CARD_ACTION_DONE, "value": "\n".join(lines)}

    def _remember(self, activity: dict[str, Any], tenant: str, channel: str, url: str) -> None:
        now = self.clock()
        self.directory.remember_channel(tenant, channel, url, now)
        sender = parse.user_of(activity)
        locale = str(activity.get("locale") or "")[:35] or None
        for person in parse.people_of(activity):
            self.directory.remember_person(
                tenant,
                person.user,
                url,
                now,
                aad_object_id=person.aad_object_id or None,
                name=person.name or None,
                locale=locale if person.user == sender else None,
            )

    # --- the WSGI endpoint --------------------------------------------------------------------

    def endpoint(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """``POST /api/messages``: the SDK validates the JWT and calls ``receive``."""
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if not 0 < length <= MAX_BODY_BYTES:
            return _answer(start_response, 400, None)
        try:
            body = json.loads(environ["wsgi.input"].read(length))
        except (ValueError, RecursionError):
            return _answer(start_response, 400, None)
        if not isinstance(body, dict):
            return _answer(start_response, 400, None)
        kind = body.get("type")
        if kind not in SDK_TYPES or (kind == "invoke" and body.get("name") != CARD_ACTION_INVOKE):
            return _answer(start_response, 200, None)
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        handler = self.routes.handlers[("POST", ENDPOINT)]
        result = self.bridge.run(_handle(handler, body, headers), REQUEST_TIMEOUT_SECONDS)
        return _answer(start_response, int(result.get("status") or 500), result.get("body"))


async def _handle(handler: Any, body: dict[str, Any], headers: dict[str, str]) -> Any:
    _raw_activity.set(body)  # the handler reads the exact JSON, not the SDK's model of it
    return await handler({"body": body, "headers": headers})


def _answer(start_response: StartResponse, status: int, body: Any) -> list[bytes]:
    payload = b"" if body is None else json.dumps(body).encode("utf-8")
    start_response(
        f"{status} {'OK' if status < 400 else 'Error'}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def service_url_check(prefixes: tuple[str, ...]) -> Callable[[str], bool]:
    """Whether a service URL is one the bot may send its token to."""

    def allowed(url: str) -> bool:
        return bool(url) and any(url.startswith(prefix) for prefix in prefixes)

    return allowed


def build_teams(
    settings: Settings,
    services: Services,
    *,
    token: Callable[..., Any] | None = None,
    cloud: Any = None,
    allow_unauthenticated: bool = False,
) -> TeamsApp:
    """The Teams SDK app for ``settings``, its loop, the directory and the messenger (not yet
    connected to an ingress: ``TeamsApp.connect``).

    Tests pass ``token`` (a stand-in for the bot's credentials), ``cloud`` (a local key
    set) or ``allow_unauthenticated``; production passes none of them.

    Raises:
        ConfigurationError: naming the settings that are missing.
    """
    if not settings.teams_client_id:
        raise ConfigurationError("set TEAMS_CLIENT_ID (the bot's Entra application id)")
    if token is None and not settings.teams_client_secret:
        raise ConfigurationError("set TEAMS_CLIENT_SECRET (the bot's client secret)")
    drop_debug(TEAMS_LOGGERS)
    from microsoft_teams.api.auth.cloud_environment import PUBLIC
    from microsoft_teams.apps import App

    from bot.platforms.teams.messenger import TeamsMessenger

    bridge = AsyncBridge()
    routes = Routes()
    # Every option explicit: the SDK falls back to generic environment names otherwise.
    options: dict[str, Any] = {
        "client_id": settings.teams_client_id,
        "client_secret": None if token is not None else settings.teams_client_secret,
        "tenant_id": settings.teams_tenant_id,
        "service_url": settings.teams_service_url,
        "cloud": cloud or PUBLIC,
        "http_server_adapter": routes,
        "messaging_endpoint": ENDPOINT,
        "dangerously_allow_unauthenticated_requests": allow_unauthenticated,
    }
    if token is not None:
        options["token"] = token

    async def make() -> App:  # the SDK's clients belong to the loop that made them
        return App(**options)

    app = bridge.run(make())
    directory = TeamsDirectory(services.store.engine)
    messenger = TeamsMessenger(
        app,
        bridge,
        directory,
        bot_id=f"28:{settings.teams_client_id}",
        default_service_url=settings.teams_service_url,
        now=services.clock,
    )
    return TeamsApp(
        app=app,
        bridge=bridge,
        directory=directory,
        messenger=messenger,
        routes=routes,
        allowed_service_url=service_url_check(settings.teams_service_url_prefixes),
        clock=services.clock,
        language=services.language,
    )
