"""Slack platform, fuzzed: whatever a signed request holds, the answer is never a 5xx.

Hypothesis generates commands, start-modal submissions, events and whole bodies of
arbitrary shape; each is signed and sent into the real HTTP endpoint. A command always
gets an answer in words (never the generic apology for an error on the bot's side).
Examples are bounded so the suite stays within CI's time.
"""

from __future__ import annotations

import contextlib
import json
import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.i18n import LANGUAGES, t
from bot.platforms.slack.guard import Malformed, check_shape, parsed_body
from bot.platforms.slack.ids import Callback, Field
from bot.platforms.slack.parse import modal_metadata
from tests.platform.slack.conftest import CHANNEL, FACILITATOR, OWNER, Slack
from tests.platform.slack.fake_slack import TEAM

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
APOLOGIES = [t("slack.error.generic", lang) for lang in LANGUAGES]

text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(text, inner, max_size=4),
    max_leaves=12,
)
# Fields the bot and Bolt read, with values of any type, so the fuzz reaches past the guard.
ids = st.sampled_from([OWNER, FACILITATOR, CHANNEL, TEAM, "1.0", "2.5", ""]) | json_values
timestamps = st.sampled_from(["1700000000.000100", "1.0", "0", "-1", "1e400", "abc"]) | json_values
SUBCOMMANDS = [
    "start", "next", "ready", "status", "pause", "resume", "close", "methods", "help", "cop",
    "cop create", "cop schedule", "cop agenda add", "cop skip", "settings", "away", "privacy",
    "private", "approve", "withdraw", "export", "forget", "my-data", "owner=", "lang=",
]  # fmt: skip


def _form_of(payload: Any) -> str:
    return urlencode({"payload": json.dumps(payload)})


def _not_apologised(slack: Slack) -> None:
    said = slack.ephemeral_text(FACILITATOR) + slack.ephemeral_text(OWNER)
    assert not any(apology in said for apology in APOLOGIES)


@FUZZ
@given(sub=st.sampled_from(SUBCOMMANDS), rest=text)
def test_any_command_text_is_answered_in_words(slack: Slack, sub: str, rest: str) -> None:
    before = len(slack.fake.ephemerals) + len(slack.fake.views) + len(slack.fake.calls)

    response = slack.command(f"{sub} {rest}")

    assert response.status == 200
    assert len(slack.fake.ephemerals) + len(slack.fake.views) + len(slack.fake.calls) > before
    _not_apologised(slack)


def _field(name: Field, element: Any) -> dict[str, Any]:
    return {name.value: {name.value: element}}


elements = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(
            ["users_select", "multi_users_select", "static_select", "radio_buttons", "checkboxes"]
        )
        | json_values,
        "value": json_values,
        "selected_user": ids,
        "selected_users": st.lists(ids, max_size=3) | json_values,
        "selected_option": st.fixed_dictionaries({"value": json_values}) | json_values,
        "selected_options": st.lists(st.fixed_dictionaries({"value": json_values})) | json_values,
    },
)
states = (
    st.builds(
        lambda parts: {"values": {k: v for part in parts for k, v in part.items()}},
        st.lists(st.builds(_field, st.sampled_from(list(Field)), elements), max_size=len(Field)),
    )
    | json_values
)
metadata = st.sampled_from([modal_metadata(CHANNEL), modal_metadata(CHANNEL, "1.0")]) | text


@FUZZ
@given(state=states, private_metadata=metadata, view_id=ids, user=ids)
def test_any_start_modal_submission_is_answered_without_a_server_error(
    slack: Slack, state: Any, private_metadata: str, view_id: Any, user: Any
) -> None:
    view = {
        "id": view_id,
        "type": "modal",
        "callback_id": Callback.START_MODAL.value,
        "private_metadata": private_metadata,
        "hash": "h",
        "state": state,
    }
    payload = {"type": "view_submission", "user": {"id": user}, "view": view}

    assert slack.interaction(payload).status < 500
    _not_apologised(slack)


events = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["message", "reaction_added", "reaction_removed", "app_home_opened"]
        ),
    },
    optional={
        "subtype": st.sampled_from(["message_changed", "message_deleted", "file_share"])
        | json_values,
        "user": ids,
        "channel": ids,
        "ts": timestamps,
        "thread_ts": timestamps,
        "event_ts": timestamps,
        "text": json_values,
        "reaction": json_values,
        "tab": json_values,
        "item": st.fixed_dictionaries(
            {"type": st.just("message")}, optional={"channel": ids, "ts": timestamps}
        )
        | json_values,
        "message": st.fixed_dictionaries(
            {}, optional={"user": ids, "ts": timestamps, "thread_ts": timestamps, "text": text}
        )
        | json_values,
        "previous_message": json_values,
    },
)


@FUZZ
@given(event=events, event_id=ids)
def test_any_event_is_answered_without_a_server_error(
    slack: Slack, event: dict[str, Any], event_id: Any
) -> None:
    envelope = {
        "type": "event_callback",
        "team_id": TEAM,
        "api_app_id": "A0000001",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": event,
    }

    assert slack.post(json.dumps(envelope), "application/json").status < 500
    _not_apologised(slack)


@FUZZ
@given(body=json_values)
def test_any_signed_json_body_is_answered_without_a_server_error(slack: Slack, body: Any) -> None:
    assert slack.post(json.dumps(body), "application/json").status < 500


@FUZZ
@given(payload=json_values)
def test_any_interaction_payload_is_answered_without_a_server_error(
    slack: Slack, payload: Any
) -> None:
    form = urlencode({"payload": json.dumps(payload)})
    assert slack.post(form, "application/x-www-form-urlencoded").status < 500


@settings(max_examples=100, deadline=None)
@given(
    body=st.one_of(text, json_values.map(json.dumps), json_values.map(_form_of)),
    content_type=st.sampled_from(["application/json", "application/x-www-form-urlencoded", ""]),
)
def test_the_guard_refuses_or_passes_any_text_without_raising(body: str, content_type: str) -> None:
    with contextlib.suppress(Malformed):  # a refusal is an answer; anything else is a bug
        check_shape(*parsed_body(body, content_type))
