"""Benchmark: the cost of one reply through the whole use case, by the session's size.

For sessions that already hold 10, 100 and 1,000 contributions it prints the latency of one
more reply (p50 and p95, ms) and the throughput, beside the pure flow alone:
  - baseline: ``bot.flows.session.contribute`` on an in-memory Session (no storage);
  - dispatch: the full path (claim the event id, lock and load the session, contribute,
    save what changed, queue) on SQLite, and on PostgreSQL when
    INTERVISION_TEST_POSTGRES_URL is set.
The cost should not grow with the session (the target: within 1.5x from 10 to 1,000).

Run from the repository root: .venv/bin/python -m benchmarks.session_throughput [--replies 60]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.bootstrap import build_services
from bot.config import Settings
from bot.events import Command, Reply, Where
from bot.flows import session as flow
from bot.flows.method import Method, builtin_dir, load_catalogue
from bot.flows.session import Session
from bot.handlers import dispatch
from bot.handlers.context import Services

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PEOPLE = [f"p{i}" for i in range(8)]
SIZES = (10, 100, 1000)
TEXT = "x" * 200


def measure(replies: int, one: Callable[[int], None]) -> tuple[float, float, float]:
    """p50 and p95 of one call in ms, and calls per second."""
    timings = []
    started = time.perf_counter()
    for index in range(replies):
        begin = time.perf_counter()
        one(index)
        timings.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(timings, n=20)
    return statistics.median(timings), q[18], replies / elapsed


def grown(session: Session, size: int) -> Session:
    """``session`` with ``size`` earlier replies in its (free) first step."""
    for index in range(size):
        author = PEOPLE[index % len(PEOPLE)]
        at = NOW + timedelta(seconds=index)
        session = flow.contribute(
            session, author=author, ref=f"old{index}", text=TEXT, now=at
        ).session
    return session


def baseline(method: Method, size: int, replies: int) -> tuple[float, float, float]:
    start = flow.start("b", method, case_owner="owner", facilitator="fac", now=NOW).session
    state = grown(start, size)

    def one(index: int) -> None:
        nonlocal state
        author = PEOPLE[index % len(PEOPLE)]
        state = flow.contribute(state, author=author, ref=f"r{index}", text=TEXT, now=NOW).session

    return measure(replies, one)


def full_path(services: Services, size: int, replies: int) -> tuple[float, float, float]:
    where = Where("bench", "W", f"C{uuid.uuid4().hex[:6]}")
    dispatch(
        services, Command(f"start-{where.channel}", where, "fac", "start ims owner=owner", NOW)
    )
    with services.store.transaction() as tx:
        session = tx.open_sessions_in(where.platform, where.workspace, where.channel)[0]
        tx.set_anchor(session.id, f"{where.channel}.anchor")
        tx.save_session(grown(session, size))
    thread = Where(where.platform, where.workspace, where.channel, f"{where.channel}.anchor")

    def one(index: int) -> None:
        author = PEOPLE[index % len(PEOPLE)]
        event = Reply(f"{where.channel}-{index}", thread, author, f"r{index}", TEXT, NOW)
        dispatch(services, event)

    return measure(replies, one)


@contextmanager
def postgres_url(base: str) -> Iterator[str]:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


def row(name: str, figures: list[tuple[float, float, float]]) -> None:
    cells = "".join(f"  {p50:7.2f} {p95:7.2f} {rate:6.0f}" for p50, p95, rate in figures)
    growth = figures[-1][0] / figures[0][0]
    print(f"{name:<22}{cells}   {growth:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=60, help="replies measured per size")
    args = parser.parse_args()
    print(f"one reply into a session of N earlier contributions, {os.cpu_count()} cores")
    header = "".join(f"  {'N=' + str(n):>7} {'p95':>7} {'/s':>6}" for n in SIZES)
    print(f"{'':<22}{header}   p50 {SIZES[-1]} / {SIZES[0]}")
    method = load_catalogue(builtin_dir()).methods["ims"]
    row("baseline (pure flow)", [baseline(method, n, args.replies) for n in SIZES])
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        urls = [("dispatch on SQLite", f"sqlite:///{tmp}/bench.db")]
        pg = os.environ.get("INTERVISION_TEST_POSTGRES_URL")
        with postgres_url(pg) if pg else _nothing() as pg_url:
            if pg_url:
                urls.append(("dispatch on PostgreSQL", pg_url))
            for name, url in urls:
                services = build_services(Settings(database_url=url, key_file=key))
                row(name, [full_path(services, n, args.replies) for n in SIZES])


@contextmanager
def _nothing() -> Iterator[str]:
    yield ""


if __name__ == "__main__":
    main()
