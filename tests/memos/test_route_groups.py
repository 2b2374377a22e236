"""Routes that match how offices work, through the API on both databases: a parallel group of
opinions, a step that applies above a budget limit, a send-back to a chosen step, any-of
groups and stale tabs of group members.

The demo office's procurement route is head → (กองคลัง and กองช่าง, all of) → ปลัด →
นายก when the amount is over 100,000 baht.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlmodel import col, select

from tests.factories import Group, make_route
from workflow import routing
from workflow.extensions import db
from workflow.models import (
    AuditEvent,
    Decision,
    MemoStep,
    Notification,
    NotificationKind,
    Organization,
    Position,
    StepStatus,
    User,
)

GROUP = ("kongklang", "kongchang")


def _draft(api: Any, demo: dict[str, int], amount: str | None, **extra: Any) -> int:
    body = {"subject": "ขออนุมัติจัดซื้อครุภัณฑ์สำนักงาน",
            "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม",
            "route_id": demo["procurement_route_id"], **extra}
    if amount is not None:
        body["amount"] = amount
    created = api.call("POST", "/memos", "clerk", json=body)
    assert created.status_code == 201, created.json
    return int(created.json["id"])


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.json
    return dict(response.json)


def _state(api: Any, memo_id: int, who: str = "clerk") -> str:
    return str(_ok(api.call("GET", f"/memos/{memo_id}", who))["state"])


def _rows(app: Flask, memo_id: int) -> list[MemoStep]:
    with app.app_context():
        rows = list(db.session.exec(select(MemoStep).where(MemoStep.memo_id == memo_id)
                                    .order_by(col(MemoStep.round), col(MemoStep.step_no),
                                              col(MemoStep.id))))
        db.session.close()
        return rows


def _emails(app: Flask, memo_id: int, kind: NotificationKind) -> list[str]:
    """The usernames emailed ``kind`` about the memo, one entry per email."""
    with app.app_context():
        names = list(db.session.exec(
            select(User.username).join(Notification, col(Notification.recipient_id) == User.id)
            .where(Notification.memo_id == memo_id, Notification.kind == kind)
            .order_by(col(Notification.id))))
        db.session.close()
        return names


def test_a_procurement_memo_over_the_limit_goes_through_both_divisions_to_the_chief(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """250,000 baht: head → กองคลัง and กองช่าง in any order, each with their own
    endorsement and arrival email → ปลัด → นายก, who approves it."""
    memo_id = _draft(api, demo, "250,000")
    memo = _ok(api.act(memo_id, "clerk", "submit"))
    assert memo["amount"] == "250000" and memo["state"] == routing.pending(1)
    steps = memo["steps"]
    assert [(s["step_no"], s["position_title"], s["status"]) for s in steps] == [
        (1, "หัวหน้าสำนักปลัด", "pending"),
        (2, "ผู้อำนวยการกองคลัง", "waiting"), (2, "ผู้อำนวยการกองช่าง", "waiting"),
        (3, "ปลัดองค์การบริหารส่วนตำบลท่าตูม", "waiting"),
        (4, "นายกองค์การบริหารส่วนตำบลท่าตูม", "waiting")]
    assert steps[1]["need"] == 2 and steps[1]["members"] == 2
    assert steps[4]["condition"] == "จำนวนเงินเกิน 100,000 บาท"

    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณาให้ความเห็น"))
    assert _emails(app, memo_id, NotificationKind.ARRIVAL) == ["head", *GROUP]
    # กองช่าง first: the order within the group is free.
    after_one = _ok(api.act(memo_id, "kongchang", "approve", "กองช่างเห็นว่าครุภัณฑ์ตรงตามมาตรฐาน"))
    assert after_one["state"] == routing.pending(2)
    assert "approve" in _ok(api.call("GET", f"/memos/{memo_id}", "kongklang"))["allowed_actions"]
    assert _ok(api.call("GET", f"/memos/{memo_id}", "kongchang"))["allowed_actions"] == []
    assert _ok(api.act(memo_id, "kongklang", "approve", "กองคลังตรวจสอบแล้ว มีงบประมาณเพียงพอ")
               )["state"] == routing.pending(3)
    _ok(api.act(memo_id, "permsec", "approve", "เห็นควรอนุมัติ"))
    done = _ok(api.act(memo_id, "chief", "approve", "อนุมัติ"))
    assert done["state"] == routing.APPROVED
    # Every endorsement is its own decision, in the order given.
    assert [(d["actor_name"], d["step_no"]) for d in done["decisions"][1:]] == [
        ("นางสาวอิสริย์ ผดุงทศ", 1), ("นายวิศวะ ช่างดี", 2), ("นางสาวกัลยา เงินทอง", 2),
        ("นางอาราดา แตนวงศ์", 3), ("นายสมคิด ดันทางกุล", 4)]
    assert _emails(app, memo_id, NotificationKind.ARRIVAL) == [
        "head", *GROUP, "permsec", "chief"]


def test_the_same_memo_at_fifty_thousand_ends_at_the_permanent_secretary(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """50,000 baht: the chief's step is laid as skipped, with the reason, and ปลัด decides."""
    memo_id = _draft(api, demo, "๕๐,๐๐๐")
    memo = _ok(api.act(memo_id, "clerk", "submit"))
    chief = memo["steps"][-1]
    assert (chief["status"], chief["condition"]) == ("skipped", "จำนวนเงินเกิน 100,000 บาท")
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    for who in GROUP:
        _ok(api.act(memo_id, who, "approve", "เห็นชอบ"))
    assert _ok(api.act(memo_id, "permsec", "approve", "อนุมัติ"))["state"] == routing.APPROVED
    assert "chief" not in _emails(app, memo_id, NotificationKind.ARRIVAL)


def test_the_permanent_secretary_sends_it_back_to_the_finance_step_and_it_comes_back_up(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """Back to step 2: both members decide again (new arrival emails), the drafter is told,
    the earlier decisions stay, and the memo climbs again."""
    memo_id = _draft(api, demo, "250000")
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    for who in GROUP:
        _ok(api.act(memo_id, who, "approve", "เห็นชอบ"))
    back = _ok(api.act(memo_id, "permsec", "send_back", "โปรดตรวจสอบราคากลางอีกครั้ง",
                       target_step=2))
    assert back["state"] == routing.pending(2)
    assert [s["status"] for s in back["steps"]] == [
        "approved", "pending", "pending", "waiting", "waiting"]
    assert _emails(app, memo_id, NotificationKind.ARRIVAL) == [
        "head", *GROUP, "permsec", *GROUP]
    assert _emails(app, memo_id, NotificationKind.RETURNED_TO_STEP) == ["clerk"]
    for who in GROUP:
        _ok(api.act(memo_id, who, "approve", "ตรวจสอบราคากลางแล้ว"))
    assert _state(api, memo_id) == routing.pending(3)
    _ok(api.act(memo_id, "permsec", "approve", "เห็นควรอนุมัติ"))
    assert _ok(api.act(memo_id, "chief", "approve", "อนุมัติ"))["state"] == routing.APPROVED
    with app.app_context():
        actions = [(d.action, d.step_no, d.state_after) for d in db.session.exec(
            select(Decision).where(Decision.memo_id == memo_id).order_by(col(Decision.id)))]
        sent_back = db.session.exec(select(AuditEvent).where(
            AuditEvent.memo_id == memo_id, AuditEvent.action == "memo_sent_back")).one()
    assert actions.count(("approve", 2, routing.pending(2))) == 2  # first of each pass
    assert ("send_back", 3, routing.pending(2)) in actions
    assert json.loads(sent_back.details)["to_step"] == 2


def test_a_send_back_to_a_step_not_reached_is_refused_and_nothing_changes(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memo_id = _draft(api, demo, "250000")
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    before = _rows(app, memo_id)
    for target in (2, 3, 4, 9):
        refused = api.act(memo_id, "kongklang", "send_back", "ยังไม่ถึง", target_step=target)
        assert refused.status_code == 422, refused.json
        assert refused.json["error"] == "step_not_reached"
        assert "ส่งกลับได้เฉพาะลำดับก่อนหน้า" in refused.json["message"]
    assert api.act(memo_id, "kongklang", "send_back", "x", target_step=0).status_code == 422
    assert [(r.id, r.status, r.pass_no) for r in _rows(app, memo_id)] == [
        (r.id, r.status, r.pass_no) for r in before]


def test_a_memo_without_the_amount_its_route_asks_for_is_not_submitted(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memo_id = _draft(api, demo, None)
    refused = api.act(memo_id, "clerk", "submit")
    assert refused.status_code == 422 and refused.json["error"] == "amount_required"
    assert "กรุณาระบุจำนวนเงิน" in refused.json["message"]
    assert _state(api, memo_id) == routing.DRAFT and _rows(app, memo_id) == []
    bad = api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"amount": "12.345"})
    assert bad.status_code == 422
    _ok(api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"amount": "90,000"}))
    assert _ok(api.act(memo_id, "clerk", "submit"))["steps"][-1]["status"] == "skipped"


def test_editing_the_amount_after_a_send_back_reevaluates_the_route(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memo_id = _draft(api, demo, "50000")
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "send_back", "โปรดแก้ไขวงเงินตามใบเสนอราคา"))
    _ok(api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"amount": "150000"}))
    again = _ok(api.act(memo_id, "clerk", "resubmit"))
    assert again["round"] == 2 and again["steps"][-1]["status"] == "waiting"


def _any_of_route(app: Flask, demo: dict[str, int]) -> int:
    """A route head → (กองคลัง or กองช่าง, any one) → ปลัด; its id."""
    with app.app_context(), db.write() as session:
        office = session.get(Organization, demo["org_id"])
        assert office is not None
        post = {p.title: p for p in session.exec(select(Position)).all()}
        route = make_route(session, office=office, name="ความเห็นกองใดกองหนึ่ง", positions=[
            post["หัวหน้าสำนักปลัด"],
            Group([post["ผู้อำนวยการกองคลัง"], post["ผู้อำนวยการกองช่าง"]], need=1),
            post["ปลัดองค์การบริหารส่วนตำบลท่าตูม"]], is_default=False)
        return route.id or 0


def test_any_of_the_first_approval_closes_the_step_and_the_other_is_told(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memo_id = _draft(api, demo, None, route_id=_any_of_route(app, demo))
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    seen = _ok(api.call("GET", f"/memos/{memo_id}", "kongchang"))["version"]
    assert _ok(api.act(memo_id, "kongklang", "approve", "เห็นชอบ"))["state"] == routing.pending(3)
    rows = {r.position_title: r.status for r in _rows(app, memo_id)}
    assert rows["ผู้อำนวยการกองช่าง"] == StepStatus.CANCELLED
    assert _emails(app, memo_id, NotificationKind.STEP_CLOSED) == ["kongchang"]
    # Their inbox drops it, and a late decision is a conflict, with or without the version.
    inbox = _ok(api.call("GET", "/memos", "kongchang"))["items"]
    assert memo_id not in [m["id"] for m in inbox]
    late = api.act(memo_id, "kongchang", "approve", "เห็นชอบ", version=seen)
    assert (late.status_code, late.json["error"]) == (409, "stale_version")
    late = api.act(memo_id, "kongchang", "approve", "เห็นชอบ")
    assert (late.status_code, late.json["error"]) == (409, "already_decided")
    with app.app_context():
        assert len(db.session.exec(select(Decision).where(
            Decision.memo_id == memo_id, Decision.action == "approve")).all()) == 2


def test_a_member_decides_on_the_page_they_opened_before_the_other_member_approved(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """In an all-of group the other member's approval does not make a tab stale: the step
    and the content are as they were."""
    memo_id = _draft(api, demo, "250000")
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    seen = _ok(api.call("GET", f"/memos/{memo_id}", "kongklang"))["version"]
    _ok(api.act(memo_id, "kongchang", "approve", "เห็นชอบ"))
    assert _ok(api.act(memo_id, "kongklang", "approve", "เห็นชอบ", version=seen)
               )["state"] == routing.pending(3)
    # Once the step has moved on, the same old version is stale.
    stale = api.act(memo_id, "permsec", "approve", "เห็นชอบ", version=seen)
    assert (stale.status_code, stale.json["error"]) == (409, "stale_version")


def test_one_member_sending_back_ends_the_all_of_step(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memo_id = _draft(api, demo, "250000")
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    _ok(api.act(memo_id, "kongklang", "approve", "เห็นชอบ"))
    back = _ok(api.act(memo_id, "kongchang", "send_back", "แบบรูปรายการยังไม่ครบ"))
    assert back["state"] == routing.RETURNED
    assert [s["status"] for s in back["steps"]] == [
        "approved", "approved", "sent_back", "cancelled", "cancelled"]


def test_an_acting_officer_answers_for_a_group_member(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """กองคลัง's director is away; the deputy acts for the post: they get its arrival email,
    their approval counts for กองคลัง, and it is signed as รักษาราชการแทน."""
    from datetime import timedelta

    from workflow.admin import appointments
    from workflow.identity.principal import principal_for
    from workflow.office.calendar import office_today

    with app.app_context():
        admin = db.session.exec(select(User).where(User.username == "admin")).one()
        deputy = db.session.exec(select(User).where(User.username == "deputy")).one()
        finance = db.session.exec(select(Position).where(
            Position.title == "ผู้อำนวยการกองคลัง")).one()
        today = office_today()
        appointments.create(
            principal=principal_for(db.session, admin), position_id=finance.id or 0,
            acting_user_id=deputy.id or 0, capacity="acting", starts_on=today,
            ends_on=today + timedelta(days=7), order_no="๑๒/๒๕๗๐", holder_absent=True)
    memo_id = _draft(api, demo, "250000")
    _ok(api.act(memo_id, "clerk", "submit"))
    _ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    assert "deputy" in _emails(app, memo_id, NotificationKind.ARRIVAL)
    refused = api.act(memo_id, "kongklang", "approve", "เห็นชอบ")
    assert refused.status_code == 403  # away: the acting officer answers alone
    _ok(api.act(memo_id, "kongchang", "approve", "เห็นชอบ"))
    done = _ok(api.act(memo_id, "deputy", "approve", "เห็นชอบ"))
    assert done["state"] == routing.pending(3)
    signed = done["decisions"][-1]["signed_as"]
    assert "รักษาราชการแทนผู้อำนวยการกองคลัง" in signed
