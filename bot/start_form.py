"""The start form, platform-neutral: its fields, what a filled-in form asks for, its errors.

Slack shows the form as a modal, Teams as an Adaptive Card; each adapter reads its own
payload into ``values`` (field -> a string, ``""`` when empty, or a list of strings for
the multiple choices) and both use these functions, so the form refuses the same things
on every platform. The use case (``bot.handlers.command.start``) checks the request again:
the form's errors only tell the person early, next to the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from bot.events import StartRequest
from bot.flows.session import Mode

MAX_DEADLINE_HOURS = 336
NAMED_RECORD_OPTION = "named"
"""The value of the one choice of the named-record field ("the record names who said what")."""

FormError = tuple[str, dict[str, Any]]
"""A catalogue key and its parameters."""

_MODES = frozenset(mode.value for mode in Mode)


class FormField(StrEnum):
    """The start form's inputs (Slack's ``block_id``, the Teams card's input ``id``)."""

    METHOD = "method"
    CASE_OWNER = "case_owner"
    FACILITATOR = "facilitator"
    PARTICIPANTS = "participants"
    MODE = "mode"
    DEADLINE_HOURS = "deadline_hours"
    LANGUAGE = "language"
    NAMED_RECORD = "named_record"


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> list[str]:
    return (
        [item for item in value if isinstance(item, str) and item]
        if isinstance(value, list)
        else []
    )


def hours(value: Any) -> int | None:
    """A whole number of hours typed in the form (ASCII digits only), else ``None``."""
    text = _text(value).strip()
    return int(text) if text.isascii() and text.isdecimal() and len(text) <= 6 else None


def start_request(values: Mapping[str, Any], *, invoker: str) -> StartRequest:
    """The ``StartRequest`` a filled-in form describes (an unknown mode reads as sync; the
    facilitator is whoever sent the form unless someone else is chosen)."""
    typed_mode = _text(values.get(FormField.MODE))
    mode = Mode(typed_mode) if typed_mode in _MODES else Mode.SYNC
    deadline = hours(values.get(FormField.DEADLINE_HOURS))
    return StartRequest(
        method_id=_text(values.get(FormField.METHOD)),
        case_owner=_text(values.get(FormField.CASE_OWNER)),
        facilitator=_text(values.get(FormField.FACILITATOR)) or invoker,
        participants=tuple(_strings(values.get(FormField.PARTICIPANTS))),
        mode=mode,
        language=_text(values.get(FormField.LANGUAGE)) or None,
        named_record=NAMED_RECORD_OPTION in _strings(values.get(FormField.NAMED_RECORD)),
        deadline_hours=deadline if mode is Mode.ASYNC else None,
    )


def start_form_errors(values: Mapping[str, Any]) -> dict[str, FormError]:
    """Errors to show next to the fields: field -> (catalogue key, its parameters)."""
    errors: dict[str, FormError] = {}
    owner = values.get(FormField.CASE_OWNER)
    facilitator = values.get(FormField.FACILITATOR)
    if not owner:
        errors[FormField.CASE_OWNER.value] = ("start.usage", {})
    elif facilitator and owner == facilitator:
        errors[FormField.FACILITATOR.value] = ("rule.owner_is_facilitator", {})
    typed = values.get(FormField.DEADLINE_HOURS)
    number = hours(typed)
    if typed and (number is None or not 1 <= number <= MAX_DEADLINE_HOURS):
        params = {"option": "hours", "value": _text(typed)[:20], "allowed": "1-336"}
        errors[FormField.DEADLINE_HOURS.value] = ("start.bad_value", params)
    return errors
