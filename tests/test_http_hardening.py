"""HTTP hardening from the security probe: private answers are never stored by a cache (#4),
HSTS over HTTPS (#6)."""

from __future__ import annotations

import io
from typing import Any

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
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
