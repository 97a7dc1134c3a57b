"""The message catalogues: complete in every language, consistent placeholders."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalogue, language_or_default, t

ROOT = Path(__file__).resolve().parents[2]
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+(?:\.[a-z_0-9]+)+|help|status)["']""")
DYNAMIC_KEYS = {
    "role.": ["case_owner", "facilitator", "group"],
    "status.": ["running", "paused", "closed"],
    "step.speakers.": ["case_owner", "group", "facilitator", "everyone"],
    "step.input.": ["free", "one_per_person", "vote", "reactions", "actions", "none"],
    "method.input.": ["free", "one_per_person", "vote", "reactions", "actions", "none"],
    "method.advance.": ["facilitator", "all_ready", "majority_ready"],
}


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _keys_used_in_code() -> set[str]:
    keys: set[str] = set()
    for path in (ROOT / "bot").rglob("*.py"):
        keys |= set(LITERAL_KEY.findall(path.read_text("utf-8")))
        keys |= set(re.findall(r'RuleViolation\(\s*"([a-z_.]+)"', path.read_text("utf-8")))
        keys |= set(re.findall(r'Notice\([^,]+,\s*"([a-z_.]+)"', path.read_text("utf-8")))
    for prefix, suffixes in DYNAMIC_KEYS.items():
        keys |= {prefix + suffix for suffix in suffixes}
    return keys


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_key(language: str) -> None:
    assert set(catalogue(language)) == set(catalogue("en"))


@pytest.mark.parametrize("language", ["nl", "de"])
def test_placeholders_match_the_english_text(language: str) -> None:
    english = catalogue("en")
    for key, text in catalogue(language).items():
        assert _placeholders(text) == _placeholders(english[key]), key


def test_every_key_the_code_uses_is_in_the_catalogue() -> None:
    missing = _keys_used_in_code() - set(catalogue("en"))
    assert not missing


def test_regional_variants_use_their_language() -> None:
    assert language_or_default("de-CH") == "de"
    assert language_or_default("nl_BE") == "nl"


def test_unknown_languages_fall_back_to_english() -> None:
    assert language_or_default("fr") == "en"
    assert t("rule.closed", "fr") == "This session is closed."
