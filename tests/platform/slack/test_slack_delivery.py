"""Slack platform: what happens to outbound posts when Slack refuses or fails them."""

from __future__ import annotations

from datetime import timedelta

from bot.platforms.slack.messenger import SlackMessenger, make_client
from bot.ports import Delivery
from tests.platform.slack.conftest import CHANNEL, OWNER, Slack
from tests.platform.slack.fake_slack import BOT_TOKEN, FakeSlack

START = f"start ims owner=<@{OWNER}|anna>"


def test_a_429_leaves_the_post_queued_and_it_goes_out_on_the_next_drain(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", status=429, retry_after=30)

    slack.command(START)

    assert slack.fake.top_level(CHANNEL) == []
    assert slack.harness.services.store.pending_count() > 0
    slack.harness.clock.advance(timedelta(seconds=10))
    slack.drain()
    assert slack.fake.top_level(CHANNEL) == []  # Retry-After has not passed yet
    slack.harness.clock.advance(timedelta(seconds=25))
    assert slack.drain() == 0
    assert slack.anchor()
    assert slack.harness.services.store.pending_count() == 0


def test_a_server_error_is_retried_and_the_post_goes_out(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", status=500)

    slack.command(START)

    assert slack.anchor()
    assert len(slack.fake.calls_of("chat.postMessage")) >= 2
    assert slack.harness.services.store.pending_count() == 0


def test_a_lasting_server_error_keeps_the_post_queued_never_lost(slack: Slack) -> None:
    slack.fake.fail("chat.postMessage", times=3, status=503)
    slack.harness.clock.step = timedelta(0)  # no time passes until the test says so

    slack.command(START)

    assert slack.fake.top_level(CHANNEL) == []
    assert slack.harness.services.store.pending_count() > 0
    slack.harness.clock.advance(timedelta(minutes=5))
    slack.drain()
    assert slack.anchor()


def test_a_permanent_error_is_marked_dead_not_retried_forever(slack: Slack) -> None:
    slack.fake.channels.pop(CHANNEL)  # archived and deleted: channel_not_found

    slack.command(START)
    attempts = len(slack.fake.calls_of("chat.postMessage"))
    slack.harness.clock.advance(timedelta(hours=1))
    slack.drain()

    assert attempts >= 1
    assert len(slack.fake.calls_of("chat.postMessage")) == attempts
    assert slack.harness.services.store.pending_count() == 0


def test_a_private_notice_falls_back_to_a_direct_message_outside_the_channel(
    fake: FakeSlack,
) -> None:
    from bot.messages import PrivateNotice

    fake.add_user("UOUT0001", "outsider")
    messenger = SlackMessenger(make_client(fake.base_url, BOT_TOKEN))

    messenger.deliver(Delivery("T0000001", CHANNEL, PrivateNotice("UOUT0001", "just for you")))

    assert fake.calls_of("conversations.open")
    assert len(fake.bot_posts("DUOUT0001")) == 1
