"""Integration: the durable outbox, its per-channel order and its claims across processes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, text

from storage.db import make_engine, upgrade
from storage.repositories import OutboxItem, Store


def _enqueue(
    store: Store, now: datetime, *where: tuple[str, str, str], text: str = ""
) -> list[int]:
    with store.transaction() as tx:
        return [
            tx.enqueue(platform, workspace, channel, None, {"kind": "notice", "text": text}, now)
            for platform, workspace, channel in where
        ]


C1 = ("slack", "T1", "C1")
C2 = ("slack", "T1", "C2")


def test_a_queued_payload_comes_back_as_it_was_given(store: Store, t0: datetime) -> None:
    payload: dict[str, Any] = {"kind": "step", "title": "Vragen", "media": [{"url": "u"}], "n": 2}
    with store.transaction() as tx:
        tx.enqueue("slack", "T1", "C1", None, payload, t0)

    [item] = store.claim_outbox(t0)

    assert item.payload == payload
    assert (item.platform, item.workspace, item.channel, item.session_id) == (*C1, None)


def test_a_message_is_not_claimed_before_the_transaction_that_queued_it_commits(
    store: Store, t0: datetime
) -> None:
    def handler() -> None:
        with store.transaction() as tx:
            tx.enqueue("slack", "T1", "C1", None, {"kind": "notice"}, t0)
            raise RuntimeError("the handler failed")

    with pytest.raises(RuntimeError):
        handler()

    assert store.claim_outbox(t0) == []


def test_only_the_oldest_message_of_a_channel_is_claimed(store: Store, t0: datetime) -> None:
    first, _second, other = _enqueue(store, t0, C1, C1, C2)

    claimed = store.claim_outbox(t0)

    assert [item.id for item in claimed] == [first, other]


def test_sending_a_message_releases_the_next_one_of_its_channel(store: Store, t0: datetime) -> None:
    first, second = _enqueue(store, t0, C1, C1)
    store.claim_outbox(t0)

    store.mark_sent(first, "1700000000.1", t0)

    assert [item.id for item in store.claim_outbox(t0)] == [second]


def test_a_later_message_waits_while_an_earlier_one_is_retried(store: Store, t0: datetime) -> None:
    first, _second = _enqueue(store, t0, C1, C1)
    store.claim_outbox(t0)
    store.mark_retry(first, "rate limited", t0 + timedelta(seconds=30))

    assert store.claim_outbox(t0 + timedelta(seconds=10)) == []
    assert [item.id for item in store.claim_outbox(t0 + timedelta(seconds=30))] == [first]


def test_a_retried_message_counts_its_earlier_attempts(store: Store, t0: datetime) -> None:
    [message] = _enqueue(store, t0, C1)
    [claimed] = store.claim_outbox(t0)
    store.mark_retry(message, "timeout", t0)

    [again] = store.claim_outbox(t0)

    assert (claimed.attempts, again.attempts) == (0, 1)


def test_a_claimed_message_is_not_claimed_again_until_its_lease_ends(
    store: Store, t0: datetime
) -> None:
    [message] = _enqueue(store, t0, C1)
    store.claim_outbox(t0)

    during = store.claim_outbox(t0 + store.outbox.lease - timedelta(seconds=1))
    after = store.claim_outbox(t0 + store.outbox.lease)

    assert during == []
    assert [item.id for item in after] == [message]


def test_a_message_given_up_on_no_longer_holds_up_its_channel(store: Store, t0: datetime) -> None:
    first, second = _enqueue(store, t0, C1, C1)
    store.claim_outbox(t0)

    store.mark_dead(first, "channel_not_found")

    assert [item.id for item in store.claim_outbox(t0)] == [second]
    assert store.pending_count() == 1


def test_a_message_not_yet_due_is_not_claimed(store: Store, t0: datetime) -> None:
    _enqueue(store, t0 + timedelta(minutes=1), C1)

    assert store.claim_outbox(t0) == []


def test_channels_with_the_same_name_in_other_workspaces_do_not_wait_for_each_other(
    store: Store, t0: datetime
) -> None:
    first, other = _enqueue(store, t0, C1, ("slack", "T2", "C1"))

    assert [item.id for item in store.claim_outbox(t0)] == [first, other]


def test_claims_can_be_limited_to_one_platform(store: Store, t0: datetime) -> None:
    _slack, console = _enqueue(store, t0, C1, ("console", "local", "console"))

    assert [item.id for item in store.claim_outbox(t0, platform="console")] == [console]


def test_the_claim_limit_is_respected(store: Store, t0: datetime) -> None:
    _enqueue(store, t0, *[("slack", "T1", f"C{n}") for n in range(5)])

    assert len(store.claim_outbox(t0, limit=3)) == 3


def test_pending_count_counts_what_is_neither_sent_nor_given_up(store: Store, t0: datetime) -> None:
    sent, dead, _waiting = _enqueue(store, t0, C1, C2, ("slack", "T1", "C3"))
    store.mark_sent(sent, "ref", t0)
    store.mark_dead(dead, "invalid_blocks")

    assert store.pending_count() == 1


def test_an_error_longer_than_the_column_is_cut(store: Store, t0: datetime) -> None:
    [message] = _enqueue(store, t0, C1)

    store.mark_retry(message, "x" * 5000, t0)

    with store.engine.connect() as connection:
        stored = connection.execute(text("SELECT last_error FROM outbox")).scalar_one()
    assert len(stored) == 1000


def _drain_concurrently(stores: list[Store], now: datetime) -> list[tuple[int, OutboxItem]]:
    """Each store claims and sends from its own thread until nothing is pending."""
    claims: list[tuple[int, OutboxItem]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(len(stores))

    def work(worker: int, store: Store) -> None:
        try:
            start.wait()
            while store.pending_count():
                for item in store.claim_outbox(now, limit=4):
                    with lock:
                        claims.append((worker, item))
                    store.mark_sent(item.id, f"ref-{item.id}", now)
        except BaseException as error:  # reported by the test thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n, s)) for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    return claims


def test_two_processes_claiming_at_once_never_get_the_same_message(
    database_url: str, make_store: Callable[[Engine], Store], t0: datetime
) -> None:
    engines = [make_engine(database_url), make_engine(database_url)]
    upgrade(engines[0])
    stores = [make_store(engine) for engine in engines]
    channels = [("slack", "T1", f"C{n}") for n in range(12)]
    queued = _enqueue(stores[0], t0, *(channels * 4))

    claims = _drain_concurrently(stores, t0)

    claimed_ids = [item.id for _, item in claims]
    assert sorted(claimed_ids) == sorted(queued)
    for channel in channels:
        in_channel = [
            item.id
            for _, item in claims
            if (item.platform, item.workspace, item.channel) == channel
        ]
        assert in_channel == sorted(in_channel)
    for engine in engines:
        engine.dispose()


@pytest.mark.postgres
def test_a_claim_skips_messages_another_process_is_claiming(
    postgres_url: str, make_store: Callable[[Engine], Store], t0: datetime
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    store = make_store(engine)
    locked, behind_locked, free = _enqueue(store, t0, C1, C1, C2)
    result: list[list[int]] = []

    with engine.connect() as other_process:
        other_process.execute(
            text("SELECT id FROM outbox WHERE id = :id FOR UPDATE"), {"id": locked}
        )
        claimer = threading.Thread(
            target=lambda: result.append([item.id for item in store.claim_outbox(t0)])
        )
        claimer.start()
        claimer.join(timeout=10)
        assert not claimer.is_alive(), "claim_outbox waited for a locked row"
        other_process.rollback()

    assert result == [[free]]
    assert behind_locked not in result[0]
    engine.dispose()
