"""Isolation between offices, checked on every route the app has.

The list of routes comes from the app's ``url_map`` (web and API), so a route added later
is covered without touching this file: for each one that takes a record id, a person of
office B (an admin who is also auditor, clerk and signer, then a plain signer) asks for
office A's record with every method the route accepts and gets 404, and office A's data is
unchanged afterwards.
"""

from __future__ import annotations

import io
import re
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select
from werkzeug.routing import AnyConverter, Rule

from workflow import routing
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.memos import attachments
from workflow.memos.actions import perform
from workflow.models import (
    Appointment,
    Capacity,
    Memo,
    Notification,
    OfficeDay,
    Position,
    User,
)
from workflow.web import BoundedIntConverter

# Routes for the installation's own administrators, where an office's people get 403.
PLATFORM_ONLY = {"platform.suspend", "platform.reactivate"}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
MISSING = 999_999_999  # an id no record has


def _office_a(app: Flask) -> dict[str, int]:
    """Office A with one of every record a route can name."""
    with app.app_context():
        ids = seed_demo("alpha")
        memo_id = ids["memo_id"]
        attachment = attachments.add(memo_id=memo_id, actor_id=ids["user_clerk"],
                                     filename="แผน.pdf", stream=io.BytesIO(b"%PDF-1.4\n%%EOF\n"))
        perform(routing.SUBMIT, memo_id=memo_id, actor_id=ids["user_clerk"])
        with db.write() as session:
            position = session.exec(select(Position).where(
                Position.org_id == ids["org_id"])).first()
            assert position is not None
            appointment = Appointment(
                org_id=ids["org_id"], position_id=position.id or 0,
                acting_user_id=ids["user_auditor"], capacity=Capacity.ACTING,
                starts_on=date(2020, 1, 1), ends_on=date(2099, 1, 1), order_no="๑/๒๕๖๙",
                created_by_id=ids["user_admin"])
            day = OfficeDay(org_id=ids["org_id"], day=date(2026, 12, 10), is_holiday=True,
                            note="")
            session.add_all([appointment, day])
            session.flush()
            notification = session.exec(select(Notification).where(
                Notification.org_id == ids["org_id"])).first()
            assert notification is not None
            return {"memo_id": memo_id, "attachment_id": attachment.id or 0,
                    "user_id": ids["user_clerk"], "position_id": position.id or 0,
                    "route_id": ids["route_id"], "appointment_id": appointment.id or 0,
                    "day_id": day.id or 0, "notification_id": notification.id or 0,
                    "org_id": ids["org_id"]}


def _urls(app: Flask, ids: dict[str, int]) -> list[tuple[Rule, str]]:
    """Every route that names a record by id, filled in with office A's ids."""
    found = []
    for rule in app.url_map.iter_rules():
        numeric = {name for name, converter in rule._converters.items()
                   if isinstance(converter, BoundedIntConverter)}
        if not numeric:
            continue
        missing = numeric - ids.keys()
        assert not missing, f"{rule.rule}: add a record of office A for {missing}"
        values: dict[str, Any] = {name: ids[name] for name in numeric}
        for name, converter in rule._converters.items():
            if isinstance(converter, AnyConverter):
                values[name] = sorted(converter.items)[0]
        with app.test_request_context():
            from flask import url_for
            found.append((rule, url_for(rule.endpoint, **values)))
    return found


# A CSRF token is signed with the second it was made: two pages a second apart differ in it,
# and it says nothing about the record asked for.
_CSRF_VALUE = re.compile(rb'(name="csrf_token"[^>]*value=")[^"]*(")')


def _page(response: Any) -> bytes:
    return _CSRF_VALUE.sub(rb"\1\2", response.get_data())


def _call(client: Any, token: str, method: str, url: str) -> Any:
    if url.startswith("/api/"):
        return client.open(url, method=method, json={},
                           headers={"Authorization": f"Bearer {token}"})
    return client.open(url, method=method, data={})


def _snapshot(app: Flask, ids: dict[str, int]) -> tuple[Any, ...]:
    with app.app_context():
        db.session.expire_all()
        memo = db.session.get(Memo, ids["memo_id"])
        clerk = db.session.get(User, ids["user_id"])
        assert memo is not None and clerk is not None
        return (memo.state, memo.version, memo.subject, clerk.is_active, clerk.full_name,
                db.session.get(OfficeDay, ids["day_id"]) is not None,
                db.session.get(Appointment, ids["appointment_id"]).ended_at)  # type: ignore[union-attr]


@pytest.mark.parametrize("who", ["admin", "head"])
def test_every_route_answers_another_offices_ids_with_404(app: Flask, who: str) -> None:
    ids = _office_a(app)
    with app.app_context():
        seed_demo("beta")
        with db.write() as session:
            admin = session.exec(select(User).join_from(User, Position, isouter=True).where(
                User.username == "admin", User.org_id != ids["org_id"])).first()
            assert admin is not None
            admin.roles = "admin auditor clerk signer"
    before = _snapshot(app, ids)
    client = app.test_client()
    assert client.post("/login", data={"office": "beta", "username": who,
                                       "password": "demo"}).status_code == 302
    token = client.post("/api/v1/auth/token", json={"office": "beta", "username": who,
                                                    "password": "demo"}).json["token"]
    leaks = []
    checked = 0
    missing = {name: MISSING for name in ids}
    for (rule, url), (_, nowhere) in zip(_urls(app, ids), _urls(app, missing), strict=True):
        for method in sorted(rule.methods - IGNORED_METHODS):
            response, control = (_call(client, token, method, target) for target in (url, nowhere))
            checked += 1
            if response.status_code == 404:
                continue
            # Refused for the role (a signer on an admin page): allowed only if it is the very
            # answer a record that does not exist gets, so it tells nothing about office A.
            same_as_missing = (response.status_code == control.status_code == 403
                               and _page(response) == _page(control))
            if who == "admin" and rule.endpoint not in PLATFORM_ONLY or not same_as_missing:
                leaks.append(f"{method} {url} ({rule.endpoint}): {response.status_code}")
    assert checked >= 30
    assert leaks == [], "\n".join(leaks)
    assert _snapshot(app, ids) == before
