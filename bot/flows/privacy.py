"""Domain: the privacy guard. Finds identifiers in case texts and contributions; redacts them.

Pure: no I/O, no clock. ``find_identifiers`` returns where identifiers are, never what they
say: a ``Finding`` holds a kind and a span, so it can be logged, counted and shown to the
author without repeating the identifier. ``redact`` replaces each span with a placeholder
that is the same in every language (``[redacted:phone]``), or the one the caller gives for
that kind (``[naam]`` for a name in a Dutch text); the caller localises the message to the
author.

What is found, and how:

- ``bsn``: a Dutch citizen service number, nine digits (``123456782``, ``123 456 782``,
  ``1234.56.782``) that pass the 11-check (``stdnum.nl.bsn``).
- ``ahv``: a Swiss AHV/AVS number, ``756.xxxx.xxxx.xx`` with or without dots, with a valid
  EAN-13 check digit (``stdnum.ch.ssn``).
- ``tax_id_de``: a German tax identification number (IdNr), eleven digits, plain or grouped
  ``12 345 678 901``, valid per ``stdnum.de.idnr`` (ISO 7064 check digit, digit-repeat rule).
- ``iban``: an IBAN of any country, with or without spaces, valid per ``stdnum.iban``
  (mod-97 check and the country's BBAN structure).
- ``phone``: a number ``phonenumbers.PhoneNumberMatcher`` finds with leniency ``VALID`` for
  any of ``regions``, written with a ``+``, ``00`` or trunk ``0`` (every national number in
  NL, DE and CH starts so; counts such as ``12 345`` do not). Spans found for several
  regions are merged. Toll-free, premium-rate and shared-cost numbers (``0800-2000``, a
  helpline) belong to organisations, not people, and are left alone; so are digits that
  are part of a date or of an IBAN-shaped string.
- ``email``: ``name@domain.tld``.
- ``date_of_birth``: see *The date-of-birth rule* below.
- ``postcode_address``: a street with a house number (``Kerkstraat 12``,
  ``Hauptstrasse 12a``, ``Zürcher Strasse 5``, ``12 Baker Street``; the street is known
  by its ending: -straat, -laan, -weg, -strasse, -gasse, -platz, ...), together with a
  postcode and place that follow it (``, 1234 AB Utrecht``, ``, 4132 Muttenz``,
  ``, D-79098 Freiburg``); any name with a house number when a postcode and place follow
  (``Am Rain 4, 6003 Luzern``); or a Dutch six-character postcode (``1234 AB``) after the
  word postcode or followed by a place name or a house number: it names a few houses. A
  German or Swiss postcode with a place but no street (``4132 Muttenz``) names a town, not
  a household, and is not flagged. A street is an address with or without its postcode.
- ``name``: a person's name, found by context (a title, a relation word, an age in
  brackets) and a given-name list; the group's own members (``keep_names``), authors of
  methods, months and words that are also names are left alone. See ``bot.flows.names``.
- ``institution``: a school, shelter, group home or practice named with its type or place
  (``Schulhaus Donnerbaum``, ``basisschool De Regenboog in Zeist``).
- ``date_of_birth`` in prose: a month with a year or a day with a month in the sentence of
  a birth word (``1985 geboren, am 12. März``, ``born in March 2015``).

Numbers next to a currency or unit (``€ 123456782``, ``123 456 782 euro``) are amounts, and
numbers glued to letters or marked as a ticket (``#123456782``) are references: neither is
taken for a citizen or tax number. Where findings overlap (a phone-like run inside an
IBAN, a number inside an e-mail address) they merge into one span; its kind is that of the
longest finding.

The date-of-birth rule
----------------------
A *full date* has day, month and year: ``12-03-2015``, ``12.03.2015``, ``12/03/2015``,
``2015-03-12``, ``12 maart 2015``, ``12. März 2015``, ``March 12, 2015``,
``12th of March 2015``. Years alone, ``12.03.`` and times are never dates. A full date is a
date of birth when, in this order:

1. a birth cue follows it closely (within 20 characters in the same sentence:
   ``op 12-03-2015 geboren``, ``12/03/2015 (DOB)``), or the nearest cue before it in its
   sentence (up to 40 characters back) is a birth cue (``geboren``, ``geb.``,
   ``geboortedatum``, ``Geburtsdatum``, ``geb. am``, ``born``, ``DOB``, ``date of birth``,
   a ``*`` just before the date, ...; ``born in Utrecht on`` counts as one cue). Then a
   two-digit year (``geb. 12.03.15``) counts too. The date must lie between 1900 and
   ``today`` (when given).
2. otherwise, when the nearest cue before it is an event cue (a time preposition such as
   ``op``/``am``/``on``/``seit``/``since``/``vanaf``/``bis``, or an event word such as
   ``gesprek``, ``Termin``, ``meeting``, ``melding``, ``Bericht``, ``report``), it is not.
3. otherwise, a date with no cue at all (``Lisa (12-03-2015) woont bij haar moeder``) is a
   date of birth only when ``today`` is given, its year is 1900 or later and it lies at
   least one year before ``today``: meetings, deadlines and recent events are near
   ``today``; birth dates of the people a case is about are years back. A date that heads
   a line or a note (``3.2.2024: Mutter ruft an``) or bounds a range (``12.03.2015 bis
   14.03.2015``) is an entry's or a period's date, not a birth date. Without ``today``
   only rule 1 applies.

The rule is tuned for precision: a birth date with no cue written within a year of
``today`` is missed, and an event date more than a year back with no cue (``placed in
foster care 15 August 2023``) is flagged.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

import phonenumbers
from stdnum import iban as stdnum_iban
from stdnum.ch import ssn as stdnum_ahv
from stdnum.de import idnr as stdnum_idnr
from stdnum.nl import bsn as stdnum_bsn

from bot.flows import names as people

__all__ = [
    "DEFAULT_REGIONS",
    "PEOPLE_KINDS",
    "Finding",
    "IdentifierKind",
    "find_identifiers",
    "placeholder",
    "redact",
]

DEFAULT_REGIONS: tuple[str, ...] = ("NL", "DE", "CH")


class IdentifierKind(StrEnum):
    BSN = "bsn"
    AHV = "ahv"
    TAX_ID_DE = "tax_id_de"
    IBAN = "iban"
    PHONE = "phone"
    EMAIL = "email"
    DATE_OF_BIRTH = "date_of_birth"
    POSTCODE_ADDRESS = "postcode_address"
    NAME = "name"
    INSTITUTION = "institution"


# Kinds that point to a person by words rather than by a number (``bot.flows.names``).
PEOPLE_KINDS: frozenset[IdentifierKind] = frozenset(
    {IdentifierKind.NAME, IdentifierKind.INSTITUTION}
)


# Which kind names a merged span when two findings of the same length overlap: the most
# specific (checksummed) identifier first.
_PRIORITY: dict[IdentifierKind, int] = {
    kind: rank
    for rank, kind in enumerate(
        (
            IdentifierKind.IBAN,
            IdentifierKind.AHV,
            IdentifierKind.BSN,
            IdentifierKind.TAX_ID_DE,
            IdentifierKind.EMAIL,
            IdentifierKind.PHONE,
            IdentifierKind.POSTCODE_ADDRESS,
            IdentifierKind.DATE_OF_BIRTH,
            IdentifierKind.INSTITUTION,
            IdentifierKind.NAME,
        )
    )
}


@dataclass(frozen=True, slots=True)
class Finding:
    """An identifier of ``kind`` at ``text[start:end]``. Holds no text, so it is safe to log."""

    kind: IdentifierKind
    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end:
            raise ValueError(f"a finding needs 0 <= start < end, got {self.start}..{self.end}")

    def overlaps(self, other: Finding) -> bool:
        return self.start < other.end and other.start < self.end

    @property
    def length(self) -> int:
        return self.end - self.start


def placeholder(kind: IdentifierKind) -> str:
    """The token that stands in for a redacted identifier, e.g. ``[redacted:phone]``."""
    return f"[redacted:{kind.value}]"


def find_identifiers(
    text: str,
    *,
    regions: Sequence[str] = DEFAULT_REGIONS,
    today: date | None = None,
    keep_names: Collection[str] = (),
) -> list[Finding]:
    """Every identifier in ``text``, in order, with overlapping findings merged.

    ``regions`` are the ISO 3166 regions whose national phone formats are read (numbers
    in international format are found whatever the regions). Citizen, tax and bank
    numbers, e-mail addresses, dates of birth and addresses are looked for always.
    ``today`` enables rule 3 of the date-of-birth rule (see the module docstring).
    Names, institutions and birth dates in prose are found by ``bot.flows.names``;
    ``keep_names`` (the group's own members: display names or handles) are left alone.

    Raises:
        ValueError: a region phonenumbers does not know.
    """
    unknown = [r for r in regions if r not in phonenumbers.SUPPORTED_REGIONS]
    if unknown:
        raise ValueError(f"unknown region(s): {', '.join(unknown)}")
    found: list[Finding] = []
    found += _ibans(text)
    found += _ahv_numbers(text)
    found += _bsns(text)
    found += _tax_ids(text)
    found += _emails(text)
    dates = list(_full_dates(text))
    found += _phones(text, regions, dates)
    found += _dates_of_birth(text, dates, today)
    found += _addresses(text)
    found += _people(text, keep_names, dates)
    return _join_addresses(text, _merge(found))


def redact(
    text: str,
    findings: Iterable[Finding],
    placeholders: Mapping[IdentifierKind, str] | None = None,
) -> str:
    """``text`` with each finding's span replaced by its placeholder; the rest unchanged.

    Overlapping findings become one placeholder (the kind of the longest).
    ``placeholders`` overrides ``placeholder(kind)`` per kind: a name is stored as
    ``[naam]`` in a Dutch text, the caller reads the words from the catalogue.
    """
    chosen = placeholders or {}
    parts: list[str] = []
    position = 0
    for finding in _merge(findings):
        if finding.end > len(text):
            raise ValueError("a finding lies beyond the end of the text")
        parts += (
            text[position : finding.start],
            chosen.get(finding.kind) or placeholder(finding.kind),
        )
        position = finding.end
    parts.append(text[position:])
    return "".join(parts)


def _merge(findings: Iterable[Finding]) -> list[Finding]:
    """Sorted findings, each group of overlapping ones merged into their union."""
    merged: list[Finding] = []
    group: list[Finding] = []
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if group and finding.start >= max(f.end for f in group):
            merged.append(_union(group))
            group = []
        group.append(finding)
    if group:
        merged.append(_union(group))
    return merged


def _union(group: list[Finding]) -> Finding:
    if len(group) == 1:
        return group[0]
    leader = min(group, key=lambda f: (-f.length, _PRIORITY[f.kind]))
    return Finding(leader.kind, min(f.start for f in group), max(f.end for f in group))


_ADDRESS_GAP = re.compile(r"[ \t]*[,;]?[ \t]*\n?[ \t]*")


def _join_addresses(text: str, findings: list[Finding]) -> list[Finding]:
    """Address parts separated only by a comma or a line break are one address."""
    joined: list[Finding] = []
    for finding in findings:
        last = joined[-1] if joined else None
        if (
            last is not None
            and last.kind is finding.kind is IdentifierKind.POSTCODE_ADDRESS
            and _ADDRESS_GAP.fullmatch(text, last.end, finding.start)
        ):
            joined[-1] = Finding(finding.kind, last.start, finding.end)
        else:
            joined.append(finding)
    return joined


# --- numbers with a check digit ---------------------------------------------------------

# A number stands alone: no letter, digit or number-ish punctuation glued to either side.
_START = r"(?<![\w+@/#])(?<!\d[.,:-])"
_END = r"(?![\w@])(?![.,:/-]\d)"

_AMOUNT_BEFORE = re.compile(r"(?:[€$£]|(?<!\w)(?:eur|euro|chf|fr\.|sfr\.?|usd))\s*$", re.IGNORECASE)
_AMOUNT_AFTER = re.compile(
    r"^\s*(?:[€$£%‰]|(?:euro|eur|chf|franken|frank|fr\.|dollar|usd|km|kg|prozent|procent"
    r"|percent|stuks?|stück)(?!\w))",
    re.IGNORECASE,
)


def _is_amount(text: str, start: int, end: int) -> bool:
    return bool(
        _AMOUNT_BEFORE.search(text, max(0, start - 6), start)
        or _AMOUNT_AFTER.match(text[end : end + 12])
    )


_BSN_RE = re.compile(_START + r"(?:\d{4}([ .])\d{2}\1\d{3}|\d{3}([ .]?)\d{3}\2\d{3})" + _END)
_AHV_RE = re.compile(_START + r"756([ .]?)\d{4}\1\d{4}\1\d{2}" + _END)
_TAX_ID_RE = re.compile(_START + r"[1-9]\d( ?)\d{3}\1\d{3}\1\d{3}" + _END)


def _checked(
    text: str, pattern: re.Pattern[str], kind: IdentifierKind, is_valid: Callable[[str], bool]
) -> Iterator[Finding]:
    for match in pattern.finditer(text):
        if is_valid(match.group()) and not _is_amount(text, match.start(), match.end()):
            yield Finding(kind, match.start(), match.end())


def _bsns(text: str) -> Iterator[Finding]:
    return _checked(text, _BSN_RE, IdentifierKind.BSN, stdnum_bsn.is_valid)


def _ahv_numbers(text: str) -> Iterator[Finding]:
    return _checked(text, _AHV_RE, IdentifierKind.AHV, stdnum_ahv.is_valid)


def _tax_ids(text: str) -> Iterator[Finding]:
    return _checked(text, _TAX_ID_RE, IdentifierKind.TAX_ID_DE, stdnum_idnr.is_valid)


# An IBAN starts with a country code and check digits; it is the longest run of letter and
# digit groups from there, ending at a group boundary, that is valid.
_IBAN_START = re.compile(r"(?<!\w)[A-Z]{2}\d{2}", re.IGNORECASE)
_IBAN_GROUP = re.compile(r"[ ]?[A-Z0-9]+", re.IGNORECASE)
_IBAN_MIN, _IBAN_MAX = 15, 34
# What looks like an IBAN, valid or not: groups of four capitals and digits.
_IBAN_SHAPE = re.compile(r"(?<!\w)[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4})+(?:[ ]?[A-Z0-9]{1,3})?(?!\w)")


def _ibans(text: str) -> Iterator[Finding]:
    position = 0
    while (start := _IBAN_START.search(text, position)) is not None:
        end = _valid_iban_end(text, start.start(), start.end())
        if end is None:
            position = start.start() + 1
            continue
        yield Finding(IdentifierKind.IBAN, start.start(), end)
        position = end


def _valid_iban_end(text: str, start: int, position: int) -> int | None:
    ends: list[int] = []
    length = position - start
    while (group := _IBAN_GROUP.match(text, position)) is not None:
        length += len(group.group().strip())
        if length > _IBAN_MAX:
            break
        position = group.end()
        if length >= _IBAN_MIN:
            ends.append(position)
    for end in reversed(ends):
        if stdnum_iban.is_valid(text[start:end]):
            return end
    return None


# --- e-mail and phone ---------------------------------------------------------------------

_EMAIL_RE = re.compile(
    r"(?<![\w.%+-])[\w%+-]+(?:\.[\w%+-]+)*@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_]{2,}(?![\w-])"
)


def _emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL_RE.finditer(text):
        yield Finding(IdentifierKind.EMAIL, match.start(), match.end())


_SERVICE_NUMBERS = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    }
)


_DIGIT = re.compile(r"\d")
# A number kept below starts with "+" or a trunk "0" and has at least a country code or trunk
# digit and two more (phonenumbers' shortest national number): a text without them holds none.
_PHONE_MIN_DIGITS = 3


def _may_hold_phone(text: str) -> bool:
    """False when ``text`` cannot hold a number ``_phones`` keeps (a cheap test before the
    matcher, which costs most of the guard's time)."""
    if "+" not in text and "0" not in text:
        return False
    return len(_DIGIT.findall(text)) >= _PHONE_MIN_DIGITS


def _phones(text: str, regions: Sequence[str], dates: Sequence[_Date]) -> list[Finding]:
    """Phone numbers, less the digits of an IBAN-shaped string or a date (04-07-2021)."""
    if not _may_hold_phone(text):
        return []
    taken = [(m.start(), m.end()) for m in _IBAN_SHAPE.finditer(text)]
    taken += [(d.start, d.end) for d in dates]
    found: list[Finding] = []
    for region in regions:
        matcher = phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        )
        for match in matcher:
            start, end = match.start, match.end
            raw = match.raw_string.lstrip("(")
            if not raw.startswith(("+", "0")):
                continue  # a national number here always has its trunk 0: this is a count
            if any(start < e and s < end for s, e in taken):
                continue
            if phonenumbers.number_type(match.number) in _SERVICE_NUMBERS:
                continue  # a helpline's or a business's number, never a person's
            found.append(Finding(IdentifierKind.PHONE, start, end))
    return _merge(found)


# --- dates of birth ---------------------------------------------------------------------------

_MONTHS: dict[str, int] = {
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "april": 4, "mei": 5, "juni": 6,
    "juli": 7, "augustus": 8, "september": 9, "oktober": 10, "november": 11, "december": 12,
    # German
    "januar": 1, "jänner": 1, "februar": 2, "feber": 2, "märz": 3, "maerz": 3, "mär": 3,
    "mrz": 3, "mai": 5, "dezember": 12, "dez": 12,
    # English
    "january": 1, "february": 2, "march": 3, "may": 5, "june": 6, "july": 7,
    "august": 8, "october": 10,
    # abbreviations shared by the three
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "okt": 10, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))

_DATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # 12-03-2015, 12.03.2015, 12/03/2015, 12. 3. 2015, 12.03.15
        r"(?<![\w.,/:-])(?P<d>\d{1,2})(?P<sep>[-./])[ ]?(?P<m>\d{1,2})(?P=sep)[ ]?"
        r"(?P<y>\d{4}|\d{2})(?![\w]|[-./:,]\d)",
        # 2015-03-12
        r"(?<![\w.,/:-])(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?![\w]|[-./:]\d)",
        # 12 maart 2015, 12. März 2015, 12th of March 2015
        r"(?<![\w.,])(?P<d>\d{1,2})(?:\.|st|nd|rd|th)?[ ]*(?:of[ ]+)?"
        rf"(?P<mon>{_MONTH})\.?,?[ ]+(?P<y>\d{{4}})(?!\w)",
        # March 12, 2015
        rf"(?<!\w)(?P<mon>{_MONTH})\.?[ ]+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?[ ]+"
        r"(?P<y>\d{4})(?!\w)",
    )
)

_BIRTH_WORDS = (
    r"geboren|geb\.?|geboortedatum|geboortedag|geb\.?[ ]?datum|geburtsdatum|geburtstag"
    r"|geburt|geborene?|born|dob|d\.o\.b\.?|date[ ]of[ ]birth|birth[ ]?date|birthday|née"
)
_PLACE = r"[A-ZÄÖÜ][\w'’-]+"
# A birth word may bring its place and preposition along: "born in Utrecht on".
_BIRTH_CUE = (
    rf"(?:{_BIRTH_WORDS})(?:[ ]+(?:in|te|à|zu)[ ]+{_PLACE})?,?"
    r"(?:[ ]+(?:am|op|on|den|de|the|le))?"
)
_EVENT_CUE = (
    r"op|sinds|vanaf|tot|per|d\.d\.|gedateerd|afspraak|gesprek|sessie|bijeenkomst|intervisie"
    r"|melding|intake|zitting|huisbezoek|overleg|uitspraak|beschikking|rapport|verslag"
    r"|opname|plaatsing|vergadering|am|seit|ab|bis|vom|zum|datiert|termin|sitzung"
    r"|gespräch|meldung|hausbesuch|besprechung|anhörung|verhandlung|bericht|intervision"
    r"|entscheid|verfügung|platzierung|einweisung|eintritt|austritt|on|since|from|until"
    r"|till|by|dated|meeting|session|appointment|report|visit|hearing|incident|placement"
    r"|review|deadline|as[ ]of|versie|version"
)
_CUES = re.compile(rf"(?<!\w)(?:(?P<birth>{_BIRTH_CUE})|(?P<event>{_EVENT_CUE}))(?!\w)", re.I)
_BIRTH_AFTER = re.compile(rf"^[ ,(:)-]*(?:[a-z]+[ ]+)?(?:is[ ]+)?(?:{_BIRTH_WORDS})(?!\w)", re.I)
_STAR_BEFORE = re.compile(r"(?<![\w*])\*[ ]?$")
# A sentence ends at . ! ? followed by a capital, or at ; ! ? or a line break.
_SENTENCE_END = re.compile(r"(?:[.!?][ ]+(?=[A-ZÄÖÜ])|[;!?\n])")
_CUE_WINDOW = 40
_AFTER_WINDOW = 20


@dataclass(frozen=True, slots=True)
class _Date:
    start: int
    end: int
    year: int
    month: int
    day: int
    short_year: bool


def _full_dates(text: str) -> Iterator[_Date]:
    taken: list[tuple[int, int]] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() < e and s < match.end() for s, e in taken):
                continue
            groups = match.groupdict()
            month = _MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"])
            day, year_text = int(groups["d"]), groups["y"]
            if month > 12 and groups.get("sep") == "/" and day <= 12:
                day, month = month, day  # 03/12/2015 written the American way round
            if not (1 <= month <= 12 and 1 <= day <= 31):
                continue
            taken.append((match.start(), match.end()))
            yield _Date(match.start(), match.end(), int(year_text), month, day, len(year_text) == 2)


def _as_date(found: _Date, today: date | None) -> date | None:
    year = found.year
    if found.short_year:
        pivot = (today.year if today else 2000) % 100
        year += 2000 if year <= pivot else 1900
    try:
        return date(year, found.month, found.day)
    except ValueError:
        return None


def _birth_cue(text: str, found: _Date) -> bool | None:
    """True for a birth cue, False for an event cue, None when the date has no cue."""
    after = text[found.end : found.end + _AFTER_WINDOW]
    after = _SENTENCE_END.split(after, maxsplit=1)[0]
    if _BIRTH_AFTER.match(after):
        return True
    window_start = max(0, found.start - _CUE_WINDOW)
    before = text[window_start : found.start]
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end() :]
    if _STAR_BEFORE.search(before):
        return True
    cues = list(_CUES.finditer(before))
    if not cues:
        return None
    return cues[-1].group("birth") is not None


_ENTRY_COLON = re.compile(r"[ ]?:(?!\d)")
_RANGE_AFTER = re.compile(r"[ ]*(?:-|–|—|bis|tot|to|until|till|t/m)[ ]*\d", re.IGNORECASE)
_RANGE_BEFORE = re.compile(r"\d[ ]*(?:-|–|—|bis|tot|to|until|till|t/m)[ ]*$", re.IGNORECASE)


def _is_entry_or_range(text: str, found: _Date) -> bool:
    """A date that heads a line or a note (``3.2.2024: ...``), or one end of a range."""
    line_start = text.rfind("\n", 0, found.start) + 1
    heads_line = not text[line_start : found.start].strip(" \t>*•-")
    before = text[max(0, found.start - 12) : found.start]
    return bool(
        heads_line
        or _ENTRY_COLON.match(text, found.end)
        or _RANGE_AFTER.match(text, found.end)
        or _RANGE_BEFORE.search(before)
    )


def _one_year_before(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _dates_of_birth(text: str, dates: Sequence[_Date], today: date | None) -> Iterator[Finding]:
    for found in dates:
        when = _as_date(found, today)
        if when is None or when.year < 1900 or (today is not None and when > today):
            continue
        cue = _birth_cue(text, found)
        if cue is True:
            flagged = True
        elif cue is False or found.short_year or today is None or _is_entry_or_range(text, found):
            flagged = False
        else:
            flagged = _one_year_before(when) <= today
        if flagged:
            yield Finding(IdentifierKind.DATE_OF_BIRTH, found.start, found.end)


# --- addresses ------------------------------------------------------------------------------

_STREET_SUFFIX = (
    r"straat|laan|weg|plein|gracht|kade|singel|dijk|dreef|hof|pad|steeg|markt|wal|park"
    r"|strasse|straße|str\.|gasse|gässli|platz|allee|damm|ufer|chaussee|graben"
)
_STREET_WORD = (
    r"Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Drive|Crescent|Square|Terrace|Gardens"
    r"|Strasse|Straße|Str\.|Gasse|Straat"
)
_CAPITALISED = r"[A-ZÄÖÜ][\w'’-]*"
_PARTICLE = r"(?:van|de|der|den|von|vom|zum|zur|ter|ten)"
_NAME_PREFIX = rf"(?:{_CAPITALISED}[ ]+(?:{_PARTICLE}[ ]+){{0,2}}){{0,2}}"
_HOUSE_NUMBER = r"\d{1,4}(?:[ ]?[a-zA-Z](?![\w]))?(?:[ ]?[-/][ ]?\d{1,4}[a-zA-Z]?)?(?![\d.,]\d)"
# A number that counts something is no house number: "Lösungsweg 2 Mal", "Markt 3 uur".
_UNIT_AFTER = (
    r"(?![ ]*(?:%|(?i:min|minuten|minutes?|uur|uhr|stunden|hours?|dagen|tage|days?|weken"
    r"|wochen|weeks?|jaar|jahre|years?|keer|mal|times|x|km|m|euro|eur|chf|fr|kinderen|kinder"
    r"|children|personen|people|mensen)(?!\w)))"
)
_PLACE_NAME = (
    rf"{_CAPITALISED}(?:[ ]+(?:am|an|bei|im|ob|aan[ ]+de[nr]?|a\.[ ]?d\.|upon|on)[ ]+"
    rf"{_CAPITALISED}|-{_CAPITALISED})?"
)
_POSTCODE_TAIL = (
    r"(?:[ ]*,?[ ]*\n?[ ]*(?:(?:NL|D|DE|CH|A)[ ]?-[ ]?)?"
    rf"(?:[1-9]\d{{3}}[ ]?[A-Z]{{2}}|\d{{5}}|[1-9]\d{{3}})[ ]+{_PLACE_NAME})?"
)
# A Dutch postcode; its letters are never SA, SD or SS, and here not a unit such as 100 MB.
_NL_POSTCODE = (
    r"[1-9]\d{3}[ ]?(?!SA|SD|SS|MB|GB|KB|KM|CM|MM|KG|PK|KW|HZ|CC|ML|EU|AM|PM|NL|DE|CH)"
    r"[A-Z]{2}(?![\w-])"
)
_ADDRESS_PATTERNS: tuple[re.Pattern[str], ...] = (
    # Kerkstraat 12, Van Goghlaan 3a, Hauptstrasse 12, 4132 Muttenz, Zürcher Strasse 5
    re.compile(
        rf"(?<![\w-]){_NAME_PREFIX}(?:[A-ZÄÖÜ][\w'’-]+?(?i:{_STREET_SUFFIX})"
        rf"|{_CAPITALISED}[ ]+(?:{_STREET_WORD}))\.?[ ]+{_HOUSE_NUMBER}"
        rf"{_UNIT_AFTER}{_POSTCODE_TAIL}"
    ),
    # 12 Baker Street
    re.compile(
        rf"(?<![\w.,])\d{{1,4}}[a-zA-Z]?[ ]+(?:{_CAPITALISED}[ ]+){{1,3}}"
        rf"(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Drive|Close|Crescent|Place|Square"
        rf"|Terrace|Gardens)(?!\w){_POSTCODE_TAIL}"
    ),
    # 1234 AB Utrecht, 1234AB 12
    re.compile(
        rf"(?<![\w-]){_NL_POSTCODE}"
        rf"(?:[ ]+{_PLACE_NAME}|[ ]*,?[ ]*(?:(?i:nr\.?|huisnummer)[ ]*)?{_HOUSE_NUMBER})"
    ),
    # Am Rain 4, 6003 Luzern: any name with a house number, when a postcode and place follow
    # (a four-digit postcode here must not read as a year: "Schritt 2, 2025 Ende")
    re.compile(
        r"(?<![\w-])(?:(?:Am|Im|An|Auf|In|Zum|Zur|Unter|Hinter|Vor)[ ]+(?:der|dem|den)?[ ]*)?"
        rf"{_CAPITALISED}[ ]+{_HOUSE_NUMBER}[ ]*,[ ]*(?:(?:D|DE|CH|A)[ ]?-[ ]?)?"
        rf"(?:\d{{5}}|(?!19\d\d|20\d\d)[1-9]\d{{3}})[ ]+{_PLACE_NAME}"
    ),
    # postcode 1234 AB
    re.compile(rf"(?<!\w)(?i:postcode):?[ ]*{_NL_POSTCODE}"),
)


def _addresses(text: str) -> Iterator[Finding]:
    for pattern in _ADDRESS_PATTERNS:
        for match in pattern.finditer(text):
            yield Finding(IdentifierKind.POSTCODE_ADDRESS, match.start(), match.end())


# --- people -----------------------------------------------------------------------------------


def _people(text: str, keep_names: Collection[str], dates: Sequence[_Date]) -> Iterator[Finding]:
    """Names, institutions and birth dates written in prose (``bot.flows.names``). A full
    date is judged by the date-of-birth rule above, not as prose."""
    keep = people.name_keys(keep_names)
    for start, end in people.find_names(text, keep):
        yield Finding(IdentifierKind.NAME, start, end)
    for start, end in people.find_institutions(text):
        yield Finding(IdentifierKind.INSTITUTION, start, end)
    for start, end in people.find_prose_births(text):
        if any(start < d.end and d.start < end for d in dates):
            continue
        yield Finding(IdentifierKind.DATE_OF_BIRTH, start, end)
