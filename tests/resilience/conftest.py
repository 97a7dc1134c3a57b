"""Fixtures for the resilience tests: the Procfile's real web process against the fake Web API.

Each test gets a ``Scene``: the fake Slack (one channel with a case owner, a facilitator
and two participants), a database (a SQLite file, or a PostgreSQL schema), web processes
started on it (``scene.launch()``, killed at the end) and what people do, as Slack sends
it: slash commands and thread replies, signed, over HTTP. What happened is read back from
the database itself (rows, never decrypted texts) and from the fake's recorded posts.

Run them alone with ``.venv/bin/pytest tests/resilience`` (PostgreSQL cases when
``INTERVISION_TEST_POSTGRES_URL`` is set), leave them out with ``-m "not resilience"``. A
wait is a bound (30 s) on work being done, never an assertion; the one timed assertion is
Slack's three seconds to answer a request.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlalchemy as sa

from bot.platforms.slack.render import plain
from storage.db import normalise_url
from tests.platform.slack.fake_slack import BOT_TOKEN, BOT_USER, TEAM, FakeSlack
from tests.support.databases import BACKENDS, postgres_schema_url
from tests.support.live import LiveBot, Response, bot_env, wait_until

SECRET = "test-signing-secret"
CHANNEL = "C0000001"
OWNER = "UANNA001"
FACILITATOR = "UBEN0001"
CLARA = "UCLARA01"
DAVID = "UDAVID01"
PEOPLE = (OWNER, CLARA, DAVID)
START = f"start ims owner=<@{OWNER}> with=<@{CLARA}>,<@{DAVID}>"
IMS_STEPS = 6
SETTLE_SECONDS = 30.0  # a bound on waiting for work to be done, never an assertion

T = TypeVar("T")

_sessions = sa.table(
    "sessions",
    sa.column("id"),
    sa.column("group_id"),
    sa.column("status"),
    sa.column("anchor_ref"),
)
_groups = sa.table("groups", sa.column("id"), sa.column("channel"))
_step_runs = sa.table("step_runs", sa.column("session_id"), sa.column("position"))
_contributions = sa.table("contributions", sa.column("session_id"), sa.column("ref"))


class Database:
    """Reads the bot's database directly (SQLAlchemy Core, no repository code)."""

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(normalise_url(url))

    def _rows(self, query: sa.Select[Any]) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(query))

    def session_of_anchor(self, anchor_ts: str) -> str | None:
        rows = self._rows(sa.select(_sessions.c.id).where(_sessions.c.anchor_ref == anchor_ts))
        return str(rows[0][0]) if rows else None

    def sessions_in(self, channel: str) -> list[str]:
        query = (
            sa.select(_sessions.c.id)
            .join(_groups, _groups.c.id == _sessions.c.group_id)
            .where(_groups.c.channel == channel)
        )
        return [str(row[0]) for row in self._rows(query)]

    def status(self, session_id: str) -> str:
        rows = self._rows(sa.select(_sessions.c.status).where(_sessions.c.id == session_id))
        return str(rows[0][0])

    def step(self, session_id: str) -> int:
        """The number of the step the session is at (1 = the first)."""
        query = sa.select(sa.func.max(_step_runs.c.position)).where(
            _step_runs.c.session_id == session_id
        )
        position = self._rows(query)[0][0]
        return -1 if position is None else int(position) + 1

    def contribution_refs(self, session_id: str) -> list[str]:
        """The platform refs (message ts) of the session's contributions, one per row."""
        query = sa.select(_contributions.c.ref).where(_contributions.c.session_id == session_id)
        return [str(row[0]) for row in self._rows(query)]


@dataclass
class Thread:
    """A session as its people see it: the anchor message and the thread under it."""

    channel: str
    anchor: str
    session_id: str


@dataclass
class Scene:
    """One test's world: the fake Slack, a database, the web processes running on it."""

    fake: FakeSlack
    workdir: Path
    database_url: str
    db: Database
    bots: list[LiveBot] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- processes ------------------------------------------------------------------------

    def env(self) -> dict[str, str]:
        return bot_env(
            database_url=self.database_url,
            api_url=self.fake.base_url,
            bot_token=BOT_TOKEN,
            signing_secret=SECRET,
            workdir=self.workdir,
        )

    def launch(self) -> LiveBot:
        """Start one more web process on this scene's database (every process of a
        deployment shares the encryption keys, so they share one environment)."""
        env = self.bots[0].env if self.bots else self.env()
        bot = LiveBot.start(env, log_path=self.workdir / f"web-{len(self.bots) + 1}.log")
        self.bots.append(bot)
        return bot

    def logs(self) -> str:
        return "\n".join(f"--- {bot.log_path.name} ---\n{bot.log()}" for bot in self.bots)

    def wait(
        self, predicate: Callable[[], T | None], what: str, timeout: float = SETTLE_SECONDS
    ) -> T:
        """Wait until ``predicate`` holds (a bound, not an assertion: it raises when it
        does not hold in time, with the processes' logs)."""
        return wait_until(predicate, timeout, what=what, log=self.logs)

    def eventually(self, predicate: Callable[[], object], timeout: float = SETTLE_SECONDS) -> None:
        """Wait until ``predicate`` holds or ``timeout`` passed; the test asserts after."""
        with contextlib.suppress(TimeoutError):
            wait_until(predicate, timeout)

    # --- what people do -------------------------------------------------------------------

    def event_id(self) -> str:
        with self._lock:
            return f"Ev{next(self._ids):010d}"

    def command(self, bot: LiveBot, text: str, user: str = FACILITATOR, **kw: Any) -> Response:
        channel = kw.pop("channel", CHANNEL)
        return bot.command(text, user=user, channel=channel, team=TEAM, **kw)

    def start_session(self, bot: LiveBot, channel: str = CHANNEL) -> Thread:
        """The facilitator starts an IMS session; returns once its anchor is posted and
        stored (replies in its thread reach the session from then on)."""
        self.command(bot, START, channel=channel)
        anchor = self.wait(lambda: self.anchor_in(channel), f"the anchor is posted in {channel}")
        session_id = self.wait(
            lambda: self.db.session_of_anchor(anchor), "the anchor is stored with its session"
        )
        return Thread(channel, anchor, session_id)

    def anchor_in(self, channel: str) -> str | None:
        anchors = [m for m in self.fake.top_level(channel) if m.get("user") == BOT_USER]
        return str(anchors[0]["ts"]) if anchors else None

    def message(self, thread: Thread, user: str, text: str) -> dict[str, Any]:
        """``user`` writes ``text`` in the thread (on Slack's side; nothing is sent yet)."""
        return self.fake.user_message(thread.channel, user, text, thread_ts=thread.anchor)

    def replies(self, thread: Thread, number: int) -> dict[str, dict[str, Any]]:
        """``number`` replies written in the thread by the people in turn, by event id."""
        return {
            self.event_id(): self.message(thread, PEOPLE[i % len(PEOPLE)], f"reply {i}")
            for i in range(number)
        }

    def deliver(
        self, bot: LiveBot, message: dict[str, Any], event_id: str, retry: int = 0
    ) -> Response:
        """Slack delivers the message event (``retry`` > 0: a resend of the same event)."""
        return bot.event(dict(message), event_id=event_id, team=TEAM, retry=retry)

    def deliver_until_answered(
        self, bot: LiveBot, message: dict[str, Any], event_id: str, tries: int = 3
    ) -> Response:
        """Deliver, and resend what got no 2xx the way Slack does (bounded)."""
        response = self.deliver(bot, message, event_id)
        for retry in range(1, tries):
            if response.ok:
                break
            response = self.deliver(bot, message, event_id, retry=retry)
        return response

    def reply(self, bot: LiveBot, thread: Thread, user: str, text: str) -> dict[str, Any]:
        message = self.message(thread, user, text)
        response = self.deliver_until_answered(bot, message, self.event_id())
        assert response.ok, f"a reply was answered {response.status}\n{self.logs()}"
        return message

    def settled(self, bot: LiveBot, thread: Thread, sent: Sequence[dict[str, Any]]) -> list[str]:
        """The session's contribution refs (one per row) once the work is done.

        One more reply is sent and waited for: events of one channel are applied in the
        order they arrived, so everything sent before it is applied by then. (A little
        longer is allowed for ``sent`` to be stored, so that no design choice of the order
        across processes makes this flaky; only a failing test waits for it.)"""
        last = self.reply(bot, thread, OWNER, "(the last word)")

        def refs() -> list[str]:
            return [r for r in self.db.contribution_refs(thread.session_id) if r != last["ts"]]

        # Should the last reply itself be lost, the caller's assertion says how many were.
        self.eventually(lambda: last["ts"] in self.db.contribution_refs(thread.session_id))
        self.eventually(lambda: {m["ts"] for m in sent} <= set(refs()), timeout=5)
        return refs()

    # --- what the bot posted ----------------------------------------------------------------

    def thread_posts(self, thread: Thread) -> list[str]:
        """The plain text of every bot post in the thread, in the order Slack got them."""
        return [
            plain(m.get("blocks") or []) or str(m.get("text", ""))
            for m in self.fake.bot_posts(thread.channel, thread.anchor)
        ]


@dataclass(frozen=True)
class Stored:
    """How the replies sent ended up in the database; ``EACH_ONCE`` is what is promised."""

    lost: int
    doubled: int
    never_sent: int


EACH_ONCE = Stored(lost=0, doubled=0, never_sent=0)


def stored(refs: Sequence[str], sent: Sequence[dict[str, Any]]) -> Stored:
    """Compare the contribution refs in the database with the messages sent."""
    counts = Counter(refs)
    sent_refs = {m["ts"] for m in sent}
    return Stored(
        lost=len(sent_refs - set(counts)),
        doubled=sum(1 for times in counts.values() if times > 1),
        never_sent=len(set(counts) - sent_refs),
    )


def at_once(calls: Sequence[Callable[[], T]]) -> list[T]:
    """Run every call in its own thread, released together by a barrier; their results."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        barrier.wait(timeout=30)
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, call) for call in calls]
        return [future.result() for future in futures]


def add_people(fake: FakeSlack, channel: str) -> None:
    fake.add_channel(channel, BOT_USER, OWNER, FACILITATOR, CLARA, DAVID)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    server = FakeSlack().start()
    add_people(server, CHANNEL)
    yield server
    server.stop()


def _scene(fake: FakeSlack, tmp_path: Path, url: str) -> Iterator[Scene]:
    db = Database(url)
    scene = Scene(fake, tmp_path, url, db)
    try:
        yield scene
    finally:
        for bot in scene.bots:
            bot.kill()
        print(scene.logs())  # shown by pytest when the test failed
        db.engine.dispose()


@pytest.fixture
def scene(fake: FakeSlack, tmp_path: Path) -> Iterator[Scene]:
    """A scene on a SQLite file."""
    yield from _scene(fake, tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")


@pytest.fixture(params=BACKENDS)
def any_scene(request: pytest.FixtureRequest, fake: FakeSlack, tmp_path: Path) -> Iterator[Scene]:
    """A scene on a SQLite file, then on PostgreSQL."""
    if request.param == "sqlite":
        yield from _scene(fake, tmp_path, f"sqlite:///{tmp_path / 'bot.db'}")
        return
    with postgres_schema_url() as url:
        yield from _scene(fake, tmp_path, url)


@pytest.fixture
def pg_scene(fake: FakeSlack, tmp_path: Path) -> Iterator[Scene]:
    """A scene on PostgreSQL (what only a shared database allows: several processes)."""
    with postgres_schema_url() as url:
        yield from _scene(fake, tmp_path, url)
