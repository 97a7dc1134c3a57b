"""Benchmark: how fast the runtime stores and applies inbound thread replies, in one process.

Ten live sessions (one per channel, their anchors set) get ``--replies`` thread replies:
  - ingress: ``Ingress.accept`` of each reply (one committed, encrypted inbox row each);
  - apply: ``InboxWorker.run_once`` until the inbox is empty (claim, lock and load the
    session, the privacy guard, contribute, save what changed, queue, remove the row).
Beside them, the baseline: the same number of bare inbox rows accepted, then claimed and
finished in a transaction of their own each, with no use case. SQLite, and PostgreSQL (in a
schema of its own, dropped afterwards) when INTERVISION_TEST_POSTGRES_URL is set.

Run from the repository root: PYTHONPATH=. .venv/bin/python -m benchmarks.apply_throughput
[--replies 1000] [--only sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from bot.events import Command, Reply, Where
from bot.runtime.ingress import Ingress
from bot.runtime.worker import InboxWorker
from storage.inbox import Inbox
from tests.support.app import Harness, make_harness
from tests.support.databases import POSTGRES_ENV, postgres_schema_url

CHANNELS = [f"C{i}" for i in range(10)]
PEOPLE = 7


@contextmanager
def harness(backend: str) -> Iterator[Harness]:
    with tempfile.TemporaryDirectory() as tmp:
        url_of = postgres_schema_url() if backend == "postgresql" else nullcontext(None)
        with url_of as url:
            built = make_harness(Path(tmp), database_url=url)
            try:
                yield built
            finally:
                built.services.store.engine.dispose()


def live_sessions(h: Harness, ingress: Ingress, worker: InboxWorker) -> None:
    """One started session per channel, its anchor posted."""
    for channel in CHANNELS:
        where = Where("slack", "T", channel)
        ingress.accept(Command(f"s-{channel}", where, "ben", "start ims owner=anna", h.clock()))
    while worker.run_once():
        pass
    with h.services.store.transaction() as tx:
        for channel in CHANNELS:
            [session] = tx.open_sessions_in("slack", "T", channel)
            tx.set_anchor(session.id, f"{channel}.anchor")


def reply(h: Harness, index: int) -> Reply:
    channel = CHANNELS[index % len(CHANNELS)]
    where = Where("slack", "T", channel, f"{channel}.anchor")
    return Reply(
        f"r{index}", where, f"U{index % PEOPLE}", f"{index}.1", f"reply number {index}", h.clock()
    )


def apply_replies(backend: str, replies: int) -> tuple[float, float]:
    """Seconds to accept ``replies`` replies, and to apply them."""
    with harness(backend) as h:
        inbox = Inbox(h.services.store.engine)
        ingress = Ingress(inbox, h.clock)
        worker = InboxWorker(h.services, inbox)
        live_sessions(h, ingress, worker)
        started = time.perf_counter()
        for index in range(replies):
            ingress.accept(reply(h, index))
        accepted = time.perf_counter()
        while worker.run_once(limit=20):
            pass
        applied = time.perf_counter()
        assert inbox.waiting() == 0
        return accepted - started, applied - accepted


def bare_inbox(backend: str, replies: int) -> tuple[float, float]:
    """Seconds to accept ``replies`` bare rows, and to claim and finish them (no use case)."""
    with harness(backend) as h:
        inbox = Inbox(h.services.store.engine)
        store = h.services.store
        started = time.perf_counter()
        for index in range(replies):
            channel = CHANNELS[index % len(CHANNELS)]
            inbox.accept("slack", f"b{index}", f"slack:T:{channel}", {"n": index}, h.clock())
        accepted = time.perf_counter()
        while items := inbox.claim(h.clock(), limit=20):
            for item in items:
                with store.transaction() as tx:
                    Inbox.finish(tx, item.id)
        finished = time.perf_counter()
        return accepted - started, finished - accepted


def row(backend: str, what: str, replies: int, seconds: tuple[float, float]) -> str:
    cells = []
    for elapsed in seconds:
        cells += [f"{replies / elapsed:8.0f}", f"{elapsed / replies * 1000:7.2f}"]
    return f"{backend:<11} {what:<22} " + " ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    backends = ["sqlite"]
    if os.environ.get(POSTGRES_ENV):
        backends.append("postgresql")
    if args.only:
        backends = [b for b in backends if b == args.only]
    print(f"{args.replies} events per row, one process, one worker thread")
    print(f"{'backend':<11} {'what':<22} {'ingress/s':>8} {'ms':>7} {'apply/s':>8} {'ms':>7}")
    for backend in backends:
        baseline = bare_inbox(backend, args.replies)
        print(row(backend, "bare inbox (baseline)", args.replies, baseline))
        print(row(backend, "thread replies", args.replies, apply_replies(backend, args.replies)))


if __name__ == "__main__":
    main()
