"""Teams: one whole IMS session, from the @mention to the approved record in the thread.

Everything goes through the real ``/api/messages`` and the fake Bot Connector: what the
connector received (channel posts, thread replies, card updates, 1:1 chats) and what
storage holds are asserted along the way.
"""

from __future__ import annotations

from typing import Any

from tests.platform.teams.conftest import ANNA, BEN, CHANNEL, CLARA, Teams
from tests.platform.teams.fake_connector import Call


def _thread(teams: Teams, anchor: str) -> list[Call]:
    return [c for c in teams.connector.in_thread(CHANNEL, anchor) if "_answered_id" in c.body]


def _step_card(teams: Teams, anchor: str, number: int) -> Call:
    cards = [c for c in _thread(teams, anchor) if f"Step {number} of" in c.card_text()]
    assert cards, f"step {number} was not posted"
    return cards[-1]


def _chat_texts(teams: Teams, chat: str) -> list[str]:
    return [c.card_text() for c in teams.connector.posts() if c.conversation == chat]


def _chat_of(teams: Teams, user: str) -> str:
    opened = [c for c in teams.connector.calls if c.path == "/v3/conversations"]
    chats = [str(c.body["_answered_id"]) for c in opened if c.body["members"] == [{"id": user}]]
    assert len(chats) == 1, f"one 1:1 chat with {user} expected, got {chats}"
    return chats[0]


def _stored(teams: Teams, session_id: str) -> Any:
    with teams.harness.services.store.transaction() as tx:
        return tx.get_session(session_id)


def test_a_whole_ims_session_runs_on_teams_from_the_mention_to_the_record(teams: Teams) -> None:
    # Ben starts a session for Anna, with Clara; the anchor is a new channel post.
    started = teams.command(BEN, "start ims owner=<at>Anna Peer</at> with=<at>Clara Doe</at>")
    assert started.status == 200
    (anchor_post,) = teams.connector.top_level(CHANNEL)
    anchor = str(anchor_post.body["_answered_id"])
    assert "IMS" in anchor_post.card_text()
    session = teams.session()
    assert (session.case_owner, session.facilitator, session.participants) == (ANNA, BEN, (CLARA,))
    step_one = _step_card(teams, anchor, 1)
    assert {a["data"]["intervision"] for a in step_one.card()["actions"]} >= {"next", "pause"}

    # Replies from several people in the thread; a reaction on the step card.
    teams.reply(ANNA, "A pseudonymised case about the mother of 'K.'", anchor)
    teams.reply(CLARA, "From the school's side it looked different.", anchor)
    reaction = teams.activity(
        CLARA, None, root=anchor, kind="messageReaction", reactionsAdded=[{"type": "heart"}]
    )
    reaction["replyToId"] = step_one.body["_answered_id"]
    assert teams.post(reaction).status == 200
    session = teams.session()
    assert [(c.author, c.step_id) for c in session.contributions] == [
        (ANNA, "perspectives"),
        (CLARA, "perspectives"),
    ]
    assert {(r.user, r.emoji) for r in session.reactions} == {(CLARA, "heart")}

    # Clara may not move the session on: she alone is told so, in her 1:1 chat.
    posted_before = len(_thread(teams, anchor))
    teams.command(CLARA, "next", root=anchor)
    clara_chat = _chat_of(teams, CLARA)
    assert any(
        "Only the facilitator (Ben Coach)" in text for text in _chat_texts(teams, clara_chat)
    )
    assert len(_thread(teams, anchor)) == posted_before
    assert teams.session().step_number == 1

    # The facilitator moves on with the card's button, then by text.
    assert teams.press(BEN, "next", session.id, anchor).status == 200
    _step_card(teams, anchor, 2)
    teams.reply(CLARA, "I think she felt alone.", anchor)
    assert teams.command(BEN, "next", root=anchor).status == 200
    _step_card(teams, anchor, 3)
    assert teams.session().step_number == 3

    # Pause and resume (the resume button is on the paused anchor).
    teams.command(BEN, "pause", root=anchor)
    assert teams.session().status.value == "paused"
    paused = teams.connector.updates(CHANNEL, anchor)[-1].card()
    assert [a["data"]["intervision"] for a in paused["actions"]] == ["resume"]
    assert teams.press(BEN, "resume", session.id, anchor).status == 200
    assert teams.session().status.value == "running"

    # Close: the draft record goes to Anna alone, the thread only says it is waiting.
    teams.command(BEN, "close", root=anchor)
    closed = _stored(teams, session.id)
    assert closed.status.value == "closed"
    assert closed.approved_at is None
    anna_chat = _chat_of(teams, ANNA)
    draft = "\n".join(_chat_texts(teams, anna_chat))
    assert "A pseudonymised case about the mother of" in draft
    thread_text = "\n".join(c.card_text() for c in _thread(teams, anchor))
    assert "A pseudonymised case about the mother of" not in thread_text

    # Anna approves in her 1:1 chat, as the draft tells her; the record goes to the thread.
    assert f"approve {session.id}" in draft
    assert teams.personal(ANNA, f"/intervision approve {session.id}", anna_chat).status == 200
    assert _stored(teams, session.id).approved_at is not None
    thread_text = "\n".join(c.card_text() for c in _thread(teams, anchor))
    assert "A pseudonymised case about the mother of" in thread_text
    assert "I think she felt alone." in thread_text
    final = teams.connector.updates(CHANNEL, anchor)[-1].card_text()
    assert "closed" in final
    assert len(teams.connector.top_level(CHANNEL)) == 1  # one anchor, updated in place
    assert teams.harness.services.store.pending_count() == 0


# --- the moed-en-lef board: the four sources of discomfort as a card choice ----------------


def _discomfort_card(teams: Teams) -> tuple[str, Call]:
    """A moed-en-lef session moved on to its third step, 'discomfort'; the anchor and its card."""
    teams.command(BEN, "start moed-en-lef owner=<at>Anna Peer</at> with=<at>Clara Doe</at>")
    anchor = str(teams.connector.top_level(CHANNEL)[-1].body["_answered_id"])
    teams.reply(ANNA, "My case.", anchor)
    teams.command(BEN, "next", root=anchor)
    teams.command(BEN, "next", root=anchor)
    return anchor, _step_card(teams, anchor, 3)


def _send_choice(teams: Teams, user: str, anchor: str, card: Call, chosen: str) -> None:
    send = next(a for a in card.card()["actions"] if a["data"]["intervision"] == "react")
    value = {**send["data"], "reactions": chosen}  # Teams merges the inputs into the data
    activity = teams.activity(user, None, root=anchor, value=value)
    activity["replyToId"] = card.body["_answered_id"]
    assert teams.post(activity).status == 200


def test_the_discomfort_step_card_offers_the_four_sources_as_a_choice(teams: Teams) -> None:
    _, card = _discomfort_card(teams)

    (choice,) = [b for b in card.card()["body"] if b["type"] == "Input.ChoiceSet"]
    assert choice["isMultiSelect"] is True
    assert [(c["title"], c["value"]) for c in choice["choices"]] == [
        ("fear", "fearful"),
        ("uncertainty", "thinking_face"),
        ("resistance", "raised_hand"),
        ("worries", "worried"),
    ]
    assert ":fearful:" not in card.card_text()  # Slack's emoji names are not shown on Teams


def test_a_sent_choice_counts_as_the_reactions_slack_emoji_give(teams: Teams) -> None:
    _, card = _discomfort_card(teams)
    anchor = card.conversation.partition(";messageid=")[2]
    target = str(card.body["_answered_id"])

    _send_choice(teams, CLARA, anchor, card, "fearful,worried")
    _send_choice(teams, ANNA, anchor, card, "fearful")

    reactions = {(r.user, r.emoji, r.target, r.step_id) for r in teams.session().reactions}
    assert reactions == {
        (CLARA, "fearful", target, "discomfort"),
        (CLARA, "worried", target, "discomfort"),
        (ANNA, "fearful", target, "discomfort"),
    }


def test_sending_the_choice_again_replaces_the_earlier_one(teams: Teams) -> None:
    anchor, card = _discomfort_card(teams)

    _send_choice(teams, CLARA, anchor, card, "fearful,worried")
    _send_choice(teams, CLARA, anchor, card, "thinking_face")

    assert {r.emoji for r in teams.session().reactions} == {"thinking_face"}


def test_a_step_button_pressed_on_the_card_with_the_choice_is_only_that_button(
    teams: Teams,
) -> None:
    anchor, card = _discomfort_card(teams)
    data = {"intervision": "pause", "session": teams.session().id, "reactions": "fearful"}
    activity = teams.activity(BEN, None, root=anchor, value=data)
    activity["replyToId"] = card.body["_answered_id"]

    teams.post(activity)

    assert teams.session().status.value == "paused"
    assert teams.session().reactions == frozenset()
