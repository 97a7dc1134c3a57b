"""Fixtures of the Outlook calendar tests: a fake Graph, the real msgraph-sdk pointed at it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.flows import cop as cops
from bot.flows.cop_calendar import Attendee, SeriesEvent, series_event
from bot.platforms.teams.bridge import AsyncBridge
from bot.platforms.teams.calendar import GraphCalendar
from tests.platform.graph.fake_graph import FakeGraph

ORGANIZER = "cop-calendar@example.ch"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PEOPLE = (Attendee("anna@example.ch", "Anna Peer"), Attendee("ben@example.ch", "Ben Meier"))


class StubCredential:
    """An async azure credential that never calls Entra ID."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-graph-token", int(time.time()) + 3600)

    async def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("fake-graph-token", int(time.time()) + 3600)

    async def close(self) -> None:
        pass


@pytest.fixture(scope="session")
def bridge() -> Iterator[AsyncBridge]:
    loop = AsyncBridge(name="graph-test-loop")
    yield loop
    loop.close()


@pytest.fixture
def graph() -> Iterator[FakeGraph]:
    fake = FakeGraph()
    yield fake
    fake.stop()


@pytest.fixture
def calendar(bridge: AsyncBridge, graph: FakeGraph) -> Iterator[GraphCalendar]:
    facade = GraphCalendar(
        bridge, organizer=ORGANIZER, credential=StubCredential, base_url=graph.base_url
    )
    yield facade
    facade.close()


def quarterly_event(**changes: Any) -> SeriesEvent:
    """The IMS CoP's series: quarterly, first Tuesday, 14:00 in Zurich, in Muttenz."""
    series = cops.parse_schedule(
        "quarterly first tuesday 14:00 Europe/Zurich at Campus Muttenz", now=NOW
    )
    cop = cops.create("IMS CoP", creator="ben", channel="C1", series=series)
    event = series_event(
        cop, cop_id=1, created_at=NOW, attendees=PEOPLE, body="Our quarterly meeting.", now=NOW
    )
    return replace(event, **changes)
