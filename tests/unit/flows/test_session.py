"""The session state machine, one rule per test.

The standard method (see conftest.py) has seven steps:
account (case owner) - questions (one per person, majority ready) - hypotheses (group,
case owner silent, all ready) - choose (vote) - discomfort (reactions) - video (no input)
- actions. The cast: ana owns the case, ben facilitates, cem, dee and eli are the group,
zoe is not a member.
"""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest

from bot.flows import session as flow
from bot.flows.method import AdvanceRule, InputKind, Role, Speakers, VoteOption
from bot.flows.session import (
    Mode,
    Notice,
    RuleViolation,
    SessionClosed,
    SessionPaused,
    SessionResumed,
    Status,
    StepOpened,
)

OWNER, FACILITATOR, OUTSIDER = "ana", "ben", "zoe"
GROUP = ("cem", "dee", "eli")
STEP_IDS = ["account", "questions", "hypotheses", "choose", "discomfort", "video", "actions"]


def reply(session, author, ref, text="a thought", now=None):
    return flow.contribute(
        session, author=author, ref=ref, text=text, now=now or session.started_at
    )


def refused(call, *args, **kwargs) -> RuleViolation:
    with pytest.raises(RuleViolation) as caught:
        call(*args, **kwargs)
    return caught.value


# --- start -------------------------------------------------------------------------------------


def test_start_opens_the_first_step(method, t0):
    outcome = flow.start(
        "s1", method, case_owner=OWNER, facilitator=FACILITATOR, participants=GROUP, now=t0
    )

    session = outcome.session
    assert session.status is Status.RUNNING
    assert [run.step_id for run in session.runs] == ["account"]
    assert session.current_run.opened_at == t0
    assert session.current_run.closed_at is None
    assert session.step_number == 1
    assert outcome.effects == (StepOpened("account", None),)


def test_synchronous_session_has_no_deadline(start_session):
    session = start_session(mode=Mode.SYNC, deadline_hours=5)

    assert session.current_run.deadline is None


def test_asynchronous_deadline_comes_from_the_steps_async_hours(method, t0):
    outcome = flow.start(
        "s1", method, case_owner=OWNER, facilitator=FACILITATOR, mode=Mode.ASYNC, now=t0
    )

    assert outcome.session.current_run.deadline == t0 + timedelta(hours=12)
    assert outcome.effects == (StepOpened("account", t0 + timedelta(hours=12)),)


def test_asynchronous_deadline_hours_of_the_session_override_the_steps(start_session, t0):
    session = start_session(mode=Mode.ASYNC, deadline_hours=3)

    assert session.current_run.deadline == t0 + timedelta(hours=3)


def test_asynchronous_deadline_of_a_later_step_counts_from_when_it_opens(start_session, t0):
    session = start_session(mode=Mode.ASYNC)
    later = t0 + timedelta(hours=5)

    outcome = flow.advance(session, user=FACILITATOR, now=later)

    assert outcome.session.current_run.deadline == later + timedelta(hours=24)
    assert outcome.effects == (StepOpened("questions", later + timedelta(hours=24)),)


def test_case_owner_cannot_also_be_the_facilitator(method, t0):
    violation = refused(flow.start, "s1", method, case_owner=OWNER, facilitator=OWNER, now=t0)

    assert violation.key == "rule.owner_is_facilitator"


def test_participants_leave_out_case_owner_facilitator_and_repeats(start_session):
    session = start_session(participants=("cem", OWNER, "dee", FACILITATOR, "cem"))

    assert session.participants == ("cem", "dee")
    assert session.members() == (OWNER, FACILITATOR, "cem", "dee")
    assert not session.open_membership


def test_session_without_named_participants_is_open(start_session):
    session = start_session(participants=())

    assert session.open_membership
    assert session.members() == (OWNER, FACILITATOR)


# --- contributions -----------------------------------------------------------------------------


def test_contribution_is_recorded_for_the_current_step(session, t0):
    outcome = flow.contribute(session, author=OWNER, ref="m1", text="The case of K.", now=t0)

    [contribution] = outcome.session.contributions
    assert contribution.ref == "m1"
    assert contribution.step_id == "account"
    assert contribution.author == OWNER
    assert contribution.text == "The case of K."
    assert contribution.at == t0
    assert contribution.counted
    assert not contribution.withdrawn
    assert outcome.effects == ()
    assert outcome.session.contributors("account") == {OWNER}


def test_same_ref_delivered_twice_counts_once(session):
    once = reply(session, OWNER, "m1", "first delivery").session

    again = reply(once, OWNER, "m1", "second delivery")

    assert again.session == once
    assert again.effects == ()
    assert [c.text for c in again.session.contributions] == ["first delivery"]


def test_same_ref_after_withdrawal_does_not_bring_the_reply_back(session):
    gone = flow.withdraw(reply(session, OWNER, "m1").session, user=OWNER, ref="m1").session

    again = reply(gone, OWNER, "m1")

    assert again.session == gone
    assert gone.contributions_in("account") == []


def test_silent_case_owner_reply_is_kept_but_not_counted_and_told(session, goto):
    session = goto(session, "hypotheses")

    outcome = reply(session, OWNER, "m1", "But that is not what happened")

    [contribution] = outcome.session.contributions
    assert contribution.author == OWNER
    assert contribution.text == "But that is not what happened"
    assert contribution.counted is False
    assert outcome.effects == (Notice(OWNER, "rule.silent", {"role": "case_owner"}),)
    assert OWNER not in outcome.session.contributors("hypotheses")


def test_group_reply_in_a_step_where_the_case_owner_is_silent_counts(session, goto):
    session = goto(session, "hypotheses")

    outcome = reply(session, "cem", "m1", "Maybe K. fears losing the children")

    assert outcome.session.contributions[0].counted
    assert outcome.effects == ()


def test_non_member_reply_in_a_closed_group_is_kept_but_not_counted_and_told(session):
    outcome = reply(session, OUTSIDER, "m1", "May I add something?")

    [contribution] = outcome.session.contributions
    assert contribution.counted is False
    assert outcome.effects == (Notice(OUTSIDER, "rule.not_a_member"),)
    assert OUTSIDER not in outcome.session.participants
    assert outcome.session.contributors("account") == frozenset()


def test_open_session_adds_the_first_replier_to_the_group_and_tells_them(start_session, goto):
    session = goto(start_session(participants=()), "questions")

    outcome = reply(session, OUTSIDER, "m1", "What did the neighbours see?")

    assert outcome.session.participants == (OUTSIDER,)
    assert outcome.session.role_of(OUTSIDER) is Role.GROUP
    assert outcome.session.contributions[0].counted
    assert outcome.effects == (Notice(OUTSIDER, "session.joined"),)


def test_open_session_tells_a_person_they_joined_only_once(start_session, goto):
    session = goto(start_session(participants=()), "hypotheses")
    joined = reply(session, OUTSIDER, "m1").session

    outcome = reply(joined, OUTSIDER, "m2")

    assert outcome.effects == ()
    assert outcome.session.participants == (OUTSIDER,)


def test_one_per_person_step_refuses_a_second_reply(session, goto):
    session = goto(session, "questions")
    first = reply(session, "cem", "m1", "What did you feel?").session

    violation = refused(reply, first, "cem", "m2", "And what did you do?")

    assert violation.key == "rule.one_per_person"
    assert [c.ref for c in first.contributions] == ["m1"]


def test_one_per_person_step_still_takes_one_reply_from_each_person(session, goto):
    session = goto(session, "questions")

    for number, person in enumerate((OWNER, FACILITATOR, *GROUP)):
        session = reply(session, person, f"m{number}").session

    assert session.contributors("questions") == {OWNER, FACILITATOR, *GROUP}


def test_one_per_person_step_takes_a_new_reply_after_the_first_is_withdrawn(session, goto):
    session = goto(session, "questions")
    session = reply(session, "cem", "m1", "A clumsy question").session
    session = flow.withdraw(session, user="cem", ref="m1").session

    outcome = reply(session, "cem", "m2", "A better question")

    assert [c.text for c in outcome.session.contributions_in("questions")] == ["A better question"]


def test_reply_in_a_step_without_input_is_kept_but_not_counted_and_told(session, goto):
    session = goto(session, "video")

    outcome = reply(session, "cem", "m1", "Great video")

    assert outcome.session.contributions[0].counted is False
    assert outcome.effects == (Notice("cem", "rule.no_input"),)


# --- votes -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "option"),
    [
        ("1", "brainstorm"),
        (" 2 ", "advice"),
        ("brainstorm", "brainstorm"),
        ("Advice", "advice"),
        ("bulb", "brainstorm"),
        (":speech_balloon:", "advice"),
    ],
)
def test_vote_by_reply_names_an_option_by_number_key_or_emoji(session, goto, answer, option):
    session = goto(session, "choose")

    outcome = reply(session, "cem", "m1", answer)

    assert [(v.step_id, v.user, v.option) for v in outcome.session.votes] == [
        ("choose", "cem", option)
    ]
    assert "cem" in outcome.session.contributors("choose")


def test_vote_by_reacting_with_an_options_emoji(session, goto):
    session = goto(session, "choose")

    outcome = flow.react(session, user="dee", step_id="choose", target="post", emoji="bulb")

    assert [(v.user, v.option) for v in outcome.session.votes] == [("dee", "brainstorm")]
    assert outcome.session.reactions == frozenset()


def test_a_new_vote_replaces_the_old_one(session, goto):
    session = goto(session, "choose")
    session = reply(session, "cem", "m1", "1").session
    session = reply(session, "cem", "m2", "2").session
    session = flow.react(session, user="cem", step_id="choose", target="p", emoji="bulb").session

    assert [(v.user, v.option) for v in session.votes] == [("cem", "brainstorm")]


def test_votes_of_different_people_are_kept_apart(session, goto):
    session = goto(session, "choose")
    session = reply(session, "cem", "m1", "1").session
    session = reply(session, "dee", "m2", "2").session

    assert sorted((v.user, v.option) for v in session.votes) == [
        ("cem", "brainstorm"),
        ("dee", "advice"),
    ]


def test_unknown_vote_answer_is_refused_with_the_option_list(session, goto):
    session = goto(session, "choose")

    violation = refused(reply, session, "cem", "m1", "let us just talk")

    assert violation.key == "rule.vote_unknown"
    assert violation.params == {"options": "1 = Brainstorming, 2 = Good advice"}


def test_unknown_vote_answer_lists_the_options_in_the_sessions_language(start_session, goto):
    session = goto(start_session(language="nl"), "choose")

    violation = refused(reply, session, "cem", "m1", "3")

    assert violation.params == {"options": "1 = nl:Brainstorming, 2 = nl:Good advice"}


def test_taking_back_an_option_reaction_takes_back_that_vote(session, goto):
    session = goto(session, "choose")
    session = flow.react(session, user="dee", step_id="choose", target="p", emoji="bulb").session

    outcome = flow.unreact(session, user="dee", step_id="choose", target="p", emoji="bulb")

    assert outcome.session.votes == ()


def test_taking_back_an_older_options_reaction_keeps_the_newer_vote(session, goto):
    session = goto(session, "choose")
    session = flow.react(session, user="dee", step_id="choose", target="p", emoji="bulb").session
    session = reply(session, "dee", "m1", "advice").session

    outcome = flow.unreact(session, user="dee", step_id="choose", target="p", emoji="bulb")

    assert [(v.user, v.option) for v in outcome.session.votes] == [("dee", "advice")]


def test_other_emoji_in_a_vote_step_is_a_plain_reaction(session, goto):
    session = goto(session, "choose")

    outcome = flow.react(session, user="dee", step_id="choose", target="p", emoji="heart")

    assert outcome.session.votes == ()
    assert {(r.user, r.emoji) for r in outcome.session.reactions} == {("dee", "heart")}


def test_non_member_vote_in_a_closed_group_is_not_counted_and_told(session, goto):
    session = goto(session, "choose")

    outcome = reply(session, OUTSIDER, "m1", "1")

    assert outcome.session.votes == ()
    assert outcome.effects == (Notice(OUTSIDER, "rule.not_a_member"),)


def test_non_member_vote_by_reaction_in_a_closed_group_is_not_counted_and_told(session, goto):
    session = goto(session, "choose")

    outcome = flow.react(session, user=OUTSIDER, step_id="choose", target="p", emoji="bulb")

    assert outcome.session.votes == ()
    assert outcome.effects == (Notice(OUTSIDER, "rule.not_a_member"),)


def test_silent_case_owner_vote_is_not_counted_and_told(start_session, build_method, build_step):
    method = build_method(
        build_step(
            "verdict",
            speakers=Speakers.GROUP,
            input=InputKind.VOTE,
            silent=frozenset({Role.CASE_OWNER}),
            options=(
                VoteOption("yes", "thumbsup", {"en": "yes", "nl": "ja", "de": "ja"}),
                VoteOption("no", "thumbsdown", {"en": "no", "nl": "nee", "de": "nein"}),
            ),
        )
    )
    session = start_session(method)

    by_reply = reply(session, OWNER, "m1", "yes")
    by_reaction = flow.react(session, user=OWNER, step_id="verdict", target="p", emoji="thumbsup")

    assert by_reply.session.votes == by_reaction.session.votes == ()
    assert Notice(OWNER, "rule.silent", {"role": "case_owner"}) in by_reply.effects
    assert by_reaction.effects == (Notice(OWNER, "rule.silent", {"role": "case_owner"}),)


def test_open_session_adds_a_first_voter_to_the_group_and_tells_them(start_session, goto):
    session = goto(start_session(participants=()), "choose")

    outcome = reply(session, OUTSIDER, "m1", "2")

    assert outcome.session.participants == (OUTSIDER,)
    assert [(v.user, v.option) for v in outcome.session.votes] == [(OUTSIDER, "advice")]
    assert outcome.effects == (Notice(OUTSIDER, "session.joined"),)


# --- edit and withdraw -------------------------------------------------------------------------


def test_author_can_edit_their_contribution(session, t0):
    session = reply(session, OWNER, "m1", "The case of K,").session
    later = t0 + timedelta(minutes=3)

    outcome = flow.edit(session, editor=OWNER, ref="m1", text="The case of K.", now=later)

    [contribution] = outcome.session.contributions
    assert contribution.text == "The case of K."
    assert contribution.edited_at == later
    assert contribution.at == t0


def test_editing_someone_elses_contribution_is_refused(session, t0):
    session = reply(session, OWNER, "m1", "The case of K.").session

    violation = refused(flow.edit, session, editor="cem", ref="m1", text="Mine now", now=t0)

    assert violation.key == "rule.not_your_contribution"


def test_edit_with_the_same_text_changes_nothing(session, t0):
    session = reply(session, OWNER, "m1", "Same").session

    outcome = flow.edit(session, editor=OWNER, ref="m1", text="Same", now=t0 + timedelta(hours=1))

    assert outcome.session == session


def test_edit_of_an_unknown_or_withdrawn_reply_changes_nothing(session, t0):
    session = reply(session, OWNER, "m1").session
    session = flow.withdraw(session, user=OWNER, ref="m1").session

    assert flow.edit(session, editor=OWNER, ref="m1", text="x", now=t0).session == session
    assert flow.edit(session, editor=OWNER, ref="nope", text="x", now=t0).session == session


def test_edit_keeps_the_reply_in_the_step_it_was_given_in(session, goto, t0):
    session = reply(session, OWNER, "m1", "The case").session
    session = goto(session, "questions")

    outcome = flow.edit(session, editor=OWNER, ref="m1", text="The case, pseudonymised", now=t0)

    assert outcome.session.contribution("m1").step_id == "account"


def test_withdrawn_contribution_leaves_the_count(session):
    session = reply(session, OWNER, "m1", "Too much detail about K.").session

    outcome = flow.withdraw(session, user=OWNER, ref="m1")

    assert outcome.session.contribution("m1").withdrawn
    assert outcome.session.contributions_in("account") == []
    assert outcome.session.contributors("account") == frozenset()


def test_withdrawing_someone_elses_contribution_is_refused(session):
    session = reply(session, OWNER, "m1").session

    violation = refused(flow.withdraw, session, user="cem", ref="m1")

    assert violation.key == "rule.not_your_contribution"


def test_withdrawing_an_unknown_reply_changes_nothing(session):
    assert flow.withdraw(session, user=OWNER, ref="nope").session == session


def test_author_can_still_withdraw_after_the_session_closed(session, t0):
    session = reply(session, OWNER, "m1").session
    session = flow.close(session, user=FACILITATOR, now=t0).session

    outcome = flow.withdraw(session, user=OWNER, ref="m1")

    assert outcome.session.contribution("m1").withdrawn


# --- reactions ---------------------------------------------------------------------------------


def test_reaction_is_tallied_for_its_step(session, goto):
    session = goto(session, "discomfort")

    outcome = flow.react(session, user="cem", step_id="discomfort", target="p", emoji="scream")

    assert {(r.step_id, r.user, r.emoji) for r in outcome.session.reactions} == {
        ("discomfort", "cem", "scream")
    }
    assert outcome.session.contributors("discomfort") == {"cem"}


def test_same_reaction_twice_counts_once(session, goto):
    session = goto(session, "discomfort")
    once = flow.react(session, user="cem", step_id="discomfort", target="p", emoji="scream")

    twice = flow.react(once.session, user="cem", step_id="discomfort", target="p", emoji="scream")

    assert twice.session == once.session
    assert len(twice.session.reactions) == 1


def test_unreact_takes_the_reaction_back(session, goto):
    session = goto(session, "discomfort")
    session = flow.react(
        session, user="cem", step_id="discomfort", target="p", emoji="scream"
    ).session

    outcome = flow.unreact(session, user="cem", step_id="discomfort", target="p", emoji="scream")

    assert outcome.session.reactions == frozenset()
    assert outcome.session.contributors("discomfort") == frozenset()


def test_reactions_outside_a_reactions_step_do_not_make_a_contributor(session):
    outcome = flow.react(session, user="cem", step_id="account", target="m1", emoji="heart")

    assert len(outcome.session.reactions) == 1
    assert outcome.session.contributors("account") == frozenset()


def test_reaction_on_a_step_not_yet_reached_is_ignored(session):
    outcome = flow.react(session, user="cem", step_id="discomfort", target="p", emoji="scream")

    assert outcome.session == session


def test_reaction_on_an_earlier_step_is_still_tallied(session, goto):
    session = goto(session, "questions")

    outcome = flow.react(session, user="cem", step_id="account", target="m1", emoji="heart")

    assert {r.step_id for r in outcome.session.reactions} == {"account"}


def test_open_session_adds_a_reacting_person_to_the_group(start_session):
    session = start_session(participants=())

    outcome = flow.react(session, user=OUTSIDER, step_id="account", target="m1", emoji="heart")

    assert outcome.session.participants == (OUTSIDER,)


# --- ready -------------------------------------------------------------------------------------


def test_all_ready_step_waits_until_every_expected_speaker_is_ready(session, goto, t0):
    session = goto(session, "hypotheses")
    for person in (FACILITATOR, "cem", "dee"):
        outcome = flow.mark_ready(session, user=person, now=t0)
        assert outcome.effects == ()
        session = outcome.session

    assert session.current_run.step_id == "hypotheses"
    assert session.current_run.ready == {FACILITATOR, "cem", "dee"}


def test_all_ready_step_moves_on_when_every_expected_speaker_is_ready(session, goto, t0):
    session = goto(session, "hypotheses")
    later = t0 + timedelta(minutes=20)
    for person in (FACILITATOR, "cem", "dee"):
        session = flow.mark_ready(session, user=person, now=t0).session

    outcome = flow.mark_ready(session, user="eli", now=later)

    assert outcome.session.current_run.step_id == "choose"
    assert outcome.session.runs[-2].closed_at == later
    assert outcome.effects == (StepOpened("choose", None),)


def test_all_ready_does_not_wait_for_the_silent_case_owner(session, goto):
    session = goto(session, "hypotheses")

    assert session.expected_speakers() == {FACILITATOR, *GROUP}


def test_ready_from_someone_not_asked_to_speak_does_not_move_the_step_on(session, goto, t0):
    session = goto(session, "hypotheses")
    for person in (OWNER, OUTSIDER, FACILITATOR, "cem", "dee"):
        session = flow.mark_ready(session, user=person, now=t0).session

    assert session.current_run.step_id == "hypotheses"


def test_ready_twice_is_noted_once(session, goto, t0):
    session = goto(session, "hypotheses")
    once = flow.mark_ready(session, user="cem", now=t0).session

    twice = flow.mark_ready(once, user="cem", now=t0)

    assert twice.session == once
    assert twice.effects == ()


def test_majority_ready_step_moves_on_when_more_than_half_are_ready(session, goto, t0):
    session = goto(session, "questions")  # everyone speaks: five people
    session = flow.mark_ready(session, user="cem", now=t0).session
    session = flow.mark_ready(session, user="dee", now=t0).session
    assert session.current_run.step_id == "questions"

    outcome = flow.mark_ready(session, user=OWNER, now=t0)

    assert outcome.session.current_run.step_id == "hypotheses"


def test_majority_ready_with_an_even_group_needs_more_than_half(start_session, goto, t0):
    session = goto(start_session(participants=("cem", "dee")), "questions")  # four people
    session = flow.mark_ready(session, user="cem", now=t0).session
    session = flow.mark_ready(session, user="dee", now=t0).session
    assert session.current_run.step_id == "questions"

    outcome = flow.mark_ready(session, user=OWNER, now=t0)

    assert outcome.session.current_run.step_id == "hypotheses"


def test_ready_never_moves_on_a_step_the_facilitator_advances(session, t0):
    assert session.current_step.advance is AdvanceRule.FACILITATOR

    for person in (OWNER, FACILITATOR, *GROUP):
        session = flow.mark_ready(session, user=person, now=t0).session

    assert session.current_run.step_id == "account"


def test_ready_is_counted_per_step(session, goto, t0):
    session = goto(session, "questions")
    for person in (OWNER, "cem", "dee"):
        session = flow.mark_ready(session, user=person, now=t0).session

    assert session.current_run.step_id == "hypotheses"
    assert session.current_run.ready == frozenset()


@pytest.mark.parametrize(
    ("speakers", "expected"),
    [
        (Speakers.CASE_OWNER, {OWNER}),
        (Speakers.FACILITATOR, {FACILITATOR}),
        (Speakers.GROUP, {FACILITATOR, *GROUP}),
        (Speakers.EVERYONE, {OWNER, FACILITATOR, *GROUP}),
    ],
)
def test_expected_speakers_follow_the_steps_speakers(
    start_session, build_method, build_step, speakers, expected
):
    session = start_session(build_method(build_step("only", speakers=speakers)))

    assert session.expected_speakers() == expected


def test_expected_speakers_leave_out_every_silent_role(start_session, build_method, build_step):
    step = build_step(
        "only",
        speakers=Speakers.EVERYONE,
        silent=frozenset({Role.CASE_OWNER, Role.FACILITATOR}),
    )
    session = start_session(build_method(step))

    assert session.expected_speakers() == set(GROUP)


# --- advance -----------------------------------------------------------------------------------


def test_only_the_facilitator_can_advance(session, t0):
    violation = refused(flow.advance, session, user="cem", now=t0)

    assert violation.key == "rule.only_facilitator"
    assert violation.params == {"facilitator": FACILITATOR}


def test_advance_closes_the_current_step_and_opens_the_next(session, t0):
    later = t0 + timedelta(minutes=10)

    outcome = flow.advance(session, user=FACILITATOR, now=later)

    first, second = outcome.session.runs
    assert (first.step_id, first.closed_at) == ("account", later)
    assert (second.step_id, second.opened_at, second.closed_at) == ("questions", later, None)
    assert outcome.effects == (StepOpened("questions", None),)


def test_advance_visits_every_step_in_order_and_each_once(session, t0):
    seen = [session.current_run.step_id]
    while session.status is not Status.CLOSED:
        outcome = flow.advance(session, user=FACILITATOR, now=t0)
        session = outcome.session
        seen += [e.step_id for e in outcome.effects if isinstance(e, StepOpened)]

    assert seen == STEP_IDS
    assert [run.step_id for run in session.runs] == STEP_IDS


def test_advance_past_the_last_step_closes_the_session(session, goto, t0):
    session = goto(session, "actions")
    end = t0 + timedelta(hours=1)

    outcome = flow.advance(session, user=FACILITATOR, now=end)

    assert outcome.session.status is Status.CLOSED
    assert outcome.session.closed_at == end
    assert outcome.session.current_run.closed_at == end
    assert outcome.effects == (SessionClosed(),)


def test_no_step_can_be_skipped_by_ready_or_deadline(start_session, t0):
    session = start_session(mode=Mode.ASYNC)
    seen = []
    while session.status is not Status.CLOSED:
        seen.append(session.current_run.step_id)
        step = session.current_run.step_id
        session = flow.deadline_passed(session, step_id=step, now=t0).session
        session = flow.deadline_passed(session, step_id=step, now=t0).session  # a late repeat

    assert seen == STEP_IDS
    assert [run.step_id for run in session.runs] == STEP_IDS


# --- pause, resume, close ----------------------------------------------------------------------


def test_pause_stops_advance_and_ready(session, t0):
    outcome = flow.pause(session, user=FACILITATOR)
    paused = outcome.session

    assert paused.status is Status.PAUSED
    assert outcome.effects == (SessionPaused(),)
    assert refused(flow.advance, paused, user=FACILITATOR, now=t0).key == "rule.paused"
    assert refused(flow.mark_ready, paused, user="cem", now=t0).key == "rule.paused"


def test_resume_lets_the_session_move_on_again(session, t0):
    paused = flow.pause(session, user=FACILITATOR).session

    outcome = flow.resume(paused, user=FACILITATOR)

    assert outcome.session.status is Status.RUNNING
    assert outcome.effects == (SessionResumed(),)
    assert flow.advance(outcome.session, user=FACILITATOR, now=t0).session.step_number == 2


def test_resume_when_not_paused_is_refused(session):
    assert refused(flow.resume, session, user=FACILITATOR).key == "rule.not_paused"


def test_pause_twice_is_refused(session):
    paused = flow.pause(session, user=FACILITATOR).session

    assert refused(flow.pause, paused, user=FACILITATOR).key == "rule.paused"


@pytest.mark.parametrize("action", [flow.pause, flow.resume])
def test_only_the_facilitator_can_pause_or_resume(session, action):
    if action is flow.resume:
        session = flow.pause(session, user=FACILITATOR).session

    violation = refused(action, session, user=OWNER)

    assert violation.key == "rule.only_facilitator"


def test_facilitator_can_close_early(session, t0):
    end = t0 + timedelta(minutes=30)

    outcome = flow.close(session, user=FACILITATOR, now=end)

    assert outcome.session.status is Status.CLOSED
    assert outcome.session.closed_at == end
    assert [(r.step_id, r.closed_at) for r in outcome.session.runs] == [("account", end)]
    assert outcome.effects == (SessionClosed(),)


def test_a_paused_session_can_be_closed(session, t0):
    paused = flow.pause(session, user=FACILITATOR).session

    assert flow.close(paused, user=FACILITATOR, now=t0).session.status is Status.CLOSED


def test_only_the_facilitator_can_close(session, t0):
    assert refused(flow.close, session, user=OWNER, now=t0).key == "rule.only_facilitator"


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(
            lambda s, t: flow.contribute(s, author="cem", ref="x", text="hi", now=t),
            id="contribute",
        ),
        pytest.param(lambda s, t: flow.advance(s, user=FACILITATOR, now=t), id="advance"),
        pytest.param(lambda s, t: flow.mark_ready(s, user="cem", now=t), id="ready"),
        pytest.param(
            lambda s, t: flow.edit(s, editor=OWNER, ref="m1", text="new", now=t), id="edit"
        ),
        pytest.param(
            lambda s, t: flow.react(s, user="cem", step_id="account", target="p", emoji="heart"),
            id="react",
        ),
        pytest.param(
            lambda s, t: flow.unreact(s, user="cem", step_id="account", target="p", emoji="heart"),
            id="unreact",
        ),
        pytest.param(lambda s, t: flow.pause(s, user=FACILITATOR), id="pause"),
        pytest.param(lambda s, t: flow.close(s, user=FACILITATOR, now=t), id="close"),
    ],
)
def test_closed_session_refuses_every_change_but_withdrawal(session, t0, attempt):
    session = reply(session, OWNER, "m1").session
    closed = flow.close(session, user=FACILITATOR, now=t0).session

    assert refused(attempt, closed, t0).key == "rule.closed"


# --- deadlines ---------------------------------------------------------------------------------


def test_deadline_of_the_current_step_moves_the_session_on(start_session, t0):
    session = start_session(mode=Mode.ASYNC)
    due = session.current_run.deadline

    outcome = flow.deadline_passed(session, step_id="account", now=due)

    assert outcome.session.current_run.step_id == "questions"
    assert outcome.session.runs[0].closed_at == due
    assert outcome.effects == (StepOpened("questions", due + timedelta(hours=24)),)


def test_deadline_of_a_step_already_left_changes_nothing(start_session, t0):
    session = flow.advance(start_session(mode=Mode.ASYNC), user=FACILITATOR, now=t0).session

    outcome = flow.deadline_passed(session, step_id="account", now=t0 + timedelta(hours=12))

    assert outcome.session == session
    assert outcome.effects == ()


def test_deadline_while_paused_changes_nothing(start_session, t0):
    session = flow.pause(start_session(mode=Mode.ASYNC), user=FACILITATOR).session

    outcome = flow.deadline_passed(session, step_id="account", now=t0 + timedelta(hours=12))

    assert outcome.session == session


def test_deadline_after_the_session_closed_changes_nothing(start_session, t0):
    session = flow.close(start_session(mode=Mode.ASYNC), user=FACILITATOR, now=t0).session

    outcome = flow.deadline_passed(session, step_id="account", now=t0 + timedelta(hours=12))

    assert outcome.session == session


def test_deadline_of_the_last_step_closes_the_session(start_session, goto, t0):
    session = goto(start_session(mode=Mode.ASYNC), "actions")
    due = session.current_run.deadline

    outcome = flow.deadline_passed(session, step_id="actions", now=due)

    assert outcome.session.status is Status.CLOSED
    assert outcome.session.closed_at == due
    assert outcome.effects == (SessionClosed(),)


# --- refusals leave the session as it was ------------------------------------------------------


def test_a_refused_transition_leaves_the_session_unchanged(session, goto, t0):
    session = goto(session, "questions")
    session = reply(session, "cem", "m1", "first").session
    snapshot = copy.deepcopy(session)

    for attempt in (
        lambda: reply(session, "cem", "m2", "second"),
        lambda: flow.edit(session, editor="dee", ref="m1", text="hijack", now=t0),
        lambda: flow.withdraw(session, user="dee", ref="m1"),
        lambda: flow.advance(session, user="dee", now=t0),
        lambda: flow.resume(session, user=FACILITATOR),
    ):
        with pytest.raises(RuleViolation):
            attempt()

    assert session == snapshot
    assert session.contributions_in("questions")[0].text == "first"
    assert session.current_run.step_id == "questions"
