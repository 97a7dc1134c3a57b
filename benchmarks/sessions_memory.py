"""Benchmark: 10,000 open asynchronous sessions with deadlines and reminders, on SQLite.

In a fresh child process (so its memory is its own), on the console platform:
  1. baseline: the services built (modules imported, database migrated), no session yet;
  2. one session started through the real use case (``/intervision start ... mode=async
     hours=4``), then copied through storage into 10,000 sessions in 100 channels
     (``add_session`` and the real timer registration, ``sync_session_timers``); the start
     times of ``--due`` (1,000) of them are spread so that their reminders come due evenly
     over ``--window`` (40) seconds, the others' reminders are hours later;
  3. the live scheduler (bot/scheduler.py) starts, polling every ``--poll`` seconds, and the
     clock (which stood still during the setup) runs at real speed from just before the
     first reminder.
Prints resident memory (VmRSS, peak VmHWM from /proc/self/status) at each stage and the
lateness p50/p99/max of the reminders due in the window: when the scheduler took one up
minus its due time (the poll interval is part of it).

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
    """Stands still at ``at`` until ``run(at)`` makes it go on from there at real speed."""

    def __init__(self, at: datetime) -> None:
        self._at = at
        self._real: float | None = None
        self._lock = threading.Lock()

    def run(self, at: datetime) -> None:
        with self._lock:
            self._at, self._real = at, time.monotonic()

    def __call__(self) -> datetime:
        with self._lock:
            if self._real is None:
                return self._at
            return self._at + timedelta(seconds=time.monotonic() - self._real)


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
    due = min(args.due, args.sessions)
    for first in range(1, args.sessions, BATCH):
        with services.store.transaction() as tx:
            groups = [tx.group("console", "local", f"C{n}").id for n in range(CHANNELS)]
            for n in range(first, min(first + BATCH, args.sessions)):
                at = started_at(n, due, args)
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
        first_due = _aware(
            connection.execute(
                text("SELECT min(due_at) FROM due_jobs WHERE kind = 'remind'")
            ).scalar_one()
        )
    last_due = first_due + timedelta(seconds=args.window)
    sample = text(
        "SELECT due_at, done_at FROM due_jobs WHERE kind = 'remind' AND due_at <= :last"
    ).bindparams(last=last_due)
    clock.run(first_due - timedelta(seconds=1))
    scheduler.wakeup()
    give_up = time.monotonic() + args.window + 1 + args.poll + 30
    while time.monotonic() < give_up:
        if clock() > last_due:
            with engine.connect() as connection:
                if all(done is not None for _, done in connection.execute(sample)):
                    break
        time.sleep(0.2)
    report(f"{due} reminders came due over {args.window:g} s", baseline)
    scheduler.stop()
    with engine.connect() as connection:
        rows = connection.execute(sample).all()
    # A reminder not taken up yet is at least as late as the clock is past its due time.
    now = clock()
    late = [((_aware(done) if done else now) - _aware(at)).total_seconds() for at, done in rows]
    waiting = sum(done is None for _, done in rows)
    if len(late) > 1:
        q = statistics.quantiles(late, n=100, method="inclusive")
        at_least = "at least " if waiting else ""
        print(
            f"reminder lateness (s): p50 {at_least}{q[49]:.2f}  p99 {at_least}{q[98]:.2f}"
            f"  max {at_least}{max(late):.2f}; {len(rows) - waiting} taken up, {waiting} not"
            f" within {args.poll + 30:g} s after the last fell due",
            flush=True,
        )
    shutil.rmtree(workdir)
    print(
        f"the other {args.sessions - due} sessions' reminders are hours away; scheduler poll "
        f"{args.poll:g} s (INTERVISION_SCHEDULER_POLL_SECONDS; its default is 30 s)"
    )


def started_at(n: int, due: int, args: argparse.Namespace) -> datetime:
    """The first ``due`` sessions start ``window / due`` s apart (so do their reminders);
    the others start an hour later, spread over two hours (reminders not reached)."""
    if n < due:
        return T0 + timedelta(seconds=n * args.window / due)
    return T0 + timedelta(hours=1, seconds=(n - due) * 7200 / max(1, args.sessions - due))


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=10_000)
    parser.add_argument("--due", type=int, default=1000, help="reminders due in the window")
    parser.add_argument("--window", type=float, default=40.0, help="seconds they come due over")
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
