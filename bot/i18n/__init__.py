"""Message catalogues: every text a person reads, in Dutch, German and English.

The catalogues are gettext ``.po`` files read with Babel. Message ids are symbolic keys
(``rule.silent``); placeholders use ``{name}``. An unknown language falls back to English.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

LANGUAGES = ("nl", "de", "en")
DEFAULT_LANGUAGE = "en"


@cache
def catalogue(language: str) -> dict[str, str]:
    """All messages of one language, key to text."""
    from babel.messages.pofile import read_po  # on first use: importing babel takes a while

    path = resources.files("bot.i18n").joinpath(f"locale/{language}/LC_MESSAGES/messages.po")
    with path.open("rb") as handle:
        po = read_po(handle, locale=language)
    return {str(m.id): str(m.string) for m in po if m.id and m.string}


def language_or_default(language: str | None) -> str:
    """``language`` if we have a catalogue for it (``de-CH`` counts as ``de``), else English."""
    if not language:
        return DEFAULT_LANGUAGE
    short = language.replace("_", "-").split("-")[0].lower()
    return short if short in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, language: str | None, **params: Any) -> str:
    """The text for ``key`` in ``language`` with ``params`` filled in.

    Raises:
        KeyError: when no catalogue has the key (a programming error caught by the tests).
    """
    lang = language_or_default(language)
    text = catalogue(lang).get(key) or catalogue(DEFAULT_LANGUAGE)[key]
    return text.format(**params) if params else text
