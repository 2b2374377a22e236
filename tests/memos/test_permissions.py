"""Who may do what to a memo, and who may see it: every state x action x person, through the API.

The rules, stated once here and independently of ``workflow.routing``:

* the drafter may submit a draft, resubmit a returned memo and withdraw a pending one;
* whoever holds the step a memo waits at may approve, send back or reject it;
* nobody else may do anything. A person who cannot see the memo gets 403 (or 404);
  one who can see it gets 409 if the state forbids the action and 403 if it is not theirs;
  and a refusal changes nothing: state, version, round, steps, decisions and the outbox
  stay as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import col, select

from tests.factories import make_office, make_position, make_route, make_user
from workflow import routing
from workflow.extensions import db
from workflow.models import (
    Decision,
    Memo,
    MemoStep,
    Notification,
    Organization,
    Position,
)
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
    pending,
)

if TYPE_CHECKING:
    from tests.conftest import ApiClient

COMMENT = "เพื่อโปรดพิจารณา"  # always sent, so that no reason or endorsement guard interferes
SIGNER_OF_STEP = {1: "head", 2: "deputy", 3: "permsec", 4: "chief"}
SIGNERS = tuple(SIGNER_OF_STEP.values())
OVERSEERS = ("admin", "auditor")
# clerk drafts every memo of the table; clerk2 is a colleague in the same office;
# outsider is an admin of another office.
USERS = ("clerk", "clerk2", *SIGNERS, *OVERSEERS, "outsider")
DRAFTER_TRIGGERS = frozenset({SUBMIT, RESUBMIT, WITHDRAW})
OTHER_OFFICE = "เทศบาลตำบลบ้านใหม่"

Step = tuple[str, str]  # (username, trigger)


class Scenario(NamedTuple):
    """A state and the legal actions, from a fresh draft, that bring a memo to it."""

    state: str
    path: tuple[Step, ...]


def _approvals(up_to: int) -> tuple[Step, ...]:
    return tuple((SIGNER_OF_STEP[s], APPROVE) for s in range(1, up_to + 1))


SUBMITTED: tuple[Step, ...] = (("clerk", SUBMIT),)
SCENARIOS = {
    "draft": Scenario(DRAFT, ()),
    **{pending(s): Scenario(pending(s), SUBMITTED + _approvals(s - 1)) for s in range(1, 5)},
    "returned": Scenario(RETURNED, SUBMITTED + _approvals(1) + (("deputy", SEND_BACK),)),
    "pending_1_round_2": Scenario(pending(1), SUBMITTED + _approvals(1)
                                  + (("deputy", SEND_BACK), ("clerk", RESUBMIT))),
    "approved": Scenario(APPROVED, SUBMITTED + _approvals(4)),
    "rejected": Scenario(REJECTED, SUBMITTED + _approvals(2) + (("permsec", REJECT),)),
    "withdrawn": Scenario(WITHDRAWN, SUBMITTED + _approvals(1) + (("clerk", WITHDRAW),)),
}


# -- the rules ----------------------------------------------------------------------


def legal_destination(state: str, trigger: str) -> str | None:
    """Where ``trigger`` takes a memo in ``state`` on the four-step route, or None."""
    if trigger == SUBMIT:
        return pending(1) if state == DRAFT else None
    if trigger == RESUBMIT:
        return pending(1) if state == RETURNED else None
    step = routing.step_of(state)
    if step is None:
        return None
    return {
        APPROVE: pending(step + 1) if step < 4 else APPROVED,
        SEND_BACK: RETURNED,
        REJECT: REJECTED,
        WITHDRAW: WITHDRAWN,
    }[trigger]


def sees(state: str, user: str) -> bool:
    """The drafter and the office's overseers see every memo; signers once it was submitted."""
    if user == "clerk" or user in OVERSEERS:
        return True
    return user in SIGNERS and state != DRAFT


def entitled(state: str, trigger: str, user: str) -> bool:
    """The drafter's actions are the drafter's; the signers' belong to the current step."""
    if trigger in DRAFTER_TRIGGERS:
        return user == "clerk"
    step = routing.step_of(state)
    return step is not None and SIGNER_OF_STEP[step] == user


class Outcome(NamedTuple):
    """What the API must answer: 200 and the new state, or an error status and code."""

    status: int
    result: str  # the new state on success, else the error code


def expected(state: str, trigger: str, user: str) -> Outcome:
    """The outcome of ``user`` taking ``trigger`` on a memo in ``state``, by the rules above."""
    if not sees(state, user):
        return Outcome(403, "memo_forbidden")
    destination = legal_destination(state, trigger)
    if destination is None:
        return Outcome(409, "illegal_transition")
    if not entitled(state, trigger, user):
        return Outcome(403, "not_drafter" if trigger in DRAFTER_TRIGGERS else "not_your_turn")
    return Outcome(200, destination)


# -- helpers ----------------------------------------------------------------------------


class Snapshot(NamedTuple):
    """Everything an action could change about a memo."""

    state: str
    version: int
    round: int
    decisions: int
    notifications: int
    steps: tuple[tuple[int, int, str], ...]


def snapshot(app: Flask, memo_id: int) -> Snapshot:
    """The memo as the database holds it now (read in a fresh session)."""
    decisions = select(func.count()).where(Decision.memo_id == memo_id).scalar_subquery()
    notifications = select(func.count()).where(Notification.memo_id == memo_id).scalar_subquery()
    with app.app_context():
        session = db.session
        state, version, memo_round, decided, notified = session.exec(
            select(Memo.state, Memo.version, Memo.round, decisions,  # type: ignore[call-overload]
                   notifications).where(Memo.id == memo_id)
        ).one()
        steps = session.exec(
            select(MemoStep.round, MemoStep.step_no, MemoStep.status)
            .where(MemoStep.memo_id == memo_id)
            .order_by(col(MemoStep.round), col(MemoStep.step_no))
        ).all()
        return Snapshot(state, version, memo_round, decided, notified,
                        tuple((r, n, str(s)) for r, n, s in steps))


def new_memo(api: ApiClient, username: str = "clerk",
             subject: str = "ขออนุมัติจัดซื้อวัสดุสำนักงาน") -> int:
    """A fresh draft by ``username`` in their own office, created through the API."""
    response = api.call("POST", "/memos", username,
                        json={"subject": subject, "addressee": "นายกองค์การบริหารส่วนตำบล",
                              "body": "<p>ตามที่ได้รับมอบหมาย</p>"})
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def drive(api: ApiClient, memo_id: int, path: tuple[Step, ...]) -> None:
    """Take the legal actions of ``path`` in order, each of which must succeed."""
    for username, trigger in path:
        response = api.act(memo_id, username, trigger, COMMENT)
        assert response.status_code == 200, (username, trigger, response.json)


def put_in_state(api: ApiClient, memo_id: int, scenario: Scenario) -> int:
    """Bring the draft ``memo_id`` to the scenario's state; return its id."""
    drive(api, memo_id, scenario.path)
    return memo_id


def ids_in_box(api: ApiClient, username: str, box: str) -> set[int]:
    """The ids of the memos in one of ``username``'s boxes (and there are no duplicates)."""
    response = api.call("GET", f"/memos?box={box}", username)
    assert response.status_code == 200, response.json
    found = [item["id"] for item in response.json["items"]]
    assert len(found) == len(set(found)), (username, box, found)
    return set(found)


@dataclass(frozen=True)
class Office:
    """The demo office (with a second clerk) and the ids of everyone in the table."""

    org_id: int
    seed_memo_id: int
    user_ids: dict[str, int]


@pytest.fixture
def office(app: Flask, demo: dict[str, int]) -> Office:
    """The demo office, with clerk2 in it and ``outsider`` administering another office."""
    with app.app_context(), db.write() as session:
        clerk2 = make_user(session, office=session.get(Organization, demo["org_id"]),
                           username="clerk2", full_name="นายวีระ ขยันงาน", roles="clerk")
        other = make_office(session, name=OTHER_OFFICE, unit_line=f"สำนักปลัด{OTHER_OFFICE}",
                            doc_prefix="สป ๙๙๙๙๙")
        assert other.id is not None
        outsider = make_user(session, office=other, username="outsider",
                             full_name="นายสมศักดิ์ ต่างถิ่น", roles="clerk admin")
        post = make_position(session, office=other, holder=outsider, title="ปลัดเทศบาล")
        route = make_route(session, office=other, positions=[post], name="สายการเสนอปกติ")
        assert route.id is not None and post.id is not None
        user_ids = {name.removeprefix("user_"): value for name, value in demo.items()
                    if name.startswith("user_")}
        user_ids |= {"clerk2": clerk2.id or 0, "outsider": outsider.id or 0}
        return Office(demo["org_id"], demo["memo_id"], user_ids)


def hand_over(app: Flask, office: Office, *, from_user: str, to_new_user: str) -> None:
    """Give every position ``from_user`` holds to a new signer ``to_new_user`` (a handover)."""
    with app.app_context(), db.write() as session:
        successor = make_user(session, office=session.get(Organization, office.org_id),
                              username=to_new_user, full_name="นายประสิทธิ์ รักษาการ",
                              roles="signer")
        held = session.exec(
            select(Position).where(Position.holder_id == office.user_ids[from_user])).all()
        assert held
        for position in held:
            position.holder_id = successor.id


# -- the table ------------------------------------------------------------------------------


def test_rules_allow_exactly_the_legal_moves() -> None:
    """The rules above give 18 successes: submit, resubmit, and 4 per pending step."""
    allowed = [(state, trigger, user)
               for state in {s.state for s in SCENARIOS.values()}
               for trigger in TRIGGERS for user in USERS
               if expected(state, trigger, user).status == 200]
    assert len(allowed) == 1 + 1 + 4 * 4


def offer_mismatches(api: ApiClient, memo_id: int, state: str) -> list[str]:
    """Who may open the memo, and which actions the API offers each of them, against the rules."""
    found = []
    for user in USERS:
        response = api.call("GET", f"/memos/{memo_id}", user)
        if not sees(state, user):
            if response.status_code not in (403, 404):
                found.append(f"{user} opens it: {response.status_code}")
            continue
        allowed = [t for t in TRIGGERS if expected(state, t, user).status == 200]
        offered = response.json.get("allowed_actions") if response.status_code == 200 else None
        if offered != allowed:
            found.append(f"{user} is offered {offered}, expected {allowed}")
    return found


def refusal_mismatches(app: Flask, api: ApiClient, memo_id: int, state: str) -> list[str]:
    """Try every refused (person, action): each gets its 403/409 and leaves the memo as it was."""
    found = []
    before = snapshot(app, memo_id)
    for user in USERS:
        for trigger in TRIGGERS:
            want = expected(state, trigger, user)
            if want.status == 200:
                continue
            response = api.act(memo_id, user, trigger, COMMENT)
            got = Outcome(response.status_code, (response.json or {}).get("error", ""))
            if want.result == "memo_forbidden":
                ok = got.status in (403, 404)
            else:
                ok = got == want
            if not ok:
                found.append(f"{user} {trigger}: expected {want}, got {got}")
        if snapshot(app, memo_id) != before:  # once per person keeps the table fast
            found.append(f"{user}: refused, yet changed the memo to {snapshot(app, memo_id)}")
    return found


def success_mismatches(app: Flask, api: ApiClient, memo_id: int, scenario: Scenario) -> list[str]:
    """Take every allowed (person, action), each on a memo of its own in the scenario's state."""
    found = []
    allowed = [(user, trigger, expected(scenario.state, trigger, user).result)
               for user in USERS for trigger in TRIGGERS
               if expected(scenario.state, trigger, user).status == 200]
    for index, (user, trigger, destination) in enumerate(allowed):
        if index:
            memo_id = put_in_state(api, new_memo(api), scenario)
        before = snapshot(app, memo_id)
        response = api.act(memo_id, user, trigger, COMMENT)
        after = snapshot(app, memo_id)
        answered = (response.status_code, (response.json or {}).get("state"))
        if answered != (200, destination):
            found.append(f"{user} {trigger}: expected 200 {destination}, got {answered}")
        elif (after.state, after.version, after.decisions) != (
                destination, before.version + 1, before.decisions + 1):
            found.append(f"{user} {trigger}: stored {after} after {before}")
    return found


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_action_by_everyone(app: Flask, api: ApiClient, office: Office, name: str) -> None:
    """Only the allowed (state, action, person) are offered and succeed; the rest change nothing."""
    scenario = SCENARIOS[name]
    memo_id = put_in_state(api, office.seed_memo_id, scenario)
    assert snapshot(app, memo_id).state == scenario.state
    mismatches = [
        *offer_mismatches(api, memo_id, scenario.state),
        *refusal_mismatches(app, api, memo_id, scenario.state),
        *success_mismatches(app, api, memo_id, scenario),
    ]
    assert not mismatches, f"{name}:\n" + "\n".join(mismatches)


# -- who sees what ---------------------------------------------------------------------------


def test_clerk_cannot_read_another_clerks_draft(api: ApiClient, office: Office) -> None:
    """Two clerks of one office neither read nor edit each other's drafts."""
    theirs = new_memo(api, "clerk2")
    for memo_id, reader in [(theirs, "clerk"), (office.seed_memo_id, "clerk2")]:
        response = api.call("GET", f"/memos/{memo_id}", reader)
        assert response.status_code == 403
        assert response.json["error"] == "memo_forbidden"
        edit = api.call("PATCH", f"/memos/{memo_id}", reader, json={"subject": "แก้โดยผู้อื่น"})
        assert edit.status_code == 403
    assert api.call("GET", f"/memos/{theirs}", "clerk2").json["subject"] != "แก้โดยผู้อื่น"


def test_nobody_reads_across_offices(api: ApiClient, office: Office) -> None:
    """Not even an admin or auditor reads a memo of another office, before or after submission."""
    foreign = new_memo(api, "outsider", subject="ขอความอนุเคราะห์ใช้สถานที่")
    for reader in ("clerk", "head", "admin", "auditor"):
        assert api.call("GET", f"/memos/{foreign}", reader).status_code in (403, 404), reader
    drive(api, office.seed_memo_id, SCENARIOS["pending_2"].path)
    response = api.call("GET", f"/memos/{office.seed_memo_id}", "outsider")
    assert response.status_code in (403, 404)
    assert "ท่าตูม" not in response.get_data(as_text=True)


def test_missing_memo_is_404(api: ApiClient, office: Office) -> None:
    """A memo id that does not exist is a 404 for reading and for acting."""
    assert api.call("GET", "/memos/987654", "admin").status_code == 404
    assert api.act(987654, "clerk", SUBMIT, COMMENT).status_code == 404


def test_signers_cannot_see_a_never_submitted_draft(api: ApiClient, office: Office) -> None:
    """A draft is its drafter's working paper until submitted; then every step's holder sees it."""
    memo_id = office.seed_memo_id
    for signer in SIGNERS:
        response = api.call("GET", f"/memos/{memo_id}", signer)
        assert response.status_code == 403, signer
        assert response.json["error"] == "memo_forbidden"
    drive(api, memo_id, SUBMITTED)
    for signer in SIGNERS:
        assert api.call("GET", f"/memos/{memo_id}", signer).status_code == 200, signer


def test_signers_cannot_see_a_signers_own_draft(api: ApiClient, office: Office) -> None:
    """A head of section who drafts keeps the draft from the other signers too."""
    memo_id = new_memo(api, "head")
    for reader in ("deputy", "permsec", "chief", "clerk", "clerk2"):
        assert api.call("GET", f"/memos/{memo_id}", reader).status_code == 403, reader
    for reader in ("head", *OVERSEERS):
        assert api.call("GET", f"/memos/{memo_id}", reader).status_code == 200, reader


def test_admin_and_auditor_see_every_memo_of_their_office(api: ApiClient, office: Office) -> None:
    """Overseers read drafts, memos in flight and finished ones, but may act on none of them."""
    memo_ids = {
        "seed draft": office.seed_memo_id,
        "clerk2 draft": new_memo(api, "clerk2"),
        "head draft": new_memo(api, "head"),
        "pending": put_in_state(api, new_memo(api), SCENARIOS["pending_3"]),
        "approved": put_in_state(api, new_memo(api), SCENARIOS["approved"]),
    }
    for overseer in OVERSEERS:
        for label, memo_id in memo_ids.items():
            response = api.call("GET", f"/memos/{memo_id}", overseer)
            assert response.status_code == 200, (overseer, label)
            assert response.json["allowed_actions"] == [], (overseer, label)
        assert ids_in_box(api, overseer, "all") == set(memo_ids.values())


def test_auditor_may_not_draft(api: ApiClient, office: Office) -> None:
    """An auditor reads everything of the office but writes nothing, not even a draft."""
    response = api.call("POST", "/memos", "auditor",
                        json={"subject": "ขอตรวจสอบ", "addressee": "นายกองค์การบริหารส่วนตำบล"})
    assert response.status_code == 403


def test_handover_moves_the_step_but_not_the_past(app: Flask, api: ApiClient,
                                                   office: Office) -> None:
    """The new holder of a position takes its waiting memos; the old one keeps what they decided."""
    waiting = put_in_state(api, new_memo(api), SCENARIOS["pending_1"])
    passed_on = put_in_state(api, office.seed_memo_id, SCENARIOS["pending_2"])
    hand_over(app, office, from_user="head", to_new_user="actinghead")

    refused = api.act(waiting, "head", APPROVE, COMMENT)
    assert (refused.status_code, refused.json["error"]) == (403, "memo_forbidden")
    assert ids_in_box(api, "head", "inbox") == set()
    assert ids_in_box(api, "actinghead", "inbox") == {waiting}
    assert api.act(waiting, "actinghead", APPROVE, COMMENT).status_code == 200
    assert snapshot(app, waiting).state == pending(2)

    assert api.call("GET", f"/memos/{passed_on}", "head").status_code == 200
    assert ids_in_box(api, "head", "decided") == {passed_on}
    assert ids_in_box(api, "actinghead", "decided") == {waiting}


def test_all_box_keeps_what_a_former_holder_may_open(app: Flask, api: ApiClient,
                                                     office: Office) -> None:
    """After a handover, the old holder's "all" box still lists the memos they may open."""
    passed_on = put_in_state(api, office.seed_memo_id, SCENARIOS["pending_2"])
    hand_over(app, office, from_user="head", to_new_user="actinghead")
    assert api.call("GET", f"/memos/{passed_on}", "head").status_code == 200
    assert ids_in_box(api, "head", "all") == {passed_on}


# -- the boxes ----------------------------------------------------------------------------------


def test_boxes_hold_exactly_the_right_memos(api: ApiClient, office: Office) -> None:
    """inbox, mine, decided and all, for every person, on a small office's worth of memos."""
    draft = office.seed_memo_id
    at_deputy = put_in_state(api, new_memo(api), SCENARIOS["pending_2"])
    colleagues = put_in_state(api, new_memo(api, "clerk2"), SCENARIOS["pending_1"]._replace(
        path=(("clerk2", SUBMIT),)))
    returned = put_in_state(api, new_memo(api), SCENARIOS["returned"])
    approved = put_in_state(api, new_memo(api), SCENARIOS["approved"])
    withdrawn = put_in_state(api, new_memo(api), Scenario(WITHDRAWN, SUBMITTED
                                                          + (("clerk", WITHDRAW),)))
    resubmitted = put_in_state(api, new_memo(api), SCENARIOS["pending_1_round_2"])
    heads_own = new_memo(api, "head")
    drive(api, heads_own, (("head", SUBMIT),))  # the head's own step is skipped: deputy is first
    foreign = new_memo(api, "outsider")

    clerks = {draft, at_deputy, returned, approved, withdrawn, resubmitted}
    submitted = (clerks - {draft}) | {colleagues, heads_own}
    expected_boxes: dict[str, dict[str, set[int]]] = {
        "clerk": {"inbox": set(), "mine": clerks, "decided": set(), "all": clerks},
        "clerk2": {"inbox": set(), "mine": {colleagues}, "decided": set(), "all": {colleagues}},
        "head": {"inbox": {colleagues, resubmitted}, "mine": {heads_own},
                 "decided": {at_deputy, returned, approved, resubmitted}, "all": submitted},
        "deputy": {"inbox": {at_deputy, heads_own}, "mine": set(),
                   "decided": {returned, approved, resubmitted}, "all": submitted},
        "permsec": {"inbox": set(), "mine": set(), "decided": {approved}, "all": submitted},
        "chief": {"inbox": set(), "mine": set(), "decided": {approved}, "all": submitted},
        "admin": {"inbox": set(), "mine": set(), "decided": set(), "all": submitted | {draft}},
        "auditor": {"inbox": set(), "mine": set(), "decided": set(), "all": submitted | {draft}},
        "outsider": {"inbox": set(), "mine": {foreign}, "decided": set(), "all": {foreign}},
    }
    actual = {user: {box: ids_in_box(api, user, box) for box in boxes}
              for user, boxes in expected_boxes.items()}
    assert actual == expected_boxes


def test_all_box_is_what_one_may_open(api: ApiClient, office: Office) -> None:
    """For every person, the "all" box lists exactly the memos they may open, and no other."""
    memo_ids = [office.seed_memo_id, new_memo(api, "clerk2"), new_memo(api, "head"),
                new_memo(api, "outsider")]
    for name in ("pending_1", "returned", "rejected", "withdrawn", "pending_1_round_2"):
        memo_ids.append(put_in_state(api, new_memo(api), SCENARIOS[name]))
    for user in USERS:
        listed = ids_in_box(api, user, "all")
        readable = {memo_id for memo_id in memo_ids
                    if api.call("GET", f"/memos/{memo_id}", user).status_code == 200}
        assert listed == readable, user


def test_unknown_box_is_refused(api: ApiClient, office: Office) -> None:
    """A box that does not exist is a 422, not an empty list."""
    response = api.call("GET", "/memos?box=everything", "admin")
    assert response.status_code == 422
    assert response.json["error"] == "unknown_box"


# -- what the API answers after a write --------------------------------------------------------


def test_create_answers_with_the_new_memo(api: ApiClient, office: Office) -> None:
    """POST /memos answers 201 with the new draft."""
    response = api.call("POST", "/memos", "clerk",
                        json={"subject": "ขอเชิญประชุม", "addressee": "ปลัดองค์การบริหารส่วนตำบล"})
    assert response.status_code == 201, response.json
    assert response.json["state"] == DRAFT
    assert response.json["drafter_id"] == office.user_ids["clerk"]
    assert response.json["allowed_actions"] == [SUBMIT]


def test_action_answers_with_the_memo_after_it(api: ApiClient, office: Office) -> None:
    """An action answers with the memo as the action left it."""
    response = api.act(office.seed_memo_id, "clerk", SUBMIT, COMMENT)
    assert response.status_code == 200
    assert (response.json["state"], response.json["version"]) == (pending(1), 2)
    assert response.json["allowed_actions"] == [WITHDRAW]
    assert [d["action"] for d in response.json["decisions"]] == [SUBMIT]


def test_edit_answers_with_the_edited_memo(api: ApiClient, office: Office) -> None:
    """PATCH answers with the memo as edited."""
    response = api.call("PATCH", f"/memos/{office.seed_memo_id}", "clerk",
                        json={"subject": "รายงานความก้าวหน้า (แก้ไข)", "version": 1})
    assert response.status_code == 200
    assert (response.json["subject"], response.json["version"]) == ("รายงานความก้าวหน้า (แก้ไข)", 2)
