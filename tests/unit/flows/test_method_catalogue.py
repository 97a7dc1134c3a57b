"""The built-in method catalogue, and how organisation files extend or break it.

Each test states one behaviour of the catalogue as a sentence; together they are the
specification of the seven built-in methods (DESIGN.md §3.1).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flows.method import (
    LANGUAGES,
    Catalogue,
    InputKind,
    Method,
    MethodFileError,
    Role,
    Speakers,
    builtin_dir,
    load_catalogue,
    load_method_file,
)

BUILTIN_IDS = (
    "balint",
    "heilsbronner",
    "ims",
    "incidentmethode",
    "kollegiale-beratung",
    "moed-en-lef",
    "roddelmethode",
)
BUILTIN_FILES = sorted(builtin_dir().glob("*.yaml"))


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(builtin_dir())


def method(catalogue: Catalogue, method_id: str) -> Method:
    found = catalogue.get(method_id)
    assert found is not None, f"{method_id} is missing from the catalogue"
    return found


# --- the built-in files -------------------------------------------------------------------


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.name)
def test_every_builtin_file_loads_without_errors(path: Path) -> None:
    result = load_method_file(path)
    assert isinstance(result, Method), str(result)


@pytest.mark.parametrize("path", BUILTIN_FILES, ids=lambda p: p.name)
def test_every_builtin_file_is_named_after_its_method_id(path: Path) -> None:
    result = load_method_file(path)
    assert isinstance(result, Method)
    assert path.stem == result.id


def test_the_catalogue_holds_exactly_the_seven_builtin_methods(catalogue: Catalogue) -> None:
    assert catalogue.errors == []
    assert sorted(catalogue.methods) == list(BUILTIN_IDS)


@pytest.mark.parametrize("method_id", BUILTIN_IDS)
def test_every_method_has_a_name_and_summary_in_dutch_german_and_english(
    catalogue: Catalogue, method_id: str
) -> None:
    found = method(catalogue, method_id)
    for language in LANGUAGES:
        assert found.names[language].strip()
        assert found.summary[language].strip()


@pytest.mark.parametrize("method_id", BUILTIN_IDS)
def test_every_step_has_a_title_and_instruction_in_dutch_german_and_english(
    catalogue: Catalogue, method_id: str
) -> None:
    for step in method(catalogue, method_id).steps:
        for language in LANGUAGES:
            assert step.title[language].strip(), f"{step.id} has no {language} title"
            assert step.instruction[language].strip(), f"{step.id} has no {language} instruction"


@pytest.mark.parametrize("method_id", BUILTIN_IDS)
def test_every_method_asks_for_pseudonyms_in_every_language(
    catalogue: Catalogue, method_id: str
) -> None:
    words = {"nl": "schuilnam", "de": "pseudonym", "en": "pseudonym"}
    steps = method(catalogue, method_id).steps
    for language, word in words.items():
        assert any(word in step.instruction[language].lower() for step in steps), language


@pytest.mark.parametrize("method_id", BUILTIN_IDS)
def test_a_step_that_silences_the_case_owner_never_asks_the_case_owner_to_speak(
    catalogue: Catalogue, method_id: str
) -> None:
    for step in method(catalogue, method_id).steps:
        if step.is_silent(Role.CASE_OWNER):
            assert step.speakers is Speakers.GROUP, step.id


# --- IMS ----------------------------------------------------------------------------------


def test_ims_has_six_steps(catalogue: Catalogue) -> None:
    assert len(method(catalogue, "ims").steps) == 6


def test_ims_says_in_every_language_that_it_is_a_replaceable_reconstruction(
    catalogue: Catalogue,
) -> None:
    note = method(catalogue, "ims").note
    assert note is not None
    assert all(note[language].strip() for language in LANGUAGES)
    assert "reconstruction" in note["en"]


def test_ims_cites_the_fhnw_source(catalogue: Catalogue) -> None:
    assert "FHNW" in method(catalogue, "ims").source
    assert "Tov, Kunz, Stämpfli 2013" in method(catalogue, "ims").source


def test_ims_ends_by_collecting_alternatives_for_own_practice(catalogue: Catalogue) -> None:
    assert method(catalogue, "ims").steps[-1].input is InputKind.ACTIONS


# --- Movisie moed en lef ------------------------------------------------------------------


def test_moed_en_lef_maps_the_four_discomfort_emoji_to_their_sources(
    catalogue: Catalogue,
) -> None:
    found = method(catalogue, "moed-en-lef")
    step = next(s for s in found.steps if s.input is InputKind.REACTIONS)
    meanings = {
        emoji: (found.meaning_of(step.id, emoji) or {}).get("nl")
        for emoji in ("fearful", "thinking_face", "raised_hand", "worried")
    }
    assert meanings == {
        "fearful": "angst",
        "thinking_face": "onzekerheid",
        "raised_hand": "weerstand",
        "worried": "zorgen",
    }


def test_moed_en_lef_reminds_of_the_reporting_protocol(catalogue: Catalogue) -> None:
    found = method(catalogue, "moed-en-lef")
    assert found.protocol_reminder is True
    assert any("Meldcode" in step.instruction["nl"] for step in found.steps)


def test_moed_en_lef_starts_with_the_case_owner_telling_the_case(catalogue: Catalogue) -> None:
    assert method(catalogue, "moed-en-lef").steps[0].speakers is Speakers.CASE_OWNER


def test_moed_en_lef_links_only_to_https_pages_on_movisie(catalogue: Catalogue) -> None:
    media = [m for step in method(catalogue, "moed-en-lef").steps for m in step.media]
    assert {m.kind for m in media} == {"video", "article"}
    assert all(m.url.startswith("https://www.movisie.nl/") for m in media)


def test_moed_en_lef_ends_with_personal_and_team_actions_explained_in_every_language(
    catalogue: Catalogue,
) -> None:
    last = method(catalogue, "moed-en-lef").steps[-1]
    assert last.input is InputKind.ACTIONS
    for language in LANGUAGES:
        assert "team:" in last.instruction[language]


# --- Kollegiale Beratung ------------------------------------------------------------------


def test_kollegiale_beratung_consultation_keeps_the_case_owner_silent(
    catalogue: Catalogue,
) -> None:
    consultation = method(catalogue, "kollegiale-beratung").step("consultation")
    assert consultation.is_silent(Role.CASE_OWNER)


def test_kollegiale_beratung_lets_the_group_vote_on_five_consultation_methods(
    catalogue: Catalogue,
) -> None:
    choice = method(catalogue, "kollegiale-beratung").step("method_choice")
    assert choice.input is InputKind.VOTE
    assert [o.key for o in choice.options] == [
        "brainstorming",
        "headstand",
        "resonance",
        "hypotheses",
        "good_advice",
    ]
    assert len({o.emoji for o in choice.options}) == 5


def test_kollegiale_beratung_is_for_five_to_ten_people_in_45_to_50_minutes(
    catalogue: Catalogue,
) -> None:
    found = method(catalogue, "kollegiale-beratung")
    assert (found.min_group, found.max_group) == (5, 10)
    assert 45 <= sum(step.sync_minutes for step in found.steps) <= 50


# --- Incidentmethode ----------------------------------------------------------------------


def test_incidentmethode_has_ten_rounds_of_about_65_minutes(catalogue: Catalogue) -> None:
    found = method(catalogue, "incidentmethode")
    assert len(found.steps) == 10
    assert sum(step.sync_minutes for step in found.steps) == 65


def test_incidentmethode_collects_one_written_position_per_person(catalogue: Catalogue) -> None:
    positions = method(catalogue, "incidentmethode").step("written_positions")
    assert positions.input is InputKind.ONE_PER_PERSON
    assert positions.is_silent(Role.CASE_OWNER)


def test_incidentmethode_reveals_what_the_case_owner_did_only_after_the_positions(
    catalogue: Catalogue,
) -> None:
    found = method(catalogue, "incidentmethode")
    assert found.index_of("written_positions") < found.index_of("what_happened")
    assert found.step("what_happened").speakers is Speakers.CASE_OWNER


# --- Balint -------------------------------------------------------------------------------


def test_balint_has_eleven_steps_for_at_least_five_people_in_one_to_two_hours(
    catalogue: Catalogue,
) -> None:
    found = method(catalogue, "balint")
    assert len(found.steps) == 11
    assert found.min_group == 5
    assert 60 <= sum(step.sync_minutes for step in found.steps) <= 120


def test_balint_case_owner_does_not_respond_during_the_group_judgement(
    catalogue: Catalogue,
) -> None:
    assert method(catalogue, "balint").step("group_judgement").is_silent(Role.CASE_OWNER)


# --- Roddelmethode ------------------------------------------------------------------------


def test_roddelmethode_has_five_steps(catalogue: Catalogue) -> None:
    assert len(method(catalogue, "roddelmethode").steps) == 5


def test_roddelmethode_step_3_keeps_the_case_owner_silent(catalogue: Catalogue) -> None:
    third = method(catalogue, "roddelmethode").steps[2]
    assert third.is_silent(Role.CASE_OWNER)
    assert third.speakers is Speakers.GROUP


# --- Heilsbronner -------------------------------------------------------------------------


def test_heilsbronner_has_eight_phases(catalogue: Catalogue) -> None:
    assert len(method(catalogue, "heilsbronner").steps) == 8


def test_heilsbronner_takes_ten_to_twelve_days_asynchronously(catalogue: Catalogue) -> None:
    hours = sum(step.async_hours for step in method(catalogue, "heilsbronner").steps)
    assert 10 * 24 <= hours <= 12 * 24


def test_heilsbronner_case_owner_listens_to_the_hypotheses(catalogue: Catalogue) -> None:
    assert method(catalogue, "heilsbronner").step("hypotheses").is_silent(Role.CASE_OWNER)


# --- organisation files -------------------------------------------------------------------

VALID = """\
id: own-method
names: {nl: Eigen methode, de: Eigene Methode, en: Own method}
summary: {nl: Kort., de: Kurz., en: Short.}
source: our team
steps:
  - id: tell
    title: {nl: Vertellen, de: Erzählen, en: Tell}
    instruction: {nl: Vertel., de: Erzähl., en: Tell.}
    speakers: case_owner
    input: free
    duration: {sync_minutes: 5, async_hours: 24}
  - id: advise
    title: {nl: Adviseren, de: Beraten, en: Advise}
    instruction: {nl: Adviseer., de: Berate., en: Advise.}
    speakers: group
    silent: [case_owner]
    input: free
    duration: {sync_minutes: 10, async_hours: 24}
"""


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line number of the ``occurrence``-th line containing ``needle``."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    return hits[occurrence - 1]


def test_the_valid_example_loads(tmp_path: Path) -> None:
    path = tmp_path / "own-method.yaml"
    path.write_text(VALID, "utf-8")
    assert isinstance(load_method_file(path), Method)


def test_an_organisation_directory_adds_its_own_methods(tmp_path: Path) -> None:
    (tmp_path / "own-method.yaml").write_text(VALID, "utf-8")
    loaded = load_catalogue(builtin_dir(), tmp_path)
    assert sorted(loaded.methods) == sorted([*BUILTIN_IDS, "own-method"])


def test_an_organisation_directory_overrides_a_builtin_method_by_id(tmp_path: Path) -> None:
    own_ims = VALID.replace("id: own-method", "id: ims").replace("Own method", "Our IMS")
    (tmp_path / "our-ims.yaml").write_text(own_ims, "utf-8")
    loaded = load_catalogue(builtin_dir(), tmp_path)
    assert loaded.errors == []
    assert method(loaded, "ims").names["en"] == "Our IMS"
    assert len(method(loaded, "ims").steps) == 2
    assert sorted(loaded.methods) == list(BUILTIN_IDS)


def test_a_missing_organisation_directory_is_reported_and_the_builtins_still_load(
    tmp_path: Path,
) -> None:
    missing = tmp_path / "nowhere"
    loaded = load_catalogue(builtin_dir(), missing)
    assert [(e.path, e.reason) for e in loaded.errors] == [(str(missing), "not a directory")]
    assert sorted(loaded.methods) == list(BUILTIN_IDS)


BROKEN = {
    "bad_yaml": (
        VALID.replace("    input: free\n", "    input: free: yes\n", 1),
        ("input: free: yes", 1),
        "not valid YAML",
    ),
    "control_character": (
        VALID.replace("en: Tell.}", "en: Tell.\x07}", 1),
        ("\x07", 1),
        "characters are not allowed",
    ),
    "missing_field": (
        VALID.replace("    instruction: {nl: Adviseer., de: Berate., en: Advise.}\n", ""),
        ("- id: advise", 1),
        "'instruction' is a required property",
    ),
    "unknown_input_kind": (
        VALID.replace("    input: free\n", "    input: chat\n", 1),
        ("input: chat", 1),
        "'chat' is not one of",
    ),
    "duplicate_step_id": (
        VALID.replace("- id: advise", "- id: tell"),
        ("- id: tell", 2),
        "step id 'tell' is used twice",
    ),
    "vote_without_options": (
        VALID.replace("    silent: [case_owner]\n    input: free\n", "    input: vote\n"),
        ("- id: advise", 1),
        "collects a vote but has no options",
    ),
}


@pytest.mark.parametrize("case", BROKEN.values(), ids=list(BROKEN))
def test_a_broken_file_is_refused_with_path_line_and_reason_while_the_rest_loads(
    tmp_path: Path, case: tuple[str, tuple[str, int], str]
) -> None:
    text, (needle, occurrence), reason = case
    broken = tmp_path / "broken.yaml"
    broken.write_text(text, "utf-8")
    (tmp_path / "own-method.yaml").write_text(VALID, "utf-8")

    loaded = load_catalogue(builtin_dir(), tmp_path)

    assert len(loaded.errors) == 1
    error = loaded.errors[0]
    assert isinstance(error, MethodFileError)
    assert error.path == str(broken)
    assert error.line == line_of(text, needle, occurrence)
    assert reason in error.reason
    assert str(error).startswith(f"{broken}:{error.line}: ")
    assert sorted(loaded.methods) == sorted([*BUILTIN_IDS, "own-method"])
