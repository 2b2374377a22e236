"""The office settings page: admins change the office's header, hours, reminders and Garuda;
the reminders, the print view and the PDF follow; bad input is refused in Thai, nothing saved."""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import re
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from PIL import Image
from sqlmodel import col, select

from tests.factories import make_office
from workflow import clock
from workflow.demo.seed import SEED_SUBJECT
from workflow.extensions import db
from workflow.memos import reminders
from workflow.models import (
    AuditAction,
    AuditEvent,
    Memo,
    MemoStep,
    Notification,
    Organization,
)
from workflow.office.calendar import calendar_for
from workflow.trail.verify import verify_chain

BKK = ZoneInfo("Asia/Bangkok")
OFFICE = "องค์การบริหารส่วนตำบลท่าตูม"
SIGNERS = ("head", "deputy", "permsec", "chief")


@pytest.fixture
def app(make_app: Any) -> Flask:
    """No broker, and API tokens that outlive the clock's jumps."""
    return make_app(REDIS_URL="", API_TOKEN_HOURS=24 * 365 * 3)  # type: ignore[no-any-return]


def bkk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock moment in Bangkok."""
    return datetime(year, month, day, hour, minute, tzinfo=BKK)


def settings_form(**overrides: str | None) -> dict[str, str]:
    """The settings form as the demo office's page posts it, with ``overrides`` (None: unticked)."""
    data: dict[str, str | None] = {
        "name": OFFICE, "unit_line": f"สำนักงานปลัด {OFFICE}", "phone": "๐-๓๖๗๑-๕๖๒๓ ต่อ ๑๐๑",
        "doc_prefix": "สป ๓๔๕๐๑", "numbering_point": "approval", "require_endorsement": "y",
        "office_opens": "", "office_closes": "", "escalate_after": "",
    }
    for urgency in ("normal", "urgent", "very_urgent", "most_urgent"):
        for key in ("first", "repeat"):
            data[f"reminder_policy_{urgency}_{key}"] = ""
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def org_of(app: Flask, org_id: int) -> Organization:
    with app.app_context():
        org = db.session.get(Organization, org_id)
        assert org is not None
        return org


def admin_changes(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.exec(
            select(AuditEvent).where(AuditEvent.action == AuditAction.ADMIN_CHANGE)
            .order_by(col(AuditEvent.seq))).all())


def png(width: int = 90, height: int = 100, color: str = "#c8102e") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def jpeg(width: int = 90, height: int = 100) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), "#d4a017").save(out, "JPEG")
    return out.getvalue()


def upload_garuda(client: Any, data: bytes, filename: str = "garuda.png") -> Any:
    return client.post("/admin/office/garuda", data={"garuda": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def garuda_files(app: Flask) -> list[str]:
    folder = Path(app.config["ATTACHMENT_DIR"])
    return sorted(p.name for p in folder.glob("garuda-*")) if folder.exists() else []


def pdf_images(pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """The raster images of a PDF, as ``pdfimages -list`` describes them."""
    path = tmp_path / "memo.pdf"
    path.write_bytes(pdf)
    lines = subprocess.run(["pdfimages", "-list", str(path)], check=True, capture_output=True,
                           text=True).stdout.splitlines()
    header = lines[0].split()
    return [dict(zip(header, line.split(), strict=False)) for line in lines[2:] if line.strip()]


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "memo.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


# -- the page ----------------------------------------------------------------------------------


def test_admin_changes_the_settings_and_sees_them(app, demo, client, auth):
    """Every field is saved as typed (hours normalised from Thai digits) and shown again."""
    auth.login("admin")
    page = client.get("/admin/office")
    assert page.status_code == 200
    assert 'href="/admin/office"' in client.get("/admin").text  # on the administrator's hub
    assert 'href="/admin/office-days"' in page.text  # the calendar exceptions, linked
    assert "2h = ๒ ชั่วโมงทำการ" in page.text and "1d = ๑ วันทำการ" in page.text
    for label in ("ปกติ", "ด่วน", "ด่วนมาก", "ด่วนที่สุด"):
        assert f'aria-label="{label}: เตือนครั้งแรกหลัง"' in page.text
    assert 'placeholder="08:30"' in page.text and 'placeholder="1d"' in page.text

    response = client.post("/admin/office", data=settings_form(
        name="องค์การบริหารส่วนตำบลท่าตูมใหม่", unit_line="กองคลัง องค์การบริหารส่วนตำบลท่าตูม",
        phone="๐-๔๔๕๑-๑๒๓๔", doc_prefix="มค ๗๘๒๐๑", arabic_digits="y",
        numbering_point="submission", require_endorsement=None, office_opens="๘.๐๐",
        office_closes="16:00", reminder_policy_urgent_first="2h",
        reminder_policy_urgent_repeat=" 1 D ", escalate_after="๕", holders_may_appoint="y"))
    assert response.status_code == 302 and response.location.endswith("/admin/office")

    org = org_of(app, demo["org_id"])
    assert (org.name, org.unit_line, org.phone, org.doc_prefix) == (
        "องค์การบริหารส่วนตำบลท่าตูมใหม่", "กองคลัง องค์การบริหารส่วนตำบลท่าตูม", "๐-๔๔๕๑-๑๒๓๔",
        "มค ๗๘๒๐๑")
    assert (org.thai_digits, org.numbering_point, org.require_endorsement,
            org.holders_may_appoint) == (False, "submission", False, True)
    assert (org.office_opens, org.office_closes, org.escalate_after) == ("08:00", "16:00", 5)
    assert json.loads(org.reminder_policy) == {"urgent": {"first": "2h", "repeat": "1d"}}

    page = client.get("/admin/office").text
    assert "บันทึกการตั้งค่าหน่วยงานแล้ว" in page
    for shown in ('value="องค์การบริหารส่วนตำบลท่าตูมใหม่"', 'value="มค ๗๘๒๐๑"',
                  'value="08:00"', 'value="16:00"', 'value="2h"', 'value="1d"', 'value="5"'):
        assert shown in page, shown
    assert re.search(r'<input checked id="arabic_digits"', page)
    assert re.search(r'<option selected value="submission">', page)

    # Blank again: back to the server's defaults.
    assert client.post("/admin/office", data=settings_form()).status_code == 302
    org = org_of(app, demo["org_id"])
    assert (org.office_opens, org.office_closes, org.reminder_policy, org.escalate_after) == (
        "", "", "", None)


@pytest.mark.parametrize("username", ["head", "clerk", "auditor"])
def test_only_admins_see_or_change_the_settings(app, demo, client, auth, username):
    """Anyone else gets a Thai 403 on every route, and nothing is written."""
    auth.login(username)
    page = client.get("/admin/office")
    assert page.status_code == 403 and "เฉพาะผู้ดูแลระบบเท่านั้น" in page.text
    assert client.post("/admin/office",
                       data=settings_form(name="ยึดหน่วยงาน")).status_code == 403
    assert upload_garuda(client, png()).status_code == 403
    assert client.post("/admin/office/garuda/delete").status_code == 403
    assert org_of(app, demo["org_id"]).name == OFFICE
    assert garuda_files(app) == [] and admin_changes(app) == []


def test_signed_out_visitors_are_sent_to_login(app, demo, client):
    response = client.get("/admin/office")
    assert response.status_code == 302 and "/login" in response.location


BAD_INPUT = [
    pytest.param({"office_opens": "25:00"}, "office_opens", "เวลาเปิดทำการ: ใช้รูปแบบ ชช:นน",
                 id="hour-out-of-range"),
    pytest.param({"office_opens": "แปดโมง"}, "office_opens", "เวลาเปิดทำการ: ใช้รูปแบบ ชช:นน",
                 id="hour-in-words"),
    pytest.param({"office_opens": "17:00", "office_closes": "08:30"}, "office_closes",
                 "เวลาปิดทำการต้องหลังเวลาเปิดทำการ", id="closes-before-opens"),
    pytest.param({"office_closes": "08:00"}, "office_closes",
                 "เวลาปิดทำการต้องหลังเวลาเปิดทำการ", id="closes-before-default-opening"),
    pytest.param({"reminder_policy_urgent_first": "2x"}, "reminder_policy_urgent_first",
                 "เตือนครั้งแรก (ด่วน): ใช้ตัวเลขตามด้วย m (นาที) h (ชั่วโมงทำการ) หรือ d (วันทำการ)",
                 id="duration-unit"),
    pytest.param({"reminder_policy_most_urgent_repeat": "0h"},
                 "reminder_policy_most_urgent_repeat",
                 "เตือนซ้ำทุก (ด่วนที่สุด): ต้องไม่น้อยกว่า ๑๕ นาที", id="duration-zero"),
    pytest.param({"reminder_policy_normal_first": "-1d"}, "reminder_policy_normal_first",
                 "เตือนครั้งแรก (ปกติ): ใช้ตัวเลขตามด้วย", id="duration-negative"),
    pytest.param({"reminder_policy_normal_repeat": "31d"}, "reminder_policy_normal_repeat",
                 "ไม่เกิน ๓๐ วันทำการ", id="duration-too-long"),
    pytest.param({"escalate_after": "0"}, "escalate_after", "ต้องเป็นจำนวนครั้ง ๑–๒๐",
                 id="escalate-zero"),
    pytest.param({"escalate_after": "21"}, "escalate_after", "ต้องเป็นจำนวนครั้ง ๑–๒๐",
                 id="escalate-too-many"),
    pytest.param({"escalate_after": "สาม"}, "escalate_after", "ต้องเป็นจำนวนครั้ง ๑–๒๐",
                 id="escalate-words"),
    pytest.param({"name": "  "}, "name", "ชื่อหน่วยงาน: ต้องกรอก", id="name-blank"),
    pytest.param({"name": "ก" * 201}, "name", "ชื่อหน่วยงาน: ยาวเกิน ๒๐๐ ตัวอักษร",
                 id="name-too-long"),
    pytest.param({"unit_line": ""}, "unit_line", "ส่วนราชการ: ต้องกรอก", id="unit-line-blank"),
    pytest.param({"unit_line": "ส" * 301}, "unit_line", "ส่วนราชการ: ยาวเกิน ๓๐๐ ตัวอักษร",
                 id="unit-line-too-long"),
    pytest.param({"phone": "๐๘๑\r\nBcc: x@example.com"}, "phone",
                 "โทรศัพท์: ต้องเป็นข้อความบรรทัดเดียว", id="phone-two-lines"),
    pytest.param({"doc_prefix": "สป ๓๔๕๐๑/"}, "doc_prefix", "ไม่ต้องใส่ /", id="prefix-slash"),
    pytest.param({"numbering_point": "whenever"}, "numbering_point",
                 "การออกเลขที่หนังสือ: ค่าไม่ถูกต้อง", id="numbering-point"),
    # Review findings: these were 500s.
    pytest.param({"reminder_policy_normal_first": "99999999999d"}, "reminder_policy_normal_first",
                 "เตือนครั้งแรก (ปกติ): ใช้ตัวเลขตามด้วย", id="duration-overflow"),
    pytest.param({"office_opens": "٠٨:٣٠"}, "office_opens", "เวลาเปิดทำการ: ใช้รูปแบบ ชช:นน",
                 id="hour-in-arabic-indic-digits"),
    pytest.param({"office_opens": "０８:３０"}, "office_opens", "เวลาเปิดทำการ: ใช้รูปแบบ ชช:นน",
                 id="hour-in-fullwidth-digits"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_in_thai_and_nothing_is_saved(
        app, demo, client, auth, overrides, field, message):
    """422, the Thai message under the field, what was typed kept, and no change at all."""
    auth.login("admin")
    before = org_of(app, demo["org_id"]).model_dump()
    # A good change posted together with the bad one is not saved either.
    response = client.post("/admin/office",
                           data=settings_form(holders_may_appoint="y", **overrides))
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert message in text
    assert "ข้อมูลบางช่องไม่ถูกต้อง" in text
    assert re.search(rf'aria-invalid="true"[^>]*id="{field}"', response.text), field
    assert '<input checked id="holders_may_appoint"' in response.text  # nothing typed is lost
    typed = overrides[field].strip()
    if typed and len(typed) < 100 and "\n" not in typed and field != "numbering_point":
        assert f'value="{html.escape(overrides[field])}"' in response.text
    assert org_of(app, demo["org_id"]).model_dump() == before
    assert admin_changes(app) == []


def test_every_bad_field_is_named_at_once(app, demo, client, auth):
    auth.login("admin")
    response = client.post("/admin/office", data=settings_form(
        name="", office_opens="9", reminder_policy_urgent_first="soon", escalate_after="99"))
    assert response.status_code == 422
    for message in ("ชื่อหน่วยงาน: ต้องกรอก", "เวลาเปิดทำการ: ใช้รูปแบบ", "เตือนครั้งแรก (ด่วน)",
                    "ต้องเป็นจำนวนครั้ง"):
        assert message in response.text


def test_the_name_of_another_office_is_refused(app, demo, client, auth):
    with app.app_context(), db.write() as session:
        make_office(session, name="เทศบาลตำบลท่าตูม", unit_line="สำนักปลัดเทศบาล")
    auth.login("admin")
    response = client.post("/admin/office", data=settings_form(name="เทศบาลตำบลท่าตูม"))
    assert response.status_code == 422 and "มีหน่วยงานอื่นใช้ชื่อนี้แล้ว" in response.text
    assert org_of(app, demo["org_id"]).name == OFFICE


def test_each_change_is_audited_with_before_and_after(app, demo, client, auth):
    """One ADMIN_CHANGE event per save, naming only what changed; a save of nothing records none."""
    auth.login("admin")
    client.post("/admin/office", data=settings_form(
        phone="๐-๔๔๕๑-๑๒๓๔", office_closes="16:00", reminder_policy_urgent_first="2h",
        escalate_after="4"))
    [event] = admin_changes(app)
    details = json.loads(event.details)
    assert details == {
        "change": "office_settings",
        "before": {"phone": "๐-๓๖๗๑-๕๖๒๓ ต่อ ๑๐๑", "office_closes": "",
                   "reminder_policy": {}, "escalate_after": None},
        "after": {"phone": "๐-๔๔๕๑-๑๒๓๔", "office_closes": "16:00",
                  "reminder_policy": {"urgent": {"first": "2h"}}, "escalate_after": 4},
    }
    assert event.actor_id == demo["user_admin"] and event.actor_name == "นายธนพล รักษ์ระบบ"
    assert event.org_id == demo["org_id"] and event.ip == "127.0.0.1"

    client.post("/admin/office", data=settings_form(
        phone="๐-๔๔๕๑-๑๒๓๔", office_closes="16:00", reminder_policy_urgent_first="2h",
        escalate_after="4"))
    assert "ไม่มีการเปลี่ยนแปลง" in client.get("/admin/office").text
    assert len(admin_changes(app)) == 1
    with app.app_context():
        assert verify_chain(db.session).ok


# -- the settings take effect --------------------------------------------------------------------


def submit_urgent(api: Any, moment: datetime) -> int:
    """Freeze the clock at ``moment``; clerk drafts and submits an urgent memo."""
    clock.set_now(moment)
    response = api.call("POST", "/memos", "clerk", json={
        "subject": "ขอความเห็นชอบจัดซื้อวัสดุสำนักงาน", "addressee": f"นายก{OFFICE}",
        "urgency": "urgent", "body": "<p>เพื่อโปรดพิจารณา</p>"})
    assert response.status_code == 201, response.json
    memo_id = int(response.json["id"])
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    return memo_id


def first_step(app: Flask, memo_id: int) -> MemoStep:
    with app.app_context():
        return db.session.exec(select(MemoStep).where(
            MemoStep.memo_id == memo_id, MemoStep.step_no == 1)).one()


def sweep_at(app: Flask, moment: datetime) -> list[tuple[str, int, str]]:
    """Run the reminder sweep at ``moment``: (kind, memo, recipient email) of each row queued."""
    clock.set_now(moment)
    with app.app_context():
        ids = reminders.queue_reminders()
        rows = [db.session.get(Notification, i) for i in ids]
        return [(str(r.kind), r.memo_id or 0, r.email) for r in rows if r is not None]


def test_office_hours_reminder_policy_and_escalation_drive_the_reminders(
        app, demo, api, client, auth):
    """Tuesday 11:00, urgent: the server's 1 office day reminds Wednesday 11:00; with the office's
    09:00–12:00 and 2h it is Wednesday 10:00 (for the memo already waiting too), repeats 30
    minutes later and escalates after 2."""
    before = submit_urgent(api, bkk(2026, 3, 10, 11))
    assert first_step(app, before).next_reminder_at == bkk(2026, 3, 11, 11)

    auth.login("admin")
    assert client.post("/admin/office", data=settings_form(
        office_opens="09:00", office_closes="12:00", reminder_policy_urgent_first="2h",
        reminder_policy_urgent_repeat="30m", escalate_after="2")).status_code == 302
    with app.app_context():
        calendar = calendar_for(db.session, demo["org_id"])
        assert (str(calendar.opens), str(calendar.closes)) == ("09:00:00", "12:00:00")

    after = submit_urgent(api, bkk(2026, 3, 10, 11))
    # 11:00–12:00 Tuesday is one office hour; the second is Wednesday 09:00–10:00.
    assert first_step(app, after).next_reminder_at == bkk(2026, 3, 11, 10)

    # The memo that was already waiting is judged by the new policy too.
    assert sweep_at(app, bkk(2026, 3, 11, 9, 59)) == []
    assert first_step(app, before).next_reminder_at == bkk(2026, 3, 11, 10)
    assert sorted(sweep_at(app, bkk(2026, 3, 11, 10))) == [
        ("reminder", before, "head@example.com"), ("reminder", after, "head@example.com")]
    assert first_step(app, after).next_reminder_at == bkk(2026, 3, 11, 10, 30)
    queued = [r for r in sweep_at(app, bkk(2026, 3, 11, 10, 30)) if r[1] == after]
    assert sorted(queued) == [("escalation", after, "clerk@example.com"),
                              ("reminder", after, "head@example.com")]
    step = first_step(app, after)
    assert step.reminders_sent == 2 and step.next_reminder_at is None


# -- the printed memo ----------------------------------------------------------------------------


def test_arabic_digits_in_the_print_view_and_the_pdf(app, demo, api, client, auth, tmp_path):
    """With the "Arabic digits" switch on, the date, number, indexes and page numbers use 1 2 3."""
    memo_id = demo["memo_id"]
    auth.login("clerk")
    thai_view = client.get(f"/memos/{memo_id}/print").text
    assert "๑๙ เมษายน ๒๕๖๕" in thai_view and "arabic-digits" not in thai_view

    auth.login("admin")
    assert client.post("/admin/office",
                       data=settings_form(arabic_digits="y")).status_code == 302
    api.act(memo_id, "clerk", "submit")
    for username in SIGNERS:
        assert api.act(memo_id, username, "approve", "เพื่อโปรดพิจารณา").status_code == 200
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.number == "สป ๓๔๕๐๑/1"

    auth.login("clerk")
    view = client.get(f"/memos/{memo_id}/print").text
    assert 'class="arabic-digits"' in view
    assert "สป ๓๔๕๐๑/1" in view
    assert re.search(r"\d{1,2} [ก-๛]+ 25\d\d", view)  # today's date, Buddhist era, 1 2 3
    assert "<td>1</td>" in view and "<td>๑</td>" not in view
    # Only what people typed (prefix, phone, subject, body) may still hold Thai digits.
    typed = view.replace("สป ๓๔๕๐๑", "").replace("๐-๓๖๗๑-๕๖๒๓ ต่อ ๑๐๑", "").replace(
        SEED_SUBJECT, "")
    body_start = typed.index('<div class="body">')
    body_end = typed.index("</div>", body_start)
    generated = typed[:body_start] + typed[body_end:]
    assert not re.search("[๐-๙]", generated), re.findall(".{20}[๐-๙].{5}", generated)

    pdf = client.get(f"/memos/{memo_id}.pdf")
    assert pdf.status_code == 200
    text = pdftotext(pdf.data, tmp_path)
    assert re.search(r"^\s*-\s*2\s*-\s*$", text, re.M) and not re.search("-\\s*๒\\s*-", text)


def test_a_garuda_is_uploaded_printed_and_removed(app, demo, client, auth, tmp_path, artifacts):
    """A PNG is stored by its hash, previewed, printed 1.5 cm tall in the print view and the PDF."""
    memo_id = demo["memo_id"]
    auth.login("clerk")
    assert pdf_images(client.get(f"/memos/{memo_id}.pdf").data, tmp_path) == []

    image = png(90, 100)
    digest = hashlib.sha256(image).hexdigest()
    auth.login("admin")
    assert 'data-testid="no-garuda"' in client.get("/admin/office").text
    response = upload_garuda(client, image, "ครุฑ.PNG")
    assert response.status_code == 302
    assert garuda_files(app) == [f"garuda-{digest[:16]}.png"]
    assert org_of(app, demo["org_id"]).garuda_file == f"garuda-{digest[:16]}.png"
    uri = "data:image/png;base64," + base64.b64encode(image).decode()
    page = client.get("/admin/office").text
    assert "บันทึกภาพครุฑแล้ว" in page and f'src="{uri}"' in page
    [event] = admin_changes(app)
    assert json.loads(event.details) == {
        "change": "office_settings", "before": {"garuda_file": ""},
        "after": {"garuda_file": f"garuda-{digest[:16]}.png"}, "sha256": digest,
        "size": len(image)}

    auth.login("clerk")
    view = client.get(f"/memos/{memo_id}/print").text
    assert f'<div class="garuda"><img src="{uri}" alt="ครุฑ"></div>' in view
    pdf = client.get(f"/memos/{memo_id}.pdf").data
    (artifacts / "memo-with-garuda.pdf").write_bytes(pdf)
    [found] = pdf_images(pdf, tmp_path)
    assert (found["page"], found["width"], found["height"]) == ("1", "90", "100")
    # 100 pixels over 1.5 cm is 169 pixels per inch.
    assert abs(int(found["y-ppi"]) - round(100 / (1.5 / 2.54))) <= 2

    auth.login("admin")
    assert client.post("/admin/office/garuda/delete").status_code == 302
    assert org_of(app, demo["org_id"]).garuda_file == ""
    assert garuda_files(app) == [f"garuda-{digest[:16]}.png"]  # the audit still names it
    auth.login("clerk")
    assert '<div class="garuda"></div>' in client.get(f"/memos/{memo_id}/print").text
    assert [json.loads(e.details)["after"] for e in admin_changes(app)][-1] == {"garuda_file": ""}


def test_a_jpeg_garuda_is_accepted(app, demo, client, auth):
    image = jpeg()
    auth.login("admin")
    assert upload_garuda(client, image, "garuda.jpeg").status_code == 302
    name = org_of(app, demo["org_id"]).garuda_file
    assert name == f"garuda-{hashlib.sha256(image).hexdigest()[:16]}.jpg"
    auth.login("clerk")
    assert "data:image/jpeg;base64," in client.get(f"/memos/{demo['memo_id']}/print").text


BAD_GARUDA = [
    pytest.param("garuda.png", b"This is a text file, not an image.\n",
                 "ภาพครุฑต้องเป็นไฟล์ PNG หรือ JPEG เท่านั้น", id="text-renamed-png"),
    pytest.param("garuda.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
                               b"<script>alert(1)</script></svg>",
                 "ไม่รับ SVG", id="svg-with-script"),
    pytest.param("garuda.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
                 "ภาพครุฑต้องเป็นไฟล์ PNG หรือ JPEG เท่านั้น", id="gif"),
    pytest.param("garuda.png", png()[:60], "อ่านไฟล์ภาพครุฑไม่ได้", id="truncated-png"),
    pytest.param("garuda.png", b"", "กรุณาเลือกไฟล์ภาพครุฑ", id="no-file"),
]


@pytest.mark.parametrize(("filename", "data", "message"), BAD_GARUDA)
def test_a_bad_garuda_is_refused_in_thai_and_nothing_is_saved(
        app, demo, client, auth, filename, data, message):
    auth.login("admin")
    response = upload_garuda(client, data, filename)
    assert response.status_code == 422
    assert message in response.text
    assert 'data-testid="office-settings"' in response.text  # the page, with the error on it
    assert org_of(app, demo["org_id"]).garuda_file == ""
    assert garuda_files(app) == [] and admin_changes(app) == []


def test_a_garuda_replaced_keeps_one_file_per_image(app, demo, client, auth):
    auth.login("admin")
    first, second = png(color="#000000"), png(color="#ffffff")
    upload_garuda(client, first)
    upload_garuda(client, second)
    upload_garuda(client, second)  # the same again: no change, no event
    assert len(garuda_files(app)) == 2
    assert org_of(app, demo["org_id"]).garuda_file == (
        f"garuda-{hashlib.sha256(second).hexdigest()[:16]}.png")
    assert len(admin_changes(app)) == 2


def test_an_image_over_2_mb_is_refused(app, demo, live_server):
    """Over real HTTP: the test client would spool a body this big to a file of its own."""
    import requests

    with requests.Session() as browser:
        assert browser.post(f"{live_server}/login", data={"username": "admin", "password": "demo"},
                            timeout=30).status_code == 200
        big = png()[:8] + b"\x00" * (2 * 1024 * 1024)
        response = browser.post(f"{live_server}/admin/office/garuda", timeout=60,
                                files={"garuda": ("garuda.png", big, "image/png")})
    assert response.status_code == 422 and "ไฟล์ภาพครุฑใหญ่เกิน ๒ MB" in response.text
    assert org_of(app, demo["org_id"]).garuda_file == ""
    assert garuda_files(app) == [] and admin_changes(app) == []


# -- in Chromium --------------------------------------------------------------------------------

PHONE: dict[str, Any] = {"viewport": {"width": 360, "height": 740}, "is_mobile": True,
                         "has_touch": True, "device_scale_factor": 2, "locale": "th-TH"}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "th-TH"}


def emblem(tmp_path: Path) -> Path:
    """A stand-in Garuda: a red bird-like shape on a transparent ground, taller than wide."""
    from PIL import ImageDraw

    image = Image.new("RGBA", (180, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.polygon([(90, 10), (170, 70), (130, 80), (150, 190), (90, 150), (30, 190), (50, 80),
                  (10, 70)], fill=(200, 16, 46, 255))
    draw.ellipse((70, 30, 110, 70), fill=(212, 160, 23, 255))
    path = tmp_path / "garuda.png"
    image.save(path)
    return path


@pytest.mark.browser
def test_the_settings_page_in_chromium(app, demo, browser, live_server, artifacts, tmp_path):
    """On a 360 px phone: no sideways scroll, a Thai error beside the field, the Garuda previewed;
    then the print view on a desktop shows it 1.5 cm tall."""
    from playwright.sync_api import expect

    for old in artifacts.glob("*.png"):
        old.unlink()
    context = browser.new_context(base_url=live_server, **PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", "demo")
    page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
    page.wait_for_load_state("load")
    response = page.goto("/admin/office")
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_text("ตั้งค่าหน่วยงาน")
    page.screenshot(path=artifacts / "01-phone-settings.png", full_page=True)
    assert int(page.evaluate("document.documentElement.scrollWidth")) <= 360

    page.fill("#office_opens", "25:00")
    page.fill("#reminder_policy_urgent_first", "2h")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="บันทึกการตั้งค่า").click()
    page.wait_for_load_state("load")
    assert posted.value.status == 422
    expect(page.locator(".field-error").first).to_contain_text("เวลาเปิดทำการ: ใช้รูปแบบ ชช:นน")
    expect(page.locator("#reminder_policy_urgent_first")).to_have_value("2h")
    page.locator("#office_opens").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "02-phone-bad-hour.png", full_page=True)

    page.fill("#office_opens", "08:30")
    page.get_by_role("button", name="บันทึกการตั้งค่า").click()
    expect(page.locator(".flash-success")).to_contain_text("บันทึกการตั้งค่าหน่วยงานแล้ว")
    page.set_input_files("#garuda-file", str(emblem(tmp_path)))
    page.get_by_role("button", name="อัปโหลดภาพครุฑ").click()
    expect(page.get_by_test_id("garuda-preview")).to_be_visible()
    page.locator("#garuda").scroll_into_view_if_needed()
    page.screenshot(path=artifacts / "03-phone-garuda.png", full_page=True)
    assert int(page.evaluate("document.documentElement.scrollWidth")) <= 360
    context.close()

    context = browser.new_context(base_url=live_server, **DESKTOP)
    page = context.new_page()
    page.goto("/login")
    page.fill("#username", "admin")
    page.fill("#password", "demo")
    page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
    page.wait_for_load_state("load")
    page.goto("/admin/office")
    page.screenshot(path=artifacts / "04-desktop-settings.png", full_page=True)
    page.goto(f"/memos/{demo['memo_id']}/print")
    garuda = page.locator(".garuda img")
    expect(garuda).to_be_visible()
    box = garuda.bounding_box()
    assert box is not None and abs(box["height"] - 1.5 / 2.54 * 96) < 1  # 1.5 cm in CSS px
    page.screenshot(path=artifacts / "05-print-view.png")
    context.close()


def test_a_stale_settings_tab_cannot_undo_another_admins_save(app, demo, client, auth):
    """Admin A's old tab saves a phone change after admin B changed the reminders: refused."""
    auth.login("admin")
    page = client.get("/admin/office").text
    seen = re.search(r'id="seen" name="seen" type="hidden" value="([^"]+)"', page) or re.search(
        r'name="seen" type="hidden" value="([^"]+)"', page)
    assert seen is not None
    other = app.test_client()
    other.post("/login", data={"username": "admin", "password": "demo"})
    assert other.post("/admin/office", data=settings_form(
        reminder_policy_normal_first="1h", escalate_after="5")).status_code == 302
    stale = client.post("/admin/office", data=settings_form(phone="๐๒", seen=seen.group(1)))
    assert stale.status_code == 409
    assert "ถูกแก้ไขโดยผู้อื่น" in stale.text
    org = org_of(app, demo["org_id"])
    assert org.escalate_after == 5 and org.phone != "๐๒"
