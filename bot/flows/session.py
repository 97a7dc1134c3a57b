"""Domain: the session state machine. Pure: every transition takes the time as an argument.

A transition takes a ``Session`` and returns an ``Outcome``: the new session plus the
effects the use case must carry out (a step opened, a private notice, the session
closed). A refused transition raises ``RuleViolation`` and leaves the session as it was;
its ``key`` names the catalogue message that tells the person why.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from bot.flows.errors import KeyedError
from bot.flows.method import AdvanceRule, InputKind, Method, Role, Speakers, Step


class Status(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    CLOSED = "closed"


class Mode(StrEnum):
    SYNC = "sync"
    ASYNC = "async"


class RuleViolation(KeyedError):
    """A person asked for something the method or the session state does not allow."""


class SealedText(Protocol):
    """A text kept as it is stored (encrypted) until someone reads it.

    The storage hands these out so that applying an event decrypts nothing it does not
    read. It compares equal to its plain text.
    """

    def open(self) -> str:
        """The plain text (decrypted the first time it is asked for)."""
        ...


@dataclass(frozen=True)
class Contribution:
    """One reply in a step. ``ref`` is the platform's id of the message that carried it.

    ``body`` is the text as written, or as stored (``SealedText``); read it as ``text``.
    """

    ref: str
    step_id: str
    author: str
    body: str | SealedText
    at: datetime
    edited_at: datetime | None = None
    withdrawn: bool = False
    counted: bool = True  # False for replies kept but out of turn (a silent case owner)
    held: bool = False  # held back by the privacy guard until an edit without identifiers

    @property
    def text(self) -> str:
        """What was written; a stored text is decrypted here, where it is read."""
        return self.body if isinstance(self.body, str) else self.body.open()

    @property
    def counts(self) -> bool:
        """True when the contribution is in the count and the record."""
        return self.counted and not self.held and not self.withdrawn


@dataclass(frozen=True)
class Reaction:
    step_id: str
    target: str
    emoji: str
    user: str


@dataclass(frozen=True)
class Vote:
    step_id: str
    user: str
    option: str


@dataclass(frozen=True)
class StepRun:
    step_id: str
    opened_at: datetime
    deadline: datetime | None = None
    closed_at: datetime | None = None
    ready: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Session:
    id: str
    method: Method
    case_owner: str
    facilitator: str
    participants: tuple[str, ...]
    mode: Mode
    language: str
    started_at: datetime
    runs: tuple[StepRun, ...]
    status: Status = Status.RUNNING
    named_record: bool = True
    open_membership: bool = False
    deadline_hours: int | None = None
    contributions: tuple[Contribution, ...] = ()
    reactions: frozenset[Reaction] = frozenset()
    votes: tuple[Vote, ...] = ()
    closed_at: datetime | None = None
    approved_at: datetime | None = None  # the case owner approved the record
    # Only some contributions, reactions and votes are here: those one event's rules read
    # (the actor's in the current step, the message named). Enough to apply a reply, an
    # edit or a reaction; a count or a record needs the whole session.
    partial: bool = False

    @property
    def current_run(self) -> StepRun:
        return self.runs[-1]

    @property
    def current_step(self) -> Step:
        return self.method.step(self.current_run.step_id)

    @property
    def step_number(self) -> int:
        return self.method.index_of(self.current_run.step_id) + 1

    def role_of(self, user: str) -> Role | None:
        if user == self.case_owner:
            return Role.CASE_OWNER
        if user == self.facilitator:
            return Role.FACILITATOR
        if user in self.participants:
            return Role.GROUP
        return None

    def members(self) -> tuple[str, ...]:
        others = tuple(p for p in self.participants if p not in (self.case_owner, self.facilitator))
        return (self.case_owner, self.facilitator, *others)

    def expected_speakers(self, step: Step | None = None) -> frozenset[str]:
        """Who is asked to contribute in a step: its speakers, less anyone the step keeps silent."""
        step = step or self.current_step
        group = {self.facilitator, *self.participants} - {self.case_owner}
        by_speakers = {
            Speakers.CASE_OWNER: {self.case_owner},
            Speakers.FACILITATOR: {self.facilitator},
            Speakers.GROUP: group,
            Speakers.EVERYONE: set(self.members()),
        }[step.speakers]
        return frozenset(u for u in by_speakers if not step.is_silent(self._role(u)))

    def contributions_in(
        self, step_id: str, *, include_withdrawn: bool = False
    ) -> list[Contribution]:
        return [
            c
            for c in self.contributions
            if c.step_id == step_id and (include_withdrawn or not c.withdrawn)
        ]

    def contributors(self, step_id: str) -> frozenset[str]:
        """People who have taken part in a step: a counted reply, a vote, or a reaction."""
        self.require_whole()
        people = {c.author for c in self.contributions_in(step_id) if c.counts}
        people |= {v.user for v in self.votes if v.step_id == step_id}
        if self.method.step(step_id).input is InputKind.REACTIONS:
            people |= {r.user for r in self.reactions if r.step_id == step_id}
        return frozenset(people)

    def contribution(self, ref: str) -> Contribution | None:
        return next((c for c in self.contributions if c.ref == ref), None)

    def require_whole(self) -> None:
        """Refuse to count or record from a partial session (it would miss people)."""
        if self.partial:
            raise ValueError(f"session {self.id} was loaded in part; load it whole to read it")

    def _role(self, user: str) -> Role:
        return self.role_of(user) or Role.GROUP


# Effects a transition asks the use case to carry out.


@dataclass(frozen=True)
class StepOpened:
    step_id: str
    deadline: datetime | None


@dataclass(frozen=True)
class SessionClosed:
    pass


@dataclass(frozen=True)
class SessionPaused:
    pass


@dataclass(frozen=True)
class SessionResumed:
    pass


@dataclass(frozen=True)
class StepRevealed:
    """A step that collected contributions privately closed: reveal them together."""

    step_id: str


@dataclass(frozen=True)
class RecordApproved:
    """The case owner approved the record: it may be posted and exported now."""


@dataclass(frozen=True)
class Notice:
    """A private message to one person, by catalogue key."""

    to: str
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


Effect = (
    StepOpened
    | SessionClosed
    | SessionPaused
    | SessionResumed
    | Notice
    | StepRevealed
    | RecordApproved
)


@dataclass(frozen=True)
class Outcome:
    session: Session
    effects: tuple[Effect, ...] = ()


def start(
    session_id: str,
    method: Method,
    *,
    case_owner: str,
    facilitator: str,
    participants: tuple[str, ...] = (),
    mode: Mode = Mode.SYNC,
    language: str = "en",
    now: datetime,
    named_record: bool = True,
    deadline_hours: int | None = None,
) -> Outcome:
    """Open a session on the method's first step.

    With no participants named the session is open: anyone who replies joins the group.

    Raises:
        RuleViolation: ``rule.owner_is_facilitator`` when one person holds both roles.
    """
    if case_owner == facilitator:
        raise RuleViolation("rule.owner_is_facilitator")
    members = tuple(dict.fromkeys(p for p in participants if p not in (case_owner, facilitator)))
    first = method.steps[0]
    session = Session(
        id=session_id,
        method=method,
        case_owner=case_owner,
        facilitator=facilitator,
        participants=members,
        mode=mode,
        language=language,
        started_at=now,
        named_record=named_record,
        open_membership=not members,
        deadline_hours=deadline_hours,
        runs=(),
    )
    run = StepRun(first.id, now, _deadline(session, first, now))
    session = replace(session, runs=(run,))
    return Outcome(session, (StepOpened(first.id, run.deadline),))


def contribute(
    session: Session,
    *,
    author: str,
    ref: str,
    text: str,
    now: datetime,
    held: bool = False,
    private: bool = False,
) -> Outcome:
    """Record a reply to the current step.

    ``held``: the privacy guard holds it back (kept, not counted, until an edit without
    identifiers). ``private``: it came privately (a direct message), which a step that
    collects privately requires and every other step refuses.

    Rules: a reply to a closed session is refused, and so is one that shows nothing
    (``is_blank``); a case owner in a step that keeps them silent is kept but not counted,
    and told (in a step that collects privately, where such a reply would never be seen, it
    is filed under their next step with the floor instead); a second reply in a
    one-per-person step is refused; in a vote step the reply must name an option;
    someone outside a closed group is kept but not counted, and told (in a vote step
    too: such a reply is not a vote). A ``ref`` seen before changes nothing (the
    platform delivered the same message twice).
    """
    _require_open(session)
    if session.contribution(ref) is not None:
        return Outcome(session)
    if is_blank(text):
        raise RuleViolation("rule.blank")
    step = session.current_step
    if step.private and not private:
        raise RuleViolation("rule.private_step")
    if private and not step.private:
        raise RuleViolation("rule.not_private_step")
    session, joined = _join_if_open(session, author)
    welcome: tuple[Effect, ...] = (Notice(author, "session.joined"),) if joined else ()
    role = session.role_of(author)
    if step.private and role is not None and step.is_silent(role):
        reply = Contribution(ref, step.id, author, text, now, held=held)
        return _keep_for_next_turn(session, reply, welcome)
    notice = _out_of_turn(session, step, author)
    if notice is None and step.input is InputKind.VOTE:
        option = step.option_for(text)
        if option is None:
            raise RuleViolation("rule.vote_unknown", options=_option_list(step, session.language))
        return Outcome(_cast_vote(session, step.id, author, option.key), welcome)
    if (
        notice is None
        and step.input is InputKind.ONE_PER_PERSON
        and any(c.author == author and c.counted for c in session.contributions_in(step.id))
    ):
        raise RuleViolation("rule.one_per_person")

    contribution = Contribution(ref, step.id, author, text, now, counted=notice is None, held=held)
    session = replace(session, contributions=(*session.contributions, contribution))
    effects: tuple[Effect, ...] = (notice,) if notice else ()
    return Outcome(session, (*effects, *welcome))


def edit(
    session: Session, *, editor: str, ref: str, text: str, now: datetime, held: bool = False
) -> Outcome:
    """Replace the text of one's own contribution. Unknown refs change nothing.

    ``held`` is the privacy guard's verdict on the new text: an edit without
    identifiers releases a held contribution, one with identifiers holds it.
    """
    _require_open(session)
    found = session.contribution(ref)
    if found is None or found.withdrawn:
        return Outcome(session)
    if found.author != editor:
        raise RuleViolation("rule.not_your_contribution")
    if is_blank(text):
        raise RuleViolation("rule.blank")
    if found.text == text and found.held == held:
        return Outcome(session)
    changed = replace(found, body=text, edited_at=now, held=held)
    return Outcome(_replace_contribution(session, changed))


def withdraw(session: Session, *, user: str, ref: str) -> Outcome:
    """Withdraw one's own contribution; it leaves the count and the record, and its text is
    dropped (only the fact that something was withdrawn remains).

    Possible until the case owner approved the record (after that: ``record.approved``).
    """
    found = session.contribution(ref)
    if found is None or found.withdrawn:
        return Outcome(session)
    if found.author != user:
        raise RuleViolation("rule.not_your_contribution")
    if session.approved_at is not None:
        raise RuleViolation("record.approved")
    return Outcome(_replace_contribution(session, replace(found, withdrawn=True, body="")))


def react(session: Session, *, user: str, step_id: str, target: str, emoji: str) -> Outcome:
    """Count an emoji reaction on a step post or contribution.

    In a vote step a reaction with an option's emoji is that person's vote (not for
    someone whose reply would not count there: they are told instead). Reacting twice
    with the same emoji on the same message counts once. A step not opened yet has no
    message to react to: such a reaction changes nothing.
    """
    _require_open(session)
    if all(run.step_id != step_id for run in session.runs):
        return Outcome(session)  # a step not opened yet has no post to react to
    step = session.method.step(step_id)
    session, _ = _join_if_open(session, user)
    if step.input is InputKind.VOTE:
        option = step.option_for(emoji)
        if option is not None:
            notice = _out_of_turn(session, step, user)
            if notice is not None:
                return Outcome(session, (notice,))
            return Outcome(_cast_vote(session, step_id, user, option.key))
    reaction = Reaction(step_id, target, emoji, user)
    return Outcome(replace(session, reactions=session.reactions | {reaction}))


def unreact(session: Session, *, user: str, step_id: str, target: str, emoji: str) -> Outcome:
    """Take back a reaction (or the vote it cast)."""
    _require_open(session)
    step = session.method.step(step_id)
    option = step.option_for(emoji) if step.input is InputKind.VOTE else None
    if option is not None:
        votes = tuple(
            v
            for v in session.votes
            if not (v.step_id == step_id and v.user == user and v.option == option.key)
        )
        return Outcome(replace(session, votes=votes))
    reaction = Reaction(step_id, target, emoji, user)
    return Outcome(replace(session, reactions=session.reactions - {reaction}))


def mark_ready(session: Session, *, user: str, now: datetime) -> Outcome:
    """Say one is done with the current step; may move the session on.

    When the step's rule is ``all_ready`` or ``majority_ready`` and enough of the
    people asked to speak are ready, the next step opens (or the session closes).
    """
    _require_running(session)
    run = session.current_run
    if user in run.ready:
        return Outcome(session)
    session = _replace_run(session, replace(run, ready=run.ready | {user}))
    if _quorum_ready(session):
        return _move_on(session, now)
    return Outcome(session)


def advance(session: Session, *, user: str, now: datetime) -> Outcome:
    """Move to the next step on the facilitator's word; after the last step, close.

    Raises:
        RuleViolation: ``rule.only_facilitator`` for anyone else; ``rule.paused`` while paused.
    """
    _require_facilitator(session, user)
    _require_running(session)
    return _move_on(session, now)


def deadline_passed(session: Session, *, step_id: str, now: datetime) -> Outcome:
    """The deadline of ``step_id`` passed: move on if that step is still current."""
    if session.status is not Status.RUNNING or session.current_run.step_id != step_id:
        return Outcome(session)
    return _move_on(session, now)


def pause(session: Session, *, user: str) -> Outcome:
    _require_facilitator(session, user)
    _require_running(session)
    return Outcome(replace(session, status=Status.PAUSED), (SessionPaused(),))


def resume(session: Session, *, user: str) -> Outcome:
    _require_facilitator(session, user)
    if session.status is not Status.PAUSED:
        raise RuleViolation("rule.not_paused")
    return Outcome(replace(session, status=Status.RUNNING), (SessionResumed(),))


def close(session: Session, *, user: str, now: datetime) -> Outcome:
    """Close the session early (or on time); the record is written from what is there."""
    _require_facilitator(session, user)
    _require_open(session)
    return _close(session, now)


def approve(session: Session, *, user: str, now: datetime) -> Outcome:
    """The case owner approves the record of a closed session; approving twice changes nothing.

    Raises:
        RuleViolation: ``record.only_case_owner`` for anyone else; ``record.not_closed``
            while the session runs.
    """
    if user != session.case_owner:
        raise RuleViolation("record.only_case_owner")
    if session.status is not Status.CLOSED:
        raise RuleViolation("record.not_closed")
    if session.approved_at is not None:
        return Outcome(session)
    return Outcome(replace(session, approved_at=now), (RecordApproved(),))


def _move_on(session: Session, now: datetime) -> Outcome:
    following = session.method.next_step(session.current_run.step_id)
    if following is None:
        return _close(session, now)
    revealed = _reveal(session)
    closed = replace(session.current_run, closed_at=now)
    opened = StepRun(following.id, now, _deadline(session, following, now))
    session = replace(session, runs=(*session.runs[:-1], closed, opened))
    return Outcome(session, (*revealed, StepOpened(following.id, opened.deadline)))


def _close(session: Session, now: datetime) -> Outcome:
    revealed = _reveal(session)
    last = replace(session.current_run, closed_at=now)
    session = replace(session, runs=(*session.runs[:-1], last), status=Status.CLOSED, closed_at=now)
    return Outcome(session, (*revealed, SessionClosed()))


def _reveal(session: Session) -> tuple[Effect, ...]:
    """The reveal of the current step, when it collected privately."""
    step = session.current_step
    return (StepRevealed(step.id),) if step.private else ()


def _deadline(session: Session, step: Step, now: datetime) -> datetime | None:
    if session.mode is not Mode.ASYNC:
        return None
    return now + timedelta(hours=session.deadline_hours or step.async_hours)


def _quorum_ready(session: Session) -> bool:
    step = session.current_step
    expected = session.expected_speakers(step)
    ready = session.current_run.ready & expected
    if step.advance is AdvanceRule.ALL_READY:
        return bool(expected) and ready == expected
    if step.advance is AdvanceRule.MAJORITY_READY:
        return len(ready) * 2 > len(expected)
    return False


def _out_of_turn(session: Session, step: Step, user: str) -> Notice | None:
    """Why a reply or vote from ``user`` in ``step`` is kept but not counted, if it is."""
    role = session.role_of(user)
    if role is None:
        return Notice(user, "rule.not_a_member")
    if step.is_silent(role):
        return Notice(user, "rule.silent", {"role": role.value})
    if step.input is InputKind.NONE:
        return Notice(user, "rule.no_input")
    return None


# Characters that show nothing: Unicode letters of a blank look (Hangul fillers, the blank
# braille pattern). Format characters (zero-width spaces and joiners, the byte-order mark)
# and white space are found by category.
_BLANK_LOOKING = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only white space, zero-width and other invisible
    characters. Such a reply is no contribution."""
    return all(
        ch.isspace() or ch in _BLANK_LOOKING or unicodedata.category(ch) in ("Cf", "Cc", "Zs")
        for ch in text
    )


def _keep_for_next_turn(
    session: Session, reply: Contribution, welcome: tuple[Effect, ...]
) -> Outcome:
    """A private reply from someone the step keeps listening would never be revealed (the
    step reveals only what counts): it is filed under their next step with the floor, where
    the method says their words belong, and counts there."""
    later = _next_turn(session, reply.author)
    if later is None:
        raise RuleViolation("rule.silent_no_turn")
    kept = replace(reply, step_id=later.id)
    notice = Notice(
        reply.author,
        "private.kept_for_turn",
        {
            "number": session.method.index_of(later.id) + 1,
            "title": later.title[session.language],
            "ref": reply.ref,
        },
    )
    session = replace(session, contributions=(*session.contributions, kept))
    return Outcome(session, (notice, *welcome))


def _next_turn(session: Session, user: str) -> Step | None:
    """The first step after the current one where ``user`` is asked to write."""
    steps = session.method.steps
    after = steps[session.method.index_of(session.current_step.id) + 1 :]
    writes = (InputKind.FREE, InputKind.ONE_PER_PERSON)
    return next(
        (s for s in after if s.input in writes and user in session.expected_speakers(s)), None
    )


def _join_if_open(session: Session, user: str) -> tuple[Session, bool]:
    if not session.open_membership or session.role_of(user) is not None:
        return session, False
    return replace(session, participants=(*session.participants, user)), True


def _cast_vote(session: Session, step_id: str, user: str, option: str) -> Session:
    """One vote per person and step: a new vote replaces the old."""
    votes = tuple(v for v in session.votes if not (v.step_id == step_id and v.user == user))
    return replace(session, votes=(*votes, Vote(step_id, user, option)))


def _option_list(step: Step, language: str) -> str:
    return ", ".join(
        f"{number} = {option.label[language]}" for number, option in enumerate(step.options, 1)
    )


def _replace_contribution(session: Session, new: Contribution) -> Session:
    contributions = tuple(new if c.ref == new.ref else c for c in session.contributions)
    return replace(session, contributions=contributions)


def _replace_run(session: Session, run: StepRun) -> Session:
    return replace(session, runs=(*session.runs[:-1], run))


def _require_open(session: Session) -> None:
    if session.status is Status.CLOSED:
        raise RuleViolation("rule.closed")


def _require_running(session: Session) -> None:
    _require_open(session)
    if session.status is Status.PAUSED:
        raise RuleViolation("rule.paused")


def _require_facilitator(session: Session, user: str) -> None:
    if user != session.facilitator:
        raise RuleViolation("rule.only_facilitator", facilitator=session.facilitator)
