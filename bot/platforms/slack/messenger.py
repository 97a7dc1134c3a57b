"""Slack adapter, outbound I/O: the ``Messenger`` port over slack_sdk's ``WebClient``.

Renders each neutral message with ``render`` and sends it with the Web API: posts and
thread replies with ``chat.postMessage``, anchor updates with ``chat.update``, private
notices with ``chat.postEphemeral`` (a direct message when the user cannot get one in the
channel), direct messages with ``conversations.open`` + ``chat.postMessage``.

Failures are translated for the outbox: 429 becomes ``TemporaryFailure`` with Slack's
``Retry-After``; 5xx and network trouble (after the SDK's own retries) ``TemporaryFailure``;
errors that no retry can fix (``channel_not_found``, ``invalid_blocks`` ...)
``PermanentFailure``. When the bot is not in a channel it joins it and sends again; a
channel it cannot join (private) raises ``NotAMember``. A message Slack takes in several
posts is delivered one part per call, so the delivery worker stores the progress and paces
the posts (about one a second per channel: ``PACE_SECONDS``); nothing here sleeps.
Nothing user-written is logged; error logs name the Slack error code only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web import SlackResponse

from bot.messages import AnchorView, DirectMessage, PrivateNotice, StepPost, ThreadNote
from bot.platforms.slack import render
from bot.ports import Delivery, NotAMember, PermanentFailure, Posted, TemporaryFailure

logger = logging.getLogger(__name__)

PACE_SECONDS = 1.0
"""Seconds between posts into one channel (Slack allows about one a second)."""

PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "message_not_found",
        "cant_update_message",
        "edit_window_closed",
        "user_not_found",
        "user_not_in_channel",
        "cannot_dm_bot",
        "user_disabled",
        "restricted_action",
        "invalid_arguments",
    }
)
"""Slack error codes that no retry will fix: the message is marked dead."""

RECONFIGURABLE_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "token_revoked",
        "token_expired",
        "account_inactive",
        "missing_scope",
        "team_not_found",
        "no_permission",
    }
)
"""Errors an admin fixes (reinstall, new token, scope): kept queued and retried slowly."""

RECONFIGURE_RETRY_SECONDS = 300.0

CANNOT_JOIN = frozenset(
    {"method_not_supported_for_channel_type", "channel_not_found", "is_archived"}
)
"""``conversations.join`` errors that mean a person has to invite the bot."""

_NO_EPHEMERAL = frozenset({"user_not_in_channel", "channel_not_found", "not_in_channel"})


def make_client(
    base_url: str,
    token: str | None = None,
    *,
    interval: RetryIntervalCalculator | None = None,
    server_retries: int = 2,
) -> WebClient:
    """A WebClient on ``base_url`` retrying connection and server errors (not 429: the
    outbox waits out a rate limit instead of blocking a thread)."""
    calculator = interval or BackoffRetryIntervalCalculator(backoff_factor=0.5)
    handlers: list[RetryHandler] = [
        ConnectionErrorRetryHandler(max_retry_count=2, interval_calculator=calculator),
        ServerErrorRetryHandler(max_retry_count=server_retries, interval_calculator=calculator),
    ]
    url = base_url if base_url.endswith("/") else f"{base_url}/"
    return WebClient(token=token, base_url=url, retry_handlers=handlers, timeout=10)


class SlackMessenger:
    """Delivers neutral messages to Slack (the ``Messenger`` port), one part per call."""

    platform = "slack"

    def __init__(
        self, client: WebClient, *, token_for: Callable[[str], str | None] | None = None
    ) -> None:
        """``token_for(workspace)`` gives a bot token per workspace (OAuth); without it the
        client's own token is used."""
        self.client = client
        self._token_for = token_for
        self._names: dict[tuple[str, str], str] = {}

    def deliver(self, delivery: Delivery) -> Posted:
        message = delivery.message
        token = self._token(delivery.workspace)
        try:
            if isinstance(message, AnchorView):
                return Posted(self._anchor(delivery, message, token))
            if isinstance(message, StepPost):
                return self._post_part(delivery, render.render_step(message), token)
            if isinstance(message, ThreadNote):
                names = self._namer(delivery.workspace, token)
                return self._post_part(delivery, render.render(message, names), token)
            if isinstance(message, PrivateNotice):
                return self._notice(delivery, message, token)
            assert isinstance(message, DirectMessage)
            return self._direct(delivery, message.user, message.text, token)
        except SlackApiError as error:
            raise _failure(error) from None
        except (URLError, OSError, TimeoutError) as error:
            raise TemporaryFailure(f"network: {type(error).__name__}") from None
        except SlackClientError as error:
            raise PermanentFailure(f"client: {type(error).__name__}") from None

    # --- message kinds ---------------------------------------------------------------------

    def _anchor(self, delivery: Delivery, view: AnchorView, token: str | None) -> str | None:
        rendered = render.render_anchor(view)
        if not view.update:
            return self._post(delivery.channel, rendered, None, token)
        if not delivery.thread:
            raise PermanentFailure("anchor_not_posted")
        thread = delivery.thread
        self._as_member(
            delivery.channel,
            token,
            lambda: self.client.chat_update(
                channel=delivery.channel,
                ts=thread,
                text=rendered.text,
                blocks=rendered.blocks,
                token=token,
            ),
        )
        return thread

    def _notice(self, delivery: Delivery, notice: PrivateNotice, token: str | None) -> Posted:
        parts = render.render(notice, self._namer(delivery.workspace, token))
        part = _part(parts, delivery.part)
        if part is None:
            return Posted(None)
        try:
            self.client.chat_postEphemeral(
                channel=delivery.channel,
                user=notice.user,
                text=part.text,
                blocks=part.blocks,
                thread_ts=notice.thread or delivery.thread,
                token=token,
            )
        except SlackApiError as error:
            if _code(error) not in _NO_EPHEMERAL:
                raise
            return self._direct(delivery, notice.user, notice.text, token)
        return Posted(None, more=delivery.part + 1 < len(parts))

    def _direct(self, delivery: Delivery, user: str, value: str, token: str | None) -> Posted:
        opened = self.client.conversations_open(users=user, token=token)
        channel = str((opened.get("channel") or {}).get("id", ""))
        if not channel:
            raise PermanentFailure("conversation_not_opened")
        parts = render.render_text(value, self._namer(delivery.workspace, token))
        part = _part(parts, delivery.part)
        if part is None:
            return Posted(None)
        ref = self._post(channel, part, None, token)
        return Posted(ref, more=delivery.part + 1 < len(parts))

    # --- posting ------------------------------------------------------------------------------

    def _post_part(
        self, delivery: Delivery, parts: list[render.SlackMessage], token: str | None
    ) -> Posted:
        """Post ``delivery.part`` of ``parts``; the caller stores the progress and comes back
        for the next part, so a restart never posts a part twice."""
        part = _part(parts, delivery.part)
        if part is None:
            return Posted(None)
        ref = self._post(delivery.channel, part, delivery.thread, token)
        return Posted(ref, more=delivery.part + 1 < len(parts))

    def _post(
        self, channel: str, part: render.SlackMessage, thread: str | None, token: str | None
    ) -> str | None:
        response = self._as_member(
            channel,
            token,
            lambda: self.client.chat_postMessage(
                channel=channel,
                text=part.text,
                blocks=part.blocks,
                thread_ts=thread,
                unfurl_links=False,
                unfurl_media=False,
                token=token,
            ),
        )
        ts = response.get("ts")
        return str(ts) if ts else None

    def _as_member(
        self, channel: str, token: str | None, send: Callable[[], SlackResponse]
    ) -> SlackResponse:
        """``send()``; when the bot is not in the channel, join it and send again.

        Raises:
            NotAMember: the channel cannot be joined (private): someone must invite the bot.
        """
        try:
            return send()
        except SlackApiError as error:
            if _code(error) != "not_in_channel":
                raise
        try:
            self.client.conversations_join(channel=channel, token=token)
        except SlackApiError as error:
            if _code(error) in CANNOT_JOIN:
                raise NotAMember(_code(error)) from None
            raise  # a 429 or a server error: retried later, never given up on
        return send()

    # --- tokens and names -------------------------------------------------------------------

    def _token(self, workspace: str) -> str | None:
        if self._token_for is None:
            return None
        token = self._token_for(workspace)
        if not token:
            raise PermanentFailure("no_installation")
        return token

    def _namer(self, workspace: str, token: str | None) -> render.Names:
        """Display names; a failed lookup shows the id this time and is asked again next
        time (only names found are kept)."""

        def name(user: str) -> str:
            key = (workspace, user)
            if key not in self._names:
                found = self._lookup_name(user, token)
                if found is None:
                    return user
                self._names[key] = found
            return self._names[key]

        return name

    def _lookup_name(self, user: str, token: str | None) -> str | None:
        try:
            response = self.client.users_info(user=user, token=token)
        except (SlackClientError, URLError, OSError):
            return None
        info = response.get("user") or {}
        profile = info.get("profile") or {}
        found = profile.get("display_name") or profile.get("real_name") or info.get("name")
        return str(found) if found else None

    def locale_of(self, workspace: str, user: str) -> str | None:
        """The user's Slack locale (``de-DE``), or None when Slack will not say."""
        try:
            token = self._token(workspace)
            response = self.client.users_info(user=user, include_locale=True, token=token)
        except (SlackClientError, URLError, OSError, PermanentFailure):
            return None
        locale = (response.get("user") or {}).get("locale")
        return str(locale) if locale else None


def _part(parts: list[render.SlackMessage], index: int) -> render.SlackMessage | None:
    """Part ``index``, or None past the end (nothing left to post)."""
    return parts[index] if 0 <= index < len(parts) else None


def _code(error: SlackApiError) -> str:
    data = error.response.data if error.response is not None else None
    return str(data.get("error", "")) if isinstance(data, dict) else ""


def _failure(error: SlackApiError) -> TemporaryFailure | PermanentFailure:
    response = error.response
    status = response.status_code if response is not None else 0
    code = _code(error) or f"http_{status}"
    if status == 429 or code == "ratelimited":
        header = (response.headers or {}) if response is not None else {}
        retry_after = header.get("Retry-After") or header.get("retry-after")
        seconds = float(retry_after) if retry_after and str(retry_after).isdigit() else 1.0
        return TemporaryFailure("ratelimited", retry_after=seconds)
    if status >= 500:
        return TemporaryFailure(f"http_{status}")  # the body may be a page of HTML
    if code in PERMANENT_ERRORS:
        return PermanentFailure(code)
    if code in RECONFIGURABLE_ERRORS:
        logger.error("Slack refused the bot's credentials (%s); check the installation", code)
        return TemporaryFailure(code, retry_after=RECONFIGURE_RETRY_SECONDS)
    logger.warning("unexpected Slack error %s (HTTP %s); will retry", code, status)
    return TemporaryFailure(code)
