"""Catalogue texts with markup put into them safely, for every renderer.

A text is translated with placeholders for the markup, escaped as a whole (so nothing a
person wrote, nor the catalogue, can inject markup), and only then are the pieces of
markup, already safe, put in their places.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping


def fill_escaped(
    translated: Callable[..., str], escape: Callable[[str], str], markup: Mapping[str, str]
) -> str:
    """``translated(**tokens)`` escaped, with each token replaced by its ``markup``."""
    tokens = {name: f"\x00{index}\x00" for index, name in enumerate(markup)}
    escaped = escape(translated(**tokens))
    for name, token in tokens.items():
        escaped = escaped.replace(token, markup[name])
    return escaped
