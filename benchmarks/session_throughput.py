"""Benchmark: how fast a reply goes through the whole use case, against the pure flow alone.

Prints latency percentiles (ms), throughput (replies/s) and peak memory for:
  - baseline: ``bot.flows.session.contribute`` on an in-memory Session (no storage);
  - dispatch: the full path (claim the event id, load, contribute, save, queue) on SQLite,
    and on PostgreSQL when INTERVISION_TEST_POSTGRES_URL is set.

Run from the repository root: .venv/bin/python -m benchmarks.session_throughput [--replies 300]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.bootstrap import build_services
from bot.config import Settings
from bot.events import Command, Reply, Where
from bot.flows import session as flow
from bot.flows.method import builtin_dir, load_catalogue
from bot.handlers import dispatch

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
PEOPLE = [f"p{i}" for i in range(8)]


def measure(name: str, replies: int, one: Callable[[int], None]) -> None:
    tracemalloc.start()
    timings = []
    started = time.perf_counter()
    for index in range(replies):
        begin = time.perf_counter()
        one(index)
        timings.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    q = statistics.quantiles(timings, n=100)
    print(
        f"{name:<22} p50 {q[49]:7.2f} ms  p95 {q[94]:7.2f} ms  p99 {q[98]:7.2f} ms  "
        f"{replies / elapsed:8.0f} replies/s  peak {peak / 1e6:6.1f} MB"
    )


def baseline(replies: int) -> None:
    method = load_catalogue(builtin_dir()).methods["ims"]
    state = flow.start("b", method, case_owner="owner", facilitator="fac", now=NOW).session

    def one(index: int) -> None:
        nonlocal state
        author = PEOPLE[index % len(PEOPLE)]
        state = flow.contribute(
            state, author=author, ref=f"r{index}", text="x" * 200, now=NOW
        ).session

    measure("baseline (pure flow)", replies, one)


def full_path(name: str, database_url: str, replies: int, key_file: Path) -> None:
    services = build_services(Settings(database_url=database_url, key_file=key_file))
    where = Where("bench", "W", f"C{uuid.uuid4().hex[:6]}")
    dispatch(services, Command("start", where, "fac", "start ims owner=owner", NOW))
    with services.store.transaction() as tx:
        session = tx.open_sessions_in(where.platform, where.workspace, where.channel)[0]
        tx.set_anchor(session.id, "1.0")
    thread = Where(where.platform, where.workspace, where.channel, "1.0")

    def one(index: int) -> None:
        author = PEOPLE[index % len(PEOPLE)]
        event = Reply(f"{where.channel}-{index}", thread, author, f"r{index}", "x" * 200, NOW)
        dispatch(services, event)

    measure(name, replies, one)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=300)
    args = parser.parse_args()
    print(f"{args.replies} replies to one step, {os.cpu_count()} cores")
    baseline(args.replies)
    with tempfile.TemporaryDirectory() as tmp:
        key = Path(tmp) / "bench.key"
        full_path("dispatch on SQLite", f"sqlite:///{tmp}/bench.db", args.replies, key)
        pg = os.environ.get("INTERVISION_TEST_POSTGRES_URL")
        if pg:
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(pg)
            with admin.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {schema}"))
            try:
                url = f"{pg}?options=-csearch_path%3D{schema}"
                full_path("dispatch on PostgreSQL", url, args.replies, key)
            finally:
                with admin.begin() as conn:
                    conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
                admin.dispose()


if __name__ == "__main__":
    main()
