"""Neutral messages as Adaptive Cards (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.messages import AnchorView, Choice, StepPost
from bot.platforms.teams import render

NAMES = {"29:anna": "Anna", "29:ben": "Ben"}


def _anchor(**changes: object) -> AnchorView:
    values: dict[str, object] = {
        "session_id": "s1",
        "language": "en",
        "method_name": "IMS",
        "case_owner": "29:anna",
        "facilitator": "29:ben",
        "step_number": 2,
        "step_count": 6,
        "step_title": "Questions",
        "status": "running",
    }
    values.update(changes)
    return AnchorView(**values)  # type: ignore[arg-type]


def test_the_anchor_mentions_owner_and_facilitator_with_entities() -> None:
    message = render.render_anchor(_anchor(), NAMES.get)

    entities = message.card["msteams"]["entities"]
    assert {e["mentioned"]["id"] for e in entities} == {"29:anna", "29:ben"}
    assert "<at>Anna</at>" in render.plain(message)


def test_a_paused_anchor_has_a_resume_button_carrying_the_session() -> None:
    message = render.render_anchor(_anchor(status="paused"), NAMES.get)

    (action,) = message.card["actions"]
    assert action["data"] == {"intervision": "resume", "session": "s1"}


def test_user_text_cannot_mention_or_inject_markup() -> None:
    (message,) = render.render_text("Hi <at>Anna</at> <img src=x>")

    text = render.plain(message)
    assert "<at>" not in text
    assert "<img" not in text
    assert "entities" not in message.card["msteams"]


def test_a_deadline_is_shown_in_the_readers_time_zone() -> None:
    moment = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    message = render.render_anchor(_anchor(deadline=moment), NAMES.get)

    assert "{{DATE(2026-11-23T09:30:00Z, SHORT)}}" in render.plain(message)


def test_long_text_is_split_over_cards_and_nothing_is_lost() -> None:
    value = "\n".join(f"line {n} " + "x" * 90 for n in range(600))

    messages = render.render_text(value)

    assert len(messages) > 1
    joined = "\n".join(render.plain(m) for m in messages)
    assert joined.count("line ") == 600


def test_a_step_has_ready_next_and_pause_buttons() -> None:
    post = StepPost("s1", "en", "st1", 1, 6, "Intake", "Tell the case", "Anna", "others", "")

    (message,) = render.render_step(post)

    verbs = [a["data"]["intervision"] for a in message.card["actions"]]
    assert verbs == ["ready", "next", "pause"]


def test_emoji_short_names_in_bot_text_are_shown_as_emoji() -> None:
    (message,) = render.render_text(
        "- :fearful: (fear): 2\n- :like:: 1\n- :unknown_one: at 10:30:00"
    )

    assert render.plain(message) == "- 😨 (fear): 2\n- 👍: 1\n- :unknown_one: at 10:30:00"


def test_a_reactions_step_offers_its_meanings_as_a_choice_instead_of_emoji_names() -> None:
    post = StepPost(
        "s1",
        "en",
        "discomfort",
        3,
        7,
        "Discomfort",
        "Which sources do you see?",
        "everyone",
        "",
        "React to this message with an emoji: :fearful: fear.\nWrite privately.",
        reactions=(Choice("fearful", "fear"),),
    )

    (message,) = render.render_step(post)

    text = render.plain(message)
    assert "React to this message" not in text
    assert "Write privately." in text
    (choice,) = [b for b in message.card["body"] if b["type"] == "Input.ChoiceSet"]
    assert choice["choices"] == [{"title": "fear", "value": "fearful"}]
    (send,) = [a for a in message.card["actions"] if a["data"]["intervision"] == "react"]
    assert send["data"]["offered"] == "fearful"
