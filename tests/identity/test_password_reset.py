"""Forgotten passwords: a one-time link by real email (aiosmtpd), the breached-password list,
expiry, single use under concurrency, no hint of which accounts exist, CSRF and rate limits."""

from __future__ import annotations

import hashlib
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, col, select

from workflow import clock
from workflow.extensions import db
from workflow.identity import passwords
from workflow.models import (
    AuditEvent,
    Notification,
    NotificationKind,
    NotificationStatus,
    PasswordReset,
    User,
)
from workflow.outbox import delivery
from workflow.trail.verify import verify_chain

SENT = "หากข้อมูลตรงกับบัญชีในระบบ ระบบได้ส่งลิงก์ตั้งรหัสผ่านใหม่ไปทางอีเมลแล้ว"
LINK_INVALID = "ลิงก์ตั้งรหัสผ่านใหม่นี้ใช้ไม่ได้"
CSRF_FAILED = "แบบฟอร์มหมดอายุหรือไม่ถูกต้อง"
TOO_MANY = "ทำรายการบ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่"
LINK = re.compile(r"http://localhost/password/reset/([A-Za-z0-9_-]+)")
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
NEW = "ท่าตูม-ตั้งใหม่-2569"


@pytest.fixture
def app(make_app: Any, smtp_server: Any) -> Flask:
    """The app sending mail to the aiosmtpd sink; no broker, so tests deliver by hand."""
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,  # type: ignore[no-any-return]
                    REDIS_URL="")


# -- helpers ------------------------------------------------------------------------------------


def ask(client: FlaskClient, login: str, **kwargs: Any) -> Any:
    """POST the forgot-password form."""
    return client.post("/password/forgot", data={"login": login}, **kwargs)


def reset_rows(app: Flask) -> list[Notification]:
    """The password-reset emails in the outbox, oldest first, read fresh."""
    with app.app_context(), Session(db.engine) as session:
        return list(session.exec(
            select(Notification).where(Notification.kind == NotificationKind.PASSWORD_RESET)
            .order_by(col(Notification.id))).all())


def queued_token(app: Flask) -> str:
    """The link's secret in the newest queued (not yet sent) reset email."""
    row = reset_rows(app)[-1]
    match = LINK.search(row.body_text)
    assert match, row.body_text
    return match.group(1)


def set_password(client: FlaskClient, token: str, password: str = NEW,
                 confirm: str | None = None, **kwargs: Any) -> Any:
    """POST the new-password form of a reset link."""
    return client.post(f"/password/reset/{token}", data={
        "new_password": password, "confirm": password if confirm is None else confirm},
                       **kwargs)


def logs_in(app: Flask, username: str, password: str) -> bool:
    """Whether a fresh browser can sign in with this password (GET the form, then POST it)."""
    browser = app.test_client()
    match = CSRF_INPUT.search(browser.get("/login").text)
    data = {"username": username, "password": password,
            **({"csrf_token": match.group(1)} if match else {})}
    return browser.post("/login", data=data).status_code == 302


def audit_events(app: Flask) -> list[AuditEvent]:
    with app.app_context(), Session(db.engine) as session:
        return list(session.exec(select(AuditEvent).order_by(col(AuditEvent.seq))).all())


def csrf_token(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token input on the page"
    return match.group(1)


# -- the whole path, by real email ------------------------------------------------------------


def test_reset_by_emailed_link(app, demo, client, api, smtp_server):
    """Ask, receive the real email, follow its link, set a password, sign in with it; every
    earlier session and API token ends, the link works once, the outbox forgets the link."""
    token_before = api.token("head")
    browser = app.test_client()
    assert browser.post("/login", data={"username": "head", "password": "demo"}).status_code == 302
    assert browser.get("/inbox").status_code == 200

    login_page = client.get("/login")
    assert 'href="/password/forgot"' in login_page.text and "ลืมรหัสผ่าน?" in login_page.text
    form = client.get("/password/forgot")
    assert form.status_code == 200 and "ชื่อผู้ใช้หรืออีเมล" in form.text
    answer = ask(client, "head")
    assert answer.status_code == 200 and SENT in answer.text

    [row] = reset_rows(app)
    assert row.status == NotificationStatus.PENDING and row.memo_id is None
    assert row.email == "head@example.com" and row.dedupe_key.startswith("password_reset:")
    with app.app_context():
        assert delivery.deliver(row.id) == "sent"
        assert delivery.deliver(row.id) == "not-due-or-taken"
    [message] = smtp_server.wait_for(1)
    assert "head@example.com" in str(message["To"])
    assert str(message["Subject"]) == "ตั้งรหัสผ่านใหม่ ระบบสารบรรณ องค์การบริหารส่วนตำบลท่าตูม"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "นางสาวอิสริย์ ผดุงทศ" in text and "๓๐ นาที" in text
    token = LINK.search(text).group(1)  # type: ignore[union-attr]
    assert f"http://localhost/password/reset/{token}" in html

    # Once sent, the outbox row no longer holds the live link; the database never did in clear.
    [sent] = reset_rows(app)
    assert sent.status == NotificationStatus.SENT
    assert (sent.body_text, sent.body_html) == ("", "")
    with app.app_context(), Session(db.engine) as session:
        [reset] = session.exec(select(PasswordReset)).all()
    assert reset.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert reset.used_at is None

    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 200 and "head" in page.text and "รหัสผ่านใหม่" in page.text
    mismatch = set_password(client, token, NEW, "อื่น-ตั้งใหม่-2569")
    assert mismatch.status_code == 422 and "ไม่ตรงกัน" in mismatch.text
    short = set_password(client, token, "short")
    assert short.status_code == 422 and "อย่างน้อย" in short.text
    same_as_name = set_password(client, token, "HEAD")
    assert same_as_name.status_code == 422
    breached = set_password(client, token, "Basketball")  # on the shipped list
    assert breached.status_code == 422 and "รั่วไหล" in breached.text

    done = set_password(client, token)
    assert done.status_code == 302 and done.headers["Location"].endswith("/login")
    assert "ตั้งรหัสผ่านใหม่แล้ว" in client.get("/login").text

    assert browser.get("/inbox").status_code == 302  # the old browser session is revoked
    assert api.client.get("/api/v1/memos", headers={
        "Authorization": f"Bearer {token_before}"}).status_code == 401
    assert not logs_in(app, "head", "demo")
    assert logs_in(app, "head", NEW)

    # The same link a second time: refused on sight and on submit, and nothing changes.
    again = client.get(f"/password/reset/{token}")
    assert again.status_code == 410 and LINK_INVALID in again.text
    reuse = set_password(client, token, "ลองอีกครั้ง-2569-ใหม่")
    assert reuse.status_code == 410 and LINK_INVALID in reuse.text
    assert logs_in(app, "head", NEW) and not logs_in(app, "head", "ลองอีกครั้ง-2569-ใหม่")

    events = audit_events(app)
    actions = [e.action for e in events]
    assert actions.count("password_reset_requested") == 1 and actions.count("password_reset") == 1
    done_event = next(e for e in events if e.action == "password_reset")
    assert '"sessions_ended":2' in done_event.details  # the browser and the API token
    assert all(token not in e.details + e.text for e in events)
    with app.app_context(), Session(db.engine) as session:
        assert verify_chain(session).ok


def test_the_email_login_is_case_insensitive_and_the_admin_outbox_hides_the_link(
        app, demo, client, auth):
    """An email address in any case finds the account; the admin's outbox never shows the link."""
    assert SENT in ask(client, "  Deputy@Example.COM ").text
    [row] = reset_rows(app)
    assert row.email == "deputy@example.com"
    token = queued_token(app)
    auth.login("admin")
    outbox = client.get("/admin/outbox")
    assert outbox.status_code == 200 and token not in outbox.text
    assert "ตั้งรหัสผ่านใหม่ ระบบสารบรรณ" in outbox.text


# -- no hint of which accounts exist ------------------------------------------------------------


def test_unknown_and_inactive_logins_get_the_same_answer(app, demo, client):
    """Known, unknown, inactive, email or username: the same page, and mail only for the one."""
    with app.app_context(), Session(db.engine) as session:
        auditor = session.get(User, demo["user_auditor"])
        assert auditor is not None
        auditor.is_active = False
        session.add(auditor)
        session.commit()

    answers = [ask(client, login) for login in
               ("clerk", "nobody", "nobody@example.com", "auditor", "auditor@example.com")]
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1 and SENT in answers[0].text
    assert [r.email for r in reset_rows(app)] == ["clerk@example.com"]

    outcomes = [e.details for e in audit_events(app) if e.action == "password_reset_requested"]
    assert len(outcomes) == 5
    assert sum('"outcome":"unknown"' in d for d in outcomes) == 2
    assert sum('"outcome":"inactive"' in d for d in outcomes) == 2

    empty = ask(client, "")
    assert empty.status_code == 422 and "กรุณากรอกชื่อผู้ใช้หรืออีเมล" in empty.text


# -- expiry, supersession, deactivation -------------------------------------------------------


def test_an_expired_link_is_refused(app, demo, client):
    """The link works until PASSWORD_RESET_MINUTES have passed, then never."""
    start = clock.now()
    clock.set_now(start)
    ask(client, "chief")
    token = queued_token(app)
    clock.set_now(start + timedelta(minutes=29))
    assert client.get(f"/password/reset/{token}").status_code == 200
    clock.set_now(start + timedelta(minutes=30, seconds=1))
    page = client.get(f"/password/reset/{token}")
    assert page.status_code == 410 and LINK_INVALID in page.text
    assert set_password(client, token).status_code == 410
    assert logs_in(app, "chief", "demo") and not logs_in(app, "chief", NEW)


def test_the_expiry_follows_the_setting(make_app):
    """PASSWORD_RESET_MINUTES shortens the link's life."""
    from workflow.demo.seed import seed_demo

    app = make_app(PASSWORD_RESET_MINUTES=5, REDIS_URL="")
    with app.app_context():
        seed_demo()
    client = app.test_client()
    start = clock.now()
    clock.set_now(start)
    ask(client, "clerk")
    assert "๕ นาที" in reset_rows(app)[-1].body_text
    token = queued_token(app)
    clock.set_now(start + timedelta(minutes=6))
    assert client.get(f"/password/reset/{token}").status_code == 410


def test_a_new_link_replaces_the_earlier_one(app, demo, client):
    """Only the newest link works; after it is used, neither does."""
    ask(client, "permsec")
    first = queued_token(app)
    ask(client, "permsec")
    second = queued_token(app)
    assert first != second
    assert client.get(f"/password/reset/{first}").status_code == 410
    assert set_password(client, first).status_code == 410
    assert set_password(client, second).status_code == 302
    assert logs_in(app, "permsec", NEW)


def test_a_deactivated_account_cannot_use_its_link(app, demo, client):
    """A link issued before the account was deactivated no longer works."""
    ask(client, "clerk")
    token = queued_token(app)
    with app.app_context(), Session(db.engine) as session:
        clerk = session.get(User, demo["user_clerk"])
        assert clerk is not None
        clerk.is_active = False
        session.add(clerk)
        session.commit()
    assert client.get(f"/password/reset/{token}").status_code == 410
    assert set_password(client, token).status_code == 410


@pytest.mark.parametrize("token", ["garbage", "x" * 500, "ลิงก์ปลอม", "' OR 1=1 --"])
def test_a_garbage_token_gets_the_thai_page(app, demo, client, token):
    """Any made-up link is a Thai 410 page with a way to ask again, never a 500."""
    for response in (client.get(f"/password/reset/{token}"), set_password(client, token)):
        assert response.status_code == 410
        assert LINK_INVALID in response.text and 'href="/password/forgot"' in response.text


# -- single use under concurrency ------------------------------------------------------------


def test_ten_simultaneous_uses_of_one_link_succeed_once(app, demo, client, live_server):
    """Ten browsers submit the same link at once, each a different password: exactly one wins."""
    ask(client, "deputy")
    token = queued_token(app)
    start = threading.Barrier(10)

    def submit(n: int) -> int:
        start.wait()
        password = f"พร้อมกัน-{n}-ตั้งใหม่"
        response = requests.post(f"{live_server}/password/reset/{token}",
                                 data={"new_password": password, "confirm": password},
                                 allow_redirects=False, timeout=60)
        return response.status_code

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(submit, range(10)))
    assert statuses.count(302) == 1, statuses
    assert set(statuses) <= {302, 410}, statuses
    winner = statuses.index(302)
    assert logs_in(app, "deputy", f"พร้อมกัน-{winner}-ตั้งใหม่")
    assert sum(logs_in(app, "deputy", f"พร้อมกัน-{n}-ตั้งใหม่") for n in range(10)) == 1
    assert [e.action for e in audit_events(app)].count("password_reset") == 1


# -- the breached-password list ---------------------------------------------------------------


def test_the_breached_list_is_shipped_and_case_insensitive():
    """At least ten thousand entries, read from the package; case and spaces do not matter."""
    assert len(passwords.common_passwords()) >= 10_000
    assert passwords.is_breached("password1")
    assert passwords.is_breached("PassWord1")
    assert passwords.is_breached(" qwertyuiop ")
    assert passwords.is_breached("1q2w3e4r5t")
    assert not passwords.is_breached(NEW)
    assert not passwords.is_breached("")
    assert not any(entry.startswith("#") for entry in passwords.common_passwords())


# -- CSRF and rate limits -----------------------------------------------------------------------


def test_both_forms_need_the_csrf_token(make_app):
    """Without the session's token the forms are refused with the Thai 400 page."""
    from workflow.demo.seed import seed_demo

    app = make_app(WTF_CSRF_ENABLED=True, REDIS_URL="")
    with app.app_context():
        seed_demo()
    client = app.test_client()
    refused = ask(client, "clerk")
    assert refused.status_code == 400 and CSRF_FAILED in refused.text
    assert reset_rows(app) == []
    token = csrf_token(client.get("/password/forgot").text)
    accepted = client.post("/password/forgot", data={"login": "clerk", "csrf_token": token})
    assert accepted.status_code == 200 and SENT in accepted.text

    link = queued_token(app)
    forged = set_password(client, link)
    assert forged.status_code == 400 and CSRF_FAILED in forged.text
    assert logs_in(app, "clerk", "demo")
    page = client.get(f"/password/reset/{link}")
    done = client.post(f"/password/reset/{link}", data={
        "new_password": NEW, "confirm": NEW, "csrf_token": csrf_token(page.text)})
    assert done.status_code == 302


def test_asking_is_rate_limited_per_address_and_per_account(make_app):
    """Five asks a minute from one address; three per account whatever the address."""
    from workflow.demo.seed import seed_demo

    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://", REDIS_URL="")
    with app.app_context():
        seed_demo()
    client = app.test_client()
    here = {"REMOTE_ADDR": "10.1.1.1"}
    assert [ask(client, f"nobody{n}", environ_base=here).status_code
            for n in range(5)] == [200] * 5
    too_many = ask(client, "nobody9", environ_base=here)
    assert too_many.status_code == 429 and TOO_MANY in too_many.text
    assert client.get("/password/forgot", environ_base=here).status_code == 200  # GET is free

    statuses = [ask(client, "clerk", environ_base={"REMOTE_ADDR": f"10.2.2.{n}"}).status_code
                for n in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert len(reset_rows(app)) == 3


# -- through the real broker and worker -----------------------------------------------------------


@pytest.mark.one_backend  # the worker on SQLite: tests/notifications/test_delivery.py
def test_the_worker_sends_the_link_and_blanks_the_row(notify_app, smtp_server, celery_processes):
    """After the commit the email goes to Celery; the worker sends it and blanks the body."""
    import time

    from workflow.demo.seed import seed_demo

    with notify_app.app_context():
        seed_demo()
    client = notify_app.test_client()
    assert SENT in ask(client, "clerk").text
    [message] = smtp_server.wait_for(1)
    assert "clerk@example.com" in str(message["To"])
    token = LINK.search(message.get_body(preferencelist=("plain",)).get_content()).group(1)  # type: ignore[union-attr]
    deadline = time.monotonic() + 10
    while reset_rows(notify_app)[0].status != NotificationStatus.SENT:
        assert time.monotonic() < deadline, "the worker did not mark the email sent"
        time.sleep(0.1)
    [row] = reset_rows(notify_app)
    assert (row.body_text, row.body_html) == ("", "")
    assert set_password(client, token).status_code == 302
    assert logs_in(notify_app, "clerk", NEW)
