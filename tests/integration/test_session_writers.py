"""Integration: one writer per session, saves that write only what changed, and a cost per
event that does not grow with the session, on SQLite and on PostgreSQL.

The concurrent cases start every event at the same moment (a ``threading.Barrier``); each
goes through ``bot.handlers.dispatch`` in its own transaction, as events do in production.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session as DbSession

from bot.events import Command, InboundEvent, Reply, Where
from bot.flows import session as flow
from bot.flows.record import build_record
from bot.flows.session import Session
from bot.handlers import dispatch
from storage.crypto import Cipher, configure_cipher, current_cipher
from storage.db import make_engine, upgrade
from storage.models import ContributionRow
from storage.repositories import Group, Scope, Store
from tests.support.app import START, Harness, make_harness

PEOPLE = 20
WHERE = Where("console", "local", "console")
THREAD = Where("console", "local", "console", "anchor-1")


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    """The real use cases on an empty database, with one running IMS session in a thread."""
    harness = make_harness(tmp_path, database_url=database_url)
    dispatch(harness.services, Command("start", WHERE, "ben", "start ims owner=anna", START))
    with harness.services.store.transaction() as tx:
        session = tx.open_sessions_in(WHERE.platform, WHERE.workspace, WHERE.channel)[0]
        tx.set_anchor(session.id, THREAD.thread or "")
    yield harness
    harness.services.store.engine.dispose()


def _reply(number: int, *, at: datetime = START) -> Reply:
    return Reply(f"e{number}", THREAD, f"p{number}", f"m{number}", f"reply {number}", at)


def _all_at_once(harness: Harness, events: list[InboundEvent]) -> None:
    """Dispatch every event from its own thread, all released at the same moment."""
    barrier = threading.Barrier(len(events))
    failures: list[BaseException] = []

    def run(event: InboundEvent) -> None:
        barrier.wait()
        try:
            dispatch(harness.services, event)
        except BaseException as error:  # reported by the test, not lost in the thread
            failures.append(error)

    threads = [threading.Thread(target=run, args=(event,)) for event in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures


def _session(harness: Harness) -> Session:
    with harness.services.store.transaction() as tx:
        found = tx.session_for_thread(
            THREAD.platform, THREAD.workspace, THREAD.channel, THREAD.thread or "", lock=False
        )
    assert found is not None
    return found


# One writer per session


def test_twenty_replies_at_the_same_moment_are_all_stored(harness: Harness) -> None:
    _all_at_once(harness, [_reply(n) for n in range(PEOPLE)])

    session = _session(harness)
    assert sorted(c.ref for c in session.contributions) == sorted(f"m{n}" for n in range(PEOPLE))


def test_twenty_people_joining_at_the_same_moment_all_become_members(harness: Harness) -> None:
    _all_at_once(harness, [_reply(n) for n in range(PEOPLE)])

    assert set(_session(harness).participants) == {f"p{n}" for n in range(PEOPLE)}


def test_replies_and_a_next_at_the_same_moment_keep_every_reply_and_the_new_step(
    harness: Harness,
) -> None:
    step_two = _session(harness).method.steps[1].id
    advance = Command("next", THREAD, "ben", "next", START)

    _all_at_once(harness, [*(_reply(n) for n in range(PEOPLE)), advance])

    session = _session(harness)
    assert len(session.contributions) == PEOPLE
    assert [run.step_id for run in session.runs][1:] == [step_two]
    assert session.runs[0].closed_at is not None


# A save writes only what changed


def test_a_save_never_deletes_a_row_its_loaded_session_did_not_have(
    store: Store, group: Group, new_session: Callable[..., Session], t0: datetime
) -> None:
    with store.transaction() as tx:
        tx.add_session(new_session(), group.id)
    with store.transaction() as tx:
        loaded = tx.get_session("s1")
        assert loaded is not None
        _insert_contribution(tx.db, "s1", "written-meanwhile", t0)  # another writer's row
        tx.save_session(
            flow.contribute(loaded, author="ana", ref="m1", text="mine", now=t0).session
        )

    with store.transaction() as tx:
        stored = tx.get_session("s1")
    assert stored is not None
    assert {c.ref for c in stored.contributions} == {"written-meanwhile", "m1"}


@pytest.mark.postgres
def test_a_save_after_another_transaction_committed_a_row_keeps_that_row(
    postgres_url: str, make_store: Callable[..., Store], new_session: Callable[..., Session]
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    store = make_store(engine)
    t0 = new_session().started_at
    with store.transaction() as tx:
        tx.add_session(new_session(), tx.group("slack", "T1", "C1").id)
    try:
        with store.transaction() as tx:
            loaded = tx.get_session("s1")
            assert loaded is not None
            other = threading.Thread(target=_insert_elsewhere, args=(engine, t0))
            other.start()
            other.join(timeout=30)
            assert not other.is_alive()  # the row lock leaves foreign keys free
            tx.save_session(
                flow.contribute(loaded, author="ana", ref="m1", text="mine", now=t0).session
            )
        with store.transaction() as tx:
            stored = tx.get_session("s1")
        assert stored is not None
        assert {c.ref for c in stored.contributions} == {"written-meanwhile", "m1"}
    finally:
        engine.dispose()


def _insert_elsewhere(engine: Engine, t0: datetime) -> None:
    """Another process's transaction: it writes a reply row without the session's lock."""
    with DbSession(engine) as db, db.begin():
        _insert_contribution(db, "s1", "written-meanwhile", t0)


def _insert_contribution(db: DbSession, session_id: str, ref: str, at: datetime) -> None:
    db.execute(
        insert(ContributionRow).values(
            session_id=session_id, ref=ref, step_id="account", author="cem", text="hi", at=at
        )
    )


# Cost per event


class CountingCipher(Cipher):
    """A cipher that counts what it decrypts."""

    def __init__(self, keys: list[str]) -> None:
        super().__init__(keys)
        self.decrypted = 0

    def decrypt(self, token: str) -> str:
        self.decrypted += 1
        return super().decrypt(token)


@pytest.fixture
def counting(harness: Harness) -> Iterator[CountingCipher]:
    previous = current_cipher()
    cipher = CountingCipher([Cipher.generate_key()])
    configure_cipher(cipher)
    yield cipher
    configure_cipher(previous)


def test_a_reply_decrypts_none_of_the_earlier_contributions(
    harness: Harness, counting: CountingCipher
) -> None:
    for n in range(30):
        dispatch(harness.services, _reply(n))
    counting.decrypted = 0

    dispatch(harness.services, _reply(99))

    assert counting.decrypted == 0


def test_the_record_reads_every_text(harness: Harness, counting: CountingCipher) -> None:
    for n in range(5):
        dispatch(harness.services, _reply(n))
    session = _session(harness)
    counting.decrypted = 0

    record = build_record(session)

    assert [e.text for e in record.steps[0].entries] == [f"reply {n}" for n in range(5)]
    assert counting.decrypted == 5


def test_a_session_loaded_for_one_person_holds_only_their_part_and_refuses_a_record(
    harness: Harness,
) -> None:
    for n in range(5):
        dispatch(harness.services, _reply(n))
    with harness.services.store.transaction() as tx:
        session = tx.session_for_thread(
            THREAD.platform,
            THREAD.workspace,
            THREAD.channel,
            THREAD.thread or "",
            scope=Scope("p1", ("m3",)),
        )
    assert session is not None
    assert sorted(c.ref for c in session.contributions) == ["m1", "m3"]
    with pytest.raises(ValueError, match="in part"):
        build_record(session)


def test_a_partial_session_saved_keeps_every_other_contribution(harness: Harness) -> None:
    for n in range(5):
        dispatch(harness.services, _reply(n))

    dispatch(harness.services, _reply(5))  # loaded in part, saved by difference

    with harness.services.store.engine.connect() as connection:
        count = connection.scalar(select(func.count()).select_from(ContributionRow))
    assert count == 6


def test_a_partial_session_is_only_saved_in_the_transaction_that_loaded_it(
    harness: Harness,
) -> None:
    dispatch(harness.services, _reply(1))
    store = harness.services.store
    with store.transaction() as tx:
        session = tx.get_session(_session(harness).id, scope=Scope("p2"))
    assert session is not None

    with pytest.raises(ValueError, match="in part"), store.transaction() as tx:
        tx.save_session(session)


# Records


def test_the_record_lists_replies_in_the_order_they_were_written(harness: Harness) -> None:
    later, earlier = START + timedelta(seconds=20), START + timedelta(seconds=10)
    dispatch(harness.services, _reply(1, at=later))  # arrives first, written last
    dispatch(harness.services, _reply(2, at=earlier))
    dispatch(harness.services, _reply(3, at=later))  # the same second: in arrival order

    entries = build_record(_session(harness)).steps[0].entries

    assert [e.text for e in entries] == ["reply 2", "reply 1", "reply 3"]
