"""Console platform: the terminal channel, its numbered messages and how they print."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TextIO

BOT_NAME = "intervision"


@dataclass
class Line:
    ref: str
    author: str
    text: str
    thread: str | None


@dataclass
class Board:
    """Every message in the one console channel, numbered from 1 like Slack's ``ts``."""

    out: TextIO
    lines: dict[str, Line] = field(default_factory=dict)
    current_thread: str | None = None
    last_step_post: dict[str, str] = field(default_factory=dict)

    def add(self, author: str, text: str, thread: str | None) -> Line:
        line = Line(str(len(self.lines) + 1), author, text, thread)
        self.lines[line.ref] = line
        self.print(line)
        return line

    def replace(self, ref: str, text: str) -> None:
        line = self.lines[ref]
        line.text = text
        self.out.write(f"{self._indent(line)}[{ref}] (edited) {line.author}: {_shown(text)}\n")

    def print(self, line: Line) -> None:
        self.out.write(f"{self._indent(line)}[{line.ref}] {line.author}: {_shown(line.text)}\n")

    def private(self, user: str, text: str, thread: str | None) -> None:
        indent = "    " if thread else ""
        self.out.write(f"{indent}(only {user}) {_shown(text)}\n")

    def direct(self, user: str, text: str) -> None:
        self.out.write(f"(direct message to {user}) {_shown(text)}\n")

    def note(self, text: str) -> None:
        self.out.write(f"* {text}\n")

    def _indent(self, line: Line) -> str:
        return "    " if line.thread else ""


def _shown(text: str) -> str:
    """Continuation lines of a multi-line message stay indented under it."""
    return text.replace("\n", "\n      ")
