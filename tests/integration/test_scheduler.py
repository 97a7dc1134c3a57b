"""The live scheduler: time travel against a running APScheduler, restarts, and exactly one
scheduler among several processes on PostgreSQL.

No test sleeps for real minutes: time-machine moves the clock, ``scheduler.wakeup()`` makes
APScheduler look again, and every wait is short and bounded.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import text

from bot import scheduler as scheduler_module
from bot.events import Command, Where
from bot.handlers import dispatch
from bot.platforms.console.app import ConsoleApp
from bot.platforms.console.board import Board
from bot.scheduler import POLL_JOB_ID, RETENTION_JOB_ID, Scheduler
from storage.crypto import configure_cipher, current_cipher
from tests.support.app import Harness, make_harness
from tests.support.databases import postgres_schema_url

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # 10:00 in Amsterdam
START = "/intervision start ims owner=anna with=clara,david mode=async hours=4"


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the scheduler did not get there in time")
        time.sleep(0.05)


@pytest.fixture
def keep_cipher() -> Iterator[None]:
    try:
        previous = current_cipher()
    except Exception:
        previous = None
    yield
    configure_cipher(previous)


def _live(harness: Harness, **options: object) -> Scheduler:
    """A real scheduler on the harness's database, with the (time-travelled) wall clock."""
    services = replace(harness.services, clock=lambda: datetime.now(UTC))
    harness.services = services
    harness.console = ConsoleApp(services, Board(harness.out))
    scheduler = Scheduler(
        services,
        after_run=harness.console.flush,
        guard=harness.console.lock,
        **options,  # type: ignore[arg-type]
    )
    scheduler.start()
    return scheduler


def _step(harness: Harness) -> int:
    with harness.services.store.transaction() as tx:
        return tx.open_sessions_in("console", "local", "console")[0].step_number


def test_a_live_scheduler_reminds_halfway_and_moves_on_at_the_deadline(
    tmp_path: Path, keep_cipher: None
) -> None:
    harness = make_harness(tmp_path)
    with time_machine.travel(MONDAY, tick=True) as traveller:
        scheduler = _live(harness)
        try:
            harness.type("/as ben", START, "/as anna", "My case, pseudonymised.")
            time.sleep(0.2)
            assert "(direct message" not in harness.transcript

            traveller.shift(timedelta(hours=2, minutes=1))
            scheduler.wakeup()
            wait_for(lambda: "(direct message to david)" in harness.transcript)
            assert "(direct message to anna)" not in harness.transcript  # she contributed

            traveller.shift(timedelta(hours=2))
            scheduler.wakeup()
            wait_for(lambda: _step(harness) == 2)
            wait_for(lambda: "Step 2 of 6" in harness.transcript)
        finally:
            scheduler.stop()
    harness.services.store.engine.dispose()


def test_work_missed_while_the_scheduler_was_down_runs_late_after_a_restart(
    tmp_path: Path, keep_cipher: None
) -> None:
    harness = make_harness(tmp_path)
    with time_machine.travel(MONDAY, tick=True) as traveller:
        scheduler = _live(harness)
        harness.type("/as ben", START)
        scheduler.stop()  # the process goes down before the deadline
        with harness.services.store.engine.connect() as connection:
            stored = connection.execute(text("SELECT id FROM apscheduler_jobs")).scalars().all()
        # the polling job and the retention purge are kept in the job store
        assert sorted(stored) == sorted([POLL_JOB_ID, RETENTION_JOB_ID])

        traveller.shift(timedelta(hours=5))  # down for five hours
        assert _step(harness) == 1
        restarted = _live(harness)
        try:
            wait_for(lambda: _step(harness) == 2)
            # the step moves in the job's transaction; the console prints just after it
            wait_for(lambda: "The time for step 1 of 6" in harness.transcript)
            assert harness.transcript.count("The time for step 1 of 6") == 1
        finally:
            restarted.stop()
    harness.services.store.engine.dispose()


def test_a_time_jump_far_beyond_the_poll_interval_runs_the_poll_once(
    tmp_path: Path, keep_cipher: None
) -> None:
    """coalesce=True and the misfire grace: a poll missed many times runs once, late."""
    harness = make_harness(tmp_path)
    runs: list[datetime] = []
    with time_machine.travel(MONDAY, tick=True) as traveller:
        scheduler = _live(harness, poll_seconds=60)
        try:
            harness.type("/as ben", START)
            time.sleep(0.3)  # the first poll (at start) is over
            entry = scheduler_module._REGISTRY[scheduler.name]
            entry.after_run = lambda: runs.append(datetime.now(UTC))
            traveller.shift(timedelta(hours=4, minutes=30))  # 270 polls missed
            scheduler.wakeup()
            wait_for(lambda: _step(harness) == 2)
            time.sleep(0.3)
            assert len(runs) == 1
        finally:
            scheduler.stop()
    harness.services.store.engine.dispose()


# Two processes on PostgreSQL


def _start_sessions(harness: Harness, channels: range, at: datetime) -> None:
    for n in channels:
        where = Where("console", "local", f"C{n}")
        command = "start ims owner=anna with=clara,david mode=async hours=1"
        dispatch(harness.services, Command(f"start-{n}", where, "ben", command, at))


def _due_left(harness: Harness) -> int:
    with harness.services.store.engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM due_jobs WHERE done_at IS NULL AND due_at <= now()")
        ).scalar_one()


def _ran(harness: Harness) -> set[str]:
    with harness.services.store.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT key FROM due_jobs WHERE done_at IS NOT NULL AND last_error IS NULL")
        ).scalars()
        return set(rows)


def _log(paths: list[Path]) -> list[list[str]]:
    lines: list[list[str]] = []
    for path in paths:
        if path.exists():
            lines.extend(line.split() for line in path.read_text().splitlines() if line)
    return lines


@pytest.mark.postgres
def test_two_processes_run_every_due_job_exactly_once_and_the_survivor_takes_over(
    tmp_path: Path, keep_cipher: None
) -> None:
    with postgres_schema_url() as url:
        harness = make_harness(tmp_path, database_url=url)
        harness.clock.step = timedelta(0)
        past = datetime.now(UTC) - timedelta(hours=3)
        _start_sessions(harness, range(8), past)  # deadlines two hours ago: due at once
        logs = [tmp_path / "worker-a.log", tmp_path / "worker-b.log"]
        key = tmp_path / "test.key"
        command = [sys.executable, "-m", "tests.support.scheduler_worker", url]
        workers = [subprocess.Popen([*command, str(log), str(key)], cwd=ROOT) for log in logs]
        try:
            wait_for(lambda: _due_left(harness) == 0, timeout=60)
            wait_for(lambda: sum(line[0] == "started" for line in _log(logs)) == 2, timeout=30)
            lines = _log(logs)
            leaders = {line[1] for line in lines if line[0] == "leader" and line[2] == "True"}
            assert len(leaders) == 1
            runs = Counter(line[2] for line in lines if line[0] == "run")
            assert set(runs) == _ran(harness)
            assert len(runs) >= 8
            assert set(runs.values()) == {1}
            assert {line[1] for line in lines if line[0] == "run"} == leaders

            # The leader dies; the other process takes over and runs the new work, once.
            (leader_pid,) = leaders
            leader = next(w for w in workers if str(w.pid) == leader_pid)
            leader.send_signal(signal.SIGKILL)
            leader.wait(timeout=10)
            _start_sessions(harness, range(8, 12), past)
            wait_for(lambda: _due_left(harness) == 0, timeout=60)
            lines = _log(logs)
            runs = Counter(line[2] for line in lines if line[0] == "run")
            assert set(runs) == _ran(harness)
            assert set(runs.values()) == {1}
            survivors = {str(w.pid) for w in workers if w is not leader}
            after_kill = [
                line for line in lines if line[0] == "run" and line[2] in _keys_of(harness, 8, 12)
            ]
            assert after_kill
            assert {line[1] for line in after_kill} == survivors
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.send_signal(signal.SIGTERM)
            for worker in workers:
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
            harness.services.store.engine.dispose()


def _keys_of(harness: Harness, first: int, last: int) -> set[str]:
    """The keys of the due work of the sessions started in channels C<first>..C<last - 1>."""
    channels = [f"C{n}" for n in range(first, last)]
    with harness.services.store.engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT d.key FROM due_jobs d JOIN sessions s ON d.subject = 'session:' || s.id "
                "JOIN groups g ON g.id = s.group_id WHERE g.channel = ANY(:channels)"
            ),
            {"channels": channels},
        ).scalars()
        return set(rows)


def test_the_worker_module_is_importable() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", "import tests.support.scheduler_worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
