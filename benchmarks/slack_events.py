"""Benchmark: a thread reply from Slack's signed HTTP request to its stored contribution.

Prints response latency percentiles (ms), throughput (replies/s) and the process's peak
memory for two apps served the same way (the stdlib WSGI server, signed requests over
loopback, the real slack_sdk client against the fake Web API):
  - baseline: a bare Bolt app whose ``message`` listener does nothing;
  - intervision: the real app (parse, claim the event id, load, contribute, save, drain).

Run from the repository root: .venv/bin/python -m benchmarks.slack_events [--replies 200]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from slack_bolt import App

from bot.config import Settings
from bot.platforms.slack.app import build_slack_app
from bot.platforms.slack.messenger import make_client
from bot.platforms.slack.serve import start_http_server, wsgi_app
from tests.platform.slack.conftest import (
    CHANNEL,
    CLARA,
    FACILITATOR,
    OWNER,
    SECRET,
    InlineExecutor,
    Slack,
)
from tests.platform.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.app import make_harness


@contextmanager
def served(application: Any) -> Iterator[str]:
    server, thread = start_http_server(application, host="127.0.0.1", port=0, poll_interval=0.02)
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def measure(name: str, replies: int, one: Callable[[int], int]) -> None:
    timings = []
    started = time.perf_counter()
    for index in range(replies):
        begin = time.perf_counter()
        status = one(index)
        timings.append((time.perf_counter() - begin) * 1000)
        assert status == 200, status
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(timings, n=100)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{name:<14} p50 {q[49]:7.2f} ms  p95 {q[94]:7.2f} ms  p99 {q[98]:7.2f} ms  "
        f"{replies / elapsed:7.0f} replies/s  process peak RSS {peak:6.0f} MB"
    )


def baseline(fake: FakeSlack, replies: int) -> None:
    client = make_client(fake.base_url, BOT_TOKEN)
    bare = App(
        client=client,
        signing_secret=SECRET,
        process_before_response=True,
        listener_executor=InlineExecutor(),
    )
    bare.message()(lambda: None)
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    with served(SlackRequestHandler(bare)) as url:
        slack = Slack(url, fake, None, None)  # type: ignore[arg-type]
        measure("baseline", replies, lambda i: _reply(slack, fake, i, "1.000"))


def intervision(fake: FakeSlack, replies: int, workdir: Path) -> None:
    harness = make_harness(workdir)
    settings = Settings(
        slack_bot_token=BOT_TOKEN, slack_signing_secret=SECRET, slack_api_url=fake.base_url
    )
    app = build_slack_app(
        settings,
        harness.services,
        client=make_client(fake.base_url, BOT_TOKEN),
        process_before_response=True,
        listener_executor=InlineExecutor(),
        sleep=lambda seconds: None,
    )
    with served(wsgi_app(app)) as url:
        slack = Slack(url, fake, app, harness)
        slack.command(f"start ims owner=<@{OWNER}|anna>")
        slack.drain()
        thread = str(slack.anchor()["ts"])
        measure("intervision", replies, lambda i: _reply(slack, fake, i, thread))
        assert len(slack.session().contributions) == replies


def _reply(slack: Slack, fake: FakeSlack, index: int, thread: str) -> int:
    message = fake.user_message(CHANNEL, CLARA, f"contribution {index} " + "x" * 200, thread)
    return slack.event(dict(message)).status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=200)
    args = parser.parse_args()
    print(f"{args.replies} thread replies over loopback HTTP, {os.cpu_count()} cores")
    fake = FakeSlack().start()
    fake.add_channel(CHANNEL, "UBOT0001", OWNER, FACILITATOR, CLARA)
    try:
        baseline(fake, args.replies)
        with tempfile.TemporaryDirectory() as tmp:
            intervision(fake, args.replies, Path(tmp))
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
