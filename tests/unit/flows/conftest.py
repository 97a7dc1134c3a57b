"""Small methods and sessions built in code, so the flow tests never depend on the YAML catalogue.

Everything a test needs comes in as a fixture (tests do not import helper modules).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.flows import session as flow
from bot.flows.method import (
    AdvanceRule,
    InputKind,
    Media,
    Method,
    ReactionMeaning,
    Role,
    Speakers,
    Step,
    Text,
    VoteOption,
)
from bot.flows.session import Mode, Session

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)

OWNER = "ana"
FACILITATOR = "ben"
GROUP = ("cem", "dee", "eli")
OUTSIDER = "zoe"


def text(en: str) -> Text:
    """The same text in every language, marked so a test can see which one was used."""
    return {"en": en, "nl": f"nl:{en}", "de": f"de:{en}"}


def make_step(
    step_id: str,
    *,
    speakers: Speakers = Speakers.EVERYONE,
    input: InputKind = InputKind.FREE,
    sync_minutes: int = 10,
    async_hours: int = 24,
    **kwargs: Any,
) -> Step:
    return Step(
        id=step_id,
        title=text(f"Title {step_id}"),
        instruction=text(f"Do {step_id}"),
        speakers=speakers,
        input=input,
        sync_minutes=sync_minutes,
        async_hours=async_hours,
        **kwargs,
    )


def make_method(*steps: Step, reactions: tuple[ReactionMeaning, ...] = ()) -> Method:
    return Method(
        id="test",
        names=text("Test method"),
        summary=text("A method for tests"),
        source="tests",
        steps=steps,
        reactions=reactions,
    )


# The standard method: one step of each kind the state machine treats differently.
BRAINSTORM = VoteOption("brainstorm", "bulb", text("Brainstorming"))
ADVICE = VoteOption("advice", "speech_balloon", text("Good advice"))
FEAR = ReactionMeaning("scream", text("fear"))
UNCERTAINTY = ReactionMeaning("thinking_face", text("uncertainty"))
RESISTANCE = ReactionMeaning("no_entry", text("resistance"))
WORRIES = ReactionMeaning("worried", text("worries"))
APPRECIATION = ReactionMeaning("heart", text("appreciation"))  # method-wide


def standard_method() -> Method:
    return make_method(
        # 1. the case owner tells the case
        make_step("account", speakers=Speakers.CASE_OWNER, async_hours=12),
        # 2. one question per person; moves on when a majority is ready
        make_step(
            "questions",
            speakers=Speakers.EVERYONE,
            input=InputKind.ONE_PER_PERSON,
            advance=AdvanceRule.MAJORITY_READY,
            async_hours=24,
        ),
        # 3. the group hypothesises while the case owner only listens
        make_step(
            "hypotheses",
            speakers=Speakers.GROUP,
            silent=frozenset({Role.CASE_OWNER}),
            advance=AdvanceRule.ALL_READY,
            async_hours=36,
        ),
        # 4. the group chooses how to go on
        make_step(
            "choose",
            speakers=Speakers.EVERYONE,
            input=InputKind.VOTE,
            options=(BRAINSTORM, ADVICE),
            async_hours=6,
        ),
        # 5. discomfort named with emoji reactions
        make_step(
            "discomfort",
            speakers=Speakers.EVERYONE,
            input=InputKind.REACTIONS,
            reactions=(FEAR, UNCERTAINTY, RESISTANCE, WORRIES),
            async_hours=48,
        ),
        # 6. a video to watch, nothing to reply
        make_step(
            "video",
            speakers=Speakers.FACILITATOR,
            input=InputKind.NONE,
            media=(Media("https://example.org/video", text("Courage"), "video"),),
            async_hours=24,
        ),
        # 7. what each person and the team will do
        make_step("actions", speakers=Speakers.EVERYONE, input=InputKind.ACTIONS, async_hours=72),
        reactions=(APPRECIATION,),
    )


class Goto:
    """Advance a session (as its facilitator) until ``step_id`` is the current step."""

    def __call__(self, session: Session, step_id: str, *, now: datetime = T0) -> Session:
        while session.current_run.step_id != step_id:
            session = flow.advance(session, user=session.facilitator, now=now).session
        return session


@pytest.fixture(scope="session")
def t0() -> datetime:
    return T0


@pytest.fixture(scope="session")
def method() -> Method:
    return standard_method()


@pytest.fixture(scope="session")
def build_step() -> Callable[..., Step]:
    return make_step


@pytest.fixture(scope="session")
def build_method() -> Callable[..., Method]:
    return make_method


@pytest.fixture(scope="session")
def start_session(method: Method) -> Callable[..., Session]:
    """Start a session; defaults: the standard method, synchronous, a closed group of five."""

    def _start(
        chosen: Method | None = None,
        *,
        participants: tuple[str, ...] = GROUP,
        mode: Mode = Mode.SYNC,
        now: datetime = T0,
        **kwargs: Any,
    ) -> Session:
        return flow.start(
            "s1",
            chosen or method,
            case_owner=OWNER,
            facilitator=FACILITATOR,
            participants=participants,
            mode=mode,
            now=now,
            **kwargs,
        ).session

    return _start


@pytest.fixture
def session(start_session: Callable[..., Session]) -> Session:
    """A running synchronous session of the standard method, on its first step."""
    return start_session()


@pytest.fixture(scope="session")
def goto() -> Goto:
    return Goto()
