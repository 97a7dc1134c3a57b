"""The console's message numbers: never given twice, not after a deletion, not after a restart."""

from __future__ import annotations

from bot.flows.record import build_record
from bot.platforms.console.app import ConsoleApp
from bot.platforms.console.board import Board
from bot.records import render_markdown
from tests.support.app import Harness

START_IMS = "/intervision start ims owner=anna with=clara,david"


def _session(harness: Harness):
    with harness.services.store.transaction() as tx:
        sessions = tx.open_sessions_in("console", "local", "console")
        return sessions[0] if sessions else None


def _texts(harness: Harness) -> list[str]:
    return [c.text for c in _session(harness).contributions if not c.withdrawn]


def _restart(harness: Harness) -> None:
    """A new ``intervision run`` on the same database."""
    harness.console = ConsoleApp(harness.services, Board(harness.out))


def test_a_deleted_number_is_not_given_again(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as clara", "clara [4]", "/as david", "david [5]")
    out = harness.type("/delete 5", "/as anna", "anna replies")
    assert "[6] anna: anna replies" in out
    assert "[5] anna" not in out


def test_every_reply_after_a_deletion_is_in_the_record(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as clara", "clara one", "/as david", "david one")
    harness.type("/delete 5", "/as anna", "anna replies", "/as clara", "clara replies")
    assert _texts(harness) == ["clara one", "anna replies", "clara replies"]
    harness.type("/as ben", "/intervision close")
    record = render_markdown(build_record(_closed(harness)))
    assert "anna replies" in record
    assert "clara replies" in record
    assert "david one" not in record


def test_edit_after_a_deletion_changes_the_message_named(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as clara", "clara one", "/as david", "david one")
    harness.type("/delete 5", "/as anna", "anna replies", "/as clara", "clara replies")
    harness.type("/edit 7 clara replies, better")
    assert _texts(harness) == ["clara one", "anna replies", "clara replies, better"]


def test_after_a_restart_a_reply_lands_in_the_open_session(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as anna", "before the restart")
    _restart(harness)
    harness.type("/as anna", "after the restart")
    assert _texts(harness) == ["before the restart", "after the restart"]


def test_after_a_restart_new_numbers_follow_the_stored_ones(harness: Harness) -> None:
    harness.type("/as ben", START_IMS, "/as anna", "before the restart")  # [4]
    _restart(harness)
    out = harness.type("/as anna", "after the restart")
    assert "[5] anna: after the restart" in out


def test_after_a_restart_the_header_update_edits_the_header(harness: Harness) -> None:
    out = harness.type("/as ben", START_IMS)
    assert "[1] intervision:" in out
    _restart(harness)
    out = harness.type("/as anna", "after the restart", "/as ben", "/intervision next")
    assert "(edited) anna" not in out
    assert "[1] (edited) intervision:" in out
    assert "Step 2 of 6" in out


def test_after_a_restart_the_earlier_messages_can_be_edited_and_reacted_to(
    harness: Harness,
) -> None:
    harness.type("/as ben", START_IMS, "/as anna", "first words")  # [4]
    _restart(harness)
    out = harness.type("/as anna", "/edit 4 first words, better", "/as clara", "+:bulb:")
    assert "not yours" not in out.lower()
    assert "no message" not in out.lower()
    assert _texts(harness) == ["first words, better"]
    assert any(r.emoji == "bulb" for r in _session(harness).reactions)


def _closed(harness: Harness):
    with harness.services.store.transaction() as tx:
        found = tx.session_for_thread("console", "local", "console", "1", lock=False)
        assert found is not None
        return found
