"""Slack adapter, inbound I/O: every Bolt listener, registered explicitly by ``register``.

Each listener acknowledges at once (Slack wants an answer within 3 seconds), then parses
the payload into a neutral event, hands it to ``bot.handlers.dispatch`` (which handles an
event id once only, so Slack's retries change nothing) and drains the outbox through the
Slack messenger. Slow work runs in lazy listeners.

This is also the one place where an unexpected error meets a Slack user: it is logged by
type only (never with tokens or what people wrote) and answered with a generic private
message in the user's language.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from slack_sdk.models.blocks import (
    CheckboxesElement,
    InputBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from bot.delivery import deliver_pending
from bot.events import InboundEvent
from bot.flows.group_settings import timing_of
from bot.flows.method import Catalogue
from bot.handlers import dispatch
from bot.handlers.context import Services
from bot.handlers.privacy import privacy_of, privacy_text
from bot.handlers.timers import settings_text
from bot.i18n import LANGUAGES, t
from bot.messages import PrivateNotice
from bot.platforms.slack import parse
from bot.platforms.slack.ids import (
    COMMAND,
    NAMED_RECORD_OPTION,
    SCHEDULE_FIELD,
    Action,
    Callback,
    Field,
)
from bot.platforms.slack.messenger import SlackMessenger
from bot.platforms.slack.render import escape, fill, sections, text
from bot.ports import Delivery, PermanentFailure, TemporaryFailure
from storage.repositories import Group

logger = logging.getLogger(__name__)

MAX_DRAIN_ROUNDS = 100
LOCALE_TTL_SECONDS = 3600.0
DEFAULT_SCHEDULE_TEXT = "quarterly first tuesday 14:00 Europe/Zurich at "
LANGUAGE_NAMES = {"nl": "Nederlands", "de": "Deutsch", "en": "English"}

Payload = Mapping[str, Any]


class Outbox:
    """Drains the durable outbox through the Slack messenger, one drain at a time."""

    def __init__(self, services: Services, messenger: SlackMessenger) -> None:
        self.services = services
        self.messenger = messenger
        self._lock = threading.Lock()

    def drain(self) -> int:
        """Deliver everything due now; returns how many messages were taken up."""
        handled = 0
        with self._lock:
            for _ in range(MAX_DRAIN_ROUNDS):
                batch = deliver_pending(self.services.store, self.messenger, self.services.clock)
                if not batch:
                    break
                handled += batch
        return handled


class Listeners:
    """The listener functions, sharing the services, the messenger and the outbox."""

    def __init__(self, services: Services, messenger: SlackMessenger, outbox: Outbox) -> None:
        self.services = services
        self.messenger = messenger
        self.outbox = outbox
        self._locales: dict[tuple[str, str], tuple[float, str | None]] = {}

    # --- slash command ----------------------------------------------------------------------

    def on_command(self, body: Payload, client: WebClient) -> None:
        """(lazy) ``/intervision ...``: the start modal, or a sub-command for the core."""
        workspace, user = parse.workspace_of(body), str(body.get("user_id", ""))
        language = self.language_of(workspace, user)
        command_text = str(body.get("text", ""))
        if parse.wants_schedule_modal(command_text):
            view = schedule_modal(
                language or self.services.language, str(body.get("channel_id", ""))
            )
            client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)
            return
        if parse.wants_start_modal(command_text):
            self._join(client, str(body.get("channel_id", "")))
            self.open_start_modal(client, body, language)
            return
        if command_text.strip().lower().startswith("start"):
            self._join(client, str(body.get("channel_id", "")))
        event = parse.parse_command(body, now=self.services.clock(), language=language)
        self.run(event)

    def open_start_modal(self, client: WebClient, body: Payload, language: str | None) -> None:
        lang = language or self.services.language
        view = start_modal(
            self.services.catalogue,
            lang,
            channel=str(body.get("channel_id", "")),
            invoker=str(body.get("user_id", "")),
            method_id=parse.preselected_method(str(body.get("text", ""))),
        )
        client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)

    # --- start modal --------------------------------------------------------------------------

    def ack_start(self, ack: Ack, body: Payload) -> None:
        """Check the modal before it closes; errors are shown next to the field."""
        values = parse.start_form_values(body.get("view") or {})
        errors = parse.start_form_errors(values)
        if not errors:
            ack()
            return
        user = str((body.get("user") or {}).get("id", ""))
        lang = self.language_of(parse.workspace_of(body), user) or self.services.language
        ack(
            response_action="errors",
            errors={block: t(key, lang, **params) for block, (key, params) in errors.items()},
        )

    def on_schedule_submitted(self, body: Payload) -> None:
        """(lazy) The CoP schedule modal: the same as ``/intervision cop schedule <text>``."""
        user = str((body.get("user") or {}).get("id", ""))
        language = self.language_of(parse.workspace_of(body), user)
        self.run(
            parse.parse_schedule_submission(body, now=self.services.clock(), language=language)
        )

    def on_start_submitted(self, body: Payload) -> None:
        """(lazy) A valid start modal: start the session in the channel it was opened in."""
        user = str((body.get("user") or {}).get("id", ""))
        language = self.language_of(parse.workspace_of(body), user)
        event = parse.parse_start_submission(body, now=self.services.clock(), language=language)
        self.run(event)

    # --- events -----------------------------------------------------------------------------

    def on_event(self, body: Payload, context: BoltContext) -> None:
        """Messages in threads, their edits and deletions, reactions."""
        event = parse.parse_event(body, context.bot_user_id)
        if event is not None:
            self.run(event)

    def on_action(self, body: Payload) -> None:
        """(lazy) A Ready / Next step / Pause / Resume button."""
        event = parse.parse_action(body)
        if event is not None:
            self.run(event)

    def on_adopt(self, body: Payload) -> None:
        """(lazy) The message shortcut: add a channel message to the current step."""
        event = parse.parse_shortcut(body)
        if event is not None:
            self.run(event)

    def on_home(self, event: Payload, client: WebClient, context: BoltContext) -> None:
        """The App Home tab: the user's open sessions."""
        if event.get("tab") not in (None, "home"):
            return
        user = str(event.get("user", ""))
        workspace = str(context.team_id or "")
        language = self.language_of(workspace, user) or self.services.language
        client.views_publish(user_id=user, view=home_view(self.services, workspace, user, language))

    # --- the way into the core ----------------------------------------------------------------

    def run(self, event: InboundEvent) -> None:
        """Dispatch ``event`` once, then send what it queued (and anything else due)."""
        try:
            dispatch(self.services, event)
        except Exception as error:
            logger.exception("handling %s failed (%s)", type(event).__name__, type(error).__name__)
            self._apologise(event)
        finally:
            self.outbox.drain()

    def _apologise(self, event: InboundEvent) -> None:
        lang = getattr(event, "language", None) or self.services.language
        where = event.where
        notice = PrivateNotice(event.user, text("slack.error.generic", lang), where.thread)
        try:
            self.messenger.deliver(Delivery(where.workspace, where.channel, notice, where.thread))
        except (TemporaryFailure, PermanentFailure) as failure:
            logger.warning("could not tell the user about an error: %s", failure.reason)

    def language_of(self, workspace: str, user: str) -> str | None:
        """The user's language from their Slack locale, when we speak it (cached an hour)."""
        key = (workspace, user)
        cached = self._locales.get(key)
        now = time.monotonic()
        if cached is not None and now - cached[0] < LOCALE_TTL_SECONDS:
            return cached[1]
        locale = self.messenger.locale_of(workspace, user) if user else None
        short = locale.replace("_", "-").split("-")[0].lower() if locale else None
        language = short if short in LANGUAGES else None
        self._locales[key] = (now, language)
        return language

    def _join(self, client: WebClient, channel: str) -> None:
        """Join a public channel so the bot hears the thread replies; private ones need /invite."""
        if not channel.startswith("C"):
            return
        try:
            client.conversations_join(channel=channel)
        except Exception as error:  # the post itself will say what is wrong
            logger.info("could not join the channel: %s", type(error).__name__)

    def on_error(self, error: Exception, body: Payload) -> None:
        """Bolt's global error handler: log the kind of error, nothing of the payload."""
        logger.error("Slack request of type %s failed: %s", body.get("type"), type(error).__name__)


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, services: Services, messenger: SlackMessenger) -> Outbox:
    """Register every listener on ``app`` (once, from the composition); returns the outbox
    drainer so the caller can also drain it on a timer."""
    outbox = Outbox(services, messenger)
    listeners = Listeners(services, messenger, outbox)
    app.command(COMMAND)(ack=_ack, lazy=[listeners.on_command])
    app.event("message")(listeners.on_event)
    app.event("reaction_added")(listeners.on_event)
    app.event("reaction_removed")(listeners.on_event)
    app.event("app_home_opened")(listeners.on_home)
    for action in Action:
        app.action(action.value)(ack=_ack, lazy=[listeners.on_action])
    app.view(Callback.START_MODAL.value)(
        ack=listeners.ack_start, lazy=[listeners.on_start_submitted]
    )
    app.view(Callback.SCHEDULE_MODAL.value)(ack=_ack, lazy=[listeners.on_schedule_submitted])
    app.shortcut(Callback.ADOPT_SHORTCUT.value)(ack=_ack, lazy=[listeners.on_adopt])
    app.error(listeners.on_error)
    return outbox


# --- views ------------------------------------------------------------------------------------


def schedule_modal(lang: str, channel: str) -> dict[str, Any]:
    """When and where the channel's CoP meets, in the words ``cop schedule`` understands."""
    view = View(
        type="modal",
        callback_id=Callback.SCHEDULE_MODAL.value,
        title=PlainTextObject(text=text("slack.schedule.title", lang)[:24]),
        submit=PlainTextObject(text=text("slack.modal.submit", lang)[:24]),
        close=PlainTextObject(text=text("slack.modal.cancel", lang)[:24]),
        private_metadata=parse.modal_metadata(channel),
        blocks=[
            InputBlock(
                block_id=SCHEDULE_FIELD,
                label=_label("slack.schedule.label", lang),
                element=PlainTextInputElement(
                    action_id=SCHEDULE_FIELD,
                    initial_value=DEFAULT_SCHEDULE_TEXT,
                    max_length=300,
                ),
                hint=text("slack.schedule.hint", lang),
            )
        ],
    )
    built: dict[str, Any] = view.to_dict()
    return built


def _label(key: str, lang: str) -> PlainTextObject:
    return PlainTextObject(text=text(key, lang)[:2000])


def _option(label: str, value: str) -> Option:
    return Option(text=PlainTextObject(text=label[:75]), value=value)


def start_modal(
    catalogue: Catalogue,
    lang: str,
    *,
    channel: str,
    invoker: str,
    method_id: str | None = None,
) -> dict[str, Any]:
    """The start modal (Block Kit view) with ``method_id`` preselected if it exists."""
    methods = [_option(m.names.get(lang) or m.id, m.id) for m in catalogue.all()][:100]
    chosen = next((o for o in methods if o.value == method_id), None)
    modes = [
        _option(text("slack.modal.mode.sync", lang), "sync"),
        _option(text("slack.modal.mode.async", lang), "async"),
    ]
    languages = [_option(LANGUAGE_NAMES[code], code) for code in LANGUAGES]
    named = _option(text("slack.modal.named_record", lang), NAMED_RECORD_OPTION)

    def field(
        name: Field, key: str, element: Any, *, optional: bool = False, hint: str | None = None
    ) -> InputBlock:
        element.action_id = name.value
        return InputBlock(
            block_id=name.value,
            label=_label(key, lang),
            element=element,
            optional=optional,
            hint=PlainTextObject(text=hint) if hint else None,
        )

    blocks = [
        field(
            Field.METHOD,
            "slack.modal.method",
            StaticSelectElement(options=methods, initial_option=chosen),
        ),
        field(Field.CASE_OWNER, "slack.modal.case_owner", UserSelectElement()),
        field(
            Field.FACILITATOR,
            "slack.modal.facilitator",
            UserSelectElement(initial_user=invoker or None),
        ),
        field(
            Field.PARTICIPANTS,
            "slack.modal.participants",
            UserMultiSelectElement(),
            optional=True,
            hint=text("slack.modal.participants_hint", lang),
        ),
        field(
            Field.MODE,
            "slack.modal.mode",
            RadioButtonsElement(options=modes, initial_option=modes[0]),
        ),
        field(
            Field.DEADLINE_HOURS,
            "slack.modal.deadline_hours",
            NumberInputElement(is_decimal_allowed=False, min_value="1", max_value="336"),
            optional=True,
        ),
        field(
            Field.LANGUAGE,
            "slack.modal.language",
            StaticSelectElement(
                options=languages,
                initial_option=next(o for o in languages if o.value == lang),
            ),
        ),
        field(
            Field.NAMED_RECORD,
            "slack.modal.record",
            CheckboxesElement(options=[named], initial_options=[named]),
            optional=True,
        ),
    ]
    view = View(
        type="modal",
        callback_id=Callback.START_MODAL.value,
        title=PlainTextObject(text=text("slack.modal.title", lang)[:24]),
        submit=PlainTextObject(text=text("slack.modal.submit", lang)[:24]),
        close=PlainTextObject(text=text("slack.modal.cancel", lang)[:24]),
        private_metadata=parse.modal_metadata(channel),
        blocks=blocks,
    )
    built: dict[str, Any] = view.to_dict()
    return built


def home_view(services: Services, workspace: str, user: str, lang: str) -> dict[str, Any]:
    """The App Home tab: the user's open sessions in this workspace, and their groups' settings."""
    found = open_sessions_of(services, workspace, user)
    lines = [
        "• "
        + fill(
            "slack.home.session",
            lang,
            method=escape(session.method.names.get(lang) or session.method.id),
            channel=_channel_link(group.channel),
            number=str(session.step_number),
            count=str(len(session.method.steps)),
            status=escape(t(f"status.{session.status.value}", lang)),
        )
        for session, group in found
    ]
    body = "\n".join(lines) if lines else escape(text("slack.home.none", lang))
    title = SectionBlock(
        text=MarkdownTextObject(text=f"*{escape(text('slack.home.title', lang))}*")
    )
    blocks = [title, *sections(body)]
    groups = {group.id: group for _, group in found}
    if groups:
        heading = f"*{escape(t('slack.home.groups', lang))}*"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=heading)))
        for group in groups.values():
            blocks.extend(sections(_group_settings(group, lang)))
    view = View(type="home", blocks=blocks[:100])
    built: dict[str, Any] = view.to_dict()
    return built


def _group_settings(group: Group, lang: str) -> str:
    timing = timing_of(group.settings, group.timezone)
    link = _channel_link(group.channel)
    head = t("slack.home.group", lang, channel=link, code=group.language)
    details = f"{settings_text(timing, lang)}\n{privacy_text(privacy_of(group.settings), lang)}"
    return f"{head}\n{escape(details)}"


def _channel_link(channel: str) -> str:
    return f"<#{channel}>" if channel.isalnum() else escape(channel)


OpenSessions = Callable[[Services, str, str], list[tuple[Any, Group]]]


def open_sessions_of(services: Services, workspace: str, user: str) -> list[tuple[Any, Group]]:
    """The user's open sessions with their groups."""
    with services.store.transaction() as tx:
        return [
            (session, tx.group_of_session(session.id))
            for session, _ in tx.open_sessions_of_user(parse.PLATFORM, workspace, user)
        ]
