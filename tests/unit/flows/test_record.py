"""The session record (process documentation): what the group found, step by step.

Uses the standard method of conftest.py: account - questions - hypotheses (case owner
silent) - choose (vote) - discomfort (reactions) - video (no input) - actions.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.flows import session as flow
from bot.flows.record import Entry, Tally, build_record, is_team_action

OWNER, FACILITATOR, OUTSIDER = "ana", "ben", "zoe"


def reply(session, author, ref, text):
    return flow.contribute(
        session, author=author, ref=ref, text=text, now=session.started_at
    ).session


def react(session, user, step_id, emoji, target="post"):
    return flow.react(session, user=user, step_id=step_id, target=target, emoji=emoji).session


def step_record(record, step_id):
    return next(s for s in record.steps if s.step_id == step_id)


def test_record_names_the_session_method_people_and_times(session, t0):
    closed = flow.close(session, user=FACILITATOR, now=t0 + timedelta(hours=2)).session

    record = build_record(closed)

    assert record.session_id == "s1"
    assert record.method_name == "Test method"
    assert record.language == "en"
    assert record.case_owner == OWNER
    assert record.facilitator == FACILITATOR
    assert record.participants == 5
    assert record.started_at == t0
    assert record.closed_at == t0 + timedelta(hours=2)


def test_record_has_every_step_numbered_in_method_order_with_its_title(session, method):
    record = build_record(session)

    assert [(s.number, s.step_id) for s in record.steps] == [
        (number, step.id) for number, step in enumerate(method.steps, start=1)
    ]
    assert record.steps[0].title == "Title account"


def test_named_record_shows_who_said_what(session):
    session = reply(session, OWNER, "m1", "The case of K.")

    assert step_record(build_record(session), "account").entries == (
        Entry(OWNER, "The case of K."),
    )


def test_anonymous_record_shows_no_names_at_all(start_session, goto):
    session = start_session(named_record=False)
    session = reply(session, OWNER, "m1", "The case of K.")
    session = goto(session, "actions")
    session = reply(session, "cem", "m2", "I call the school")
    session = reply(session, "dee", "m3", "team: agree on a protocol check")

    record = build_record(session)

    assert record.case_owner is None
    assert record.facilitator is None
    assert step_record(record, "account").entries == (Entry(None, "The case of K."),)
    actions = step_record(record, "actions")
    assert actions.individual_actions == (Entry(None, "I call the school"),)
    assert actions.team_actions == (Entry(None, "agree on a protocol check"),)


def test_record_is_written_in_the_requested_language(session):
    record = build_record(session, language="de")

    assert record.language == "de"
    assert record.method_name == "de:Test method"
    assert record.steps[0].title == "de:Title account"


def test_record_defaults_to_the_sessions_language(start_session):
    assert build_record(start_session(language="nl")).method_name == "nl:Test method"


def test_reaction_tallies_carry_their_meaning(session, goto):
    session = goto(session, "discomfort")
    session = react(session, "cem", "discomfort", "scream")
    session = react(session, "dee", "discomfort", "scream")
    session = react(session, "eli", "discomfort", "worried")
    session = react(session, "eli", "discomfort", "heart")  # the method's own meaning
    session = react(session, OWNER, "discomfort", "tada")  # no meaning

    tallies = step_record(build_record(session), "discomfort").tallies

    assert tallies == (
        Tally("scream", "fear", 2),
        Tally("heart", "appreciation", 1),
        Tally("tada", None, 1),
        Tally("worried", "worries", 1),
    )


def test_reaction_meanings_follow_the_record_language(session, goto):
    session = react(goto(session, "discomfort"), "cem", "discomfort", "thinking_face")

    tallies = step_record(build_record(session, "nl", min_tally_people=1), "discomfort").tallies

    assert tallies == (Tally("thinking_face", "nl:uncertainty", 1),)


def test_a_reaction_given_twice_is_tallied_once(session, goto):
    session = goto(session, "discomfort")
    session = react(session, "cem", "discomfort", "scream")
    session = react(session, "cem", "discomfort", "scream")

    record = build_record(session, min_tally_people=1)

    assert step_record(record, "discomfort").tallies == (Tally("scream", "fear", 1),)


def test_a_reaction_taken_back_is_not_tallied(session, goto):
    session = react(goto(session, "discomfort"), "cem", "discomfort", "scream")
    session = flow.unreact(
        session, user="cem", step_id="discomfort", target="post", emoji="scream"
    ).session

    assert step_record(build_record(session), "discomfort").tallies == ()


def test_reactions_are_tallied_in_the_step_they_were_given(session, goto):
    session = reply(session, OWNER, "m1", "The case")
    session = goto(session, "questions")
    session = react(session, "cem", "account", "heart", target="m1")

    record = build_record(session, min_tally_people=1)

    assert step_record(record, "account").tallies == (Tally("heart", "appreciation", 1),)
    assert step_record(record, "questions").tallies == ()


def test_votes_are_counted_per_option_including_options_nobody_chose(session, goto):
    session = goto(session, "choose")
    session = reply(session, "cem", "m1", "1")
    session = reply(session, "dee", "m2", "brainstorm")
    session = react(session, "eli", "choose", "bulb")

    votes = step_record(build_record(session), "choose").votes

    assert votes == (Tally("bulb", "Brainstorming", 3), Tally("speech_balloon", "Good advice", 0))


def test_a_changed_vote_is_counted_once_for_the_new_option(session, goto):
    session = goto(session, "choose")
    session = reply(session, "cem", "m1", "1")
    session = reply(session, "cem", "m2", "2")

    votes = step_record(build_record(session, min_tally_people=1), "choose").votes

    assert [(t.emoji, t.count) for t in votes] == [("bulb", 0), ("speech_balloon", 1)]


def test_steps_without_a_vote_have_no_vote_tallies(session):
    assert all(s.votes == () for s in build_record(session).steps if s.step_id != "choose")


def test_actions_are_split_into_individual_and_team_actions(session, goto):
    session = goto(session, "actions")
    session = reply(session, "cem", "m1", "I ask my manager about the Meldcode")
    session = reply(session, "dee", "m2", "team: discuss safety plans monthly")
    session = reply(session, "eli", "m3", "  Team:  invite the district nurse ")

    actions = step_record(build_record(session), "actions")

    assert actions.individual_actions == (Entry("cem", "I ask my manager about the Meldcode"),)
    assert actions.team_actions == (
        Entry("dee", "discuss safety plans monthly"),
        Entry("eli", "invite the district nurse"),
    )
    assert actions.entries == ()


@pytest.mark.parametrize(
    ("text", "team"),
    [
        ("team: a shared check-in", True),
        ("TEAM: a shared check-in", True),
        ("wij: samen oefenen", True),
        ("wir: gemeinsam üben", True),
        ("we: practise together", True),
        ("I practise alone", False),
        ("teamwork is what I will ask for", False),
        ("my team: not a prefix at the start", False),
    ],
)
def test_team_actions_are_recognised_by_their_prefix(text, team):
    assert is_team_action(text) is team


def test_other_steps_have_no_actions(session):
    session = reply(session, OWNER, "m1", "team: not an action here")

    account = step_record(build_record(session), "account")

    assert account.entries == (Entry(OWNER, "team: not an action here"),)
    assert account.individual_actions == account.team_actions == ()


def test_withdrawn_contributions_are_not_in_the_record(session, goto):
    session = reply(session, OWNER, "m1", "Full name and address of K.")
    session = reply(session, OWNER, "m2", "The case of K.")
    session = flow.withdraw(session, user=OWNER, ref="m1").session
    session = goto(session, "actions")
    session = reply(session, "cem", "m3", "team: something I regret")
    session = flow.withdraw(session, user="cem", ref="m3").session

    record = build_record(session)

    assert step_record(record, "account").entries == (Entry(OWNER, "The case of K."),)
    assert step_record(record, "actions").team_actions == ()
    assert "Full name" not in repr(record)
    assert "regret" not in repr(record)


def test_contributions_that_do_not_count_are_not_in_the_record(session, goto):
    session = reply(session, OUTSIDER, "m1", "An outsider's view")
    session = goto(session, "hypotheses")
    session = reply(session, OWNER, "m2", "The silent case owner objects")
    session = reply(session, "cem", "m3", "A hypothesis")
    session = goto(session, "video")
    session = reply(session, "dee", "m4", "Nice video")

    record = build_record(session)

    assert step_record(record, "account").entries == ()
    assert step_record(record, "hypotheses").entries == (Entry("cem", "A hypothesis"),)
    assert step_record(record, "video").entries == ()


def test_an_edited_contribution_appears_with_its_new_text(session, t0):
    session = reply(session, OWNER, "m1", "The case of Karin de Vries")
    session = flow.edit(session, editor=OWNER, ref="m1", text="The case of K.", now=t0).session

    assert step_record(build_record(session), "account").entries == (
        Entry(OWNER, "The case of K."),
    )


def test_steps_not_reached_are_marked_so(session, goto, t0):
    session = goto(session, "hypotheses")
    session = flow.close(session, user=FACILITATOR, now=t0).session

    record = build_record(session)

    assert [(s.step_id, s.reached) for s in record.steps] == [
        ("account", True),
        ("questions", True),
        ("hypotheses", True),
        ("choose", False),
        ("discomfort", False),
        ("video", False),
        ("actions", False),
    ]
    unreached = [s for s in record.steps if not s.reached]
    assert all(s.entries == s.tallies == s.individual_actions == () for s in unreached)
    assert all(t.count == 0 for s in unreached for t in s.votes)


def test_record_of_a_running_session_has_no_closing_time(session):
    assert build_record(session).closed_at is None
