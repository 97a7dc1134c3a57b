"""Nothing anyone writes is lost or misfiled: blank replies, and a listener's private reply.

The standard method is described in conftest.py; the private tests build their own:
a private step where the case owner listens, then a step where the case owner has the floor.
"""

from __future__ import annotations

import pytest

from bot.flows import session as flow
from bot.flows.method import AdvanceRule, InputKind, Role, Speakers
from bot.flows.session import Notice, RuleViolation

OWNER = "ana"


def reply(session, author, ref, text, *, private=False):
    return flow.contribute(
        session, author=author, ref=ref, text=text, now=session.started_at, private=private
    )


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t", "\u200b", "\u200b\u200c\u200d", "\ufeff", " \u2060 ", "\u3164"]
)
def test_a_reply_that_shows_nothing_is_refused(session, text):
    with pytest.raises(RuleViolation) as caught:
        reply(session, OWNER, "m1", text)
    assert caught.value.key == "rule.blank"


def test_a_reply_that_shows_nothing_is_not_stored(session):
    with pytest.raises(RuleViolation):
        reply(session, OWNER, "m1", "\u200b")
    assert session.contributions == ()


@pytest.mark.parametrize("text", ["ok", ":bulb:", "\u200bja", "1"])
def test_a_short_visible_reply_counts(session, text):
    outcome = reply(session, OWNER, "m1", text)
    assert [c.text for c in outcome.session.contributions] == [text]


def test_an_edit_to_nothing_is_refused_and_the_text_stays(session):
    session = reply(session, OWNER, "m1", "my case").session
    with pytest.raises(RuleViolation) as caught:
        flow.edit(session, editor=OWNER, ref="m1", text=" \u200b ", now=session.started_at)
    assert caught.value.key == "rule.blank"
    assert session.contribution("m1").text == "my case"


@pytest.fixture
def listening_session(start_session, build_method, build_step):
    """Step 1: the group writes privately while the case owner listens; step 2: the owner."""
    method = build_method(
        build_step(
            "advice",
            speakers=Speakers.GROUP,
            silent=frozenset({Role.CASE_OWNER}),
            input=InputKind.ONE_PER_PERSON,
            private=True,
            advance=AdvanceRule.FACILITATOR,
        ),
        build_step("discussion", speakers=Speakers.GROUP, silent=frozenset({Role.CASE_OWNER})),
        build_step("decision", speakers=Speakers.CASE_OWNER),
    )
    return start_session(method)


def test_a_listeners_private_reply_is_filed_under_their_next_turn(listening_session):
    outcome = reply(listening_session, OWNER, "p-1", "What touched me", private=True)
    [kept] = outcome.session.contributions
    assert kept.step_id == "decision"
    assert kept.text == "What touched me"
    assert kept.counts


def test_a_listeners_private_reply_is_not_among_the_steps_answers(listening_session):
    outcome = reply(listening_session, OWNER, "p-1", "What touched me", private=True)
    assert outcome.session.contributions_in("advice") == []


def test_a_listener_is_told_one_thing_where_their_reply_went(listening_session):
    outcome = reply(listening_session, OWNER, "p-1", "What touched me", private=True)
    assert outcome.effects == (
        Notice(
            OWNER,
            "private.kept_for_turn",
            {"number": 3, "title": "Title decision", "ref": "p-1"},
        ),
    )


def test_a_listeners_private_reply_without_a_later_turn_is_refused(
    start_session, build_method, build_step
):
    method = build_method(
        build_step("account", speakers=Speakers.CASE_OWNER),
        build_step(
            "advice", speakers=Speakers.GROUP, silent=frozenset({Role.CASE_OWNER}), private=True
        ),
    )
    session = start_session(method)
    session = flow.advance(session, user=session.facilitator, now=session.started_at).session
    with pytest.raises(RuleViolation) as caught:
        reply(session, OWNER, "p-1", "What touched me", private=True)
    assert caught.value.key == "rule.silent_no_turn"


def test_a_group_members_private_reply_stays_in_the_private_step(listening_session):
    outcome = reply(listening_session, "cem", "p-1", "My advice", private=True)
    assert [c.step_id for c in outcome.session.contributions] == ["advice"]
    assert outcome.effects == ()
