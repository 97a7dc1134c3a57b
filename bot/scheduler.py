"""Scheduler (process level): runs due work — step deadlines, reminders, CoP preparation.

Job: ``bot.scheduler:run_job(name)``, one APScheduler 3.11 interval job that polls our own
``due_jobs`` table every ``poll_seconds`` and runs what is due through
``bot.handlers.timers.run_due``.

Why one polling job over our own table, and not one APScheduler job per deadline:

- Due work is written by the use cases *in the transaction that caused it* (a step opened,
  a CoP rescheduled). Any web process can do that; only one process runs the scheduler, and
  APScheduler 3 cannot see jobs another process adds to its job store until it wakes (its
  FAQ: a job store must not be shared by schedulers). A row in our table is seen by the
  next poll of whichever process leads, and a rolled-back change leaves no job behind.
- Each due row is claimed with a row lock (``FOR UPDATE SKIP LOCKED`` on PostgreSQL) and
  marked done in the transaction that queues its messages: work runs once even if, in a
  split second of a leadership change, two schedulers polled at once.
- Due work survives restarts (it is data, not a pickled job) and never expires: after
  downtime the first poll runs everything missed; each job decides whether it still
  applies (a reminder after its deadline is dropped, one in quiet hours waits).

The polling job itself is kept in APScheduler's ``SQLAlchemyJobStore`` on the bot's database
(table ``apscheduler_jobs``), with ``coalesce=True`` and a ``misfire_grace_time``
(default 3600 s): after a restart or a jump of the clock it runs once, late, instead of
being dropped or run many times. The job store pickles only a reference to the module-level
``run_job`` and its plain argument, the registry ``name``: the ``Services`` a job needs
(database, catalogue, clock) cannot be pickled, so the composition root registers them in
this process-level registry under that name (the same name in every process, so whichever
process leads can run the stored job).

Exactly one process runs the scheduler:

- SQLite: the one process (SQLite serves a single process).
- PostgreSQL: a session-level advisory lock (``pg_try_advisory_lock``) held on a dedicated
  connection elects the leader; the others try again every ``leader_retry_seconds``. When
  the leader dies its connection closes, PostgreSQL releases the lock and another process
  takes over. A leader that loses its lock connection stops its scheduler at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine

from bot.handlers.context import Services
from bot.handlers.cop import COP_JOBS
from bot.handlers.retention import purge_expired
from bot.handlers.timers import SESSION_JOBS, Job, run_due
from storage.leader import LeaderLock

logger = logging.getLogger(__name__)

JOBS: dict[str, Job] = {**SESSION_JOBS, **COP_JOBS}
POLL_JOB_ID = "intervision-due-work"
RETENTION_JOB_ID = "intervision-retention"
# Retention is counted in days; purging a few times a day keeps data at most hours too long.
RETENTION_EVERY_HOURS = 6
DEFAULT_NAME = "intervision"
JOB_TABLE = "apscheduler_jobs"
# Any constant will do; it only has to be the same in every process of a deployment.
LEADER_LOCK_ID = 7_305_911_215
DEFAULT_POLL_SECONDS = 30.0
DEFAULT_MISFIRE_GRACE_SECONDS = 3600
DEFAULT_LEADER_RETRY_SECONDS = 30.0


@dataclass
class _Registered:
    services: Services
    jobs: Mapping[str, Job]
    after_run: Callable[[], object] | None
    guard: AbstractContextManager[Any]


_REGISTRY: dict[str, _Registered] = {}


def register(
    name: str,
    services: Services,
    *,
    jobs: Mapping[str, Job] = JOBS,
    after_run: Callable[[], object] | None = None,
    guard: AbstractContextManager[Any] | None = None,
) -> None:
    """Make ``services`` the ones ``run_job(name)`` uses in this process.

    ``after_run`` is called after a poll that ran work (the console prints, Slack drains the
    outbox); ``guard`` (a lock) is held around the poll and ``after_run``.
    """
    _REGISTRY[name] = _Registered(services, jobs, after_run, guard or nullcontext())


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def run_job(name: str) -> int:
    """The scheduled job: run the due work with the services registered as ``name``."""
    entry = _REGISTRY.get(name)
    if entry is None:
        logger.warning("no services registered as %r in this process; nothing run", name)
        return 0
    with entry.guard:
        ran = run_due(entry.services, entry.jobs)
        if ran and entry.after_run is not None:
            try:
                entry.after_run()
            except Exception as error:  # the next poll tries again
                logger.error("after running due work: %s", type(error).__name__)
    return ran


def run_retention(name: str) -> int:
    """The scheduled purge: delete what the groups' retention periods no longer allow.

    Returns:
        How many sessions were purged.
    """
    entry = _REGISTRY.get(name)
    if entry is None:
        logger.warning("no services registered as %r in this process; nothing purged", name)
        return 0
    with entry.guard:
        report = purge_expired(entry.services)
    return len(report.sessions)


class Scheduler:
    """The process's scheduler: starts APScheduler here when this process may run it.

    Args:
        services: what the jobs use (registered under ``name``).
        poll_seconds: how often due work is looked for.
        misfire_grace_seconds: how late a poll may still run (after a restart, a time jump).
        after_run: called after a poll that ran work (print, drain the outbox).
        guard: a lock held around each poll (the console shares it with typed commands).
        leader_retry_seconds: PostgreSQL: how often a follower tries to become the leader.
        jobs: the job functions by kind (tests wrap them to count runs).
        on_leadership: called with True when this process starts the scheduler, False when
            it stops.
    """

    def __init__(
        self,
        services: Services,
        *,
        name: str = DEFAULT_NAME,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        misfire_grace_seconds: int = DEFAULT_MISFIRE_GRACE_SECONDS,
        after_run: Callable[[], object] | None = None,
        guard: AbstractContextManager[Any] | None = None,
        leader_retry_seconds: float = DEFAULT_LEADER_RETRY_SECONDS,
        jobs: Mapping[str, Job] = JOBS,
        on_leadership: Callable[[bool], None] | None = None,
    ) -> None:
        self.services = services
        self.name = name
        self.poll_seconds = poll_seconds
        self.misfire_grace_seconds = misfire_grace_seconds
        self.leader_retry_seconds = leader_retry_seconds
        self._after_run = after_run
        self._guard = guard
        self._jobs = jobs
        self._on_leadership = on_leadership
        self._engine: Engine = services.store.engine
        self._aps: BackgroundScheduler | None = None
        self._stop = threading.Event()
        self._leading = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        """True while this process runs the scheduler."""
        return self._leading.is_set()

    def start(self) -> None:
        """Run the scheduler here (SQLite), or compete for it in the background (PostgreSQL)."""
        register(
            self.name,
            self.services,
            jobs=self._jobs,
            after_run=self._after_run,
            guard=self._guard,
        )
        self._stop.clear()
        if self._engine.dialect.name != "postgresql":
            self._start_apscheduler()
            return
        self._thread = threading.Thread(
            target=self._lead_when_elected, name="scheduler-leader", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop the scheduler (and the competing for it); waits for a running poll."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=max(10.0, self.leader_retry_seconds + 5))
            self._thread = None
        self._stop_apscheduler()
        unregister(self.name)

    def wakeup(self) -> None:
        """Look at the job store now (after tests move the clock)."""
        if self._aps is not None and self._aps.running:
            self._aps.wakeup()

    def run_now(self) -> int:
        """Run the due work now, in this thread (the console's ``/later``)."""
        return run_job(self.name)

    def wait_until_leader(self, timeout: float) -> bool:
        return self._leading.wait(timeout)

    # --- APScheduler --------------------------------------------------------------------------

    def _start_apscheduler(self) -> None:
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self._engine, tablename=JOB_TABLE)},
            executors={"default": ThreadPoolExecutor(1)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self.misfire_grace_seconds,
            },
            timezone=UTC,
        )
        scheduler.start()
        scheduler.add_job(
            run_job,
            "interval",
            seconds=self.poll_seconds,
            args=[self.name],
            id=POLL_JOB_ID,
            replace_existing=True,
            next_run_time=datetime.now(UTC),  # catch up on what was missed at once
        )
        scheduler.add_job(
            run_retention,
            "interval",
            hours=RETENTION_EVERY_HOURS,
            args=[self.name],
            id=RETENTION_JOB_ID,
            replace_existing=True,
            next_run_time=datetime.now(UTC),
        )
        self._aps = scheduler
        self._leading.set()
        logger.info("scheduler started (polling every %s s)", self.poll_seconds)
        if self._on_leadership is not None:
            self._on_leadership(True)

    def _stop_apscheduler(self) -> None:
        scheduler, self._aps = self._aps, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=True)
        if self._leading.is_set():
            self._leading.clear()
            logger.info("scheduler stopped")
            if self._on_leadership is not None:
                self._on_leadership(False)

    # --- leader election (PostgreSQL) -----------------------------------------------------------

    def _lead_when_elected(self) -> None:
        lock = LeaderLock(self._engine, LEADER_LOCK_ID)
        try:
            while not self._stop.is_set():
                if lock.acquire():
                    try:
                        self._lead(lock)
                    finally:
                        lock.release()
                if not self._stop.is_set():
                    self._stop.wait(self.leader_retry_seconds)
        finally:
            lock.dispose()

    def _lead(self, lock: LeaderLock) -> None:
        """Run the scheduler while the lock connection is alive and nobody asked to stop."""
        logger.warning("this process runs the scheduler (leader)")
        self._start_apscheduler()
        try:
            while not self._stop.wait(min(self.leader_retry_seconds, 10.0)):
                lock.check()
        except Exception as error:
            logger.error("lost the scheduler lock connection: %s", type(error).__name__)
        finally:
            self._stop_apscheduler()
