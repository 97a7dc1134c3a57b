"""Properties of the session state machine under random sequences of operations.

Any mix of replies (by members and outsiders, with new and repeated refs), edits,
withdrawals, reactions, ready marks, advances by anyone, pauses, resumes, closes and
deadlines is applied to a started session of the standard method (conftest.py). A
refused operation must leave the session as it was; after every operation the
invariants below hold and the record can be built.
"""

from __future__ import annotations

import copy
from collections import Counter
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows import session as flow
from bot.flows.method import InputKind, Method
from bot.flows.record import Record, build_record, is_team_action
from bot.flows.session import Mode, RuleViolation, Session, Status

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
OWNER, FACILITATOR = "ana", "ben"
GROUP = ("cem", "dee", "eli")
OUTSIDERS = ("zoe", "yan")
PEOPLE = (OWNER, FACILITATOR, *GROUP, *OUTSIDERS)
REFS = tuple(f"m{n}" for n in range(6))
TARGETS = ("post", *REFS[:3])
EMOJI = ("bulb", "speech_balloon", "scream", "worried", "heart", "tada")
# what a reply says: a vote answer, nonsense, or a text unique to the operation
ANSWERS = ("1", "2", "advice", "bulb", "nonsense", "free", "free", "team")

AUTHOR = "<author>"  # resolved when applied: whoever wrote the reply with that ref

people = st.sampled_from(PEOPLE)
# edits and withdrawals mostly by the author, sometimes by anyone
editors = st.one_of(st.just(AUTHOR), people)
# the facilitator more often than chance, so sessions get somewhere
movers = st.one_of(st.just(FACILITATOR), people)


# how often each kind of operation is drawn: replies and moving on are common, closing is rare
WEIGHTS = {
    "contribute": 6,
    "advance": 5,
    "react": 3,
    "ready": 3,
    "withdraw": 2,
    "edit": 1,
    "unreact": 1,
    "deadline": 2,
    "pause": 1,
    "resume": 2,
    "close": 1,
}


def operations(step_count: int) -> st.SearchStrategy[tuple]:
    steps = st.integers(0, step_count - 1)
    refs = st.sampled_from(REFS)
    emoji = st.sampled_from(EMOJI)
    targets = st.sampled_from(TARGETS)
    arguments = {
        "contribute": st.tuples(people, refs, st.sampled_from(ANSWERS)),
        "advance": st.tuples(movers),
        "react": st.tuples(people, steps, targets, emoji),
        "ready": st.tuples(people),
        "withdraw": st.tuples(editors, refs),
        "edit": st.tuples(editors, refs),
        "unreact": st.tuples(people, steps, targets, emoji),
        "deadline": st.tuples(steps),
        "pause": st.tuples(movers),
        "resume": st.tuples(movers),
        "close": st.tuples(movers),
    }
    kinds = st.sampled_from([kind for kind, weight in WEIGHTS.items() for _ in range(weight)])
    return kinds.flatmap(lambda kind: arguments[kind].map(lambda args: (kind, *args)))


def apply(session: Session, op: tuple, number: int) -> flow.Outcome:
    """Run one operation; ``number`` makes its time and any new text unique."""
    kind, *args = op
    now = T0 + timedelta(minutes=number)
    steps = session.method.steps
    if kind == "contribute":
        author, ref, answer = args
        text = {"free": f"said {number}", "team": f"team: planned {number}"}.get(answer, answer)
        return flow.contribute(session, author=author, ref=ref, text=text, now=now)
    if kind in ("edit", "withdraw"):
        user, ref = args
        if user == AUTHOR:
            found = session.contribution(ref)
            user = found.author if found else OWNER
        if kind == "edit":
            return flow.edit(session, editor=user, ref=ref, text=f"edited {number}", now=now)
        return flow.withdraw(session, user=user, ref=ref)
    if kind in ("react", "unreact"):
        user, index, target, emoji = args
        change = flow.react if kind == "react" else flow.unreact
        return change(session, user=user, step_id=steps[index].id, target=target, emoji=emoji)
    if kind == "ready":
        return flow.mark_ready(session, user=args[0], now=now)
    if kind == "advance":
        return flow.advance(session, user=args[0], now=now)
    if kind == "deadline":
        return flow.deadline_passed(session, step_id=steps[args[0]].id, now=now)
    if kind == "pause":
        return flow.pause(session, user=args[0])
    if kind == "resume":
        return flow.resume(session, user=args[0])
    assert kind == "close"
    return flow.close(session, user=args[0], now=now)


def check_what_the_operation_promised(before: Session, op: tuple, after: Session) -> None:
    kind, *args = op
    if kind == "contribute" and before.contribution(args[1]) is not None:
        assert after == before, "a ref seen before changes nothing"
    if kind == "deadline" and before.current_run.step_id != before.method.steps[args[0]].id:
        assert after == before, "the deadline of a step that is not current changes nothing"
    # the session moves on by at most one step, and what ran before stays as it was
    assert len(before.runs) <= len(after.runs) <= len(before.runs) + 1
    kept = [(run.step_id, run.opened_at, run.deadline) for run in after.runs[: len(before.runs)]]
    assert kept == [(run.step_id, run.opened_at, run.deadline) for run in before.runs]
    assert after.runs[: len(before.runs) - 1] == before.runs[:-1]
    status_after = {"pause": Status.PAUSED, "resume": Status.RUNNING, "close": Status.CLOSED}
    if kind in status_after:
        assert after.status is status_after[kind]
    elif kind in ("advance", "deadline", "ready"):
        assert after.status in (before.status, Status.CLOSED)
    else:
        assert after.status is before.status


def check_refusal(before: Session, op: tuple, violation: RuleViolation) -> None:
    kind, *args = op
    assert violation.key.startswith("rule."), violation.key
    if kind in ("advance", "pause", "resume", "close") and args[0] != FACILITATOR:
        assert violation.key == "rule.only_facilitator"
        assert violation.params == {"facilitator": FACILITATOR}


def check_invariants(session: Session, start: Session) -> None:
    method: Method = session.method
    order = [step.id for step in method.steps]
    runs = session.runs
    reached = {run.step_id for run in runs}

    # steps are run in the method's order, none skipped, none repeated
    assert [run.step_id for run in runs] == order[: len(runs)]
    # at most one run is open, and only the last
    assert all(run.closed_at is not None for run in runs[:-1])
    assert all(a.closed_at <= b.opened_at for a, b in pairwise(runs))
    # closed means a closing time and a closed last run; otherwise neither
    assert (session.status is Status.CLOSED) == (session.closed_at is not None)
    assert (runs[-1].closed_at is not None) == (session.status is Status.CLOSED)
    # deadlines only in asynchronous mode, counted from when the step opened
    for run in runs:
        if session.mode is Mode.SYNC:
            assert run.deadline is None
        else:
            hours = session.deadline_hours or method.step(run.step_id).async_hours
            assert run.deadline == run.opened_at + timedelta(hours=hours)

    # membership: roles stay apart, a closed group never grows
    assert OWNER not in session.participants
    assert FACILITATOR not in session.participants
    assert len(set(session.participants)) == len(session.participants)
    if not start.open_membership:
        assert session.participants == start.participants

    # contributions: unique refs, only in reached steps, counted only when in turn
    refs = [c.ref for c in session.contributions]
    assert len(refs) == len(set(refs))
    for c in session.contributions:
        assert c.step_id in reached
        step = method.step(c.step_id)
        if c.counted:
            role = session.role_of(c.author)
            assert role is not None
            assert not step.is_silent(role)
            assert step.input is not InputKind.NONE
            assert step.input is not InputKind.VOTE
    for step in method.steps:
        if step.input is InputKind.ONE_PER_PERSON:
            authors = Counter(c.author for c in session.contributions_in(step.id) if c.counted)
            assert all(n == 1 for n in authors.values()), authors

    # votes and reactions only in reached steps; one vote per person and step
    assert all(v.step_id in reached for v in session.votes)
    assert all(r.step_id in reached for r in session.reactions)
    ballots = Counter((v.step_id, v.user) for v in session.votes)
    assert all(n == 1 for n in ballots.values()), ballots
    for vote in session.votes:
        step = method.step(vote.step_id)
        assert vote.option in {o.key for o in step.options}
        role = session.role_of(vote.user)
        assert role is not None
        assert not step.is_silent(role)

    check_record(session, build_record(session))


def check_record(session: Session, record: Record) -> None:
    reached = [run.step_id for run in session.runs]
    assert [s.step_id for s in record.steps if s.reached] == reached
    assert all(s.step_id in reached for s in record.steps if s.entries or s.tallies)

    live = {c.text.strip() for c in session.contributions if c.counted and not c.withdrawn}
    live |= {t.split(":", 1)[1].strip() for t in live if is_team_action(t)}
    texts = {
        entry.text
        for step in record.steps
        for entry in (*step.entries, *step.individual_actions, *step.team_actions)
    }
    assert texts <= live | {c.text for c in session.contributions if c.counted and not c.withdrawn}
    for gone in (c for c in session.contributions if c.withdrawn):
        if gone.text.strip() not in live:
            assert gone.text not in texts
            assert gone.text.strip() not in texts
    if not session.named_record:
        assert record.case_owner is None
        assert record.facilitator is None
        assert all(
            entry.author is None
            for step in record.steps
            for entry in (*step.entries, *step.individual_actions, *step.team_actions)
        )


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_random_operations_keep_the_session_consistent(method: Method, data: st.DataObject):
    started = flow.start(
        "s1",
        method,
        case_owner=OWNER,
        facilitator=FACILITATOR,
        participants=data.draw(st.sampled_from([GROUP, ()]), label="participants"),
        mode=data.draw(st.sampled_from(Mode), label="mode"),
        deadline_hours=data.draw(st.one_of(st.none(), st.integers(1, 72)), label="deadline"),
        named_record=data.draw(st.booleans(), label="named"),
        now=T0,
    ).session
    ops = data.draw(st.lists(operations(len(method.steps)), min_size=20, max_size=60), label="ops")

    session = started
    check_invariants(session, started)
    for number, op in enumerate(ops, start=1):
        snapshot = copy.deepcopy(session)
        try:
            outcome = apply(session, op, number)
        except RuleViolation as violation:
            assert session == snapshot, f"refused {op} changed the session"
            check_refusal(session, op, violation)
            continue
        check_what_the_operation_promised(session, op, outcome.session)
        session = outcome.session
        check_invariants(session, started)


@settings(max_examples=100, deadline=None)
@given(
    facilitator_moves=st.lists(
        st.sampled_from(["advance", "deadline", "ready", "pause", "resume"]), max_size=60
    )
)
def test_the_session_only_ever_moves_forward_one_step_at_a_time(method, facilitator_moves):
    session = flow.start(
        "s1", method, case_owner=OWNER, facilitator=FACILITATOR, participants=GROUP, now=T0
    ).session
    visited = [session.current_run.step_id]
    for number, kind in enumerate(facilitator_moves, start=1):
        op = ("deadline", method.index_of(session.current_run.step_id))
        if kind != "deadline":
            op = (kind, FACILITATOR)
        try:
            outcome = apply(session, op, number)
        except RuleViolation:
            continue
        for effect in outcome.effects:
            if isinstance(effect, flow.StepOpened):
                visited.append(effect.step_id)
        session = outcome.session

    assert visited == [step.id for step in method.steps][: len(visited)]
    assert visited == [run.step_id for run in session.runs]
