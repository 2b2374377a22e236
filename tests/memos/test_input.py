"""Bad input to a memo, through the API and the web forms: a clear Thai refusal, the right status,
no 500, and nothing already saved is lost. Subject, one-line fields, urgency and body; fields the
drafter does not write; unknown memos and actions; over-long endorsements; stale tabs."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlmodel import Session, select

from workflow.extensions import db
from workflow.models import Decision, Memo, MemoStep

MISSING = object()
MEMO_FIELDS = {
    "subject": "ขออนุมัติจัดซื้อวัสดุสำนักงาน",
    "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม",
    "urgency": "normal",
    "body": "<p>ด้วยสำนักปลัดมีความจำเป็นต้องจัดซื้อวัสดุสำนักงาน</p>",
}
HUGE_SUBJECT = "ก" * 100_000
TOO_LONG_SUBJECT = "เรื่อง: ยาวเกิน 300 ตัวอักษร"
EMPTY_SUBJECT = "เรื่อง: ต้องกรอก"


# -- helpers (tests/web/test_bad_input.py and tests/identity/test_tokens.py share them) ---------


def snapshot(app: Flask, memo_id: int) -> dict[str, Any]:
    """The memo's columns with its decision and step counts, read fresh from the database."""
    memos = Memo.__table__  # type: ignore[attr-defined]
    with app.app_context(), Session(db.engine) as session:
        memo = session.execute(select(memos).where(memos.c.id == memo_id)).mappings().one()
        decisions = session.exec(
            select(func.count()).select_from(Decision).where(Decision.memo_id == memo_id)).one()
        steps = session.exec(
            select(func.count()).select_from(MemoStep).where(MemoStep.memo_id == memo_id)).one()
        return {**memo, "decisions": decisions, "steps": steps}

def memo_count(app: Flask) -> int:
    """How many memos the database holds."""
    with app.app_context(), Session(db.engine) as session:
        return session.exec(select(func.count()).select_from(Memo)).one()

def api_error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The JSON error body of a refusal: status, code, a Thai message and an English one."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) >= {"error", "message", "message_en"}, body
    if code is not None:
        assert body["error"] == code, body
    assert re.search(r"[\u0e00-\u0e7f]", body["message"]), body  # Thai script
    assert body["message_en"], body
    return body

def error_page(response: Any, status: int, message: str) -> str:
    """The Thai error page of a refusal, which must show ``message``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f'data-status="{status}"' in page
    assert f"<p>{message}</p>" in page, page
    return page

def login(auth: Any, username: str) -> None:
    """Sign the test client in as a demo user."""
    assert auth.login(username).status_code == 302

def form_page(response: Any, status: int) -> str:
    """The memo form re-shown with status ``status``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    page = response.get_data(as_text=True)
    assert 'class="memo-form"' in page
    return page

def memo_id_from(response: Any) -> int:
    """The memo id in the redirect after a form saved a memo."""
    assert response.status_code == 302, response.get_data(as_text=True)
    match = re.search(r"/memos/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


# -- empty and over-long subject ----------------------------------------------------------------


@pytest.mark.parametrize("subject", ["", "   \t ", MISSING], ids=["empty", "blank", "missing"])
def test_api_create_refuses_an_empty_subject(app, api, demo, subject):
    """POST /memos without a subject is 422 with the Thai field message; nothing is saved."""
    before = memo_count(app)
    payload = {k: v for k, v in MEMO_FIELDS.items() if k != "subject"}
    if subject is not MISSING:
        payload["subject"] = subject
    body = api_error(api.call("POST", "/memos", "clerk", json=payload), 422, "validation_failed")
    assert EMPTY_SUBJECT in body["message"]
    assert body["details"]["fields"] == {"subject": EMPTY_SUBJECT}
    assert memo_count(app) == before

def test_api_patch_refuses_an_empty_subject(app, api, demo):
    """PATCH with an empty subject is 422 and the saved memo keeps its subject."""
    memo_id = demo["memo_id"]
    before = snapshot(app, memo_id)
    body = api_error(api.call("PATCH", f"/memos/{memo_id}", "clerk",
                              json={"subject": "  ", "body": "<p>แก้แล้ว</p>"}),
                     422, "validation_failed")
    assert EMPTY_SUBJECT in body["message"]
    assert snapshot(app, memo_id) == before

def test_web_new_form_refuses_an_empty_subject_and_keeps_what_was_typed(app, client, auth, demo):
    """The new-memo form without a subject is 422, shows the Thai message and keeps the text."""
    login(auth, "clerk")
    before = memo_count(app)
    page = form_page(client.post("/memos/new", data={
        "subject": "", "addressee": "ปลัดองค์การบริหารส่วนตำบลท่าตูม", "urgency": "very_urgent",
        "body": "<p>ข้อความที่พิมพ์ไว้ยาว ๆ</p>", "intent": "submit"}), 422)
    assert f'<p class="field-error">{EMPTY_SUBJECT}</p>' in page
    assert 'value="ปลัดองค์การบริหารส่วนตำบลท่าตูม"' in page
    assert "&lt;p&gt;ข้อความที่พิมพ์ไว้ยาว ๆ&lt;/p&gt;</textarea>" in page
    assert '<option selected value="very_urgent">' in page
    assert memo_count(app) == before

def test_web_edit_form_refuses_an_empty_subject_and_keeps_the_saved_memo(app, client, auth,
                                                                          demo):
    """Editing the seed memo with an empty subject is 422; the typed text stays, the DB too."""
    memo_id = demo["memo_id"]
    login(auth, "clerk")
    before = snapshot(app, memo_id)
    page = form_page(client.post(f"/memos/{memo_id}/edit", data={
        "subject": " ", "addressee": "เรียนใหม่ที่พิมพ์ไว้", "urgency": "urgent",
        "body": "<p>เนื้อหาใหม่</p>", "version": "1", "intent": "save"}), 422)
    assert f'<p class="field-error">{EMPTY_SUBJECT}</p>' in page
    assert 'value="เรียนใหม่ที่พิมพ์ไว้"' in page
    assert "&lt;p&gt;เนื้อหาใหม่&lt;/p&gt;</textarea>" in page
    assert snapshot(app, memo_id) == before

def test_corrected_web_form_saves_and_submits(app, client, auth, demo):
    """After a refusal, the same form with a subject saves the memo and submits it."""
    login(auth, "clerk")
    fields = {**MEMO_FIELDS, "intent": "submit"}
    form_page(client.post("/memos/new", data={**fields, "subject": ""}), 422)
    response = client.post("/memos/new", data=fields)
    memo_id = memo_id_from(response)
    assert response.headers["Location"].endswith(f"/memos/{memo_id}")
    saved = snapshot(app, memo_id)
    assert (saved["subject"], saved["state"], saved["round"]) == (
        MEMO_FIELDS["subject"], "pending_1", 1)

def _post_huge_subject(channel: str, client: FlaskClient, api: Any, memo_id: int) -> Any:
    """Send a 100 kB subject through one of the four ways to write a memo."""
    fields = {**MEMO_FIELDS, "subject": HUGE_SUBJECT}
    if channel == "api-create":
        return api.call("POST", "/memos", "clerk", json=fields)
    if channel == "api-patch":
        return api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"subject": HUGE_SUBJECT})
    if channel == "web-new":
        return client.post("/memos/new", data={**fields, "intent": "save"})
    return client.post(f"/memos/{memo_id}/edit", data={**fields, "version": "1",
                                                       "intent": "save"})

@pytest.mark.parametrize("channel", ["api-create", "api-patch", "web-new", "web-edit"])
def test_100_kb_subject_is_422(app, client, auth, api, demo, channel):
    """A 100 kB subject is refused with 422 and the Thai length message; nothing is saved."""
    memo_id = demo["memo_id"]
    login(auth, "clerk")
    before, count = snapshot(app, memo_id), memo_count(app)
    response = _post_huge_subject(channel, client, api, memo_id)
    if channel.startswith("api"):
        body = api_error(response, 422, "validation_failed")
        assert body["details"]["fields"] == {"subject": TOO_LONG_SUBJECT}
    else:
        page = form_page(response, 422)
        assert f'<p class="field-error">{TOO_LONG_SUBJECT}</p>' in page
    assert snapshot(app, memo_id) == before
    assert memo_count(app) == count

def test_subject_at_the_limit_is_accepted(app, api, demo):
    """Exactly 300 characters of subject are fine (the limit is inclusive)."""
    memo_id = demo["memo_id"]
    response = api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"subject": "ข" * 300})
    assert response.status_code == 200
    assert snapshot(app, memo_id)["subject"] == "ข" * 300


@pytest.mark.parametrize("field", ["subject", "addressee"])
def test_line_breaks_in_one_line_fields_are_refused(app, demo, api, field):
    """A CR/LF in the subject would break the email header: 422 in Thai."""
    payload = {"subject": "ขออนุมัติ", "addressee": "นายก", field: "ขออนุมัติ\r\nBcc: x@y.z"}
    response = api.call("POST", "/memos", "clerk", json=payload)
    assert response.status_code == 422 and "บรรทัดเดียว" in response.json["message"]


def test_fields_the_drafter_does_not_write_are_ignored(app, api, demo):
    """state, number, version, drafter_id or round in a create or PATCH body change nothing."""
    forged = {"state": "approved", "number": "สป 0001/2568", "drafter_id": demo["user_head"],
              "round": 7, "id": 12345, "org_id": 999}
    created = api.call("POST", "/memos", "clerk", json={**MEMO_FIELDS, **forged, "version": 9})
    assert created.status_code == 201
    memo = snapshot(app, created.get_json()["id"])
    assert (memo["state"], memo["number"], memo["drafter_id"], memo["round"], memo["version"],
            memo["org_id"]) == ("draft", None, demo["user_clerk"], 0, 1, demo["org_id"])
    assert memo["id"] != 12345

    memo_id = demo["memo_id"]
    before = snapshot(app, memo_id)
    assert api.call("PATCH", f"/memos/{memo_id}", "clerk", json=forged).status_code == 200
    assert snapshot(app, memo_id) == before


# -- markup in the body -------------------------------------------------------------------------


BODY_MARKUP = (
    '<p style="text-align:center" onclick="alert(103)">ย่อหน้าแรก</p>'
    "<script>alert(104)</script>"
    "<img src=x onerror=alert(105)>"
    '<table><tbody><tr><td colspan="2" onmouseover="alert(106)">ช่องตาราง</td></tr></tbody>'
    "</table>"
    '<a href="javascript:alert(107)">ลิงก์</a>'
    '<iframe src="https://evil.example/"></iframe>'
)

def test_body_is_sanitized_to_the_allow_list(app, api, demo):
    """The stored body loses script, handlers, images, frames and links; tables and styles stay."""
    memo_id = demo["memo_id"]
    assert api.call("PATCH", f"/memos/{memo_id}", "clerk",
                    json={"body": BODY_MARKUP}).status_code == 200
    body = snapshot(app, memo_id)["body"]
    for gone in ("<script", "alert(", "onclick", "onerror", "onmouseover", "<img", "<iframe",
                 "javascript:", "<a "):
        assert gone not in body, gone
    for kept in ('<p style="text-align:center">ย่อหน้าแรก</p>', "<table>", "<tbody>",
                 '<td colspan="2">ช่องตาราง</td>', "ลิงก์"):
        assert kept in body, kept


# -- unknown memo -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/memos/999999"),
    ("GET", "/memos/999999/edit"),
    ("POST", "/memos/999999/act"),
])
def test_unknown_memo_on_the_web_is_a_thai_404_page(client, auth, demo, method, path):
    """A memo id that does not exist gives the Thai 404 page, not a 500."""
    login(auth, "clerk")
    response = client.open(path, method=method, data={"action": "submit"})
    page = error_page(response, 404, "ไม่พบบันทึกข้อความนี้")
    assert "<h1>ไม่พบหน้าที่ต้องการ</h1>" in page

@pytest.mark.parametrize(("method", "path", "payload"), [
    ("GET", "/memos/999999", None),
    ("PATCH", "/memos/999999", {"subject": "เรื่อง"}),
    ("POST", "/memos/999999/actions", {"action": "submit"}),
])
def test_unknown_memo_in_the_api_is_404_json(app, api, demo, method, path, payload):
    """The API answers an unknown memo id with 404 and its message in Thai and English."""
    before = memo_count(app)
    body = api_error(api.call(method, path, "clerk", json=payload), 404, "memo_not_found")
    assert (body["message"], body["message_en"]) == ("ไม่พบบันทึกข้อความนี้", "Memo not found.")
    assert memo_count(app) == before


# -- actions ------------------------------------------------------------------------------------


def test_unknown_action_in_the_api_is_422(app, api, demo):
    """An action the route does not know is 422 with a Thai message; the memo does not move."""
    memo_id = demo["memo_id"]
    before = snapshot(app, memo_id)
    for action in ("fly", "", "SUBMIT", "submit ", "approve;drop table memo"):
        body = api_error(api.act(memo_id, "clerk", action), 422)
        assert body["error"] in {"unknown_action", "validation_failed"}, action
        assert "การดำเนินการ" in body["message"], body
    body = api_error(api.call("POST", f"/memos/{memo_id}/actions", "clerk", json={}), 422)
    assert body["details"]["fields"] == {"action": "การดำเนินการ: ต้องกรอก"}
    assert snapshot(app, memo_id) == before

def test_unknown_action_on_the_web_is_422(app, client, auth, demo):
    """The action form with an unknown action is 422, shows the Thai message, keeps the memo."""
    memo_id = demo["memo_id"]
    login(auth, "clerk")
    before = snapshot(app, memo_id)
    response = client.post(f"/memos/{memo_id}/act", data={"action": "fly", "version": "1"})
    assert response.status_code == 422
    assert '<div class="flash flash-error" role="alert" data-testid="action-error">' \
           "ไม่รู้จักการดำเนินการนี้</div>" in response.text
    assert snapshot(app, memo_id) == before

def _pending_at_head(api: Any, memo_id: int) -> None:
    """Submit the memo so that it waits for the head."""
    assert api.act(memo_id, "clerk", "submit").status_code == 200

def test_comment_over_2000_characters_in_the_api_is_422(app, api, demo):
    """An endorsement of 2,001 characters is 422 naming the field; 2,000 are fine."""
    memo_id = demo["memo_id"]
    _pending_at_head(api, memo_id)
    before = snapshot(app, memo_id)
    body = api_error(api.act(memo_id, "head", "approve", "ก" * 2001), 422, "validation_failed")
    assert "เกษียน" in body["details"]["fields"]["comment"]
    assert snapshot(app, memo_id) == before
    assert api.act(memo_id, "head", "approve", "ก" * 2000).status_code == 200
    assert snapshot(app, memo_id)["state"] == "pending_2"

def test_comment_over_2000_characters_in_the_api_says_the_limit(app, api, demo):
    """The refusal of a too-long endorsement tells the signer the limit, in Thai."""
    memo_id = demo["memo_id"]
    _pending_at_head(api, memo_id)
    body = api_error(api.act(memo_id, "head", "approve", "ก" * 2001), 422)
    assert "ยาวเกิน 2,000 ตัวอักษร" in body["message"]

def test_comment_over_2000_characters_on_the_web_is_422(app, client, auth, api, demo):
    """The web action form with a 2,001-character endorsement is 422 with the limit in Thai."""
    memo_id = demo["memo_id"]
    _pending_at_head(api, memo_id)
    login(auth, "head")
    before = snapshot(app, memo_id)
    response = client.post(f"/memos/{memo_id}/act",
                           data={"action": "approve", "comment": "ก" * 2001, "version": "2"})
    assert snapshot(app, memo_id) == before
    assert "ก" * 2001 in response.text  # what the signer typed is still there
    assert response.status_code == 422
    assert "ยาวเกิน 2,000 ตัวอักษร" in response.text


# -- urgency ------------------------------------------------------------------------------------


@pytest.mark.parametrize("urgency", ["bogus", "URGENT", "ด่วน", "", 2, None, ["urgent"]])
def test_invalid_urgency_in_the_api_is_422(app, api, demo, urgency):
    """An urgency outside the four levels is 422 naming ชั้นความเร็ว; nothing is saved."""
    memo_id = demo["memo_id"]
    before, count = snapshot(app, memo_id), memo_count(app)
    created = api.call("POST", "/memos", "clerk", json={**MEMO_FIELDS, "urgency": urgency})
    body = api_error(created, 422, "validation_failed")
    assert body["details"]["fields"] == {"urgency": "ชั้นความเร็ว: ค่าไม่ถูกต้อง"}
    if urgency is not None:  # in a PATCH, null means "leave as it is"
        patched = api.call("PATCH", f"/memos/{memo_id}", "clerk", json={"urgency": urgency})
        api_error(patched, 422, "validation_failed")
    assert snapshot(app, memo_id) == before
    assert memo_count(app) == count

def test_invalid_urgency_on_the_web_is_422(app, client, auth, demo):
    """The new-memo form with an unknown urgency is 422 naming ชั้นความเร็ว; nothing is saved."""
    login(auth, "clerk")
    count = memo_count(app)
    response = client.post("/memos/new", data={**MEMO_FIELDS, "urgency": "bogus",
                                                "intent": "save"})
    assert memo_count(app) == count
    page = form_page(response, 422)
    assert "ชั้นความเร็ว: ค่าไม่ถูกต้อง" in page


# -- stale forms --------------------------------------------------------------------------------


def test_stale_version_on_the_web_action_form_is_409(app, client, auth, api, demo):
    """An action from a stale tab is 409 in Thai; the memo and the typed reason are kept."""
    memo_id = demo["memo_id"]
    _pending_at_head(api, memo_id)
    login(auth, "head")
    assert 'name="version" value="2"' in client.get(f"/memos/{memo_id}").text  # tab B opens
    assert client.post(f"/memos/{memo_id}/act", data={  # tab A approves
        "action": "approve", "comment": "เพื่อโปรดพิจารณา", "version": "2"}).status_code == 302
    before = snapshot(app, memo_id)
    response = client.post(f"/memos/{memo_id}/act", data={  # tab B, still at version 2
        "action": "send_back", "comment": "ส่งกลับ เหตุผลที่พิมพ์ไว้", "version": "2"})
    assert response.status_code == 409
    page = response.text
    assert "บันทึกนี้มีการเปลี่ยนแปลงหลังจากที่ท่านเปิดไว้ กรุณาตรวจสอบสถานะล่าสุดก่อนดำเนินการอีกครั้ง" in page
    assert 'data-state="pending_2"' in page
    assert snapshot(app, memo_id) == before
    assert (before["state"], before["version"]) == ("pending_2", 3)

def test_stale_version_on_the_web_edit_form_is_409(app, client, auth, api, demo):
    """Saving an edit form opened before another save is 409; both texts survive."""
    memo_id = demo["memo_id"]
    login(auth, "clerk")
    assert 'name="version" type="hidden" value="1"' in client.get(f"/memos/{memo_id}/edit").text
    assert api.call("PATCH", f"/memos/{memo_id}", "clerk",
                    json={"subject": "บันทึกจากอีกแท็บ", "version": 1}).status_code == 200
    before = snapshot(app, memo_id)
    page = form_page(client.post(f"/memos/{memo_id}/edit", data={
        **MEMO_FIELDS, "subject": "ข้อความที่พิมพ์ในแท็บเก่า", "version": "1",
        "intent": "save"}), 409)
    assert "บันทึกนี้มีการเปลี่ยนแปลงหลังจากที่ท่านเปิดไว้" in page
    assert 'value="ข้อความที่พิมพ์ในแท็บเก่า"' in page
    assert snapshot(app, memo_id) == before
    assert before["subject"] == "บันทึกจากอีกแท็บ"


# -- the form itself ----------------------------------------------------------------------------


def test_memo_form_renders_without_deprecation_warnings(client, auth, demo):
    """The new-memo and edit pages render with warnings treated as errors."""
    login(auth, "clerk")
    assert client.get("/memos/new").status_code == 200
    assert client.get(f"/memos/{demo['memo_id']}/edit").status_code == 200
