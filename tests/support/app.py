"""Test support: the real use cases on a real SQLite file, with a console transcript."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.bootstrap import build_services
from bot.config import Settings
from bot.handlers.context import Services
from bot.platforms.console.app import ConsoleApp
from bot.platforms.console.board import Board

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that moves one second per reading unless told otherwise."""

    now: datetime = START
    step: timedelta = timedelta(seconds=1)

    def __call__(self) -> datetime:
        self.now += self.step
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class Harness:
    services: Services
    clock: FakeClock
    out: io.StringIO = field(default_factory=io.StringIO)
    console: ConsoleApp | None = None

    def type(self, *lines: str) -> str:
        """Type lines into the console; returns what they printed."""
        assert self.console is not None
        start = len(self.out.getvalue())
        self.console.run(lines)
        return self.out.getvalue()[start:]

    @property
    def transcript(self) -> str:
        return self.out.getvalue()


def make_harness(
    tmp_path: Path, *, database_url: str | None = None, language: str = "en"
) -> Harness:
    settings = Settings(
        database_url=database_url or f"sqlite:///{tmp_path / 'bot.db'}",
        language=language,
        key_file=tmp_path / "test.key",
    )
    clock = FakeClock()
    ids = itertools.count(1)
    services = build_services(settings)
    services = Services(
        store=services.store,
        catalogue=services.catalogue,
        clock=clock,
        new_id=lambda: f"s{next(ids)}",
        language=language,
        timezone=services.timezone,
        files_dir=tmp_path / "files",
    )
    harness = Harness(services, clock)
    harness.console = ConsoleApp(services, Board(harness.out))
    return harness


def lines_of(text: str) -> Iterator[str]:
    return (line.strip() for line in text.splitlines())
