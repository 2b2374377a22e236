"""The inbox badge (``waiting.count_waiting``) counts pending steps without checking that each
is of its memo's current round. That is right only while every way a round ends (a send back
to the drafter or to an earlier step, a rejection, a withdrawal) leaves no step of it
pending. Each is walked here through the API, on both databases, and after each action the
badge of every signer is the length of their waiting box."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import col, select

from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.memos.waiting import count_waiting
from workflow.models import Memo, MemoStep, StepStatus, User

SIGNERS = ("head", "deputy", "permsec", "chief", "kongklang", "kongchang")
ADDRESSEE = "นายกองค์การบริหารส่วนตำบลท่าตูม"


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.json
    return dict(response.json)


def _holds(app: Flask, api: Any) -> None:
    """No pending step outside its memo's round, and each badge matches its box."""
    with app.app_context():
        stale = db.session.exec(
            select(MemoStep.id).join(Memo, col(Memo.id) == MemoStep.memo_id)
            .where(MemoStep.status == StepStatus.PENDING, col(MemoStep.round) != Memo.round)
        ).all()
        badges = {}
        for username in SIGNERS:
            user = db.session.exec(select(User).where(User.username == username)).one()
            badges[username] = count_waiting(principal_for(db.session, user))
        db.session.close()
    assert stale == []
    boxes = {u: len(_ok(api.call("GET", "/memos?box=inbox", u))["items"]) for u in SIGNERS}
    assert badges == boxes


def _submitted(api: Any, subject: str, **extra: Any) -> int:
    memo = _ok(api.call("POST", "/memos", "clerk", json={"subject": subject,
                                                         "addressee": ADDRESSEE, **extra}))
    _ok(api.act(memo["id"], "clerk", "submit"))
    return int(memo["id"])


def test_every_way_a_round_ends_leaves_nothing_pending_in_it(app: Flask, api: Any,
                                                             demo: dict[str, int]) -> None:
    sent_back = _submitted(api, "ขออนุมัติซ่อมแซมถนนสายบ้านโนนสูง")
    rejected = _submitted(api, "ขออนุมัติจัดซื้อวัสดุสำนักงาน")
    withdrawn = _submitted(api, "ขออนุมัติเดินทางไปราชการ")
    # The procurement route: head, then กองคลัง and กองช่าง side by side (all of them).
    grouped = _submitted(api, "ขออนุมัติจัดซื้อครุภัณฑ์สำนักงาน",
                         route_id=demo["procurement_route_id"], amount="150000")
    _holds(app, api)

    # One member of a group sends it back while the other's step still waits.
    _ok(api.act(grouped, "head", "approve", "เห็นควรอนุมัติ"))
    _holds(app, api)
    _ok(api.act(grouped, "kongklang", "send_back", "โปรดแนบใบเสนอราคาสามราย"))
    _holds(app, api)
    _ok(api.act(grouped, "clerk", "resubmit"))
    _ok(api.act(grouped, "head", "approve", "เห็นควรอนุมัติ"))
    _holds(app, api)

    # Sent back to an earlier step, then to the drafter, resubmitted: a second round.
    _ok(api.act(sent_back, "head", "approve", "เห็นควรอนุมัติ"))
    _ok(api.act(sent_back, "deputy", "approve", "เห็นควรอนุมัติ"))
    _ok(api.act(sent_back, "permsec", "send_back", "โปรดทบทวนราคากลาง", target_step=1))
    _holds(app, api)
    _ok(api.act(sent_back, "head", "send_back", "โปรดแนบใบเสนอราคา"))
    _holds(app, api)
    _ok(api.act(sent_back, "clerk", "resubmit"))
    _holds(app, api)
    _ok(api.act(sent_back, "head", "approve", "เห็นควรอนุมัติ"))
    _holds(app, api)

    _ok(api.act(rejected, "head", "approve", "เห็นควรอนุมัติ"))
    _ok(api.act(rejected, "deputy", "reject", "ไม่มีงบประมาณ"))
    _holds(app, api)

    _ok(api.act(withdrawn, "clerk", "withdraw", "ไม่ต้องเดินทางแล้ว"))
    _holds(app, api)
