"""Outlook calendars through Microsoft Graph (msgraph-sdk): a CoP's meetings as one Teams
meeting series in the organizer's calendar, with the members invited.

Two pieces:

- ``GraphCalendar``, a sync facade: each method runs msgraph-sdk coroutines on the process's
  one ``AsyncBridge`` loop (the SDK's HTTP client lives on the loop that made it). msgraph is
  imported inside those coroutines, so a bot without Graph configured never loads it.
  The SDK retries nothing itself: a 429 or an outage becomes ``TemporaryFailure`` with the
  server's ``Retry-After``, so the outbox waits instead of a thread; other 4xx answers are
  ``PermanentFailure``.
- ``GraphMessenger``, the ``graph`` platform of the delivery worker: it applies a queued
  ``CalendarChange`` (``bot.flows.cop_calendar``) and records the event it created
  (``storage.graph_repository``), in parts so a restart resumes where it stopped:

  schedule (and a skip before the event exists):
    part 0  look up the addresses of members known to the directory by id (Teams members),
            then create the event (its transaction id makes a retried create find the first one)
            or change it (PATCH, every attendee: Graph replaces the list as a whole)
    part 1  the online meeting's options: recording and transcription off
    part 2  cancel the occurrences not held (skipped dates, holidays)
  skip:    cancel that day's occurrence
  cancel:  cancel the series (Graph tells the attendees)
"""

from __future__ import annotations

import contextlib
import email.utils
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from bot.flows.cop_calendar import Action, Attendee, CalendarChange, SeriesEvent
from bot.platforms.teams.bridge import AsyncBridge
from bot.ports import Delivery, PermanentFailure, Posted, TemporaryFailure
from storage.graph_repository import GraphRepository, StoredSeries

if TYPE_CHECKING:
    from msgraph import GraphServiceClient
    from msgraph.generated.models.event import Event

    from bot.config import Settings
    from storage.repositories import Store

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_BASE_URL = "https://graph.microsoft.com/v1.0"
SCOPES = ["https://graph.microsoft.com/.default"]
TEMPORARY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_DIRECTORY_ID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


class SeriesGone(PermanentFailure):
    """The event is not in the organizer's calendar any more (deleted there by hand)."""


@dataclass(frozen=True)
class CreatedSeries:
    """What Graph answered for a created event."""

    series_id: str
    ical_uid: str | None
    join_url: str | None


class GraphCalendar:
    """The organizer's calendar, through msgraph-sdk on ``bridge``'s loop.

    Args:
        bridge: the process's event loop for SDK calls.
        organizer: the mailbox (user id or principal name) the series lives in.
        credential: makes the async azure credential, called once on the loop
            (production: ``azure.identity.aio.ClientSecretCredential``).
        base_url: Graph's root without a trailing slash (tests: a local fake).
    """

    def __init__(
        self,
        bridge: AsyncBridge,
        *,
        organizer: str,
        credential: Callable[[], Any],
        base_url: str = DEFAULT_BASE_URL,
        timeout: float = 30.0,
    ) -> None:
        self.organizer = organizer
        self._bridge = bridge
        self._credential = credential
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._graph: GraphServiceClient | None = None
        self._http: Any = None
        self._transport: Any = None

    # --- the calendar ------------------------------------------------------------------

    def create_series(self, event: SeriesEvent) -> CreatedSeries:
        """Create the recurring online meeting; with the same transaction id Graph answers
        the event it created before."""

        async def create(graph: GraphServiceClient) -> CreatedSeries:
            body = _event(event, transaction_id=event.transaction_id)
            created = await graph.users.by_user_id(self.organizer).events.post(body)
            if created is None or created.id is None:
                raise TemporaryFailure("graph_no_event_in_answer")
            meeting = created.online_meeting
            join_url = meeting.join_url if meeting is not None else None
            return CreatedSeries(created.id, created.i_cal_u_id, join_url)

        return self._run(create)

    def find_attendee(self, user_id: str) -> Attendee | None:
        """The directory's address of a user (a Teams member's Entra object id), or None for
        an id the directory does not know or a user without a mailbox."""

        async def find(graph: GraphServiceClient) -> Attendee | None:
            from kiota_abstractions.base_request_configuration import RequestConfiguration
            from msgraph.generated.users.item.user_item_request_builder import (
                UserItemRequestBuilder,
            )

            query = UserItemRequestBuilder.UserItemRequestBuilderGetQueryParameters(
                select=["id", "displayName", "mail"]
            )
            user = await graph.users.by_user_id(user_id).get(
                RequestConfiguration(query_parameters=query)
            )
            if user is None or not user.mail:
                return None
            return Attendee(user.mail, user.display_name or "")

        try:
            return self._run(find)
        except SeriesGone:  # 404: not a user of this directory
            return None

    def update_series(self, series_id: str, event: SeriesEvent) -> None:
        """Make the event match ``event`` (time, recurrence, place, every attendee)."""

        async def patch(graph: GraphServiceClient) -> None:
            events = graph.users.by_user_id(self.organizer).events
            await events.by_event_id(series_id).patch(_event(event))

        self._run(patch)

    def join_url(self, series_id: str) -> str | None:
        """The online meeting's join link (Graph may fill it in a moment after the create)."""

        async def read(graph: GraphServiceClient) -> str | None:
            found = await graph.users.by_user_id(self.organizer).events.by_event_id(series_id).get()
            meeting = found.online_meeting if found is not None else None
            return meeting.join_url if meeting is not None else None

        return self._run(read)

    def turn_off_recording(self, join_url: str) -> bool:
        """Recording, automatic recording and transcription off for the series' online
        meeting. False when Graph does not know the meeting (yet)."""

        async def options(graph: GraphServiceClient) -> bool:
            from kiota_abstractions.base_request_configuration import RequestConfiguration
            from msgraph.generated.models.online_meeting import OnlineMeeting
            from msgraph.generated.users.item.online_meetings.online_meetings_request_builder import (  # noqa: E501
                OnlineMeetingsRequestBuilder,
            )

            meetings = graph.users.by_user_id(self.organizer).online_meetings
            query = OnlineMeetingsRequestBuilder.OnlineMeetingsRequestBuilderGetQueryParameters(
                filter=f"JoinWebUrl eq '{_quoted(join_url)}'"
            )
            found = await meetings.get(RequestConfiguration(query_parameters=query))
            if found is None or not found.value or found.value[0].id is None:
                return False
            off = OnlineMeeting(
                allow_recording=False, allow_transcription=False, record_automatically=False
            )
            await meetings.by_online_meeting_id(found.value[0].id).patch(off)
            return True

        return self._run(options)

    def cancel_occurrence(self, series_id: str, day: date, time_zone: str, comment: str) -> bool:
        """Cancel the series' meeting on ``day`` (a local date in ``time_zone``).

        Returns:
            False when the series has no occurrence that day (cancelled before).
        """

        async def cancel(graph: GraphServiceClient) -> bool:
            from kiota_abstractions.base_request_configuration import RequestConfiguration
            from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
                CancelPostRequestBody,
            )
            from msgraph.generated.users.item.events.item.instances.instances_request_builder import (  # noqa: E501
                InstancesRequestBuilder,
            )

            events = graph.users.by_user_id(self.organizer).events
            # A window wide enough for any zone; the day is matched in the series' zone.
            start = datetime.combine(day - timedelta(days=1), datetime.min.time(), UTC)
            query = InstancesRequestBuilder.InstancesRequestBuilderGetQueryParameters(
                start_date_time=_utc(start),
                end_date_time=_utc(start + timedelta(days=3)),
                select=["id", "start", "seriesMasterId", "type"],
            )
            config = RequestConfiguration(query_parameters=query)
            config.headers.add("Prefer", f'outlook.timezone="{time_zone}"')
            found = await events.by_event_id(series_id).instances.get(config)
            wanted = day.isoformat()
            for occurrence in (found.value or []) if found is not None else []:
                when = occurrence.start.date_time if occurrence.start else None
                if occurrence.id and when and when.startswith(wanted):
                    body = CancelPostRequestBody(comment=comment)
                    await events.by_event_id(occurrence.id).cancel.post(body)
                    return True
            return False

        return self._run(cancel)

    def cancel_series(self, series_id: str, comment: str) -> None:
        """Cancel every meeting of the series; Graph sends the attendees the cancellation."""

        async def cancel(graph: GraphServiceClient) -> None:
            from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
                CancelPostRequestBody,
            )

            events = graph.users.by_user_id(self.organizer).events
            await events.by_event_id(series_id).cancel.post(CancelPostRequestBody(comment=comment))

        self._run(cancel)

    def close(self) -> None:
        """Close the HTTP client on its loop (tests; a process simply exits)."""
        if self._http is not None:
            self._bridge.run(self._http.aclose(), self._timeout)
            self._bridge.run(self._transport.aclose(), self._timeout)
            self._http = None
            self._graph = None

    # --- on the loop -------------------------------------------------------------------

    def _run(self, work: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        try:
            return self._bridge.run(self._guarded(work), self._timeout)
        except TimeoutError:
            raise TemporaryFailure("graph_timeout") from None

    async def _guarded(self, work: Callable[[GraphServiceClient], Awaitable[T]]) -> T:
        import httpx
        from kiota_abstractions.api_error import APIError

        try:
            return await work(self._client())
        except APIError as error:
            raise _failure(error) from None
        except httpx.TransportError as error:
            raise TemporaryFailure(f"graph_network: {type(error).__name__}") from None

    def _client(self) -> GraphServiceClient:
        if self._graph is None:
            import httpx
            from kiota_http.middleware.options import RetryHandlerOption
            from msgraph import GraphServiceClient
            from msgraph.graph_request_adapter import GraphRequestAdapter
            from msgraph_core import GraphClientFactory
            from msgraph_core.authentication import AzureIdentityAuthenticationProvider

            # The token goes to Graph's host and to the configured one (a local fake in
            # tests) only: an empty allowed_hosts would send it anywhere.
            hosts = sorted({"graph.microsoft.com", urlsplit(self._base_url).hostname or ""} - {""})
            auth = AzureIdentityAuthenticationProvider(
                self._credential(), scopes=SCOPES, allowed_hosts=hosts
            )
            # No retries in the SDK: the outbox retries at Retry-After without holding a thread.
            no_retry = {RetryHandlerOption.get_key(): RetryHandlerOption(max_retries=0)}
            # Our own transport: the SDK's wrapper does not close the one it wraps.
            self._transport = httpx.AsyncHTTPTransport(http2=True)
            client = httpx.AsyncClient(transport=self._transport, timeout=self._timeout)
            self._http = GraphClientFactory.create_with_default_middleware(
                client=client, options=no_retry
            )
            adapter = GraphRequestAdapter(auth, client=self._http)
            adapter.base_url = self._base_url
            self._graph = GraphServiceClient(request_adapter=adapter)
        return self._graph


class GraphMessenger:
    """The delivery worker's ``graph`` platform: applies queued ``CalendarChange``s."""

    platform = "graph"

    def __init__(
        self, calendar: GraphCalendar, store: Store, clock: Callable[[], datetime]
    ) -> None:
        self._calendar = calendar
        self._store = store
        self._clock = clock

    def deliver(self, delivery: Delivery) -> Posted:
        change = delivery.message
        if not isinstance(change, CalendarChange):
            raise PermanentFailure(f"not a calendar change: {change.kind}")
        stored = self._series(change.cop_id)
        if change.action is Action.CANCEL:
            if stored is not None and not stored.cancelled:
                # deleted in the calendar already: nothing left to cancel
                with contextlib.suppress(SeriesGone):
                    self._calendar.cancel_series(stored.series_id, change.comment)
                with self._store.transaction() as tx:
                    GraphRepository(tx).mark_cancelled(change.cop_id, self._clock())
            return Posted(stored.series_id if stored else None)
        if stored is not None and stored.cancelled:
            raise PermanentFailure("graph_series_cancelled")
        if delivery.part == 0 and stored is not None and change.action is Action.SKIP:
            self._cancel_days(stored.series_id, change, [change.day] if change.day else [])
            return Posted(stored.series_id)
        if delivery.part == 0:
            return Posted(self._create_or_update(change, stored), more=True)
        if stored is None:  # the event recorded in part 0 is gone: start again next time
            raise TemporaryFailure("graph_series_not_recorded")
        if delivery.part == 1:
            self._recording_off(change.cop_id, stored.series_id, stored.join_url)
            return Posted(stored.series_id, more=True)
        self._cancel_days(stored.series_id, change, change.event.not_held)
        return Posted(stored.series_id)

    def _series(self, cop_id: int) -> StoredSeries | None:
        with self._store.transaction() as tx:
            return GraphRepository(tx).series(cop_id)

    def _create_or_update(self, change: CalendarChange, stored: StoredSeries | None) -> str:
        event = self._with_directory(change.event)
        if stored is not None:
            try:
                self._calendar.update_series(stored.series_id, event)
            except SeriesGone:
                logger.warning("calendar event of cop %s is gone; creating it again", change.cop_id)
            else:
                return stored.series_id
        created = self._calendar.create_series(event)
        with self._store.transaction() as tx:
            GraphRepository(tx).save_series(
                change.cop_id,
                organizer=self._calendar.organizer,
                series_id=created.series_id,
                ical_uid=created.ical_uid,
                join_url=created.join_url,
                now=self._clock(),
            )
        return created.series_id

    def _with_directory(self, event: SeriesEvent) -> SeriesEvent:
        """The event with the members found in the directory added to its attendees."""
        known = {a.address.lower() for a in event.attendees}
        found = []
        for user_id in event.directory_ids:
            if not _DIRECTORY_ID.fullmatch(user_id):
                continue  # not an Entra object id (a Slack member, say): nothing to ask
            attendee = self._calendar.find_attendee(user_id)
            if attendee is not None and attendee.address.lower() not in known:
                known.add(attendee.address.lower())
                found.append(attendee)
        return replace(event, attendees=(*event.attendees, *found)) if found else event

    def _recording_off(self, cop_id: int, series_id: str, join_url: str | None) -> None:
        """Best effort: a tenant that refuses it (no OnlineMeetings permission or access
        policy) still gets its calendar; a meeting not ready yet is tried again."""
        url = join_url or self._calendar.join_url(series_id)
        if url is None:
            raise TemporaryFailure("graph_online_meeting_not_ready")
        try:
            done = self._calendar.turn_off_recording(url)
        except PermanentFailure as refused:
            logger.warning("cop %s: recording left as the tenant sets it: %s", cop_id, refused)
            return
        if not done:
            logger.warning("cop %s: online meeting not found to turn recording off", cop_id)

    def _cancel_days(self, series_id: str, change: CalendarChange, days: Sequence[date]) -> None:
        today = self._clock().date()
        for day in days:
            if day >= today:
                self._calendar.cancel_occurrence(
                    series_id, day, change.event.time_zone, change.comment
                )


def build_graph(
    settings: Settings,
    store: Store,
    clock: Callable[[], datetime],
    bridge: AsyncBridge | None = None,
) -> GraphMessenger | None:
    """The ``graph`` messenger when Graph is configured, else None (nothing is imported).

    Pass the process's bridge when Teams has one: both SDKs share one loop.
    """
    if not settings.graph_configured:
        return None
    tenant = str(settings.graph_tenant_id)
    client_id = str(settings.graph_client_id)
    secret = str(settings.graph_client_secret)

    def credential() -> Any:
        from azure.identity.aio import ClientSecretCredential

        return ClientSecretCredential(tenant, client_id, secret)

    calendar = GraphCalendar(
        bridge or AsyncBridge(name="graph-loop"),
        organizer=str(settings.graph_organizer),
        credential=credential,
        base_url=settings.graph_base_url,
    )
    return GraphMessenger(calendar, store, clock)


# --- the Graph body ----------------------------------------------------------------------


def _event(event: SeriesEvent, *, transaction_id: str | None = None) -> Event:
    """The SDK's ``Event`` for the whole series (a PATCH sends the same fields but the
    transaction id, which only a create takes)."""
    from msgraph.generated.models.attendee import Attendee
    from msgraph.generated.models.attendee_type import AttendeeType
    from msgraph.generated.models.body_type import BodyType
    from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
    from msgraph.generated.models.email_address import EmailAddress
    from msgraph.generated.models.event import Event
    from msgraph.generated.models.item_body import ItemBody
    from msgraph.generated.models.location import Location
    from msgraph.generated.models.online_meeting_provider_type import OnlineMeetingProviderType

    zone = event.time_zone
    return Event(
        subject=event.subject,
        body=ItemBody(content_type=BodyType.Text, content=event.body),
        start=DateTimeTimeZone(date_time=event.start.isoformat(), time_zone=zone),
        end=DateTimeTimeZone(date_time=event.end.isoformat(), time_zone=zone),
        recurrence=_recurrence(event),
        attendees=[
            Attendee(
                email_address=EmailAddress(address=a.address, name=a.name or None),
                type=AttendeeType.Required,
            )
            for a in event.attendees
        ],
        location=Location(display_name=event.location) if event.location else None,
        is_online_meeting=True,
        online_meeting_provider=OnlineMeetingProviderType.TeamsForBusiness,
        allow_new_time_proposals=False,
        transaction_id=transaction_id,
    )


def _recurrence(event: SeriesEvent) -> Any:
    from msgraph.generated.models.day_of_week import DayOfWeek
    from msgraph.generated.models.patterned_recurrence import PatternedRecurrence
    from msgraph.generated.models.recurrence_pattern import RecurrencePattern
    from msgraph.generated.models.recurrence_pattern_type import RecurrencePatternType
    from msgraph.generated.models.recurrence_range import RecurrenceRange
    from msgraph.generated.models.recurrence_range_type import RecurrenceRangeType
    from msgraph.generated.models.week_index import WeekIndex

    rec = event.recurrence
    if rec.count is not None:
        kind = RecurrenceRangeType.Numbered
    elif rec.end_date is not None:
        kind = RecurrenceRangeType.EndDate
    else:
        kind = RecurrenceRangeType.NoEnd
    return PatternedRecurrence(
        pattern=RecurrencePattern(
            type=RecurrencePatternType(rec.pattern),
            interval=rec.interval,
            days_of_week=[DayOfWeek(day) for day in rec.days_of_week],
            index=WeekIndex(rec.index) if rec.index else None,
            month=rec.month,
        ),
        range=RecurrenceRange(
            type=kind,
            start_date=rec.start_date,
            end_date=rec.end_date,
            number_of_occurrences=rec.count,
            recurrence_time_zone=event.time_zone,
        ),
    )


# --- answers -----------------------------------------------------------------------------


def _failure(error: Any) -> Exception:
    """An SDK error as the port's failure: 429 and outages are temporary (at Retry-After)."""
    status = error.response_status_code
    code = getattr(getattr(error, "error", None), "code", None) or ""
    reason = f"graph {status} {code}".strip()
    if status is None or status in TEMPORARY_STATUSES:
        return TemporaryFailure(reason, _retry_after(error.response_headers or {}))
    if status == 404:
        return SeriesGone(reason)
    return PermanentFailure(reason)


def _retry_after(headers: dict[str, str]) -> float | None:
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _quoted(text: str) -> str:
    """A value inside an OData string literal: a quote is doubled."""
    return text.replace("'", "''")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
