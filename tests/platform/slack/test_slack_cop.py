"""Slack: the Community of Practice commands go through the same path as on the console."""

from __future__ import annotations

from bot.platforms.slack.ids import SCHEDULE_FIELD, Callback
from tests.platform.slack.conftest import CLARA, FACILITATOR, Slack


def _submit_schedule(slack: Slack, typed: str) -> None:
    (view,) = slack.fake.views
    values = {SCHEDULE_FIELD: {SCHEDULE_FIELD: {"type": "plain_text_input", "value": typed}}}
    response = slack.interaction(
        {
            "type": "view_submission",
            "user": {"id": FACILITATOR},
            "view": {**view, "state": {"values": values}},
        }
    )
    assert response.status == 200


def test_cop_schedule_without_words_opens_the_schedule_modal(slack: Slack) -> None:
    slack.command("cop create IMS CoP")

    assert slack.command("cop schedule").status == 200

    (view,) = slack.fake.views
    assert view["callback_id"] == Callback.SCHEDULE_MODAL.value
    assert view["blocks"][0]["element"]["initial_value"].startswith("quarterly first tuesday")


def test_the_submitted_schedule_modal_sets_when_the_cop_meets(slack: Slack) -> None:
    slack.command("cop create IMS CoP")
    slack.command("cop schedule")

    _submit_schedule(slack, "monthly last friday 09:30 Europe/Amsterdam at the library")
    slack.command("cop next")

    assert "09:30" in slack.ephemeral_text(FACILITATOR)
    assert "Europe/Amsterdam" in slack.ephemeral_text(FACILITATOR)


def test_only_coordinators_manage_a_cop_on_slack(slack: Slack) -> None:
    slack.command("cop create IMS CoP")

    slack.command("cop skip 2027-04-06", user=CLARA)

    assert "Only a coordinator of IMS CoP can do this." in slack.ephemeral_text(CLARA)
