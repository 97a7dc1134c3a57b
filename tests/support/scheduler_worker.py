"""Test support: one scheduler process for the two-process test on PostgreSQL.

``python -m tests.support.scheduler_worker <database-url> <log-file> <key-file>`` runs the
real ``bot.scheduler.Scheduler`` (advisory-lock leader election, APScheduler job store) with
a fast poll, and writes one line per job run (``run <pid> <job key>``) and per change of
leadership (``leader <pid> True|False``) to its log file. It runs until SIGTERM or SIGKILL.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from bot.bootstrap import build_services
from bot.config import Settings
from bot.handlers.timers import Job, JobContext, JobResult
from bot.scheduler import JOBS, Scheduler
from storage.time_repository import DueJob


def main(argv: list[str]) -> int:
    url, log_path, key_file = argv[1], Path(argv[2]), Path(argv[3])
    services = build_services(Settings(database_url=url, key_file=key_file), migrate=False)
    pid = os.getpid()
    log = log_path.open("a", encoding="utf-8", buffering=1)
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            log.write(line + "\n")
            log.flush()
            os.fsync(log.fileno())

    def recorded(function: Job) -> Job:
        def run(ctx: JobContext, job: DueJob) -> JobResult:
            write(f"run {pid} {job.key}")
            return function(ctx, job)

        return run

    scheduler = Scheduler(
        services,
        poll_seconds=0.2,
        leader_retry_seconds=0.3,
        jobs={kind: recorded(function) for kind, function in JOBS.items()},
        on_leadership=lambda leading: write(f"leader {pid} {leading}"),
    )
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    scheduler.start()
    write(f"started {pid}")
    stopped.wait()
    scheduler.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
