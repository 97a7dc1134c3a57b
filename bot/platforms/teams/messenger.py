"""Teams adapter, outbound I/O: the ``Messenger`` port over the Teams SDK's API client.

Every call goes to the Bot Connector at the service URL the channel's (or the person's)
activities came from, kept in ``TeamsDirectory``; the SDK's coroutines run on the
process's one loop (``AsyncBridge``), called from the delivery worker's threads.

- ``AnchorView``: a card posted to the channel (a new conversation thread), or, with
  ``update``, the same card replaced in place (PUT on the anchor).
- ``StepPost``, ``ThreadNote``: a card replying in the anchor's thread.
- ``PrivateNotice``, ``DirectMessage``: the person's 1:1 chat with the bot, opened once
  and remembered (targeted "only you" messages in a channel are still a preview).

Failures are translated for the outbox: 429 (with Retry-After), 412 and 5xx and network
trouble become ``TemporaryFailure``; 400, 403, 404 and 413 (too large) ``PermanentFailure``.
The SDK does not retry, nothing here sleeps: the delivery worker paces and retries.
Nothing user-written is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx
from microsoft_teams.api.activities.message.message import MessageActivityInput
from microsoft_teams.api.clients.conversation.params import CreateConversationParams
from microsoft_teams.api.models.account import Account, ConversationAccount
from microsoft_teams.api.models.attachment.attachment import Attachment
from microsoft_teams.api.models.conversation.conversation_reference import (
    ConversationReference,
)
from microsoft_teams.apps import App
from microsoft_teams.apps.activity_send import send_or_update_activity

from bot.messages import (
    AnchorView,
    DirectMessage,
    PrivateNotice,
    StartForm,
    StepPost,
    ThreadNote,
)
from bot.platforms.teams import render
from bot.platforms.teams.bridge import AsyncBridge
from bot.ports import Delivery, PermanentFailure, Posted, TemporaryFailure
from storage.models_teams import TeamsDirectory

logger = logging.getLogger(__name__)

SEND_TIMEOUT_SECONDS = 20.0
RETRY_STATUSES = frozenset({408, 412, 429})
PERMANENT_STATUSES = frozenset({400, 403, 404, 405, 413})
RECONFIGURE_RETRY_SECONDS = 300.0  # 401: the bot's credentials; an admin fixes them


class TeamsMessenger:
    """Delivers neutral messages to Teams (the ``Messenger`` port), one part per call."""

    platform = "teams"

    def __init__(
        self,
        app: App,
        bridge: AsyncBridge,
        directory: TeamsDirectory,
        *,
        bot_id: str,
        default_service_url: str,
        now: Callable[[], Any],
    ) -> None:
        self.app = app
        self.bridge = bridge
        self.directory = directory
        self.bot_id = bot_id
        self.default_service_url = default_service_url
        self._now = now

    def deliver(self, delivery: Delivery) -> Posted:
        message = delivery.message
        try:
            if isinstance(message, AnchorView):
                return Posted(self._anchor(delivery, message))
            if isinstance(message, StepPost):
                return self._in_thread(delivery, render.render_step(message))
            if isinstance(message, ThreadNote):
                names = self._names(delivery.workspace)
                return self._in_thread(delivery, render.render_text(message.text, names))
            if isinstance(message, StartForm):
                return Posted(self._start_form(delivery, message))
            assert isinstance(message, PrivateNotice | DirectMessage)
            return self._personal(delivery, message.user, message.text)
        except httpx.HTTPStatusError as error:
            raise _failure(error.response) from None
        except (httpx.TransportError, TimeoutError, OSError) as error:
            raise TemporaryFailure(f"network: {type(error).__name__}") from None

    # --- message kinds ---------------------------------------------------------------------

    def _anchor(self, delivery: Delivery, view: AnchorView) -> str | None:
        rendered = render.render_anchor(view, self._names(delivery.workspace))
        if not view.update:
            return self._send(delivery.workspace, delivery.channel, rendered)
        if not delivery.thread:
            raise PermanentFailure("anchor_not_posted")
        self._send(delivery.workspace, delivery.channel, rendered, replace=delivery.thread)
        return delivery.thread

    def _start_form(self, delivery: Delivery, form: StartForm) -> str | None:
        """The start form, in the conversation where it was asked for (its submission comes
        from there, so the session starts there), with the members to choose from."""
        tenant, channel = delivery.workspace, delivery.channel
        service_url = self._service_url(tenant, channel)
        api = self.app.api.clone(service_url=service_url)
        members = self.bridge.run(api.conversations.get_members(channel), SEND_TIMEOUT_SECONDS)
        people: list[tuple[str, str]] = []
        for member in members:
            if not member.id or member.id == self.bot_id:
                continue
            name = member.name or ""
            people.append((member.id, name))
            self.directory.remember_person(
                tenant,
                member.id,
                service_url,
                self._now(),
                aad_object_id=member.aad_object_id or None,
                name=name or None,
            )
        people.sort(key=lambda person: person[1].casefold())
        conversation = channel if not form.thread else f"{channel};messageid={form.thread}"
        return self._post(conversation, render.render_start_form(form, people), service_url)

    def _in_thread(self, delivery: Delivery, parts: list[render.TeamsMessage]) -> Posted:
        """Post ``delivery.part`` of ``parts`` in the anchor's thread; the caller stores the
        progress and comes back for the next part."""
        if not 0 <= delivery.part < len(parts):
            return Posted(None)
        conversation = delivery.channel
        if delivery.thread:
            conversation = f"{delivery.channel};messageid={delivery.thread}"
        service_url = self._service_url(delivery.workspace, delivery.channel)
        ref = self._post(conversation, parts[delivery.part], service_url)
        return Posted(ref, more=delivery.part + 1 < len(parts))

    def _personal(self, delivery: Delivery, user: str, value: str) -> Posted:
        parts = render.render_text(value, self._names(delivery.workspace))
        if not 0 <= delivery.part < len(parts):
            return Posted(None)
        chat, service_url = self._personal_chat(delivery, user)
        ref = self._post(chat, parts[delivery.part], service_url)
        return Posted(ref, more=delivery.part + 1 < len(parts))

    def _personal_chat(self, delivery: Delivery, user: str) -> tuple[str, str]:
        """The 1:1 chat with ``user`` (opened now if the bot has none yet) and its URL."""
        tenant = delivery.workspace
        person = self.directory.person(tenant, user)
        service_url = person.service_url if person else self._service_url(tenant, delivery.channel)
        if person is not None and person.personal_chat:
            return person.personal_chat, service_url
        # Fields the SDK's model lacks go out as named here: the API's own spelling.
        extra: dict[str, Any] = {"bot": {"id": self.bot_id}, "isGroup": False}
        params = CreateConversationParams(
            members=[Account(id=user)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
            **extra,
        )
        api = self.app.api.clone(service_url=service_url)
        created = self.bridge.run(api.conversations.create(params), SEND_TIMEOUT_SECONDS)
        if not created.id:
            raise PermanentFailure("conversation_not_created")
        self.directory.remember_personal_chat(tenant, user, created.id, self._now())
        return created.id, service_url

    # --- sending ------------------------------------------------------------------------------

    def _send(
        self,
        tenant: str,
        channel: str,
        message: render.TeamsMessage,
        *,
        replace: str | None = None,
    ) -> str | None:
        service_url = self._service_url(tenant, channel)
        return self._post(channel, message, service_url, replace=replace)

    def _post(
        self,
        conversation: str,
        message: render.TeamsMessage,
        service_url: str,
        *,
        replace: str | None = None,
    ) -> str | None:
        activity = MessageActivityInput().add_attachments(
            Attachment(content_type=render.CARD_TYPE, content=message.card)
        )
        if replace:
            activity = activity.with_id(replace)
        reference = ConversationReference(
            channel_id="msteams",
            service_url=service_url,
            bot=Account(id=self.bot_id),
            conversation=ConversationAccount(id=conversation),
        )
        sent = self.bridge.run(
            send_or_update_activity(self.app.api, activity, reference), SEND_TIMEOUT_SECONDS
        )
        return str(sent.id) if sent.id else None

    def _service_url(self, tenant: str, channel: str) -> str:
        return self.directory.service_url(tenant, channel) or self.default_service_url

    # --- names and locales --------------------------------------------------------------------

    def _names(self, tenant: str) -> render.Names:
        def name(user: str) -> str | None:
            person = self.directory.person(tenant, user)
            return person.name if person is not None else None

        return name

    def locale_of(self, workspace: str, user: str) -> str | None:
        """The person's Teams locale (``de-CH``) from their last activity."""
        person = self.directory.person(workspace, user)
        return person.locale if person is not None else None


def _failure(response: httpx.Response) -> TemporaryFailure | PermanentFailure:
    status = response.status_code
    if status in RETRY_STATUSES or status >= 500:
        header = response.headers.get("retry-after", "")
        seconds = float(header) if header.isdigit() else None
        return TemporaryFailure(f"http_{status}", retry_after=seconds)
    if status == 401:
        logger.error("the Bot Connector refused the bot's token (401); check TEAMS_* settings")
        return TemporaryFailure("http_401", retry_after=RECONFIGURE_RETRY_SECONDS)
    if status in PERMANENT_STATUSES:
        return PermanentFailure(f"http_{status}")
    logger.warning("unexpected Bot Connector answer HTTP %s; will retry", status)
    return TemporaryFailure(f"http_{status}")
