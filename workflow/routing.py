"""The route's state machine: which action may move a memo from which state, and who may take it.

States and transitions are declared as data and built with ``transitions``.
This module imports nothing of Flask, SQLModel or Celery: it judges an
``Act`` (plain data the service gathers) and answers with the next state or
raises a ``WorkflowError``.

A step (``Stage``) is one position, or a group of positions with a rule: all of them, any
one of them, or n of m. Members decide in any order; an approval that meets the rule moves
the memo on, one that does not leaves it at the step (a reflexive transition). A refusal by
any member (send back, reject) ends the step. A step may apply only when a ``Condition`` on
the memo holds (its type, its urgency, an amount); the steps that do not apply are never
entered. A signer may send a memo back to an earlier step it passed, or to the drafter.

One machine is shared by every route of the same shape (how many steps, and which of them
apply; who holds each step travels in the ``Act``), so a memo never becomes a transitions
model. We fire the event on a throw-away ``_Cursor`` that carries only the state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from transitions import EventData, Machine, MachineError

from .errors import Conflict, Forbidden, Invalid
from .steps import Stage

_LOGGER = logging.getLogger(__name__)

DRAFT = "draft"
RETURNED = "returned"
APPROVED = "approved"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"
FINAL_STATES = frozenset({APPROVED, REJECTED, WITHDRAWN})

SUBMIT = "submit"
APPROVE = "approve"
SEND_BACK = "send_back"
RESUBMIT = "resubmit"
REJECT = "reject"
WITHDRAW = "withdraw"
TRIGGERS = (SUBMIT, APPROVE, SEND_BACK, RESUBMIT, REJECT, WITHDRAW)
SIGNER_TRIGGERS = frozenset({APPROVE, SEND_BACK, REJECT})

_PENDING = re.compile(r"^pending_(\d+)$")

STATE_LABELS = {DRAFT: "ร่าง", RETURNED: "ส่งกลับแก้ไข", APPROVED: "อนุมัติแล้ว",
                REJECTED: "ไม่อนุมัติ", WITHDRAWN: "ถอนเรื่องแล้ว"}
TRIGGER_LABELS = {SUBMIT: "เสนอ", APPROVE: "ลงนาม/เห็นชอบ", SEND_BACK: "ส่งกลับแก้ไข",
                  RESUBMIT: "เสนอใหม่", REJECT: "ไม่อนุมัติ", WITHDRAW: "ถอนเรื่อง"}


def pending(step: int) -> str:
    """The state of a memo waiting at step ``step`` (1-based)."""
    return f"pending_{step}"


@lru_cache(maxsize=256)  # asked for each line of a list, of the few states there are
def step_of(state: str) -> int | None:
    """The step a pending state waits at, or None for any other state."""
    match = _PENDING.match(state)
    return int(match.group(1)) if match else None


def is_editable(state: str) -> bool:
    """Only a draft or a memo sent back for revision may be edited by its drafter."""
    return state in (DRAFT, RETURNED)


@lru_cache(maxsize=256)
def state_label(state: str) -> str:
    """The Thai name of a state, as users see it."""
    step = step_of(state)
    if step is not None:
        return f"รอพิจารณา ลำดับที่ {step}"
    return STATE_LABELS.get(state, state)


@dataclass(frozen=True)
class Act:
    """Everything the machine needs to judge one action, gathered by the service.

    ``stages`` are the memo's steps of this round; a route of single positions may give
    ``step_position_ids`` instead. ``target_step`` is where a send-back goes: an earlier step
    the memo passed, or None for the drafter."""

    actor_id: int
    drafter_id: int
    step_position_ids: tuple[int, ...] = ()
    actor_position_ids: frozenset[int] = field(default_factory=frozenset)
    comment: str = ""
    endorsement_required: bool = False
    stages: tuple[Stage, ...] = ()
    target_step: int | None = None

    def __post_init__(self) -> None:
        if not self.stages:
            object.__setattr__(self, "stages",
                               tuple(Stage.of(p) for p in self.step_position_ids))

    def stage_at(self, state: str) -> Stage | None:
        step = step_of(state)
        if step is None or step > len(self.stages):
            return None
        return self.stages[step - 1]

    def shape(self) -> tuple[bool, ...]:
        return tuple(stage.applies for stage in self.stages)

    def approved_at(self, state: str) -> Act:
        """This act after the actor approved at ``state``: their members there are decided."""
        step = step_of(state) or 0
        stages = [s.approved_by(self.actor_position_ids) if n == step else s
                  for n, s in enumerate(self.stages, start=1)]
        return replace(self, stages=tuple(stages))


@dataclass
class _Cursor:
    """Stands in for the memo while the machine runs: it holds the state and nothing else."""

    state: str


# -- guards: plain functions of (act, state) ---------------------------------


def is_drafter(act: Act, state: str) -> bool:
    """The action is the drafter's own."""
    return act.actor_id == act.drafter_id


def holds_current_step(act: Act, state: str) -> bool:
    """The actor answers for a member of the step the memo is waiting at who has not yet
    decided in this pass."""
    stage = act.stage_at(state)
    return stage is not None and bool(stage.open_to(act.actor_position_ids))


def completes_step(act: Act, state: str) -> bool:
    """This approval meets the step's rule (the last of all-of, the first of any-of)."""
    stage = act.stage_at(state)
    return stage is not None and stage.met_with(act.actor_position_ids)


def leaves_step_open(act: Act, state: str) -> bool:
    return not completes_step(act, state)


def to_drafter(act: Act, state: str) -> bool:
    return act.target_step is None


def is_not_drafter(act: Act, state: str) -> bool:
    """Nobody approves a memo they drafted themselves."""
    return act.actor_id != act.drafter_id


def has_reason(act: Act, state: str) -> bool:
    """Sending back and rejecting must say why."""
    return bool(act.comment.strip())


PLACEHOLDER = "…"
_REFUSING_WORDS = ("ไม่อนุมัติ", "ไม่เห็นชอบ", "ส่งกลับ")


def is_filled_in(act: Act, state: str) -> bool:
    """A quick-pick phrase's "…" must be replaced by the actual reason."""
    return PLACEHOLDER not in act.comment


def agrees_with_approval(act: Act, state: str) -> bool:
    """An approval must not carry words that refuse ("ไม่อนุมัติ…"): that is a reject."""
    return not act.comment.strip().startswith(_REFUSING_WORDS)


def has_endorsement(act: Act, state: str) -> bool:
    """Where the office requires it, an approval carries endorsement text."""
    return bool(act.comment.strip()) or not act.endorsement_required


@dataclass(frozen=True)
class Guard:
    """A guard and the refusal it raises; ``who`` guards decide whether to offer the action."""

    check: Callable[[Act, str], bool]
    error: Callable[[], Exception]
    who: bool = True

    def __call__(self, event: EventData) -> bool:
        act: Act = event.kwargs["act"]
        assert event.state is not None
        if not self.check(act, event.state.name):
            raise self.error()
        return True


@dataclass(frozen=True)
class Choice:
    """Picks one of several transitions of a trigger from one state (the step an approval
    leads to, where a send-back goes): it answers False rather than refusing, so that
    ``transitions`` tries the next. It comes after the ``Guard``s, which refuse first."""

    check: Callable[[Act, str], bool]

    def __call__(self, event: EventData) -> bool:
        act: Act = event.kwargs["act"]
        assert event.state is not None
        return self.check(act, event.state.name)


def _sent_to(step: int) -> Choice:
    return Choice(lambda act, state: act.target_step == step)


_STAYS = Choice(leaves_step_open)
_COMPLETES = Choice(completes_step)
_TO_DRAFTER = Choice(to_drafter)


_DRAFTER_ONLY = Guard(
    is_drafter,
    lambda: Forbidden(
        "เฉพาะผู้ร่างบันทึกเท่านั้นที่ทำรายการนี้ได้",
        "Only the drafter of this memo may do this.",
        code="not_drafter",
    ),
)
_CURRENT_SIGNER = Guard(
    holds_current_step,
    lambda: Forbidden(
        "บันทึกนี้ไม่ได้รอการพิจารณาของท่านในขณะนี้",
        "This memo is not waiting for your decision.",
        code="not_your_turn",
    ),
)
_NOT_OWN_MEMO = Guard(
    is_not_drafter,
    lambda: Forbidden(
        "ผู้ร่างไม่สามารถพิจารณาบันทึกของตนเองได้",
        "The drafter cannot decide on their own memo.",
        code="own_memo",
    ),
)
_REASON = Guard(
    has_reason,
    lambda: Invalid(
        "กรุณาระบุเหตุผล",
        "A reason is required.",
        code="reason_required",
    ),
    who=False,
)
_FILLED_IN = Guard(
    is_filled_in,
    lambda: Invalid(
        "กรุณาแทนที่ “…” ด้วยข้อความจริงก่อนดำเนินการ",
        "Replace the “…” of the quick-pick phrase with the actual text.",
        code="placeholder_left",
    ),
    who=False,
)
_AGREES = Guard(
    agrees_with_approval,
    lambda: Invalid(
        "ข้อความเกษียนเป็นการไม่อนุมัติหรือส่งกลับ แต่เลือกลงนามเห็นชอบ "
        "กรุณาใช้ปุ่ม “ไม่อนุมัติ” หรือ “ส่งกลับแก้ไข” แทน",
        "The endorsement refuses, but the action approves; use reject or send back.",
        code="contradictory_endorsement",
    ),
    who=False,
)
_ENDORSEMENT = Guard(
    has_endorsement,
    lambda: Invalid(
        "กรุณาเขียนเกษียนก่อนลงนาม",
        "Endorsement text is required.",
        code="endorsement_required",
    ),
    who=False,
)


def _transitions_for(shape: tuple[bool, ...]) -> list[dict[str, Any]]:
    applying = [step for step, applies in enumerate(shape, start=1) if applies]
    pendings = [pending(step) for step in applying]
    signer = [_CURRENT_SIGNER, _NOT_OWN_MEMO]
    table: list[dict[str, Any]] = [
        {"trigger": SUBMIT, "source": DRAFT, "dest": pendings[0], "conditions": [_DRAFTER_ONLY]},
        {"trigger": RESUBMIT, "source": RETURNED, "dest": pendings[0],
         "conditions": [_DRAFTER_ONLY]},
        {"trigger": WITHDRAW, "source": pendings, "dest": WITHDRAWN,
         "conditions": [_DRAFTER_ONLY]},
        {"trigger": REJECT, "source": pendings, "dest": REJECTED,
         "conditions": [*signer, _REASON, _FILLED_IN]},
    ]
    for index, here in enumerate(pendings):
        # Back to an earlier step the memo passed, or to the drafter.
        for earlier in applying[:index]:
            table.append({"trigger": SEND_BACK, "source": here, "dest": pending(earlier),
                          "conditions": [*signer, _sent_to(earlier), _REASON, _FILLED_IN]})
        table.append({"trigger": SEND_BACK, "source": here, "dest": RETURNED,
                      "conditions": [*signer, _TO_DRAFTER, _REASON, _FILLED_IN]})
        # An approval that leaves the group short of its rule keeps the memo here.
        approving = [*signer, _ENDORSEMENT, _FILLED_IN, _AGREES]
        there = pendings[index + 1] if index + 1 < len(pendings) else APPROVED
        table.append({"trigger": APPROVE, "source": here, "dest": here,
                      "conditions": [*approving, _STAYS]})
        table.append({"trigger": APPROVE, "source": here, "dest": there,
                      "conditions": [*approving, _COMPLETES]})
    return table


def _log_transition(event: EventData) -> None:
    # DEBUG: the service logs each action once at INFO, with the memo it happened to.
    act: Act = event.kwargs["act"]
    _LOGGER.debug(
        "%s: %s -> %s by user %s",
        event.event.name if event.event else "?",
        event.transition.source if event.transition else "?",
        event.transition.dest if event.transition else "?",
        act.actor_id,
    )


def machine_for(shape: int | tuple[bool, ...]) -> Machine:
    """The machine shared by every route of this shape: a number of steps that all apply, or
    for each step whether it applies to the memo."""
    if isinstance(shape, int):
        shape = (True,) * shape
    return _machine(shape)


@lru_cache(maxsize=256)
def _machine(shape: tuple[bool, ...]) -> Machine:
    if not any(shape):
        raise ValueError("a route needs at least one step that applies")
    step_count = len(shape)
    states = [DRAFT, *(pending(s) for s in range(1, step_count + 1)),
              RETURNED, APPROVED, REJECTED, WITHDRAWN]
    return Machine(
        model=None,
        states=states,
        transitions=_transitions_for(shape),
        initial=DRAFT,
        auto_transitions=False,
        send_event=True,
        after_state_change=[_log_transition],
    )


def fire(trigger: str, state: str, act: Act) -> str:
    """Judge ``trigger`` on a memo in ``state``; return the next state or raise."""
    if trigger not in TRIGGERS:
        raise Invalid(
            "ไม่รู้จักการดำเนินการนี้",
            f"Unknown action {trigger!r}.",
            code="unknown_action",
        )
    machine = machine_for(act.shape())
    cursor = _Cursor(state)
    try:
        moved = machine.events[trigger].trigger(cursor, act=act)
    except (MachineError, ValueError):  # ValueError: a state this route has no step for
        raise Conflict(
            f"ไม่สามารถ{TRIGGER_LABELS[trigger]}ได้ เนื่องจากบันทึกอยู่ในสถานะ \"{state_label(state)}\"",
            f"Cannot {trigger} a memo in state {state!r}.",
            code="illegal_transition",
            details={"state": state, "action": trigger},
        ) from None
    if not moved:  # every guard passed but no choice matched: a send-back to a wrong step
        raise Invalid(
            "ส่งกลับได้เฉพาะลำดับก่อนหน้าที่บันทึกผ่านมาแล้วในรอบนี้ หรือส่งกลับผู้ร่าง",
            "A memo can be sent back only to an earlier step it has passed, or to the drafter.",
            code="step_not_reached",
            details={"target_step": act.target_step, "state": state},
        )
    return cursor.state


def fire_run(trigger: str, state: str, act: Act) -> list[str]:
    """Like ``fire``, but an approval goes on through every next step the same actor answers
    for (their own post, then the one they act for): they sign once for all of them.

    Returns the states passed through; the last is where the memo ends up. The route never
    stalls waiting for a person to approve what they have just approved.
    """
    states = [fire(trigger, state, act)]
    if trigger == APPROVE:
        act = act.approved_at(state)
        while holds_current_step(act, states[-1]):
            here = states[-1]
            states.append(fire(APPROVE, here, act))
            act = act.approved_at(here)
    return states


def allowed_triggers(state: str, act: Act) -> list[str]:
    """The triggers this actor may take in this state (a missing reason is not judged here)."""
    machine = machine_for(act.shape())
    offered = []
    for trigger in TRIGGERS:
        transitions = machine.events[trigger].transitions.get(state, [])
        for transition in transitions:
            guards = [c.func for c in transition.conditions]
            if all(g.check(act, state) for g in guards if isinstance(g, Guard) and g.who):
                offered.append(trigger)
                break
    return offered
