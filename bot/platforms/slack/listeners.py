"""Slack adapter, inbound I/O: every Bolt listener, registered explicitly by ``register``.

The app runs with ``process_before_response``: a listener runs inside the request and
Slack gets its answer when the listener returns. Each listener parses the payload into a
neutral event and hands it to the runtime's ingress, which commits it to the inbox; only
then is Slack answered, so nothing Slack was told had arrived can be lost. Applying the
event and posting what it causes happen later, in the inbox worker and the delivery
worker, never in a request. Opening a modal (which needs the trigger id within 3 seconds)
is the one Web API call made inside a request.

Nothing of a payload is logged: errors are logged by type only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from slack_bolt import Ack, App, BoltContext, BoltResponse
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

from bot.events import InboundEvent
from bot.flows.group_settings import timing_of
from bot.flows.method import Catalogue
from bot.handlers.context import Services
from bot.handlers.privacy import privacy_of, privacy_text
from bot.handlers.timers import settings_text
from bot.i18n import LANGUAGES, t
from bot.platforms.slack import parse
from bot.platforms.slack.ids import (
    COMMAND,
    SCHEDULE_FIELD,
    Action,
    Callback,
    Field,
)
from bot.platforms.slack.render import escape, fill, sections, text
from bot.runtime.ingress import Ingress
from bot.runtime.worker import Locales
from bot.start_form import NAMED_RECORD_OPTION, start_form_errors
from storage.repositories import Group

logger = logging.getLogger(__name__)

DEFAULT_SCHEDULE_TEXT = "quarterly first tuesday 14:00 Europe/Zurich at "
LANGUAGE_NAMES = {"nl": "Nederlands", "de": "Deutsch", "en": "English"}

Payload = Mapping[str, Any]


class Listeners:
    """The listener functions, sharing the services, the ingress and the locale cache."""

    def __init__(self, services: Services, ingress: Ingress, locales: Locales) -> None:
        self.services = services
        self.ingress = ingress
        self.locales = locales

    # --- slash command ----------------------------------------------------------------------

    def on_command(self, ack: Ack, body: Payload, client: WebClient) -> None:
        """``/intervision ...``: a form to open now, or a sub-command for the inbox."""
        command_text = str(body.get("text", ""))
        if parse.wants_schedule_modal(command_text) or parse.wants_start_modal(command_text):
            language = self.language_of(parse.workspace_of(body), str(body.get("user_id", "")))
            self._open_modal(client, body, language or self.services.language)
            ack()
            return
        self.ingress.accept(parse.parse_command(body, now=self.services.clock()))
        ack()

    def _open_modal(self, client: WebClient, body: Payload, lang: str) -> None:
        trigger = str(body.get("trigger_id", ""))
        channel = str(body.get("channel_id", ""))
        command_text = str(body.get("text", ""))
        if parse.wants_schedule_modal(command_text):
            client.views_open(trigger_id=trigger, view=schedule_modal(lang, channel))
            return
        view = start_modal(
            self.services.catalogue,
            lang,
            channel=channel,
            invoker=str(body.get("user_id", "")),
            method_id=parse.preselected_method(command_text),
        )
        client.views_open(trigger_id=trigger, view=view)

    # --- forms ----------------------------------------------------------------------------

    def on_start_submitted(self, ack: Ack, body: Payload) -> None:
        """The start modal: errors are shown next to the field; a valid form goes to the inbox."""
        values = parse.start_form_values(body.get("view") or {})
        errors = start_form_errors(values)
        if errors:
            user = str((body.get("user") or {}).get("id", ""))
            lang = self.language_of(parse.workspace_of(body), user) or self.services.language
            ack(
                response_action="errors",
                errors={block: t(key, lang, **params) for block, (key, params) in errors.items()},
            )
            return
        self._accept(parse.parse_start_submission(body, now=self.services.clock()))
        ack()

    def on_schedule_submitted(self, ack: Ack, body: Payload) -> None:
        """The CoP schedule modal: the same as ``/intervision cop schedule <text>``."""
        self._accept(parse.parse_schedule_submission(body, now=self.services.clock()))
        ack()

    # --- events, buttons, shortcuts -----------------------------------------------------------

    def on_event(self, body: Payload, context: BoltContext) -> None:
        """Messages in threads, their edits and deletions, reactions."""
        self._accept(parse.parse_event(body, context.bot_user_id))

    def on_action(self, ack: Ack, body: Payload) -> None:
        """A Ready / Next step / Pause / Resume button."""
        self._accept(parse.parse_action(body))
        ack()

    def on_adopt(self, ack: Ack, body: Payload) -> None:
        """The message shortcut: add a channel message to the current step."""
        self._accept(parse.parse_shortcut(body))
        ack()

    def on_home(self, event: Payload, client: WebClient, context: BoltContext) -> None:
        """(lazy) The App Home tab: the user's open sessions."""
        if event.get("tab") not in (None, "home"):
            return
        user = str(event.get("user", ""))
        workspace = str(context.team_id or "")
        language = self.language_of(workspace, user) or self.services.language
        client.views_publish(user_id=user, view=home_view(self.services, workspace, user, language))

    # --- the way into the core ----------------------------------------------------------------

    def _accept(self, event: InboundEvent | None) -> None:
        if event is not None:
            self.ingress.accept(event)

    def language_of(self, workspace: str, user: str) -> str | None:
        """The user's language from their Slack locale, when we speak it."""
        return self.locales.language(parse.PLATFORM, workspace, user)

    def on_error(self, error: Exception, body: Payload, response: BoltResponse | None) -> None:
        """Bolt's global error handler: log the kind of error, nothing of the payload. A
        payload the parse cannot read (``parse.ParseError``) is answered 400, not 500."""
        if isinstance(error, parse.ParseError) and response is not None:
            response.status = 400
            logger.info("unreadable Slack request of type %s refused", body.get("type"))
            return
        logger.error("Slack request of type %s failed: %s", body.get("type"), type(error).__name__)


def _ack(ack: Ack) -> None:
    ack()


def register(app: App, services: Services, ingress: Ingress, locales: Locales) -> None:
    """Register every listener on ``app`` (once, from the composition)."""
    listeners = Listeners(services, ingress, locales)
    app.command(COMMAND)(listeners.on_command)
    app.event("message")(listeners.on_event)
    app.event("reaction_added")(listeners.on_event)
    app.event("reaction_removed")(listeners.on_event)
    app.event("app_home_opened")(ack=_ack, lazy=[listeners.on_home])
    for action in Action:
        app.action(action.value)(listeners.on_action)
    app.view(Callback.START_MODAL.value)(listeners.on_start_submitted)
    app.view(Callback.SCHEDULE_MODAL.value)(listeners.on_schedule_submitted)
    app.shortcut(Callback.ADOPT_SHORTCUT.value)(listeners.on_adopt)
    app.error(listeners.on_error)


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
