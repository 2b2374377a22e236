"""API bearer tokens: a missing, malformed or expired token is a Thai 401 on every call, and the
call changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.memos.test_input import api_error, snapshot
from workflow import clock


@pytest.mark.parametrize("authorization", [
    None, "", "Bearer", "Bearer    ", "Bearer not-a-token", "Basic Y2xlcms6ZGVtbw==",
    "Token {token}", "{token}", "Bearer {token}x",
])
def test_missing_or_invalid_bearer_token_is_401(app, client, api, demo, authorization):
    """A call without a valid bearer token is 401 with a Thai message and changes nothing."""
    memo_id = demo["memo_id"]
    token = api.token("clerk")
    before = snapshot(app, memo_id)
    headers = {} if authorization is None else {
        "Authorization": authorization.format(token=token)}
    for method, path, payload in [
        ("GET", "/api/v1/memos", None),
        ("GET", f"/api/v1/memos/{memo_id}", None),
        ("POST", f"/api/v1/memos/{memo_id}/actions", {"action": "submit"}),
        ("PATCH", f"/api/v1/memos/{memo_id}", {"subject": "เรื่องใหม่"}),
        ("DELETE", "/api/v1/auth/token", None),
    ]:
        response = client.open(path, method=method, json=payload, headers=headers)
        body = api_error(response, 401, "invalid_token")
        assert body["message"] == "กรุณาเข้าสู่ระบบ: โทเค็นไม่ถูกต้องหรือหมดอายุ"
    assert snapshot(app, memo_id) == before

def test_expired_bearer_token_is_401(app, client, demo):
    """A token works until API_TOKEN_HOURS have passed, and is refused with 401 after."""
    memo_id = demo["memo_id"]
    issued = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    clock.set_now(issued)
    token = client.post("/api/v1/auth/token",
                        json={"username": "clerk", "password": "demo"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    hours = int(app.config["API_TOKEN_HOURS"])
    clock.set_now(issued + timedelta(hours=hours) - timedelta(minutes=1))
    assert client.get(f"/api/v1/memos/{memo_id}", headers=headers).status_code == 200
    before = snapshot(app, memo_id)

    clock.set_now(issued + timedelta(hours=hours, seconds=1))
    api_error(client.get(f"/api/v1/memos/{memo_id}", headers=headers), 401, "invalid_token")
    api_error(client.post(f"/api/v1/memos/{memo_id}/actions", json={"action": "submit"},
                          headers=headers), 401, "invalid_token")
    assert snapshot(app, memo_id) == before
