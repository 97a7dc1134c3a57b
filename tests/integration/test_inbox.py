"""Integration: the inbox of inbound events, its lanes and its claims, on both databases."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from storage.db import make_engine
from storage.inbox import Inbox
from storage.repositories import Store

LANE_1 = "slack:T1:C1"
LANE_2 = "slack:T1:C2"


def _accept(inbox: Inbox, now: datetime, *events: tuple[str, str]) -> None:
    for event_id, lane in events:
        inbox.accept("slack", event_id, lane, {"kind": "Reply", "id": event_id}, now)


def test_an_event_is_accepted_once_however_often_it_arrives(migrated: Engine, t0: datetime) -> None:
    inbox = Inbox(migrated)

    first = inbox.accept("slack", "Ev1", LANE_1, {"n": 1}, t0)
    again = inbox.accept("slack", "Ev1", LANE_1, {"n": 1}, t0)

    assert (first, again, inbox.waiting()) == (True, False, 1)


def test_the_same_event_delivered_at_once_by_many_threads_is_stored_once(
    migrated: Engine, t0: datetime
) -> None:
    inbox = Inbox(migrated)
    barrier = threading.Barrier(8)
    answers: list[bool] = []

    def deliver() -> None:
        barrier.wait()
        answers.append(inbox.accept("slack", "Ev1", LANE_1, {"n": 1}, t0))

    threads = [threading.Thread(target=deliver) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (answers.count(True), inbox.waiting()) == (1, 1)


def test_the_payload_is_stored_encrypted(migrated: Engine, t0: datetime) -> None:
    Inbox(migrated).accept("slack", "Ev1", LANE_1, {"text": "Fatima's mother called"}, t0)

    with migrated.connect() as connection:
        stored = connection.execute(text("SELECT payload FROM inbox")).scalar_one()

    assert "Fatima" not in stored


def test_a_claim_takes_the_oldest_event_of_each_lane(migrated: Engine, t0: datetime) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1), ("b1", LANE_2), ("a2", LANE_1))

    claimed = inbox.claim(t0)

    assert [item.event_id for item in claimed] == ["a1", "b1"]


def test_a_lane_waits_while_its_oldest_event_is_being_applied(
    migrated: Engine, t0: datetime
) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1), ("a2", LANE_1))
    inbox.claim(t0)

    assert inbox.claim(t0) == []


def test_finishing_an_event_in_its_transaction_lets_the_lane_go_on(
    migrated: Engine, store: Store, t0: datetime
) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1), ("a2", LANE_1))
    [first] = inbox.claim(t0)

    with store.transaction() as tx:
        Inbox.finish(tx, first.id)

    assert [item.event_id for item in inbox.claim(t0)] == ["a2"]


def test_a_rolled_back_transaction_keeps_the_event(
    migrated: Engine, store: Store, t0: datetime
) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1))
    [first] = inbox.claim(t0)

    try:
        with store.transaction() as tx:
            Inbox.finish(tx, first.id)
            raise RuntimeError("the use case failed")
    except RuntimeError:
        pass

    assert inbox.waiting() == 1


def test_a_failed_event_is_tried_again_at_the_time_given(migrated: Engine, t0: datetime) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1))
    [item] = inbox.claim(t0)

    inbox.retry(item.id, "OperationalError", t0 + timedelta(seconds=4))

    assert inbox.claim(t0 + timedelta(seconds=3)) == []
    [again] = inbox.claim(t0 + timedelta(seconds=4))
    assert again.attempts == 1


def test_an_event_given_up_on_no_longer_blocks_its_lane(migrated: Engine, t0: datetime) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1), ("a2", LANE_1))
    [item] = inbox.claim(t0)

    inbox.give_up(item.id, "ValueError")

    assert [i.event_id for i in inbox.claim(t0)] == ["a2"]
    assert inbox.waiting() == 1


def test_a_claim_left_by_a_dead_process_is_released_at_start(
    migrated: Engine, t0: datetime
) -> None:
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1))
    inbox.claim(t0)

    released = inbox.release_claims()

    assert released == 1
    assert [i.event_id for i in inbox.claim(t0)] == ["a1"]


def test_a_lease_that_ran_out_makes_the_event_due_again(migrated: Engine, t0: datetime) -> None:
    inbox = Inbox(migrated, lease=timedelta(seconds=15))
    _accept(inbox, t0, ("a1", LANE_1))
    inbox.claim(t0)

    assert inbox.claim(t0 + timedelta(seconds=14)) == []
    assert [i.event_id for i in inbox.claim(t0 + timedelta(seconds=15))] == ["a1"]


def test_two_processes_never_claim_the_same_event(
    migrated: Engine, database_url: str, t0: datetime
) -> None:
    other = make_engine(database_url)
    try:
        inbox, rival = Inbox(migrated), Inbox(other)
        _accept(inbox, t0, *((f"e{n}", f"slack:T1:C{n}") for n in range(30)))
        barrier = threading.Barrier(2)
        taken: list[list[str]] = [[], []]

        def claim_all(number: int, source: Inbox) -> None:
            barrier.wait()
            while batch := source.claim(t0, limit=3):
                taken[number].extend(item.event_id for item in batch)

        threads = [
            threading.Thread(target=claim_all, args=(n, source))
            for n, source in enumerate((inbox, rival))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.dispose()

    assert sorted(taken[0] + taken[1]) == sorted(f"e{n}" for n in range(30))


def test_a_claim_looks_only_through_the_oldest_events_and_no_lane_jumps_the_queue(
    migrated: Engine, t0: datetime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("storage.inbox.CLAIM_WINDOW", 2)
    inbox = Inbox(migrated)
    _accept(inbox, t0, ("a1", LANE_1), ("a2", LANE_1), ("b1", LANE_2))

    first = inbox.claim(t0)
    with Store(migrated, methods={}.__getitem__).transaction() as tx:
        Inbox.finish(tx, first[0].id)
    second = inbox.claim(t0)

    assert [item.event_id for item in first] == ["a1"]
    assert [item.event_id for item in second] == ["a2", "b1"]


def test_a_worker_in_another_process_hears_at_once_that_an_event_was_stored(
    postgres_url: str, t0: datetime
) -> None:
    from storage.db import upgrade
    from storage.inbox import listen_for_events

    web, worker = make_engine(postgres_url), make_engine(postgres_url)
    upgrade(web)
    heard, stop = threading.Event(), threading.Event()
    listener = threading.Thread(
        target=listen_for_events, args=(worker, heard.set, stop), kwargs={"timeout": 0.1}
    )
    listener.start()
    try:
        for _ in range(50):  # once the listener is in place, the next event is heard
            Inbox(web).accept("slack", f"Ev{time.monotonic_ns()}", LANE_1, {"n": 1}, t0)
            if heard.wait(0.2):
                break
    finally:
        stop.set()
        listener.join(timeout=5)
        web.dispose()
        worker.dispose()

    assert heard.is_set()


def test_on_sqlite_there_is_nothing_to_listen_for(tmp_path: Path) -> None:
    from storage.inbox import listen_for_events

    engine = make_engine(f"sqlite:///{tmp_path / 'one-process.db'}")
    listen_for_events(engine, lambda: None, threading.Event())  # returns at once
    engine.dispose()
