"""Domain: the session record (the IMS *Prozessdokumentation*), built from a session.

Per step: the counted contributions in the order they were written (named, or without
names when the group chose that), the reaction tallies with their meanings, the vote
results, and for action steps the individual and team actions. Withdrawn contributions,
and those the privacy guard holds back, never appear; a step the method marks anonymous
names nobody.
Reaction and vote tallies are shown only when at least ``MIN_TALLY_PEOPLE`` people took
part in them: with fewer, a count would tell who chose what.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from bot.flows.method import InputKind
from bot.flows.session import Session

TEAM_PREFIXES = ("team:", "team -", "wij:", "wir:", "we:")
MIN_TALLY_PEOPLE = 3


@dataclass(frozen=True)
class Entry:
    author: str | None
    text: str


@dataclass(frozen=True)
class Tally:
    emoji: str
    meaning: str | None
    count: int


@dataclass(frozen=True)
class StepRecord:
    number: int
    step_id: str
    title: str
    entries: tuple[Entry, ...]
    tallies: tuple[Tally, ...]
    votes: tuple[Tally, ...]
    individual_actions: tuple[Entry, ...]
    team_actions: tuple[Entry, ...]
    reached: bool
    tallies_hidden: bool = False  # fewer than MIN_TALLY_PEOPLE reacted or voted


@dataclass(frozen=True)
class Record:
    session_id: str
    method_name: str
    language: str
    case_owner: str | None
    facilitator: str | None
    participants: int
    started_at: datetime
    closed_at: datetime | None
    steps: tuple[StepRecord, ...]
    approved_at: datetime | None = None


def is_team_action(text: str) -> bool:
    """An action reply that starts with ``team:`` (or ``wij:``/``wir:``/``we:``) is for the team."""
    return text.strip().lower().startswith(TEAM_PREFIXES)


def _strip_prefix(text: str) -> str:
    stripped = text.strip()
    for prefix in TEAM_PREFIXES:
        if stripped.lower().startswith(prefix):
            return stripped[len(prefix) :].strip()
    return stripped


def build_record(
    session: Session, language: str | None = None, *, min_tally_people: int = MIN_TALLY_PEOPLE
) -> Record:
    """Assemble the record of a session in ``language`` (default: the session's).

    Raises:
        ValueError: ``session`` was loaded in part (``Session.partial``).
    """
    session.require_whole()
    lang = language or session.language
    reached = {run.step_id for run in session.runs}
    named = session.named_record
    steps = []
    for number, step in enumerate(session.method.steps, start=1):
        # in the order they were written (the platform's time), not the order they arrived
        counted = sorted(
            (c for c in session.contributions_in(step.id) if c.counts), key=lambda c: c.at
        )
        names = named and not step.anonymous
        entries = tuple(Entry(c.author if names else None, c.text) for c in counted)
        individual: tuple[Entry, ...] = ()
        team: tuple[Entry, ...] = ()
        if step.input is InputKind.ACTIONS:
            individual = tuple(e for e in entries if not is_team_action(e.text))
            team = tuple(
                Entry(e.author, _strip_prefix(e.text)) for e in entries if is_team_action(e.text)
            )
            entries = ()
        tallies = _reaction_tallies(session, step.id, lang)
        votes = _vote_tallies(session, step.id, lang)
        hidden = _people_in_tallies(session, step.id) < min_tally_people and bool(tallies or votes)
        steps.append(
            StepRecord(
                number=number,
                step_id=step.id,
                title=step.title[lang],
                entries=entries,
                tallies=() if hidden else tallies,
                votes=() if hidden else votes,
                individual_actions=individual,
                team_actions=team,
                reached=step.id in reached,
                tallies_hidden=hidden,
            )
        )
    return Record(
        session_id=session.id,
        method_name=session.method.names[lang],
        language=lang,
        case_owner=session.case_owner if named else None,
        facilitator=session.facilitator if named else None,
        participants=len(session.members()),
        started_at=session.started_at,
        closed_at=session.closed_at,
        steps=tuple(steps),
        approved_at=session.approved_at,
    )


def _people_in_tallies(session: Session, step_id: str) -> int:
    """How many different people reacted or voted in a step."""
    people = {r.user for r in session.reactions if r.step_id == step_id}
    people |= {v.user for v in session.votes if v.step_id == step_id}
    return len(people)


def _reaction_tallies(session: Session, step_id: str, lang: str) -> tuple[Tally, ...]:
    counts = Counter(r.emoji for r in session.reactions if r.step_id == step_id)
    tallies = []
    for emoji, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        meaning = session.method.meaning_of(step_id, emoji)
        tallies.append(Tally(emoji, meaning[lang] if meaning else None, count))
    return tuple(tallies)


def _vote_tallies(session: Session, step_id: str, lang: str) -> tuple[Tally, ...]:
    step = session.method.step(step_id)
    if step.input is not InputKind.VOTE:
        return ()
    counts = Counter(v.option for v in session.votes if v.step_id == step_id)
    return tuple(Tally(o.emoji, o.label[lang], counts[o.key]) for o in step.options)
