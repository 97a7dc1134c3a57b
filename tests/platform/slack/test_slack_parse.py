"""Slack platform: payloads to neutral events (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.events import Command, ReactionChanged, Reply, ReplyDeleted, ReplyEdited
from bot.platforms.slack.parse import (
    normalise_mentions,
    parse_command,
    parse_event,
    preselected_method,
    wants_start_modal,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
BOT = "UBOT0001"


def _envelope(event: dict[str, object], event_id: str = "Ev1") -> dict[str, object]:
    return {"team_id": "T1", "event_id": event_id, "event": event}


def test_mentions_in_a_command_become_bare_user_ids() -> None:
    body = {
        "team_id": "T1",
        "channel_id": "C1",
        "user_id": "U0BEN001",
        "text": "start ims owner=<@U0ANNA01|anna> with=<@U0CLARA1>,<@U0DAVID1|david>",
        "trigger_id": "t.1",
    }

    command = parse_command(body, now=NOW)

    assert isinstance(command, Command)
    assert command.text == "start ims owner=U0ANNA01 with=U0CLARA1,U0DAVID1"
    assert command.event_id == "command:t.1"
    assert normalise_mentions("<@U1|x> <!channel>") == "U1 <!channel>"


@pytest.mark.parametrize(
    ("text", "modal"),
    [
        ("start", True),
        ("start ims", True),
        ("start owner=U1", True),
        ("start ims owner=<@U1|a>", False),
        ("next", False),
        ("", False),
    ],
)
def test_start_without_method_or_owner_asks_for_the_modal(text: str, modal: bool) -> None:
    assert wants_start_modal(text) is modal


def test_start_with_a_method_preselects_it() -> None:
    assert preselected_method("start IMS") == "ims"
    assert preselected_method("start") is None


def test_a_thread_reply_becomes_a_reply_with_the_envelope_event_id() -> None:
    event = {
        "type": "message",
        "user": "U1",
        "text": "hi",
        "ts": "2.0",
        "thread_ts": "1.0",
        "channel": "C1",
    }

    reply = parse_event(_envelope(event, "Ev42"), BOT)

    assert isinstance(reply, Reply)
    assert (reply.event_id, reply.where.thread, reply.ref) == ("Ev42", "1.0", "2.0")


@pytest.mark.parametrize(
    "event",
    [
        {"type": "message", "user": "U1", "text": "x", "ts": "2.0", "channel": "C1"},
        {"type": "message", "user": BOT, "text": "x", "ts": "2.0", "thread_ts": "1.0"},
        {
            "type": "message",
            "bot_id": "B2",
            "user": "U2",
            "text": "x",
            "ts": "2.0",
            "thread_ts": "1.0",
        },
        {
            "type": "message",
            "subtype": "channel_join",
            "user": "U1",
            "ts": "2.0",
            "thread_ts": "1.0",
        },
        {"type": "message", "user": "U1", "text": "parent", "ts": "1.0", "thread_ts": "1.0"},
    ],
    ids=["not-in-a-thread", "the-bot-itself", "another-bot", "join-subtype", "thread-parent"],
)
def test_messages_that_are_not_replies_are_ignored(event: dict[str, object]) -> None:
    assert parse_event(_envelope(event), BOT) is None


def test_an_edit_and_a_delete_name_the_reply_and_its_author() -> None:
    edited = parse_event(
        _envelope(
            {
                "type": "message",
                "subtype": "message_changed",
                "channel": "C1",
                "message": {
                    "user": "U1",
                    "text": "new",
                    "ts": "2.0",
                    "thread_ts": "1.0",
                    "edited": {"ts": "3.0"},
                },
                "previous_message": {"user": "U1", "text": "old", "ts": "2.0", "thread_ts": "1.0"},
            }
        ),
        BOT,
    )
    deleted = parse_event(
        _envelope(
            {
                "type": "message",
                "subtype": "message_deleted",
                "channel": "C1",
                "deleted_ts": "2.0",
                "previous_message": {"user": "U1", "text": "new", "ts": "2.0", "thread_ts": "1.0"},
            }
        ),
        BOT,
    )

    assert isinstance(edited, ReplyEdited)
    assert (edited.ref, edited.text, edited.user) == ("2.0", "new", "U1")
    assert isinstance(deleted, ReplyDeleted)
    assert (deleted.ref, deleted.user, deleted.where.thread) == ("2.0", "U1", "1.0")


def test_a_reaction_targets_the_message_it_is_on() -> None:
    event = {
        "type": "reaction_removed",
        "user": "U1",
        "reaction": "+1::skin-tone-3",
        "item": {"type": "message", "channel": "C1", "ts": "5.0"},
        "event_ts": "6.0",
    }

    reaction = parse_event(_envelope(event), BOT)

    assert isinstance(reaction, ReactionChanged)
    assert (reaction.target, reaction.emoji, reaction.added) == ("5.0", "+1", False)
