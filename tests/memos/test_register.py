"""The outgoing register: numbers issued once, in order, without gaps, restarting each year."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlmodel import select

from workflow import clock
from workflow.extensions import db
from workflow.models import Memo, Organization, RegisterEntry

BKK = ZoneInfo("Asia/Bangkok")
SIGNERS = [("head", "เพื่อโปรดพิจารณา"), ("deputy", "เพื่อโปรดพิจารณา"),
           ("permsec", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ")]


def new_memo(api: Any, subject: str) -> int:
    """A draft by the clerk."""
    response = api.call("POST", "/memos", "clerk",
                        json={"subject": subject, "addressee": "นายก", "body": "<p>x</p>"})
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def to_chief(api: Any, memo_id: int) -> None:
    """Submit and approve up to the last step (the chief's)."""
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    for username, phrase in SIGNERS:
        assert api.act(memo_id, username, "approve", phrase).status_code == 200


def test_final_approval_issues_the_next_number_and_dates_the_memo(app, demo, api, client, auth):
    """The seed memo gets สป ๓๔๕๐๑/๑ at final approval, dated that day; the next memo ๒."""
    clock.set_now(datetime(2026, 11, 25, 10, 0, tzinfo=BKK))
    memo_id = demo["memo_id"]
    to_chief(api, memo_id)
    assert api.call("GET", f"/memos/{memo_id}", "clerk").json["number"] is None
    answer = api.act(memo_id, "chief", "approve", "อนุมัติ")
    assert answer.json["number"] == "สป ๓๔๕๐๑/๑"
    assert answer.json["memo_date"] == "2026-11-25"

    second = new_memo(api, "ขออนุมัติจัดซื้อวัสดุสำนักงาน")
    to_chief(api, second)
    assert api.act(second, "chief", "approve", "อนุมัติ").json["number"] == "สป ๓๔๕๐๑/๒"

    auth.login("clerk")
    page = client.get("/register?year=๒๕๖๙")
    assert page.status_code == 200
    assert "สป ๓๔๕๐๑/๑" in page.text and "ขออนุมัติจัดซื้อวัสดุสำนักงาน" in page.text
    assert "สป ๓๔๕๐๑/๑" in client.get(f"/memos/{memo_id}").text


def test_a_rejected_or_returned_memo_gets_no_number(app, demo, api):
    """Only the final approval earns a number; sending back and rejecting use none."""
    memo_id = demo["memo_id"]
    to_chief(api, memo_id)
    api.act(memo_id, "chief", "send_back", "แก้ไขตารางให้ครบ")
    api.act(memo_id, "clerk", "resubmit")
    for username, phrase in SIGNERS:
        api.act(memo_id, username, "approve", phrase)
    api.act(memo_id, "chief", "reject", "ไม่อนุมัติ เนื่องจากงบประมาณไม่พอ")
    with app.app_context():
        assert db.session.exec(select(RegisterEntry)).all() == []
        assert db.session.get(Memo, memo_id).number is None


def test_the_register_restarts_on_1_january(app, demo, api):
    """The last approval of 2569 is number ๑ of 2569 and the first of 2570 is ๑ again."""
    memos = [new_memo(api, f"เรื่องที่ {n}") for n in range(3)]
    for memo_id in memos:
        to_chief(api, memo_id)
    clock.set_now(datetime(2026, 12, 31, 23, 50, tzinfo=BKK))
    assert api.act(memos[0], "chief", "approve", "อนุมัติ").json["number"] == "สป ๓๔๕๐๑/๑"
    assert api.act(memos[1], "chief", "approve", "อนุมัติ").json["number"] == "สป ๓๔๕๐๑/๒"
    clock.set_now(datetime(2027, 1, 1, 0, 10, tzinfo=BKK))  # 31 Dec 17:10 UTC: Bangkok's new year
    assert api.act(memos[2], "chief", "approve", "อนุมัติ").json["number"] == "สป ๓๔๕๐๑/๑"
    with app.app_context():
        years = sorted((e.year, e.number) for e in db.session.exec(select(RegisterEntry)).all())
    assert years == [(2026, 1), (2026, 2), (2027, 1)]


def test_an_office_may_number_at_submission(app, demo, api):
    """With numbering at submission the ที่ is issued then, and a resubmission keeps it."""
    with app.app_context(), db.write() as session:
        org = session.get(Organization, demo["org_id"])
        org.numbering_point = "submission"
        org.thai_digits = False
    memo_id = demo["memo_id"]
    assert api.act(memo_id, "clerk", "submit").json["number"] == "สป ๓๔๕๐๑/1"
    api.act(memo_id, "head", "send_back", "แก้ไขชื่อเรื่อง")
    assert api.act(memo_id, "clerk", "resubmit").json["number"] == "สป ๓๔๕๐๑/1"


def test_only_clerks_admins_and_auditors_read_the_register(app, demo, client, auth):
    """A signer who is no clerk gets a Thai 403; a bad year a Thai 422."""
    auth.login("deputy")
    assert client.get("/register").status_code == 403
    auth.login("auditor")
    assert client.get("/register").status_code == 200
    response = client.get("/register?year=abc")
    assert response.status_code == 422 and "ปี พ.ศ. ไม่ถูกต้อง" in response.text


def test_twenty_concurrent_final_approvals_get_twenty_consecutive_numbers(
        app, demo, api, live_server, backend):
    """20 memos approved by the chief at the same moment: numbers 1..20, each once."""
    if backend != "postgresql":
        pytest.skip("the row-lock race is PostgreSQL's; SQLite serialises writers anyway")
    memos = [new_memo(api, f"เรื่องพร้อมกัน {n}") for n in range(20)]
    for memo_id in memos:
        to_chief(api, memo_id)
    token = api.token("chief")
    start = threading.Barrier(20)

    def approve(memo_id: int) -> str:
        start.wait()
        response = requests.post(f"{live_server}/api/v1/memos/{memo_id}/actions",
                                 json={"action": "approve", "comment": "อนุมัติ"},
                                 headers={"Authorization": f"Bearer {token}"}, timeout=60)
        assert response.status_code == 200, response.text
        return str(response.json()["number"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        numbers = list(pool.map(approve, memos))
    with app.app_context():
        issued = sorted(e.number for e in db.session.exec(select(RegisterEntry)).all())
    assert issued == list(range(1, 21))
    assert len(set(numbers)) == 20
