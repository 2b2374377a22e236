"""HTTP hardening from the security probe: private answers are never stored by a cache (#4),
HSTS over HTTPS (#6), one login budget per username shared by the web form and the API, and a
Retry-After on every 429 (#7)."""

from __future__ import annotations

import hashlib
import io
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from limits import parse

from tests.support.paths import ROOT

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
TOO_MANY = "ทำรายการบ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่"
ONE_YEAR = 31536000


# -- #4: private answers are no-store ------------------------------------------------------------


def _upload(api: Any, memo_id: int) -> int:
    """Attach a small PDF to the memo as the clerk; the attachment's id."""
    response = api.call("POST", f"/memos/{memo_id}/attachments", "clerk",
                        data={"file": (io.BytesIO(PDF), "คำสั่ง.pdf")},
                        content_type="multipart/form-data")
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def _assert_no_store(response: Any) -> None:
    """A 200 that no browser or proxy may keep a copy of."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.headers["Cache-Control"] == "no-store"
    response.close()


def test_attachment_downloads_are_never_stored(app, demo, api, client, auth):
    """An attachment, from the API and from the web page, is sent with Cache-Control: no-store."""
    memo_id = demo["memo_id"]
    attachment_id = _upload(api, memo_id)
    download = api.call("GET", f"/memos/{memo_id}/attachments/{attachment_id}", "clerk")
    assert download.data == PDF
    _assert_no_store(download)
    assert "Expires" not in download.headers
    auth.login("clerk")
    _assert_no_store(client.get(f"/memos/{memo_id}/attachments/{attachment_id}"))


def test_memo_pdfs_are_never_stored(app, demo, api, client, auth):
    """The rendered memo, from the API and from the web page, is sent with no-store."""
    memo_id = demo["memo_id"]
    from_api = api.call("GET", f"/memos/{memo_id}/pdf", "clerk")
    assert from_api.mimetype == "application/pdf"
    _assert_no_store(from_api)
    auth.login("clerk")
    _assert_no_store(client.get(f"/memos/{memo_id}.pdf"))


def test_pages_and_api_answers_are_never_stored_but_static_files_may_be(app, demo, api, client,
                                                                       auth):
    """Pages and JSON behind a login are no-store; a stylesheet stays cacheable."""
    auth.login("clerk")
    _assert_no_store(client.get("/inbox"))
    _assert_no_store(client.get(f"/memos/{demo['memo_id']}"))
    _assert_no_store(api.call("GET", f"/memos/{demo['memo_id']}", "clerk"))
    stylesheet = client.get("/static/app.css")
    assert stylesheet.status_code == 200
    assert "no-store" not in stylesheet.headers.get("Cache-Control", "")
    stylesheet.close()


def test_static_files_are_named_by_their_content_and_kept_for_a_year(app, client):
    """A page names app.css and app.js with their content's hash; that URL may be kept a year,
    while the bare URL or an old hash is revalidated as before (a release changes the hash)."""
    page = client.get("/login").text
    for name in ("app.css", "app.js"):
        digest = hashlib.sha256((ROOT / "static" / name).read_bytes()).hexdigest()[:12]
        url = f"/static/{name}?v={digest}"
        assert f'"{url}"' in page, name
        kept = client.get(url)
        assert kept.status_code == 200
        assert kept.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        kept.close()
        for other in (f"/static/{name}", f"/static/{name}?v=000000000000"):
            answer = client.get(other)
            assert answer.status_code == 200
            assert "immutable" not in answer.headers.get("Cache-Control", ""), other
            answer.close()
    assert client.get("/static/no-such.css?v=000000000000").status_code == 404


# -- #6: HSTS ------------------------------------------------------------------------------------


def test_hsts_is_sent_over_https_only(client):
    """HTTPS answers (pages and static files) carry a year of HSTS; plain HTTP never does."""
    secure = client.get("/login", base_url="https://localhost")
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == f"max-age={ONE_YEAR}"
    static = client.get("/static/app.css", base_url="https://localhost")
    assert static.headers["Strict-Transport-Security"] == f"max-age={ONE_YEAR}"
    static.close()
    plain = client.get("/login")
    assert plain.status_code == 200
    assert "Strict-Transport-Security" not in plain.headers


def test_hsts_seconds_zero_disables_it(make_app):
    """HSTS_SECONDS=0 sends no HSTS even over HTTPS."""
    client = make_app(HSTS_SECONDS=0).test_client()
    response = client.get("/login", base_url="https://localhost")
    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_includes_subdomains_when_asked(make_app):
    """HSTS_INCLUDE_SUBDOMAINS adds includeSubDomains; the lifetime is HSTS_SECONDS."""
    client = make_app(HSTS_SECONDS=600, HSTS_INCLUDE_SUBDOMAINS=True).test_client()
    response = client.get("/login", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=600; includeSubDomains"


def test_hsts_behind_a_proxy_trusts_x_forwarded_proto_only_with_proxy_hops(make_app):
    """Behind a TLS-terminating proxy (PROXY_HOPS=1) X-Forwarded-Proto: https turns HSTS on;
    with no proxy configured the same header, which anyone can send, is ignored."""
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}
    proxied = make_app(PROXY_HOPS=1).test_client().get("/login", headers=forwarded)
    assert proxied.headers["Strict-Transport-Security"] == f"max-age={ONE_YEAR}"
    direct = make_app().test_client().get("/login", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers


# -- #7: one login budget per username; Retry-After on every 429 -------------------------------


def _limited_app(make_app: Any) -> Flask:
    """The demo office with the configured login limits on, counted in memory."""
    app: Flask = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="memory://")
    # Seeded the way an operator does, through the CLI, which stays put as services move.
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return app


def _attempt(client: FlaskClient, channel: str, username: str, password: str, ip: str) -> Any:
    """One sign-in from ``ip`` on the web form or the token endpoint."""
    environ = {"REMOTE_ADDR": ip}
    if channel == "web":
        return client.post("/login", data={"username": username, "password": password},
                           environ_base=environ)
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base=environ)


def _retry_after(response: Any, window_seconds: int) -> int:
    """The Retry-After of a 429, which must be whole seconds within the limit's window."""
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= window_seconds, seconds
    return seconds


def _assert_too_many(response: Any, channel: str, window_seconds: int) -> None:
    """The Thai 429 refusal, as a page or as JSON, saying when to try again."""
    assert response.status_code == 429, (channel, response.get_data(as_text=True)[:300])
    _retry_after(response, window_seconds)
    if channel == "web":
        page = response.get_data(as_text=True)
        assert 'data-status="429"' in page and f"<p>{TOO_MANY}</p>" in page
    else:
        body = response.get_json()
        assert (body["error"], body["message"]) == ("rate_limited", TOO_MANY), body
        assert body["message_en"]


def _signed_in(client: FlaskClient) -> bool:
    """Whether the client's cookies open the inbox (else it is sent to the login page)."""
    return client.get("/inbox").status_code == 200


@pytest.mark.parametrize("refused_first", ["web", "api"])
def test_web_and_api_share_one_budget_per_username(make_app, refused_first):
    """Wrong passwords alternating between /login and the API, each from its own address, use
    one budget: once it is spent the next attempt on either is 429, even with the right
    password, and says when to retry; another account is untouched."""
    app = _limited_app(make_app)
    budget = parse(app.config["LOGIN_LIMIT_PER_USERNAME"])
    client = app.test_client()
    # Half the attempts land on each route, each from another address: only one budget
    # shared by both routes stops them, not the per-IP limits nor a budget per route.
    for n in range(budget.amount):
        channel = ("web", "api")[n % 2]
        response = _attempt(client, channel, "clerk", "wrong", ip=f"10.0.{n}.1")
        assert response.status_code == 401, (n, channel, response.get_data(as_text=True)[:300])

    other = "api" if refused_first == "web" else "web"
    window = budget.get_expiry()
    refused = [_attempt(client, refused_first, "clerk", "demo", ip="10.9.0.1"),
               _attempt(client, other, " Clerk ", "demo", ip="10.9.0.2")]
    _assert_too_many(refused[0], refused_first, window)
    _assert_too_many(refused[1], other, window)
    # The right password opened nothing: no session cookie, no token.
    assert not _signed_in(client)
    assert all("token" not in (r.get_json(silent=True) or {}) for r in refused)
    assert _attempt(client, "web", "head", "demo", ip="10.9.0.3").status_code == 302
    assert _attempt(client, "api", "head", "demo", ip="10.9.0.4").status_code == 201


def test_the_per_ip_limit_still_holds(make_app):
    """Beyond the shared per-username budget, one address is still limited on its own."""
    app = _limited_app(make_app)
    per_ip = parse(app.config["LOGIN_LIMIT_PER_IP"])
    client = app.test_client()
    # Spread over many usernames so that no per-username budget runs out first.
    for n in range(per_ip.amount):
        response = _attempt(client, "web", f"nobody{n}", "wrong", ip="10.7.7.7")
        assert response.status_code == 401, n
    _assert_too_many(_attempt(client, "web", "head", "demo", ip="10.7.7.7"), "web",
                     per_ip.get_expiry())
    assert _attempt(client, "web", "head", "demo", ip="10.7.7.8").status_code == 302


def test_a_password_reset_429_says_when_to_retry(make_app):
    """The forgotten-password form's limit answers with Retry-After too."""
    app = _limited_app(make_app)
    client = app.test_client()
    here = {"REMOTE_ADDR": "10.1.1.1"}
    limit = parse(str(app.config.get("PASSWORD_RESET_LIMIT_PER_IP", "5 per minute")))
    statuses = [client.post("/password/forgot", data={"login": f"nobody{n}"},
                            environ_base=here).status_code for n in range(limit.amount)]
    assert statuses == [200] * limit.amount
    refused = client.post("/password/forgot", data={"login": "nobody9"}, environ_base=here)
    assert refused.status_code == 429 and TOO_MANY in refused.get_data(as_text=True)
    _retry_after(refused, limit.get_expiry())
