"""Integration: the inbox worker applies stored events once, in order, and survives failures."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.events import Command, Where
from bot.handlers.context import Services
from bot.runtime.ingress import Ingress
from bot.runtime.worker import InboxWorker, Locales
from storage.inbox import Inbox
from storage.models import OutboxRow, SessionRow
from storage.models_inbox import InboxRow
from tests.support.app import Harness

WHERE = Where("console", "local", "console")


def _command(harness: Harness, event_id: str, text: str, user: str = "ben") -> Command:
    return Command(event_id, WHERE, user, text, harness.clock())


def _count(services: Services, model: type) -> int:
    with services.store.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(model)).scalar_one())


def _parts(harness: Harness) -> tuple[Inbox, Ingress, InboxWorker]:
    inbox = Inbox(harness.services.store.engine)
    return inbox, Ingress(inbox, harness.clock), InboxWorker(harness.services, inbox)


def test_an_accepted_event_is_applied_and_leaves_the_inbox(harness: Harness) -> None:
    inbox, ingress, worker = _parts(harness)

    ingress.accept(_command(harness, "e1", "start ims owner=anna"))
    worker.run_once()

    assert _count(harness.services, SessionRow) == 1
    assert inbox.waiting() == 0


def test_an_event_that_arrives_again_after_it_was_applied_changes_nothing(
    harness: Harness,
) -> None:
    _, ingress, worker = _parts(harness)
    ingress.accept(_command(harness, "e1", "start ims owner=anna"))
    worker.run_once()
    queued = _count(harness.services, OutboxRow)

    ingress.accept(_command(harness, "e1", "start ims owner=anna"))
    worker.run_once()

    assert _count(harness.services, SessionRow) == 1
    assert _count(harness.services, OutboxRow) == queued


def test_events_of_one_channel_are_applied_in_the_order_they_arrived(harness: Harness) -> None:
    _, ingress, worker = _parts(harness)
    ingress.accept(_command(harness, "e1", "start ims owner=anna"))
    ingress.accept(_command(harness, "e2", "next"))
    ingress.accept(_command(harness, "e3", "next"))

    while worker.run_once():
        pass

    with harness.services.store.transaction() as tx:
        [session] = tx.open_sessions_in("console", "local", "console")
    assert session.step_number == 3


def test_a_failing_event_is_tried_again_then_set_aside_with_an_apology(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, ingress, _ = _parts(harness)
    worker = InboxWorker(harness.services, inbox, max_attempts=2)

    def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("a bug")

    monkeypatch.setattr("bot.runtime.worker.dispatch", broken)
    ingress.accept(_command(harness, "e1", "status"))
    worker.run_once()
    assert inbox.waiting() == 1
    harness.clock.advance(timedelta(minutes=1))
    worker.run_once()

    assert inbox.waiting() == 0
    assert _count(harness.services, InboxRow) == 1  # kept aside for an operator
    assert _count(harness.services, OutboxRow) == 1  # the apology


def _applied_language(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, event: Command, locale: str | None
) -> str | None:
    inbox = Inbox(harness.services.store.engine)
    seen: list[Command] = []
    monkeypatch.setattr(
        "bot.runtime.worker.dispatch", lambda services, applied, finish: seen.append(applied)
    )
    Ingress(inbox, harness.clock).accept(event)
    InboxWorker(harness.services, inbox, locales=Locales(lambda *_: locale)).run_once()
    return seen[0].language


def test_a_command_gets_the_language_of_the_persons_platform_locale(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = _command(harness, "e1", "status")

    assert _applied_language(harness, monkeypatch, event, "de-CH") == "de"


def test_a_locale_the_bot_does_not_speak_leaves_the_groups_language(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = _command(harness, "e1", "status")

    assert _applied_language(harness, monkeypatch, event, "fr-FR") is None


def test_a_failed_locale_lookup_is_asked_again_next_time() -> None:
    answers = iter([None, "nl-NL"])
    locales = Locales(lambda *_: next(answers))

    assert locales.language("slack", "T1", "U1") is None
    assert locales.language("slack", "T1", "U1") == "nl"


def test_a_known_locale_is_kept_for_an_hour() -> None:
    calls: list[str] = []

    def lookup(platform: str, workspace: str, user: str) -> str:
        calls.append(user)
        return "en-GB"

    locales = Locales(lookup)
    locales.language("slack", "T1", "U1")
    locales.language("slack", "T1", "U1")

    assert calls == ["U1"]


def test_a_language_given_with_the_command_wins_over_the_locale(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = replace(_command(harness, "e1", "status"), language="nl")

    assert _applied_language(harness, monkeypatch, event, "de-DE") == "nl"
