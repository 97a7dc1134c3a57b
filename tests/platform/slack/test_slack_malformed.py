"""Slack platform: malformed or unsigned requests are answered 400, 401 or 413, never 500.

Each test sends one kind of bad request into the real HTTP endpoint; the guard in front of
Bolt refuses it, or (for a well-formed envelope with odd fields) the parse ignores it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlencode

from bot.platforms.slack.guard import MAX_BODY_BYTES, MAX_DEPTH, nesting_depth
from bot.platforms.slack.ids import COMMAND
from tests.platform.slack.conftest import CHANNEL, FACILITATOR, SECRET, Response, Slack
from tests.platform.slack.fake_slack import TEAM

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


def post_bytes(
    slack: Slack,
    body: bytes,
    content_type: str,
    *,
    timestamp: str | None = None,
    signature: str | None = None,
) -> Response:
    """POST ``body`` as it is, signed over its bytes unless told otherwise."""
    stamp = timestamp or str(int(time.time()))
    base = b"v0:" + stamp.encode("latin-1") + b":" + body
    signed = "v0=" + hmac.new(SECRET.encode(), base, hashlib.sha256).hexdigest()
    request = urllib.request.Request(
        f"{slack.url}/slack/events",
        data=body,
        method="POST",
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or signed,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return Response(response.status, response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read().decode("utf-8"))


def envelope(event: Any, **extra: Any) -> str:
    body = {
        "token": "legacy",
        "team_id": TEAM,
        "api_app_id": "A0000001",
        "type": "event_callback",
        "event_id": "Ev00000001",
        "event_time": int(time.time()),
        "event": event,
        **extra,
    }
    return json.dumps(body)


def command_form(**fields: str) -> str:
    form = {
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "user_id": FACILITATOR,
        "command": COMMAND,
        "text": "help",
        "trigger_id": "trigger.1",
        **fields,
    }
    return urlencode({k: v for k, v in form.items() if v is not None})


# --- unsigned -----------------------------------------------------------------------------


def test_a_request_with_a_wrong_signature_is_unauthorised(slack: Slack) -> None:
    assert slack.post(command_form(), FORM, signature="v0=" + "0" * 64).status == 401


def test_a_timestamp_that_is_not_a_number_is_unauthorised(slack: Slack) -> None:
    response = post_bytes(slack, command_form().encode(), FORM, timestamp="soon")
    assert response.status == 401


def test_a_timestamp_with_spaces_or_a_sign_is_unauthorised(slack: Slack) -> None:
    now = int(time.time())
    for stamp in (f" {now}", f"+{now}", f"{now}.5", "1" * 40):
        assert post_bytes(slack, command_form().encode(), FORM, timestamp=stamp).status == 401


def test_an_old_timestamp_is_unauthorised(slack: Slack) -> None:
    stale = str(int(time.time()) - 3600)
    assert post_bytes(slack, command_form().encode(), FORM, timestamp=stale).status == 401


def test_a_signature_with_characters_outside_ascii_is_unauthorised(slack: Slack) -> None:
    assert post_bytes(slack, b"{}", JSON, signature="v0=\u00e9t\u00e9").status == 401


def test_a_request_without_signature_headers_is_unauthorised(slack: Slack) -> None:
    request = urllib.request.Request(
        f"{slack.url}/slack/events", data=b"{}", method="POST", headers={"Content-Type": JSON}
    )
    try:
        urllib.request.urlopen(request, timeout=10)
        status = 200
    except urllib.error.HTTPError as error:
        status = error.code
    assert status == 401


# --- too big, too deep, not the envelope --------------------------------------------------


def test_a_body_over_the_size_limit_is_refused_before_it_is_read(slack: Slack) -> None:
    host, port = slack.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Type", JSON)
    connection.putheader("Content-Length", str(MAX_BODY_BYTES + 1))
    connection.endheaders()  # and no body: the answer comes without waiting for it
    assert connection.getresponse().status == 413
    connection.close()


def test_a_content_length_that_is_not_a_number_is_a_bad_request(slack: Slack) -> None:
    host, port = slack.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/slack/events")
    connection.putheader("Content-Length", "lots")
    connection.endheaders()
    assert connection.getresponse().status == 400
    connection.close()


def test_json_nested_deeper_than_the_limit_is_a_bad_request(slack: Slack) -> None:
    deep = "[" * 5000 + "]" * 5000
    body = envelope({"type": "message"}).replace('"event_time"', f'"deep": {deep}, "event_time"')
    assert post_bytes(slack, body.encode(), JSON).status == 400


def test_an_event_that_is_not_an_object_is_a_bad_request(slack: Slack) -> None:
    for event in ("message", 42, ["message"], None):
        assert slack.post(envelope(event), JSON).status == 400


def test_a_top_level_that_is_not_an_object_is_a_bad_request(slack: Slack) -> None:
    for body in ("[]", '"event_callback"', "17", "null"):
        assert slack.post(body, JSON).status == 400


def test_a_body_that_is_not_json_is_a_bad_request(slack: Slack) -> None:
    assert slack.post("{not json", JSON).status == 400


def test_a_body_that_is_not_utf8_is_a_bad_request(slack: Slack) -> None:
    assert post_bytes(slack, b'{"type": "\xff\xfe"}', JSON).status == 400


def test_an_interaction_payload_that_is_not_an_object_is_a_bad_request(slack: Slack) -> None:
    for payload in ("[]", "12", "not json", '"block_actions"'):
        assert slack.post(urlencode({"payload": payload}), FORM).status == 400


def test_an_interaction_whose_user_is_not_an_object_is_a_bad_request(slack: Slack) -> None:
    payload = {"type": "block_actions", "user": "UBEN0001", "team": {"id": TEAM}, "actions": []}
    assert slack.post(urlencode({"payload": json.dumps(payload)}), FORM).status == 400


def test_a_command_without_a_user_is_a_bad_request(slack: Slack) -> None:
    assert slack.post(command_form(user_id=""), FORM).status == 400


def test_an_id_holding_a_nul_character_is_a_bad_request(slack: Slack) -> None:
    assert slack.post(command_form(user_id="UBEN\x000001"), FORM).status == 400
    assert slack.post(command_form(channel_id="C\x00"), FORM).status == 400
    event = {"type": "message", "user": "U1", "channel": "C\x00", "ts": "1.0", "thread_ts": "0.5"}
    assert slack.post(envelope(event), JSON).status == 400
    assert slack.fake.ephemerals == []


def test_an_id_longer_than_the_columns_keep_is_a_bad_request(slack: Slack) -> None:
    assert slack.post(command_form(user_id="U" * 300), FORM).status == 400


# --- well-formed envelopes with odd fields: ignored, not a crash --------------------------


def test_an_event_whose_user_is_a_number_is_a_bad_request(slack: Slack) -> None:
    event = {"type": "message", "user": 42, "channel": CHANNEL, "ts": "2.0", "thread_ts": "1.0"}
    assert slack.post(envelope(event), JSON).status == 400


def test_a_channel_or_team_that_is_a_list_is_a_bad_request(slack: Slack) -> None:
    assert slack.post(envelope({"type": "message", "channel": ["C1"]}), JSON).status == 400
    assert slack.post(envelope({"type": "message"}, team=7), JSON).status == 400


def test_authorizations_that_are_not_objects_are_a_bad_request(slack: Slack) -> None:
    body = envelope({"type": "message"}, authorizations=["T1"])
    assert slack.post(body, JSON).status == 400


def test_an_event_with_a_list_for_its_text_and_timestamps_is_ignored(slack: Slack) -> None:
    event = {"type": "message", "user": "U1", "channel": CHANNEL, "ts": ["2"], "text": ["a"]}
    assert slack.post(envelope(event), JSON).status == 200


def test_a_reaction_whose_item_is_not_an_object_is_ignored(slack: Slack) -> None:
    event = {"type": "reaction_added", "user": "U1", "reaction": 5, "item": "x"}
    assert slack.post(envelope(event), JSON).status == 200


def test_the_health_check_is_not_guarded(slack: Slack) -> None:
    assert slack.get("/healthz").status == 200


def test_a_valid_command_still_gets_through(slack: Slack) -> None:
    assert slack.command("help").status == 200
    assert "/intervision" in slack.ephemeral_text(FACILITATOR)


# --- the depth measure --------------------------------------------------------------------


def test_nesting_depth_counts_arrays_and_objects() -> None:
    assert nesting_depth('{"a": [{"b": 1}]}') == 3
    assert nesting_depth("[]") == 1
    assert nesting_depth("17") == 0


def test_nesting_depth_ignores_brackets_inside_strings() -> None:
    assert nesting_depth('{"text": "[[[[{{{{ \\" [[["}') == 1


def test_the_depth_limit_leaves_room_for_block_kit() -> None:
    assert MAX_DEPTH >= 32


# --- a command the bot cannot keep: told in words, in the person's language ---------------


def test_an_overlong_cop_name_is_refused_in_the_persons_language(slack: Slack) -> None:
    slack.fake.add_user("UGERDA01", "gerda", locale="de-DE")
    slack.fake.channels[CHANNEL].members.add("UGERDA01")

    response = slack.command("cop create " + "n" * 201, user="UGERDA01")

    assert response.status == 200
    assert "Dieser Name ist zu lang: 201 Zeichen, höchstens 200." in slack.ephemeral_text(
        "UGERDA01"
    )


def test_a_nul_character_in_a_command_text_is_refused_in_words(slack: Slack) -> None:
    assert slack.command("cop create IMS\x00CoP").status == 200
    assert "control character (NUL)" in slack.ephemeral_text(FACILITATOR)


def test_a_repeated_form_field_is_checked_as_bolt_reads_it_the_last_one(slack: Slack) -> None:
    body = command_form() + "&user_id=" + "U%00"
    assert slack.post(body, FORM).status == 400


def test_a_form_body_that_is_json_is_checked_as_json(slack: Slack) -> None:
    assert slack.post(envelope(["message"]), FORM).status == 400
