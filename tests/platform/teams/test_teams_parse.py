"""Teams activities as neutral events (pure)."""

from __future__ import annotations

from typing import Any

from bot.events import ButtonPressed, Command, ReactionChanged, Reply, ReplyDeleted, ReplyEdited
from bot.platforms.teams import parse

BOT = "28:bot"
CHANNEL = "19:c@thread.tacv2"


def _activity(kind: str = "message", *, root: str | None = "100", **extra: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": kind,
        "id": "200",
        "timestamp": "2026-11-23T10:00:00.000Z",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "from": {"id": "29:anna", "name": "Anna", "aadObjectId": "aad-anna"},
        "recipient": {"id": BOT, "name": "intervision"},
        "conversation": {"tenantId": "t1", "id": f"{CHANNEL};messageid={root or '200'}"},
        "channelData": {"channel": {"id": CHANNEL}, "tenant": {"id": "t1"}},
        "locale": "de-CH",
    }
    activity.update(extra)
    return activity


def _mention(person: str, name: str) -> dict[str, Any]:
    return {
        "type": "mention",
        "text": f"<at>{name}</at>",
        "mentioned": {"id": person, "name": name},
    }


def test_a_post_addressing_the_bot_is_a_command_with_mentions_as_ids() -> None:
    activity = _activity(
        root=None,
        text="<at>intervision</at> start ims owner=<at>Ben</at>",
        entities=[_mention(BOT, "intervision"), _mention("29:ben", "Ben")],
    )

    (event,) = parse.parse_activity(activity)

    assert isinstance(event, Command)
    assert event.text == "start ims owner=29:ben"
    assert event.where == parse.Where("teams", "t1", CHANNEL, None)
    assert event.language == "de"


def test_anything_said_in_the_one_to_one_chat_is_a_command() -> None:
    activity = _activity(root=None, text="status")
    activity["conversation"] = {"tenantId": "t1", "id": "a:chat", "conversationType": "personal"}
    activity["channelData"] = {"tenant": {"id": "t1"}}

    (event,) = parse.parse_activity(activity)

    assert isinstance(event, Command)
    assert (event.text, event.where.channel) == ("status", "a:chat")


def test_a_thread_reply_is_a_reply_in_the_root_thread_with_html_removed() -> None:
    (event,) = parse.parse_activity(_activity(text="<p>My <b>case</b> &amp; more</p>"))

    assert isinstance(event, Reply)
    assert (event.text, event.ref, event.where.thread) == ("My case & more", "200", "100")


def test_a_channel_post_not_addressing_the_bot_is_ignored() -> None:
    assert parse.parse_activity(_activity(root=None, text="hello all")) == []


def test_the_bots_own_messages_are_ignored() -> None:
    activity = _activity(text="x", **{"from": {"id": BOT}})

    assert parse.parse_activity(activity) == []


def test_edits_have_an_event_id_per_edit_and_deletes_are_reply_deleted() -> None:
    first = parse.parse_activity(_activity("messageUpdate", text="a"))
    later = parse.parse_activity(
        _activity("messageUpdate", text="b", timestamp="2026-11-23T11:00Z")
    )
    (deleted,) = parse.parse_activity(_activity("messageDelete"))

    assert isinstance(first[0], ReplyEdited)
    assert isinstance(later[0], ReplyEdited)
    assert first[0].event_id != later[0].event_id
    assert isinstance(deleted, ReplyDeleted)
    assert deleted.ref == "200"


def test_each_reaction_on_a_bot_post_is_a_reaction_changed() -> None:
    activity = _activity(
        "messageReaction",
        replyToId="150",
        reactionsAdded=[{"type": "like"}],
        reactionsRemoved=[{"type": "heart"}],
    )

    added, removed = parse.parse_activity(activity)

    assert isinstance(added, ReactionChanged)
    assert isinstance(removed, ReactionChanged)
    assert (added.target, added.emoji, added.added) == ("150", "like", True)
    assert (removed.emoji, removed.added) == ("heart", False)
    assert added.event_id != removed.event_id


def test_card_buttons_submit_and_execute_are_button_pressed() -> None:
    data = {"intervision": "next", "session": "s1"}
    (submitted,) = parse.parse_activity(_activity(value=data))
    execute = {"action": {"type": "Action.Execute", "verb": "next", "data": data}}
    (executed,) = parse.parse_activity(
        _activity("invoke", name="adaptiveCard/action", value=execute)
    )

    for event in (submitted, executed):
        assert isinstance(event, ButtonPressed)
        assert (event.action, event.session_id) == ("next", "s1")


def test_unknown_verbs_types_and_unreadable_fields_give_no_event() -> None:
    assert parse.parse_activity(_activity(value={"intervision": "explode", "session": "s"})) == []
    assert parse.parse_activity(_activity("someFutureType", text="x")) == []
    assert parse.parse_activity(_activity(text="x", id=12)) == []
    assert parse.parse_activity({"type": "message", "text": ["x"]}) == []


def test_a_message_typed_as_the_bots_texts_write_commands_is_a_command() -> None:
    for typed in ("/intervision approve s1", "@intervision approve s1"):
        (event,) = parse.parse_activity(_activity(text=typed))

        assert isinstance(event, Command)
        assert event.text == "approve s1"


def test_a_reaction_choice_sent_from_a_step_card_adds_the_chosen_and_removes_the_others() -> None:
    value = {
        "intervision": "react",
        "session": "s1",
        "offered": "fearful,thinking_face,worried",
        "reactions": "worried,fearful,smuggled",
    }
    activity = _activity(value=value, replyToId="300")

    events = parse.parse_activity(activity)

    assert [(e.emoji, e.added, e.target) for e in events if isinstance(e, ReactionChanged)] == [
        ("fearful", True, "300"),
        ("thinking_face", False, "300"),
        ("worried", True, "300"),
    ]
    assert len({e.event_id for e in events}) == 3
