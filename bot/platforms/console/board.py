"""Console platform: the terminal channel, its numbered messages and how they print."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

BOT_NAME = "intervision"

# ANSI/VT escape sequences (CSI, OSC and two-character ones) and every other control
# character but line break and tab: user text must not move the cursor, recolour or
# retitle the terminal, or hide what was printed before it.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL or ST
    r"|\x1b[@-_]?"  # other two-character escapes, or a lone ESC
    r"|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def clean(text: str) -> str:
    """``text`` without terminal escape sequences and control characters (``\\n`` and
    ``\\t`` stay; carriage returns go, so a line cannot overwrite what came before it)."""
    return _ESCAPES.sub("", text)


@dataclass
class Line:
    ref: str
    author: str
    text: str
    thread: str | None


@dataclass
class Board:
    """Every message in the one console channel, numbered from 1 like Slack's ``ts``.

    A number is never given twice, not after a deletion and not after a restart
    (``continue_after``): stored contributions and the bot's posts are keyed by it.
    """

    out: TextIO
    lines: dict[str, Line] = field(default_factory=dict)
    current_thread: str | None = None
    last_step_post: dict[str, str] = field(default_factory=dict)
    last_number: int = 0

    def add(self, author: str, text: str, thread: str | None) -> Line:
        self.last_number += 1
        line = self.remember(str(self.last_number), author, text, thread)
        self.print(line)
        return line

    def remember(self, ref: str, author: str, text: str, thread: str | None) -> Line:
        """Know a message without printing it (one posted before a restart)."""
        line = Line(ref, author, text, thread)
        self.lines[ref] = line
        return line

    def continue_after(self, refs: Iterable[str]) -> None:
        """Number new messages after every number in ``refs`` (those already stored)."""
        numbers = [int(ref) for ref in refs if ref.isdecimal()]
        self.last_number = max([self.last_number, *numbers])

    def replace(self, ref: str, text: str) -> None:
        line = self.lines.get(ref) or self.remember(ref, BOT_NAME, text, None)
        line.text = text
        self.out.write(
            f"{self._indent(line)}[{ref}] (edited) {clean(line.author)}: {_shown(text)}\n"
        )

    def print(self, line: Line) -> None:
        self.out.write(
            f"{self._indent(line)}[{line.ref}] {clean(line.author)}: {_shown(line.text)}\n"
        )

    def private(self, user: str, text: str, thread: str | None) -> None:
        indent = "    " if thread else ""
        self.out.write(f"{indent}(only {clean(user)}) {_shown(text)}\n")

    def direct(self, user: str, text: str) -> None:
        self.out.write(f"(direct message to {clean(user)}) {_shown(text)}\n")

    def note(self, text: str) -> None:
        self.out.write(f"* {clean(text)}\n")

    def _indent(self, line: Line) -> str:
        return "    " if line.thread else ""


def _shown(text: str) -> str:
    """Continuation lines of a multi-line message stay indented under it; control
    characters and escape sequences in it are dropped (``clean``)."""
    return clean(text).replace("\n", "\n      ")
