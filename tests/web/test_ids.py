"""One rule for ids in URLs, forms, query strings and JSON (probe finding 2 of #15).

An id is a run of ASCII digits from 1 to 2**31 - 1. "²" once gave a 500 in the memo form;
Thai digits in a path resolved as ids. Each is now refused: 404 in a path, a Thai 422 in
a form or JSON, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlmodel import func, select

from workflow.extensions import db
from workflow.models import Memo
from workflow.validation import parse_id


@pytest.mark.parametrize("raw", ["²", "๑", "١", "1e3", "-1", "0", "2147483648", "1.0", " 1 2 "])
def test_parse_id_refuses_what_is_not_an_id(raw: str) -> None:
    from workflow.errors import Invalid

    with pytest.raises(Invalid) as refused:
        parse_id(raw, field="route_id")
    assert refused.value.status == 422 and "ไม่ถูกต้อง" in refused.value.message


@pytest.mark.parametrize(("raw", "value"), [("7", 7), (" 12 ", 12), ("", None), (None, None),
                                            ("2147483647", 2**31 - 1)])
def test_parse_id_reads_ids(raw: str | None, value: int | None) -> None:
    assert parse_id(raw) == value


def memo_count(app: Flask) -> int:
    with app.app_context():
        return int(db.session.exec(select(func.count()).select_from(Memo)).one())


@pytest.mark.parametrize("route_id", ["²", "๑", "99999999999999999999", "0", "abc"])
def test_the_memo_form_refuses_a_bad_route_in_thai_and_saves_nothing(
        app: Flask, demo: dict[str, int], auth: Any, client: Any, route_id: str) -> None:
    auth.login("clerk")
    before = memo_count(app)
    response = client.post("/memos/new", data={
        "subject": "เรื่องทดสอบ", "addressee": "นายก", "urgency": "normal", "body": "<p>x</p>",
        "route_id": route_id})
    assert response.status_code == 422
    assert "สายการเสนอ" in response.get_data(as_text=True)
    assert memo_count(app) == before


@pytest.mark.parametrize("path", ["/api/v1/memos/๑", "/api/v1/memos/²", "/memos/๑",
                                  "/admin/users/๒", "/api/v1/memos/99999999999"])
def test_a_path_id_in_other_digits_is_not_found(app: Flask, demo: dict[str, int], auth: Any,
                                                client: Any, api: Any, path: str) -> None:
    if path.startswith("/api/"):
        response = api.call("GET", path.removeprefix("/api/v1"), "admin")
    else:
        auth.login("admin")
        response = client.get(path)
    assert response.status_code == 404


@pytest.mark.parametrize("route_id", [10**20, 2**31, 0, "²"])
def test_the_api_refuses_an_out_of_range_route_id(app: Flask, demo: dict[str, int], api: Any,
                                                  route_id: Any) -> None:
    before = memo_count(app)
    response = api.call("POST", "/memos", "clerk", json={
        "subject": "เรื่อง", "addressee": "นายก", "route_id": route_id})
    assert response.status_code == 422, response.json
    assert response.json["message"] and response.json["message_en"]
    assert memo_count(app) == before


@pytest.mark.parametrize("field,value", [("version", 2**31), ("route_id", 2**31), ("version", 0)])
def test_the_api_refuses_an_out_of_range_number_in_an_edit(app: Flask, demo: dict[str, int],
                                                           api: Any, field: str,
                                                           value: int) -> None:
    response = api.call("PATCH", f"/memos/{demo['memo_id']}", "clerk",
                        json={"subject": "เปลี่ยน", field: value})
    assert response.status_code == 422, response.json
    assert api.call("GET", f"/memos/{demo['memo_id']}", "clerk").json["subject"] != "เปลี่ยน"


@pytest.mark.parametrize("path", ["/memos/99999999999999999999", "/memos/2147483648",
                                  "/memos/2147483648.pdf", "/memos/1/attachments/99999999999"])
def test_ids_too_large_for_the_database_are_not_found(app, demo, client, auth, path):
    """Out-of-range ids are a Thai 404, on both backends."""
    auth.login("clerk")
    response = client.get(path)
    assert response.status_code == 404 and "ไม่พบ" in response.text


@pytest.mark.parametrize("root", ["", "/saraban"])
@pytest.mark.parametrize("memo_id", [1, 42, 2**31 - 1])
def test_url_for_each_builds_what_url_for_builds(app: Flask, root: str, memo_id: int) -> None:
    # Mounted under a prefix too (SCRIPT_NAME, as behind a proxy at /saraban), and for the
    # largest id, the one the helper builds its URL with.
    from flask import url_for

    from workflow.web import url_for_each

    with app.test_request_context("/inbox", environ_base={"SCRIPT_NAME": root}):
        assert url_for_each("memos.show", "memo_id")(memo_id) == url_for(
            "memos.show", memo_id=memo_id)
        assert url_for_each("audit.memo_trail", "memo_id")(str(memo_id)) == url_for(
            "audit.memo_trail", memo_id=memo_id)
