"""Circulation emails through a real Redis, Celery worker and beat, and aiosmtpd: each
recipient gets exactly one, and none is lost or doubled while Redis is down."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask

from tests.circulation.factories import FINANCE, CirculationOffice, circulation_office
from workflow.extensions import db

SUBJECT = "มีบันทึกข้อความแจ้งเวียนให้ท่านทราบ"


@pytest.fixture
def app(notify_app: Flask) -> Flask:
    return notify_app


@pytest.fixture
def office(app: Flask) -> CirculationOffice:
    with app.app_context():
        return circulation_office(db.session)


def _circulation_mail(smtp_server: Any) -> list[Any]:
    return [m for m in list(smtp_server.messages) if str(m["Subject"]).startswith(SUBJECT)]


def _wait(smtp_server: Any, count: int, timeout: float = 40.0) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _circulation_mail(smtp_server)
        if len(found) >= count:
            return found
        time.sleep(0.1)
    raise AssertionError(f"expected {count} circulation emails, got "
                         f"{[str(m['To']) for m in _circulation_mail(smtp_server)]}")


# The worker on SQLite is tried by the delivery test of one submit; this one sends eight.
@pytest.mark.one_backend
def test_all_staff_each_get_one_email(app: Flask, office: CirculationOffice, api: Any,
                                      smtp_server: Any, celery_processes: Any) -> None:
    response = api.call("POST", f"/memos/{office.memo.id}/circulation",
                        office.people["chief"].username, json={"all_staff": True})
    assert response.status_code == 201, response.json
    names = ("clerk", "head", "finance1", "finance2", "engineer", "admin")
    messages = _wait(smtp_server, len(names))
    time.sleep(2)  # a sweep or two later, still one each
    messages = _circulation_mail(smtp_server)
    addresses = sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in messages)
    assert addresses == sorted(office.people[n].email for n in names)
    body = messages[0].get_body(preferencelist=("plain",)).get_content()
    assert f"http://localhost/memos/{office.memo.id}" in body
    assert office.people["chief"].full_name in body  # แจ้งเวียนโดย


@pytest.mark.one_backend
def test_redis_down_while_circulating(app: Flask, office: CirculationOffice, api: Any,
                                      smtp_server: Any, redis_server: Any,
                                      celery_processes: Any) -> None:
    redis_server.stop()
    started = time.monotonic()
    response = api.call("POST", f"/memos/{office.memo.id}/circulation",
                        office.people["chief"].username, json={"divisions": [FINANCE]})
    assert response.status_code == 201, response.json
    assert time.monotonic() - started < 10
    redis_server.start()
    _wait(smtp_server, 2)
    time.sleep(2)
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">")
                  for m in _circulation_mail(smtp_server)) == sorted(
        office.people[n].email for n in ("finance1", "finance2"))
