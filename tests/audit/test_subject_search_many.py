"""A subject search of the audit trail that matches more memos than go as a list of ids
still finds every one of them, the newest included (it once took the first 5,000 found)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from workflow.audit import search


def test_every_matching_memo_is_found_past_the_list_limit(
        app: Flask, demo: dict[str, int], api: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(search, "_MEMO_IDS_MAX", 2)
    made = []
    for n in range(4):  # through the API, so that each has its "created" event
        created = api.call("POST", "/memos", "clerk", json={
            "subject": f"จัดซื้อวัสดุสำนักงาน ชุดที่ {n}", "addressee": "นายก",
            "body": "<p>ขออนุมัติจัดซื้อ</p>"})
        assert created.status_code == 201, created.json
        made.append(created.json["id"])
    found = api.call("GET", "/audit", "auditor", query_string={"memo": "จัดซื้อวัสดุ"})
    assert found.status_code == 200, found.json
    assert {item["memo_id"] for item in found.json["items"]} == set(made)
