"""Teams end to end: activities into the real /api/messages, cards out to the fake connector."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

from tests.platform.teams.conftest import ANNA, BEN, CHANNEL, CLARA, Teams


def _start(teams: Teams) -> str:
    """Ben starts an IMS session for Anna; returns the anchor's id."""
    assert teams.command(BEN, "start ims owner=<at>Anna Peer</at>").status == 200
    anchors = teams.connector.top_level(CHANNEL)
    assert anchors, "no anchor was posted"
    return str(anchors[-1].body["_answered_id"])


def test_start_posts_the_anchor_card_and_step_one_in_its_thread(teams: Teams) -> None:
    anchor = _start(teams)

    card = teams.connector.top_level(CHANNEL)[-1].card()
    assert card["type"] == "AdaptiveCard"
    mentioned = {e["mentioned"]["id"] for e in card["msteams"]["entities"]}
    assert mentioned == {ANNA, BEN}
    thread = "\n".join(c.card_text() for c in teams.connector.in_thread(CHANNEL, anchor))
    assert "Step 1 of" in thread
    assert "Anna Peer, please tell your case" in thread


def test_a_thread_reply_becomes_a_contribution(teams: Teams) -> None:
    anchor = _start(teams)

    response, ref = teams.reply(CLARA, "I noticed the <at>deadline</at> matters", anchor)

    assert response.status == 200
    (contribution,) = teams.session().contributions
    assert contribution.text == "I noticed the deadline matters"
    assert (contribution.author, contribution.ref) == (CLARA, ref)


def test_next_posts_the_next_step_and_updates_the_anchor_in_place(teams: Teams) -> None:
    anchor = _start(teams)
    teams.reply(ANNA, "My case.", anchor)

    assert teams.command(BEN, "next", root=anchor).status == 200

    assert teams.session().step_number == 2
    thread = "\n".join(c.card_text() for c in teams.connector.in_thread(CHANNEL, anchor))
    assert "Step 2 of" in thread
    (update,) = teams.connector.updates(CHANNEL, anchor)
    assert "Step 2 of" in update.card_text()
    assert len(teams.connector.top_level(CHANNEL)) == 1


def test_a_retried_activity_is_recorded_once(teams: Teams) -> None:
    anchor = _start(teams)
    activity = teams.activity(ANNA, "My case.", root=anchor)

    first, again = teams.post(activity), teams.post(activity)

    assert (first.status, again.status) == (200, 200)
    assert [c.text for c in teams.session().contributions] == ["My case."]


def test_a_429_from_the_connector_is_retried_after_retry_after_and_arrives_once(
    teams: Teams,
) -> None:
    anchor = _start(teams)
    teams.reply(ANNA, "My case.", anchor)
    teams.connector.fail_next.append((429, {"Retry-After": "7"}))

    teams.command(BEN, "next", root=anchor)
    waiting = teams.harness.services.store.pending_count()
    teams.harness.clock.advance(timedelta(seconds=8))
    teams.runtime.settle()

    assert waiting > 0
    assert teams.harness.services.store.pending_count() == 0
    delivered = [
        c for c in teams.connector.in_thread(CHANNEL, anchor) if "Step 2 of" in c.card_text()
    ]
    assert len([c for c in delivered if "_answered_id" in c.body]) == 1
    assert len(delivered) == 2  # the refused try and the one that arrived


def test_a_button_press_moves_the_session_on(teams: Teams) -> None:
    anchor = _start(teams)
    teams.reply(ANNA, "My case.", anchor)
    session_id = teams.session().id

    assert teams.press(BEN, "next", session_id, anchor).status == 200

    assert teams.session().step_number == 2


def test_an_execute_button_is_answered_in_the_invoke_response(teams: Teams) -> None:
    anchor = _start(teams)
    teams.reply(ANNA, "My case.", anchor)
    data = {"intervision": "next", "session": teams.session().id}
    value = {"action": {"type": "Action.Execute", "verb": "next", "data": data}}
    invoke = teams.activity(BEN, None, root=anchor, kind="invoke", value=value)
    invoke["name"] = "adaptiveCard/action"

    response = teams.post(invoke)

    assert response.status == 200
    assert json.loads(response.body)["statusCode"] == 200
    assert teams.session().step_number == 2


def test_a_private_notice_goes_to_the_persons_one_to_one_chat_opened_once(teams: Teams) -> None:
    anchor = _start(teams)

    teams.command(CLARA, "next", root=anchor)  # only the facilitator may move on
    teams.command(CLARA, "next", root=anchor)

    opened = [c for c in teams.connector.calls if c.path == "/v3/conversations"]
    assert len(opened) == 1
    assert opened[0].body["members"] == [{"id": CLARA}]
    assert opened[0].body["isGroup"] is False
    notices = [c for c in teams.connector.posts() if c.conversation == "a:dm-1"]
    assert len(notices) == 2
    assert teams.session().step_number == 1


def test_a_web_process_with_only_teams_answers_health_and_unknown_activity_types(
    teams: Teams,
) -> None:
    unknown = teams.activity(ANNA, None, kind="someFutureActivityType")

    assert teams.post(unknown).status == 200
    with urllib.request.urlopen(f"{teams.url}/healthz", timeout=5) as response:
        assert response.status == 200
    assert teams.connector.calls == []


def test_a_reaction_on_the_bots_step_card_is_counted_for_that_step(teams: Teams) -> None:
    anchor = _start(teams)
    step = next(
        c for c in teams.connector.in_thread(CHANNEL, anchor) if "Step 1 of" in c.card_text()
    )
    step_id = str(step.body["_answered_id"])
    reaction = teams.activity(
        CLARA, None, root=anchor, kind="messageReaction", reactionsAdded=[{"type": "like"}]
    )
    reaction["replyToId"] = step_id

    assert teams.post(reaction).status == 200

    (counted,) = teams.session().reactions
    assert (counted.emoji, counted.user, counted.target) == ("like", CLARA, step_id)
