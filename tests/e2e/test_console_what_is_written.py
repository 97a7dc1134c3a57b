"""What people write in the console is kept where it belongs, or refused in plain words."""

from __future__ import annotations

from pathlib import Path

from bot.flows.record import build_record
from bot.records import render_markdown
from tests.support.app import Harness, make_harness


def _open_sessions(harness: Harness):
    with harness.services.store.transaction() as tx:
        return tx.open_sessions_in("console", "local", "console")


def _all_contributions(harness: Harness):
    with harness.services.store.transaction() as tx:
        session = tx.session_for_thread("console", "local", "console", "1", lock=False)
        return session.contributions


# --- an empty owner= -----------------------------------------------------------------------


def test_start_with_an_empty_owner_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision start ims owner= with=clara,david")
    assert "(only ben) owner= needs a name" in out
    assert _open_sessions(harness) == []


def test_start_with_an_owner_of_only_an_at_sign_is_refused(harness: Harness) -> None:
    harness.type("/as ben", "/intervision start ims owner=@ with=clara")
    assert _open_sessions(harness) == []


def test_start_with_an_empty_facilitator_is_refused(harness: Harness) -> None:
    out = harness.type("/as ben", "/intervision start ims owner=anna facilitator=")
    assert "(only ben) facilitator= needs a name" in out
    assert _open_sessions(harness) == []


def test_the_empty_owner_refusal_is_in_the_persons_language(tmp_path: Path) -> None:
    german = make_harness(tmp_path, language="de")
    out = german.type("/as ben", "/intervision start ims owner=")
    assert "Bei owner= fehlt ein Name: Wer bringt den Fall ein?" in out


# --- blank replies ------------------------------------------------------------------------------


def test_a_zero_width_reply_is_no_contribution(harness: Harness) -> None:
    harness.type("/as ben", "/intervision start ims owner=anna with=clara,david")
    out = harness.type("/as anna", "\u200b", "\u200b\u200d \u2060")
    assert _all_contributions(harness) == ()
    assert "(only anna) Your message has no visible text" in out


def test_an_edit_to_a_zero_width_text_keeps_the_contribution(harness: Harness) -> None:
    harness.type("/as ben", "/intervision start ims owner=anna with=clara,david")
    harness.type("/as anna", "my case", "/edit 4 \u200b")
    assert [c.text for c in _all_contributions(harness)] == ["my case"]


# --- a private reply from the case owner, who listens in that step -----------------------------


def _to_individual_judgement(harness: Harness) -> None:
    harness.type("/as ben", "/intervision start balint owner=anna with=clara,david")
    while _open_sessions(harness)[0].current_step.id != "individual_judgement":
        harness.type("/as ben", "/intervision next")


def test_the_listening_case_owner_is_told_one_thing(harness: Harness) -> None:
    _to_individual_judgement(harness)
    out = harness.type("/as anna", "/dm It touched me that K. was alone")
    notices = [line for line in out.splitlines() if line.strip().startswith("(only anna)")]
    assert len(notices) == 1
    assert "kept as your contribution to step" in notices[0]
    assert "Received privately" not in out
    assert "until it is your turn again" not in out


def test_the_listening_case_owners_words_are_in_the_record_at_their_turn(
    harness: Harness,
) -> None:
    _to_individual_judgement(harness)
    harness.type("/as anna", "/dm It touched me that K. was alone")
    harness.type("/as clara", "/dm My advice for anna")
    while _open_sessions(harness):
        harness.type("/as ben", "/intervision next")
    record = render_markdown(build_record(_closed(harness)))
    decision = record.index("Decision")
    assert record.index("It touched me that K. was alone") > decision
    assert record.index("My advice for anna") < decision


def _closed(harness: Harness):
    with harness.services.store.transaction() as tx:
        found = tx.session_for_thread("console", "local", "console", "1", lock=False)
        assert found is not None
        return found
