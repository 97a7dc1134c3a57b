"""Slack adapter: the ids of actions, blocks, modals and shortcuts, shared by render and listeners.

Slack sends these strings back in interaction payloads; keeping them in enums means a
renamed button cannot silently stop working.
"""

from __future__ import annotations

from enum import StrEnum

from bot.start_form import FormField

COMMAND = "/intervision"


class Action(StrEnum):
    """``action_id`` of the step-post and anchor buttons; their value is the session id."""

    READY = "intervision_ready"
    NEXT = "intervision_next"
    PAUSE = "intervision_pause"
    RESUME = "intervision_resume"

    @property
    def verb(self) -> str:
        """The neutral action name (``ButtonPressed.action``)."""
        return self.value.removeprefix("intervision_")


class Callback(StrEnum):
    """``callback_id`` of modals and shortcuts."""

    START_MODAL = "intervision_start"
    SCHEDULE_MODAL = "intervision_cop_schedule"
    ADOPT_SHORTCUT = "intervision_adopt"


Field = FormField
"""``block_id`` (and ``action_id``) of the inputs in the start modal: the neutral form's fields."""

SCHEDULE_FIELD = "schedule"
"""``block_id`` and ``action_id`` of the one input of the CoP schedule modal."""
