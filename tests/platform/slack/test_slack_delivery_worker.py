"""Slack platform: the delivery worker against the fake Web API.

Retry-After, random 429s and 500s, a record in several parts cut short by a crash, channel
membership (join, or ask the facilitator to invite the bot) and name lookups. The clock
only moves when a test says so; nothing sleeps.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from bot.flows import session as flow
from bot.i18n import t
from bot.messages import AnchorView, ThreadNote, to_payload
from bot.platforms.slack import render
from bot.platforms.slack.messenger import PACE_SECONDS, SlackMessenger, make_client
from bot.ports import Delivery, Posted
from bot.runtime.delivery import DeliveryWorker
from storage.outbox import Outbox
from tests.platform.slack.conftest import CHANNEL, FACILITATOR, OWNER
from tests.platform.slack.fake_slack import BOT_TOKEN, BOT_USER, TEAM, FakeSlack
from tests.support.app import START, Harness

OUTSIDE = "C0000002"  # public, the bot not in it
PRIVATE = "C0000003"  # private, the bot not in it


@dataclass
class Clock:
    now: datetime = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Crash(BaseException):
    """The process dies (``kill -9``) before it records anything more."""


class CrashBeforePart:
    """The Slack messenger, until the process dies just before posting part ``part``."""

    platform = "slack"

    def __init__(self, messenger: SlackMessenger, part: int) -> None:
        self.messenger = messenger
        self.part = part

    def deliver(self, delivery: Delivery) -> Posted:
        if delivery.part == self.part:
            raise Crash
        return self.messenger.deliver(delivery)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def outbox(harness: Harness) -> Outbox:
    return harness.services.store.outbox


@pytest.fixture
def messenger(fake: FakeSlack) -> SlackMessenger:
    fake.add_channel(OUTSIDE, OWNER)
    fake.add_channel(PRIVATE, OWNER, FACILITATOR, private=True)
    client = make_client(
        fake.base_url, BOT_TOKEN, interval=FixedValueRetryIntervalCalculator(0.001)
    )
    return SlackMessenger(client)


@pytest.fixture
def worker(outbox: Outbox, messenger: SlackMessenger, clock: Clock) -> Iterator[DeliveryWorker]:
    worker = DeliveryWorker(outbox, {"slack": messenger}, clock, pace_seconds=PACE_SECONDS)
    yield worker
    worker.stop()


def note(outbox: Outbox, clock: Clock, text: str, channel: str = CHANNEL) -> int:
    return outbox.add("slack", TEAM, channel, None, to_payload(ThreadNote("s1", text)), clock.now)


def settle(worker: DeliveryWorker, clock: Clock, rounds: int = 1000) -> None:
    for _ in range(rounds):
        wait = worker.run_once()
        if wait is None:
            return
        clock.advance(wait)
    raise AssertionError("the outbox never drained")


def texts(fake: FakeSlack, channel: str = CHANNEL) -> list[str]:
    return [render.plain(post["blocks"]) for post in fake.bot_posts(channel)]


def test_a_429_is_retried_at_the_time_its_retry_after_names(
    fake: FakeSlack, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    fake.fail("chat.postMessage", status=429, retry_after=2)
    note(outbox, clock, "hello")

    assert worker.run_once() == 2.0
    clock.advance(1.5)
    worker.run_once()
    assert fake.bot_posts(CHANNEL) == []
    clock.advance(0.5)
    assert worker.run_once() is None
    assert texts(fake) == ["hello"]


def test_posts_into_one_channel_are_paced_by_the_worker_not_by_sleeping(
    fake: FakeSlack, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    for number in range(3):
        note(outbox, clock, f"note {number}")

    waits = []
    while (wait := worker.run_once()) is not None:
        waits.append(wait)
        clock.advance(wait)

    assert waits == [PACE_SECONDS, PACE_SECONDS]
    assert texts(fake) == ["note 0", "note 1", "note 2"]


def test_with_random_429s_and_500s_every_post_goes_out_once_and_in_order(
    fake: FakeSlack, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    channels = [CHANNEL, OUTSIDE, "C0000004"]
    fake.add_channel("C0000004", BOT_USER, OWNER)
    fake.flaky(rate_429=0.2, rate_500=0.1, retry_after=1, seed=3)
    for number in range(15):
        for channel in channels:
            note(outbox, clock, f"{channel} {number}", channel)
    started = clock.now

    settle(worker, clock)

    for channel in channels:
        assert texts(fake, channel) == [f"{channel} {number}" for number in range(15)]
    assert len(fake.calls_of("chat.postMessage")) > 45  # some were refused, and retried
    # Retries wait for Retry-After (1 s), not for a pump: close to 15 posts at 1 a second.
    assert clock.now - started < timedelta(seconds=30)


def test_a_record_cut_short_after_part_three_resumes_at_part_four(
    fake: FakeSlack, harness: Harness, messenger: SlackMessenger, outbox: Outbox, clock: Clock
) -> None:
    record = "\n".join(f"Line {n}: " + "word " * 60 for n in range(200))
    parts = render.render_text(record)
    assert len(parts) == 6
    note(outbox, clock, record)
    dying = DeliveryWorker(outbox, {"slack": CrashBeforePart(messenger, 3)}, clock, pace_seconds=0)
    with pytest.raises(Crash):
        dying.run_once()
    dying.stop()
    assert len(fake.bot_posts(CHANNEL)) == 3

    restarted = DeliveryWorker(
        Outbox(harness.services.store.engine), {"slack": messenger}, clock, pace_seconds=0
    )
    restarted.release_claims()
    settle(restarted, clock)
    restarted.stop()

    posted = [post["blocks"] for post in fake.bot_posts(CHANNEL)]
    assert posted == [part.blocks for part in parts]


def test_not_in_channel_joins_the_channel_and_posts(
    fake: FakeSlack, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    note(outbox, clock, "hello", OUTSIDE)

    settle(worker, clock)

    assert len(fake.calls_of("conversations.join")) == 1
    assert texts(fake, OUTSIDE) == ["hello"]


def test_a_429_on_joining_leaves_the_post_queued_and_it_goes_out_later(
    fake: FakeSlack, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    fake.fail("conversations.join", status=429, retry_after=3)
    note(outbox, clock, "hello", OUTSIDE)

    assert worker.run_once() == 3.0
    assert outbox.pending_count() == 1
    clock.advance(3)
    assert worker.run_once() is None
    assert texts(fake, OUTSIDE) == ["hello"]


def test_a_private_channel_the_bot_cannot_join_gets_the_facilitator_told_how_to_invite_it(
    fake: FakeSlack, harness: Harness, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    method = harness.services.catalogue.get("ims")
    assert method is not None
    session = flow.start(
        "s9", method, case_owner=OWNER, facilitator=FACILITATOR, language="de", now=clock.now
    ).session
    with harness.services.store.transaction() as tx:
        tx.add_session(session, tx.group("slack", TEAM, PRIVATE).id)
    anchor = AnchorView("s9", "de", "IMS", OWNER, FACILITATOR, 1, 5, "Casus", "running")
    outbox.add("slack", TEAM, PRIVATE, "s9", to_payload(anchor), clock.now)

    settle(worker, clock)

    assert fake.bot_posts(PRIVATE) == []
    assert texts(fake, f"D{FACILITATOR}") == [t("delivery.invite_bot", "de")]
    assert outbox.pending_count() == 0


def test_a_failed_name_lookup_is_asked_again_for_the_next_message(
    fake: FakeSlack, worker: DeliveryWorker, outbox: Outbox, clock: Clock
) -> None:
    fake.add_user(OWNER, "anna")
    fake.fail("users.info", error="fatal_error")
    note(outbox, clock, f"{OWNER} wrote")
    note(outbox, clock, f"{OWNER} wrote again")

    settle(worker, clock)

    assert texts(fake) == [f"{OWNER} wrote", "anna wrote again"]
