"""A memo's rows of one round: laid from its route at (re)submission, one per member of each
step, and moved as the route's machine decides (``workflow.routing``).

Kept apart from ``actions`` because this is the part that knows groups: which rows an
approval closes, which members a completed step releases, which rows a send-back to an
earlier step reopens (in a new pass, so their emails are new ones).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import inspect
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session

from .. import routing
from ..errors import Invalid
from ..models import Memo, MemoStep, StepStatus
from .loaded import rows_at
from .routes import plan_for

_STEP_OUTCOME = {
    routing.APPROVE: StepStatus.APPROVED,
    routing.SEND_BACK: StepStatus.SENT_BACK,
    routing.REJECT: StepStatus.REJECTED,
}


def lay_steps(session: Session, memo: Memo) -> list[MemoStep]:
    """Copy the memo's route into a new round of steps: a row for each member of each step,
    with the approvals its step needs; a step whose condition does not hold is laid as
    skipped, with the reason, so the memo page can say which steps apply and why."""
    planned = plan_for(session, memo)
    if not planned:
        raise Invalid(
            "สายการเสนอของบันทึกนี้ไม่มีผู้พิจารณา",
            "The memo's route has no signer.",
            code="empty_route",
        )
    if not any(step.applies for step in planned):
        raise Invalid(
            "ไม่มีลำดับใดในสายการเสนอที่ใช้กับบันทึกนี้ตามเงื่อนไข กรุณาเลือกสายการเสนออื่น",
            "No step of the route applies to this memo.",
            code="no_step_applies",
        )
    steps = [
        MemoStep(
            org_id=memo.org_id,
            memo_id=memo.id or 0,
            round=memo.round,
            step_no=number,
            position_id=position_id,
            position_title=title,
            need=step.need,
            condition=step.why[:300],
            status=StepStatus.WAITING if step.applies else StepStatus.SKIPPED,
        )
        for number, step in enumerate(planned, start=1)
        for position_id, title in step.members
    ]
    session.add_all(steps)
    return steps


@dataclass
class Moved:
    """What moving the rows changed that others must hear of."""

    opened: list[MemoStep] = field(default_factory=list)  # rows that now wait for a decision
    released: list[MemoStep] = field(default_factory=list)  # closed without their decision


def move_rows(steps: list[MemoStep], *, trigger: str, signed: list[MemoStep], state_before: str,
              state_after: str, actor_id: int, now: datetime) -> Moved:
    """Close the rows signed; then, by the trigger: close the steps the approval completed
    (releasing members who had not decided) and open the next; reopen the step a memo is
    sent back to and every step after it; or cancel what the memo will no longer reach."""
    moved = Moved()
    _close_steps(steps, trigger, signed, actor_id, now)
    before, after = routing.step_of(state_before), routing.step_of(state_after)
    if trigger == routing.APPROVE and before is not None and after != before:
        last = after if after is not None else len(steps) + 1
        for row in steps:
            if before <= row.step_no < last and row.status in (StepStatus.PENDING,
                                                                StepStatus.WAITING):
                row.status = StepStatus.CANCELLED
                moved.released.append(row)
    elif trigger == routing.SEND_BACK and after is not None:
        for row in steps:
            if row.step_no >= after and row.status != StepStatus.SKIPPED:
                _reopen(row)
    if after is not None and (after != before or trigger == routing.SEND_BACK):
        for row in rows_at(steps, after):
            if row.status == StepStatus.WAITING:
                row.status = StepStatus.PENDING
                row.arrived_at = now
                moved.opened.append(row)
    return moved


def _reopen(row: MemoStep) -> None:
    """A row the memo comes back to: undecided again, in a new pass (its decision stays in
    the record as a ``Decision``)."""
    if row.arrived_at is not None:
        row.pass_no += 1
    row.status = StepStatus.WAITING
    row.arrived_at = row.decided_at = row.decided_by_id = row.opened_at = None
    row.reminders_sent, row.last_reminded_at, row.next_reminder_at = 0, None, None


# Every column an action may change on a step. Writing all of them on each step it changed
# gives those steps one parameter shape, so the flush sends them as a single executemany.
_STEP_COLUMNS = ("status", "arrived_at", "decided_at", "decided_by_id", "next_reminder_at",
                 "opened_at", "reminders_sent", "last_reminded_at", "pass_no")


def as_one_update(steps: list[MemoStep]) -> None:
    """The closed step and the opened one go to the database as one statement, not two.
    Called once the steps have moved: what is set later (their reminder time) is written in
    the same statement."""
    for step in steps:
        state = inspect(step)
        if state.persistent and state.modified:
            for key in _STEP_COLUMNS:
                flag_modified(step, key)


def _close_steps(
    steps: list[MemoStep], trigger: str, signed: list[MemoStep], actor_id: int, now: datetime
) -> None:
    """Record the outcome on the steps signed, and cancel the ones the memo will not reach."""
    for acting in signed:
        if trigger in _STEP_OUTCOME:
            acting.status = _STEP_OUTCOME[trigger]
            acting.decided_at = now
            acting.decided_by_id = actor_id
    if trigger in (routing.SEND_BACK, routing.REJECT, routing.WITHDRAW):
        for step in steps:
            if step.status in (StepStatus.WAITING, StepStatus.PENDING):
                step.status = StepStatus.CANCELLED
