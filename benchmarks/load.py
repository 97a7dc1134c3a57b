"""Benchmark: open-loop load of signed Slack thread replies into 10 live sessions.

Requests leave on a fixed schedule (``rate`` a second for ``--seconds``), each on its own
connection, from one asyncio loop; a request's latency is counted from the time it was
SCHEDULED to leave, so a server that falls behind cannot hide its queue in the client.
Two servers on the same stack (the Procfile's ``web`` command; gunicorn settings copied):

  - bare: ``benchmarks/bare_bolt.py``, a slack-bolt App with a no-op listener;
  - intervision: the Procfile's web process itself, against the fake Slack Web API.

Per rate it prints ack latency p50/p95/p99/max, errors (connection, timeout, non-2xx), the
ratio to the bare app, "reply answered -> contribution committed" (the database is polled
every few ms; the k-th contribution seen is matched with the k-th ack) and contributions
stored per second. SQLite with one process; PostgreSQL with two web processes when
INTERVISION_TEST_POSTGRES_URL is set. Everything listens on 127.0.0.1.

Run from the repository root: .venv/bin/python -m benchmarks.load [--rates 50 200 500]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine, text

from benchmarks import _live
from benchmarks._live import FACILITATOR, OWNER, PEOPLE, SECRET, TEAM, WebProcess

SESSIONS = 10
REQUEST_TIMEOUT = 20.0
BARE_APP = "benchmarks.bare_bolt:app"
_sequence = itertools.count(1)


# --- requests -------------------------------------------------------------------------------


def signed_request(port: int, body: str, content_type: str) -> bytes:
    timestamp = str(int(time.time()))
    digest = hmac.new(
        SECRET.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256
    ).hexdigest()
    encoded = body.encode()
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(encoded)}\r\n"
        f"X-Slack-Request-Timestamp: {timestamp}\r\nX-Slack-Signature: v0={digest}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode() + encoded


def thread_reply(port: int, channel: str, thread_ts: str) -> bytes:
    number = next(_sequence)
    ts = f"{1_900_000_000 + number}.000200"
    event = {
        "type": "message",
        "user": PEOPLE[number % len(PEOPLE)],
        "text": f"contribution {number} " + "x" * 200,
        "ts": ts,
        "channel": channel,
        "thread_ts": thread_ts,
        "parent_user_id": "UBOT0001",
        "event_ts": ts,
        "channel_type": "channel",
    }
    envelope = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0000001",
        "event": event,
        "type": "event_callback",
        "event_id": f"EvBENCH{number:010d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": "UBOT0001", "is_bot": True}],
    }
    return signed_request(port, json.dumps(envelope), "application/json")


def start_command(port: int, channel: str) -> bytes:
    form = {
        "token": "legacy",
        "team_id": TEAM,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": f"intervision-{channel.lower()}",
        "user_id": FACILITATOR,
        "user_name": "ben",
        "command": "/intervision",
        "text": f"start ims owner=<@{OWNER}|anna>",
        "api_app_id": "A0000001",
        "response_url": "https://hooks.slack.test/commands/1",
        "trigger_id": f"trigger.{next(_sequence)}",
    }
    return signed_request(port, urlencode(form), "application/x-www-form-urlencoded")


# --- the open-loop sender -------------------------------------------------------------------


@dataclass
class Outcome:
    scheduled: float  # time.monotonic() when it was due to leave
    done: float = 0.0
    status: int = 0
    error: str = ""  # connect, timeout, or empty

    @property
    def ok(self) -> bool:
        return not self.error and 200 <= self.status < 300


async def _send(port: int, payload: bytes, outcome: Outcome) -> None:
    try:
        async with asyncio.timeout(REQUEST_TIMEOUT):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            try:
                writer.write(payload)
                await writer.drain()
                status_line = await reader.readline()
                await reader.read()  # Connection: close, so the body ends at EOF
            finally:
                writer.close()
        parts = status_line.split()
        outcome.status = int(parts[1]) if len(parts) > 1 else 0
        if not outcome.status:
            outcome.error = "connect"
    except TimeoutError:
        outcome.error = "timeout"
    except OSError:
        outcome.error = "connect"
    outcome.done = time.monotonic()


async def _open_loop(ports: list[int], payloads: list[bytes], rate: float) -> list[Outcome]:
    start = time.monotonic() + 0.05
    outcomes: list[Outcome] = []
    tasks = []
    for index, payload in enumerate(payloads):
        due = start + index / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        outcome = Outcome(scheduled=due)
        outcomes.append(outcome)
        tasks.append(asyncio.create_task(_send(ports[index % len(ports)], payload, outcome)))
    await asyncio.gather(*tasks)
    return outcomes


def open_loop(ports: list[int], payloads: list[bytes], rate: float) -> list[Outcome]:
    return asyncio.run(_open_loop(ports, payloads, rate))


def send_one(port: int, payload: bytes) -> Outcome:
    return open_loop([port], [payload], 1.0)[0]


# --- the database side ----------------------------------------------------------------------


def stored(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM contributions")).scalar_one())


@dataclass
class StorePoller:
    """Counts contributions every few ms; ``seen[k]`` is when the k-th new one was visible."""

    engine: Engine
    interval: float = 0.005
    base: int = 0
    seen: list[float] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> StorePoller:
        self.base = stored(self.engine)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                count = stored(self.engine) - self.base
            except Exception:  # a busy database: look again next time
                continue
            now = time.monotonic()
            self.seen.extend([now] * (count - len(self.seen)))

    def settle(self, expected: int, cap: float, quiet: float = 10.0) -> None:
        """Wait until ``expected`` are stored, nothing new came for ``quiet`` s, or ``cap`` s."""
        began = last_change = time.monotonic()
        last = len(self.seen)
        while len(self.seen) < expected:
            now = time.monotonic()
            if now - began > cap or now - last_change > quiet:
                return
            if len(self.seen) != last:
                last, last_change = len(self.seen), now
            time.sleep(0.05)


def live_anchors(engine: Engine) -> dict[str, str]:
    query = text(
        "SELECT g.channel, s.anchor_ref FROM sessions s JOIN groups g ON g.id = s.group_id "
        "WHERE s.anchor_ref IS NOT NULL"
    )
    with engine.connect() as connection:
        return {str(row[0]): str(row[1]) for row in connection.execute(query)}


def start_sessions(port: int, engine: Engine, names: list[str]) -> dict[str, str]:
    """One session per channel, one command at a time (each waits for its anchor)."""
    for channel in names:
        outcome = send_one(port, start_command(port, channel))
        if not outcome.ok:
            raise RuntimeError(f"/intervision start answered {outcome.status} {outcome.error}")
        deadline = time.monotonic() + 30
        while channel not in live_anchors(engine):
            if time.monotonic() > deadline:
                raise RuntimeError(f"no session anchor in {channel} after 30 s")
            time.sleep(0.05)
    return live_anchors(engine)


# --- figures --------------------------------------------------------------------------------


@dataclass
class Figures:
    sent: int
    ok: int
    connect: int
    timeout: int
    non_2xx: int
    ack_ms: list[float]  # p50, p95, p99, max
    commit_ms: list[float] | None = None  # p50, p99
    stored: int | None = None
    stored_per_s: float | None = None


def percentiles(values: list[float]) -> list[float]:
    if not values:
        return [float("nan")] * 4
    if len(values) == 1:
        return values * 4
    q = statistics.quantiles(values, n=100, method="inclusive")
    return [q[49], q[94], q[98], max(values)]


def figures(outcomes: list[Outcome], poller: StorePoller | None) -> Figures:
    answered = [o for o in outcomes if not o.error]
    result = Figures(
        sent=len(outcomes),
        ok=sum(o.ok for o in outcomes),
        connect=sum(o.error == "connect" for o in outcomes),
        timeout=sum(o.error == "timeout" for o in outcomes),
        non_2xx=sum(not o.error and not o.ok for o in outcomes),
        ack_ms=percentiles([(o.done - o.scheduled) * 1000 for o in answered]),
    )
    if poller is not None:
        acks = sorted(o.done for o in outcomes if o.ok)
        lags = [max(0.0, seen - ack) * 1000 for seen, ack in zip(poller.seen, acks, strict=False)]
        q = percentiles(lags)
        result.commit_ms = [q[0], q[2]]
        result.stored = len(poller.seen)
        if poller.seen:
            result.stored_per_s = len(poller.seen) / (poller.seen[-1] - outcomes[0].scheduled)
    return result


def _ms(value: float) -> str:
    return f"{value:8.1f}" if value == value else "       -"


def print_table(rows: list[tuple[int, str, Figures, Figures | None]]) -> None:
    print(
        f"{'rate/s':>6} {'app':<12} {'sent':>5} {'conn':>4} {'tmo':>4} {'!2xx':>4} "
        f"{'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'p99 x':>6} "
        f"{'commit p50':>10} {'commit p99':>10} {'stored':>6} {'stored/s':>8}"
    )
    for rate, name, row, bare in rows:
        ratio = f"{row.ack_ms[2] / bare.ack_ms[2]:6.1f}" if bare else f"{'1.0':>6}"
        commit = (
            f"{_ms(row.commit_ms[0]):>10} {_ms(row.commit_ms[1]):>10}"
            if row.commit_ms
            else f"{'':>10} {'':>10}"
        )
        stored_figures = (
            f"{row.stored:>6} {row.stored_per_s or 0:8.0f}" if row.stored is not None else ""
        )
        print(
            f"{rate:>6} {name:<12} {row.sent:>5} {row.connect:>4} {row.timeout:>4} "
            f"{row.non_2xx:>4} {_ms(row.ack_ms[0])} {_ms(row.ack_ms[1])} {_ms(row.ack_ms[2])} "
            f"{_ms(row.ack_ms[3])} {ratio} {commit} {stored_figures}",
            flush=True,
        )


# --- one run --------------------------------------------------------------------------------


@contextmanager
def web_processes(
    count: int, env: dict[str, str], workdir: Path, app: str | None = None
) -> Iterator[list[WebProcess]]:
    processes = []
    try:
        for index in range(count):
            port = _live.free_port()
            argv, _ = _live.web_command(port, env, app)
            log = workdir / f"{'bare' if app else 'web'}-{index}.log"
            process = WebProcess(argv, env, port, log)
            process.start()
            processes.append(process)
        yield processes
    finally:
        for process in processes:
            process.stop()


WORKER_THREADS = 4
"""Inbox threads of the worker process: on PostgreSQL they wait on the network in parallel."""


@contextmanager
def worker_process(env: dict[str, str], workdir: Path) -> Iterator[None]:
    """``intervision worker`` (the Procfile's worker) beside web processes that only store."""
    log = (workdir / "worker.log").open("ab")
    process = subprocess.Popen(
        [str(_live.VENV_BIN / "intervision"), "worker"],
        env={**env, "INTERVISION_INBOX_THREADS": str(WORKER_THREADS)},
        cwd=_live.TARGET,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()


def replies(ports: list[int], anchors: dict[str, str], count: int) -> list[bytes]:
    channels = sorted(anchors)
    return [
        thread_reply(
            ports[i % len(ports)], channels[i % len(channels)], anchors[channels[i % len(channels)]]
        )
        for i in range(count)
    ]


def bench_backend(kind: str, args: argparse.Namespace, api_url: str) -> None:
    from storage.db import make_engine

    processes = 2 if kind == "postgresql" else 1
    split = args.split and kind == "postgresql"
    workdir = Path(tempfile.mkdtemp(prefix=f"intervision-bench-{kind}-"))
    with _live.database(kind, workdir) as url:
        env = _live.base_env(workdir, api_url, url, args.pace)
        web_env = {**env, "INTERVISION_ROLE": "web"} if split else env
        _, description = _live.web_command(0, env)
        topology = " with INTERVISION_ROLE=web and one 'intervision worker'" if split else ""
        print(
            f"\n{kind}, {processes} web process(es){topology}: {description}; "
            f"INTERVISION_PACE_SECONDS={args.pace if args.pace is not None else 'default'}; "
            f"{args.seconds:g} s per rate; {SESSIONS} sessions; logs in {workdir}",
            flush=True,
        )
        bare: dict[int, Figures] = {}
        with web_processes(1, env, workdir, BARE_APP) as (server,):
            fake_anchors = {c: "1800000000.000100" for c in _live.channels(SESSIONS)}
            for rate in args.rates:
                payloads = replies([server.port], fake_anchors, int(rate * args.seconds))
                bare[rate] = figures(open_loop([server.port], payloads, rate), None)
        engine = make_engine(url)
        rows: list[tuple[int, str, Figures, Figures | None]] = []
        for rate in args.rates:
            # A fresh process per rate: a backlog left by one rate does not slow the next.
            with (
                web_processes(processes, web_env, workdir) as servers,
                worker_process(env, workdir) if split else nullcontext(),
            ):
                ports = [s.port for s in servers]
                anchors = live_anchors(engine)
                if len(anchors) < SESSIONS:
                    anchors = start_sessions(ports[0], engine, _live.channels(SESSIONS))
                payloads = replies(ports, anchors, int(rate * args.seconds))
                with StorePoller(engine) as poller:
                    outcomes = open_loop(ports, payloads, rate)
                    poller.settle(sum(o.ok for o in outcomes), cap=args.settle)
                rows += [(rate, "bare bolt", bare[rate], None)]
                rows += [(rate, "intervision", figures(outcomes, poller), bare[rate])]
        engine.dispose()
        print_table(rows)
    shutil.rmtree(workdir)  # kept, with the servers' logs, when something failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[50, 200, 500])
    parser.add_argument("--seconds", type=float, default=5.0, help="load duration per rate")
    parser.add_argument(
        "--settle", type=float, default=60.0, help="at most this long to wait for the backlog"
    )
    parser.add_argument(
        "--pace", type=float, default=None, help="INTERVISION_PACE_SECONDS (default: the bot's)"
    )
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument(
        "--split",
        action="store_true",
        help="PostgreSQL: web processes only store (INTERVISION_ROLE=web), a worker applies",
    )
    args = parser.parse_args()
    print(
        f"open-loop signed thread replies over loopback, {os.cpu_count()} cores, "
        f"Python {sys.version.split()[0]}; latency from the scheduled send time"
    )
    with _live.fake_slack(SESSIONS) as api_url:
        for kind in args.backends:
            if kind == "postgresql" and not os.environ.get("INTERVISION_TEST_POSTGRES_URL"):
                print("\npostgresql: skipped (INTERVISION_TEST_POSTGRES_URL is not set)")
                continue
            bench_backend(kind, args, api_url)
    print(
        "\nconn/tmo/!2xx: connection errors, timeouts (>20 s), answers other than 2xx. "
        "p99 x: intervision's ack p99 over the bare app's. commit: ms from the ack to the "
        "contribution being visible in the database (k-th ack matched with k-th row). "
        "stored/s: contributions stored over the time from the first send to the last store."
    )


if __name__ == "__main__":
    main()
