"""Benchmark support: the fake Slack Web API and the web process, each in its own process.

A minimal launcher (tests/support/live.py's ``LiveBot`` may replace it later). Everything
listens on 127.0.0.1 only and is stopped by the ``with`` block that started it.

- ``fake_slack()``: ``python -m benchmarks._live`` serves ``FakeSlack`` with the bench's
  channels in a child process (so its threads do not share the load generator's GIL).
- ``web_command(app)``: the Procfile's ``web`` command, run as it is, bound to 127.0.0.1; with
  ``app`` set, the same server with the same settings serving another WSGI app instead.
- ``WebProcess``: start, wait for ``/healthz``, stop (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import os
import runpy
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The checkout whose web process is measured: this one, or another (an older commit's
# ``git archive``, say) named by INTERVISION_BENCH_TARGET; the benchmarks' own code stays here.
TARGET = Path(os.environ.get("INTERVISION_BENCH_TARGET", ROOT)).resolve()
VENV_BIN = Path(sys.executable).parent
SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-test-token"  # the token FakeSlack accepts
TEAM = "T0000001"
FACILITATOR = "UBEN0001"
OWNER = "UANNA001"
PEOPLE = ("UCLARA01", "UDAVID01", "UERIK001", "UFENNA01")
# Server settings that make two gunicorn runs "the same stack"; hooks are not copied.
GUNICORN_SETTINGS = {
    "workers": "--workers",
    "threads": "--threads",
    "backlog": "--backlog",
    "worker_class": "--worker-class",
    "keepalive": "--keep-alive",
    "timeout": "--timeout",
    "worker_connections": "--worker-connections",
}


def channels(count: int) -> list[str]:
    return [f"C{index:07d}" for index in range(1, count + 1)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def procfile_web() -> list[str]:
    for line in (TARGET / "Procfile").read_text(encoding="utf-8").splitlines():
        if line.startswith("web:"):
            return shlex.split(line.removeprefix("web:"))
    raise SystemExit("the Procfile has no web process")


def gunicorn_settings(argv: Sequence[str], env: dict[str, str]) -> dict[str, Any]:
    """The server settings a ``gunicorn --config FILE`` command line runs with."""
    config = None
    for index, arg in enumerate(argv):
        if arg in ("-c", "--config") and index + 1 < len(argv):
            config = argv[index + 1]
        elif arg.startswith("--config="):
            config = arg.split("=", 1)[1]
    if config is None:
        return {}
    saved = dict(os.environ)
    os.environ.update(env)  # a config file reads PORT, WEB_CONCURRENCY ... from the environment
    try:
        values = runpy.run_path(str(TARGET / config.removeprefix("python:")))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {key: values[key] for key in GUNICORN_SETTINGS if key in values}


def web_command(port: int, env: dict[str, str], app: str | None = None) -> tuple[list[str], str]:
    """(argv, description) of the Procfile's web process, or of ``app`` on the same stack."""
    argv = procfile_web()
    if argv[0] == "gunicorn":
        if app is None:
            command = [str(VENV_BIN / "gunicorn"), *argv[1:], "--bind", f"127.0.0.1:{port}"]
            return command, "gunicorn " + " ".join(argv[1:])
        settings = gunicorn_settings(argv, env)
        flags = [f"{GUNICORN_SETTINGS[key]}={value}" for key, value in settings.items()]
        command = [str(VENV_BIN / "gunicorn"), *flags, "--bind", f"127.0.0.1:{port}", app]
        return command, "gunicorn " + " ".join(flags)
    if app is None:
        return [str(VENV_BIN / argv[0]), *argv[1:]], " ".join(argv)
    # Not gunicorn: the Procfile runs the stdlib threaded WSGI server; bare_bolt serves the
    # same way when run as a module.
    return [sys.executable, "-m", app.split(":")[0]], "stdlib threaded WSGI server"


def base_env(workdir: Path, api_url: str, database_url: str, pace: float | None) -> dict[str, str]:
    from cryptography.fernet import Fernet

    # A developer's own settings must not change what is measured.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "INTERVISION_", "GUNICORN_"))
        and key not in ("DATABASE_URL", "PORT", "WEB_CONCURRENCY")
    }
    env.update(
        # "" is unset for the settings, and a .env file cannot fill it in.
        SLACK_APP_TOKEN="",
        INTERVISION_METHODS_DIR="",
        PYTHONPATH=os.pathsep.join(dict.fromkeys([str(TARGET), str(ROOT)])),
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=api_url,
        INTERVISION_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        INTERVISION_KEY_FILE=str(workdir / "intervision.key"),
        INTERVISION_FILES_DIR=str(workdir / "files"),
    )
    if pace is not None:
        env["INTERVISION_PACE_SECONDS"] = str(pace)
    return env


@dataclass
class WebProcess:
    argv: list[str]
    env: dict[str, str]
    port: int
    log: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0) -> float:
        """Start and wait for the first 200 on /healthz; returns the seconds that took."""
        began = time.perf_counter()
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv,
                env={**self.env, "PORT": str(self.port)},
                cwd=TARGET,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = began + timeout
        while time.perf_counter() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"web process exited; see {self.log}")
            if healthy(self.url):
                return time.perf_counter() - began
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"web process not ready within {timeout} s; see {self.log}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def fake_slack(channel_count: int) -> Iterator[str]:
    """A FakeSlack process with ``channel_count`` channels; yields its ``SLACK_API_URL``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "benchmarks._live", str(channel_count)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().decode().strip()
        if not url:
            raise RuntimeError("the fake Slack did not start")
        yield url
    finally:
        if process.stdin:
            process.stdin.close()  # the child stops when its stdin closes
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def database(kind: str, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file, or a fresh schema on INTERVISION_TEST_POSTGRES_URL."""
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    from tests.support.databases import postgres_schema_url

    with postgres_schema_url() as url:
        yield url


def _serve_fake(channel_count: int) -> None:
    from tests.platform.slack.fake_slack import FakeSlack

    fake = FakeSlack().start()
    for channel in channels(channel_count):
        fake.add_channel(channel, "UBOT0001", OWNER, FACILITATOR, *PEOPLE)
    print(fake.base_url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    fake.stop()


if __name__ == "__main__":
    _serve_fake(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
