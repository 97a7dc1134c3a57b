"""Reading a platform's JSON without trusting its shape: every accessor is total.

A field of the wrong type reads as empty, so a malformed payload becomes "no event" or a
refusal in the parser, never an exception in a request.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_ID_LENGTH = 255
"""The width of the id columns (users, channels, workspaces, threads, event ids)."""


def obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is an object, else an empty one."""
    return value if isinstance(value, Mapping) else {}


def text_of(value: Any) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def id_of(value: Any) -> str:
    """``value`` if it is a string the id columns can keep, else ``""``."""
    if isinstance(value, str) and "\x00" not in value and len(value) <= MAX_ID_LENGTH:
        return value
    return ""
