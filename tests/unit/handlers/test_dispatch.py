"""Use cases through ``dispatch``: exactly once, refusals as private notices, isolation."""

from __future__ import annotations

from bot.events import ButtonPressed, Command, MessageAdopted, Reply, Where
from bot.handlers import dispatch
from bot.messages import PrivateNotice, from_payload
from tests.support.app import START, Harness

HERE = Where("test", "W1", "C1")


def _start(harness: Harness, text: str = "start ims owner=anna with=clara,david") -> str:
    dispatch(harness.services, Command("e-start", HERE, "ben", text, START))
    _send_all(harness)
    with harness.services.store.transaction() as tx:
        session = tx.open_sessions_in("test", "W1", "C1")[0]
        tx.set_anchor(session.id, "100.1")
        return session.id


def _send_all(harness: Harness) -> list:
    """Take everything queued out of the outbox, as a messenger would."""
    store = harness.services.store
    sent = []
    while items := store.claim_outbox(harness.clock(), limit=100):
        for item in items:
            store.mark_sent(item.id, None, harness.clock())
            sent.append(from_payload(item.payload))
    return sent


def _session(harness: Harness, session_id: str):
    with harness.services.store.transaction() as tx:
        return tx.get_session(session_id)


def test_an_event_delivered_twice_is_handled_once(harness: Harness) -> None:
    session_id = _start(harness)
    reply = Reply("e-1", Where("test", "W1", "C1", "100.1"), "anna", "101.1", "my case", START)
    assert dispatch(harness.services, reply) is True
    assert dispatch(harness.services, reply) is False
    assert len(_session(harness, session_id).contributions) == 1


def test_a_refusal_becomes_a_private_notice_in_the_session_language(harness: Harness) -> None:
    _start(harness, "start ims owner=anna with=clara lang=nl")
    dispatch(harness.services, Command("e-2", HERE, "clara", "next", START))
    notices = [m for m in _send_all(harness) if isinstance(m, PrivateNotice)]
    assert [n.user for n in notices] == ["clara"]
    assert notices[0].text == "Alleen de gespreksleider (ben) kan dit doen."


def test_a_start_with_bad_option_tells_what_was_wrong(harness: Harness) -> None:
    dispatch(harness.services, Command("e-3", HERE, "ben", "start ims owner=anna mode=fast", START))
    (notice,) = _send_all(harness)
    assert isinstance(notice, PrivateNotice)
    assert "mode=fast" in notice.text
    assert "sync, async" in notice.text


def test_a_start_without_a_case_owner_shows_the_usage(harness: Harness) -> None:
    dispatch(harness.services, Command("e-4", HERE, "ben", "start ims", START))
    (notice,) = _send_all(harness)
    assert "owner=@caseowner" in notice.text


def test_a_button_from_another_workspace_cannot_move_a_session(harness: Harness) -> None:
    session_id = _start(harness)
    elsewhere = Where("test", "W2", "C9")
    dispatch(harness.services, ButtonPressed("e-5", elsewhere, "ben", session_id, "next", START))
    assert _session(harness, session_id).step_number == 1


def test_the_facilitators_button_moves_the_session_on(harness: Harness) -> None:
    session_id = _start(harness)
    dispatch(harness.services, ButtonPressed("e-6", HERE, "ben", session_id, "next", START))
    assert _session(harness, session_id).step_number == 2


def test_a_channel_message_can_be_adopted_into_the_current_step(harness: Harness) -> None:
    session_id = _start(harness)
    adopted = MessageAdopted("e-7", HERE, "ben", "clara", "150.1", "posted outside", START)
    dispatch(harness.services, adopted)
    (contribution,) = _session(harness, session_id).contributions
    assert (contribution.author, contribution.text) == ("clara", "posted outside")


def test_replies_outside_a_session_thread_are_ignored(harness: Harness) -> None:
    session_id = _start(harness)
    dispatch(harness.services, Reply("e-8", HERE, "clara", "160.1", "chat", START))
    other_thread = Where("test", "W1", "C1", "999.9")
    dispatch(harness.services, Reply("e-9", other_thread, "clara", "161.1", "chat", START))
    assert _session(harness, session_id).contributions == ()


def test_queued_messages_wait_in_the_outbox_until_sent(harness: Harness) -> None:
    dispatch(harness.services, Command("e-10", HERE, "ben", "start ims owner=anna", START))
    assert harness.services.store.pending_count() >= 3
