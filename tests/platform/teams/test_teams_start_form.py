"""Teams: the start form (Slack's modal) as an Adaptive Card in the channel."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot.platforms.teams.parse import start_form_values
from bot.start_form import FormField
from tests.platform.teams.conftest import ANNA, BEN, BOT, CHANNEL, CLARA, NAMES, Teams
from tests.platform.teams.fake_connector import Call


@pytest.fixture
def members(teams: Teams) -> Teams:
    """The channel's members, as the Bot Connector lists them (the bot among them)."""
    teams.connector.members = [
        {"id": user, "name": name, "aadObjectId": f"aad-{user[3:]}"} for user, name in NAMES.items()
    ] + [{"id": BOT, "name": "intervision"}]
    return teams


def _form(teams: Teams) -> Call:
    forms = [
        c
        for c in teams.connector.top_level(CHANNEL)
        if any(a.get("verb") == "start" for a in c.card().get("actions", []))
    ]
    assert forms, "no start form was posted"
    return forms[-1]


def _input(card: dict[str, Any], field: FormField) -> dict[str, Any]:
    return next(b for b in card["body"] if b.get("id") == field.value)


def _submit(teams: Teams, form: Call, user: str, locale: str = "en-US", **inputs: str) -> Any:
    data = {"intervision": "start", **inputs}  # Teams merges the inputs into the data
    value = {"action": {"type": "Action.Execute", "verb": "start", "data": data}}
    root = str(form.body["_answered_id"])
    invoke = teams.activity(user, None, root=root, kind="invoke", value=value, locale=locale)
    invoke["name"] = "adaptiveCard/action"
    return teams.post(invoke)


def test_start_without_options_posts_the_form_with_the_methods_and_the_members(
    members: Teams,
) -> None:
    assert members.command(BEN, "start").status == 200

    card = _form(members).card()
    methods = [c["value"] for c in _input(card, FormField.METHOD)["choices"]]
    assert {"ims", "moed-en-lef"} <= set(methods)
    owners = [(c["value"], c["title"]) for c in _input(card, FormField.CASE_OWNER)["choices"]]
    assert owners == [(ANNA, "Anna Peer"), (BEN, "Ben Coach"), (CLARA, "Clara Doe")]
    assert _input(card, FormField.FACILITATOR)["value"] == BEN  # who asked facilitates
    assert _input(card, FormField.PARTICIPANTS)["isMultiSelect"] is True
    assert members.session() is None


def test_start_with_a_method_only_preselects_it_in_the_form(members: Teams) -> None:
    members.command(BEN, "start moed-en-lef")

    assert _input(_form(members).card(), FormField.METHOD)["value"] == "moed-en-lef"


def test_the_submitted_form_starts_the_session_it_describes(members: Teams) -> None:
    members.command(BEN, "start")

    response = _submit(
        members,
        _form(members),
        BEN,
        method="ims",
        case_owner=ANNA,
        facilitator=BEN,
        participants=CLARA,
        mode="async",
        deadline_hours="24",
        language="de",
        named_record="",
    )

    assert response.status == 200
    session = members.session()
    assert (session.method.id, session.case_owner, session.facilitator) == ("ims", ANNA, BEN)
    assert session.participants == (CLARA,)
    assert (session.mode.value, session.language, session.named_record) == ("async", "de", False)
    anchor = members.connector.top_level(CHANNEL)[-1]
    assert "Schritt 1 von 6" in anchor.card_text()


def test_a_form_with_the_case_owner_as_facilitator_is_refused_to_the_presser_in_their_language(
    members: Teams,
) -> None:
    members.command(BEN, "start")
    posted = len(members.connector.posts())

    response = _submit(
        members, _form(members), BEN, "de-DE", method="ims", case_owner=ANNA, facilitator=ANNA
    )

    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["statusCode"] == 200
    assert answer["value"].startswith("Moderation: ")
    assert members.session() is None
    assert len(members.connector.posts()) == posted  # nothing sent: the answer is the refusal


def test_a_form_without_a_case_owner_is_refused(members: Teams) -> None:
    members.command(BEN, "start")

    response = _submit(members, _form(members), BEN, method="ims")

    assert json.loads(response.body)["value"].startswith("Case owner: ")
    assert members.session() is None


def test_the_forms_multiple_choices_are_read_as_lists() -> None:
    values = start_form_values({"participants": "29:a, 29:b", "named_record": "named"})

    assert values[FormField.PARTICIPANTS] == ["29:a", "29:b"]
    assert values[FormField.NAMED_RECORD] == ["named"]
    assert values[FormField.CASE_OWNER] == ""
