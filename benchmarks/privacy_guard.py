"""Benchmark: the privacy guard against a naive regex-only baseline, on the labelled set.

Prints, side by side for ``bot.flows.privacy.find_identifiers`` and for the baseline below:
  - precision and recall per identifier kind and per language (scored per sentence and
    kind, as the quality-floor test does), over tests/unit/flows/privacy_cases.yaml (the
    numbers) and tests/unit/flows/privacy_names_cases.yaml (names, institutions, birth
    dates in prose; the group's members passed as names to keep);
  - names, institutions and prose birth dates per language, for the whole set and for the
    held-out part alone (``held_out: true``: sentences the rules were never tuned on);
  - latency percentiles (p50/p95/p99, ms per sentence) and throughput (sentences/s).

The baseline is what one writes without python-stdnum and phonenumbers: shapes only, no
check digits, no phone metadata, every full date taken for a birth date; for names a
capitalised word after a title or a relation word, for institutions a type word before a
capitalised one. It shows what the libraries and the rules buy. ``deduce`` (LGPL-3.0) is
not a dependency and not run here. Nothing here asserts: the figures are to read.

Run: .venv/bin/python benchmarks/privacy_guard.py [--rounds 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from bot.flows.privacy import IdentifierKind, find_identifiers

DATA = Path(__file__).resolve().parent.parent / "tests" / "unit" / "flows"
CASES = DATA / "privacy_cases.yaml"
NAME_CASES = DATA / "privacy_names_cases.yaml"
LANGUAGES = ("nl", "de", "en")
KINDS = tuple(kind.value for kind in IdentifierKind)
PEOPLE = ("name", "institution", "date_of_birth")

# A detector reads a sentence and the names of the group's members.
Detector = Callable[[str, Sequence[str]], set[str]]

# --- the naive baseline -----------------------------------------------------------------------

_MONTHS = r"(?:jan|feb|mrt|mär|mar|apr|mei|mai|may|jun|jul|aug|sep|okt|oct|nov|dec|dez)[a-zäö]*\.?"
BASELINE: dict[str, re.Pattern[str]] = {
    "bsn": re.compile(r"\b\d{3}[ .]?\d{3}[ .]?\d{3}\b|\b\d{4}\.\d{2}\.\d{3}\b"),
    "ahv": re.compile(r"\b756[ .]?\d{4}[ .]?\d{4}[ .]?\d{2}\b"),
    "tax_id_de": re.compile(r"\b\d{2} ?\d{3} ?\d{3} ?\d{3}\b"),
    "iban": re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
    "phone": re.compile(r"(?:\+|\b0)\d[\d \-/()]{6,}\d"),
    "email": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "date_of_birth": re.compile(
        r"\b\d{1,2}[-./]\d{1,2}[-./]\d{2,4}\b|\b\d{4}-\d{2}-\d{2}\b"
        rf"|\b\d{{1,2}}\.? {_MONTHS} \d{{4}}\b|\b{_MONTHS} \d{{1,2}},? \d{{4}}\b",
        re.IGNORECASE,
    ),
    "postcode_address": re.compile(
        r"\b\d{4} ?[A-Z]{2}\b|\b\d{4,5} [A-ZÄÖÜ][a-zäöü]+"
        r"|[A-ZÄÖÜ]\w*(?:straat|laan|weg|strasse|straße|gasse|platz|street)\.? \d+"
    ),
}


_CAPITAL = r"[A-ZÄÖÜ][a-zäöüéëïß]+"
BASELINE["name"] = re.compile(
    r"\b(?:[Mm]evrouw|[Mm]w\.|[Mm]eneer|[Dd]hr\.|Frau|Herr|Mrs?\.?|Ms\.?|[Mm]oeder|[Vv]ader"
    r"|[Zz]oon|[Dd]ochter|Mutter|Vater|Sohn|Tochter|[Mm]other|[Ff]ather|[Ss]on|[Dd]aughter"
    rf"|[Bb]rother|[Ss]ister|[Bb]roer|[Zz]us|Bruder|Schwester) {_CAPITAL}"
)
BASELINE["institution"] = re.compile(
    r"\b(?:[Bb]asisschool|[Ss]chool|Schulhaus|Schule|Frauenhaus|Kinderheim|[Gg]ezinshuis) "
    + _CAPITAL
)


def baseline(text: str, members: Sequence[str] = ()) -> set[str]:
    return {kind for kind, pattern in BASELINE.items() if pattern.search(text)}


def guard(today: date) -> Detector:
    def detect(text: str, members: Sequence[str] = ()) -> set[str]:
        return {f.kind.value for f in find_identifiers(text, today=today, keep_names=members)}

    return detect


# --- scoring ----------------------------------------------------------------------------------


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, expected: set[str], found: set[str]) -> None:
        self.tp += len(found & expected)
        self.fp += len(found - expected)
        self.fn += len(expected - found)

    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


@dataclass
class Scores:
    overall: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    by_language: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in LANGUAGES})

    by_kind_language: dict[tuple[str, str], Tally] = field(
        default_factory=lambda: {(k, lang): Tally() for k in KINDS for lang in LANGUAGES}
    )


def score(cases: Sequence[dict[str, Any]], detect: Detector) -> Scores:
    scores = Scores()
    for case in cases:
        expected, found = set(case["kinds"]), detect(case["text"], case.get("members", ()))
        scores.overall.add(expected, found)
        scores.by_language[case["lang"]].add(expected, found)
        for kind in KINDS:
            scores.by_kind[kind].add(expected & {kind}, found & {kind})
            scores.by_kind_language[kind, case["lang"]].add(expected & {kind}, found & {kind})
    return scores


# --- timing -----------------------------------------------------------------------------------


@dataclass
class Speed:
    p50: float
    p95: float
    p99: float
    per_second: float


def time_it(cases: Sequence[dict[str, Any]], detect: Detector, rounds: int) -> Speed:
    texts = [case["text"] for case in cases]
    for text in texts:  # warm up: phonenumbers loads its metadata on first use
        detect(text, ())
    timings: list[float] = []
    started = time.perf_counter()
    for _ in range(rounds):
        for text in texts:
            begin = time.perf_counter()
            detect(text, ())
            timings.append((time.perf_counter() - begin) * 1000)
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(timings, n=100)
    return Speed(q[49], q[94], q[98], len(timings) / elapsed)


# --- report -----------------------------------------------------------------------------------


def _ratio(value: float | None) -> str:
    return "   -  " if value is None else f"{value:6.3f}"


def _row(name: str, guard_tally: Tally, base_tally: Tally) -> str:
    cells = []
    for t in (guard_tally, base_tally):
        cells.append(f"{_ratio(t.precision())} {_ratio(t.recall())} {t.tp:4d} {t.fp:3d} {t.fn:3d}")
    return f"{name:<18}" + "   |  ".join(cells)


def report(cases: Sequence[dict[str, Any]], today: date, rounds: int) -> None:
    languages = Counter(case["lang"] for case in cases)
    clean = sum(not case["kinds"] for case in cases)
    print(
        f"Privacy guard benchmark: {len(cases)} labelled sentences "
        f"({', '.join(f'{lang} {languages[lang]}' for lang in LANGUAGES)}; {clean} clean), "
        f"today = {today}"
    )
    print(
        f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPU cores\n"
    )
    ours, theirs = score(cases, guard(today)), score(cases, baseline)
    head = "  prec recall   tp  fp  fn"
    print(f"{'':<18}{'guard (stdnum, phonenumbers)':<29}|  regex-only baseline")
    print(f"{'':<18}{head}   |  {head}")
    print("per kind")
    for kind in KINDS:
        print(_row(f"  {kind}", ours.by_kind[kind], theirs.by_kind[kind]))
    print("per language")
    for lang in LANGUAGES:
        print(_row(f"  {lang}", ours.by_language[lang], theirs.by_language[lang]))
    print(_row("overall", ours.overall, theirs.overall))
    people = [case for case in cases if case.get("people")]
    held = [case for case in people if case.get("held_out")]
    for title, part in (("people set, all", people), ("people set, held out only", held)):
        mine, base = score(part, guard(today)), score(part, baseline)
        print(f"\n{title} ({len(part)} sentences): per kind and language")
        for kind in PEOPLE:
            for lang in LANGUAGES:
                key = (kind, lang)
                print(
                    _row(
                        f"  {kind[:13]} {lang}",
                        mine.by_kind_language[key],
                        base.by_kind_language[key],
                    )
                )

    print(f"\nspeed over {rounds} rounds of {len(cases)} sentences (ms per sentence)")
    for name, detect in (("guard", guard(today)), ("regex baseline", baseline)):
        s = time_it(cases, detect, rounds)
        print(
            f"  {name:<16} p50 {s.p50:7.3f}  p95 {s.p95:7.3f}  p99 {s.p99:7.3f}  "
            f"{s.per_second:9.0f} sentences/s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="passes over the labelled set")
    args = parser.parse_args()
    data = yaml.safe_load(CASES.read_text("utf-8"))
    names = yaml.safe_load(NAME_CASES.read_text("utf-8"))
    people = [
        {**case, "people": True, "members": names["members"][case["lang"]]}
        for case in names["cases"]
    ]
    report([*data["cases"], *people], data["today"], args.rounds)


if __name__ == "__main__":
    main()
