"""The pure rules of issue 5: the guard on what people write, held and private contributions,
the reveal, the case owner's approval, and tallies that tell nobody's choice."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.flows import session as flow
from bot.flows.guard import PrivacyMode, Screened, parse_mode, privacy_notice, screen
from bot.flows.method import InputKind, Speakers
from bot.flows.privacy import IdentifierKind
from bot.flows.record import build_record
from bot.flows.session import RecordApproved, RuleViolation, StepRevealed

OWNER, FACILITATOR = "ana", "ben"
TODAY = date(2025, 3, 3)


def reply(session, author, ref, text, **kwargs):
    return flow.contribute(
        session, author=author, ref=ref, text=text, now=session.started_at, **kwargs
    ).session


# --- the guard -------------------------------------------------------------------------------


def test_screen_redacts_every_identifier_and_names_each_kind_once() -> None:
    screened = screen("BSN 111222333, call 06-12345678 or 06-87654321", today=TODAY)

    assert screened.text == "BSN [redacted:bsn], call [redacted:phone] or [redacted:phone]"
    assert screened.kinds == (IdentifierKind.BSN, IdentifierKind.PHONE)
    assert not screened.held


def test_screen_leaves_a_clean_text_as_it_is() -> None:
    assert screen("Session 3 of 2024 took 45 minutes.", today=TODAY) == Screened(
        "Session 3 of 2024 took 45 minutes."
    )


def test_in_hold_mode_a_text_with_an_identifier_is_held_and_still_redacted() -> None:
    screened = screen("mail me: a@example.org", today=TODAY, mode=PrivacyMode.HOLD)

    assert screened.held
    assert "a@example.org" not in screened.text


def test_the_notice_names_kinds_never_the_identifier() -> None:
    notice = privacy_notice("ana", screen("BSN 111222333", today=TODAY))

    assert notice is not None
    assert (notice.to, notice.key, notice.params) == (
        "ana",
        "privacy.redacted",
        {"kinds": ("bsn",)},
    )


def test_a_clean_text_gets_no_notice() -> None:
    assert privacy_notice("ana", screen("nothing here", today=TODAY)) is None


@pytest.mark.parametrize(
    ("stored", "mode"), [("hold", "hold"), ("redact", "redact"), ("x", "redact")]
)
def test_an_unknown_mode_setting_falls_back_to_redact(stored: str, mode: str) -> None:
    assert parse_mode(stored) is PrivacyMode(mode)


# --- held contributions --------------------------------------------------------------------------


def test_a_held_contribution_does_not_count_and_is_not_in_the_record(session) -> None:
    session = reply(session, OWNER, "m1", "the case [redacted:phone]", held=True)

    assert session.contributors("account") == frozenset()
    assert build_record(session).steps[0].entries == ()


def test_an_edit_without_identifiers_releases_a_held_contribution(session, t0) -> None:
    session = reply(session, OWNER, "m1", "the case [redacted:phone]", held=True)

    session = flow.edit(session, editor=OWNER, ref="m1", text="the case", now=t0).session

    assert session.contributors("account") == frozenset({OWNER})


# --- private steps and the reveal ----------------------------------------------------------------


@pytest.fixture
def private_session(start_session, build_method, build_step):
    method = build_method(
        build_step(
            "positions", speakers=Speakers.GROUP, input=InputKind.ONE_PER_PERSON, private=True
        ),
        build_step("discussion"),
    )
    return start_session(method)


def test_a_thread_reply_in_a_private_step_is_refused(private_session) -> None:
    with pytest.raises(RuleViolation) as refused:
        reply(private_session, "cem", "m1", "my position")

    assert refused.value.key == "rule.private_step"


def test_a_private_contribution_outside_a_private_step_is_refused(session) -> None:
    with pytest.raises(RuleViolation) as refused:
        reply(session, OWNER, "p1", "my case", private=True)

    assert refused.value.key == "rule.not_private_step"


def test_closing_a_private_step_reveals_it(private_session, t0) -> None:
    session = reply(private_session, "cem", "p1", "my position", private=True)

    outcome = flow.advance(session, user=FACILITATOR, now=t0)

    assert outcome.effects[0] == StepRevealed("positions")


def test_closing_the_session_in_a_private_step_reveals_it_first(private_session, t0) -> None:
    outcome = flow.close(private_session, user=FACILITATOR, now=t0)

    assert [type(e).__name__ for e in outcome.effects] == ["StepRevealed", "SessionClosed"]


def test_a_step_that_is_not_private_reveals_nothing(session, t0) -> None:
    outcome = flow.advance(session, user=FACILITATOR, now=t0)

    assert not any(isinstance(e, StepRevealed) for e in outcome.effects)


def test_an_anonymous_step_is_recorded_without_names(start_session, build_method, build_step):
    method = build_method(build_step("round", anonymous=True), build_step("named"))
    session = reply(start_session(method), "cem", "m1", "a thought")

    assert build_record(session).steps[0].entries[0].author is None


# --- approval and withdrawal -----------------------------------------------------------------


def test_the_case_owner_approves_a_closed_session(session, t0) -> None:
    closed = flow.close(session, user=FACILITATOR, now=t0).session

    outcome = flow.approve(closed, user=OWNER, now=t0 + timedelta(hours=1))

    assert outcome.effects == (RecordApproved(),)
    assert outcome.session.approved_at == t0 + timedelta(hours=1)


@pytest.mark.parametrize("user", [FACILITATOR, "cem"])
def test_nobody_but_the_case_owner_approves(session, t0, user: str) -> None:
    closed = flow.close(session, user=FACILITATOR, now=t0).session

    with pytest.raises(RuleViolation) as refused:
        flow.approve(closed, user=user, now=t0)

    assert refused.value.key == "record.only_case_owner"


def test_a_running_session_cannot_be_approved(session, t0) -> None:
    with pytest.raises(RuleViolation) as refused:
        flow.approve(session, user=OWNER, now=t0)

    assert refused.value.key == "record.not_closed"


def test_approving_twice_changes_nothing(session, t0) -> None:
    closed = flow.close(session, user=FACILITATOR, now=t0).session
    approved = flow.approve(closed, user=OWNER, now=t0).session

    assert flow.approve(approved, user=OWNER, now=t0).effects == ()


def test_withdrawing_after_close_but_before_approval_is_possible(session, t0) -> None:
    session = flow.close(reply(session, OWNER, "m1", "my case"), user=FACILITATOR, now=t0).session

    assert flow.withdraw(session, user=OWNER, ref="m1").session.contributions[0].withdrawn


def test_withdrawing_after_approval_is_refused(session, t0) -> None:
    session = flow.close(reply(session, OWNER, "m1", "my case"), user=FACILITATOR, now=t0).session
    session = flow.approve(session, user=OWNER, now=t0).session

    with pytest.raises(RuleViolation) as refused:
        flow.withdraw(session, user=OWNER, ref="m1")

    assert refused.value.key == "record.approved"


def test_a_withdrawn_contribution_keeps_no_text(session) -> None:
    session = flow.withdraw(reply(session, OWNER, "m1", "my case"), user=OWNER, ref="m1").session

    assert session.contributions[0].text == ""


# --- tallies only with three people ---------------------------------------------------------


def _react(session, user, emoji):
    return flow.react(session, user=user, step_id="discomfort", target="post", emoji=emoji).session


def test_tallies_of_fewer_than_three_people_are_hidden(session, goto) -> None:
    session = _react(_react(goto(session, "discomfort"), "cem", "scream"), "dee", "worried")

    step = next(s for s in build_record(session).steps if s.step_id == "discomfort")

    assert step.tallies == ()
    assert step.tallies_hidden


def test_tallies_of_three_people_are_shown(session, goto) -> None:
    session = goto(session, "discomfort")
    for user in ("cem", "dee", "eli"):
        session = _react(session, user, "scream")

    step = next(s for s in build_record(session).steps if s.step_id == "discomfort")

    assert [(t.emoji, t.count) for t in step.tallies] == [("scream", 3)]
    assert not step.tallies_hidden


def test_votes_of_fewer_than_three_people_are_hidden(session, goto) -> None:
    session = reply(reply(goto(session, "choose"), "cem", "m1", "1"), "dee", "m2", "2")

    step = next(s for s in build_record(session).steps if s.step_id == "choose")

    assert step.votes == ()
    assert step.tallies_hidden
