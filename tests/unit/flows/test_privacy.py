"""The privacy guard: which identifiers it finds, which numbers it leaves alone, how it redacts.

All numbers here are fiction with computed check digits (see privacy_cases.yaml).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.flows.privacy import (
    PEOPLE_KINDS,
    Finding,
    IdentifierKind,
    find_identifiers,
    placeholder,
    redact,
)

TODAY = date(2026, 6, 1)
CASES = Path(__file__).with_name("privacy_cases.yaml")

BSN = IdentifierKind.BSN
AHV = IdentifierKind.AHV
TAX_ID = IdentifierKind.TAX_ID_DE
IBAN = IdentifierKind.IBAN
PHONE = IdentifierKind.PHONE
EMAIL = IdentifierKind.EMAIL
BIRTH = IdentifierKind.DATE_OF_BIRTH
ADDRESS = IdentifierKind.POSTCODE_ADDRESS


def numbers(text: str, **kwargs: Any) -> list[Finding]:
    """The findings that are not names or institutions (those are tested in test_names.py)."""
    kwargs.setdefault("today", TODAY)
    return [f for f in find_identifiers(text, **kwargs) if f.kind not in PEOPLE_KINDS]


def kinds(text: str, **kwargs: Any) -> list[IdentifierKind]:
    return [f.kind for f in numbers(text, **kwargs)]


def spans(text: str, **kwargs: Any) -> list[str]:
    return [text[f.start : f.end] for f in numbers(text, **kwargs)]


# --- citizen, tax and bank numbers ---------------------------------------------------------


@pytest.mark.parametrize("number", ["972281861", "972 281 861", "9722.81.861", "9722 81 861"])
def test_a_valid_bsn_is_found_in_any_usual_grouping(number: str):
    text = f"Het BSN van moeder is {number}, stond op de brief."

    assert spans(text) == [number]
    assert kinds(text) == [BSN]


def test_a_nine_digit_number_failing_the_11_check_is_not_a_bsn():
    assert kinds("Het BSN van moeder is 972281862, stond op de brief.") == []


def test_a_valid_bsn_shaped_amount_is_not_a_bsn():
    assert kinds("De schuld is 972 281 861 euro, zegt vader.") == []


def test_a_number_glued_to_letters_or_a_ticket_mark_is_not_a_bsn():
    assert kinds("Ticket #972281861 en code X972281861 in het systeem.") == []


@pytest.mark.parametrize("number", ["756.3654.9440.50", "7563654944050", "756 3654 9440 50"])
def test_a_valid_ahv_number_is_found(number: str):
    assert spans(f"AHV-Nummer der Mutter: {number}.") == [number]
    assert kinds(f"AHV-Nummer der Mutter: {number}.") == [AHV]


def test_an_ahv_number_with_a_wrong_check_digit_is_not_found():
    assert kinds("AHV-Nummer der Mutter: 756.3654.9440.51.") == []


@pytest.mark.parametrize("number", ["95 716 423 996", "95716423996"])
def test_a_valid_german_tax_id_is_found(number: str):
    assert spans(f"Steuer-ID {number} auf dem Bescheid.") == [number]
    assert kinds(f"Steuer-ID {number} auf dem Bescheid.") == [TAX_ID]


def test_a_german_tax_id_with_a_wrong_check_digit_is_not_found():
    assert kinds("Steuer-ID 95 716 423 997 auf dem Bescheid.") == []


def test_an_iban_with_spaces_is_found():
    text = "Unterhalt geht auf DE79 0000 0000 1234 5678 90, das Konto des Vaters."

    assert spans(text) == ["DE79 0000 0000 1234 5678 90"]
    assert kinds(text) == [IBAN]


def test_an_iban_without_spaces_is_found():
    assert kinds("Rekening NL25ZZZZ0555123456 op naam van beide ouders.") == [IBAN]


def test_an_iban_ends_where_its_last_valid_group_ends():
    text = "Überweisung von CH85 9999 9000 0123 4567 8 CHF 200."

    assert spans(text) == ["CH85 9999 9000 0123 4567 8"]


def test_an_iban_with_a_wrong_check_is_neither_an_iban_nor_a_phone_number():
    assert kinds("IBAN NL51 ZZZZ 0123 4567 88 lijkt een tikfout.", regions=("DE",)) == []


# --- phone numbers and e-mail --------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        pytest.param("06-12345678", id="nl-mobile"),
        pytest.param("010 555 0123", id="nl-landline"),
        pytest.param("0152 28817386", id="de-mobile"),
        pytest.param("030 23125 123", id="de-landline"),
        pytest.param("044 555 12 34", id="ch-landline"),
        pytest.param("+41 79 555 12 34", id="ch-international"),
        pytest.param("+31(0)6 12345678", id="nl-international-trunk"),
        pytest.param("0041 61 555 66 77", id="ch-00-prefix"),
        pytest.param("+44 20 7946 0123", id="uk-international"),
        pytest.param("+1 202 555 0143", id="us-international"),
    ],
)
def test_a_phone_number_is_found(number: str):
    text = f"Bereikbaar op {number} na zes uur."

    assert spans(text) == [number]
    assert kinds(text) == [PHONE]


def test_national_phone_formats_are_read_for_the_given_regions_only():
    text = "Die Grossmutter ist unter 044 555 12 34 erreichbar."

    assert kinds(text, regions=("NL",)) == []
    assert kinds(text, regions=("CH",)) == [PHONE]


def test_an_international_number_is_found_whatever_the_regions():
    assert kinds("Oma in Keulen: +49 30 23125 789.", regions=("CH",)) == [PHONE]


def test_a_number_found_for_several_regions_is_one_finding():
    assert kinds("Mutter: +41 79 555 12 34.", regions=("NL", "DE", "CH")) == [PHONE]


def test_an_unknown_region_is_refused():
    with pytest.raises(ValueError, match="XX"):
        find_identifiers("Bel 06-12345678", regions=("NL", "XX"))


def test_a_toll_free_helpline_is_not_a_phone_finding():
    assert kinds("Bel Veilig Thuis via 0800-2000 of het Hilfetelefon 08000 116 016.") == []


def test_an_email_address_is_found():
    text = "Vader mailt vanaf p.devries.1979@example.nl met dreigende berichten."

    assert spans(text) == ["p.devries.1979@example.nl"]
    assert kinds(text) == [EMAIL]


def test_a_chat_mention_is_not_an_email_address():
    assert kinds("@anna kun jij de casus inbrengen? <@U123ABC>") == []


# --- dates of birth --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "date_text"),
    [
        pytest.param("Daan is geboren op 12 maart 2015.", "12 maart 2015", id="nl-geboren"),
        pytest.param("Geboortedatum: 04-07-2021.", "04-07-2021", id="nl-geboortedatum"),
        pytest.param("Zoon (geb. 30-09-2013) weigert school.", "30-09-2013", id="nl-geb"),
        pytest.param("Leon, geb. am 12. März 2015, in Klasse 5.", "12. März 2015", id="de-geb-am"),
        pytest.param("Geburtsdatum des Kindes: 04.07.2012.", "04.07.2012", id="de-geburtsdatum"),
        pytest.param("Frau K. (*14.05.1987) im Frauenhaus.", "14.05.1987", id="de-star"),
        pytest.param("Sam was born on 12 March 2015.", "12 March 2015", id="en-born"),
        pytest.param("DOB 04/07/2012, lives with dad.", "04/07/2012", id="en-dob"),
        pytest.param("Date of birth: March 12, 2015.", "March 12, 2015", id="en-date-of-birth"),
        pytest.param("Born in Utrecht on the 3rd of May 2016.", "3rd of May 2016", id="en-place"),
    ],
)
def test_a_date_after_a_birth_word_is_a_date_of_birth(text: str, date_text: str):
    assert spans(text) == [date_text]
    assert kinds(text) == [BIRTH]


@pytest.mark.parametrize(
    "text",
    [
        "Het meisje is op 3-5-2016 geboren.",
        "Das Mädchen wurde am 1.2.2019 geboren.",
        "The youngest, 12/03/2015 (DOB), is in year 5.",
    ],
)
def test_a_birth_word_just_after_the_date_counts(text: str):
    assert kinds(text) == [BIRTH]


def test_a_two_digit_year_counts_after_a_birth_word_only():
    assert kinds("Der Vater (geb. 12.03.79) ist arbeitslos.") == [BIRTH]
    assert kinds("Der Vater (12.03.79) ist arbeitslos.") == []


@pytest.mark.parametrize(
    "text",
    [
        "Op 12-03-2025 hadden we een MDO met de school.",
        "Am 12.03.2025 hatten wir ein Standortgespräch.",
        "Das Gespräch vom 3. Mai 2024 ist protokolliert.",
        "On 12 March 2025 we had a case conference.",
        "Since 1 January 2024 a new guardian is appointed.",
    ],
)
def test_a_date_after_an_event_word_is_not_a_date_of_birth(text: str):
    assert kinds(text) == []


def test_a_date_without_cue_a_year_or_more_back_is_a_date_of_birth():
    assert kinds("Lisa (12-03-2015) woont om de week bij vader.") == [BIRTH]


def test_a_date_without_cue_within_the_last_year_is_not_a_date_of_birth():
    assert kinds("Het verslag 15-07-2025 staat in het dossier.") == []


def test_without_today_only_a_date_with_a_birth_word_is_a_date_of_birth():
    assert kinds("Lisa (12-03-2015) woont bij vader.", today=None) == []
    assert kinds("Lisa (geb. 12-03-2015) woont bij vader.", today=None) == [BIRTH]


def test_a_date_after_today_is_never_a_date_of_birth():
    assert kinds("Geboren op 3 juni 2026? Nee, dan is de zitting.") == []


@pytest.mark.parametrize(
    "text",
    [
        "12.03.2015 bis 14.03.2015 war sie im Spital.",
        "2020-02-01: first report by the school.",
        "Notities:\n3.2.2024 moeder belt, wil een gesprek.",
    ],
)
def test_a_date_heading_a_note_or_bounding_a_range_is_not_a_date_of_birth(text: str):
    assert kinds(text) == []


# --- addresses ------------------------------------------------------------------------------


def test_a_street_with_a_dutch_postcode_and_place_is_one_address():
    text = "Het gezin woont op de Kerkstraat 12, 3512 JK Utrecht, boven een winkel."

    assert spans(text) == ["Kerkstraat 12, 3512 JK Utrecht"]
    assert kinds(text) == [ADDRESS]


@pytest.mark.parametrize(
    ("text", "address"),
    [
        pytest.param(
            "Sie wohnt an der Hauptstrasse 12, 4132 Muttenz, im 3. Stock.",
            "Hauptstrasse 12, 4132 Muttenz",
            id="ch",
        ),
        pytest.param(
            "Neue Adresse: Bahnhofstraße 5, 79098 Freiburg.",
            "Bahnhofstraße 5, 79098 Freiburg",
            id="de",
        ),
        pytest.param("Moved to 12 Baker Street last month.", "12 Baker Street", id="en"),
        pytest.param(
            "Pflegefamilie: Am Rain 4, 6003 Luzern.", "Am Rain 4, 6003 Luzern", id="ch-no-suffix"
        ),
    ],
)
def test_a_street_with_house_number_and_postcode_is_an_address(text: str, address: str):
    assert spans(text) == [address]


def test_a_dutch_postcode_with_place_but_no_street_is_an_address():
    assert kinds("Postcode 1234 AB staat op de envelop.") == [ADDRESS]
    assert kinds("Ze woont in 3512 JK Utrecht.") == [ADDRESS]


def test_a_german_or_swiss_postcode_with_place_but_no_street_is_not_flagged():
    assert kinds("Die Familie ist nach 4132 Muttenz gezogen, später nach 79098 Freiburg.") == []


def test_units_in_postcode_shape_are_not_addresses():
    assert kinds("De bijlage is 2048 MB, de reis 1000 KM.") == []


# --- what must not be flagged ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Sinds 2019 is er contact met Veilig Thuis, in 2022 volgde een melding.",
        "Zwischen 2016 und 2018 gab es mindestens 4 Polizeieinsätze.",
        "The baby was born in 2025 and is doing well.",
    ],
)
def test_years_alone_are_not_flagged(text: str):
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Het huisbezoek is om 14:30, de intervisie om 9.30 uur.",
        "Schichtbeginn 06:00 Uhr, Telefonzeit 08:00-09:00.",
        "We spraken af dat zij om 06.45 uur de kinderen brengt.",
    ],
)
def test_times_are_not_flagged(text: str):
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "We zitten in sessie 3, stap 2 van 6.",
        "Wir sind bei Sitzung 3, Schritt 2 von 6.",
        "We are in session 3, step 2 of 6.",
    ],
)
def test_session_and_step_numbers_are_not_flagged(text: str):
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Het gezin heeft 12 345 euro schuld en 3 kinderen.",
        "Die Schulden betragen 12 345 Franken.",
        "She wrote her debts as 100 200 300 in her notebook.",
        "Kundennummer 0123 456 789 beim Energieversorger.",
        "Notruf 112, Polizei 117, Sanität 144.",
    ],
)
def test_counts_and_phone_like_numbers_are_not_flagged(text: str):
    assert kinds(text) == []


@pytest.mark.parametrize(
    "text",
    [
        "Volgens de school is zij 80% van de tijd afwezig.",
        "In 60 % der Fälle kommt die Meldung von der Schule.",
        "Artikel 1:255 BW, § 8a SGB VIII, Art. 307 ZGB.",
        "Page 12 of 40, item 3.2 of the protocol, version 1.4.",
    ],
)
def test_percentages_and_ordinary_numbers_are_not_flagged(text: str):
    assert kinds(text) == []


# --- findings and redaction ----------------------------------------------------------------


def test_a_finding_holds_kind_and_span_only():
    (finding,) = find_identifiers("BSN 972281861.")

    assert [f.name for f in fields(Finding)] == ["kind", "start", "end"]
    assert "972281861" not in repr(finding)


def test_a_finding_needs_a_non_empty_span():
    with pytest.raises(ValueError, match="start < end"):
        Finding(PHONE, 5, 5)


def test_a_placeholder_is_the_same_in_every_language():
    assert placeholder(PHONE) == "[redacted:phone]"
    assert placeholder(ADDRESS) == "[redacted:postcode_address]"


def test_redact_replaces_exactly_the_spans_and_keeps_the_rest():
    text = "BSN 972281861 en tel 06-12345678, verder niets."
    findings = find_identifiers(text)

    assert redact(text, findings) == "BSN [redacted:bsn] en tel [redacted:phone], verder niets."


def test_redact_without_findings_returns_the_text_unchanged():
    assert redact("Sessie 3 om 14:30.", []) == "Sessie 3 om 14:30."


def test_redact_merges_overlapping_findings_into_one_placeholder():
    text = "Nummer 0612345678 klopt."
    overlapping = [Finding(PHONE, 7, 17), Finding(BSN, 8, 17), Finding(PHONE, 10, 14)]

    assert redact(text, overlapping) == "Nummer [redacted:phone] klopt."


def test_redact_refuses_a_finding_beyond_the_text():
    with pytest.raises(ValueError, match="beyond"):
        redact("kort", [Finding(PHONE, 2, 10)])


def test_a_phone_like_run_inside_an_iban_is_part_of_the_iban():
    text = "IBAN NL51 ZZZZ 0123 4567 89."

    assert find_identifiers(text, regions=("DE", "CH")) == [Finding(IBAN, 5, 27)]


def test_several_kinds_in_one_text_are_found_in_order():
    text = "AHV 756.5215.3589.86, mail m.smith@example.com, geb. 14-05-1987."

    assert kinds(text) == [AHV, EMAIL, BIRTH]


# --- properties over random text ----------------------------------------------------------

FRAGMENTS = (
    "972281861",
    "756.3654.9440.50",
    "95 716 423 996",
    "NL51 ZZZZ 0123 4567 89",
    "06-12345678",
    "+41 79 555 12 34",
    "a@example.nl",
    "geb. 12.03.2015",
    "Kerkstraat 12, 3512 JK Utrecht",
    "12:30",
    "2015",
    "sessie 3",
    "€",
    "\n",
)
WORDS = ("de", "moeder", "und", "Kind", "the", "school", "op", "am", "on", ",", ".", "(", ")")
ORDINARY = ("De moeder", "zegt", "dass", "das Kind", "the school", "called", "gisteren", "oft")

texts = st.lists(
    st.one_of(
        st.sampled_from(FRAGMENTS),
        st.sampled_from(WORDS),
        st.text(alphabet="0123456789 .-/:+@*#ABZaez", max_size=12),
    ),
    max_size=12,
).map(" ".join)


@settings(deadline=None, max_examples=200)
@given(texts)
def test_findings_are_ordered_disjoint_and_inside_the_text(text: str):
    findings = find_identifiers(text, today=TODAY)

    assert all(0 <= f.start < f.end <= len(text) for f in findings)
    assert all(a.end <= b.start for a, b in pairwise(findings))
    assert redact(text, []) == text


@settings(deadline=None, max_examples=100)
@given(
    st.lists(st.sampled_from(ORDINARY), max_size=4),
    st.sampled_from(
        [
            ("BSN 972281861", BSN),
            ("AHV 756.3654.9440.50", AHV),
            ("Steuer-ID 95 716 423 996", TAX_ID),
            ("IBAN NL51 ZZZZ 0123 4567 89", IBAN),
            ("tel. 06-12345678", PHONE),
            ("mail a.b@example.nl", EMAIL),
            ("geboren op 12-03-2015", BIRTH),
            ("Kerkstraat 12, 3512 JK Utrecht", ADDRESS),
        ]
    ),
    st.lists(st.sampled_from(ORDINARY), max_size=4),
)
def test_an_identifier_among_ordinary_words_is_found_and_redacted(
    before: list[str], identifier: tuple[str, IdentifierKind], after: list[str]
):
    phrase, kind = identifier
    text = " ".join([*before, phrase + ",", *after])

    assert kinds(text) == [kind]
    assert redact(text, find_identifiers(text, today=TODAY)).count(placeholder(kind)) == 1


# --- the labelled set --------------------------------------------------------------------------


def load_cases() -> tuple[date, list[dict[str, Any]]]:
    data = yaml.safe_load(CASES.read_text("utf-8"))
    return data["today"], data["cases"]


def score(cases: Sequence[dict[str, Any]], today: date) -> tuple[int, int, int]:
    """True positives, false positives and false negatives, counted per sentence and kind."""
    tp = fp = fn = 0
    for case in cases:
        expected = set(case["kinds"])
        found = {f.kind.value for f in find_identifiers(case["text"], today=today)}
        tp += len(found & expected)
        fp += len(found - expected)
        fn += len(expected - found)
    return tp, fp, fn


def test_the_labelled_set_is_large_balanced_and_half_clean():
    _, cases = load_cases()
    by_language = {lang: sum(c["lang"] == lang for c in cases) for lang in ("nl", "de", "en")}
    known = {kind.value for kind in IdentifierKind}

    assert len(cases) >= 120
    assert all(n >= len(cases) / 4 for n in by_language.values()), by_language
    assert sum(not c["kinds"] for c in cases) >= 0.4 * len(cases)
    assert all(set(c["kinds"]) <= known for c in cases)
    numbers = known - {kind.value for kind in PEOPLE_KINDS}
    assert {kind for c in cases for kind in c["kinds"]} >= numbers


def test_the_guard_meets_its_quality_floor_on_the_labelled_set():
    today, cases = load_cases()
    tp, fp, fn = score(cases, today)

    assert tp / (tp + fp) >= 0.9, f"precision {tp / (tp + fp):.3f}"
    assert tp / (tp + fn) >= 0.9, f"recall {tp / (tp + fn):.3f}"
