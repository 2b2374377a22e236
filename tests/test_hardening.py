"""Regressions from the first code review: hostile input and private drafts."""

from __future__ import annotations

import csv
import io

import pytest
from sqlmodel import select

from workflow.extensions import db
from workflow.memos import attachments
from workflow.models import Decision

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_a_file_removed_while_drafting_stays_private(app, demo, api):
    """Signers cannot fetch a file the drafter removed before submitting, nor see its events."""
    memo_id = demo["memo_id"]
    secret = api.call("POST", f"/memos/{memo_id}/attachments", "clerk",
                      data={"file": (io.BytesIO(PDF), "เงินเดือน-ลับ.pdf")},
                      content_type="multipart/form-data").json["id"]
    api.call("POST", f"/memos/{memo_id}/attachments", "clerk",
             data={"file": (io.BytesIO(PDF + b"%kept"), "kept.pdf")},
             content_type="multipart/form-data")
    with app.app_context():
        attachments.remove(memo_id=memo_id, attachment_id=secret, actor_id=demo["user_clerk"])
    api.act(memo_id, "clerk", "submit")
    assert api.call("GET", f"/memos/{memo_id}/attachments/{secret}", "head").status_code == 404
    trail = api.call("GET", f"/memos/{memo_id}/audit", "head").json
    assert "เงินเดือน-ลับ.pdf" not in str(trail["events"])
    assert trail["verified"] is True
    mine = api.call("GET", f"/memos/{memo_id}/audit", "clerk").json
    assert "เงินเดือน-ลับ.pdf" in str(mine["events"])


def test_a_withdrawal_is_the_drafters_not_the_signers(app, demo, api):
    """Withdrawing records the drafter acting as drafter, not in the waiting signer's position."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "clerk", "withdraw", "ถอนเพื่อแก้ไขใหม่")
    with app.app_context():
        last = db.session.exec(select(Decision).order_by(Decision.id.desc())).first()
    assert (last.action, last.position_title, last.step_no) == ("withdraw", "ผู้ร่าง", None)


@pytest.mark.parametrize("field", ["subject", "addressee"])
def test_line_breaks_in_one_line_fields_are_refused(app, demo, api, field):
    """A CR/LF in the subject would break the email header: 422 in Thai."""
    payload = {"subject": "ขออนุมัติ", "addressee": "นายก", field: "ขออนุมัติ\r\nBcc: x@y.z"}
    response = api.call("POST", "/memos", "clerk", json=payload)
    assert response.status_code == 422 and "บรรทัดเดียว" in response.json["message"]


@pytest.mark.parametrize("path", ["/memos/99999999999999999999", "/memos/2147483648",
                                  "/memos/2147483648.pdf", "/memos/1/attachments/99999999999"])
def test_ids_too_large_for_the_database_are_not_found(app, demo, client, auth, path):
    """Out-of-range ids are a Thai 404, on both backends."""
    auth.login("clerk")
    response = client.get(path)
    assert response.status_code == 404 and "ไม่พบ" in response.text


def test_other_hostile_inputs_get_4xx(app, demo, api, client, auth):
    """Huge dates, odd digits, a garbage version and absurd JSON nesting never 500."""
    assert api.call("GET", "/audit?from=1/1/99999999999999999999", "auditor").status_code == 422
    assert api.call("GET", f"/memos/{'9' * 30}", "clerk").status_code == 404
    auth.login("clerk")
    assert client.get("/register?year=²²²²").status_code == 422
    edit = client.post(f"/memos/{demo['memo_id']}/edit",
                       data={"subject": "x", "addressee": "y", "urgency": "normal",
                             "body": "", "version": "abc"})
    assert edit.status_code in (302, 409, 422)
    deep = "[" * 100_000 + "]" * 100_000
    response = api.call("POST", "/memos", "clerk", data=deep, content_type="application/json")
    assert response.status_code == 400


def test_csv_export_defuses_formulas(app, demo, api, client, auth):
    """A reason that looks like a spreadsheet formula is exported as text."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "head", "send_back", '=HYPERLINK("http://evil.example","คลิก")')
    auth.login("auditor")
    text = client.get(f"/audit.csv?memo_id={memo_id}").data.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\",\"คลิก\")" in cells
    assert not any(cell.startswith("=") for cell in cells)
