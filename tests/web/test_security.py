"""Cross-cutting: CSRF, POST-only changes and security headers hold for every form, path and answer.

Security of the web pages and the API as a whole: a CSRF token on every form, state changes
only by POST, 405s that say what is allowed, and CSP and nosniff on every kind of response.
Signing in itself (passwords, sessions, cookies, rate limits, deactivation, redirects) is
``tests/identity/test_sign_in.py``, whose helpers this suite shares."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from tests.identity.test_sign_in import (
    api_error,
    api_login,
    auth_sessions,
    error_page,
    memo_row,
    seeded,
    signed_in,
)
from tests.support.headers import hardening_problems
from workflow.extensions import db
from workflow.models import Memo

CSRF_FAILED = "แบบฟอร์มหมดอายุหรือไม่ถูกต้อง กรุณาเปิดหน้าใหม่แล้วลองอีกครั้ง (ข้อมูลที่บันทึกไว้แล้วไม่สูญหาย)"
NOT_ALLOWED = "ไม่รองรับวิธีการเรียกนี้"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


# -- helpers ------------------------------------------------------------------------------------


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a page."""
    match = CSRF_INPUT.search(html)
    assert match, "no csrf_token input on the page"
    return match.group(1)

def csrf_login(client: FlaskClient, username: str, password: str = "demo",
               **fields: str) -> Any:
    """Log in the way a browser does: GET the form, then POST it with its CSRF token."""
    token = csrf_token(client.get("/login").text)
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": token, **fields})

def memo_count(app: Flask) -> int:
    """How many memos there are."""
    with app.app_context(), Session(db.engine) as session:
        return len(session.exec(select(Memo.id)).all())


# -- CSRF ---------------------------------------------------------------------------------------


def _foreign_token(app: Flask) -> str:
    """A genuine CSRF token, but of another browser's session."""
    return csrf_token(app.test_client().get("/login").text)

@pytest.mark.parametrize("token", ["missing", "garbage", "foreign"])
@pytest.mark.parametrize("target", ["login", "new", "act", "logout"])
def test_post_without_a_valid_csrf_token_is_400_and_changes_nothing(make_app, target, token):
    """POSTs without the session's CSRF token get the Thai 400 page and change nothing."""
    app, demo = seeded(make_app, WTF_CSRF_ENABLED=True)
    memo_id = demo["memo_id"]
    client = app.test_client()
    if target != "login":
        assert csrf_login(client, "clerk").status_code == 302
    sessions = auth_sessions(app, demo["user_clerk"])
    memo, count = memo_row(app, memo_id), memo_count(app)
    path, data = {
        "login": ("/login", {"username": "clerk", "password": "demo"}),
        "new": ("/memos/new", {"subject": "เรื่องปลอม", "addressee": "นายก", "urgency": "normal",
                               "intent": "submit"}),
        "act": (f"/memos/{memo_id}/act", {"action": "submit", "version": "1"}),
        "logout": ("/logout", {}),
    }[target]
    if token == "garbage":
        data["csrf_token"] = "IjEyMzQ1Njc4OTAi.Zz-abc.not-a-real-signature"
    elif token == "foreign":
        data["csrf_token"] = _foreign_token(app)
    error_page(client.post(path, data=data), 400, CSRF_FAILED)
    assert auth_sessions(app, demo["user_clerk"]) == sessions
    assert memo_row(app, memo_id) == memo
    assert memo_count(app) == count
    assert signed_in(client) is (target != "login")

def test_proper_csrf_flow_works(make_app):
    """Reading each form's csrf_token and posting it back logs in, drafts, submits, logs out."""
    app, demo = seeded(make_app, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = csrf_login(client, "clerk")
    assert response.status_code == 302
    assert signed_in(client)

    form = client.get("/memos/new").text
    response = client.post("/memos/new", data={
        "csrf_token": csrf_token(form), "subject": "ขออนุญาตใช้ห้องประชุม",
        "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม", "urgency": "urgent",
        "body": "<p>เนื้อหา</p>", "intent": "save"})
    assert response.status_code == 302
    memo_id = int(re.search(r"/memos/(\d+)", response.headers["Location"]).group(1))

    page = client.get(f"/memos/{memo_id}").text
    action_form = page[page.index("data-action-form"):]
    response = client.post(f"/memos/{memo_id}/act", data={
        "csrf_token": csrf_token(action_form), "action": "submit", "version": "1"})
    assert response.status_code == 302
    assert memo_row(app, memo_id)["state"] == "pending_1"

    token = csrf_token(client.get("/inbox").text)  # the logout button's form
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert not signed_in(client)
    assert [s.revoked_at is not None for s in auth_sessions(app, demo["user_clerk"])] == [True]

def test_api_needs_no_csrf_token(make_app):
    """The API is exempt from CSRF: it authenticates with bearer tokens browsers never send."""
    app, demo = seeded(make_app, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    token = api_login(client, "clerk").get_json()["token"]
    response = client.post(f"/api/v1/memos/{demo['memo_id']}/actions", json={"action": "submit"},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


# -- state changes only by POST -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/memos/{memo_id}/act?action=submit", "/logout"])
def test_state_changing_paths_refuse_get(app, client, auth, demo, path):
    """GET on /memos/<id>/act and /logout is 405 with the Thai page, and changes nothing."""
    memo_id = demo["memo_id"]
    assert auth.login("clerk").status_code == 302
    before = memo_row(app, memo_id)
    error_page(client.get(path.format(memo_id=memo_id)), 405, NOT_ALLOWED)
    assert memo_row(app, memo_id) == before
    assert signed_in(client)
    assert [s.revoked_at for s in auth_sessions(app, demo["user_clerk"])] == [None]

@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/memos/{memo_id}/actions"),
    ("GET", "/api/v1/auth/token"),
    ("DELETE", "/api/v1/memos/{memo_id}"),
])
def test_api_wrong_method_is_405_json(app, api, demo, method, path):
    """The API answers an unsupported method with a 405 JSON error."""
    before = memo_row(app, demo["memo_id"])
    response = api.call(method, path.format(memo_id=demo["memo_id"]).removeprefix("/api/v1"),
                        "clerk")
    api_error(response, 405, "method_not_allowed", NOT_ALLOWED)
    assert memo_row(app, demo["memo_id"]) == before

def test_405_says_which_methods_are_allowed(client, auth, demo):
    """A 405 lists the allowed methods in its Allow header, for pages and the API."""
    assert auth.login("clerk").status_code == 302
    for path in (f"/memos/{demo['memo_id']}/act", "/logout", "/api/v1/auth/token"):
        allow = client.get(path).headers.get("Allow", "")
        assert "POST" in allow, path


# -- headers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "signed_in_as", "status"), [
    ("/login", None, 200),
    ("/inbox", "clerk", 200),
    ("/memos/{memo_id}", "clerk", 200),
    ("/memos/999999", "clerk", 404),
    ("/logout", "clerk", 405),
    ("/api/v1/openapi.json", None, 200),
    ("/api/v1/docs", None, 200),
    ("/api/v1/memos/999999", "clerk", 401),  # a page's cookie is no bearer token
    ("/audit", "clerk", 403),
    ("/api/v1/memos", None, 401),
    ("/static/app.js", None, 200),
])
def test_security_headers_on_every_kind_of_response(client, auth, demo, path, signed_in_as,
                                                     status):
    """Pages, error pages, JSON and static files carry CSP, nosniff, a Referrer-Policy and
    refuse framing; all but static files are no-store; none shows a stack trace."""
    if signed_in_as:
        assert auth.login(signed_in_as).status_code == 302
    with client.get(path.format(memo_id=demo["memo_id"])) as response:
        assert response.status_code == status
        problems = hardening_problems(status, response.headers, response.get_data(as_text=True),
                                      static=path.startswith("/static/"))
        assert not problems, problems


@pytest.mark.parametrize("path", ["/boom", "/api/v1/boom"])
def test_an_unexpected_error_is_a_thai_500_with_no_stack_trace(make_app, path):
    """A bug (here a view that raises) answers 500 with a Thai sentence, as a page or as the
    API's error body, with every security header and nothing of the trace."""
    app = make_app()

    def boom() -> str:
        raise RuntimeError("secret detail: /srv/app/workflow/memos.py line 42")

    app.add_url_rule(path, "boom", boom)
    with app.test_client() as client, client.get(path) as response:
        body = response.get_data(as_text=True)
        assert response.status_code == 500
        assert "secret detail" not in body and "RuntimeError" not in body
        problems = hardening_problems(200, response.headers, body)  # 500 expected here
        assert not problems, problems
        if path.startswith("/api/"):
            assert response.json["error"] == "internal_error"
            assert response.json["message"] and response.json["message_en"]
        else:
            assert "ระบบขัดข้อง" in body, body[:500]
