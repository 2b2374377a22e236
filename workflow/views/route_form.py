"""The route editor's form: each step a box of positions, a rule and a condition, posted as
``step-N-…`` fields and read back into the service's ``StepSpec``s (the rules themselves
are ``workflow.admin.routes``')."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from .. import steps
from ..admin import routes as route_admin
from ..memos import routes
from ..validation import parse_count, parse_id


@dataclass
class Slot:
    """One step of the route editor as the form shows it (or as it was posted back)."""

    positions: list[str]
    rule: str = "all"
    need: str = ""
    when: str = ""  # "field:op", or "" for a step that always applies
    value: str = ""


CONDITION_CHOICES = [("", "ใช้ทุกครั้ง")] + [
    (f"{field}:{op}", f"เมื่อ{steps.FIELD_LABELS[field]}{word}")
    for field, ops in steps.CONDITION_OPS.items() for op, word in ops.items()]


def slots_of(row: routes.RouteRow) -> list[Slot]:
    slots = []
    for step in row.steps:
        c = step.condition
        value = "" if c is None else (steps.baht_text(int(c.value)) if c.field == "amount"
                                      else steps.URGENCY_LABELS.get(c.value, c.value))
        slots.append(Slot([str(i) for i in step.position_ids],
                           steps.rule_of(step.need, len(step.members)),
                           str(step.need or ""), f"{c.field}:{c.op}" if c else "", value))
    return slots


def posted_slots() -> list[Slot]:
    """The steps as posted: ``step-N-…`` fields for N below the most a route may have (any
    other field is ignored, so a post cannot make the server loop over more)."""
    form = request.form
    return [Slot([v for v in form.getlist(f"step-{i}-pos") if v][:steps.GROUP_MAX + 1],
                  form.get(f"step-{i}-rule", "all"), form.get(f"step-{i}-need", ""),
                  form.get(f"step-{i}-when", ""), form.get(f"step-{i}-value", ""))
            for i in range(routes.MAX_STEPS)]


def spec_of(slot: Slot, number: int) -> route_admin.StepSpec:
    field, _, op = slot.when.partition(":")
    need = None
    if slot.rule == "count":
        need = parse_count(slot.need, field=f"จำนวนผู้เห็นชอบของลำดับที่ {number}",
                           default=None, low=1, high=steps.GROUP_MAX)
    # A malformed id is the same Thai 422 as in every admin form (validation.parse_id).
    positions = [parse_id(v, field="choice", label="ค่าที่เลือก") or 0 for v in slot.positions]
    return route_admin.StepSpec(positions, slot.rule, need, (field, op, slot.value))
