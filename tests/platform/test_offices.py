"""Many offices on one installation: sign-in per office, suspension, and the platform
administrator who creates and suspends offices."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func
from sqlmodel import col, select

from tests.factories import make_memo, make_office, make_user
from workflow import routing
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.memos import reminders
from workflow.models import (
    Appointment,
    Memo,
    Notification,
    NotificationStatus,
    Organization,
    Position,
    Role,
    Route,
    User,
)
from workflow.outbox import delivery
from workflow.platform import offices

PLATFORM_PASSWORD = "ผู้ดูแลกลาง-2569"


def _sign_in(client: Any, office: str, username: str, password: str = "demo") -> Any:
    client.post("/logout")
    return client.post("/login", data={"office": office, "username": username,
                                       "password": password})


def _token(client: Any, office: str, username: str, password: str = "demo") -> Any:
    return client.post("/api/v1/auth/token", json={"office": office, "username": username,
                                                   "password": password})


def test_two_offices_each_with_a_clerk_see_only_their_own(app: Flask) -> None:
    with app.app_context():
        seed_demo("alpha")
        seed_demo("beta")
        alpha_memo = db.session.exec(select(Memo).join(Organization).where(
            Organization.code == "alpha")).one()
    client = app.test_client()
    for office in ("alpha", "beta"):
        response = _token(client, office, "clerk")
        assert response.status_code == 201, response.json
        token = response.json["token"]
        listed = client.get("/api/v1/memos?box=mine",
                            headers={"Authorization": f"Bearer {token}"}).json["items"]
        assert len(listed) == 1
        assert (listed[0]["id"] == alpha_memo.id) == (office == "alpha")
        other = client.get(f"/api/v1/memos/{alpha_memo.id}",
                           headers={"Authorization": f"Bearer {token}"})
        assert other.status_code == (200 if office == "alpha" else 404)


def test_an_office_must_be_named_once_there_are_two_and_an_unknown_one_reads_as_a_wrong_password(
        app: Flask) -> None:
    with app.app_context():
        seed_demo("alpha")
    client = app.test_client()
    # One office: its people sign in as before, without a code.
    assert _token(client, "", "clerk").status_code == 201
    with app.app_context():
        seed_demo("beta")
    wrong_password = _token(client, "alpha", "clerk", "nope")
    unknown_office = _token(client, "gamma", "clerk")
    no_office = _token(client, "", "clerk")
    assert wrong_password.status_code == unknown_office.status_code == no_office.status_code == 401
    assert wrong_password.json == unknown_office.json == no_office.json
    assert "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง" in wrong_password.json["message"]
    # The login page now asks for the office, and remembers it after a sign-in.
    page = client.get("/login")
    assert 'name="office"' in page.get_data(as_text=True)
    assert _sign_in(client, " Alpha ", "clerk").status_code == 302
    client.post("/logout")
    assert 'value="alpha"' in client.get("/login").get_data(as_text=True)


def test_a_suspended_office_keeps_everything_and_comes_back(app: Flask) -> None:
    with app.app_context():
        seed_demo("alpha")
        with db.write() as session:
            org = session.exec(select(Organization).where(Organization.code == "alpha")).one()
            head = session.exec(select(User).where(User.username == "head")).one()
            memo = make_memo(session, drafter=session.exec(
                select(User).where(User.username == "clerk")).one(), state=routing.pending(1))
        org_id, memo_id = org.id or 0, memo.id
        pending_before = db.session.exec(select(func.count()).select_from(Notification).where(
            Notification.status == NotificationStatus.PENDING)).one()
        assert pending_before >= 1 and head.id
    client = app.test_client()
    token = _token(client, "alpha", "head").json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/memos", headers=auth).status_code == 200

    with app.app_context():
        offices.set_suspended(principal=None, org_id=org_id, suspended=True)
        # Emails wait: the sweep offers none of the office's, and a worker cannot claim one.
        assert delivery.sweep() == []
        waiting = db.session.exec(select(Notification.id).where(
            Notification.org_id == org_id)).first()
        assert waiting is not None and delivery.deliver(waiting) == "not-due-or-taken"
        assert reminders.queue_reminders() == []
    assert client.get("/api/v1/memos", headers=auth).status_code == 401  # at the next request
    refused = _token(client, "alpha", "head")
    assert refused.status_code == 403 and refused.json["error"] == "office_suspended"
    assert "ระงับ" in refused.json["message"]
    page = _sign_in(client, "alpha", "head")
    assert page.status_code == 403 and "ระงับการใช้งาน" in page.get_data(as_text=True)
    # ... but a wrong password in a suspended office is only a wrong password.
    assert _token(client, "alpha", "head", "nope").json["error"] == "bad_credentials"

    with app.app_context():
        assert db.session.get(Memo, memo_id) is not None
        assert db.session.exec(select(func.count()).select_from(Notification).where(
            Notification.status == NotificationStatus.PENDING)).one() == pending_before
        offices.set_suspended(principal=None, org_id=org_id, suspended=False)
        assert waiting in delivery.sweep()
    assert client.get("/api/v1/memos", headers=auth).status_code == 200
    assert _token(client, "alpha", "head").status_code == 201


def test_the_same_username_in_two_offices_is_two_people(app: Flask) -> None:
    with app.app_context(), db.write() as session:
        first, second = make_office(session), make_office(session)
        make_user(session, office=first, username="somchai")
        make_user(session, office=second, username="somchai")
        assert session.exec(select(func.count()).select_from(User).where(
            User.username == "somchai")).one() == 2


def test_platform_admin_creates_an_office_whose_admin_is_invited(app: Flask, runner: Any,
                                                                 monkeypatch: Any) -> None:
    monkeypatch.setenv("ADMIN_PASSWORD", PLATFORM_PASSWORD)
    made = runner.invoke(args=["create-platform-admin", "--username", "root1", "--full-name",
                               "นายกลาง ดูแลระบบ", "--email", "root1@example.com"])
    assert made.exit_code == 0, made.output
    client = app.test_client()
    assert _sign_in(client, "platform", "root1", PLATFORM_PASSWORD).status_code == 302
    assert client.get("/inbox").headers["Location"].endswith("/platform/")
    form = {"code": "thatoom", "name": "องค์การบริหารส่วนตำบลท่าตูม",
            "admin_username": "admin", "admin_full_name": "นายธนพล รักษ์ระบบ",
            "admin_email": "admin@thatoom.example"}
    assert client.post("/platform/", data=form).status_code == 302
    listing = client.get("/platform/").get_data(as_text=True)
    assert "thatoom" in listing and "องค์การบริหารส่วนตำบลท่าตูม" in listing
    with app.app_context():
        org = db.session.exec(select(Organization).where(Organization.code == "thatoom")).one()
        admin = db.session.exec(select(User).where(User.org_id == org.id)).one()
        assert admin.roles == Role.ADMIN and admin.password_hash.startswith("!")
        invitation = db.session.exec(select(Notification).where(
            Notification.recipient_id == admin.id)).one()
        assert "thatoom" in invitation.body_text and "/password/reset/" in invitation.body_text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("code", "ท่าตูม", "อักษรภาษาอังกฤษตัวเล็ก"),
    ("code", "tha toom", "ไม่มีช่องว่าง"),
    ("code", "platform", "สงวนไว้"),
    ("code", "alpha", "มีหน่วยงานรหัส alpha แล้ว"),
    ("admin_email", "not-an-email", "อีเมลไม่ถูกต้อง"),
])
def test_a_bad_new_office_is_refused_and_nothing_is_half_made(
        app: Flask, runner: Any, monkeypatch: Any, field: str, value: str, message: str) -> None:
    with app.app_context():
        seed_demo("alpha")
    monkeypatch.setenv("ADMIN_PASSWORD", PLATFORM_PASSWORD)
    assert runner.invoke(args=["create-platform-admin", "--username", "root1", "--full-name",
                               "นายกลาง ดูแลระบบ", "--email", "root1@example.com"]).exit_code == 0
    with app.app_context():
        counts = (db.session.exec(select(func.count()).select_from(Organization)).one(),
                  db.session.exec(select(func.count()).select_from(User)).one())
    client = app.test_client()
    assert _sign_in(client, "platform", "root1", PLATFORM_PASSWORD).status_code == 302
    form = {"code": "newoffice", "name": "องค์การบริหารส่วนตำบลใหม่", "admin_username": "admin",
            "admin_full_name": "นายใหม่ ดูแล", "admin_email": "admin@new.example", field: value}
    response = client.post("/platform/", data=form)
    assert response.status_code in (409, 422)
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert (db.session.exec(select(func.count()).select_from(Organization)).one(),
                db.session.exec(select(func.count()).select_from(User)).one()) == counts


def test_only_a_platform_admin_reaches_the_platform_page(app: Flask, auth: Any) -> None:
    with app.app_context():
        seed_demo()
    auth.login("admin")
    assert auth._client.get("/platform/").status_code == 403
    assert auth._client.post("/platform/offices/1/suspend").status_code == 403


def test_the_shell_creates_offices_and_demo_offices_side_by_side(app: Flask, runner: Any,
                                                                  monkeypatch: Any) -> None:
    seeded = runner.invoke(args=["seed-demo", "--office", "alpha"])
    assert seeded.exit_code == 0
    # The logins it prints name the office, and every demo person (make run prints the same).
    assert ("Demo logins (office alpha, password: demo): clerk, head, deputy, permsec, chief, "
            "kongklang, kongchang, admin, auditor") in seeded.output
    assert runner.invoke(args=["seed-demo", "--office", "beta"]).exit_code == 0
    monkeypatch.setenv("ADMIN_PASSWORD", "ผู้ดูแล-อบต-2569")
    made = runner.invoke(args=["create-office", "--code", "gamma", "--name", "อบต.แกมมา",
                               "--admin-username", "boss", "--admin-email", "boss@example.com"])
    assert made.exit_code == 0, made.output
    again = runner.invoke(args=["create-office", "--code", "gamma", "--name", "อบต.อื่น",
                                "--admin-username", "boss", "--admin-email", "b@example.com"])
    assert again.exit_code != 0 and "มีหน่วยงานรหัส gamma แล้ว" in again.output
    client = app.test_client()
    assert _sign_in(client, "alpha", "clerk").status_code == 302
    assert _sign_in(client, "beta", "clerk").status_code == 302
    assert _sign_in(client, "gamma", "boss", "ผู้ดูแล-อบต-2569").status_code == 302


def test_an_office_admin_cannot_reach_anothers_people_with_ids_typed_into_forms(
        app: Flask) -> None:
    """Ids of office A's people and posts, typed into office B's admin forms, are refused
    as missing, and nothing of A's ends up in B."""
    with app.app_context():
        alpha = seed_demo("alpha")
        seed_demo("beta")
        a_user, a_org = alpha["user_head"], alpha["org_id"]
        a_position = db.session.exec(select(Position.id).where(
            Position.org_id == a_org)).first()
    client = app.test_client()
    assert _sign_in(client, "beta", "admin").status_code == 302
    held = client.post("/admin/positions", data={"title": "ตำแหน่งใหม่", "holder_id": a_user})
    route = client.post("/admin/routes/new", data={"name": "สายใหม่", "steps": [a_position]})
    appointed = client.post("/appointments", data={
        "position_id": a_position, "acting_user_id": a_user, "capacity": "acting",
        "starts_on": "1/12/2569", "ends_on": "31/12/2569", "order_no": "๑/๒๕๖๙"})
    for response in (held, route, appointed):
        assert response.status_code in (404, 422), response.status_code
    with app.app_context():
        beta_org = db.session.exec(select(Organization.id).where(
            Organization.code == "beta")).one()
        assert db.session.exec(select(Position).where(
            Position.org_id == beta_org, Position.title == "ตำแหน่งใหม่")).first() is None
        assert db.session.exec(select(Route).where(Route.name == "สายใหม่")).first() is None
        assert db.session.exec(select(Appointment).where(
            Appointment.acting_user_id == a_user)).first() is None


def test_each_offices_register_and_audit_show_only_its_own(app: Flask) -> None:
    with app.app_context():
        seed_demo("alpha")
        seed_demo("beta")
    client = app.test_client()
    actors: dict[str, set[int]] = {}
    for office in ("alpha", "beta"):
        token = _token(client, office, "auditor").json["token"]
        auth = {"Authorization": f"Bearer {token}"}
        audit = client.get("/api/v1/audit", headers=auth)
        assert audit.status_code == 200
        actors[office] = {item["actor_id"] for item in audit.json["items"] if item["actor_id"]}
        assert _sign_in(client, office, "auditor").status_code == 302
        assert client.get("/register").status_code == 200
    with app.app_context():
        for office, people in actors.items():
            assert people
            offices_of = set(db.session.exec(select(Organization.code).join(
                User, User.org_id == Organization.id).where(col(User.id).in_(people))).all())
            assert offices_of == {office}


def test_beside_one_office_the_platform_admin_can_still_sign_in_on_the_page(
        app: Flask, runner: Any, monkeypatch: Any) -> None:
    with app.app_context():
        seed_demo()
    client = app.test_client()
    assert 'name="office"' not in client.get("/login").get_data(as_text=True)
    monkeypatch.setenv("ADMIN_PASSWORD", PLATFORM_PASSWORD)
    assert runner.invoke(args=["create-platform-admin", "--username", "root1", "--full-name",
                               "นายกลาง ดูแลระบบ", "--email", "root1@example.com"]).exit_code == 0
    assert 'name="office"' in client.get("/login").get_data(as_text=True)
    assert _sign_in(client, "", "clerk").status_code == 302  # empty: the one office
    assert _sign_in(client, "platform", "root1", PLATFORM_PASSWORD).status_code == 302
