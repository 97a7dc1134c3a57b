"""Integration: what applying one reply costs in statements, and that what a transaction
remembers of its reads (a session's group and anchor) stays true to what it wrote.

The number of statements is the cost that does not depend on the machine: a reply is
applied in the same few statements however many contributions its session already holds.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event

from bot.events import Command, Reply, Where
from bot.handlers import dispatch
from tests.support.app import START, Harness, make_harness

WHERE = Where("console", "local", "console")
THREAD = Where("console", "local", "console", "anchor-1")
# claim the event id, find the group (its language), lock and read the session, its runs,
# the person's contributions, reactions and votes, insert the contribution, the timers'
# read of the current step; and SQLite's BEGIN IMMEDIATE. The session row is left alone
# when the reply changed nothing of it (its author took part before).
MAX_STATEMENTS = 10


@pytest.fixture
def harness(tmp_path: Path, database_url: str) -> Iterator[Harness]:
    """One running IMS session, its anchor posted."""
    harness = make_harness(tmp_path, database_url=database_url)
    dispatch(harness.services, Command("start", WHERE, "ben", "start ims owner=anna", START))
    with harness.services.store.transaction() as tx:
        [session] = tx.open_sessions_in(WHERE.platform, WHERE.workspace, WHERE.channel)
        tx.set_anchor(session.id, THREAD.thread or "")
    yield harness
    harness.services.store.engine.dispose()


def _reply(number: int) -> Reply:
    return Reply(f"e{number}", THREAD, f"p{number % 4}", f"m{number}", f"reply {number}", START)


def _statements_of(harness: Harness, reply: Reply) -> int:
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    engine = harness.services.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        dispatch(harness.services, reply)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_a_reply_is_applied_in_the_same_few_statements_however_long_the_session(
    harness: Harness,
) -> None:
    for number in range(8):
        dispatch(harness.services, _reply(number))
    early = _statements_of(harness, _reply(8))
    for number in range(9, 60):
        dispatch(harness.services, _reply(number))
    late = _statements_of(harness, _reply(60))
    assert early == late
    assert late <= MAX_STATEMENTS


def test_a_groups_settings_changed_in_a_transaction_are_what_it_reads_after(
    harness: Harness,
) -> None:
    with harness.services.store.transaction() as tx:
        [session] = tx.open_sessions_in(WHERE.platform, WHERE.workspace, WHERE.channel)
        group = tx.group_of_session(session.id)
        tx.update_group(group.id, settings={**group.settings, "privacy_mode": "hold"})
        assert tx.group_of_session(session.id).settings["privacy_mode"] == "hold"


def test_an_anchor_set_in_a_transaction_is_the_anchor_it_reads_after(
    harness: Harness,
) -> None:
    with harness.services.store.transaction() as tx:
        [session] = tx.open_sessions_in(WHERE.platform, WHERE.workspace, WHERE.channel)
        assert tx.anchor_of(session.id) == THREAD.thread
        tx.set_anchor(session.id, "anchor-2")
        assert tx.anchor_of(session.id) == "anchor-2"
