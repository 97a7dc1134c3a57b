"""Domain: an intervision method as data, and the loader that validates method files.

A method is a YAML file (one per method, all languages in it) checked against
``methods/schema.json``. The loader never raises for a broken file: it reports the
file, the line and the reason, and keeps loading the rest of the catalogue.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

LANGUAGES = ("nl", "de", "en")

# libyaml's loader where the wheel has it: the catalogue loads five times faster.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Speakers(StrEnum):
    """Who is asked to speak in a step."""

    CASE_OWNER = "case_owner"
    GROUP = "group"
    FACILITATOR = "facilitator"
    EVERYONE = "everyone"


class Role(StrEnum):
    """A person's role in one session."""

    CASE_OWNER = "case_owner"
    FACILITATOR = "facilitator"
    GROUP = "group"


class InputKind(StrEnum):
    """What a step collects."""

    FREE = "free"
    ONE_PER_PERSON = "one_per_person"
    VOTE = "vote"
    REACTIONS = "reactions"
    ACTIONS = "actions"
    NONE = "none"


class AdvanceRule(StrEnum):
    """When a step may move on without the facilitator's word."""

    FACILITATOR = "facilitator"
    ALL_READY = "all_ready"
    MAJORITY_READY = "majority_ready"


Text = Mapping[str, str]


@dataclass(frozen=True)
class ReactionMeaning:
    emoji: str
    meaning: Text


@dataclass(frozen=True)
class VoteOption:
    key: str
    emoji: str
    label: Text


@dataclass(frozen=True)
class Media:
    url: str
    title: Text
    kind: str


@dataclass(frozen=True)
class Step:
    id: str
    title: Text
    instruction: Text
    speakers: Speakers
    input: InputKind
    sync_minutes: int
    async_hours: int
    silent: frozenset[Role] = frozenset()
    advance: AdvanceRule = AdvanceRule.FACILITATOR
    options: tuple[VoteOption, ...] = ()
    reactions: tuple[ReactionMeaning, ...] = ()
    media: tuple[Media, ...] = ()
    private: bool = False  # contributions arrive privately and are revealed when the step closes
    anonymous: bool = False  # revealed and recorded without names

    def is_silent(self, role: Role) -> bool:
        """True when people in ``role`` only listen in this step."""
        return role in self.silent

    def option_for(self, answer: str) -> VoteOption | None:
        """The vote option named by a reply ("2", "hypotheses") or an emoji, if any."""
        answer = answer.strip().strip(":").lower()
        for number, option in enumerate(self.options, start=1):
            if answer in (str(number), option.key, option.emoji):
                return option
        return None


@dataclass(frozen=True)
class Method:
    id: str
    names: Text
    summary: Text
    source: str
    steps: tuple[Step, ...]
    note: Text | None = None
    min_group: int | None = None
    max_group: int | None = None
    protocol_reminder: bool = False
    reactions: tuple[ReactionMeaning, ...] = ()

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def index_of(self, step_id: str) -> int:
        return [s.id for s in self.steps].index(step_id)

    def next_step(self, step_id: str) -> Step | None:
        index = self.index_of(step_id) + 1
        return self.steps[index] if index < len(self.steps) else None

    def meaning_of(self, step_id: str, emoji: str) -> Text | None:
        """What a reaction means in a step: the step's own list first, then the method's."""
        for reaction in (*self.step(step_id).reactions, *self.reactions):
            if reaction.emoji == emoji:
                return reaction.meaning
        return None


@dataclass(frozen=True)
class MethodFileError:
    """A method file that was refused, with where and why."""

    path: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.reason}"


@dataclass
class Catalogue:
    """The methods an organisation can use, and the files that were refused."""

    methods: dict[str, Method] = field(default_factory=dict)
    errors: list[MethodFileError] = field(default_factory=list)

    def get(self, method_id: str) -> Method | None:
        return self.methods.get(method_id.lower())

    def all(self) -> list[Method]:
        """Every method, ordered by id."""
        return sorted(self.methods.values(), key=lambda m: m.id)


def _schema() -> dict[str, Any]:
    text = resources.files("bot.flows").joinpath("methods/schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def builtin_dir() -> Path:
    return Path(str(resources.files("bot.flows").joinpath("methods")))


def load_catalogue(*directories: Path | None) -> Catalogue:
    """Load every ``*.yaml`` method file; later directories override earlier ones by id.

    Args:
        directories: the built-in directory first, then an organisation's own
            (``INTERVISION_METHODS_DIR``); ``None`` entries are skipped.

    Returns:
        The catalogue, with one ``MethodFileError`` per refused file.
    """
    catalogue = Catalogue()
    validator = jsonschema.Draft202012Validator(_schema())
    for directory in directories:
        if directory is None:
            continue
        if not directory.is_dir():
            catalogue.errors.append(MethodFileError(str(directory), None, "not a directory"))
            continue
        for path in sorted(directory.glob("*.yaml")):
            result = load_method_file(path, validator)
            if isinstance(result, MethodFileError):
                catalogue.errors.append(result)
            else:
                catalogue.methods[result.id] = result
    return catalogue


def load_method_file(
    path: Path, validator: jsonschema.protocols.Validator | None = None
) -> Method | MethodFileError:
    """Parse, validate and build one method; a broken file yields the error instead."""
    validator = validator or jsonschema.Draft202012Validator(_schema())
    try:
        source = path.read_text("utf-8")
        node = yaml.compose(source, Loader=_Loader)
        data = yaml.load(source, Loader=_Loader)  # noqa: S506 - a safe loader
    except (OSError, UnicodeDecodeError) as exc:
        return MethodFileError(str(path), None, f"cannot read: {exc}")
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        return MethodFileError(str(path), line, f"not valid YAML: {exc.problem}")
    except yaml.reader.ReaderError as exc:  # a control character: not a MarkedYAMLError
        line = source.count("\n", 0, exc.position) + 1
        return MethodFileError(str(path), line, f"not valid YAML: {exc.reason}")
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "top level"
        line = _line_of(node, list(error.absolute_path))
        return MethodFileError(str(path), line, f"{where}: {error.message}")
    problem = _semantic_problem(data)
    if problem is not None:
        location, reason = problem
        return MethodFileError(str(path), _line_of(node, location), reason)
    return _build(data)


def _line_of(node: yaml.Node | None, location: list[str | int]) -> int | None:
    """Follow a JSON path through the YAML node tree to the line it starts on (1-based)."""
    if node is None:
        return None
    for part in location:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if part < len(node.value) else None
        if child is None:
            break
        node = child
    return node.start_mark.line + 1


def _semantic_problem(data: dict[str, Any]) -> tuple[list[str | int], str] | None:
    """Rules a JSON schema cannot say: unique step ids, options only on votes."""
    seen: set[str] = set()
    for index, step in enumerate(data["steps"]):
        if step["id"] in seen:
            return ["steps", index, "id"], f"step id {step['id']!r} is used twice"
        seen.add(step["id"])
        if step["input"] == "vote" and not step.get("options"):
            return ["steps", index], f"step {step['id']!r} collects a vote but has no options"
        if step["input"] != "vote" and step.get("options"):
            return ["steps", index, "options"], f"step {step['id']!r} has options but no vote"
    return None


def _reactions(items: list[dict[str, Any]] | None) -> tuple[ReactionMeaning, ...]:
    return tuple(ReactionMeaning(r["emoji"], r["meaning"]) for r in items or ())


def _build(data: dict[str, Any]) -> Method:
    steps = tuple(
        Step(
            id=s["id"],
            title=s["title"],
            instruction=s["instruction"],
            speakers=Speakers(s["speakers"]),
            input=InputKind(s["input"]),
            sync_minutes=s["duration"]["sync_minutes"],
            async_hours=s["duration"]["async_hours"],
            silent=frozenset(Role(r) for r in s.get("silent", ())),
            advance=AdvanceRule(s.get("advance", "facilitator")),
            options=tuple(
                VoteOption(o["key"], o["emoji"], o["label"]) for o in s.get("options", ())
            ),
            reactions=_reactions(s.get("reactions")),
            media=tuple(Media(m["url"], m["title"], m["kind"]) for m in s.get("media", ())),
            private=s.get("private", False),
            anonymous=s.get("anonymous", False),
        )
        for s in data["steps"]
    )
    size = data.get("group_size", {})
    return Method(
        id=data["id"],
        names=data["names"],
        summary=data["summary"],
        source=data["source"],
        note=data.get("note"),
        steps=steps,
        min_group=size.get("min"),
        max_group=size.get("max"),
        protocol_reminder=data.get("protocol_reminder", False),
        reactions=_reactions(data.get("reactions")),
    )
