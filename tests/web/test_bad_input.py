"""Cross-cutting: markup, unknown paths and bad bodies are refused alike on every page and endpoint.

Bad input, through the API and the web forms: markup typed in any field is shown as text on
every page, never run; unknown paths are a Thai 404; broken, mistyped or oversized bodies are
refused at every writing endpoint; hostile values anywhere get a 4xx, never a 500; nothing
already saved is lost. Bad input to a memo's own fields is ``tests/memos/test_input.py``,
whose helpers this suite shares."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.memos.test_input import (
    BODY_MARKUP,
    MEMO_FIELDS,
    api_error,
    error_page,
    login,
    memo_count,
    memo_id_from,
    snapshot,
)

# -- markup in every field ----------------------------------------------------------------------

SUBJECT_MARKUP = "<script>alert(101)</script>รายงานผลการดำเนินงาน"
ADDRESSEE_MARKUP = "<img src=x onerror=alert(102)>นายกองค์การบริหารส่วนตำบล"
COMMENT_MARKUP = "<script>alert(108)</script>เพื่อโปรดพิจารณา"
REASON_MARKUP = '<b onmouseover="alert(109)">แก้ไข</b> ตัวเลขงบประมาณ'


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes, and the page's text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

def assert_no_active_markup(html: str) -> str:
    """Fail on any script but ours, on* handler, javascript: URL, image or frame; return text."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    for tag, attrs in parser.tags:
        if tag == "script":
            assert attrs.get("src", "").split("?v=")[0] == "/static/app.js", (tag, attrs)
        assert tag not in {"img", "iframe", "object", "embed", "svg"}, (tag, attrs)
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, attrs)
            assert not value.strip().lower().startswith("javascript:"), (tag, attrs)
    assert [t for t, _ in parser.tags].count("script") == 1
    return "".join(parser.text)

def test_markup_in_every_field_is_shown_as_text_never_run(app, client, auth, api, demo):
    """Markup typed in any field is shown as text on every page, never run; tables survive."""
    login(auth, "clerk")
    memo_id = memo_id_from(client.post("/memos/new", data={
        "subject": SUBJECT_MARKUP, "addressee": ADDRESSEE_MARKUP, "urgency": "urgent",
        "body": BODY_MARKUP, "intent": "save"}))
    assert_no_active_markup(client.get(f"/memos/{memo_id}/edit").text)
    assert client.post(f"/memos/{memo_id}/act", data={"action": "submit"}).status_code == 302
    login(auth, "head")
    assert client.post(f"/memos/{memo_id}/act",
                       data={"action": "approve", "comment": COMMENT_MARKUP}).status_code == 302
    login(auth, "deputy")
    text = assert_no_active_markup(client.get("/inbox?tab=waiting").text)
    assert SUBJECT_MARKUP in text
    assert client.post(f"/memos/{memo_id}/act",
                       data={"action": "send_back", "comment": REASON_MARKUP}).status_code == 302

    pages = {"deputy memo": client.get(f"/memos/{memo_id}").text,
             "deputy decided": client.get("/inbox?tab=decided").text}
    login(auth, "clerk")
    pages |= {"clerk memo": client.get(f"/memos/{memo_id}").text,
              "clerk edit": client.get(f"/memos/{memo_id}/edit").text,
              "clerk mine": client.get("/inbox?tab=mine").text}
    login(auth, "auditor")
    pages["auditor memo"] = client.get(f"/memos/{memo_id}").text
    for name, html in pages.items():
        text = assert_no_active_markup(html)
        if name != "clerk edit":  # there the subject is the value of its input
            assert SUBJECT_MARKUP in text, name
        assert "alert(104)" not in html and "alert(105)" not in html, name
    assert 'value="&lt;script&gt;alert(101)&lt;/script&gt;' in pages["clerk edit"]
    memo_page = pages["clerk memo"]
    text = assert_no_active_markup(memo_page)
    for typed in (ADDRESSEE_MARKUP, COMMENT_MARKUP, REASON_MARKUP):
        assert typed in text
    assert "&lt;script&gt;alert(101)&lt;/script&gt;" in memo_page
    assert "<table>" in memo_page and '<td colspan="2">ช่องตาราง</td>' in memo_page
    assert REASON_MARKUP in assert_no_active_markup(pages["clerk edit"])

    stored = api.call("GET", f"/memos/{memo_id}", "clerk").get_json()
    assert (stored["subject"], stored["addressee"]) == (SUBJECT_MARKUP, ADDRESSEE_MARKUP)
    assert [d["comment"] for d in stored["decisions"]][1:] == [COMMENT_MARKUP, REASON_MARKUP]


# -- unknown paths ------------------------------------------------------------------------------


def test_unknown_page_is_a_thai_404_page(client, auth, demo):
    """A path no route knows gives the Thai 404 page."""
    login(auth, "clerk")
    error_page(client.get("/memos/not-a-number"), 404, "ไม่พบหน้าที่ต้องการ")

def test_unknown_api_path_is_404_json(api, demo):
    """An API path no route knows answers in JSON, not with an HTML page."""
    api_error(api.call("GET", "/no-such-thing", "clerk"), 404, "not_found")


# -- malformed bodies ---------------------------------------------------------------------------

NOT_AN_OBJECT = ['{"subject": "เรื่อง", ', "{subject: 1}", "[]", '["subject"]', '"เรื่อง"', "42",
                 "null", "", "\xff\xfe"]


def _send(api: Any, client: FlaskClient, target: str, memo_id: int, **kwargs: Any) -> Any:
    """POST or PATCH a raw body to one of the API's four writing endpoints."""
    if target == "token":
        return client.post("/api/v1/auth/token", **kwargs)
    method, path = {"create": ("POST", "/memos"),
                    "patch": ("PATCH", f"/memos/{memo_id}"),
                    "action": ("POST", f"/memos/{memo_id}/actions")}[target]
    return api.call(method, path, "clerk", **kwargs)

@pytest.mark.parametrize("target", ["create", "patch", "action", "token"])
def test_malformed_or_non_object_json_is_400(app, client, api, demo, target):
    """Broken JSON, or JSON that is not an object, is 400 invalid_json; nothing changes."""
    memo_id = demo["memo_id"]
    api.token("clerk")
    before, count = snapshot(app, memo_id), memo_count(app)
    for raw in NOT_AN_OBJECT:
        response = _send(api, client, target, memo_id, data=raw.encode("utf-8", "surrogateescape"),
                         content_type="application/json")
        body = api_error(response, 400, "invalid_json")
        assert body["message"] == "ข้อมูลที่ส่งมาต้องเป็น JSON object", raw
    assert snapshot(app, memo_id) == before
    assert memo_count(app) == count

@pytest.mark.parametrize("target", ["create", "patch", "action", "token"])
def test_wrong_content_type_is_400(app, client, api, demo, target):
    """A JSON text sent as text/plain, a form post, or no Content-Type is 400; nothing changes."""
    memo_id = demo["memo_id"]
    api.token("clerk")
    before, count = snapshot(app, memo_id), memo_count(app)
    payload = {**MEMO_FIELDS, "action": "submit", "username": "clerk", "password": "demo"}
    attempts: list[dict[str, Any]] = [
        {"data": '{"subject": "เรื่อง", "action": "submit"}', "content_type": "text/plain"},
        {"data": payload},  # application/x-www-form-urlencoded
        {"data": b'{"action": "submit"}'},  # no Content-Type at all
    ]
    for kwargs in attempts:
        body = api_error(_send(api, client, target, memo_id, **kwargs), 400, "invalid_json")
        assert "Content-Type: application/json" in body["message_en"]
    assert snapshot(app, memo_id) == before
    assert memo_count(app) == count


BIG = "ก" * 1_000  # 3 kB of UTF-8, over a 1 kB MAX_CONTENT_LENGTH


@pytest.mark.parametrize("target", ["api-create", "api-patch", "api-action", "api-token",
                                    "web-new", "web-edit", "web-act"])
def test_body_over_max_content_length_is_413(make_app, app, demo, target):
    """A body over MAX_CONTENT_LENGTH is refused with 413 and the Thai message; nothing changes."""
    small = make_app(MAX_CONTENT_LENGTH=1024)
    client = small.test_client()
    memo_id = demo["memo_id"]
    before, count = snapshot(app, memo_id), memo_count(app)
    thai = "ข้อมูลหรือไฟล์มีขนาดใหญ่เกินกำหนด"
    if target.startswith("api"):
        token = client.post("/api/v1/auth/token",
                            json={"username": "clerk", "password": "demo"}).get_json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        method, path, payload = {
            "api-create": ("POST", "/api/v1/memos", {**MEMO_FIELDS, "body": BIG}),
            "api-patch": ("PATCH", f"/api/v1/memos/{memo_id}", {"body": BIG}),
            "api-action": ("POST", f"/api/v1/memos/{memo_id}/actions",
                           {"action": "submit", "comment": BIG}),
            "api-token": ("POST", "/api/v1/auth/token",
                          {"username": "clerk", "password": BIG}),
        }[target]
        response = client.open(path, method=method, json=payload, headers=headers)
        body = api_error(response, 413, "request_entity_too_large")
        assert body["message"] == thai
    else:
        assert client.post("/login", data={"username": "clerk", "password": "demo"}
                           ).status_code == 302
        path, data = {
            "web-new": ("/memos/new", {**MEMO_FIELDS, "body": BIG, "intent": "submit"}),
            "web-edit": (f"/memos/{memo_id}/edit", {**MEMO_FIELDS, "body": BIG, "version": "1",
                                                    "intent": "submit"}),
            "web-act": (f"/memos/{memo_id}/act", {"action": "submit", "comment": BIG}),
        }[target]
        error_page(client.post(path, data=data), 413, thai)
    assert snapshot(app, memo_id) == before
    assert memo_count(app) == count


# -- hostile values anywhere --------------------------------------------------------------------


def test_other_hostile_inputs_get_4xx(app, demo, api, client, auth):
    """Huge dates, odd digits, a garbage version and absurd JSON nesting never 500."""
    assert api.call("GET", "/audit?from=1/1/99999999999999999999", "auditor").status_code == 422
    assert api.call("GET", f"/memos/{'9' * 30}", "clerk").status_code == 404
    auth.login("clerk")
    assert client.get("/register?year=²²²²").status_code == 422
    edit = client.post(f"/memos/{demo['memo_id']}/edit",
                       data={"subject": "x", "addressee": "y", "urgency": "normal",
                             "body": "", "version": "abc"})
    assert edit.status_code in (302, 409, 422)
    deep = "[" * 100_000 + "]" * 100_000
    response = api.call("POST", "/memos", "clerk", data=deep, content_type="application/json")
    assert response.status_code == 400
