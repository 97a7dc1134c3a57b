"""Domain: people in case texts. Finds names, institutions that point to one person, and
birth dates written in prose. Pure: no I/O (the given-name list is read once from the
package), no clock.

Each finder returns spans ``(start, end)``; ``bot.flows.privacy`` turns them into findings.

Names (``find_names``) are found by context, not by a model:

- after a title or honorific: ``mevrouw``/``mw.``/``meneer``/``dhr.``, ``Frau``/``Herr``,
  ``Mr``/``Mrs``/``Ms``, ``familie``/``Familie`` (``Herr Dr. Wagner``: the academic title is
  skipped);
- after a relation word (``moeder``, ``zoon``, ``Tochter``, ``Bruder``, ``brother``,
  ``client``, ...), or before one as an apposition (``Emir, der ältere Bruder``);
- before an age in brackets or in words (``Sem (6)``, ``Anouk, 12 jaar``);
- after ``heet``/``heißt``/``is called``, or joined by ``en``/``und``/``and`` to a name found;
- a given name from ``given_names.txt`` (a list written for this project), with the
  capitalised surname that follows it (``Jan Visser``, ``Emma de Boer``).

A name that is also an ordinary word (``Hoop``, ``Mark``, ``Will``: marked ``?`` in the
list) counts only with one of the cues above. Months, weekdays, the authors of the methods
(Balint, Tietze, Heilsbronner), the words of a session (``Schritt (3)``) and capitalised
function words are never names; a place on its own is not a name (it is not in the list
and has no cue). Names in ``keep`` (the group's own members) are left alone unless a cue
says the text is about a client of that name (``Ben (5)``, ``Sohn Ben``).

Institutions (``find_institutions``): a school, shelter, group home, practice named with
its type (``Schulhaus Donnerbaum``, ``basisschool De Regenboog in Zeist``,
``St Mary's Primary School``), or a shelter-like type with its place (``de vrouwenopvang
in Lelystad``). A type on its own (``in een vrouwenopvang``) is not flagged.

Birth dates in prose (``find_prose_births``): in the clause of a birth word (``geboren``,
``born``, ``geb.``), a month with a year (``maart 2015``) or a day with a month
(``12. März``); a year alone (``born in 2025``) is not a birth date here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Span", "find_institutions", "find_names", "find_prose_births", "name_keys"]

Span = tuple[int, int]


# --- the given-name list ------------------------------------------------------------------


@dataclass(frozen=True)
class _Names:
    given: frozenset[str]  # lower case
    ambiguous: frozenset[str]  # names that are also words: only with a cue


@cache
def _names() -> _Names:
    text = resources.files("bot.flows").joinpath("given_names.txt").read_text("utf-8")
    given: set[str] = set()
    ambiguous: set[str] = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("?"):
            ambiguous.add(line[1:].lower())
        else:
            given.add(line.lower())
    return _Names(frozenset(given - ambiguous), frozenset(ambiguous))


def name_keys(names: Collection[str]) -> frozenset[str]:
    """The words of ``names`` (display names, handles) as the guard compares them."""
    return frozenset(
        word.lower() for name in names for word in re.findall(r"[^\W\d_][\w'’-]*", name)
    )


# --- words ---------------------------------------------------------------------------------

_MONTHS_AND_DAYS = (
    "januari februari maart april mei juni juli augustus september oktober november december "
    "januar jänner februar märz mai juni juli august dezember "
    "january february march may june july october "
    "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag "
    "monday tuesday wednesday thursday friday saturday sunday "
    "kerst pasen pinksteren weihnachten ostern pfingsten christmas easter"
)
_METHODS = (
    "balint tietze heilsbronner heilsbronner-methode kolb rogers satir minuchin schulz "
    "thun bateson watzlawick gordon maslow bowlby winnicott freud jung adler ruth cohn "
    "supervision intervisie intervision coaching"
)
# Capitalised at the head of a sentence, never a name.
_FUNCTION_WORDS = (
    "de het een ik jij je hij zij ze wij we jullie u die dat deze dit er en of maar want "
    "dus als toen nu ook nog wel niet geen op in aan met van voor na bij uit naar om over "
    "tot sinds vanaf volgens door zonder tijdens wat wie waar hoe waarom welke mijn haar "
    "zijn ons onze hun heb heeft had hebben is was wordt werd kan kun kunnen zou zal moet "
    "mag wil gisteren vandaag morgen vanochtend vanmiddag vanavond volgende vorige dank "
    "goed graag hallo hoi beste ja nee oké "
    "der die das den dem des ein eine einer einem einen ich du er sie es wir ihr mein "
    "meine sein seine ihre unser und oder aber denn also wenn als dann jetzt auch noch "
    "nicht kein keine auf im am an mit von vom zum zur für nach bei aus um über bis seit "
    "ab laut durch ohne während was wer wo wie warum welche habe hat hatte haben ist war "
    "wird wurde kann können würde soll muss darf will gestern heute danke gut hallo liebe "
    "lieber ja nein "
    "the a an i you he she it we they my his her our their and or but so if when then "
    "now also still not no on in at with of for after by from to about until since "
    "according without during what who where how why which have has had is was will "
    "would can could should must may might do does did yesterday today tomorrow next "
    "last thanks thank good hi hello dear yes ok okay mum dad mom tel fax nr no mob"
)
# Words a session uses before a number in brackets, and nouns that follow a relation word.
_NOUNS = (
    "stap schritt step fase phase runde ronde round sessie sitzung session vraag frage "
    "question punt punkt point hoofdstuk kapitel chapter bijlage anhang appendix groep "
    "gruppe group klasse class groep stufe level optie option seite pagina page tabel "
    "tabelle table bild figuur figure fall casus case kind kinder children child jeugdzorg "
    "school schule angst alkohol geld hilfe zeit arbeit termin druck probleme sorgen "
    "kontakt streit ruhe schulden drogen wut liebe zuhause hause jugendamt kesb gericht "
    "polizei familie family gezin veilig thuis raad ggz wmo ggd staat doktor arzt ärztin "
    "nederlands marokkaans turks duits pools syrisch surinaams eritrees engels arabisch "
    "somalisch afghaans koerdisch antilliaans deutsch türkisch polnisch englisch "
    "arabic english turkish polish dutch german moroccan syrian somali eritrean"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STOP = _words(f"{_MONTHS_AND_DAYS} {_METHODS} {_FUNCTION_WORDS}")
_NOUN_STOP = _words(_NOUNS)
_NOUN_SUFFIX = re.compile(
    r"(?:ung|heit|keit|schaft|ion|tät|nis|tum|ismus|ment|ik|enz|anz|erei|chen|lein|isch"
    r"|ige|ige[nr]|lich|lichkeit|iker|erin|aans|straat|laan|weg|strasse|straße|gasse|platz"
    r"|street|road)$"
)
_PARTICLES = _words("van de der den het ten ter te von zu el al ben bin da di du le la 't d' mc")
_HONORIFICS = _words(
    "mevrouw mevr mw mevr. mw. meneer mnr dhr dhr. heer frau herr herrn hr fr mr mrs ms "
    "miss mx madame monsieur familie family sig signora"
)
_TITLES = _words("dr dr. prof prof. mag drs ir mr. ing")
_RELATIONS = _words(
    "moeder vader mama papa zoon dochter broer broertje zus zusje zuster oma opa "
    "grootmoeder grootvader tante oom neef stiefvader stiefmoeder pleegvader pleegmoeder "
    "pleegzoon pleegdochter tweeling cliënt cliënte client partner vriend vriendin ex "
    "echtgenoot echtgenote man vrouw jongen meisje baby kleinzoon kleindochter mutter "
    "vater sohn tochter bruder schwester großmutter grossmutter großvater grossvater "
    "onkel cousin cousine stiefvater stiefmutter pflegemutter pflegevater zwilling "
    "zwillinge klient klientin freund freundin ehemann ehefrau enkel enkelin mother "
    "father mum dad son daughter brother sister grandma grandmother gran nan grandad "
    "grandfather grandpa aunt uncle stepfather stepmother stepdad stepmum twin twins "
    "boyfriend girlfriend husband wife nephew niece grandson granddaughter carer"
)
# Dutch writes these in lower case mid-sentence ("met mevrouw Kok"); Frau, Mr, ... are capitalised.
_LOWER_HONORIFICS = _words("familie mw. dhr. mw dhr mevrouw meneer mevr mevr. mnr heer")
_CUE_WORDS = _HONORIFICS | _TITLES | _RELATIONS
_CALLED = re.compile(
    r"(?:heet|heten|genaamd|heißt|heisst|namens|genannt|is called|called|named)\s*$", re.I
)
_AND = _words("en und and & of oder or")

_WORD = re.compile(r"[^\W\d_][\w'’.-]*")
_AGE_AFTER = re.compile(
    r"\s*(?:\(\s*\d{1,2}\s*(?:j\.?|jaar|jahre|jährig|years?|yrs?|y/o|yo)?\s*\)"
    r"|,\s*\d{1,2}\s*(?:jaar|jahre|jährig|years?)(?:\s*old)?\b)",
    re.I,
)
_LABEL_AFTER = re.compile(r"[ \t]*:?[ \t]*\d")
_FAMILY_AFTER = re.compile(r"\s+(?:family|familie|Familie)\b")
_SENTENCE_END = re.compile(r"(?<!\d)(?<!\b[A-Za-z])[.!?]\s+(?=\S)|[;\n]")


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    start: int
    end: int

    @property
    def key(self) -> str:
        word = self.text.rstrip(".")
        for suffix in ("'s", "’s", "s'"):
            if word.endswith(suffix):
                word = word[: -len(suffix)]
        return word.lower()

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def _tokens(text: str) -> list[_Token]:
    tokens = []
    for match in _WORD.finditer(text):
        word = match.group()
        # a full stop ends a word unless it abbreviates (mw., dhr., Dr.)
        if word.endswith(".") and word.rstrip(".").lower() not in _HONORIFICS | _TITLES:
            word = word.rstrip(".")
        if word:
            tokens.append(_Token(word, match.start(), match.start() + len(word)))
    return tokens


def _parts(token: _Token) -> list[str]:
    return [p for p in re.split(r"[-’']", token.key) if p]


def _is_candidate(token: _Token) -> bool:
    """Could start or continue a name: capitalised, and no part a stop word."""
    if not token.capitalised or len(token.key) < 2 or token.text.isupper():
        return False  # an acronym (BSN, KESB) is no name
    if token.key in _STOP or token.key in _CUE_WORDS:
        return False
    return not any(part in _STOP for part in _parts(token))


def _looks_like_noun(token: _Token) -> bool:
    key = token.key
    return key in _NOUN_STOP or (bool(_NOUN_SUFFIX.search(key)) and key not in _names().given)


def _is_given(token: _Token) -> bool:
    names = _names()
    return token.key in names.given or all(p in names.given for p in _parts(token))


def _is_ambiguous(token: _Token) -> bool:
    return token.key in _names().ambiguous


# --- names ---------------------------------------------------------------------------------


def _run_end(tokens: list[_Token], i: int, text: str, *, particle_start: bool = False) -> int:
    """The end (exclusive token index) of the name that starts at ``tokens[i]``: capitalised
    words, with particles between them (``El Amrani``, ``van den Berg``); ``i`` if none."""
    j = i
    if particle_start:
        while j < len(tokens) and tokens[j].key in _PARTICLES and j - i < 3:
            j += 1
        if j == i or j >= len(tokens) or not _is_candidate(tokens[j]):
            j = i
    if j >= len(tokens) or not (_is_candidate(tokens[j]) or j > i):
        return i
    end = j + 1
    while end < len(tokens) and _adjacent(text, tokens[end - 1], tokens[end]):
        k = end
        while k < len(tokens) and tokens[k].key in _PARTICLES and k - end < 3:
            k += 1
        if k < len(tokens) and _is_candidate(tokens[k]) and not _looks_like_noun(tokens[k]):
            if k > end and not all(
                _adjacent(text, tokens[m], tokens[m + 1]) for m in range(end, k)
            ):
                break
            end = k + 1
        else:
            break
    return end


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    """Only blanks between two tokens (no comma, bracket or full stop)."""
    return text[left.end : right.start].strip(" \t") == ""


def find_names(text: str, keep: Collection[str] = ()) -> list[Span]:
    """Spans of people's names in ``text``; the names in ``keep`` (lower case words,
    see ``name_keys``) are left alone unless a cue names a client."""
    tokens = _tokens(text)
    found: dict[int, tuple[int, bool]] = {}  # first token -> (end token, strong cue)

    def add(i: int, end: int, strong: bool) -> None:
        if end <= i or _LABEL_AFTER.match(text, tokens[end - 1].end):
            return  # a label before a number (Steuer-ID 95 716, Sitzung 3) is no name
        if i not in found or found[i][0] < end:
            found[i] = (end, strong or (i in found and found[i][1]))

    for i, token in enumerate(tokens):
        after_cue = _after_cue(tokens, i, text)
        if after_cue is not None:
            add(after_cue, _run_end(tokens, after_cue, text, particle_start=True), True)
        if not _is_candidate(token) or _in_run(found, i):
            continue
        end = _run_end(tokens, i, text)
        if _context_follows(tokens, i, end, text):
            add(i, end, True)
        elif _listed(token, end - i):
            add(i, end, False)
    _add_coordinated(tokens, text, found, add)
    spans: list[Span] = []
    for i, (end, strong) in sorted(found.items()):
        words = {t.key for t in tokens[i:end]} - _PARTICLES
        if not strong and words and words <= set(keep):
            continue  # one of the group's own people
        spans.append((tokens[i].start, tokens[end - 1].end))
    return _disjoint(spans)


def _after_cue(tokens: list[_Token], i: int, text: str) -> int | None:
    """The token after an honorific (``Frau``, ``mw.``, skipping ``Dr.``) or a relation word
    (``moeder``, ``Sohn``, ``brother,``) where a name starts, if one does."""
    token, j = tokens[i], i + 1
    if token.key in _HONORIFICS and (token.capitalised or token.key in _LOWER_HONORIFICS):
        while j < len(tokens) and tokens[j].key in _TITLES:
            j += 1
        # "Herr und Frau Suter", "Mr and Mrs Taylor": the name follows the second one
        if j + 1 < len(tokens) and tokens[j].key in _AND and tokens[j + 1].key in _HONORIFICS:
            return None
        if j < len(tokens) and not _looks_like_noun(tokens[j]):
            return j
        return None
    if token.key not in _RELATIONS or j >= len(tokens):
        return None
    candidate = tokens[j]
    if not re.fullmatch(r"\s*[,(]?\s*", text[token.end : candidate.start]):
        return None
    if _is_candidate(candidate) and (
        _is_given(candidate) or _is_ambiguous(candidate) or not _looks_like_noun(candidate)
    ):
        return j
    return None


def _context_follows(tokens: list[_Token], i: int, end: int, text: str) -> bool:
    """A cue around the capitalised words ``tokens[i:end]``: an age (``Sem (6)``), an
    apposition (``Emir, der ältere Bruder``), ``family`` after or ``heet`` before."""
    if end == i:
        return False
    after = text[tokens[end - 1].end :]
    before = text[max(0, tokens[i].start - 12) : tokens[i].start]
    return bool(
        (_AGE_AFTER.match(after) and not _looks_like_noun(tokens[i]))
        or _apposition_follows(tokens, end, text)
        or _FAMILY_AFTER.match(after)
        or _CALLED.search(before)
    )


def _in_run(found: dict[int, tuple[int, bool]], i: int) -> bool:
    return any(start < i < end for start, (end, _) in found.items())


def _listed(token: _Token, words: int) -> bool:
    """A given name from the list; one that is also a word (Frank) only with a surname."""
    if _is_ambiguous(token):
        return words > 1  # "Frank Visser", not "Frank gezegd"
    return _is_given(token)


def _apposition_follows(tokens: list[_Token], end: int, text: str) -> bool:
    """``Mohammed, the older brother``: a comma, then a relation word within three words."""
    if end >= len(tokens):
        return False
    if not text[tokens[end - 1].end : tokens[end].start].strip().startswith(","):
        return False
    return any(t.key in _RELATIONS for t in tokens[end : end + 4])


def _add_coordinated(
    tokens: list[_Token],
    text: str,
    found: dict[int, tuple[int, bool]],
    add: Callable[[int, int, bool], None],
) -> None:
    """``Finn en Luuk``: a given name joined by "and" to a name found is a name too."""

    def joinable(j: int) -> bool:
        return _is_candidate(tokens[j]) and (_is_given(tokens[j]) or _is_ambiguous(tokens[j]))

    for start, (end, strong) in list(found.items()):
        if end + 1 < len(tokens) and tokens[end].key in _AND and joinable(end + 1):
            add(end + 1, _run_end(tokens, end + 1, text), strong)
        if start >= 2 and tokens[start - 1].key in _AND and joinable(start - 2):
            add(start - 2, start - 1, strong)


def _disjoint(spans: list[Span]) -> list[Span]:
    result: list[Span] = []
    for start, end in sorted(spans):
        if result and start < result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result


# --- institutions --------------------------------------------------------------------------

_TYPES_BEFORE = (
    r"basisschool|school|scholengemeenschap|lyceum|college|gymnasium|kinderdagverblijf"
    r"|peuterspeelzaal|gezinshuis|leefgroep|woongroep|vrouwenopvang|crisisopvang|opvang"
    r"|praktijk|schulhaus|schule|grundschule|primarschule|sekundarschule|gesamtschule"
    r"|realschule|hauptschule|kita|kindergarten|frauenhaus|kinderheim|jugendheim|heim"
    r"|wohngruppe|wohnheim|internat|praxis|schulzentrum"
)
_TYPES_AFTER = (
    r"Primary School|Primary|High School|Grammar School|Secondary School|School|Academy"
    r"|College|Nursery|children's home|children’s home|group home|care home|House|Refuge"
    r"|Lyceum|Gymnasium|Kinderheim|Schule"
)
_SHELTERS = (
    r"vrouwenopvang|crisisopvang|opvang|gezinshuis|leefgroep|woongroep|frauenhaus|kinderheim"
    r"|wohngruppe|heim|refuge|shelter|group home|children's home|foster home|care home"
)
_CAP = r"(?:[A-ZÄÖÜ][\w'’-]+|'t)"
_PLACE = r"[A-ZÄÖÜ][\w'’-]+(?:[ -][A-ZÄÖÜ][\w'’-]+)?"
_IN_PLACE = rf"(?:[ ]+(?:in|te|bei|im|near)[ ]+{_PLACE})"
_NAMED = rf"(?:(?:De|Het|'t|Die|Der|Das|The)[ ]+)?{_CAP}(?:[ ]+{_CAP}){{0,2}}"
_INSTITUTION_PATTERNS = (
    # basisschool De Regenboog in Zeist, Schulhaus Donnerbaum, leefgroep van De Hoenderloo Groep
    re.compile(
        rf"(?<!\w)(?:{_CAP}[ ]+)?(?i:{_TYPES_BEFORE})(?:[ ]+van)?[ ]+(?P<name>{_NAMED})"
        rf"{_IN_PLACE}?(?!\w)"
    ),
    # Grundschule am Lindenhof in Freiburg: a preposition needs the place after it
    re.compile(
        rf"(?<!\w)(?i:{_TYPES_BEFORE})[ ]+(?:am|an der|im|aan de|op de)[ ]+{_CAP}{_IN_PLACE}"
    ),
    # St Mary's Primary School, Oakwood children's home, Refuge House in Leeds
    re.compile(
        rf"(?<!\w)(?P<name>(?:St\.?[ ]+)?{_CAP}(?:[ ]+{_CAP}){{0,2}})[ ]+(?:{_TYPES_AFTER})(?!\w)"
        rf"{_IN_PLACE}?"
    ),
    # de vrouwenopvang in Lelystad
    re.compile(rf"(?<!\w)(?i:{_SHELTERS}){_IN_PLACE}"),
)


def find_institutions(text: str) -> list[Span]:
    """Spans of institutions named so that they point to one person's place."""
    spans: list[Span] = []
    for pattern in _INSTITUTION_PATTERNS:
        for match in pattern.finditer(text):
            name = match.groupdict().get("name")
            if name is not None and _generic(name):
                continue
            spans.append((match.start(), match.end()))
    return _disjoint(spans)


def _generic(name: str) -> bool:
    """A name of only stop words or nouns (``die Schule Angst``) names no institution."""
    words = [
        w
        for w in re.findall(r"[\w'’-]+", name)
        if w.lower() not in {"de", "het", "'t", "die", "der", "das", "the", "st"}
    ]
    if not words:
        return True
    first = _Token(words[0], 0, len(words[0]))
    return first.key in _STOP or (_looks_like_noun(first) and len(words) == 1)


# --- birth dates in prose -------------------------------------------------------------------

_MONTH_NAMES = (
    r"januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november"
    r"|december|januar|jänner|februar|märz|mai|dezember|january|february|march|may|june"
    r"|july|august|october"
)
_SEASONS = (
    r"voorjaar|lente|zomer|najaar|herfst|winter|frühling|frühjahr|sommer|herbst|spring"
    r"|summer|autumn|fall"
)
_BIRTH = re.compile(r"(?<!\w)(?:geboren|geb\.|geborene?|born|birth|zur Welt)(?!\w)", re.I)
_YEAR = re.compile(r"(?<![\w.,])(?:19|20)\d\d(?![\w.,]\d)")
_MONTH_PIECE = re.compile(
    rf"(?<![\w])(?:\d{{1,2}}(?:\.|st|nd|rd|th)?[ ]+(?:of[ ]+)?)?(?:{_MONTH_NAMES}|{_SEASONS})"
    rf"(?:[ ]+\d{{1,2}}(?:st|nd|rd|th)?(?!\d))?(?!\w)",
    re.I,
)
_DAY = re.compile(r"\d")
_CLAUSE_REACH = 45


def find_prose_births(text: str) -> list[Span]:
    """Spans of birth dates written in words near a birth word in the same sentence."""
    spans: list[Span] = []
    for cue in _BIRTH.finditer(text):
        start, end = _sentence_around(text, cue.start(), cue.end())
        months = [m for m in _MONTH_PIECE.finditer(text, start, end) if _near(m, cue)]
        years = [y for y in _YEAR.finditer(text, start, end) if _near(y, cue)]
        with_day = [m for m in months if _DAY.search(m.group())]
        months = [m for m in months if m.group().lower() != "may" or _DAY.search(m.group())]
        if with_day or (months and years):
            spans += [(m.start(), m.end()) for m in (*months, *years)]
    return _joined(text, _disjoint(spans))


def _joined(text: str, spans: list[Span]) -> list[Span]:
    """Pieces of one date apart only by blanks (``maart 2015``) are one span."""
    result: list[Span] = []
    for start, end in spans:
        if result and not text[result[-1][1] : start].strip():
            result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return result


def _near(match: re.Match[str], cue: re.Match[str]) -> bool:
    return match.start() - cue.end() <= _CLAUSE_REACH and cue.start() - match.end() <= _CLAUSE_REACH


def _sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _SENTENCE_END.finditer(text, 0, start)]
    after = _SENTENCE_END.search(text, end)
    return (before[-1] if before else 0), (after.start() if after else len(text))
