"""Domain: the privacy guard applied to what people write in a session. Pure: ``today`` is given.

Every case text and contribution passes ``screen`` before it is stored. The guard
(``bot.flows.privacy``) finds identifiers; what happens then is the group's choice:

- ``redact`` (the default): the text is stored with each identifier replaced by its
  placeholder (``[redacted:phone]``, a name by ``[naam]``/``[Name]``/``[name]`` in the
  session's language) and counts as usual;
- ``hold``: the text is stored redacted too, but held back: it is not counted and not in
  the record until its author edits it into a text without identifiers.

Either way the identifier itself is never stored, and only its author is told, by kind
(``privacy_notice``), never by value.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.flows.privacy import DEFAULT_REGIONS, IdentifierKind, find_identifiers, redact
from bot.flows.session import Notice


class PrivacyMode(StrEnum):
    """What a group does with a contribution that holds an identifier."""

    REDACT = "redact"
    HOLD = "hold"


@dataclass(frozen=True)
class Screened:
    """A text after the guard: what may be stored, which kinds were found, held or not."""

    text: str
    kinds: tuple[IdentifierKind, ...] = ()
    held: bool = False

    @property
    def clean(self) -> bool:
        return not self.kinds


def screen(
    text: str,
    *,
    today: date | None,
    mode: PrivacyMode = PrivacyMode.REDACT,
    regions: Sequence[str] = DEFAULT_REGIONS,
    members: Collection[str] = (),
    placeholders: Mapping[IdentifierKind, str] | None = None,
) -> Screened:
    """``text`` with its identifiers redacted, the kinds found (each once, in order of
    appearance), and whether the group's ``mode`` holds it back.

    ``members`` are the names of the group's own people (handles, display names): they
    are not clients and stay in the text. ``placeholders`` are the words that stand in for
    a kind in the text's language (``[naam]``); the others keep ``[redacted:<kind>]``.
    """
    findings = find_identifiers(text, regions=regions, today=today, keep_names=members)
    if not findings:
        return Screened(text)
    kinds = tuple(dict.fromkeys(f.kind for f in findings))
    return Screened(redact(text, findings, placeholders), kinds, held=mode is PrivacyMode.HOLD)


def privacy_notice(author: str, screened: Screened, *, edited: bool = False) -> Notice | None:
    """The private message to the author naming what was found and what to do, if anything.

    ``kinds`` are identifier kinds; the use case shows them in the reader's language.
    """
    if screened.clean:
        return None
    key = "privacy.held" if screened.held else "privacy.redacted"
    if edited and not screened.held:
        key = "privacy.redacted_edit"
    return Notice(author, key, {"kinds": tuple(k.value for k in screened.kinds)})


def parse_mode(value: object) -> PrivacyMode:
    """A group's stored setting as a mode; anything unknown is the safe default, redact."""
    try:
        return PrivacyMode(str(value))
    except ValueError:
        return PrivacyMode.REDACT
