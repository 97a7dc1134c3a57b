"""Production auth: the SDK's real Bot Framework JWT validation, against a local key set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from microsoft_teams.api.auth.cloud_environment import PUBLIC, with_overrides

from tests.platform.teams.conftest import ANNA, APP_ID, BEN, BOT, CHANNEL, Teams, serve_teams
from tests.platform.teams.fake_connector import FakeConnector, sign
from tests.support.app import Harness


@pytest.fixture
def signed(connector: FakeConnector, harness: Harness) -> Iterator[tuple[Teams, object]]:
    key = connector.key_set()
    cloud = with_overrides(PUBLIC, openid_metadata_url=connector.openid_metadata_url)
    for teams in serve_teams(connector, harness, cloud=cloud, allow_unauthenticated=False):
        yield teams, key


def test_a_valid_token_is_accepted_and_a_missing_or_foreign_one_refused(
    signed: tuple[Teams, object],
) -> None:
    teams, key = signed
    command = "<at>intervision</at> start ims owner=<at>Anna Peer</at>"

    def activity() -> dict[str, object]:
        return teams.activity(BEN, command, mentions=(BOT, ANNA))

    valid = sign(key, app_id=APP_ID, service_url=teams.connector.url)
    other_service = sign(key, app_id=APP_ID, service_url="https://elsewhere.example/")
    other_audience = sign(key, app_id="someone-else", service_url=teams.connector.url)

    assert teams.post(activity()).status == 401
    assert teams.post(activity(), token=other_service).status == 401
    assert teams.post(activity(), token=other_audience).status == 401
    assert teams.connector.top_level(CHANNEL) == []
    assert teams.post(activity(), token=valid).status == 200
    assert len(teams.connector.top_level(CHANNEL)) == 1
