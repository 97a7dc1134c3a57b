"""Console platform: a scripted team plays one whole session of any method.

The script is made from the method's own steps, so every built-in (and every
organisation's own) method can be demonstrated: the right people speak in each step,
the case owner once tries to speak when the method keeps them silent, votes and
reactions are cast where a step collects them, and the facilitator moves on.
"""

from __future__ import annotations

from bot.flows.method import InputKind, Method, Role, Speakers, Step
from bot.i18n import t

OWNER = "anna"
FACILITATOR = "ben"
GROUP = ("clara", "david", "eva")


def demo_script(method: Method, language: str) -> list[str]:
    """The lines a small team would type to run ``method`` from start to record."""
    lines = [
        f"/as {FACILITATOR}",
        f"/intervision start {method.id} owner={OWNER} with={','.join(GROUP)} lang={language}",
    ]
    owner_tried = False
    for number, step in enumerate(method.steps, start=1):
        lines.extend(_step_lines(method, step, number, language, try_owner=not owner_tried))
        owner_tried = owner_tried or step.is_silent(Role.CASE_OWNER)
        lines.extend([f"/as {FACILITATOR}", "/intervision next"])
    # The record is posted only once the case owner approved it.
    lines.extend([f"/as {OWNER}", "/intervision approve"])
    return lines


def _step_lines(
    method: Method, step: Step, number: int, lang: str, *, try_owner: bool
) -> list[str]:
    lines: list[str] = []
    if step.input is InputKind.NONE:
        return lines
    if step.input is InputKind.VOTE:
        for index, person in enumerate(GROUP):
            choice = 1 if index < 2 else 2
            lines.extend([f"/as {person}", str(choice)])
        return lines
    if step.input is InputKind.REACTIONS:
        emoji = [r.emoji for r in (*step.reactions, *method.reactions)] or ["bulb"]
        for index, person in enumerate(GROUP):
            lines.extend([f"/as {person}", f"+:{emoji[index % len(emoji)]}:"])
    if step.input is InputKind.ACTIONS:
        for person in (OWNER, *GROUP):
            lines.extend(
                [
                    f"/as {person}",
                    t("demo.action.personal", lang),
                    t("demo.action.team", lang),
                ]
            )
        return lines
    for index, person in enumerate(_speakers(step)):
        if person == OWNER:
            key = "demo.owner.case" if number == 1 else "demo.owner.later"
        elif person == FACILITATOR:
            key = "demo.facilitator"
        else:
            key = f"demo.group.{index % 3 + 1}"
        said = t(key, lang)
        lines.extend([f"/as {person}", f"/intervision private {said}" if step.private else said])
    if try_owner and step.is_silent(Role.CASE_OWNER) and not step.private:
        lines.extend([f"/as {OWNER}", t("demo.owner_interrupts", lang)])
    return lines


def _speakers(step: Step) -> tuple[str, ...]:
    people = {
        Speakers.CASE_OWNER: (OWNER,),
        Speakers.FACILITATOR: (FACILITATOR,),
        Speakers.GROUP: GROUP,
        Speakers.EVERYONE: (OWNER, *GROUP),
    }[step.speakers]
    return tuple(p for p in people if not (p == OWNER and step.is_silent(Role.CASE_OWNER)))
