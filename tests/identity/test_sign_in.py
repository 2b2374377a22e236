"""Signing in and staying signed in: argon2id hashes, a fresh session secret per login, cookie
flags, login rate limits per username and per IP, the same answer for every wrong login,
deactivation, and a ``next`` that never leaves the site, on the web form and the API."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlmodel import Session, select

from workflow.demo.seed import PEOPLE, seed_demo
from workflow.extensions import db
from workflow.identity.passwords import hash_password
from workflow.models import AuthSession, Memo, User

BAD_CREDENTIALS = "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง"
TOO_MANY = "ทำรายการบ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่"


# -- helpers (tests/web/test_security.py shares them) -------------------------------------------


def seeded(make_app: Any, **config: Any) -> tuple[Flask, dict[str, int]]:
    """An app with ``config`` on the test database, and the demo office in it."""
    app: Flask = make_app(**config)
    with app.app_context():
        return app, seed_demo()


def post_login(client: FlaskClient, username: str, password: str = "demo", *,
               remember: bool = False, **kwargs: Any) -> Any:
    """POST the login form (no CSRF token: for apps where CSRF is off)."""
    data = {"username": username, "password": password}
    if remember:
        data["remember"] = "y"
    return client.post("/login", data=data, **kwargs)

def api_login(client: FlaskClient, username: str, password: str = "demo",
              **kwargs: Any) -> Any:
    """POST /api/v1/auth/token."""
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       **kwargs)

def error_page(response: Any, status: int, message: str) -> str:
    """The Thai error page of a refusal, which must show ``message``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    page = response.get_data(as_text=True)
    assert f'data-status="{status}"' in page, page
    assert f"<p>{message}</p>" in page, page
    return page

def api_error(response: Any, status: int, code: str, message: str) -> dict[str, Any]:
    """The JSON refusal with ``status``, ``code`` and the Thai ``message``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert (body["error"], body["message"]) == (code, message), body
    assert body["message_en"]
    return body

def auth_sessions(app: Flask, user_id: int, kind: str = "web") -> list[Any]:
    """The user's session (or API token) rows, oldest first, read fresh from the database."""
    table = AuthSession.__table__  # type: ignore[attr-defined]
    with app.app_context(), Session(db.engine) as session:
        return list(session.execute(
            select(table).where(table.c.user_id == user_id, table.c.kind == kind)
            .order_by(table.c.id)).all())

def memo_row(app: Flask, memo_id: int) -> dict[str, Any]:
    """The memo's columns, read fresh from the database."""
    table = Memo.__table__  # type: ignore[attr-defined]
    with app.app_context(), Session(db.engine) as session:
        return dict(session.execute(select(table).where(table.c.id == memo_id)).mappings().one())

def set_active(app: Flask, user_id: int, active: bool) -> None:
    """Activate or deactivate an account directly in the database, as an admin tool would."""
    with app.app_context(), Session(db.engine) as session:
        user = session.get(User, user_id)
        assert user is not None
        user.is_active = active
        session.add(user)
        session.commit()

def signed_in(client: FlaskClient) -> bool:
    """Whether the client's cookies still open the inbox (else it is sent to the login page)."""
    response = client.get("/inbox")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


# -- passwords and sessions ---------------------------------------------------------------------


def test_passwords_are_stored_as_argon2_hashes(app, demo):
    """Every password_hash is an argon2id hash that verifies, never the password itself."""
    with app.app_context(), Session(db.engine) as session:
        users = session.exec(select(User)).all()
    assert len(users) == len(PEOPLE)
    for user in users:
        assert user.password_hash.startswith("$argon2id$"), user.username
        assert PasswordHasher().verify(user.password_hash, "demo")
    with app.app_context():
        assert hash_password("demo") != hash_password("demo")  # salted

def test_each_login_gets_a_fresh_session_secret(app, client, demo):
    """Each login gets its own secret; logout revokes only it, and old cookies stop working."""
    other = app.test_client()
    assert post_login(client, "clerk").status_code == 302
    assert post_login(other, "clerk", remember=True).status_code == 302
    first, second = auth_sessions(app, demo["user_clerk"])
    assert first.token_hash != second.token_hash
    assert len(first.token_hash) == 64  # a SHA-256 digest, never the secret itself
    assert client.get_cookie("session").value != other.get_cookie("session").value
    old_session = client.get_cookie("session").value
    old_remember = other.get_cookie("remember_token").value

    assert client.post("/logout").status_code == 302
    first, second = auth_sessions(app, demo["user_clerk"])
    assert first.revoked_at is not None and second.revoked_at is None
    assert not signed_in(client)
    assert signed_in(other)

    replay = app.test_client()
    replay.set_cookie("session", old_session)
    assert not signed_in(replay)

    assert other.post("/logout").status_code == 302
    replay = app.test_client()
    replay.set_cookie("remember_token", old_remember)
    assert not signed_in(replay)

    assert post_login(client, "clerk").status_code == 302
    assert len({s.token_hash for s in auth_sessions(app, demo["user_clerk"])}) == 3

def _cookie_attributes(header: str) -> tuple[str, set[str]]:
    """A Set-Cookie header as its name and its lower-cased attributes."""
    name = header.split("=", 1)[0]
    attributes = {part.strip().lower() for part in header.split(";")[1:]}
    return name, attributes

def test_login_cookies_are_secure_httponly_and_samesite_lax(make_app):
    """With secure cookies configured, every cookie a login sets is Secure, HttpOnly, Lax."""
    app, _ = seeded(make_app, SESSION_COOKIE_SECURE=True, REMEMBER_COOKIE_SECURE=True)
    client = app.test_client()
    response = post_login(client, "clerk", remember=True)
    assert response.status_code == 302
    cookies = dict(_cookie_attributes(h) for h in response.headers.getlist("Set-Cookie"))
    assert {"session", "remember_token"} <= set(cookies)
    for name, attributes in cookies.items():
        assert "secure" in attributes, name
        assert "httponly" in attributes, name
        assert "samesite=lax" in attributes, name


# -- rate limits --------------------------------------------------------------------------------


def _limited(make_app: Any, per_username: str, per_ip: str) -> tuple[Flask, dict[str, int]]:
    """A seeded app with login rate limits on, in memory."""
    return seeded(make_app, RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://",
                  LOGIN_LIMIT_PER_USERNAME=per_username, LOGIN_LIMIT_PER_IP=per_ip)

def _attempt(client: FlaskClient, channel: str, username: str, password: str,
             ip: str = "127.0.0.1") -> Any:
    """One login attempt from ``ip``, on the web form or the token endpoint."""
    environ = {"REMOTE_ADDR": ip}
    if channel == "web":
        return post_login(client, username, password, environ_base=environ)
    return api_login(client, username, password, environ_base=environ)

def _assert_too_many(response: Any, channel: str) -> None:
    """The Thai 429 refusal, as a page or as JSON."""
    if channel == "web":
        error_page(response, 429, TOO_MANY)
    else:
        api_error(response, 429, "rate_limited", TOO_MANY)


SUCCESS = {"web": 302, "api": 201}
WRONG = {"web": 401, "api": 401}


@pytest.mark.parametrize("channel", ["web", "api"])
def test_login_attempts_are_limited_per_username(make_app, channel):
    """The 4th attempt on one username is 429 in Thai, whatever the password or spelling."""
    app, demo = _limited(make_app, per_username="3 per minute", per_ip="100 per minute")
    client = app.test_client()
    for _ in range(3):
        assert _attempt(client, channel, "clerk", "wrong").status_code == WRONG[channel]
    _assert_too_many(_attempt(client, channel, "clerk", "demo"), channel)
    _assert_too_many(_attempt(client, channel, "  Clerk ", "demo"), channel)
    _assert_too_many(_attempt(client, channel, "clerk", "demo", ip="10.9.9.9"), channel)
    assert auth_sessions(app, demo["user_clerk"], channel) == []
    assert _attempt(client, channel, "head", "demo").status_code == SUCCESS[channel]
    if channel == "web":
        assert client.get("/login").status_code in (200, 302)  # only POST is limited

@pytest.mark.parametrize("channel", ["web", "api"])
def test_login_attempts_are_limited_per_ip(make_app, channel):
    """After 3 attempts from one IP (any usernames) the 4th is 429; another IP still works."""
    app, demo = _limited(make_app, per_username="100 per minute", per_ip="3 per minute")
    client = app.test_client()
    for username in ("deputy", "permsec", "nobody"):
        response = _attempt(client, channel, username, "wrong", ip="10.0.0.1")
        assert response.status_code == WRONG[channel]
    _assert_too_many(_attempt(client, channel, "head", "demo", ip="10.0.0.1"), channel)
    assert auth_sessions(app, demo["user_head"], channel) == []
    assert _attempt(client, channel, "head", "demo", ip="10.0.0.2").status_code == \
        SUCCESS[channel]


# -- wrong passwords, deactivated accounts, redirects -------------------------------------------


def test_wrong_password_is_401_and_does_not_say_whether_the_user_exists(app, client, api, demo):
    """A wrong password, an unknown user and a deactivated user get the very same 401 answer."""
    set_active(app, demo["user_auditor"], False)
    attempts = [("clerk", "wrong"), ("no-such-user", "wrong"), ("auditor", "demo")]

    pages = []
    for username, password in attempts:
        response = post_login(client, username, password)
        assert response.status_code == 401
        page = response.get_data(as_text=True)
        assert f'<div class="flash flash-error" role="status">{BAD_CREDENTIALS}</div>' in page
        pages.append(page.replace(f'value="{username}"', 'value=""'))
    assert pages[0] == pages[1] == pages[2]

    bodies = [api_login(client, u, p) for u, p in attempts]
    for response in bodies:
        api_error(response, 401, "bad_credentials", BAD_CREDENTIALS)
    assert bodies[0].get_json() == bodies[1].get_json() == bodies[2].get_json()
    assert not signed_in(client)

def test_deactivated_user_is_signed_out_on_the_next_request(app, client, auth, api, demo):
    """Deactivating an account ends its open web session and its API token at once."""
    memo_id = demo["memo_id"]
    assert auth.login("clerk").status_code == 302
    token = api.token("clerk")
    headers = {"Authorization": f"Bearer {token}"}
    assert signed_in(client)
    assert client.get("/api/v1/memos", headers=headers).status_code == 200
    before = memo_row(app, memo_id)

    set_active(app, demo["user_clerk"], False)
    assert not signed_in(client)
    response = client.post(f"/memos/{memo_id}/act", data={"action": "submit"})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    api_error(client.get("/api/v1/memos", headers=headers), 401, "invalid_token",
              "กรุณาเข้าสู่ระบบ: โทเค็นไม่ถูกต้องหรือหมดอายุ")
    api_error(client.post(f"/api/v1/memos/{memo_id}/actions", json={"action": "submit"},
                          headers=headers), 401, "invalid_token",
              "กรุณาเข้าสู่ระบบ: โทเค็นไม่ถูกต้องหรือหมดอายุ")
    assert memo_row(app, memo_id) == before
    assert post_login(client, "clerk").status_code == 401

    set_active(app, demo["user_clerk"], True)  # and reactivating lets them sign in again
    assert post_login(client, "clerk").status_code == 302

def _leaves_site(location: str) -> bool:
    """Whether a browser following ``location`` from http://localhost/ would go off-site."""
    url = re.sub(r"[\t\n\r]", "", location).strip("\x00 ").replace("\\", "/")
    if url.startswith("//"):
        return True
    parts = urlsplit(url)
    return bool(parts.scheme) and parts.netloc != "localhost"

@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/", "///evil.example/", "/\\evil.example/",
    "\\\\evil.example/", "/\t/evil.example/", "javascript:alert(1)", "http:evil.example",
    " //evil.example/", "https:/\\evil.example/",
])
def test_login_next_never_redirects_off_site(client, demo, target):
    """An off-site ``next`` is replaced by the inbox after login."""
    response = post_login(client, "clerk", query_string={"next": target})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/") and not _leaves_site(location), location

def test_login_next_on_site_is_followed(client, demo):
    """A ``next`` on this site is where the login goes."""
    target = f"/memos/{demo['memo_id']}"
    response = post_login(client, "clerk", query_string={"next": target})
    assert response.headers["Location"] == target
