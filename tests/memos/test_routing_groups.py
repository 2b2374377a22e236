"""Route steps that are groups or apply only under a condition, on the machine alone: no app,
no database, only ``workflow.routing`` judging ``workflow.steps``."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from tests.support.paths import ARTIFACTS
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
    fire_run,
    machine_for,
    pending,
)
from workflow.steps import AMOUNT_MAX_SATANG, Condition, Facts, Stage, baht_text, parse_baht
from workflow.thai import thai_digits

set_hypothesis_home_dir(ARTIFACTS / "hypothesis")  # not .hypothesis/ in the work tree

DRAFTER = 1
# Position ids; whoever holds position p is user p - 100 (one post each unless said otherwise).
HEAD, FINANCE, WORKS, AUDIT, PALAD, MAYOR = 201, 202, 203, 204, 205, 206
OUTSIDER = 299
REASON = "เห็นควรแก้ไขตามที่ได้หารือ"


def skipped(position: int) -> Stage:
    """A step whose condition does not hold for this memo."""
    return replace(Stage.of(position), applies=False)


def act_by(actor_id: int, *positions: int, stages: tuple[Stage, ...], comment: str = REASON,
           target_step: int | None = None) -> Act:
    """An ``Act`` of ``actor_id`` answering for ``positions`` on a memo of DRAFTER."""
    return Act(actor_id=actor_id, drafter_id=DRAFTER, actor_position_ids=frozenset(positions),
               comment=comment, stages=stages, target_step=target_step)


def holder(*positions: int, stages: tuple[Stage, ...], **kwargs: object) -> Act:
    """The act of the user holding ``positions[0]`` (and acting for the rest)."""
    return act_by(positions[0] - 100, *positions, stages=stages, **kwargs)  # type: ignore[arg-type]


# head -> finance and works together -> (audit: skipped) -> ปลัด -> (นายก: skipped).
# The skipped steps sit in the middle and at the end, so both kinds of skip are exercised.
ROUTE = (Stage.of(HEAD), Stage.all_of(FINANCE, WORKS), skipped(AUDIT), Stage.of(PALAD),
         skipped(MAYOR))
APPLYING = (1, 2, 4)
STATES = [DRAFT, *(pending(s) for s in range(1, 6)), RETURNED, APPROVED, REJECTED, WITHDRAWN]

LEGAL = {
    (DRAFT, SUBMIT): pending(1),
    (RETURNED, RESUBMIT): pending(1),
    (pending(1), APPROVE): pending(2),
    (pending(2), APPROVE): pending(2),  # the first of the pair: the group waits for the other
    (pending(4), APPROVE): APPROVED,  # the last applying step, though step 5 exists
    **{(pending(s), SEND_BACK): RETURNED for s in APPLYING},
    **{(pending(s), REJECT): REJECTED for s in APPLYING},
    **{(pending(s), WITHDRAW): WITHDRAWN for s in APPLYING},
}
ILLEGAL = [(s, t) for s in STATES for t in TRIGGERS if (s, t) not in LEGAL]


def rightful_act(state: str, trigger: str) -> Act:
    """Whoever may take ``trigger`` in ``state`` (a group's first member), so only the state
    can refuse."""
    step = routing.step_of(state)
    if trigger in routing.SIGNER_TRIGGERS:
        return holder(ROUTE[(step or 1) - 1].members[0], stages=ROUTE)
    return act_by(DRAFTER, stages=ROUTE)


@pytest.mark.parametrize(("state", "trigger"), sorted(LEGAL), ids=lambda v: str(v))
def test_every_legal_transition_leads_where_declared(state: str, trigger: str) -> None:
    assert fire(trigger, state, rightful_act(state, trigger)) == LEGAL[(state, trigger)]


@pytest.mark.parametrize(("state", "trigger"), ILLEGAL, ids=[f"{s}-{t}" for s, t in ILLEGAL])
def test_illegal_transition_is_a_conflict(state: str, trigger: str) -> None:
    """Including every trigger on a skipped step's state: the memo never waits there."""
    with pytest.raises(Conflict) as caught:
        fire(trigger, state, rightful_act(state, trigger))
    assert caught.value.code == "illegal_transition"
    assert caught.value.details == {"state": state, "action": trigger}


# -- group rules ------------------------------------------------------------------------


def around(group: Stage) -> tuple[Stage, ...]:
    """A route of three steps with ``group`` in the middle."""
    return (Stage.of(HEAD), group, Stage.of(PALAD))


@pytest.mark.parametrize(("group", "approvers", "states"), [
    (Stage.all_of(FINANCE, WORKS), [FINANCE, WORKS], [pending(2), pending(3)]),
    (Stage.all_of(FINANCE, WORKS), [WORKS, FINANCE], [pending(2), pending(3)]),
    (Stage.all_of(FINANCE, WORKS, AUDIT), [AUDIT, FINANCE, WORKS],
     [pending(2), pending(2), pending(3)]),
    (Stage.any_of(FINANCE, WORKS), [WORKS], [pending(3)]),
    (Stage.n_of(2, FINANCE, WORKS, AUDIT), [AUDIT, WORKS], [pending(2), pending(3)]),
    (Stage.n_of(2, FINANCE, WORKS, AUDIT), [FINANCE, AUDIT], [pending(2), pending(3)]),
], ids=["all-in-order", "all-any-order", "all-of-three", "any-first", "2-of-3", "2-of-3-other"])
def test_group_moves_on_only_when_its_rule_is_met(
        group: Stage, approvers: list[int], states: list[str]) -> None:
    """Each approval short of the rule keeps the memo at the step; the one meeting it moves."""
    stages, state, seen = around(group), pending(2), []
    for position in approvers:
        act = holder(position, stages=stages)
        state = fire(APPROVE, state, act)
        stages = act.approved_at(pending(2)).stages  # as the service records the decision
        seen.append(state)
    assert seen == states


# Finance has approved at step 2; works has not.
HALF_DONE = around(replace(Stage.all_of(FINANCE, WORKS), decided=frozenset({FINANCE})))


def test_group_as_the_last_step_approves_the_memo() -> None:
    assert fire(APPROVE, pending(2), holder(WORKS, stages=HALF_DONE[:2])) == APPROVED


@pytest.mark.parametrize("trigger", [APPROVE, SEND_BACK, REJECT])
@pytest.mark.parametrize(("who", "code"), [
    pytest.param(holder(FINANCE, stages=HALF_DONE), "not_your_turn", id="member-decided"),
    pytest.param(holder(HEAD, stages=HALF_DONE), "not_your_turn", id="earlier-step"),
    pytest.param(holder(PALAD, stages=HALF_DONE), "not_your_turn", id="later-step"),
    pytest.param(holder(OUTSIDER, stages=HALF_DONE), "not_your_turn", id="outsider"),
    pytest.param(act_by(DRAFTER, stages=HALF_DONE), "not_your_turn", id="drafter"),
    # The drafter holds works, the member still owed: it is their own memo all the same.
    pytest.param(act_by(DRAFTER, WORKS, stages=HALF_DONE), "own_memo", id="drafter-member"),
])
def test_only_an_undecided_member_other_than_the_drafter_may_decide(
        who: Act, code: str, trigger: str) -> None:
    with pytest.raises(Forbidden) as caught:
        fire(trigger, pending(2), who)
    assert caught.value.code == code


@pytest.mark.parametrize(("trigger", "expected"), [(SEND_BACK, RETURNED), (REJECT, REJECTED)])
def test_one_member_refusing_ends_the_step_though_another_approved(
        trigger: str, expected: str) -> None:
    assert fire(trigger, pending(2), holder(WORKS, stages=HALF_DONE)) == expected


@pytest.mark.parametrize(("group", "expected"), [
    (Stage.all_of(FINANCE, WORKS), pending(3)),
    (Stage.n_of(2, FINANCE, WORKS, AUDIT), pending(3)),
    (Stage.n_of(3, FINANCE, WORKS, AUDIT), pending(2)),  # still waits for audit
], ids=["all-of-two", "2-of-3", "3-of-3"])
def test_one_actor_for_two_members_approves_for_both(group: Stage, expected: str) -> None:
    """Someone holding finance and acting for works counts twice, in one approval."""
    both = holder(FINANCE, WORKS, stages=around(group))
    assert group.met_with(both.actor_position_ids) == (expected == pending(3))
    assert fire(APPROVE, pending(2), both) == expected


# -- fire_run ---------------------------------------------------------------------------


CHAIN = (Stage.of(HEAD), Stage.of(PALAD), Stage.of(MAYOR))
PAIR = around(Stage.all_of(FINANCE, WORKS))


@pytest.mark.parametrize(("stages", "positions", "states"), [
    (CHAIN, (HEAD,), [pending(2)]),
    (CHAIN, (HEAD, PALAD), [pending(2), pending(3)]),
    (CHAIN[:2], (HEAD, PALAD), [pending(2), APPROVED]),
    ((CHAIN[0], skipped(AUDIT), *CHAIN[1:]), (HEAD, PALAD), [pending(3), pending(4)]),
    (PAIR, (HEAD, FINANCE), [pending(2), pending(2)]),  # works still owes its approval
    (PAIR, (HEAD, FINANCE, WORKS), [pending(2), pending(3)]),
], ids=["own-step-only", "own-then-acting", "to-the-end", "over-a-skipped-step",
        "stops-at-group-others-owe", "answers-for-whole-group"])
def test_fire_run_signs_every_next_step_the_actor_answers_for(
        stages: tuple[Stage, ...], positions: tuple[int, ...], states: list[str]) -> None:
    assert fire_run(APPROVE, pending(1), holder(*positions, stages=stages)) == states


def test_fire_run_goes_on_only_for_approvals() -> None:
    assert fire_run(SEND_BACK, pending(1), holder(HEAD, PALAD, stages=CHAIN)) == [RETURNED]


# -- send back to an earlier step ----------------------------------------------------------


@pytest.mark.parametrize(("state", "target", "expected"), [
    (pending(4), None, RETURNED),
    (pending(4), 1, pending(1)),
    (pending(4), 2, pending(2)),
    (pending(2), 1, pending(1)),
    (pending(4), 3, "step_not_reached"),  # skipped: the memo never waited there
    (pending(4), 4, "step_not_reached"),  # the current step
    (pending(4), 5, "step_not_reached"),  # later (and skipped)
    (pending(2), 4, "step_not_reached"),  # later, applying
    (pending(2), 2, "step_not_reached"),
    (pending(1), 1, "step_not_reached"),  # nothing before the first step
    (pending(4), 0, "step_not_reached"),
    (pending(4), -1, "step_not_reached"),
    (pending(4), 6, "step_not_reached"),  # beyond the route
], ids=lambda v: str(v))
def test_send_back_goes_only_to_a_step_passed(state: str, target: int | None,
                                              expected: str) -> None:
    step = routing.step_of(state) or 1
    act = holder(ROUTE[step - 1].members[-1], stages=ROUTE, target_step=target)
    if expected != "step_not_reached":
        assert fire(SEND_BACK, state, act) == expected
        return
    with pytest.raises(Invalid) as caught:
        fire(SEND_BACK, state, act)
    assert caught.value.code == "step_not_reached"
    assert caught.value.details == {"target_step": target, "state": state}


@pytest.mark.parametrize("target", [None, 1, 2])
@pytest.mark.parametrize("comment", ["", "  \n"])
def test_send_back_needs_a_reason_wherever_it_goes(target: int | None, comment: str) -> None:
    act = holder(PALAD, stages=ROUTE, target_step=target, comment=comment)
    with pytest.raises(Invalid) as caught:
        fire(SEND_BACK, pending(4), act)
    assert caught.value.code == "reason_required"


# -- allowed_triggers -----------------------------------------------------------------------


# who -> (user id, positions answered for)
ACTORS = {"finance": (102, (FINANCE,)), "works": (103, (WORKS,)), "both": (102, (FINANCE, WORKS)),
          "head": (101, (HEAD,)), "outsider": (199, (OUTSIDER,)), "drafter": (DRAFTER, ()),
          "drafter-in-group": (DRAFTER, (WORKS,))}


@pytest.mark.parametrize("decided", [(), (FINANCE,), (WORKS,)], ids=["none", "fin", "works"])
@pytest.mark.parametrize("who", ACTORS)
def test_allowed_triggers_agrees_with_fire(who: str, decided: tuple[int, ...]) -> None:
    """Whatever is offered succeeds and whatever is not is refused, in every state, for each
    member of a group however far it got."""
    stages = (ROUTE[0], replace(ROUTE[1], decided=frozenset(decided)), *ROUTE[2:])
    user_id, positions = ACTORS[who]
    act = act_by(user_id, *positions, stages=stages)
    for state in STATES:
        offered = allowed_triggers(state, act)
        for trigger in TRIGGERS:
            try:
                fire(trigger, state, act)
                succeeded = True
            except (Conflict, Forbidden):
                succeeded = False
            assert succeeded == (trigger in offered), (state, trigger)


def test_a_member_who_decided_is_not_offered_to_decide_again() -> None:
    assert allowed_triggers(pending(2), holder(FINANCE, stages=HALF_DONE)) == []
    assert allowed_triggers(pending(2), holder(WORKS, stages=HALF_DONE)) == [
        APPROVE, SEND_BACK, REJECT]


# -- the shared machines ------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(), (False,), (False, False, False)], ids=str)
def test_machine_needs_a_step_that_applies(shape: tuple[bool, ...]) -> None:
    with pytest.raises(ValueError):
        machine_for(shape)


def test_machines_are_shared_per_shape() -> None:
    """The same shape gets the same machine; which steps apply is part of the shape."""
    assert machine_for((True, False, True)) is machine_for((True, False, True))
    assert machine_for((True, False, True)) is not machine_for((True, True, True))
    assert machine_for(3) is machine_for((True, True, True))


# -- conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "op", "value", "stored"), [
    ("amount", "gt", "100,000", "10000000"),
    ("amount", "le", "๑๐๐,๐๐๐", "10000000"),
    ("amount", "gt", "1,500.50", "150050"),
    ("amount", "gt", " 250,000 บาท ", "25000000"),
    ("amount", "le", "0", "0"),
    ("amount", "le", "9,999,999,999,999.99", str(AMOUNT_MAX_SATANG - 1)),
    ("urgency", "ge", "urgent", "urgent"),
    ("urgency", "eq", "most_urgent", "most_urgent"),
    ("urgency", "ge", " ด่วน ", "urgent"),  # the Thai label as the editor shows it
    ("urgency", "eq", "ด่วนที่สุด", "most_urgent"),
    ("memo_type", "eq", "  จัดซื้อ   จัดจ้าง ", "จัดซื้อ จัดจ้าง"),
    ("memo_type", "ne", "Procurement", "Procurement"),
    ("", "", "", None),  # the editor's "always applies"
], ids=lambda v: str(v))
def test_condition_build_stores_a_clean_value(field: str, op: str, value: str,
                                              stored: str | None) -> None:
    expected = None if stored is None else Condition(field, op, stored)
    assert Condition.build(field, op, value) == expected


@pytest.mark.parametrize(("field", "op", "value", "code"), [
    ("amount", "gt", "-5", "invalid_amount"),
    ("amount", "gt", "1.234", "invalid_amount"),
    ("amount", "gt", "12abc", "invalid_amount"),
    ("amount", "gt", "", "invalid_amount"),
    ("amount", "gt", "1.2.3", "invalid_amount"),
    ("amount", "gt", "10,000,000,000,000", "invalid_amount"),  # exactly the ceiling
    ("amount", "gt", "1" * 21, "invalid_amount"),
    ("amount", "ge", "100", "invalid_condition"),
    ("urgency", "gt", "urgent", "invalid_condition"),
    ("urgency", "ge", "super_urgent", "invalid_condition"),
    ("urgency", "ge", "ด่วนจี๋", "invalid_condition"),  # no such Thai level either
    ("memo_type", "eq", "   ", "invalid_condition"),
    ("memo_type", "eq", "x" * 201, "invalid_condition"),
    ("colour", "eq", "red", "invalid_condition"),
], ids=lambda v: str(v)[:24])
def test_condition_build_refuses_a_bad_one(field: str, op: str, value: str, code: str) -> None:
    with pytest.raises(Invalid) as caught:
        Condition.build(field, op, value)
    assert caught.value.code == code


def cond(field: str, op: str, value: str) -> Condition:
    built = Condition.build(field, op, value)
    assert built is not None
    return built


OVER, UP_TO = cond("amount", "gt", "100,000"), cond("amount", "le", "100,000")
AT_LEAST_URGENT = cond("urgency", "ge", "urgent")
PROCUREMENT, NOT_PROCUREMENT = cond("memo_type", "eq", "Procurement"), cond(
    "memo_type", "ne", "Procurement")


def baht(text: str) -> Facts:
    return Facts(amount_satang=parse_baht(text))


@pytest.mark.parametrize(("condition", "facts", "expected"), [
    (OVER, baht("250,000"), True), (UP_TO, baht("250,000"), False),
    (OVER, baht("50,000"), False), (UP_TO, baht("50,000"), True),
    (OVER, baht("100,000"), False), (UP_TO, baht("100,000"), True),
    (OVER, baht("100,000.01"), True), (UP_TO, baht("100,000.01"), False),
    (AT_LEAST_URGENT, Facts(urgency="normal"), False),
    (AT_LEAST_URGENT, Facts(urgency="urgent"), True),
    (AT_LEAST_URGENT, Facts(urgency="most_urgent"), True),
    (AT_LEAST_URGENT, Facts(urgency="bogus"), False),  # an unknown level counts as normal
    (cond("urgency", "eq", "urgent"), Facts(urgency="very_urgent"), False),
    (PROCUREMENT, Facts(memo_type="  PROCUREMENT "), True),
    (PROCUREMENT, Facts(memo_type="Hiring"), False),
    (NOT_PROCUREMENT, Facts(memo_type="procurement"), False),
    (NOT_PROCUREMENT, Facts(memo_type=""), True),
], ids=lambda v: v.describe() if isinstance(v, Condition) else None)
def test_condition_holds(condition: Condition, facts: Facts, expected: bool) -> None:
    assert condition.holds(facts) is expected


def test_amount_condition_needs_an_amount() -> None:
    with pytest.raises(Invalid) as caught:
        OVER.holds(Facts(memo_type="Procurement"))
    assert caught.value.code == "amount_required"


@pytest.mark.parametrize(("condition", "thai"), [
    (OVER, "จำนวนเงินเกิน 100,000 บาท"),
    (cond("amount", "le", "1,500.50"), "จำนวนเงินไม่เกิน 1,500.50 บาท"),
    (AT_LEAST_URGENT, "ชั้นความเร็วตั้งแต่ด่วน ขึ้นไป"),
    (cond("urgency", "eq", "most_urgent"), "ชั้นความเร็วเป็นด่วนที่สุด"),
    (NOT_PROCUREMENT, "ประเภทหนังสือไม่ใช่ “Procurement”"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_condition_describes_itself_in_thai(condition: Condition, thai: str) -> None:
    assert condition.describe() == thai


# -- the scenario: head -> finance & works -> ปลัด -> นายก over 100,000 -----------


def procurement(amount: str) -> tuple[Stage, ...]:
    """The route laid for a memo of ``amount`` baht, as the service lays it."""
    facts = Facts(memo_type="Procurement", amount_satang=parse_baht(amount))
    return (Stage.of(HEAD), Stage.all_of(FINANCE, WORKS), Stage.of(PALAD),
            replace(Stage.of(MAYOR), applies=OVER.holds(facts)))


CLIMB = [(DRAFTER, SUBMIT, None, pending(1)), (HEAD, APPROVE, None, pending(2)),
         (FINANCE, APPROVE, None, pending(2)), (WORKS, APPROVE, None, pending(3))]


@pytest.mark.parametrize(("amount", "moves"), [
    ("250,000", [*CLIMB, (PALAD, APPROVE, None, pending(4)), (MAYOR, APPROVE, None, APPROVED)]),
    ("50,000", [*CLIMB, (MAYOR, APPROVE, None, "not_your_turn"),
                (PALAD, APPROVE, None, APPROVED)]),
    ("250,000", [*CLIMB, (PALAD, SEND_BACK, 2, pending(2)),
                 (FINANCE, APPROVE, None, pending(2)),  # decided afresh: works is owed again
                 (WORKS, APPROVE, None, pending(3)), (PALAD, APPROVE, None, pending(4)),
                 (MAYOR, APPROVE, None, APPROVED)]),
    ("100,000", [*CLIMB, (PALAD, SEND_BACK, None, RETURNED), (DRAFTER, RESUBMIT, None, pending(1)),
                 (HEAD, APPROVE, None, pending(2))]),
], ids=["over-limit-to-mayor", "under-limit-palad-last", "back-to-group", "back-to-drafter"])
def test_procurement_route(amount: str, moves: list[tuple[int, str, int | None, str]]) -> None:
    """Walks the memo as the service would: a decision is recorded on its step, and a step
    the memo is sent back to (or a returned memo) starts with nobody decided."""
    fresh = procurement(amount)
    stages, state = fresh, DRAFT
    for who, trigger, target, expected in moves:
        act = (act_by(DRAFTER, stages=stages) if who == DRAFTER
               else holder(who, stages=stages, target_step=target))
        if expected == "not_your_turn":
            with pytest.raises(Forbidden) as caught:
                fire(trigger, state, act)
            assert caught.value.code == expected
            continue
        before, state = state, fire(trigger, state, act)
        assert state == expected, (who, trigger)
        if trigger == APPROVE:
            stages = act.approved_at(before).stages
        elif trigger == SEND_BACK:
            stages = stages[:(target or 1) - 1] + fresh[(target or 1) - 1:]


# -- amounts in baht ----------------------------------------------------------------------


@pytest.mark.parametrize(("satang", "text"), [
    (0, "0"), (5, "0.05"), (150, "1.50"), (150050, "1,500.50"), (10000000, "100,000"),
])
def test_baht_text(satang: int, text: str) -> None:
    assert baht_text(satang) == text
    assert parse_baht(text) == satang


@settings(database=None, deadline=None)
@given(st.integers(min_value=0, max_value=AMOUNT_MAX_SATANG - 1), st.booleans())
def test_parse_baht_reads_back_baht_text(satang: int, thai: bool) -> None:
    text = baht_text(satang)
    assert parse_baht(thai_digits(text) if thai else text) == satang
