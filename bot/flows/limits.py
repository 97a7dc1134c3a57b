"""Domain: how long what people type may be, and the one character it may not hold.

Every typed field that ends up in a bounded column (or in a message someone else reads)
is checked in its use case before anything is saved. Too long, or holding a NUL character
(which PostgreSQL cannot store in text), it is refused with a ``KeyedError`` the person
reads in their language; nothing reaches the database as a failure.
"""

from __future__ import annotations

from bot.flows.errors import KeyedError

NUL = "\x00"

COMMAND = 4000  # all a slash command carries, and plenty for the console
COP_NAME = 200  # cops.name
PLACE = 500  # cops.place
LINK = 1000  # cops.link
SCHEDULE_RULE = 500  # cops.rrule
PERSON = 255  # a person's id, typed as a mention
AGENDA_ITEM = 2000
PROTOCOL = 1000  # the group's protocol reminder, posted at every session start
SETTING = 64  # a country, region or time zone
LANGUAGE = 8  # sessions.language


def refuse_nul(text: str) -> str:
    """``text`` unless it holds a NUL character.

    Raises:
        KeyedError: ``input.bad_character``.
    """
    if NUL in text:
        raise KeyedError("input.bad_character")
    return text


def within(text: str, limit: int, field: str, **params: object) -> str:
    """``text`` if it holds no NUL and is at most ``limit`` characters long.

    Raises:
        KeyedError: ``input.bad_character``, or ``input.too_long.<field>`` with ``length``
            and ``limit`` (and ``params``) for the message.
    """
    refuse_nul(text)
    if len(text) > limit:
        raise KeyedError(f"input.too_long.{field}", length=len(text), limit=limit, **params)
    return text
