"""Slack platform: whole sessions and people's actions over signed HTTP, against the fake API."""

from __future__ import annotations

import json
from typing import Any

from bot.platforms.slack.ids import Action, Callback, Field
from bot.platforms.slack.render import plain
from tests.platform.slack.conftest import CHANNEL, CLARA, DAVID, FACILITATOR, OWNER, Slack
from tests.platform.slack.fake_slack import BOT_ID, BOT_USER

START = f"start moed-en-lef owner=<@{OWNER}|anna> with=<@{CLARA}|clara>,<@{DAVID}|david> lang=en"


def _start(slack: Slack, text: str = START) -> str:
    assert slack.command(text).status == 200
    return str(slack.anchor()["ts"])


def _step_post(slack: Slack, thread: str, number: int) -> dict[str, Any]:
    posts = [
        m
        for m in slack.fake.bot_posts(CHANNEL, thread)
        if f"Step {number} of" in plain(m.get("blocks") or [])
    ]
    assert posts, f"step {number} was not posted"
    return posts[-1]


def _session_id(post: dict[str, Any]) -> str:
    actions = next(b for b in post["blocks"] if b["type"] == "actions")
    return str(actions["elements"][0]["value"])


def test_a_whole_session_runs_from_the_slash_command_to_the_record_in_the_thread(
    slack: Slack,
) -> None:
    thread = _start(slack)
    first = _step_post(slack, thread, 1)
    session_id = _session_id(first)

    slack.reply(OWNER, "A pseudonymised case about 'K.' and her school.", thread)
    assert slack.press(Action.NEXT.value, session_id, FACILITATOR, thread).status == 200
    slack.reply(CLARA, "What did the school say when you called?", thread)
    assert slack.command("next").status == 200
    discomfort = _step_post(slack, thread, 3)
    assert slack.react(CLARA, "fearful", discomfort["ts"]).status == 200
    assert slack.react(DAVID, "fearful", discomfort["ts"]).status == 200
    assert slack.react(OWNER, "worried", discomfort["ts"]).status == 200  # three took part
    for _ in range(5):
        assert slack.command("next").status == 200
    assert "Record:" not in slack.thread_text(thread)  # not before the case owner approved
    assert slack.command("approve", user=OWNER).status == 200

    anchor = plain(slack.fake.message(CHANNEL, thread)["blocks"])
    assert "Step 7 of 7" in anchor
    assert "(closed)" in anchor
    record = slack.thread_text(thread)
    assert "Record:" in record
    assert "A pseudonymised case about 'K.' and her school." in record
    assert ":fearful: (fear): 2" in record
    assert slack.session() is None
    assert slack.harness.services.store.pending_count() == 0


def test_the_anchor_shows_people_progress_and_the_deadline_in_each_readers_time(
    slack: Slack,
) -> None:
    thread = _start(slack, START + " mode=async hours=24")
    blocks = slack.fake.message(CHANNEL, thread)["blocks"]
    text = plain(blocks)
    assert f"<@{OWNER}>" in text
    assert f"<@{FACILITATOR}>" in text
    assert "■□□□□□□ Step 1 of 7" in text
    assert "<!date^" in text
    assert "^{date_short_pretty} {time}|" in text


def test_start_without_arguments_opens_the_modal_and_its_submission_starts_the_session(
    slack: Slack,
) -> None:
    assert slack.command("start ims").status == 200
    (view,) = slack.fake.views
    assert view["callback_id"] == Callback.START_MODAL.value
    method = next(b for b in view["blocks"] if b["block_id"] == Field.METHOD.value)
    assert method["element"]["initial_option"]["value"] == "ims"

    values = {
        Field.METHOD.value: {
            Field.METHOD.value: {"type": "static_select", "selected_option": {"value": "ims"}}
        },
        Field.CASE_OWNER.value: {
            Field.CASE_OWNER.value: {"type": "users_select", "selected_user": OWNER}
        },
        Field.FACILITATOR.value: {
            Field.FACILITATOR.value: {"type": "users_select", "selected_user": FACILITATOR}
        },
        Field.PARTICIPANTS.value: {
            Field.PARTICIPANTS.value: {"type": "multi_users_select", "selected_users": [CLARA]}
        },
        Field.MODE.value: {
            Field.MODE.value: {"type": "radio_buttons", "selected_option": {"value": "sync"}}
        },
        Field.DEADLINE_HOURS.value: {Field.DEADLINE_HOURS.value: {"type": "number_input"}},
        Field.LANGUAGE.value: {
            Field.LANGUAGE.value: {"type": "static_select", "selected_option": {"value": "de"}}
        },
        Field.NAMED_RECORD.value: {
            Field.NAMED_RECORD.value: {"type": "checkboxes", "selected_options": []}
        },
    }
    response = slack.interaction(
        {
            "type": "view_submission",
            "user": {"id": FACILITATOR},
            "view": {**view, "state": {"values": values}},
        }
    )

    assert response.status == 200
    session = slack.session()
    assert (session.method.id, session.case_owner, session.facilitator) == (
        "ims",
        OWNER,
        FACILITATOR,
    )
    assert session.participants == (CLARA,)
    assert session.language == "de"
    assert session.named_record is False
    assert "Schritt 1 von 6" in plain(slack.anchor()["blocks"])


def test_the_modal_refuses_the_case_owner_as_facilitator_next_to_the_field(slack: Slack) -> None:
    slack.command("start")
    (view,) = slack.fake.views
    values = {
        Field.METHOD.value: {
            Field.METHOD.value: {"type": "static_select", "selected_option": {"value": "ims"}}
        },
        Field.CASE_OWNER.value: {
            Field.CASE_OWNER.value: {"type": "users_select", "selected_user": OWNER}
        },
        Field.FACILITATOR.value: {
            Field.FACILITATOR.value: {"type": "users_select", "selected_user": OWNER}
        },
    }
    response = slack.interaction(
        {
            "type": "view_submission",
            "user": {"id": OWNER},
            "view": {**view, "state": {"values": values}},
        }
    )

    assert response.status == 200
    assert json.loads(response.body)["response_action"] == "errors"
    assert Field.FACILITATOR.value in json.loads(response.body)["errors"]
    assert slack.session() is None


def test_a_retried_event_changes_nothing_the_second_time(slack: Slack) -> None:
    thread = _start(slack)
    message = slack.fake.user_message(CHANNEL, OWNER, "My case.", thread_ts=thread)
    assert slack.event(dict(message), event_id="Ev0RETRY1").status == 200
    calls = len(slack.fake.calls)

    again = slack.event(dict(message), event_id="Ev0RETRY1", retry=1)

    assert again.status == 200
    assert [c.text for c in slack.session().contributions] == ["My case."]
    assert len(slack.fake.calls) == calls


def test_an_edit_updates_and_a_delete_withdraws_the_contribution(slack: Slack) -> None:
    thread = _start(slack)
    first = slack.reply(OWNER, "first words", thread)
    second = slack.reply(OWNER, "second words", thread)
    edited, previous = slack.fake.edit(CHANNEL, first["ts"], "first words, better")
    slack.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": CHANNEL,
            "hidden": True,
            "message": edited,
            "previous_message": previous,
            "ts": edited["edited"]["ts"],
        }
    )
    gone = slack.fake.delete(CHANNEL, second["ts"])
    slack.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": CHANNEL,
            "hidden": True,
            "deleted_ts": second["ts"],
            "previous_message": gone,
            "ts": slack.fake.next_ts(),
        }
    )

    texts = [c.text for c in slack.session().contributions if not c.withdrawn]
    assert texts == ["first words, better"]


def test_the_bots_own_and_other_bots_messages_are_ignored(slack: Slack) -> None:
    thread = _start(slack)
    slack.event(
        {
            "type": "message",
            "user": BOT_USER,
            "bot_id": BOT_ID,
            "text": "my own step post",
            "channel": CHANNEL,
            "thread_ts": thread,
            "ts": slack.fake.next_ts(),
        }
    )
    slack.event(
        {
            "type": "message",
            "subtype": "bot_message",
            "bot_id": "BOTHER01",
            "text": "another bot",
            "channel": CHANNEL,
            "thread_ts": thread,
            "ts": slack.fake.next_ts(),
        }
    )

    assert slack.session().contributions == ()


def test_messages_outside_a_session_thread_are_ignored(slack: Slack) -> None:
    _start(slack)
    message = slack.fake.user_message(CHANNEL, CLARA, "lunch anyone?")
    assert slack.event(dict(message)).status == 200
    assert slack.session().contributions == ()


def test_a_channel_message_is_added_to_the_current_step_with_the_shortcut(slack: Slack) -> None:
    _start(slack)
    message = slack.fake.user_message(CHANNEL, OWNER, "Oops, this belongs in the thread.")
    response = slack.interaction(
        {
            "type": "message_action",
            "callback_id": Callback.ADOPT_SHORTCUT.value,
            "user": {"id": FACILITATOR},
            "channel": {"id": CHANNEL},
            "message": message,
            "action_ts": message["ts"],
        }
    )

    assert response.status == 200
    (contribution,) = slack.session().contributions
    assert (contribution.author, contribution.text) == (OWNER, "Oops, this belongs in the thread.")


def test_an_unknown_subcommand_gets_the_help_text_privately_in_the_users_language(
    slack: Slack,
) -> None:
    slack.fake.add_user(CLARA, "clara", locale="de-DE")

    assert slack.command("frobnicate", user=CLARA).status == 200

    text = slack.ephemeral_text(CLARA)
    assert "Diesen Befehl kenne ich nicht: 'frobnicate'." in text
    assert "So funktioniert intervision-bot" in text
    assert slack.fake.calls_of("chat.postMessage") == []


def test_a_bad_signature_gets_401_and_changes_nothing(slack: Slack) -> None:
    body = "command=%2Fintervision&text=start+ims+owner%3DUANNA001&user_id=UBEN0001"
    response = slack.post(body, "application/x-www-form-urlencoded", signature="v0=deadbeef")

    assert response.status == 401
    assert slack.fake.calls_of("chat.postMessage") == []


def test_the_health_check_answers_ok(slack: Slack) -> None:
    response = slack.get("/healthz")
    assert (response.status, response.body) == (200, "ok\n")


def test_the_app_home_tab_is_published_for_the_user(slack: Slack) -> None:
    _start(slack)
    slack.event({"type": "app_home_opened", "user": OWNER, "channel": "D0000001", "tab": "home"})

    view = slack.fake.home[OWNER]
    assert view["type"] == "home"
    assert "intervision" in plain(view["blocks"]).lower()


def test_the_app_home_tab_lists_the_users_open_sessions(slack: Slack) -> None:
    _start(slack)
    slack.event({"type": "app_home_opened", "user": OWNER, "channel": "D0000001", "tab": "home"})

    home = plain(slack.fake.home[OWNER]["blocks"])
    assert "professional courage" in home
    assert "step 1 of 7" in home.lower()


def test_the_app_home_tab_hides_sessions_of_groups_one_is_not_in(slack: Slack) -> None:
    _start(slack)
    outsider = "UOUTSIDE1"
    slack.fake.add_user(outsider, "olaf")
    slack.event({"type": "app_home_opened", "user": outsider, "channel": "D0000002", "tab": "home"})

    assert "no open sessions" in plain(slack.fake.home[outsider]["blocks"]).lower()


def test_the_app_home_tab_shows_the_settings_of_the_users_groups(slack: Slack) -> None:
    _start(slack)
    slack.event({"type": "app_home_opened", "user": OWNER, "channel": "D0000001", "tab": "home"})

    home = plain(slack.fake.home[OWNER]["blocks"])
    assert "Your groups' settings" in home
    assert "(language: en)" in home
    assert "50%" in home  # the reminder offsets
    assert "30" in home  # the retention period in days
