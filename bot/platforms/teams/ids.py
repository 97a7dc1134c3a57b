"""Teams adapter: the names cards send back, shared by render and parse.

A card button's ``data`` is ``{"intervision": <verb>, "session": <session id>}``; keeping
the key and the verbs here means a renamed button cannot silently stop working. The
reaction choice on a step card sends ``react`` with the keys chosen and offered.
"""

from __future__ import annotations

PLATFORM = "teams"
ACTION_KEY = "intervision"
SESSION_KEY = "session"
VERBS = ("ready", "next", "pause", "resume")
"""The ``ButtonPressed.action`` values a card may send."""

REACT_VERB = "react"
"""A step card's reaction choice was sent: its ``CHOICE_KEY`` input holds the chosen
meaning keys (comma-separated, as ``Input.ChoiceSet`` sends them) out of ``OFFERED_KEY``."""
CHOICE_KEY = "reactions"
OFFERED_KEY = "offered"
MAX_CHOICES = 20

START_VERB = "start"
"""The start form's button (Action.Execute, so a refusal is answered to the presser alone);
the form's inputs are named by ``bot.start_form.FormField``."""
MAX_PEOPLE = 300
"""People offered in the start form's choices (a card stays far under 100 KB)."""

CARD_ACTION_INVOKE = "adaptiveCard/action"
ENDPOINT = "/api/messages"
