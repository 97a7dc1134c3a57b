"""Typed text has limits: too long, or holding a NUL character, it is refused in words.

Every field a person types that reaches a bounded column is checked in its use case, so on
PostgreSQL (which keeps no NUL and enforces the column widths) as on SQLite the person
reads what was wrong, in their language, and nothing is stored.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.events import Command, StartRequest, StartSubmitted, Where
from bot.flows.errors import KeyedError
from bot.flows.limits import within
from bot.flows.session import Mode
from bot.handlers import dispatch
from storage.time_repository import TimeRepository
from tests.support.app import Harness

SCHEDULE = "/intervision cop schedule quarterly first tuesday 14:00 Europe/Zurich"


@pytest.fixture(autouse=True)
def _still_clock(harness: Harness) -> None:
    harness.clock.step = timedelta(0)


def _cops(harness: Harness) -> list[str]:
    with harness.services.store.transaction() as tx:
        return [c.cop.name for c in TimeRepository(tx).cops_in_workspace("console", "local")]


def test_a_cop_name_over_200_characters_is_refused_and_nothing_is_stored(
    harness: Harness,
) -> None:
    out = harness.type("/as ben", "/intervision cop create " + "n" * 201)

    assert "That name is too long: 201 characters, at most 200." in out
    assert _cops(harness) == []


def test_a_cop_name_of_200_characters_is_kept(harness: Harness) -> None:
    harness.type("/as ben", "/intervision cop create " + "n" * 200)

    assert _cops(harness) == ["n" * 200]


def test_a_nul_character_in_a_command_is_refused_before_anything_is_stored(
    harness: Harness,
) -> None:
    out = harness.type("/as ben", "/intervision cop create IMS\x00CoP")

    assert "control character (NUL)" in out
    assert _cops(harness) == []


def test_a_meeting_place_over_500_characters_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision cop create IMS", f"{SCHEDULE} at {'p' * 501}")

    assert "The meeting place is too long: 501 characters, at most 500." in out


def test_a_meeting_link_over_1000_characters_is_refused(harness: Harness) -> None:
    link = "https://meet.example.test/" + "l" * 1000
    out = harness.type("/as ben", "/intervision cop create IMS", f"{SCHEDULE} {link}")

    assert "The meeting link is too long" in out


def test_an_agenda_item_over_the_limit_is_refused(harness: Harness) -> None:
    out = harness.type(
        "/as ben", "/intervision cop create IMS", "/intervision cop agenda add " + "a" * 2001
    )

    assert "That agenda item is too long: 2001 characters, at most 2000." in out


def test_a_coordinator_mention_over_255_characters_is_refused(harness: Harness) -> None:
    out = harness.type(
        "/as ben", "/intervision cop create IMS", "/intervision cop coordinators add @" + "c" * 256
    )

    assert "A person's mention is too long: 256 characters, at most 255." in out


def test_a_case_owner_mention_over_255_characters_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision start ims owner=@" + "o" * 256)

    assert "A person's mention is too long" in out


def test_a_setting_value_over_the_limit_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision settings region=" + "r" * 65)

    assert "The value of region is too long: 65 characters, at most 64." in out


def test_a_protocol_reminder_over_the_limit_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision privacy protocol=" + "p" * 1001)

    assert "The protocol reminder is too long: 1001 characters, at most 1000." in out


def test_a_command_over_4000_characters_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision help " + "h" * 4000)

    assert "That command is too long" in out


def test_hours_written_in_other_digits_are_refused_in_words(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision start ims owner=@anna mode=async hours=\u00b2")

    assert "hours" in out
    assert "1-336" in out


def test_a_retention_written_in_other_digits_is_refused_in_words(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision privacy retention=\u0663")

    assert "retention" in out


def test_the_refusal_is_in_the_persons_language(harness: Harness) -> None:
    where = Where("console", "local", "general")
    text = "cop create " + "n" * 201
    dispatch(harness.services, Command("e1", where, "ben", text, harness.clock(), language="de"))
    assert harness.console is not None
    harness.console.flush()

    assert "Dieser Name ist zu lang: 201 Zeichen, höchstens 200." in harness.transcript


def test_a_start_form_with_a_language_we_do_not_speak_is_refused(harness: Harness) -> None:
    request = StartRequest("ims", "anna", "ben", (), Mode.SYNC, "klingon-" * 4, True, None)
    where = Where("console", "local", "general")
    event = StartSubmitted("e2", where, "ben", request, harness.clock())
    dispatch(harness.services, event)
    assert harness.console is not None
    harness.console.flush()

    assert "lang" in harness.transcript
    with harness.services.store.transaction() as tx:
        assert tx.open_sessions_in("console", "local", "general") == []


def test_within_names_the_field_the_length_and_the_limit() -> None:
    with pytest.raises(KeyedError) as refused:
        within("abcd", 3, "cop_name")

    assert (refused.value.key, refused.value.params) == (
        "input.too_long.cop_name",
        {"length": 4, "limit": 3},
    )


def test_within_refuses_a_nul_character_whatever_the_length() -> None:
    with pytest.raises(KeyedError) as refused:
        within("a\x00", 10, "cop_name")

    assert refused.value.key == "input.bad_character"
