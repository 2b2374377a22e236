"""A group step's emails through a real Redis, a Celery worker and aiosmtpd: each member gets
their own arrival email, and a send-back to the step emails them again and tells the
drafter, each exactly once."""

from __future__ import annotations

import time
from typing import Any

import pytest


@pytest.fixture
def app(notify_app):
    """Every fixture of this module talks to the private Redis and SMTP server."""
    return notify_app


def _logins(messages: list[Any]) -> list[str]:
    return [str(m["To"]).split("<")[-1].split("@")[0] for m in messages]


@pytest.mark.one_backend
def test_group_members_each_get_their_email_and_a_send_back_emails_them_again(
        app, demo, api, smtp_server, celery_processes):
    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ขออนุมัติจัดซื้อรถบรรทุกน้ำ", "addressee": "นายก",
        "route_id": demo["procurement_route_id"], "amount": "2,500,000"})
    memo_id = created.json["id"]
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    smtp_server.wait_for(1)
    assert api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา").status_code == 200
    messages = smtp_server.wait_for(3)
    assert sorted(_logins(messages[1:])) == ["kongchang", "kongklang"]
    for who in ("kongklang", "kongchang"):
        assert api.act(memo_id, who, "approve", "เห็นชอบ").status_code == 200
    smtp_server.wait_for(4)  # ปลัด, once both have approved
    back = api.act(memo_id, "permsec", "send_back", "โปรดตรวจสอบราคากลาง", target_step=2)
    assert back.status_code == 200, back.json
    messages = smtp_server.wait_for(7)
    first = _logins(messages[:4])
    assert (first[0], sorted(first[1:3]), first[3]) == (
        "head", ["kongchang", "kongklang"], "permsec")
    later = messages[4:]
    assert sorted(_logins(later)) == ["clerk", "kongchang", "kongklang"]
    to_clerk = next(m for m in later if "clerk@" in str(m["To"]))
    assert str(to_clerk["Subject"]).startswith(
        "บันทึกข้อความของท่านถูกส่งกลับให้ ผู้อำนวยการกองคลัง และ ผู้อำนวยการกองช่าง พิจารณาใหม่")
    text = to_clerk.get_body(preferencelist=("plain",)).get_content()
    assert "โปรดตรวจสอบราคากลาง" in text
    time.sleep(1.5)  # a sweep or two later, still exactly these
    assert len(smtp_server.messages) == 7
