"""Integration: SQLite's one writer, taken in turns by this process's threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import text

from storage.db import make_engine, reader
from storage.writer_turns import WriterTurns, urgent


def _queue_behind(
    turns: WriterTurns, names: list[str], served: list[str]
) -> list[threading.Thread]:
    threads = []
    for name in names:

        def wait_then_serve(name: str = name) -> None:
            turns.take(name)
            served.append(name)
            turns.give_back(name)

        thread = threading.Thread(target=wait_then_serve)
        thread.start()
        threads.append(thread)
        while len(turns._waiting) < len(threads):  # each one in line before the next comes
            time.sleep(0.001)
    return threads


def test_waiting_writers_get_their_turn_in_the_order_they_came() -> None:
    turns = WriterTurns()
    served: list[str] = []
    turns.take("first")
    threads = _queue_behind(turns, ["b", "c", "d"], served)

    turns.give_back("first")
    for thread in threads:
        thread.join(timeout=5)

    assert served == ["b", "c", "d"]


def test_a_connection_that_has_the_turn_does_not_wait_for_itself() -> None:
    turns = WriterTurns()
    turns.take("one")

    turns.take("one")  # would hang if it waited

    turns.give_back("one")
    turns.take("two")


def test_giving_back_a_turn_one_does_not_hold_changes_nothing() -> None:
    turns = WriterTurns()
    served: list[str] = []
    turns.take("holder")
    threads = _queue_behind(turns, ["next"], served)

    turns.give_back("someone else")
    time.sleep(0.05)
    assert served == []
    turns.give_back("holder")
    for thread in threads:
        thread.join(timeout=5)
    assert served == ["next"]


def test_many_threads_writing_to_one_file_all_commit(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'turns.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))

    def write(n: int) -> None:
        for _ in range(20):
            with engine.begin() as connection:
                connection.execute(text("INSERT INTO t VALUES (:n)"), {"n": n})

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM t")).scalar_one() == 160
    engine.dispose()


def test_an_urgent_writer_goes_before_background_writers_already_waiting() -> None:
    turns = WriterTurns()
    served: list[str] = []
    turns.take("holder")
    threads = _queue_behind(turns, ["background"], served)

    def urgently() -> None:
        with urgent():
            turns.take("request")
        served.append("request")
        turns.give_back("request")

    request = threading.Thread(target=urgently)
    request.start()
    while not turns._urgent:
        time.sleep(0.001)
    turns.give_back("holder")
    for thread in [*threads, request]:
        thread.join(timeout=5)

    assert served == ["request", "background"]


def test_a_reader_does_not_wait_for_a_writer_holding_the_database(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'reads.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
    writing, done = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t VALUES (1)"))
            writing.set()
            done.wait(timeout=10)

    writer = threading.Thread(target=hold_the_writer)
    writer.start()
    writing.wait(timeout=5)
    with reader(engine).begin() as connection:
        seen = connection.execute(text("SELECT count(*) FROM t")).scalar_one()
    done.set()
    writer.join(timeout=5)
    engine.dispose()

    assert seen == 0  # the writer has not committed; the reader went ahead of it
