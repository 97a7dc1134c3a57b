"""Fixtures for the storage integration tests: real databases, a small method built in code.

Every database test runs twice: on a SQLite file and on PostgreSQL (the server named by
INTERVISION_TEST_POSTGRES_URL, in a schema of its own that is dropped afterwards).
Without that variable the PostgreSQL cases are skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot.flows import session as flow
from bot.flows.method import (
    AdvanceRule,
    InputKind,
    Method,
    ReactionMeaning,
    Role,
    Speakers,
    Step,
    Text,
    VoteOption,
)
from bot.flows.session import Mode, Session
from storage.crypto import Cipher, CipherNotConfiguredError, configure_cipher, current_cipher
from storage.db import make_engine, upgrade
from storage.repositories import Group, Store
from tests.support.databases import postgres_schema_url as _postgres_schema_url

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OWNER, FACILITATOR = "ana", "ben"
GROUP = ("cem", "dee")


def _text(en: str) -> Text:
    return {"en": en, "nl": f"nl:{en}", "de": f"de:{en}"}


def _step(step_id: str, speakers: Speakers, kind: InputKind, **extra: Any) -> Step:
    return Step(
        id=step_id,
        title=_text(step_id),
        instruction=_text(f"do {step_id}"),
        speakers=speakers,
        input=kind,
        sync_minutes=10,
        async_hours=24,
        **extra,
    )


def small_method() -> Method:
    """Four steps, one of each kind the storage has to keep: replies, ready marks, votes,
    reactions."""
    return Method(
        id="small",
        names=_text("Small method"),
        summary=_text("A method for the storage tests"),
        source="tests",
        steps=(
            _step("account", Speakers.CASE_OWNER, InputKind.FREE),
            _step(
                "questions",
                Speakers.GROUP,
                InputKind.FREE,
                silent=frozenset({Role.CASE_OWNER}),
                advance=AdvanceRule.ALL_READY,
            ),
            _step(
                "choose",
                Speakers.EVERYONE,
                InputKind.VOTE,
                options=(
                    VoteOption("advice", "bulb", _text("Advice")),
                    VoteOption("brainstorm", "cloud", _text("Brainstorm")),
                ),
            ),
            _step(
                "discomfort",
                Speakers.EVERYONE,
                InputKind.REACTIONS,
                reactions=(ReactionMeaning("scream", _text("fear")),),
            ),
        ),
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'intervision.db'}"
        return
    with _postgres_schema_url() as url:
        yield url


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An empty PostgreSQL database, for what only PostgreSQL does (row locks)."""
    with _postgres_schema_url() as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on an empty (not migrated) database."""
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated(engine: Engine) -> Engine:
    upgrade(engine)
    return engine


@pytest.fixture(autouse=True)
def cipher() -> Iterator[Cipher]:
    """A fresh key for every test; whatever was configured before is put back."""
    try:
        previous: Cipher | None = current_cipher()
    except CipherNotConfiguredError:
        previous = None
    fresh = Cipher([Cipher.generate_key()])
    configure_cipher(fresh)
    yield fresh
    configure_cipher(previous)


@pytest.fixture(scope="session")
def method() -> Method:
    return small_method()


@pytest.fixture
def store(migrated: Engine, method: Method) -> Store:
    return Store(migrated, methods={method.id: method}.__getitem__)


@pytest.fixture
def make_store(method: Method) -> Callable[[Engine], Store]:
    """A store on another engine of the same database (another process, as it were)."""
    return lambda engine: Store(engine, methods={method.id: method}.__getitem__)


@pytest.fixture
def t0() -> datetime:
    return T0


@pytest.fixture
def new_session(method: Method) -> Callable[..., Session]:
    """A session just started on the first step (asynchronous, so steps have deadlines)."""

    def _new(session_id: str = "s1", *, now: datetime = T0) -> Session:
        return flow.start(
            session_id,
            method,
            case_owner=OWNER,
            facilitator=FACILITATOR,
            participants=GROUP,
            mode=Mode.ASYNC,
            language="nl",
            now=now,
            deadline_hours=12,
        ).session

    return _new


def _do(action: Callable[..., flow.Outcome], **arguments: Any) -> Callable[[Session], Session]:
    return lambda session: action(session, **arguments).session


@pytest.fixture
def transitions() -> list[Callable[[Session], Session]]:
    """A walk through every kind of change a session goes through, one callable per change."""

    def at(minutes: int) -> datetime:
        return T0 + timedelta(minutes=minutes)

    return [
        _do(flow.contribute, author=OWNER, ref="m1", text="Mijn casus over K.", now=at(1)),
        _do(flow.edit, editor=OWNER, ref="m1", text="Mijn casus over K. (bewerkt)", now=at(2)),
        _do(flow.advance, user=FACILITATOR, now=at(3)),
        _do(flow.contribute, author="cem", ref="m2", text="Wat wil je bereiken?", now=at(4)),
        _do(flow.contribute, author=OWNER, ref="m3", text="out of turn", now=at(5)),
        _do(flow.contribute, author="dee", ref="m4", text="Oops", now=at(6)),
        _do(flow.withdraw, user="dee", ref="m4"),
        _do(flow.mark_ready, user="cem", now=at(7)),
        _do(flow.mark_ready, user="dee", now=at(8)),
        _do(flow.mark_ready, user=FACILITATOR, now=at(9)),  # everyone ready: moves on
        _do(flow.contribute, author="cem", ref="m5", text="1", now=at(10)),
        _do(flow.react, user="dee", step_id="choose", target="p3", emoji="cloud"),
        _do(flow.contribute, author="cem", ref="m6", text="2", now=at(11)),  # changes the vote
        _do(flow.advance, user=FACILITATOR, now=at(12)),
        _do(flow.react, user="cem", step_id="discomfort", target="p4", emoji="scream"),
        _do(flow.react, user="dee", step_id="discomfort", target="p4", emoji="scream"),
        _do(flow.react, user="dee", step_id="discomfort", target="m1", emoji="heart"),
        _do(flow.unreact, user="cem", step_id="discomfort", target="p4", emoji="scream"),
        _do(flow.pause, user=FACILITATOR),
        _do(flow.resume, user=FACILITATOR),
        _do(flow.close, user=FACILITATOR, now=at(13)),
    ]


@pytest.fixture
def played(
    new_session: Callable[..., Session], transitions: list[Callable[[Session], Session]]
) -> Session:
    """The session after the whole walk: closed, with every kind of part."""
    session = new_session()
    for change in transitions:
        session = change(session)
    return session


@pytest.fixture
def group(store: Store) -> Group:
    with store.transaction() as tx:
        return tx.group("slack", "T1", "C1")
