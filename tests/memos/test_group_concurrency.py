"""Two members of a group deciding at the same instant, over HTTP against a live server:
an any-of step is closed once, and an all-of step moves the memo on once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from flask import Flask
from sqlmodel import select

from tests.factories import Group, make_route
from workflow import routing
from workflow.extensions import db
from workflow.models import AuditEvent, Decision, Memo, Notification, Organization, Position

GROUP = ("kongklang", "kongchang")
# Row locks are what is tested: SQLite's single writer has no race to lose.
pytestmark = pytest.mark.postgres_only


class Http:
    """The API of a live server, a bearer token per user."""

    def __init__(self, base: str) -> None:
        self.base, self.tokens = base, {}  # type: ignore[var-annotated]

    def call(self, method: str, path: str, who: str, **kwargs: Any) -> requests.Response:
        if who not in self.tokens:
            signed_in = requests.post(f"{self.base}/api/v1/auth/token",
                                      json={"username": who, "password": "demo"}, timeout=30)
            assert signed_in.status_code == 201
            self.tokens[who] = signed_in.json()["token"]
        return requests.request(method, f"{self.base}/api/v1{path}", timeout=60,
                                headers={"Authorization": f"Bearer {self.tokens[who]}"}, **kwargs)

    def act(self, memo_id: int, who: str, action: str, comment: str = "", **extra: Any) -> Any:
        return self.call("POST", f"/memos/{memo_id}/actions", who,
                         json={"action": action, "comment": comment, **extra})


def _at_the_group(http: Http, route_id: int, **memo: Any) -> tuple[int, int]:
    """A memo on ``route_id`` approved by the head, waiting at the group; (id, version)."""
    created = http.call("POST", "/memos", "clerk", json={
        "subject": "ขออนุมัติจัดซื้อเครื่องปรับอากาศ", "addressee": "นายก", "route_id": route_id,
        **memo})
    assert created.status_code == 201, created.text
    memo_id = created.json()["id"]
    assert http.act(memo_id, "clerk", "submit").status_code == 200
    moved = http.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    assert moved.status_code == 200 and moved.json()["state"] == routing.pending(2)
    return memo_id, moved.json()["version"]


def _together(http: Http, memo_id: int, version: int) -> list[int]:
    start = threading.Barrier(len(GROUP))

    def approve(who: str) -> int:
        start.wait()
        return http.act(memo_id, who, "approve", "เห็นชอบ", version=version).status_code

    with ThreadPoolExecutor(max_workers=len(GROUP)) as pool:
        return list(pool.map(approve, GROUP))


def _recorded(app: Flask, memo_id: int) -> tuple[str, int, int, int]:
    """(state, approvals, audit events of approval, arrival emails to ปลัด)."""
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None
        approvals = db.session.exec(select(Decision).where(
            Decision.memo_id == memo_id, Decision.action == routing.APPROVE)).all()
        events = db.session.exec(select(AuditEvent).where(
            AuditEvent.memo_id == memo_id, AuditEvent.action == "memo_approved")).all()
        to_permsec = db.session.exec(select(Notification).where(
            Notification.memo_id == memo_id, Notification.kind == "arrival",
            Notification.email == "permsec@example.com")).all()
        state = memo.state
        db.session.close()
    return state, len(approvals), len(events), len(to_permsec)


def test_two_members_of_an_any_of_group_at_the_same_instant(
        app: Flask, demo: dict[str, int], live_server: str) -> None:
    """Exactly one closes the step; the other is told 409; nothing is recorded twice."""
    with app.app_context(), db.write() as session:
        office = session.get(Organization, demo["org_id"])
        assert office is not None
        post = {p.title: p for p in session.exec(select(Position)).all()}
        route = make_route(session, office=office, is_default=False, positions=[
            post["หัวหน้าสำนักปลัด"],
            Group([post["ผู้อำนวยการกองคลัง"], post["ผู้อำนวยการกองช่าง"]], need=1),
            post["ปลัดองค์การบริหารส่วนตำบลท่าตูม"]])
        route_id = route.id or 0
    http = Http(live_server)
    memo_id, version = _at_the_group(http, route_id)
    statuses = _together(http, memo_id, version)
    assert sorted(statuses) == [200, 409], statuses
    assert _recorded(app, memo_id) == (routing.pending(3), 2, 2, 1)


def test_the_last_two_approvals_of_an_all_of_group_arrive_together(
        app: Flask, demo: dict[str, int], live_server: str) -> None:
    """Both are the members' own decisions and both stand; the memo moves on once."""
    http = Http(live_server)
    memo_id, version = _at_the_group(http, demo["procurement_route_id"], amount="250000")
    statuses = _together(http, memo_id, version)
    assert statuses == [200, 200], statuses
    assert _recorded(app, memo_id) == (routing.pending(3), 3, 3, 1)
