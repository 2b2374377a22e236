"""A user's own account: password change, live sessions, sign out everywhere, the first admin."""

from __future__ import annotations

from sqlmodel import select

from workflow.extensions import db
from workflow.models import AuditEvent, User


def test_change_password_needs_the_old_one_and_ends_other_sessions(app, demo, client, auth, api):
    """Old password required; afterwards the new one works, the old does not, and the API
    token and other browsers are signed out while this browser stays in."""
    token = api.token("clerk")
    other = app.test_client()
    other.post("/login", data={"username": "clerk", "password": "demo"})
    auth.login("clerk")

    wrong = client.post("/account/password", data={
        "old_password": "nope", "new_password": "ท่าตูม-2569-ใหม่", "confirm": "ท่าตูม-2569-ใหม่"})
    assert wrong.status_code == 401 and "รหัสผ่านเดิมไม่ถูกต้อง" in wrong.text
    short = client.post("/account/password", data={
        "old_password": "demo", "new_password": "short", "confirm": "short"})
    assert short.status_code == 422 and "อย่างน้อย 10 ตัวอักษร" in short.text
    mismatch = client.post("/account/password", data={
        "old_password": "demo", "new_password": "ท่าตูม-2569-ใหม่", "confirm": "อื่น-2569-ใหม่"})
    assert mismatch.status_code == 422 and "ไม่ตรงกัน" in mismatch.text

    done = client.post("/account/password", data={
        "old_password": "demo", "new_password": "ท่าตูม-2569-ใหม่", "confirm": "ท่าตูม-2569-ใหม่"})
    assert done.status_code == 302
    assert client.get("/inbox").status_code == 200  # this browser stays signed in
    assert other.get("/inbox").status_code == 302  # the other one is out
    assert api.client.get("/api/v1/memos",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 401
    auth.logout()
    assert auth.login("clerk").status_code == 401
    assert auth.login("clerk", "ท่าตูม-2569-ใหม่").status_code == 302
    with app.app_context():
        actions = [e.action for e in db.session.exec(select(AuditEvent)).all()]
    assert "password_changed" in actions


def test_sign_out_everywhere_ends_every_session(app, demo, client, auth, api):
    """The profile lists live sessions; signing out everywhere ends all of them."""
    token = api.token("head")
    auth.login("head")
    page = client.get("/account")
    assert page.status_code == 200 and "(เครื่องนี้)" in page.text and "API" in page.text
    assert client.post("/account/sign-out-everywhere").status_code == 302
    assert client.get("/inbox").status_code == 302
    assert api.client.get("/api/v1/memos",
                          headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_create_admin_on_an_empty_database(app, runner, monkeypatch):
    """`flask create-admin` makes the office and its first administrator, who can sign in."""
    monkeypatch.setenv("ADMIN_PASSWORD", "ผู้ดูแล-อบต-2569")
    result = runner.invoke(args=["create-admin", "--username", "Somchai",
                                 "--full-name", "นายสมชาย ใจดี", "--email", "somchai@example.com",
                                 "--office", "องค์การบริหารส่วนตำบลทดสอบ"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.exec(select(User)).one()
    assert (user.username, user.roles) == ("somchai", "admin")
    client = app.test_client()
    assert client.post("/login", data={"username": "somchai",
                                       "password": "ผู้ดูแล-อบต-2569"}).status_code == 302
    again = runner.invoke(args=["create-admin", "--username", "somchai", "--full-name", "x",
                                "--email", "x@example.com"])
    assert again.exit_code != 0 and "มีชื่อผู้ใช้นี้แล้ว" in again.output
    monkeypatch.setenv("ADMIN_PASSWORD", "short")
    weak = runner.invoke(args=["create-admin", "--username", "other", "--full-name", "x",
                               "--email", "x@example.com"])
    assert weak.exit_code != 0 and "อย่างน้อย" in weak.output
