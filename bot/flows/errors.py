"""Domain: the one shape of a refusal that a person is told about in their language."""

from __future__ import annotations

from typing import Any


class KeyedError(Exception):
    """An error whose ``key`` names the catalogue message explaining it, with ``params``."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
