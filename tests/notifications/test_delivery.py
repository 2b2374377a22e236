"""Email notifications through a real Redis, a real Celery worker and beat, and aiosmtpd."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import select

from workflow.extensions import db
from workflow.models import Notification, NotificationStatus

CHAIN = [("head", "เพื่อโปรดพิจารณา"), ("deputy", "เพื่อโปรดพิจารณา"),
         ("permsec", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ"), ("chief", "อนุมัติ")]


@pytest.fixture
def app(notify_app):
    """Every fixture of this module talks to the private Redis and SMTP server."""
    return notify_app


def _rows(app: Any, memo_id: int | None = None) -> list[Notification]:
    with app.app_context():
        query = select(Notification).order_by(Notification.id)
        if memo_id is not None:
            query = query.where(Notification.memo_id == memo_id)
        rows = list(db.session.exec(query).all())
        db.session.close()
        return rows


def _wait_rows(app: Any, predicate: Any, timeout: float = 20.0) -> list[Notification]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = _rows(app)
        if predicate(rows):
            return rows
        time.sleep(0.1)
    raise AssertionError(f"condition not met; rows: {[(r.id, r.status) for r in _rows(app)]}")


def test_submit_emails_the_head_once_with_thai_subject_and_link(
        app, demo, api, client, auth, smtp_server, celery_processes):
    """Submitting the seed memo delivers one email to the head of office within seconds."""
    memo_id = demo["memo_id"]
    started = time.monotonic()
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    [message] = smtp_server.wait_for(1)
    elapsed = time.monotonic() - started

    assert "head@example.com" in str(message["To"])
    subject = str(message["Subject"])
    assert subject.startswith("มีบันทึกข้อความรอท่านพิจารณา: รายงานความก้าวหน้า")
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    link = f"http://localhost/memos/{memo_id}"
    assert link in text and link in html
    assert "นางสาวพิมพ์ชนก ศรีสุข" in text  # who sent it
    assert "ปกติ" in text and "สป ๓๔๕๐๑" in text  # urgency and ที่
    assert "ตามที่สำนักงานคณะกรรมการ" not in text + html  # never the memo's body
    assert elapsed < 15

    # The link works, behind the login.
    assert client.get(f"/memos/{memo_id}").status_code == 302
    auth.login("head")
    assert client.get(f"/memos/{memo_id}").status_code == 200
    time.sleep(1.5)  # a sweep or two later, still exactly one
    assert len(smtp_server.messages) == 1
    [row] = _rows(app, memo_id)
    assert row.status == NotificationStatus.SENT and row.attempts == 1


@pytest.mark.one_backend
def test_each_approval_tells_the_next_signer_and_the_end_tells_the_drafter(
        app, demo, api, smtp_server, celery_processes):
    """Each approval emails the next signer; the final approval emails the drafter."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    smtp_server.wait_for(1)
    for count, (username, phrase) in enumerate(CHAIN, start=2):
        assert api.act(memo_id, username, "approve", phrase).status_code == 200
        smtp_server.wait_for(count)
    recipients = [str(m["To"]) for m in smtp_server.messages]
    expected = ["head", "deputy", "permsec", "chief", "clerk"]
    assert [r.split("<")[-1].split("@")[0] for r in recipients] == expected
    assert str(smtp_server.messages[-1]["Subject"]).startswith(
        "บันทึกข้อความของท่านได้รับการอนุมัติแล้ว")
    time.sleep(1.5)
    assert len(smtp_server.messages) == 5


@pytest.mark.one_backend
def test_redis_down_during_an_approval(app, demo, api, smtp_server, redis_server,
                                       celery_processes):
    """The approval commits while Redis is stopped; its email arrives once Redis is back."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    smtp_server.wait_for(1)

    redis_server.stop()
    started = time.monotonic()
    response = api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    assert response.status_code == 200, response.json
    assert response.json["state"] == "pending_2"
    assert time.monotonic() - started < 10  # the click is not held hostage by the broker
    time.sleep(2)
    assert len(smtp_server.messages) == 1

    redis_server.start()
    messages = smtp_server.wait_for(2, timeout=40)
    assert "deputy@example.com" in str(messages[1]["To"])
    time.sleep(2)
    assert len(smtp_server.messages) == 2


@pytest.mark.one_backend
def test_smtp_down_is_retried_and_delivered_when_it_returns(
        app, demo, api, smtp_server, celery_processes):
    """With the SMTP server down the send is retried with backoff, then delivered once."""
    smtp_server.stop()
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    rows = _wait_rows(app, lambda rows: rows and rows[0].attempts >= 2)
    assert rows[0].status in (NotificationStatus.PENDING, NotificationStatus.SENDING)
    assert rows[0].last_error

    smtp_server.start()
    smtp_server.wait_for(1, timeout=30)
    _wait_rows(app, lambda rows: rows[0].status == NotificationStatus.SENT)
    time.sleep(2)
    assert len(smtp_server.messages) == 1


@pytest.mark.one_backend
def test_worker_killed_in_the_middle_of_a_send(app, demo, api, smtp_server, celery_processes):
    """A worker killed mid-send: after its lease runs out, the email goes out exactly once."""
    smtp_server.stall_seconds = 4
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    _wait_rows(app, lambda rows: rows and rows[0].status == NotificationStatus.SENDING)
    time.sleep(0.5)  # well inside the SMTP conversation
    celery_processes.kill_worker()
    smtp_server.stall_seconds = 0
    assert smtp_server.messages == []

    celery_processes.start_worker()
    smtp_server.wait_for(1, timeout=40)
    time.sleep(3)
    assert len(smtp_server.messages) == 1
    [row] = _rows(app, memo_id)
    assert row.status == NotificationStatus.SENT and row.attempts == 2


def test_a_redelivered_task_sends_nothing_twice(app, demo, api, smtp_server):
    """Delivering the same row twice (a redelivered task) sends one email."""
    from workflow.outbox import delivery

    memo_id = demo["memo_id"]
    with app.app_context():
        app.config["REDIS_URL"] = ""  # no worker here: deliver by hand
    api.act(memo_id, "clerk", "submit")
    [row] = _rows(app, memo_id)
    with app.app_context():
        assert delivery.deliver(row.id) == "sent"
        assert delivery.deliver(row.id) == "not-due-or-taken"
    assert len(smtp_server.wait_for(1)) == 1


def test_gives_up_after_the_last_try_and_an_admin_retries(app, demo, api, client, auth,
                                                          smtp_server):
    """After the last attempt the row is failed, listed for admins, and their retry sends it."""
    from datetime import timedelta

    from workflow import clock
    from workflow.outbox import delivery

    app.config.update(REDIS_URL="", MAIL_MAX_ATTEMPTS=2)
    smtp_server.stop()
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    [row] = _rows(app, memo_id)
    with app.app_context():
        assert delivery.deliver(row.id) == "retry"
        clock.set_now(clock.now() + timedelta(seconds=5))
        assert delivery.sweep() == [row.id]
        assert delivery.deliver(row.id) == "failed"
    [row] = _rows(app, memo_id)
    assert row.status == NotificationStatus.FAILED and "Error" in row.last_error

    auth.login("head")
    assert client.get("/admin/outbox").status_code == 403
    auth.login("admin")
    page = client.get("/admin/outbox?status=failed").text
    assert "ส่งไม่สำเร็จ" in page and "ส่งใหม่" in page
    assert client.post(f"/admin/outbox/{row.id}/retry").status_code == 302
    smtp_server.start()
    with app.app_context():
        assert delivery.deliver(row.id) == "sent"
    assert len(smtp_server.wait_for(1)) == 1
    auth.login("clerk")
    memo_page = client.get(f"/memos/{memo_id}").text
    assert "ส่งแล้ว" in memo_page and "แจ้งเรื่องเข้า" in memo_page
