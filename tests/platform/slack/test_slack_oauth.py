"""Slack platform: the multi-workspace OAuth install keeps bot tokens encrypted at rest."""

from __future__ import annotations

from slack_sdk.oauth.installation_store import Installation
from sqlalchemy import text

from bot.config import Settings
from bot.messages import ThreadNote
from bot.platforms.slack.app import EncryptedInstallationStore, build_slack_app
from bot.ports import Delivery
from tests.platform.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.app import Harness

TOKEN = "xoxb-1234-5678-secretsecretsecret"


def _installation(token: str = TOKEN) -> Installation:
    return Installation(
        app_id="A1",
        enterprise_id=None,
        team_id="T0000001",
        bot_token=token,
        bot_id="B1",
        bot_user_id="UBOT0001",
        bot_scopes="commands,chat:write",
        user_id="U0ADMIN1",
    )


def test_a_saved_installation_stores_the_bot_token_encrypted_and_reads_it_back(
    harness: Harness,
) -> None:
    engine = harness.services.store.engine
    store = EncryptedInstallationStore(client_id="111.222", engine=engine)
    store.create_tables()

    store.save(_installation())

    with engine.connect() as connection:
        raw = [row[0] for row in connection.execute(text("select bot_token from slack_bots"))]
        raw += [
            row[0] for row in connection.execute(text("select bot_token from slack_installations"))
        ]
    assert raw
    assert all(TOKEN not in value for value in raw)
    bot = store.find_bot(enterprise_id=None, team_id="T0000001")
    assert bot is not None
    assert bot.bot_token == TOKEN
    found = store.find_installation(enterprise_id=None, team_id="T0000001")
    assert found is not None
    assert found.bot_token == TOKEN


def test_the_oauth_app_posts_with_the_token_of_the_workspace_it_posts_to(
    harness: Harness, fake: FakeSlack
) -> None:
    settings = Settings(
        slack_signing_secret="secret",
        slack_client_id="111.222",
        slack_client_secret="client-secret",
        slack_api_url=fake.base_url,
    )
    engine = harness.services.store.engine
    slack = build_slack_app(settings, harness.services, engine=engine)
    store = EncryptedInstallationStore(client_id="111.222", engine=engine)
    store.save(_installation(BOT_TOKEN))

    slack.messenger.deliver(Delivery("T0000001", "C0000001", ThreadNote("s1", "hello")))

    assert slack.app.oauth_flow is not None
    assert [m["text"] for m in fake.bot_posts("C0000001")] == ["hello"]
