"""Teams adapter: the names cards send back, shared by render and parse.

A card button's ``data`` is ``{"intervision": <verb>, "session": <session id>}``; keeping
the key and the verbs here means a renamed button cannot silently stop working.
"""

from __future__ import annotations

PLATFORM = "teams"
ACTION_KEY = "intervision"
SESSION_KEY = "session"
VERBS = ("ready", "next", "pause", "resume")
"""The ``ButtonPressed.action`` values a card may send."""

CARD_ACTION_INVOKE = "adaptiveCard/action"
ENDPOINT = "/api/messages"
