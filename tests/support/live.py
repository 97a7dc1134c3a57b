"""Test support: the real web process (the Procfile's ``web`` command) on a real port.

``LiveBot`` runs that command in the repository root the way a platform would (its own
process group, settings only from the environment) and sends it requests signed exactly as
Slack signs them. ``kill`` is ``kill -9`` of the whole group (a server may have a master and
workers); ``restart`` starts the same command again on the same port and database, as a
platform does after a crash. The resilience tests and the benchmarks share it.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import IO, Any, TypeVar
from urllib.parse import urlencode

from cryptography.fernet import Fernet
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parents[2]
# The checkout's virtualenv, else the one running the tests (a copy of the tree elsewhere).
VENV_BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv").is_dir() else Path(sys.executable).parent
EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_SECONDS = 20.0
COMMAND = "/intervision"

# Inherited variables that would change what the process does (a developer's own settings).
_DROPPED_PREFIXES = ("SLACK_", "INTERVISION_", "GUNICORN_")
_DROPPED_NAMES = ("DATABASE_URL", "PORT", "WEB_CONCURRENCY")
# Set to "" so that a developer's .env cannot supply them (the settings treat "" as unset).
# Not the OAuth client id and secret: Bolt turns OAuth on when they are set at all.
_BLANKED = ("SLACK_APP_TOKEN", "INTERVISION_METHODS_DIR")

T = TypeVar("T")

# Every process started and not yet killed: killed at exit, should a test run be cut short.
_running: set[LiveBot] = set()


@dataclass(frozen=True)
class Response:
    """An HTTP answer; ``status`` 0 means no answer at all (refused, reset, timed out)."""

    status: int
    body: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def web_command(procfile: Path = ROOT / "Procfile") -> str:
    """The Procfile's ``web:`` command line."""
    for line in procfile.read_text(encoding="utf-8").splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "web":
            return command.strip()
    raise LookupError(f"no web: line in {procfile}")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bot_env(
    *,
    database_url: str,
    api_url: str,
    bot_token: str,
    signing_secret: str,
    workdir: Path,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment of a web process: the inherited one without anybody's own bot
    settings, plus a test database, the fake Web API, a fresh key and fast timers."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_DROPPED_PREFIXES)
        and name not in _DROPPED_NAMES
        and "CLIENT_ID" not in name
        and "CLIENT_SECRET" not in name
    }
    env.update(dict.fromkeys(_BLANKED, ""))
    env.update(
        {
            "PATH": f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
            # This checkout's code, even when the venv's editable install points elsewhere.
            "PYTHONPATH": str(ROOT),
            "PYTHONUNBUFFERED": "1",
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": bot_token,
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_API_URL": api_url,
            "INTERVISION_ENCRYPTION_KEYS": Fernet.generate_key().decode("ascii"),
            "INTERVISION_KEY_FILE": str(workdir / "intervision.key"),
            "INTERVISION_FILES_DIR": str(workdir / "files"),
            "INTERVISION_SCHEDULER_POLL_SECONDS": "1",
            "INTERVISION_PACE_SECONDS": "0.05",
        }
    )
    env.update(extra or {})
    return env


@dataclass(eq=False)
class LiveBot:
    """One web process; ``start`` returns it ready (``GET /healthz`` answered 200)."""

    env: dict[str, str]
    port: int
    log_path: Path
    cmdline: str = field(default_factory=web_command)
    process: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None
    _ids: Iterator[int] = field(default_factory=lambda: count(1))

    @classmethod
    def start(
        cls, env: Mapping[str, str], *, port: int | None = None, log_path: Path | None = None
    ) -> LiveBot:
        """Run the Procfile's web command with ``env`` (``PORT`` is set here) until ready;
        what it prints goes to ``log_path`` (default: a new temporary directory)."""
        port = port or free_port()
        log = log_path or Path(tempfile.mkdtemp(prefix="intervision-web-")) / "web.log"
        bot = cls(dict(env), port, log)
        bot._spawn()
        return bot

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- the process ------------------------------------------------------------------------

    def _spawn(self) -> None:
        env = {
            **self.env,
            "PORT": str(self.port),
            # Servers that read it (gunicorn) listen on loopback only, whatever their config.
            "GUNICORN_CMD_ARGS": f"--bind 127.0.0.1:{self.port}",
        }
        self._log = self.log_path.open("ab")
        self._log.write(f"--- starting: {self.cmdline}\n".encode())
        self._log.flush()
        self.process = subprocess.Popen(
            ["bash", "-c", self.cmdline],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _running.add(self)
        try:
            self.wait_until(self._healthy, READY_SECONDS, what="GET /healthz answers 200")
        except BaseException:
            self.kill()
            raise

    def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            raise RuntimeError(f"the web process exited with {code}:\n{self.log()}")
        return self.get(HEALTH_PATH, timeout=1).status == 200

    def kill(self) -> None:
        """``kill -9`` of the process group (every process the command started)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None
        _running.discard(self)
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self) -> None:
        """Start the same command again on the same port and database (after ``kill``)."""
        self.kill()
        self._spawn()

    def log(self, tail: int = 4000) -> str:
        """The end of what the process printed (for failure messages)."""
        try:
            return self.log_path.read_bytes()[-tail:].decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # --- requests ---------------------------------------------------------------------------

    def get(self, path: str, *, timeout: float = 10) -> Response:
        return self._send(urllib.request.Request(f"{self.url}{path}"), timeout)

    def post_signed(
        self,
        body: str,
        content_type: str,
        *,
        headers: Mapping[str, str] | None = None,
        timeout: float = 10,
    ) -> Response:
        """POST ``body`` to ``/slack/events`` with Slack's v0 signature of this moment."""
        timestamp = str(int(time.time()))
        secret = self.env["SLACK_SIGNING_SECRET"]
        signature = SignatureVerifier(secret).generate_signature(timestamp=timestamp, body=body)
        request = urllib.request.Request(
            f"{self.url}{EVENTS_PATH}",
            data=body.encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": content_type,
                "X-Slack-Request-Timestamp": timestamp,
                "X-Slack-Signature": str(signature),
                **(headers or {}),
            },
        )
        return self._send(request, timeout)

    def command(
        self, text: str, *, user: str, channel: str, team: str, timeout: float = 10
    ) -> Response:
        """The slash command ``/intervision <text>`` typed by ``user`` in ``channel``."""
        body = command_body(text, user=user, channel=channel, team=team, trigger=next(self._ids))
        return self.post_signed(body, "application/x-www-form-urlencoded", timeout=timeout)

    def event(
        self,
        event: Mapping[str, Any],
        *,
        event_id: str,
        team: str,
        retry: int = 0,
        timeout: float = 10,
    ) -> Response:
        """An Events API delivery of ``event``; ``retry`` > 0 marks it as Slack's resend."""
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
        return self.post_signed(
            event_body(event, event_id=event_id, team=team),
            "application/json",
            headers=headers if retry else None,
            timeout=timeout,
        )

    @staticmethod
    def _send(request: urllib.request.Request, timeout: float) -> Response:
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                body = answer.read().decode("utf-8", "replace")
                return Response(answer.status, body, time.monotonic() - started)
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            error.close()
            return Response(error.code, body, time.monotonic() - started)
        except (OSError, urllib.error.URLError):
            return Response(0, "", time.monotonic() - started)

    # --- waiting ------------------------------------------------------------------------------

    def wait_until(
        self, predicate: Callable[[], T | None], timeout: float, *, what: str = "the condition"
    ) -> T:
        """Poll ``predicate`` until it returns something truthy (returned) or ``timeout``."""
        return wait_until(predicate, timeout, what=what, log=self.log)


@atexit.register
def _kill_the_rest() -> None:
    for bot in list(_running):
        bot.kill()


def wait_until(
    predicate: Callable[[], T | None],
    timeout: float,
    *,
    what: str = "the condition",
    log: Callable[[], str] | None = None,
    interval: float = 0.05,
) -> T:
    """Poll ``predicate`` until it returns something truthy (returned) or ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() >= deadline:
            tail = f"\n--- web process log ---\n{log()}" if log else ""
            raise TimeoutError(f"{what}: not within {timeout:.0f} s{tail}")
        time.sleep(interval)


def command_body(text: str, *, user: str, channel: str, team: str, trigger: int = 1) -> str:
    """A slash command's form body as Slack sends it."""
    return urlencode(
        {
            "token": "legacy",
            "team_id": team,
            "team_domain": "fake",
            "channel_id": channel,
            "channel_name": channel.lower(),
            "user_id": user,
            "user_name": user.lower(),
            "command": COMMAND,
            "text": text,
            "api_app_id": "A0000001",
            "response_url": f"https://hooks.slack.test/commands/{trigger}",
            "trigger_id": f"trigger.{trigger}.{time.time_ns()}",
        }
    )


def event_body(event: Mapping[str, Any], *, event_id: str, team: str) -> str:
    """An ``event_callback`` envelope as Slack sends it."""
    return json.dumps(
        {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0000001",
            "event": {"event_ts": event.get("ts") or f"{time.time():.6f}", **event},
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": team, "user_id": "UBOT0001", "is_bot": True}],
        }
    )
