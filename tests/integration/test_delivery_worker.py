"""Integration: the delivery worker drains the outbox in order, paced, retried, part by part.

A recording messenger stands in for a platform; the clock only moves when a test says so.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from bot.flows.session import Session
from bot.i18n import t
from bot.messages import AnchorView, DirectMessage, StepPost, ThreadNote, to_payload
from bot.ports import Delivery, NotAMember, Posted, TemporaryFailure
from bot.runtime.delivery import DeliveryWorker
from storage.outbox import Outbox
from storage.repositories import Store

C1 = ("slack", "T1", "C1")
C2 = ("slack", "T1", "C2")


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


class Crash(BaseException):
    """The process dies (``kill -9``): nothing after it runs, nothing is marked."""


@dataclass
class Recorder:
    """A platform that takes every message, in ``parts`` posts when the text says
    ``parts=N``; ``failures`` decides, per delivery, whether it fails instead."""

    platform: str = "slack"
    posts: list[tuple[str, str, int]] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    failures: Callable[[Delivery], BaseException | None] = lambda _: None

    def deliver(self, delivery: Delivery) -> Posted:
        self.deliveries.append(delivery)
        failure = self.failures(delivery)
        if failure is not None:
            raise failure
        message = delivery.message
        text = getattr(message, "text", message.kind)
        self.posts.append((delivery.channel, text, delivery.part))
        parts = int(text.split("parts=")[1]) if "parts=" in text else 1
        return Posted(f"ref-{len(self.posts)}", more=delivery.part + 1 < parts)

    def texts(self, channel: str = "C1") -> list[str]:
        return [text for where, text, part in self.posts if where == channel and part == 0]


def fail_times(count: int, failure: BaseException) -> Callable[[Delivery], BaseException | None]:
    left = [count]

    def decide(_: Delivery) -> BaseException | None:
        if left[0] <= 0:
            return None
        left[0] -= 1
        return failure

    return decide


def queue(outbox: Outbox, now: datetime, *notes: tuple[tuple[str, str, str], str]) -> list[int]:
    return [
        outbox.add(*where, None, to_payload(ThreadNote("s1", text)), now) for where, text in notes
    ]


def settle(worker: DeliveryWorker, clock: Clock, rounds: int = 200) -> None:
    """Run the worker and let time pass to each next due message, until nothing waits."""
    for _ in range(rounds):
        wait = worker.run_once()
        if wait is None:
            return
        clock.advance(wait)
    raise AssertionError("the outbox never drained")


@pytest.fixture
def clock(t0: datetime) -> Clock:
    return Clock(t0)


@pytest.fixture
def outbox(store: Store) -> Outbox:
    return store.outbox


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def worker(outbox: Outbox, recorder: Recorder, clock: Clock) -> Iterator[DeliveryWorker]:
    worker = DeliveryWorker(outbox, {"slack": recorder}, clock, pace_seconds=0)
    yield worker
    worker.stop()


def test_nothing_queued_means_nothing_to_wait_for(worker: DeliveryWorker) -> None:
    assert worker.run_once() is None


def test_every_message_of_a_channel_is_delivered_in_the_order_it_was_queued(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    queue(outbox, clock.now, (C1, "one"), (C2, "other"), (C1, "two"), (C1, "three"))

    assert worker.run_once() is None

    assert recorder.texts("C1") == ["one", "two", "three"]
    assert recorder.texts("C2") == ["other"]
    assert outbox.pending_count() == 0


def test_a_rate_limited_message_is_retried_at_the_time_retry_after_names(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    recorder.failures = fail_times(1, TemporaryFailure("ratelimited", retry_after=2))
    queue(outbox, clock.now, (C1, "hello"))

    assert worker.run_once() == 2.0
    clock.advance(1.9)
    assert worker.run_once() == pytest.approx(0.1)
    assert recorder.posts == []
    clock.advance(0.1)
    assert worker.run_once() is None
    assert recorder.texts() == ["hello"]


def test_a_failure_without_retry_after_backs_off_exponentially(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    recorder.failures = fail_times(3, TemporaryFailure("http_503"))
    queue(outbox, clock.now, (C1, "hello"))

    waits = []
    while (wait := worker.run_once()) is not None:
        waits.append(wait)
        clock.advance(wait)

    assert waits == [2.0, 4.0, 8.0]
    assert recorder.texts() == ["hello"]


def test_posts_into_one_channel_are_paced_and_other_channels_do_not_wait(
    outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    worker = DeliveryWorker(outbox, {"slack": recorder}, clock, pace_seconds=1.0)
    queue(outbox, clock.now, (C1, "one"), (C1, "two"), (C2, "other"))

    assert worker.run_once() == 1.0
    assert sorted(recorder.texts("C1") + recorder.texts("C2")) == ["one", "other"]
    clock.advance(1.0)
    assert worker.run_once() is None
    assert recorder.texts("C1") == ["one", "two"]
    worker.stop()


def test_a_channel_waiting_for_retry_after_does_not_hold_up_the_others(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    recorder.failures = lambda d: TemporaryFailure("ratelimited", 30) if d.channel == "C1" else None
    queue(outbox, clock.now, (C1, "stuck"), (C2, "a"), (C2, "b"))

    assert worker.run_once() == 30.0

    assert recorder.texts("C2") == ["a", "b"]


def test_the_parts_of_a_message_go_out_one_by_one_with_the_progress_stored(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    [message] = queue(outbox, clock.now, (C1, "record parts=6"))

    worker.run_once()

    assert [part for _, _, part in recorder.posts] == [0, 1, 2, 3, 4, 5]
    query = text("SELECT parts_sent, part_refs, platform_ref FROM outbox WHERE id = :id")
    with outbox.engine.connect() as connection:
        parts_sent, part_refs, ref = connection.execute(query, {"id": message}).one()
    assert parts_sent == 5
    refs = json.loads(part_refs) if isinstance(part_refs, str) else part_refs
    assert refs == [f"ref-{n}" for n in range(1, 6)]
    assert ref == "ref-1"


def test_a_restart_after_a_crash_in_the_middle_of_a_message_resumes_at_the_next_part(
    store: Store, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    queue(outbox, clock.now, (C1, "record parts=6"), (C1, "after"))
    recorder.failures = lambda d: Crash() if d.part == 3 else None
    first = DeliveryWorker(outbox, {"slack": recorder}, clock, pace_seconds=0)
    with pytest.raises(Crash):
        first.run_once()
    first.stop()

    recorder.failures = lambda _: None
    restarted = DeliveryWorker(Outbox(store.engine), {"slack": recorder}, clock, pace_seconds=0)
    restarted.release_claims()
    assert restarted.run_once() is None

    assert [part for _, text, part in recorder.posts if "record" in text] == [0, 1, 2, 3, 4, 5]
    assert recorder.texts() == ["record parts=6", "after"]
    restarted.stop()


def test_a_claim_left_by_a_dead_process_is_released_at_start(
    outbox: Outbox, worker: DeliveryWorker, recorder: Recorder, clock: Clock
) -> None:
    queue(outbox, clock.now, (C1, "hello"))
    outbox.claim(clock.now)  # the process that claimed it died

    assert worker.release_claims() == 1
    worker.run_once()

    assert recorder.texts() == ["hello"]


def test_without_a_release_a_dead_process_claim_ends_within_seconds(
    outbox: Outbox, worker: DeliveryWorker, recorder: Recorder, clock: Clock
) -> None:
    queue(outbox, clock.now, (C1, "hello"))
    outbox.claim(clock.now)

    wait = worker.run_once()

    assert recorder.posts == []
    assert wait is not None
    assert 0 < wait <= 10
    clock.advance(wait)
    worker.run_once()
    assert recorder.texts() == ["hello"]


def test_a_message_that_keeps_failing_goes_dead_and_its_channel_moves_on(
    outbox: Outbox, recorder: Recorder, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    worker = DeliveryWorker(outbox, {"slack": recorder}, clock, pace_seconds=0, max_attempts=4)
    recorder.failures = lambda d: (
        RuntimeError("boom") if "poison" in getattr(d.message, "text", "") else None
    )
    queue(outbox, clock.now, (C1, "poison about K."), (C1, "next"))

    with caplog.at_level(logging.WARNING):
        settle(worker, clock)

    poison_tries = [d for d in recorder.deliveries if "poison" in getattr(d.message, "text", "")]
    assert len(poison_tries) == 4
    assert recorder.texts() == ["next"]
    assert outbox.pending_count() == 0
    assert "given up: RuntimeError (after 4 tries)" in caplog.text
    assert "K." not in caplog.text
    worker.stop()


def test_waiting_out_rate_limits_never_makes_a_message_dead(
    outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    worker = DeliveryWorker(outbox, {"slack": recorder}, clock, pace_seconds=0, max_attempts=3)
    recorder.failures = fail_times(10, TemporaryFailure("ratelimited", retry_after=1))
    queue(outbox, clock.now, (C1, "hello"))

    settle(worker, clock)

    assert recorder.texts() == ["hello"]
    worker.stop()


def test_a_message_of_another_platform_is_left_for_its_own_worker(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    queue(outbox, clock.now, (("teams", "T1", "C1"), "hello"))

    assert worker.run_once() is None
    assert recorder.posts == []
    assert outbox.pending_count() == 1


def _stored_session(store: Store, new_session: Callable[..., Session], channel: str) -> Session:
    session = new_session()
    with store.transaction() as tx:
        group = tx.group("slack", "T1", channel)
        tx.add_session(session, group.id)
    return session


def test_a_step_goes_into_the_thread_of_the_anchor_posted_before_it(
    store: Store,
    new_session: Callable[..., Session],
    worker: DeliveryWorker,
    outbox: Outbox,
    recorder: Recorder,
    clock: Clock,
) -> None:
    session = _stored_session(store, new_session, "C1")
    anchor = AnchorView(session.id, "nl", "Small", "ana", "ben", 1, 4, "account", "running")
    step = StepPost(session.id, "nl", "account", 1, 4, "account", "do", "ana", "", "write")
    for message in (anchor, step):
        outbox.add(*C1, session.id, to_payload(message), clock.now)

    worker.run_once()

    assert recorder.deliveries[1].thread == "ref-1"
    with store.transaction() as tx:
        assert tx.anchor_of(session.id) == "ref-1"
        assert tx.step_of_post(session.id, "ref-2") == "account"


def test_when_the_bot_cannot_join_the_channel_the_facilitator_is_told_how_to_invite_it(
    store: Store,
    new_session: Callable[..., Session],
    worker: DeliveryWorker,
    outbox: Outbox,
    recorder: Recorder,
    clock: Clock,
) -> None:
    session = _stored_session(store, new_session, "C1")
    recorder.failures = lambda d: (
        None if isinstance(d.message, DirectMessage) else NotAMember("channel_not_found")
    )
    for note in ("anchor", "step"):
        outbox.add(*C1, session.id, to_payload(ThreadNote(session.id, note)), clock.now)

    settle(worker, clock)

    direct = [d.message for d in recorder.deliveries if isinstance(d.message, DirectMessage)]
    assert direct == [DirectMessage(session.facilitator, t("delivery.invite_bot", "nl"))]
    assert "/invite @intervision" in direct[0].text
    assert outbox.pending_count() == 0


def test_the_background_thread_delivers_what_was_queued_when_woken(
    worker: DeliveryWorker, outbox: Outbox, recorder: Recorder, clock: Clock
) -> None:
    delivered = threading.Event()

    def note_delivery(_: Delivery) -> None:
        delivered.set()

    recorder.failures = note_delivery
    worker.start()

    queue(outbox, clock.now, (C1, "hello"))
    worker.wake()

    assert delivered.wait(timeout=30)
    worker.stop()
    assert recorder.texts() == ["hello"]


def test_a_delivery_that_runs_long_keeps_its_claim(
    store: Store, recorder: Recorder, clock: Clock
) -> None:
    outbox = Outbox(store.engine, lease=timedelta(seconds=0.3))
    queue(outbox, clock.now, (C1, "slow"))
    other_process = Outbox(store.engine)
    taken_by_other: list[object] = []

    def run_long(delivery: Delivery) -> None:
        clock.advance(60)  # far beyond the lease the claim started with
        for _ in range(200):  # until the worker renewed the lease (every lease / 3)
            due = outbox.next_due()
            if due is not None and due > clock.now:
                break
            threading.Event().wait(0.05)
        taken_by_other.extend(other_process.claim(clock.now))

    recorder.failures = run_long
    worker = DeliveryWorker(outbox, {"slack": recorder}, clock, pace_seconds=0)
    worker.run_once()
    worker.stop()

    assert taken_by_other == []
    assert recorder.texts() == ["slow"]
