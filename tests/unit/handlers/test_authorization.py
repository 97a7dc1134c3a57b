"""Authorization (issue 5): who may act on a session, and that a workspace never sees another
workspace's sessions, even with guessed ids. Each refusal is a clear private message."""

from __future__ import annotations

from sqlalchemy import text

from bot.events import ButtonPressed, Command, ReactionChanged, Where
from bot.handlers import dispatch
from bot.messages import DirectMessage, PrivateNotice, from_payload
from tests.support.app import START, Harness

HERE = Where("test", "W1", "C1")
ELSEWHERE = Where("test", "W2", "C1")  # the same channel name, in another workspace


def _send_all(harness: Harness) -> list:
    store = harness.services.store
    sent = []
    while items := store.claim_outbox(harness.clock(), limit=100):
        for item in items:
            store.mark_sent(item.id, None, harness.clock())
            sent.append(from_payload(item.payload))
    return sent


def _closed_session(harness: Harness) -> str:
    dispatch(harness.services, Command("e1", HERE, "ben", "start ims owner=anna with=clara", START))
    dispatch(harness.services, Command("e2", HERE, "ben", "close", START))
    _send_all(harness)
    with harness.services.store.transaction() as tx:
        session = tx.get_session(_only_id(harness))
        assert session is not None
        tx.set_anchor(session.id, "100.1")
        tx.add_post(session.id, "100.2", "step", session.method.steps[0].id)
        return session.id


def _only_id(harness: Harness) -> str:
    with harness.services.store.engine.connect() as connection:
        return str(connection.execute(text("SELECT id FROM sessions")).scalar_one())


def _notice_to(harness: Harness, user: str) -> str:
    (notice,) = [m for m in _send_all(harness) if isinstance(m, PrivateNotice)]
    assert notice.user == user
    return str(notice.text)


def test_only_the_facilitator_closes_a_session(harness: Harness) -> None:
    dispatch(harness.services, Command("e1", HERE, "ben", "start ims owner=anna", START))
    _send_all(harness)

    dispatch(harness.services, Command("e2", HERE, "anna", "close", START))

    assert _notice_to(harness, "anna") == "Only the facilitator (ben) can do this."


def test_a_guessed_button_from_another_workspace_gets_a_clear_refusal(harness: Harness) -> None:
    session_id = _closed_session(harness)

    dispatch(harness.services, ButtonPressed("e3", ELSEWHERE, "ben", session_id, "next", START))

    assert _notice_to(harness, "ben") == f"There is no session {session_id} here."


def test_approving_by_id_from_another_workspace_is_refused(harness: Harness) -> None:
    session_id = _closed_session(harness)

    dispatch(harness.services, Command("e3", ELSEWHERE, "anna", f"approve {session_id}", START))

    assert _notice_to(harness, "anna") == f"There is no session {session_id} here."
    with harness.services.store.transaction() as tx:
        assert tx.get_session(session_id).approved_at is None


def test_exporting_by_id_from_another_workspace_is_refused(harness: Harness) -> None:
    session_id = _closed_session(harness)
    dispatch(harness.services, Command("e3", HERE, "anna", f"approve {session_id}", START))
    _send_all(harness)

    dispatch(harness.services, Command("e4", ELSEWHERE, "anna", f"export {session_id}", START))

    assert _notice_to(harness, "anna") == f"There is no session {session_id} here."


def test_an_approved_record_is_exported_to_a_member_by_direct_message(harness: Harness) -> None:
    session_id = _closed_session(harness)
    dispatch(harness.services, Command("e3", HERE, "anna", f"approve {session_id}", START))
    _send_all(harness)

    dispatch(harness.services, Command("e4", HERE, "clara", f"export {session_id}", START))

    (message,) = _send_all(harness)
    assert isinstance(message, DirectMessage)
    assert message.user == "clara"
    assert message.text.startswith("# Record: IMS")


def test_an_unapproved_record_is_not_exported(harness: Harness) -> None:
    session_id = _closed_session(harness)

    dispatch(harness.services, Command("e3", HERE, "clara", f"export {session_id}", START))

    assert "has not approved this record yet" in _notice_to(harness, "clara")


def test_a_reaction_in_another_workspace_does_not_find_the_session(harness: Harness) -> None:
    _closed_session(harness)

    with harness.services.store.transaction() as tx:
        assert tx.session_for_message("test", "W1", "C1", "100.2") is not None
        assert tx.session_for_message("test", "W2", "C1", "100.2") is None
    reaction = ReactionChanged("e3", ELSEWHERE, "eve", "100.2", "bulb", True, START)
    dispatch(harness.services, reaction)
    assert _send_all(harness) == []


def test_the_approved_record_goes_to_the_sessions_own_channel(harness: Harness) -> None:
    session_id = _closed_session(harness)
    direct = Where("test", "W1", "D-anna")  # the command typed in a direct message

    dispatch(harness.services, Command("e3", direct, "anna", f"approve {session_id}", START))

    with harness.services.store.engine.connect() as connection:
        channels = connection.execute(
            text("SELECT channel FROM outbox WHERE sent_at IS NULL ORDER BY id")
        ).scalars()
        assert list(channels) == ["C1", "C1", "D-anna"]  # note, record; the thanks privately
    kinds = sorted(type(m).__name__ for m in _send_all(harness))
    assert kinds == ["PrivateNotice", "ThreadNote", "ThreadNote"]
