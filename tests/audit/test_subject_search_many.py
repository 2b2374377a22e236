"""A subject search of the audit trail that matches more memos than go as a list of ids
still finds every one of them, the newest included (it once took the first 5,000 found);
and a word found in many subjects is remembered, which changes the plan, never the events."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlmodel import select

from tests.support.statements import statements
from workflow.audit import search
from workflow.db import PlanHints
from workflow.extensions import db
from workflow.models import Organization


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


def _events(api: Any, **query: str) -> list[int]:
    found = api.call("GET", "/audit", "auditor", query_string=query)
    assert found.status_code == 200, found.json
    return [item["seq"] for item in found.json["items"]]


def test_a_word_in_many_subjects_is_not_looked_up_again(
        app: Flask, demo: dict[str, int], api: Any, monkeypatch: Any) -> None:
    """Once a word is found in more subjects than go as ids, its next searches (a next page
    among them) skip that lookup: one statement fewer, the same events."""
    monkeypatch.setattr(search, "_MEMO_IDS_MAX", 1)
    monkeypatch.setattr(search, "_IN_MANY_SUBJECTS", PlanHints(seconds=300.0, entries=10))
    for n in range(3):
        api.call("POST", "/memos", "clerk", json={
            "subject": f"ซ่อมแซมถนน สายที่ {n}", "addressee": "นายก", "body": "<p>ขอซ่อม</p>"})
    _events(api)  # signed in, and the statements built
    sent_each_time, seen = [], []
    for _ in range(2):
        with statements(app) as sent:
            seen.append(_events(api, memo="ซ่อมแซมถนน"))
        sent_each_time.append(len(sent))
    assert sent_each_time[1] == sent_each_time[0] - 1, sent_each_time
    assert seen[0] == seen[1] and len(seen[0]) == 3  # three "created" events
    assert len(search._IN_MANY_SUBJECTS) == 1


def test_a_stale_hint_finds_the_same_events(
        app: Flask, demo: dict[str, int], api: Any, monkeypatch: Any) -> None:
    """A word wrongly remembered as in many subjects is searched by the subquery, not by
    ids: the same events either way, for a word in one subject, in two, and in none."""
    monkeypatch.setattr(search, "_IN_MANY_SUBJECTS", PlanHints(seconds=300.0, entries=10))
    for subject in ("ซ่อมแซมถนน หมู่ ๑", "ซ่อมแซมถนน หมู่ ๒", "จัดซื้อวัสดุ"):
        api.call("POST", "/memos", "clerk", json={
            "subject": subject, "addressee": "นายก", "body": "<p>ขอ</p>"})
    words = ["ซ่อมแซมถนน", "จัดซื้อวัสดุ", "ไม่มีเรื่องนี้", "ซ่อมแซมถนน หมู่"]
    fresh = {word: _events(api, memo=word) for word in words}
    assert [len(fresh[word]) for word in words] == [2, 1, 0, 2]
    assert not len(search._IN_MANY_SUBJECTS)
    with app.app_context():
        office_id = db.session.exec(select(Organization.id)).first()
    for word in words:
        search._IN_MANY_SUBJECTS.add((office_id, tuple(word.split())))
    assert {word: _events(api, memo=word) for word in words} == fresh
