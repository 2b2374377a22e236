"""The route's state machine on its own: no app, no database, only ``workflow.routing``."""

from __future__ import annotations

import pytest

from workflow import routing
from workflow.errors import Conflict, Forbidden, Invalid
from workflow.routing import (
    APPROVE,
    APPROVED,
    DRAFT,
    REJECT,
    REJECTED,
    RESUBMIT,
    RETURNED,
    SEND_BACK,
    SUBMIT,
    TRIGGERS,
    WITHDRAW,
    WITHDRAWN,
    Act,
    allowed_triggers,
    fire,
    machine_for,
    pending,
)

DRAFTER = 1
OUTSIDER = 99
SIGNERS = (11, 12, 13, 14)  # user ids; each holds the position with id user id + 100
POSITIONS = tuple(user_id + 100 for user_id in SIGNERS)
REASON = "เห็นควรแก้ไขตามที่ได้หารือ"

STATES = [DRAFT, *(pending(s) for s in range(1, 5)), RETURNED, APPROVED, REJECTED, WITHDRAWN]

# (state, trigger) -> the state it leads to, on a route of four steps.
LEGAL = {
    (DRAFT, SUBMIT): pending(1),
    (RETURNED, RESUBMIT): pending(1),
    **{(pending(s), APPROVE): pending(s + 1) for s in range(1, 4)},
    (pending(4), APPROVE): APPROVED,
    **{(pending(s), SEND_BACK): RETURNED for s in range(1, 5)},
    **{(pending(s), REJECT): REJECTED for s in range(1, 5)},
    **{(pending(s), WITHDRAW): WITHDRAWN for s in range(1, 5)},
}
ILLEGAL = [(state, trigger) for state in STATES for trigger in TRIGGERS
           if (state, trigger) not in LEGAL]


def act_by(
    actor_id: int,
    *,
    comment: str = REASON,
    positions: tuple[int, ...] = POSITIONS,
    endorsement_required: bool = True,
    drafter_id: int = DRAFTER,
) -> Act:
    """An ``Act`` of ``actor_id`` on a memo of DRAFTER, the actor holding their usual position."""
    held = frozenset({actor_id + 100}) & frozenset(positions)
    return Act(
        actor_id=actor_id,
        drafter_id=drafter_id,
        step_position_ids=positions,
        actor_position_ids=held,
        comment=comment,
        endorsement_required=endorsement_required,
    )


def signer(step: int, **kwargs: object) -> Act:
    """The act of whoever holds step ``step`` (1-based) of the four-step route."""
    return act_by(SIGNERS[step - 1], **kwargs)  # type: ignore[arg-type]


def drafter(**kwargs: object) -> Act:
    """The act of the memo's drafter."""
    return act_by(DRAFTER, **kwargs)  # type: ignore[arg-type]


def rightful_act(state: str, trigger: str) -> Act:
    """Whoever would be entitled to ``trigger`` in ``state``, so that only the state refuses."""
    if trigger in routing.SIGNER_TRIGGERS:
        step = routing.step_of(state) or 1
        return signer(step)
    return drafter()


# -- legal paths -----------------------------------------------------------------


def test_submit_sends_a_draft_to_the_first_step() -> None:
    """The drafter's submit moves a draft to pending_1."""
    assert fire(SUBMIT, DRAFT, drafter()) == pending(1)


def test_approve_climbs_all_four_steps_to_approved() -> None:
    """Each signer's approval passes the memo up; the last one approves it."""
    state = fire(SUBMIT, DRAFT, drafter())
    visited = [state]
    for step in range(1, 5):
        state = fire(APPROVE, state, signer(step))
        visited.append(state)
    assert visited == [pending(1), pending(2), pending(3), pending(4), APPROVED]


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_send_back_returns_and_resubmit_starts_again(step: int) -> None:
    """A memo sent back from any step returns to its drafter and resubmits to step 1."""
    state = fire(SEND_BACK, pending(step), signer(step))
    assert state == RETURNED
    assert fire(RESUBMIT, state, drafter()) == pending(1)


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_reject_ends_the_memo(step: int) -> None:
    """The current signer may reject at any step."""
    assert fire(REJECT, pending(step), signer(step)) == REJECTED


@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_withdraw_takes_a_pending_memo_out(step: int) -> None:
    """The drafter may withdraw a memo wherever it waits."""
    assert fire(WITHDRAW, pending(step), drafter()) == WITHDRAWN


@pytest.mark.parametrize(("state", "trigger"), sorted(LEGAL), ids=lambda v: str(v))
def test_every_legal_transition_leads_where_declared(state: str, trigger: str) -> None:
    """The whole legal table, fired by the rightful actor."""
    assert fire(trigger, state, rightful_act(state, trigger)) == LEGAL[(state, trigger)]


# -- illegal transitions ------------------------------------------------------------


@pytest.mark.parametrize(("state", "trigger"), ILLEGAL, ids=[f"{s}-{t}" for s, t in ILLEGAL])
def test_illegal_transition_is_a_conflict(state: str, trigger: str) -> None:
    """A trigger the state does not allow is a 409 naming the state in Thai."""
    with pytest.raises(Conflict) as caught:
        fire(trigger, state, rightful_act(state, trigger))
    error = caught.value
    assert error.status == 409
    assert error.code == "illegal_transition"
    assert routing.state_label(state) in error.message
    assert routing.TRIGGER_LABELS[trigger] in error.message
    assert error.details == {"state": state, "action": trigger}


def test_illegal_table_covers_every_final_state_entirely() -> None:
    """Nothing at all may happen to an approved, rejected or withdrawn memo."""
    for state in routing.FINAL_STATES:
        assert [t for s, t in ILLEGAL if s == state] == list(TRIGGERS)


def test_unknown_trigger_is_invalid() -> None:
    """A trigger the route does not know is a 422, not a crash."""
    with pytest.raises(Invalid) as caught:
        fire("sign_everything", pending(1), signer(1))
    assert caught.value.code == "unknown_action"


# -- guards ---------------------------------------------------------------------------


@pytest.mark.parametrize("trigger", [APPROVE, SEND_BACK, REJECT])
@pytest.mark.parametrize("step", [1, 2, 3, 4])
def test_only_the_current_signer_may_decide(step: int, trigger: str) -> None:
    """Every other signer, the drafter and an outsider are told it is not their turn."""
    others = [signer(s) for s in range(1, 5) if s != step] + [drafter(), act_by(OUTSIDER)]
    for act in others:
        with pytest.raises(Forbidden) as caught:
            fire(trigger, pending(step), act)
        assert caught.value.code == "not_your_turn"
        assert caught.value.status == 403


@pytest.mark.parametrize("trigger", [APPROVE, REJECT])
def test_drafter_holding_the_step_may_not_decide_own_memo(trigger: str) -> None:
    """A drafter who holds the current step still may not approve or reject their own memo."""
    own = Act(actor_id=DRAFTER, drafter_id=DRAFTER, step_position_ids=POSITIONS,
              actor_position_ids=frozenset({POSITIONS[0]}), comment=REASON)
    with pytest.raises(Forbidden) as caught:
        fire(trigger, pending(1), own)
    assert caught.value.code == "own_memo"


@pytest.mark.parametrize("comment", ["", "   ", "\n\t"])
@pytest.mark.parametrize("trigger", [SEND_BACK, REJECT])
def test_send_back_and_reject_need_a_reason(trigger: str, comment: str) -> None:
    """Sending back or rejecting without a reason (or with only blanks) is a 422."""
    with pytest.raises(Invalid) as caught:
        fire(trigger, pending(2), signer(2, comment=comment))
    assert caught.value.code == "reason_required"
    assert caught.value.status == 422


def test_approve_needs_endorsement_where_required() -> None:
    """An office that requires endorsement text refuses a bare approval."""
    with pytest.raises(Invalid) as caught:
        fire(APPROVE, pending(3), signer(3, comment=" ", endorsement_required=True))
    assert caught.value.code == "endorsement_required"


def test_approve_without_endorsement_where_not_required() -> None:
    """An office that does not require endorsement text accepts a bare approval."""
    act = signer(3, comment="", endorsement_required=False)
    assert fire(APPROVE, pending(3), act) == pending(4)


@pytest.mark.parametrize(("state", "trigger"), [
    (DRAFT, SUBMIT),
    (RETURNED, RESUBMIT),
    *((pending(s), WITHDRAW) for s in range(1, 5)),
])
def test_only_the_drafter_may_submit_resubmit_or_withdraw(state: str, trigger: str) -> None:
    """Signers (even the one whose turn it is) and outsiders are refused the drafter's actions."""
    for act in [*(signer(s) for s in range(1, 5)), act_by(OUTSIDER)]:
        with pytest.raises(Forbidden) as caught:
            fire(trigger, state, act)
        assert caught.value.code == "not_drafter"


def test_wrong_state_is_judged_before_the_actor() -> None:
    """A stranger approving a final memo hears about the state (409), not about themselves."""
    with pytest.raises(Conflict):
        fire(APPROVE, APPROVED, act_by(OUTSIDER))


# -- allowed_triggers ------------------------------------------------------------------


ACTORS = {"drafter": drafter(), **{f"signer{s}": signer(s) for s in range(1, 5)},
          "outsider": act_by(OUTSIDER)}


@pytest.mark.parametrize(("state", "who", "expected"), [
    (DRAFT, "drafter", [SUBMIT]),
    (DRAFT, "signer1", []),
    (pending(1), "drafter", [WITHDRAW]),
    (pending(1), "signer1", [APPROVE, SEND_BACK, REJECT]),
    (pending(1), "signer2", []),
    (pending(3), "signer3", [APPROVE, SEND_BACK, REJECT]),
    (pending(4), "signer3", []),
    (pending(2), "outsider", []),
    (RETURNED, "drafter", [RESUBMIT]),
    (RETURNED, "signer1", []),
    (APPROVED, "drafter", []),
    (APPROVED, "signer4", []),
    (REJECTED, "drafter", []),
    (WITHDRAWN, "drafter", []),
], ids=lambda v: v if isinstance(v, str) else "-".join(v) or "nothing")
def test_allowed_triggers(state: str, who: str, expected: list[str]) -> None:
    """What the memo page offers each person in each state."""
    assert allowed_triggers(state, ACTORS[who]) == expected


def test_allowed_triggers_ignores_a_missing_reason() -> None:
    """The page offers send back and reject before the signer has typed a reason."""
    bare = signer(2, comment="")
    assert allowed_triggers(pending(2), bare) == [APPROVE, SEND_BACK, REJECT]


def test_allowed_triggers_agrees_with_fire() -> None:
    """Whatever is offered succeeds, and whatever is not offered is refused."""
    for state in STATES:
        for act in ACTORS.values():
            offered = allowed_triggers(state, act)
            for trigger in TRIGGERS:
                try:
                    fire(trigger, state, act)
                    succeeded = True
                except (Conflict, Forbidden):
                    succeeded = False
                assert succeeded == (trigger in offered), (state, act.actor_id, trigger)


# -- the shared machines ------------------------------------------------------------------


def test_machine_is_shared_per_step_count() -> None:
    """Routes with the same number of steps share one machine; others get their own."""
    assert machine_for(4) is machine_for(4)
    assert machine_for(3) is not machine_for(4)


def test_firing_leaves_the_shared_machine_without_models() -> None:
    """A memo never becomes a model of the shared machine, so memos cannot leak state."""
    fire(SUBMIT, DRAFT, drafter())
    fire(APPROVE, pending(1), signer(1))
    assert machine_for(4).models == []


def test_machine_needs_a_step() -> None:
    """A route with no step has no machine."""
    with pytest.raises(ValueError):
        machine_for(0)


def test_route_of_one_step() -> None:
    """With a single signer, the first approval is the final one."""
    only = (500,)
    clerk = Act(actor_id=DRAFTER, drafter_id=DRAFTER, step_position_ids=only)
    boss = Act(actor_id=5, drafter_id=DRAFTER, step_position_ids=only,
               actor_position_ids=frozenset(only), comment="อนุมัติ")
    assert fire(SUBMIT, DRAFT, clerk) == pending(1)
    assert allowed_triggers(pending(1), boss) == [APPROVE, SEND_BACK, REJECT]
    assert fire(APPROVE, pending(1), boss) == APPROVED


def test_route_of_six_steps() -> None:
    """Six signers in turn take the memo from pending_1 to approved, and no seventh step exists."""
    positions = tuple(range(201, 207))
    acts = [Act(actor_id=300 + n, drafter_id=DRAFTER, step_position_ids=positions,
                actor_position_ids=frozenset({positions[n]}), comment="ทราบ")
            for n in range(6)]
    state = fire(SUBMIT, DRAFT, Act(actor_id=DRAFTER, drafter_id=DRAFTER,
                                    step_position_ids=positions))
    for step, act in enumerate(acts, start=1):
        assert state == pending(step)
        with pytest.raises(Forbidden):
            fire(APPROVE, state, acts[step % 6])  # the next signer is not yet on turn
        state = fire(APPROVE, state, act)
    assert state == APPROVED
    assert machine_for(6) is not machine_for(4)


def test_state_labels_are_thai() -> None:
    """Pending states name their step; the others have fixed Thai names."""
    assert routing.state_label(pending(2)) == "รอพิจารณา ลำดับที่ 2"
    assert routing.state_label(RETURNED) == "ส่งกลับแก้ไข"
    assert routing.step_of(pending(12)) == 12
    assert routing.step_of(APPROVED) is None
