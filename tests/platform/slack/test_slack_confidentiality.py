"""Slack platform, issue 5: private answers by slash command, the approval by direct message,
escaping in the bot's new messages, and logs without what people wrote or the token."""

from __future__ import annotations

import logging

import pytest

from bot.messages import DirectMessage, ThreadNote
from bot.platforms.slack.render import plain, render
from tests.platform.slack.conftest import CLARA, DAVID, OWNER, Slack
from tests.platform.slack.fake_slack import BOT_TOKEN

CASE = "The father of child A rings me every night; his number is 06-12345678."
START = f"start moed-en-lef owner=<@{OWNER}|anna> with=<@{CLARA}|clara>,<@{DAVID}|david> lang=en"


def _direct_texts(slack: Slack, user: str) -> str:
    return "\n".join(plain(m.get("blocks") or []) for m in slack.fake.bot_posts(f"D{user}"))


def test_the_author_alone_is_told_and_the_phone_number_is_not_kept(slack: Slack) -> None:
    assert slack.command(START).status == 200
    thread = str(slack.anchor()["ts"])

    slack.reply(OWNER, CASE, thread)

    assert "a phone number" in slack.ephemeral_text(OWNER)
    assert "a phone number" not in slack.ephemeral_text(CLARA)
    (contribution,) = slack.session().contributions
    assert "06-12345678" not in contribution.text


def test_the_draft_goes_to_the_case_owner_by_direct_message_and_approval_posts_it(
    slack: Slack,
) -> None:
    assert slack.command(START).status == 200
    thread = str(slack.anchor()["ts"])
    slack.reply(OWNER, "A pseudonymised case.", thread)
    assert slack.command("close").status == 200

    assert "Approve it with: /intervision approve" in _direct_texts(slack, OWNER)
    assert "Record:" not in slack.thread_text(thread)

    assert slack.command("approve", user=OWNER).status == 200

    assert "Record:" in slack.thread_text(thread)


def test_user_text_in_a_reveal_and_a_direct_message_pings_nobody() -> None:
    for message in (
        ThreadNote("s1", "- **clara:** <!channel> see <@U0BOSS01>"),
        DirectMessage("U1", "- [5] case: <!here> & co"),
    ):
        rendered = "\n".join(plain(part.blocks) + part.text for part in render(message))
        assert "<!channel>" not in rendered
        assert "<!here>" not in rendered
        assert "<@U0BOSS01>" not in rendered


def test_slack_logs_hold_no_case_text_and_no_token(
    slack: Slack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)

    assert slack.command(START).status == 200
    thread = str(slack.anchor()["ts"])
    slack.reply(OWNER, CASE, thread)
    assert slack.command("close").status == 200
    assert slack.command("approve", user=OWNER).status == 200

    logged = caplog.text
    assert caplog.records
    for secret in ("father of child A", "06-12345678", "rings me", BOT_TOKEN):
        assert secret not in logged, secret
