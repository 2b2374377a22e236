"""Administration: people, positions, CSV import, routes, and acting officers (รักษาราชการแทน).

Everything goes through the web pages or the API, as an administrator and the
officers would, on both databases.
"""

from __future__ import annotations

import html
import json
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import col, select

from workflow import clock
from workflow.admin import positions
from workflow.extensions import db
from workflow.identity.principal import load_principal, principal_for
from workflow.memos import queries, reminders
from workflow.models import (
    Appointment,
    AuditAction,
    AuditEvent,
    Decision,
    Memo,
    MemoStep,
    Notification,
    NotificationKind,
    Position,
    Route,
    User,
)
from workflow.office.calendar import office_today

if TYPE_CHECKING:
    from tests.conftest import ApiClient

PERMSEC = "ปลัดองค์การบริหารส่วนตำบลท่าตูม"
ACTING_LINE = "รักษาราชการแทนปลัดองค์การบริหารส่วนตำบล"
STAFF_CSV = """username,full_name,email,position,roles
somchai,นายสมชาย ใจดี,somchai@example.com,ผู้อำนวยการกองการศึกษา,
suda,นางสาวสุดา รักงาน,suda@example.com,ผู้อำนวยการกองสาธารณสุข,
"""


def login(app: Flask, username: str, password: str = "demo") -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def user_id(app: Flask, username: str) -> int:
    with app.app_context():
        user = db.session.exec(select(User).where(User.username == username)).one()
        assert user.id is not None
        return user.id


def position_id(app: Flask, title: str) -> int:
    with app.app_context():
        position = db.session.exec(select(Position).where(Position.title == title)).one()
        assert position.id is not None
        return position.id


def admin_events(app: Flask, change: str) -> list[dict[str, Any]]:
    with app.app_context():
        rows = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.ADMIN_CHANGE).order_by(col(AuditEvent.seq))).all()
        return [d for d in (json.loads(r.details) for r in rows) if d.get("change") == change]


def add_finance_director(app: Flask) -> int:
    """An officer outside the route, who will act for the permanent secretary."""
    admin = login(app, "admin")
    response = admin.post("/admin/users", data={
        "username": "finance", "full_name": "นายประหยัด คลังดี", "email": "finance@example.com",
        "roles": ["signer"], "password": "Kl@ng-Dee-2569"})
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    response = admin.post("/admin/positions", data={
        "title": "ผู้อำนวยการกองการศึกษา", "holder_id": str(user_id(app, "finance"))})
    assert response.status_code == 302
    return user_id(app, "finance")


def appoint(app: Flask, acting: str, title: str = PERMSEC, *, starts: str = "",
            ends: str = "", capacity: str = "acting", absent: bool = True) -> FlaskClient:
    admin = login(app, "admin")
    with app.app_context():
        today = office_today()
    data = {"position_id": str(position_id(app, title)),
            "acting_user_id": str(user_id(app, acting)),
            "capacity": capacity, "starts_on": starts or today.isoformat(),
            "ends_on": ends or (today + timedelta(days=14)).isoformat(),
            "order_no": "๑๒๓/๒๕๖๙", "note": "ปลัดลาพักผ่อน"}
    if absent:
        data["holder_absent"] = "y"
    response = admin.post("/appointments", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return admin


def to_step(api: ApiClient, memo_id: int, step: int) -> None:
    """Submit the demo memo and approve it up to (not including) ``step``."""
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    for number, signer in enumerate(("head", "deputy", "permsec")[:step - 1], start=1):
        response = api.act(memo_id, signer, "approve", "เพื่อโปรดพิจารณา")
        assert response.status_code == 200, (number, response.json)


# -- pages and permissions ------------------------------------------------------------------


ADMIN_PAGES = ("/admin", "/admin/users", "/admin/positions", "/admin/import", "/admin/routes",
               "/admin/routes/new", "/appointments")


def test_admin_pages_render_for_admins_only(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    for page in ADMIN_PAGES:
        assert admin.get(page).status_code == 200, page
    clerk = login(app, "clerk")
    for page in ADMIN_PAGES:
        assert clerk.get(page).status_code == 403, page
    assert clerk.post("/admin/users", data={"username": "x"}).status_code == 403


def test_people_changes_are_validated_and_audited(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    bad = admin.post("/admin/users", data={"username": "Bad Name", "full_name": "x",
                                           "email": "x@example.com"})
    assert bad.status_code == 422
    assert "ชื่อผู้ใช้ต้องเป็นอักษรอังกฤษตัวเล็ก" in bad.get_data(as_text=True)
    bad = admin.post("/admin/users", data={"username": "newbie", "full_name": "นายใหม่ มาก่อน",
                                           "email": "not-an-email"})
    assert bad.status_code == 422 and "อีเมลไม่ถูกต้อง" in bad.get_data(as_text=True)
    taken = admin.post("/admin/users", data={"username": "clerk", "full_name": "ซ้ำ",
                                             "email": "c@example.com"})
    assert taken.status_code == 409
    weak = admin.post("/admin/users", data={"username": "newbie", "full_name": "นายใหม่ มาก่อน",
                                            "email": "n@example.com", "password": "password123"})
    assert weak.status_code == 422 and "รั่วไหล" in weak.get_data(as_text=True)
    # nothing saved by any refusal
    with app.app_context():
        assert db.session.exec(select(User).where(User.username == "newbie")).first() is None

    ok = admin.post("/admin/users", data={"username": "newbie", "full_name": "นายใหม่ มาก่อน",
                                          "email": "n@example.com", "roles": ["clerk"]})
    assert ok.status_code == 302
    [created] = admin_events(app, "user_created")
    assert created["before"] is None and created["after"]["username"] == "newbie"
    # No password given: an invitation link went to the outbox.
    with app.app_context():
        invite = db.session.exec(select(Notification).where(
            Notification.kind == NotificationKind.PASSWORD_RESET,
            Notification.email == "n@example.com")).one()
        assert "/password/reset/" in invite.body_text

    uid = user_id(app, "newbie")
    ok = admin.post(f"/admin/users/{uid}", data={"full_name": "นายใหม่ เปลี่ยนชื่อ",
                                                 "email": "n@example.com", "roles": ["signer"]})
    assert ok.status_code == 302
    [updated] = admin_events(app, "user_updated")
    assert updated["before"] == {"full_name": "นายใหม่ มาก่อน", "roles": "clerk"}
    assert updated["after"] == {"full_name": "นายใหม่ เปลี่ยนชื่อ", "roles": "signer"}


def test_deactivated_users_session_and_token_stop_at_once(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    deputy_web = login(app, "deputy")
    token = api.token("deputy")
    assert deputy_web.get("/inbox").status_code == 200
    assert api.call("GET", "/memos", "deputy").status_code == 200

    admin = login(app, "admin")
    response = admin.post(f"/admin/users/{user_id(app, 'deputy')}/deactivate")
    assert response.status_code == 302

    # The very next request of the open browser session and of the token is refused.
    page = deputy_web.get("/inbox")
    assert page.status_code == 302 and "/login" in page.headers["Location"]
    assert api.call("GET", "/memos", "deputy").status_code == 401
    with app.app_context():
        assert load_principal(token, "api") is None
    # and they cannot sign in again
    assert app.test_client().post("/login", data={"username": "deputy", "password": "demo"}
                                  ).status_code != 302
    [event] = admin_events(app, "user_deactivated")
    assert event["before"] == {"is_active": True} and event["after"] == {"is_active": False}
    assert event["sessions_ended"] == 2


def test_a_deactivated_holders_waiting_memo_asks_for_an_acting_officer(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    to_step(api, demo["memo_id"], 2)  # waits at the deputy
    admin = login(app, "admin")
    admin.post(f"/admin/users/{user_id(app, 'deputy')}/deactivate")
    page = admin.get(f"/memos/{demo['memo_id']}").get_data(as_text=True)
    assert "ต้องแต่งตั้งผู้รักษาราชการแทน" in page
    hub = admin.get("/admin").get_data(as_text=True)
    assert "มีเรื่องค้างที่ไม่มีผู้พิจารณาได้ในขณะนี้" in hub
    assert "รองปลัดองค์การบริหารส่วนตำบลท่าตูม — ๑ เรื่อง" in hub
    # An acting officer for the post clears the alarm.
    appoint(app, "permsec", "รองปลัดองค์การบริหารส่วนตำบลท่าตูม")
    assert "มีเรื่องค้าง" not in admin.get("/admin").get_data(as_text=True)


def test_admin_cannot_lock_themselves_out(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    assert admin.post(f"/admin/users/{user_id(app, 'admin')}/deactivate").status_code == 409
    response = admin.post(f"/admin/users/{user_id(app, 'admin')}",
                          data={"full_name": "x y", "email": "a@example.com", "roles": ["clerk"]})
    assert response.status_code == 409


# -- CSV import --------------------------------------------------------------------------------


def upload(client: FlaskClient, content: bytes, name: str = "staff.csv") -> Any:
    import io

    return client.post("/admin/import", data={"file": (io.BytesIO(content), name)},
                       content_type="multipart/form-data")


def test_import_previews_then_confirms(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    before = len(admin_events(app, "staff_imported"))
    preview = upload(admin, STAFF_CSV.encode("utf-8-sig"))
    page = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "จะนำเข้า ๒ คน" in page and "(ตำแหน่งใหม่)" in page
    with app.app_context():  # nothing saved by the preview
        assert db.session.exec(select(User).where(User.username == "somchai")).first() is None
    import re

    content = re.search(r'name="content" value="([^"]+)"', page)
    assert content is not None
    done = admin.post("/admin/import", data={"content": content.group(1)})
    assert done.status_code == 302
    with app.app_context():
        somchai = db.session.exec(select(User).where(User.username == "somchai")).one()
        assert somchai.roles == "signer"
        held = db.session.exec(select(Position).where(Position.holder_id == somchai.id)).one()
        assert held.title == "ผู้อำนวยการกองการศึกษา"
        invites = db.session.exec(select(Notification).where(
            Notification.kind == NotificationKind.PASSWORD_RESET)).all()
        assert {n.email for n in invites} >= {"somchai@example.com", "suda@example.com"}
    [event] = admin_events(app, "staff_imported")[before:]
    assert [row["username"] for row in event["after"]] == ["somchai", "suda"]
    # Confirming the same file again (a second click) imports nothing and says so.
    again = admin.post("/admin/import", data={"content": content.group(1)},
                       follow_redirects=True)
    assert "ไฟล์นี้นำเข้าไปแล้ว" in again.get_data(as_text=True)
    assert len(admin_events(app, "staff_imported")[before:]) == 1
    # Another file naming the same people is refused, naming them.
    other = STAFF_CSV.replace("suda,", "sudarat,").encode()
    response = upload(admin, other)
    assert response.status_code == 422
    assert "มีชื่อผู้ใช้ \"somchai\" ในระบบแล้ว" in html.unescape(response.get_data(as_text=True))


BAD_FILES = {
    "wrong columns": (b"user,name,mail\na,b,c\n",
                      ["บรรทัด", "ไม่รู้จักคอลัมน์ \"user\"", "ขาดคอลัมน์ที่ต้องมี"]),
    "duplicate usernames": ((
        "username,full_name,email\nanan,นายอนันต์ หนึ่ง,a1@example.com\n"
        "somsri,นางสมศรี สอง,s@example.com\nanan,นายอนันต์ ซ้ำ,a2@example.com\n").encode(),
        ["ชื่อผู้ใช้ \"anan\" ซ้ำกับบรรทัดที่ ๒", "<td>๔</td>"]),
    "existing username": ("username,full_name,email\nclerk,นางสาวซ้ำ ระบบ,x@example.com\n".encode(),
                          ["มีชื่อผู้ใช้ \"clerk\" ในระบบแล้ว", "<td>๒</td>"]),
    "bad emails": ((
        "username,full_name,email\nanan,นายอนันต์ หนึ่ง,anan-at-example.com\n"
        "somsri,นางสมศรี สอง,somsri@\n").encode(),
        ["อีเมลไม่ถูกต้อง: anan-at-example.com", "<td>๒</td>", "<td>๓</td>"]),
    "Thai names in Windows-874": ((
        "username,full_name,email\nanan,นายอนันต์ หนึ่ง,a@example.com\n"
        "somsri,นางสมศรี สอง,s@example.com\n").encode("cp874"),
        ["บรรทัดนี้ไม่ได้เข้ารหัสแบบ UTF-8", "TIS-620/Windows-874", "<td>๒</td>", "<td>๓</td>"]),
    "ragged line": ("username,full_name,email\nanan,นายอนันต์ หนึ่ง\n".encode(),
                    ["มี ๒ ช่อง แต่หัวตารางมี ๓ ช่อง"]),
    "empty": (b"", ["ไฟล์ว่าง"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_csv_is_reported_by_line_and_nothing_is_imported(
        app: Flask, demo: dict[str, int], case: str) -> None:
    content, expected = BAD_FILES[case]
    admin = login(app, "admin")
    with app.app_context():
        users_before = len(db.session.exec(select(User)).all())
    response = upload(admin, content)
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422
    assert "ยังไม่ได้นำเข้าผู้ใด" in page
    for text in expected:
        assert text in page, (case, text)
    assert 'name="content"' not in page  # no confirm button for a bad file
    with app.app_context():
        assert len(db.session.exec(select(User)).all()) == users_before
    assert not admin_events(app, "staff_imported")


def test_a_forged_confirm_is_checked_again(app: Flask, demo: dict[str, int]) -> None:
    import base64

    admin = login(app, "admin")
    forged = base64.b64encode(b"username,full_name,email\nclerk,x y,bad\n").decode()
    response = admin.post("/admin/import", data={"content": forged})
    assert response.status_code == 422
    assert admin.post("/admin/import", data={"content": "***"}).status_code == 400


# -- routes -------------------------------------------------------------------------------------


def test_a_route_is_chosen_at_drafting_and_edits_never_touch_memos_in_flight(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    admin = login(app, "admin")
    short = [position_id(app, "หัวหน้าสำนักปลัด"), position_id(app, PERMSEC)]
    response = admin.post("/admin/routes/new", data={
        "name": "สายสั้น", "memo_type": "รายงานทั่วไป", "steps": [str(i) for i in short]})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    with app.app_context():
        route = db.session.exec(select(Route).where(Route.name == "สายสั้น")).one()
        assert not route.is_default
    [event] = admin_events(app, "route_created")
    assert [s["positions"] for s in event["after"]["steps"]] == [[i] for i in short]

    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ทดสอบสายสั้น", "addressee": "นายก", "body": "<p>x</p>",
        "route_id": route.id})
    assert created.status_code == 201, created.json
    memo_id = created.json["id"]
    assert api.act(memo_id, "clerk", "submit").status_code == 200

    # The admin now lengthens the route: the memo already on its way keeps two steps.
    response = admin.post(f"/admin/routes/{route.id}", data={
        "name": "สายสั้น", "memo_type": "รายงานทั่วไป",
        "steps": [str(i) for i in (*short, position_id(app, "นายกองค์การบริหารส่วนตำบลท่าตูม"))]})
    assert response.status_code == 302
    assert api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา").status_code == 200
    done = api.act(memo_id, "permsec", "approve", "อนุมัติ")
    assert done.status_code == 200 and done.json["state"] == "approved"
    [changed] = admin_events(app, "route_updated")
    assert [s["positions"] for s in changed["before"]["steps"]] == [[i] for i in short]
    assert len(changed["after"]["steps"]) == 3

    # A route of another office's or an unknown id is refused, in Thai.
    bad = api.call("POST", "/memos", "clerk", json={
        "subject": "x", "addressee": "y", "route_id": 99999})
    assert bad.status_code == 422 and bad.json["error"] == "unknown_route"


def test_bad_routes_are_refused(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    head = str(position_id(app, "หัวหน้าสำนักปลัด"))
    cases = [({"name": "", "steps": [head]}, "กรุณากรอกชื่อสายการเสนอ"),
             ({"name": "ว่าง"}, "อย่างน้อยหนึ่งลำดับ"),
             ({"name": "ซ้ำ", "steps": [head, head]}, "ได้ครั้งเดียว"),
             ({"name": "ไม่รู้จัก", "steps": ["987654"]}, "ไม่อยู่ในสำนักงานนี้")]
    for data, message in cases:
        response = admin.post("/admin/routes/new", data=data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.exec(select(Route)).all()) == 2  # the demo office's own two
    default = demo["route_id"]
    assert admin.post(f"/admin/routes/{default}/retire").status_code == 409
    # The default unticked: said, not silently kept; nothing of the form is saved.
    response = admin.post(f"/admin/routes/{default}", data={"name": "สายอื่น", "steps": [head]})
    assert response.status_code == 409
    assert "กรุณาเลือกสายอื่นเป็นสายหลักแทน" in response.get_data(as_text=True)
    with app.app_context():
        route = db.session.get(Route, default)
        assert route is not None and route.is_default and route.name != "สายอื่น"


# -- acting officers ------------------------------------------------------------------------------


def test_an_acting_officer_takes_the_absent_permanent_secretarys_memos(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    add_finance_director(app)
    appoint(app, "finance")
    to_step(api, demo["memo_id"], 3)  # waits at the permanent secretary's step

    finance = login(app, "finance", "Kl@ng-Dee-2569")
    inbox = finance.get("/inbox?tab=waiting").get_data(as_text=True)
    assert f"รักษาราชการแทน{PERMSEC}" in inbox  # the inbox says in which capacity
    assert "ความก้าวหน้า" in inbox or f"/memos/{demo['memo_id']}" in inbox
    # The absent holder no longer decides while the appointment is in force.
    permsec = login(app, "permsec")
    waiting = permsec.get("/inbox?tab=waiting").get_data(as_text=True)
    assert f"/memos/{demo['memo_id']}" not in waiting
    assert api.act(demo["memo_id"], "permsec", "approve", "อนุมัติ").status_code == 403

    # Arrival email went to the acting officer.
    with app.app_context():
        arrivals = db.session.exec(select(Notification).where(
            Notification.kind == NotificationKind.ARRIVAL,
            Notification.memo_id == demo["memo_id"])).all()
        assert "finance@example.com" in {n.email for n in arrivals}

    assert finance.get(f"/memos/{demo['memo_id']}").status_code == 200  # opens it first
    response = finance.post(f"/memos/{demo['memo_id']}/act",
                            data={"action": "approve", "comment": "เห็นชอบ เรียนนายก"})
    assert response.status_code == 302
    with app.app_context():
        decision = db.session.exec(select(Decision).where(
            Decision.memo_id == demo["memo_id"]).order_by(col(Decision.id).desc())).first()
        assert decision is not None
        assert decision.signature_lines() == ["ผู้อำนวยการกองการศึกษา", f"รักษาราชการแทน{PERMSEC}"]
        [snapshot] = json.loads(decision.appointments)
        assert snapshot["order_no"] == "๑๒๓/๒๕๖๙" and snapshot["capacity_label"] == "รักษาราชการแทน"
        event = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.MEMO_APPROVED).order_by(
            col(AuditEvent.seq).desc())).first()
        assert event is not None and event.actor_name == "นายประหยัด คลังดี"
        assert ACTING_LINE in event.position_title
        assert json.loads(event.details)["acting"][0]["order_no"] == "๑๒๓/๒๕๖๙"

    page = finance.get(f"/memos/{demo['memo_id']}").get_data(as_text=True)
    assert ACTING_LINE in page
    with app.app_context():  # the read receipt names the capacity too
        opened = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.MEMO_OPENED,
            AuditEvent.actor_name == "นายประหยัด คลังดี")).one()
        assert opened.position_title == f"ผู้อำนวยการกองการศึกษา รักษาราชการแทน{PERMSEC}"
    print_view = finance.get(f"/memos/{demo['memo_id']}/print").get_data(as_text=True)
    assert "นายประหยัด คลังดี" in print_view and ACTING_LINE in print_view


def test_reminders_follow_the_appointment(app: Flask, demo: dict[str, int],
                                          api: ApiClient) -> None:
    add_finance_director(app)
    to_step(api, demo["memo_id"], 3)
    appoint(app, "finance")
    with app.app_context():
        step = db.session.exec(select(MemoStep).where(
            MemoStep.memo_id == demo["memo_id"], MemoStep.step_no == 3,
            MemoStep.status == "pending")).one()
        assert step.next_reminder_at is not None
        ids = reminders.queue_reminders(step.next_reminder_at + timedelta(minutes=1))
        rows = [db.session.get(Notification, i) for i in ids]
        assert [(r.kind, r.email) for r in rows if r] == [
            (NotificationKind.REMINDER, "finance@example.com")]


def test_when_the_appointment_ends_the_acting_officer_no_longer_sees_the_position(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    add_finance_director(app)
    admin = appoint(app, "finance")
    to_step(api, demo["memo_id"], 3)
    finance = login(app, "finance", "Kl@ng-Dee-2569")
    assert finance.get(f"/memos/{demo['memo_id']}").status_code == 200
    with app.app_context():
        appointment = db.session.exec(select(Appointment)).one()
    assert admin.post(f"/appointments/{appointment.id}/end").status_code == 302
    # The same browser session, next request: the memo is gone from inbox and out of reach.
    waiting = finance.get("/inbox?tab=waiting").get_data(as_text=True)
    assert f"/memos/{demo['memo_id']}" not in waiting
    assert finance.get(f"/memos/{demo['memo_id']}").status_code == 403
    # and the holder, back, decides again
    assert api.act(demo["memo_id"], "permsec", "approve", "อนุมัติ").status_code == 200
    [ended] = admin_events(app, "appointment_ended")
    assert ended["before"]["ended_at"] is None and ended["after"]["ended_at"]


def test_an_appointment_counts_office_days_inclusive(app: Flask, demo: dict[str, int]) -> None:
    add_finance_director(app)
    with app.app_context():
        today = office_today()
    appoint(app, "finance", starts=(today + timedelta(days=1)).isoformat(),
            ends=(today + timedelta(days=3)).isoformat())
    with app.app_context():
        finance = db.session.get(User, user_id(app, "finance"))
        assert finance is not None
        assert not principal_for(db.session, finance).acting
        clock.set_now(clock.now() + timedelta(days=1))
        assert [a.position_title for a in principal_for(db.session, finance).acting] == [PERMSEC]
        clock.set_now(clock.now() + timedelta(days=3))
        assert not principal_for(db.session, finance).acting


def test_one_signature_covers_two_consecutive_steps(app: Flask, demo: dict[str, int],
                                                    api: ApiClient) -> None:
    """The deputy acts for the permanent secretary: steps 2 and 3 are theirs, signed once."""
    appoint(app, "deputy")
    to_step(api, demo["memo_id"], 2)
    response = api.act(demo["memo_id"], "deputy", "approve", "เห็นควรอนุมัติ")
    assert response.status_code == 200
    assert response.json["state"] == "pending_4"
    with app.app_context():
        decision = db.session.exec(select(Decision).where(
            Decision.memo_id == demo["memo_id"], Decision.actor_id == user_id(app, "deputy"))).one()
        assert (decision.step_no, decision.through_step) == (2, 3)
        assert decision.signature_lines() == ["รองปลัดองค์การบริหารส่วนตำบลท่าตูม",
                                              f"รักษาราชการแทน{PERMSEC}"]
        steps = db.session.exec(select(MemoStep).where(
            MemoStep.memo_id == demo["memo_id"]).order_by(col(MemoStep.step_no))).all()
        assert [s.status for s in steps] == ["approved", "approved", "approved", "pending"]
    assert api.act(demo["memo_id"], "chief", "approve", "อนุมัติ").json["state"] == "approved"


def test_an_acting_officer_never_approves_their_own_memo(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    add_finance_director(app)
    appoint(app, "finance")
    api.token("finance", "Kl@ng-Dee-2569")
    created = api.call("POST", "/memos", "finance", json={
        "subject": "ขออนุมัติเบิกจ่าย", "addressee": "นายก", "body": "<p>x</p>"})
    memo_id = created.json["id"]
    assert api.act(memo_id, "finance", "submit").status_code == 200
    for signer in ("head", "deputy"):
        assert api.act(memo_id, signer, "approve", "เพื่อโปรดพิจารณา").status_code == 200
    refused = api.act(memo_id, "finance", "approve", "อนุมัติ")
    assert refused.status_code == 403 and refused.json["error"] == "own_memo"
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.state == "pending_3"


def be(day: date) -> str:
    """A date as a Thai office types it: day/month/Buddhist year."""
    return f"{day.day}/{day.month}/{day.year + 543}"


def test_bad_appointments_are_refused(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    with app.app_context():
        today = office_today()
    base = {"position_id": str(position_id(app, PERMSEC)),
            "acting_user_id": str(user_id(app, "deputy")), "capacity": "acting",
            "starts_on": be(today), "ends_on": be(today + timedelta(days=14)),
            "order_no": "๑/๒๕๖๙"}
    cases = [({"order_no": ""}, "กรุณากรอกเลขที่คำสั่งแต่งตั้ง", 422),
             ({"ends_on": be(today - timedelta(days=1))}, "วันสิ้นสุดต้องไม่ก่อนวันเริ่ม", 422),
             ({"starts_on": "31/02/2569"}, "วันเริ่มไม่ถูกต้อง", 422),
             ({"acting_user_id": str(user_id(app, "permsec"))}, "ไม่ต้องรักษาราชการแทนตำแหน่งของตนเอง",
              422),
             ({"capacity": "boss"}, "ไม่รู้จักฐานะนี้", 422),
             ({"position_id": "999999"}, "ไม่พบตำแหน่งนี้", 404)]
    for change, message, status in cases:
        response = admin.post("/appointments", data={**base, **change})
        assert response.status_code == status, change
        assert message in response.get_data(as_text=True), change
    with app.app_context():
        assert not db.session.exec(select(Appointment)).all()
    assert admin.post("/appointments", data=base).status_code == 302
    overlap = admin.post("/appointments", data={
        **base, "starts_on": be(today + timedelta(days=10)),
        "ends_on": be(today + timedelta(days=20))})
    assert overlap.status_code == 409
    # a clerk may not appoint anyone
    assert login(app, "clerk").post("/appointments", data=base).status_code == 403


def test_holders_may_appoint_for_their_own_post_where_the_office_allows(
        app: Flask, demo: dict[str, int]) -> None:
    from workflow.models import Organization

    data = {"position_id": str(position_id(app, PERMSEC)),
            "acting_user_id": str(user_id(app, "deputy")), "capacity": "deputizing",
            "starts_on": date.today().isoformat(), "ends_on": date.today().isoformat(),
            "order_no": "๒/๒๕๖๙"}
    permsec = login(app, "permsec")
    assert permsec.post("/appointments", data=data).status_code == 403
    with app.app_context(), db.write() as session:
        org = session.get(Organization, demo["org_id"])
        assert org is not None
        org.holders_may_appoint = True
    assert permsec.post("/appointments", data=data).status_code == 302
    chief_post = {**data, "position_id": str(position_id(app, "นายกองค์การบริหารส่วนตำบลท่าตูม"))}
    assert permsec.post("/appointments", data=chief_post).status_code == 403


def test_the_route_card_names_who_signed_not_who_holds_the_post_now(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    to_step(api, demo["memo_id"], 2)
    admin = login(app, "admin")
    head_position = position_id(app, "หัวหน้าสำนักปลัด")
    admin.post(f"/admin/positions/{head_position}",
               data={"title": "หัวหน้าสำนักปลัด", "holder_id": str(user_id(app, "clerk"))})
    with app.app_context():
        viewer = db.session.get(User, user_id(app, "admin"))
        assert viewer is not None
        view = queries.get_memo(principal_for(db.session, viewer), demo["memo_id"])
        assert view.steps[0].holder_name == "นางสาวอิสริย์ ผดุงทศ"  # who signed, not the clerk


def test_route_and_position_ids_are_checked_against_the_office(
        app: Flask, demo: dict[str, int]) -> None:
    from workflow.errors import NotFound

    with app.app_context():
        admin = db.session.get(User, user_id(app, "admin"))
        assert admin is not None
        principal = principal_for(db.session, admin)
        with pytest.raises(NotFound, match="User not found"):
            positions.save_position(principal=principal, position_id=None, title="ใหม่",
                                    holder_id=987654)
        assert db.session.exec(select(Position).where(Position.title == "ใหม่")).first() is None


def test_the_profile_shows_positions_appointments_and_settings(
        app: Flask, demo: dict[str, int]) -> None:
    add_finance_director(app)
    appoint(app, "finance")
    page = html.unescape(login(app, "finance", "Kl@ng-Dee-2569").get("/account").get_data(
        as_text=True))
    assert "ผู้อำนวยการกองการศึกษา" in page
    assert f"รักษาราชการแทน{PERMSEC}" in page and "๑๒๓/๒๕๖๙" in page
    assert "อีเมลทุกเรื่องที่เข้ามา" in page and "ออกจากระบบทุกเครื่อง" in page
    holder_page = login(app, "permsec").get("/account").get_data(as_text=True)
    assert "นายประหยัด คลังดี" in holder_page  # the holder sees who acts for them


def test_while_deputizing_the_present_holder_still_decides(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    """ปฏิบัติราชการแทน with the holder present: both see the memo and either may sign."""
    add_finance_director(app)
    appoint(app, "finance", capacity="deputizing", absent=False)
    to_step(api, demo["memo_id"], 3)
    for username, password in (("permsec", "demo"), ("finance", "Kl@ng-Dee-2569")):
        waiting = login(app, username, password).get("/inbox?tab=waiting").get_data(as_text=True)
        assert f"/memos/{demo['memo_id']}" in waiting, username
    with app.app_context():
        emails = {n.email for n in db.session.exec(select(Notification).where(
            Notification.kind == NotificationKind.ARRIVAL,
            Notification.memo_id == demo["memo_id"])).all()}
        assert {"permsec@example.com", "finance@example.com"} <= emails
    response = api.act(demo["memo_id"], "permsec", "approve", "อนุมัติ")
    assert response.status_code == 200 and response.json["state"] == "pending_4"
    with app.app_context():
        decision = db.session.exec(select(Decision).where(
            Decision.actor_id == user_id(app, "permsec"))).one()
        assert decision.signature_lines() == [PERMSEC] and decision.appointments == ""


# -- review findings: each a regression test ---------------------------------------------------


def test_a_holder_cannot_end_the_admins_order_that_they_are_away(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    from workflow.models import Organization

    add_finance_director(app)
    appoint(app, "finance")
    with app.app_context(), db.write() as session:
        org = session.get(Organization, demo["org_id"])
        assert org is not None
        org.holders_may_appoint = True
    with app.app_context():
        appointment = db.session.exec(select(Appointment)).one()
    permsec = login(app, "permsec")
    assert f"/appointments/{appointment.id}/end" not in permsec.get("/appointments").get_data(
        as_text=True)
    assert permsec.post(f"/appointments/{appointment.id}/end").status_code == 403
    to_step(api, demo["memo_id"], 3)
    assert api.act(demo["memo_id"], "permsec", "approve", "อนุมัติ").status_code == 403


def test_a_drafter_acting_for_a_step_is_not_counted_as_its_signer(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    add_finance_director(app)
    appoint(app, "finance")
    api.token("finance", "Kl@ng-Dee-2569")
    memo_id = api.call("POST", "/memos", "finance", json={
        "subject": "ขออนุมัติเบิกจ่าย", "addressee": "นายก", "body": "<p>x</p>"}).json["id"]
    api.act(memo_id, "finance", "submit")
    for signer in ("head", "deputy"):
        assert api.act(memo_id, signer, "approve", "เพื่อโปรดพิจารณา").status_code == 200
    # Nobody but the drafter could decide here: the memo shows it, the hub lists it.
    page = login(app, "admin").get(f"/memos/{memo_id}").get_data(as_text=True)
    assert "ต้องแต่งตั้งผู้รักษาราชการแทน" in page
    hub = login(app, "admin").get("/admin").get_data(as_text=True)
    assert f"{PERMSEC} — ๑ เรื่อง" in hub
    refused = api.act(memo_id, "finance", "send_back", "แก้ไขตัวเลข")
    assert refused.status_code == 403 and refused.json["error"] == "own_memo"
    with app.app_context():  # the drafter is not sent their own memo to decide
        arrivals = db.session.exec(select(Notification).where(
            Notification.memo_id == memo_id, Notification.kind == NotificationKind.ARRIVAL)).all()
        assert "finance@example.com" not in {n.email for n in arrivals}


def test_a_vacant_post_with_waiting_memos_is_listed(app: Flask, demo: dict[str, int],
                                                    api: ApiClient) -> None:
    to_step(api, demo["memo_id"], 2)
    admin = login(app, "admin")
    deputy_post = position_id(app, "รองปลัดองค์การบริหารส่วนตำบลท่าตูม")
    admin.post(f"/admin/positions/{deputy_post}",
               data={"title": "รองปลัดองค์การบริหารส่วนตำบลท่าตูม", "holder_id": ""})
    hub = admin.get("/admin").get_data(as_text=True)
    assert "รองปลัดองค์การบริหารส่วนตำบลท่าตูม — ๑ เรื่อง" in hub


@pytest.mark.parametrize("path,field", [
    ("/admin/routes/new", "steps"), ("/admin/positions", "holder_id"),
    ("/appointments", "position_id"), ("/appointments", "acting_user_id")])
def test_huge_ids_are_refused_not_crashed_on(app: Flask, demo: dict[str, int], path: str,
                                             field: str) -> None:
    data = {"name": "x", "title": "ตำแหน่งใหม่", "position_id": "1", "acting_user_id": "1",
            "starts_on": "1/12/2569", "ends_on": "2/12/2569", "order_no": "๑/๒๕๖๙",
            "capacity": "acting", field: "99999999999999999999"}
    response = login(app, "admin").post(path, data=data)
    assert response.status_code == 422
    assert "ค่าที่เลือกไม่ถูกต้อง" in response.get_data(as_text=True)


@pytest.mark.parametrize("path,data", [
    ("/admin/users", {"username": "bel", "full_name": "นาย\x07กริ่ง", "email": "z@example.com"}),
    ("/admin/positions", {"title": "ตำแหน่ง\x1bใหม่"}),
    ("/admin/routes/new", {"name": "สาย\x07ใหม่", "steps": ["1"]}),
])
def test_control_characters_are_refused_in_thai(app: Flask, demo: dict[str, int], path: str,
                                                data: dict[str, Any]) -> None:
    admin = login(app, "admin")
    response = admin.post(path, data=data)
    assert response.status_code == 422
    assert "มีอักขระที่ใช้ไม่ได้" in response.get_data(as_text=True)
    # NUL, which PostgreSQL cannot even store, is refused before any view runs.
    nul = {k: v.replace("\x07", "\x00").replace("\x1b", "\x00") if isinstance(v, str) else v
           for k, v in data.items()}
    response = admin.post(path, data=nul)
    assert response.status_code == 400
    assert "อักขระที่ใช้ไม่ได้ (NUL)" in response.get_data(as_text=True)


def test_nul_is_refused_everywhere_even_before_login(app: Flask, demo: dict[str, int],
                                                     api: ApiClient) -> None:
    anonymous = app.test_client()
    assert anonymous.post("/password/forgot", data={"login": "clerk\x00"}).status_code == 400
    assert anonymous.post("/login", data={"username": "clerk\x00", "password": "x"}
                          ).status_code == 400
    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ทดสอบ", "addressee": "นายก", "body": "<p>a\u0000b</p>"})
    assert created.status_code == 400 and created.json["error"] == "nul_character"


def test_csv_edge_cases_are_reported_not_crashed_on(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    huge = b"username,full_name,email\nanan," + b"x" * 140_000 + b",a@example.com\n"
    page = html.unescape(upload(admin, huge).get_data(as_text=True))
    assert "อ่านบรรทัดนี้ในรูปแบบ CSV ไม่ได้" in page
    nul = "username,full_name,email\nanan,นาย\x00อนันต์,a@example.com\n".encode()
    response = upload(admin, nul)
    assert response.status_code == 422 and "มีอักขระที่ใช้ไม่ได้" in response.get_data(as_text=True)
    # A quoted cell with a line break: the bad email is reported on its own file line, 4.
    multi = ('username,full_name,email\nanan,"นายอนันต์\nหนึ่ง",a@example.com\n'
             "somsri,นางสมศรี สอง,bad-email\n").encode()
    page = upload(admin, multi).get_data(as_text=True)
    assert "<td>๔</td>" in page and "อีเมลไม่ถูกต้อง" in page


def test_an_acting_officer_reads_only_what_waits_at_the_post_now(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    to_step(api, demo["memo_id"], 4)  # already past the permanent secretary
    add_finance_director(app)
    appoint(app, "finance")
    finance = login(app, "finance", "Kl@ng-Dee-2569")
    assert finance.get(f"/memos/{demo['memo_id']}").status_code == 403
    assert f"/memos/{demo['memo_id']}" not in finance.get("/inbox?tab=all").get_data(as_text=True)


def test_a_draft_keeps_its_retired_route_when_edited(app: Flask, demo: dict[str, int],
                                                     api: ApiClient) -> None:
    admin = login(app, "admin")
    head = position_id(app, "หัวหน้าสำนักปลัด")
    admin.post("/admin/routes/new", data={"name": "สายพิเศษ", "steps": [str(head)]})
    with app.app_context():
        route = db.session.exec(select(Route).where(Route.name == "สายพิเศษ")).one()
    memo_id = api.call("POST", "/memos", "clerk", json={
        "subject": "ร่าง", "addressee": "นายก", "route_id": route.id}).json["id"]
    assert admin.post(f"/admin/routes/{route.id}/retire").status_code == 302
    clerk = login(app, "clerk")
    editor = clerk.get(f"/memos/{memo_id}/edit").get_data(as_text=True)
    assert "สายพิเศษ — ยกเลิกการใช้แล้ว" in editor
    response = clerk.post(f"/memos/{memo_id}/edit", data={
        "subject": "ร่าง แก้ไข", "addressee": "นายก", "urgency": "normal", "body": "<p>x</p>",
        "route_id": str(route.id)})
    assert response.status_code == 302
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.route_id == route.id and memo.subject == "ร่าง แก้ไข"
    # A new memo cannot pick it.
    refused = api.call("POST", "/memos", "clerk", json={
        "subject": "ใหม่", "addressee": "นายก", "route_id": route.id})
    assert refused.status_code == 422


def test_an_appointment_period_is_bounded(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    base = {"position_id": str(position_id(app, PERMSEC)),
            "acting_user_id": str(user_id(app, "deputy")), "capacity": "acting",
            "order_no": "๑/๒๕๖๙"}
    with app.app_context():
        today = office_today()
    long = admin.post("/appointments", data={**base, "starts_on": be(today),
                                             "ends_on": be(today + timedelta(days=3 * 365))})
    assert long.status_code == 422 and "ยาวเกิน ๒ ปี" in long.get_data(as_text=True)
    old = admin.post("/appointments", data={**base, "starts_on": "1/1/2300",
                                            "ends_on": "2/1/2300"})
    assert old.status_code == 422 and "ห่างจากวันนี้เกิน ๑ ปี" in old.get_data(as_text=True)


def test_no_invitation_for_a_deactivated_account(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    deputy = user_id(app, "deputy")
    admin.post(f"/admin/users/{deputy}/deactivate")
    assert admin.post(f"/admin/users/{deputy}/invite").status_code == 409


def test_the_audit_page_shows_what_an_admin_changed(app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    admin.post(f"/admin/users/{user_id(app, 'clerk')}", data={
        "full_name": "นางสาวพิมพ์ชนก ศรีสุขใจ", "email": "clerk@example.com", "roles": ["clerk"]})
    page = html.unescape(login(app, "auditor").get("/audit?action=admin_change").get_data(
        as_text=True))
    assert "แก้ไขผู้ใช้" in page
    assert "นางสาวพิมพ์ชนก ศรีสุข" in page and "นางสาวพิมพ์ชนก ศรีสุขใจ" in page


def test_a_stale_admin_tab_cannot_overwrite_another_admins_change(
        app: Flask, demo: dict[str, int]) -> None:
    import re

    head_post = position_id(app, "หัวหน้าสำนักปลัด")
    first, second = login(app, "admin"), login(app, "admin")
    pages = {path: first.get(path).get_data(as_text=True) for path in (
        f"/admin/positions/{head_post}", f"/admin/users/{user_id(app, 'clerk')}",
        f"/admin/routes/{demo['route_id']}")}
    seen = {path: re.search(r'name="seen" type="hidden" value="([^"]+)"', page)
            for path, page in pages.items()}
    assert all(seen.values()), seen
    # Another admin changes each record in the meantime …
    second.post(f"/admin/positions/{head_post}", data={"title": "หัวหน้าสำนักปลัด (ใหม่)",
                                                       "holder_id": str(user_id(app, "head"))})
    second.post(f"/admin/users/{user_id(app, 'clerk')}", data={
        "full_name": "นางสาวพิมพ์ชนก ศรีสุข", "email": "new@example.com", "roles": ["clerk"]})
    second.post(f"/admin/routes/{demo['route_id']}", data={
        "name": "สายใหม่", "is_default": "y", "steps": [str(head_post)]})
    # … and the first admin's stale forms are refused, each record as the second left it.
    stale = [
        first.post(f"/admin/positions/{head_post}", data={
            "title": "หัวหน้าสำนักปลัด", "holder_id": "", "seen": seen[
                f"/admin/positions/{head_post}"].group(1)}),  # type: ignore[union-attr]
        first.post(f"/admin/users/{user_id(app, 'clerk')}", data={
            "full_name": "x y", "email": "old@example.com", "roles": ["clerk"],
            "seen": seen[f"/admin/users/{user_id(app, 'clerk')}"].group(1)}),  # type: ignore[union-attr]
        first.post(f"/admin/routes/{demo['route_id']}", data={
            "name": "สายเก่า", "is_default": "y", "steps": [str(head_post)],
            "seen": seen[f"/admin/routes/{demo['route_id']}"].group(1)}),  # type: ignore[union-attr]
    ]
    for response in stale:
        assert response.status_code == 409
        assert "ถูกแก้ไขโดยผู้อื่น" in response.get_data(as_text=True)
    with app.app_context():
        position = db.session.get(Position, head_post)
        clerk = db.session.get(User, user_id(app, "clerk"))
        route = db.session.get(Route, demo["route_id"])
        assert position is not None and position.title == "หัวหน้าสำนักปลัด (ใหม่)"
        assert clerk is not None and clerk.email == "new@example.com"
        assert route is not None and route.name == "สายใหม่"


def invitation_link(app: Flask, email: str) -> str:
    import re

    with app.app_context():
        row = db.session.exec(select(Notification).where(
            Notification.kind == NotificationKind.PASSWORD_RESET, Notification.email == email)
            .order_by(col(Notification.id).desc())).first()
        assert row is not None
        found = re.search(r"(/password/reset/[A-Za-z0-9_-]+)", row.body_text)
        assert found is not None
        return found.group(1)


def test_an_invitation_to_a_mistyped_address_dies_when_the_address_is_corrected(
        app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    admin.post("/admin/users", data={"username": "newbie", "full_name": "นายใหม่ มาก่อน",
                                     "email": "newbie@exampel.com", "roles": ["clerk"]})
    typo_link = invitation_link(app, "newbie@exampel.com")
    assert app.test_client().get(typo_link).status_code == 200
    admin.post(f"/admin/users/{user_id(app, 'newbie')}", data={
        "full_name": "นายใหม่ มาก่อน", "email": "newbie@example.com", "roles": ["clerk"]})
    assert app.test_client().get(typo_link).status_code == 410
    # The admin sends a fresh one; the invitation is recorded as the admin's act.
    assert admin.post(f"/admin/users/{user_id(app, 'newbie')}/invite").status_code == 302
    assert app.test_client().get(invitation_link(app, "newbie@example.com")).status_code == 200
    with app.app_context():
        event = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.PASSWORD_RESET_REQUESTED).order_by(
            col(AuditEvent.seq).desc())).first()
        assert event is not None and event.actor_name == "นายธนพล รักษ์ระบบ"
        assert json.loads(event.details)["for_username"] == "newbie"


def test_someone_asking_a_reset_does_not_cut_short_an_invitation(
        app: Flask, demo: dict[str, int]) -> None:
    login(app, "admin").post("/admin/users", data={
        "username": "newbie", "full_name": "นายใหม่ มาก่อน", "email": "newbie@example.com",
        "roles": ["clerk"]})
    invitation = invitation_link(app, "newbie@example.com")
    app.test_client().post("/password/forgot", data={"login": "newbie"})
    assert app.test_client().get(invitation).status_code == 200
    assert invitation_link(app, "newbie@example.com") != invitation  # a reset link was sent too


def test_a_position_is_retired_and_restored_on_the_positions_page(
        app: Flask, demo: dict[str, int]) -> None:
    admin = login(app, "admin")
    admin.post("/admin/positions", data={"title": "นักวิชาการศึกษา", "holder_id": ""})
    spare = position_id(app, "นักวิชาการศึกษา")
    head = position_id(app, "หัวหน้าสำนักปลัด")
    done = admin.post(f"/admin/positions/{spare}/retire", follow_redirects=True)
    assert "ยกเลิกตำแหน่งแล้ว" in done.get_data(as_text=True)
    page = admin.get("/admin/positions").get_data(as_text=True)
    assert "นักวิชาการศึกษา <strong>(ยกเลิกแล้ว)</strong>" in page
    assert f'value="{spare}"' not in admin.get("/admin/routes/new").get_data(as_text=True)
    in_use = admin.post(f"/admin/positions/{head}/retire", follow_redirects=True)
    assert "ยังอยู่ในสายการเสนอ" in in_use.get_data(as_text=True)
    back = admin.post(f"/admin/positions/{spare}/restore", follow_redirects=True)
    assert "นำตำแหน่งกลับมาใช้แล้ว" in back.get_data(as_text=True)
