"""Benchmark: 10,000 open asynchronous sessions with deadlines and reminders, on SQLite.

In a fresh child process (so its memory is its own), on the console platform:
  1. baseline: the services built (modules imported, database migrated), no session yet;
  2. one session started through the real use case (``/intervision start ... mode=async
     hours=4``), then copied through storage into 10,000 sessions in 100 channels
     (``add_session`` and the real timer registration, ``sync_session_timers``), their start
     times spread so that their reminders fall due evenly over ``--window`` seconds of a
     sped-up clock;
  3. the live scheduler (bot/scheduler.py) starts; the clock runs from just before the first
     reminder to past the last; the scheduler polls every ``--poll`` seconds and sends them.
Prints resident memory (VmRSS, peak VmHWM from /proc/self/status) at each stage and reminder
lateness p50/p99/max in real seconds (when the scheduler took the job up, minus when the
clock passed its due time; the poll interval is part of it).

Run from the repository root: .venv/bin/python -m benchmarks.sessions_memory [--sessions N]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks import _live

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday, 10:00 in Amsterdam
START = "start ims owner=anna with=clara,david mode=async hours=4"
BATCH = 100
# Storage allows several open sessions per channel; 100 sessions per channel keep the setup
# within the time bound (the group lookup is what grows with the number of channels).
CHANNELS = 100


class SimClock:
    """Stands still at ``at`` until ``run`` makes it go ``speed`` times real time."""

    def __init__(self, at: datetime) -> None:
        self._at = at
        self._real: float | None = None
        self.speed = 1.0
        self._lock = threading.Lock()

    def run(self, at: datetime, speed: float) -> None:
        with self._lock:
            self._at, self._real, self.speed = at, time.monotonic(), speed

    def real_of(self, at: datetime) -> float:
        """The time.monotonic() at which this clock shows ``at``."""
        assert self._real is not None
        return self._real + (at - self._at).total_seconds() / self.speed

    def __call__(self) -> datetime:
        with self._lock:
            if self._real is None:
                return self._at
            elapsed = (time.monotonic() - self._real) * self.speed
            return self._at + timedelta(seconds=elapsed)


def memory() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


def report(stage: str, baseline: float | None = None) -> float:
    rss, peak = memory()
    extra = f"  (+{rss - baseline:6.1f} MB over the baseline)" if baseline is not None else ""
    print(f"{stage:<44} RSS {rss:7.1f} MB  peak {peak:7.1f} MB{extra}", flush=True)
    return rss


def child(args: argparse.Namespace) -> None:
    from sqlalchemy import text

    from bot.events import Command, Where
    from bot.handlers import dispatch
    from bot.handlers.timers import sync_session_timers
    from bot.platforms.console.app import ConsoleApp
    from bot.platforms.console.board import Board
    from bot.scheduler import Scheduler
    from tests.support.app import make_harness

    # "skipped: maximum number of running instances" is APScheduler saying a poll is still busy
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    workdir = Path(tempfile.mkdtemp(prefix="intervision-bench-memory-"))
    harness = make_harness(workdir)
    clock = SimClock(T0)
    services = replace(harness.services, clock=clock)
    # The console's own transcript is not the bot's memory: print it nowhere.
    console = ConsoleApp(services, Board(open(os.devnull, "w")))  # noqa: SIM115
    baseline = report("baseline: services built, no session")

    began = time.perf_counter()
    dispatch(services, Command("start-0", Where("console", "local", "C0"), "ben", START, T0))
    with services.store.transaction() as tx:
        template = tx.open_sessions_in("console", "local", "C0")[0]
    spacing = args.window * args.speed / args.sessions
    for first in range(1, args.sessions, BATCH):
        with services.store.transaction() as tx:
            groups = [tx.group("console", "local", f"C{n}").id for n in range(CHANNELS)]
            for n in range(first, min(first + BATCH, args.sessions)):
                at = T0 + timedelta(seconds=n * spacing)
                run = replace(template.runs[0], opened_at=at, deadline=at + timedelta(hours=4))
                session = replace(template, id=f"bench{n}", started_at=at, runs=(run,))
                tx.add_session(session, groups[n % CHANNELS])
                sync_session_timers(tx, session.id, at)
    console.flush()
    created = time.perf_counter() - began
    report(f"{args.sessions} sessions stored ({created:.0f} s to create)", baseline)

    # Started only now: a poll waiting behind the bulk setup's long write transactions
    # would hit SQLite's busy timeout (the setup is not what is measured).
    scheduler = Scheduler(
        services, poll_seconds=args.poll, after_run=console.flush, guard=console.lock
    )
    scheduler.start()
    report("scheduler started", baseline)
    engine = services.store.engine
    with engine.connect() as connection:
        first_due, last_due, count = connection.execute(
            text("SELECT min(due_at), max(due_at), count(*) FROM due_jobs WHERE kind = 'remind'")
        ).one()
    first_due, last_due = _aware(first_due), _aware(last_due)
    clock.run(first_due - timedelta(seconds=args.speed), args.speed)
    scheduler.wakeup()
    deadline = clock.real_of(last_due) + args.poll + 30
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            left = connection.execute(
                text("SELECT count(*) FROM due_jobs WHERE kind = 'remind' AND done_at IS NULL")
            ).scalar_one()
        if not left:
            break
        time.sleep(0.2)
    report(f"{count} reminders due over {args.window:g} s, taken up", baseline)
    scheduler.stop()
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT due_at, done_at FROM due_jobs WHERE kind = 'remind'")
        ).all()
    # A reminder not taken up yet is at least as late as the clock is past its due time.
    now = clock()
    late = [
        ((_aware(done) if done is not None else now) - _aware(due)).total_seconds() / args.speed
        for due, done in rows
    ]
    waiting = sum(done is None for _, done in rows)
    if len(late) > 1:
        q = statistics.quantiles(late, n=100, method="inclusive")
        at_least = "at least " if waiting else ""
        print(
            f"reminder lateness (real s): p50 {at_least}{q[49]:.2f}  p99 {at_least}{q[98]:.2f}"
            f"  max {at_least}{max(late):.2f}; {len(rows) - waiting} taken up, {waiting} still"
            f" waiting {args.poll + 30:g} s after the last fell due",
            flush=True,
        )
    shutil.rmtree(workdir)
    print(
        f"clock {args.speed:g}x real time; scheduler poll {args.poll:g} s "
        "(INTERVISION_SCHEDULER_POLL_SECONDS; its default is 30 s)"
    )


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--window", type=float, default=40.0, help="real seconds of reminders")
    parser.add_argument("--speed", type=float, default=60.0, help="simulated s per real s")
    parser.add_argument("--poll", type=float, default=1.0, help="scheduler poll, seconds")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    print(f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, SQLite; a fresh process")
    subprocess.run(
        [sys.executable, "-m", "benchmarks.sessions_memory", "--child", *sys.argv[1:]],
        cwd=_live.TARGET,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(_live.TARGET), str(_live.ROOT)])},
        check=True,
        timeout=300,
    )


if __name__ == "__main__":
    main()
