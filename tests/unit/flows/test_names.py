"""The privacy guard sees people: names, institutions that point to one person, birth dates
in prose; and leaves alone the group's own members, authors, months and words.

No real person: the names are common given names and surnames combined at random.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.flows.guard import screen
from bot.flows.names import find_institutions, find_names, find_prose_births, name_keys
from bot.flows.privacy import IdentifierKind, find_identifiers
from bot.handlers.privacy import members_of, placeholders
from bot.i18n import LANGUAGES

TODAY = date(2026, 6, 1)
CASES = Path(__file__).with_name("privacy_names_cases.yaml")
NAME = IdentifierKind.NAME
INSTITUTION = IdentifierKind.INSTITUTION
BIRTH = IdentifierKind.DATE_OF_BIRTH


def names(text: str, keep: Sequence[str] = ()) -> list[str]:
    return [text[start:end] for start, end in find_names(text, name_keys(keep))]


def institutions(text: str) -> list[str]:
    return [text[start:end] for start, end in find_institutions(text)]


def births(text: str) -> list[str]:
    return [text[start:end] for start, end in find_prose_births(text)]


# --- names ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("Mevrouw De Vries belde vanochtend.", "De Vries", id="nl-mevrouw"),
        pytest.param("Mw. Jansen heeft afgezegd.", "Jansen", id="nl-mw"),
        pytest.param("Ik sprak net met dhr. Van den Berg.", "Van den Berg", id="nl-dhr"),
        pytest.param("Herr Yilmaz will das Sorgerecht.", "Yilmaz", id="de-herr"),
        pytest.param("Herr Dr. Wagner hat angerufen.", "Wagner", id="de-title-skipped"),
        pytest.param("Ms Okafor missed three appointments.", "Okafor", id="en-ms"),
        pytest.param("Gisteren bij de familie Smit op bezoek.", "Smit", id="nl-familie"),
        pytest.param("The Murphy family are six people.", "Murphy", id="en-family"),
    ],
)
def test_a_name_after_a_title_or_honorific_is_found(text: str, name: str):
    assert names(text) == [name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("Haar moeder Yasmina werkt in de nachtdienst.", "Yasmina", id="nl-moeder"),
        pytest.param("De vader, Kees, drinkt weer.", "Kees", id="nl-comma"),
        pytest.param("Ihr Bruder Kevin ist vorbestraft.", "Kevin", id="de-bruder"),
        pytest.param("Stepfather Darren hits the boy.", "Darren", id="en-stepfather"),
        pytest.param("Emir, der ältere Bruder, hilft viel.", "Emir", id="de-apposition"),
        pytest.param("Vader heet Rachid en komt uit Utrecht.", "Rachid", id="nl-heet"),
    ],
)
def test_a_name_next_to_a_relation_word_is_found(text: str, name: str):
    assert names(text) == [name]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("Fatima El Amrani (8) en haar moeder kwamen langs.", "Fatima El Amrani"),
        pytest.param("Robin (11) wordt gepest op school.", "Robin"),
        pytest.param("Het gaat om Anouk, 12 jaar, die niet naar school gaat.", "Anouk"),
    ],
)
def test_a_name_before_an_age_is_found(text: str, name: str):
    assert names(text) == [name]


def test_a_listed_given_name_with_its_surname_is_one_name():
    assert names("Emma de Boer is 16 en zwanger.") == ["Emma de Boer"]
    assert names("Mein Klient Reto Baumann hat seine Stelle verloren.") == ["Reto Baumann"]


def test_a_listed_given_name_alone_is_a_name():
    assert names("I am worried about Sophie, she barely eats.") == ["Sophie"]


def test_names_joined_by_and_are_both_found():
    assert names("De tweeling Finn en Luuk (9) krijgt speltherapie.") == ["Finn", "Luuk"]


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("Dat lijkt op de methode van Balint.", id="balint"),
        pytest.param("Nach Tietze beginnt man mit der Spontanphase.", id="tietze"),
        pytest.param("Das Heilsbronner Modell hat zehn Schritte.", id="heilsbronner"),
        pytest.param("Im Mai ist die Anhörung, im Juni der Umzug.", id="months"),
        pytest.param("Op maandag en woensdag komt de gezinscoach.", id="weekdays"),
        pytest.param("Ik heb hoop dat het lukt.", id="hoop"),
        pytest.param("Mark je de datum in je agenda?", id="mark"),
        pytest.param("To be frank, the school is failing.", id="frank"),
        pytest.param("Will you bring this to the meeting?", id="will"),
        pytest.param("Ze woont in Zeist en werkt parttime.", id="place"),
        pytest.param("weil die Mutter Angst hat", id="german-noun"),
        pytest.param("Wir sind bei Schritt (3).", id="step-number"),
        pytest.param("De moeder BSN 972281861 gaf het door.", id="acronym"),
        pytest.param("Der Junge lebt bei der Grossmutter, Tel. 061 555 66 77.", id="label"),
    ],
)
def test_authors_months_words_and_places_are_not_names(text: str):
    assert names(text) == []


def test_the_groups_own_members_are_left_alone():
    assert names("Goed punt, Sanne, dat had ik nog niet gezien.", keep=["Sanne"]) == []
    assert names("Ich schliesse mich Ben an.", keep=["Ben"]) == []


def test_a_member_name_with_a_cue_is_a_client_of_that_name():
    assert names("Ben (5) spricht im Kindergarten kein Wort.", keep=["Ben"]) == ["Ben"]


def test_a_member_name_kept_leaves_a_clients_full_name_found():
    assert names("The mother, Sarah Johnson, is unwell.", keep=["Sarah"]) == ["Sarah Johnson"]


def test_member_display_names_are_compared_word_by_word():
    assert name_keys(["Anna de Vries", "ben"]) == {"anna", "de", "vries", "ben"}


# --- institutions and birth dates in prose ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "institution"),
    [
        pytest.param("Er geht ins Schulhaus Donnerbaum.", "Schulhaus Donnerbaum"),
        pytest.param("Sie wohnt jetzt im Frauenhaus Basel.", "Frauenhaus Basel"),
        pytest.param(
            "Hij zit op basisschool De Regenboog in Zeist.", "basisschool De Regenboog in Zeist"
        ),
        pytest.param(
            "He goes to St Mary's Primary School in Bristol.",
            "St Mary's Primary School in Bristol",
        ),
        pytest.param(
            "Moeder verblijft in de vrouwenopvang in Lelystad.", "vrouwenopvang in Lelystad"
        ),
    ],
)
def test_an_institution_with_its_name_or_place_is_found(text: str, institution: str):
    assert institutions(text) == [institution]


@pytest.mark.parametrize(
    "text",
    [
        "Ze zit in een vrouwenopvang, het adres is geheim.",
        "Het kind zit op een basisschool in de wijk.",
        "He goes to the local primary school.",
    ],
)
def test_an_institution_without_name_or_place_is_not_found(text: str):
    assert institutions(text) == []


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        pytest.param("Sie ist 1985 geboren, am 12. März.", ["1985", "12. März"], id="de"),
        pytest.param("She was born in March 2015.", ["March 2015"], id="en"),
        pytest.param("Moeder is in 1990 geboren, in november.", ["1990", "november"], id="nl"),
    ],
)
def test_a_birth_date_in_prose_is_found(text: str, pieces: list[str]):
    assert births(text) == pieces


@pytest.mark.parametrize(
    "text",
    [
        "The baby was born in 2025 and is doing well.",
        "In maart 2015 is het gezin verhuisd.",
        "Sie ist in Basel geboren.",
    ],
)
def test_a_year_alone_or_a_month_without_birth_word_is_no_birth_date(text: str):
    assert births(text) == []


def test_a_full_date_in_prose_is_judged_by_the_date_of_birth_rule():
    found = find_identifiers("Geboren op 3 juni 2026? Nee, dan is de zitting.", today=TODAY)

    assert BIRTH not in {f.kind for f in found}


# --- screening and redaction ------------------------------------------------------------------


def test_a_name_is_redacted_with_the_placeholder_of_the_sessions_language():
    text = "Fatima El Amrani (8) en haar moeder Yasmina wonen sinds kort in Zeist."

    screened = screen(text, today=TODAY, placeholders=placeholders("nl"))

    assert screened.text == "[naam] (8) en haar moeder [naam] wonen sinds kort in Zeist."
    assert screened.kinds == (NAME,)


def test_a_german_reply_naming_a_person_and_a_shelter_is_redacted_in_german():
    screened = screen(
        "Frau Müller vom Frauenhaus Basel hat angerufen.",
        today=TODAY,
        placeholders=placeholders("de"),
    )

    assert screened.text == "Frau [Name] vom [Einrichtung] hat angerufen."
    assert screened.kinds == (NAME, INSTITUTION)


def test_members_and_method_names_stay_in_the_screened_text():
    text = "Dank je Anna, zo werkt Balint ook."

    assert screen(text, today=TODAY, members=["anna", "ben"]).clean


def test_without_placeholders_a_name_keeps_the_neutral_placeholder():
    assert screen("Mrs Hall called.", today=TODAY).text == "Mrs [redacted:name] called."


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_its_own_placeholders(language: str):
    words = placeholders(language)

    assert set(words) == {NAME, INSTITUTION}
    assert all(word.startswith("[") and word.endswith("]") for word in words.values())


def test_the_session_people_are_the_names_to_keep():
    session: Any = type(
        "S", (), {"case_owner": "anna", "facilitator": "ben", "participants": ("clara",)}
    )()

    assert set(members_of(session, "david")) == {"anna", "ben", "clara", "david"}


# --- the labelled set -------------------------------------------------------------------------


def load_cases() -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    data = yaml.safe_load(CASES.read_text("utf-8"))
    return data["members"], data["cases"]


def tally(cases: Sequence[dict[str, Any]], members: dict[str, list[str]], kind: str) -> tuple:
    tp = fp = fn = 0
    for case in cases:
        found = {
            f.kind.value
            for f in find_identifiers(case["text"], today=TODAY, keep_names=members[case["lang"]])
        }
        expected, got = kind in case["kinds"], kind in found
        tp += expected and got
        fp += got and not expected
        fn += expected and not got
    return tp, fp, fn


def test_the_names_set_is_large_balanced_and_has_a_held_out_part():
    _, cases = load_cases()

    assert len(cases) >= 300
    assert all(sum(c["lang"] == lang for c in cases) >= 100 for lang in LANGUAGES)
    assert sum(bool(c.get("held_out")) for c in cases) >= 0.25 * len(cases)
    assert sum(not c["kinds"] for c in cases) >= 0.3 * len(cases)


@pytest.mark.parametrize("language", LANGUAGES)
def test_names_meet_their_floor_in_each_language(language: str):
    members, cases = load_cases()
    tp, fp, fn = tally([c for c in cases if c["lang"] == language], members, "name")

    assert tp / (tp + fp) >= 0.9, f"precision {tp / (tp + fp):.3f}"
    assert tp / (tp + fn) >= 0.9, f"recall {tp / (tp + fn):.3f}"
