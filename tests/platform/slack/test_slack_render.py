"""Slack platform: what the bot's posts look like in Slack (escaping, Block Kit limits)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.events import Reply, Where
from bot.handlers import dispatch
from bot.messages import AnchorView, Link, StepPost
from bot.platforms.slack.ids import Action
from bot.platforms.slack.render import (
    MAX_BLOCKS,
    MAX_SECTION_CHARS,
    escape,
    plain,
    render_anchor,
    render_step,
    render_text,
    split_text,
)
from tests.platform.slack.conftest import CHANNEL, CLARA, OWNER, Slack
from tests.platform.slack.fake_slack import TEAM

START_TIME = datetime(2026, 11, 23, 9, 5, tzinfo=UTC)

START = f"start ims owner=<@{OWNER}|anna> with=<@{CLARA}|clara>"


def _close(slack: Slack) -> None:
    """Walk to the end; the case owner approves, so the record is posted in the thread."""
    for _ in range(6):
        assert slack.command("next").status == 200
    assert slack.command("approve", user=OWNER).status == 200


def test_a_contribution_with_channel_and_user_mentions_is_escaped_in_the_record(
    slack: Slack,
) -> None:
    slack.command(START)
    thread = str(slack.anchor()["ts"])
    slack.reply(OWNER, "Hey <!channel> and <!here>, ask <@U0BOSS01> & co", thread)

    _close(slack)

    record = slack.thread_text(thread)
    assert "&lt;!channel&gt;" in record
    assert "&lt;!here&gt;" in record
    assert "&lt;@" in record  # the record also breaks "@" with a zero-width space
    assert "U0BOSS01&gt;" in record
    assert "&amp; co" in record
    for message in slack.fake.bot_posts(CHANNEL, thread):
        rendered = plain(message.get("blocks") or []) + message.get("text", "")
        assert "<!channel>" not in rendered
        assert "<!here>" not in rendered
        assert "<@U0BOSS01>" not in rendered


def test_sixty_contributions_still_give_a_record_within_block_kit_limits(slack: Slack) -> None:
    slack.command(START)
    thread = str(slack.anchor()["ts"])
    where = Where("slack", TEAM, CHANNEL, thread)
    for number in range(60):  # straight into the core: the HTTP path is tested elsewhere
        text = f"Contribution {number:02d}: " + "a careful thought " * 20
        reply = Reply(f"Ev{number}", where, CLARA, f"{number}.0", text, START_TIME)
        dispatch(slack.harness.services, reply)

    _close(slack)

    posts = slack.fake.bot_posts(CHANNEL, thread)
    record_text = "\n".join(plain(m["blocks"]) for m in posts)
    for number in range(60):
        assert f"Contribution {number:02d}:" in record_text
    for post in posts:
        assert len(post["blocks"]) <= MAX_BLOCKS
        assert all(len((b.get("text") or {}).get("text", "")) <= 3000 for b in post["blocks"])
    assert slack.harness.services.store.pending_count() == 0


def test_a_long_text_is_split_into_sections_without_losing_a_word() -> None:
    words = [f"word{n}" for n in range(2000)]
    text = " ".join(words[:700]) + "\n" + " ".join(words[700:])

    pieces = split_text(text)

    assert all(len(piece) <= MAX_SECTION_CHARS for piece in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(words)


def test_a_cut_never_falls_inside_an_escaped_character() -> None:
    text = escape("<" * 2500)

    pieces = split_text(text)

    assert "".join(pieces) == text
    assert all(not piece.endswith(("&", "&l", "&lt")) for piece in pieces)


def test_very_long_text_is_spread_over_several_messages_of_at_most_fifty_blocks() -> None:
    text = "\n".join(f"line {n} " + "x" * 100 for n in range(3000))

    messages = render_text(text)

    assert len(messages) > 1
    assert all(len(m.blocks) <= MAX_BLOCKS for m in messages)
    joined = "\n".join(plain(m.blocks) for m in messages)
    assert "line 0 " in joined
    assert "line 2999 " in joined


@pytest.mark.parametrize("status", ["running", "paused", "closed"])
def test_the_anchor_has_the_progress_bar_and_a_resume_button_only_while_paused(
    status: str,
) -> None:
    view = AnchorView(
        session_id="s1",
        language="en",
        method_name="IMS <b>",
        case_owner=OWNER,
        facilitator="not an id <!here>",
        step_number=2,
        step_count=6,
        step_title="Views",
        status=status,
        deadline=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )

    rendered = render_anchor(view)

    text = plain(rendered.blocks)
    assert "■■□□□□ Step 2 of 6: Views" in text
    assert "IMS &lt;b&gt;" in text
    assert "not an id &lt;!here&gt;" in text
    actions = [b for b in rendered.blocks if b["type"] == "actions"]
    assert bool(actions) == (status == "paused")


def test_a_step_post_has_instruction_media_and_the_three_buttons() -> None:
    post = StepPost(
        session_id="s9",
        language="nl",
        step_id="views",
        number=2,
        count=6,
        title="Standpunten",
        instruction="Deel je professionele blik.",
        speakers="Aan het woord: iedereen.",
        listeners="",
        input_hint="Antwoord in deze thread.",
        media=(Link("Video", "https://example.org/v?a=1&b=2"), Link("Bad", "javascript:x")),
    )

    (message,) = render_step(post)

    text = plain(message.blocks)
    assert "Stap 2 van 6: Standpunten" in text
    assert "<https://example.org/v?a=1&b=2|Video>" in text
    assert "<javascript" not in text
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    assert [e["action_id"] for e in actions["elements"]] == [
        Action.READY.value,
        Action.NEXT.value,
        Action.PAUSE.value,
    ]
    assert {e["value"] for e in actions["elements"]} == {"s9"}
