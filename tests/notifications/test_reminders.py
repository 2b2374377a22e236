"""Reminders in office time, escalation, digests and settings, on a frozen clock.

No broker and no worker: REDIS_URL is empty so nothing is dispatched, and each
test calls the services (``queue_reminders``, ``queue_digests``, ``deliver``)
itself at the moment it sets with ``clock.set_now``.
"""

from __future__ import annotations

import re
import threading
from datetime import date, datetime, timedelta
from email.header import decode_header, make_header
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlmodel import col, select

from workflow import clock, tasks
from workflow.extensions import db
from workflow.memos import reminders as reminder_sweep
from workflow.models import (
    Memo,
    MemoStep,
    Notification,
    NotificationKind,
    NotificationStatus,
    OfficeDay,
    User,
)
from workflow.outbox import delivery

BKK = ZoneInfo("Asia/Bangkok")
URGENT_SUBJECT = "ขอความเห็นชอบจัดซื้อวัสดุสำนักงาน (ด่วน)"
HEAD_NAME = "นางสาวอิสริย์ ผดุงทศ"
CLERK_NAME = "นางสาวพิมพ์ชนก ศรีสุข"
ENDORSEMENT = "เพื่อโปรดพิจารณา"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def app(make_app: Any) -> Flask:
    """No broker, and API tokens that outlive the clock's jumps of days and months."""
    return make_app(REDIS_URL="", API_TOKEN_HOURS=24 * 365 * 3)  # type: ignore[no-any-return]


def bkk(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock moment in Bangkok."""
    return datetime(year, month, day, hour, minute, tzinfo=BKK)


def create_memo(api: Any, urgency: str, subject: str = URGENT_SUBJECT) -> int:
    """A draft by clerk through the API; returns its id."""
    response = api.call("POST", "/memos", "clerk", json={
        "subject": subject, "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม",
        "urgency": urgency, "body": "<p>ตามที่สำนักปลัดได้รับจัดสรรงบประมาณ</p>"})
    assert response.status_code == 201, response.json
    assert response.json["urgency"] == urgency
    return int(response.json["id"])


def submit_at(api: Any, moment: datetime, urgency: str = "urgent") -> int:
    """Freeze the clock at ``moment``, then create and submit a memo as clerk; returns its id."""
    clock.set_now(moment)
    memo_id = create_memo(api, urgency)
    response = api.act(memo_id, "clerk", "submit")
    assert response.status_code == 200, response.json
    assert response.json["state"] == "pending_1"
    return memo_id


def service_context(app: Flask) -> Any:
    """The context the services below run in: the bare app context, as in the Celery worker."""
    return app.app_context()


def sweep_at(app: Flask, moment: datetime) -> list[Notification]:
    """Run the reminder sweep with the clock at ``moment``; returns the rows it queued."""
    clock.set_now(moment)
    with service_context(app):
        ids = reminder_sweep.queue_reminders()
        return [row for i in ids if (row := db.session.get(Notification, i)) is not None]


def digests_at(app: Flask, moment: datetime) -> list[Notification]:
    """Run the morning digest with the clock at ``moment``; returns the rows it queued."""
    clock.set_now(moment)
    with service_context(app):
        ids = reminder_sweep.queue_digests()
        return [row for i in ids if (row := db.session.get(Notification, i)) is not None]


def rows(app: Flask, memo_id: int | None = None, kind: str | None = None) -> list[Notification]:
    """The outbox, oldest first, optionally of one memo and one kind."""
    with app.app_context():
        query = select(Notification).order_by(col(Notification.id))
        if memo_id is not None:
            query = query.where(Notification.memo_id == memo_id)
        if kind is not None:
            query = query.where(Notification.kind == kind)
        return list(db.session.exec(query).all())


def steps_of(app: Flask, memo_id: int) -> list[MemoStep]:
    """The memo's steps of its current round, in route order."""
    with app.app_context():
        return list(db.session.exec(
            select(MemoStep)
            .join(Memo, Memo.id == MemoStep.memo_id)  # type: ignore[arg-type]
            .where(MemoStep.memo_id == memo_id, MemoStep.round == Memo.round)
            .order_by(col(MemoStep.step_no))).all())


def user_id(app: Flask, username: str) -> int:
    """The id of a demo user."""
    with app.app_context():
        user = db.session.exec(select(User).where(User.username == username)).one()
        assert user.id is not None
        return user.id


def add_office_day(app: Flask, org_id: int, day: date, *, is_holiday: bool = True) -> None:
    """Give the office its own extra holiday (or working day)."""
    with app.app_context(), db.write() as session:
        session.add(OfficeDay(org_id=org_id, day=day, is_holiday=is_holiday,
                              note="วันหยุดพิเศษของหน่วยงาน"))


def assert_one_reminder(app: Flask, queued: list[Notification], memo_id: int, *,
                        to: str, number: int) -> Notification:
    """``queued`` is exactly reminder ``number`` of the memo's pending step, to ``to``."""
    assert [(r.kind, r.memo_id, r.reminder_no) for r in queued] == [
        (NotificationKind.REMINDER, memo_id, number)]
    [row] = queued
    assert row.recipient_id == user_id(app, to)
    assert row.email == f"{to}@example.com"
    assert row.status == NotificationStatus.PENDING
    assert row.dedupe_key == f"reminder:{row.memo_step_id}:{number}:{row.recipient_id}"
    return row


# -- the issue: an urgent memo submitted on Friday at 16:00 ------------------------------------

FRIDAY_CASES = [
    pytest.param(bkk(2026, 3, 13, 16), [],
                 [bkk(2026, 3, 14, 12), bkk(2026, 3, 15, 12), bkk(2026, 3, 16, 15, 59)],
                 bkk(2026, 3, 16, 16), id="friday-to-monday"),
    pytest.param(bkk(2026, 12, 4, 16), [],
                 [bkk(2026, 12, 5, 12), bkk(2026, 12, 6, 12), bkk(2026, 12, 7, 16),
                  bkk(2026, 12, 8, 15, 59)],
                 bkk(2026, 12, 8, 16), id="public-holiday-monday-to-tuesday"),
    pytest.param(bkk(2026, 3, 13, 16), [date(2026, 3, 16)],
                 [bkk(2026, 3, 14, 12), bkk(2026, 3, 15, 12), bkk(2026, 3, 16, 16),
                  bkk(2026, 3, 17, 15, 59)],
                 bkk(2026, 3, 17, 16), id="office-extra-holiday-monday-to-tuesday"),
    pytest.param(bkk(2026, 4, 10, 16), [],
                 [bkk(2026, 4, 13, 16), bkk(2026, 4, 14, 16), bkk(2026, 4, 15, 16),
                  bkk(2026, 4, 16, 15, 59)],
                 bkk(2026, 4, 16, 16), id="songkran-to-thursday"),
]


@pytest.mark.parametrize(("submitted", "office_holidays", "quiet", "due"), FRIDAY_CASES)
def test_urgent_memo_from_friday_afternoon_is_reminded_next_office_day(
        app: Flask, demo: dict[str, int], api: Any, submitted: datetime,
        office_holidays: list[date], quiet: list[datetime], due: datetime) -> None:
    """An urgent memo submitted Friday 16:00 is first reminded one office day later, not sooner."""
    for day in office_holidays:
        add_office_day(app, demo["org_id"], day)
    memo_id = submit_at(api, submitted)
    [step1, *_] = steps_of(app, memo_id)
    assert step1.next_reminder_at == due

    for moment in quiet:
        assert sweep_at(app, moment) == [], f"reminder queued at {moment}"
    assert_one_reminder(app, sweep_at(app, due), memo_id, to="head", number=1)
    assert [r.kind for r in rows(app, memo_id)] == [NotificationKind.ARRIVAL,
                                                    NotificationKind.REMINDER]


def test_extra_holiday_declared_after_submission_still_moves_the_reminder(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """An office holiday declared while the memo waits still keeps its reminder off that day."""
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    add_office_day(app, demo["org_id"], date(2026, 3, 16))
    assert sweep_at(app, bkk(2026, 3, 16, 16)) == []
    assert_one_reminder(app, sweep_at(app, bkk(2026, 3, 17, 16)), memo_id, to="head", number=1)


@pytest.mark.parametrize("task", ["queue_reminders", "send_digests"])
def test_worker_tasks_run_without_a_request(
        app: Flask, demo: dict[str, int], api: Any, task: str) -> None:
    """The beat's reminder and digest tasks work in the app context the worker gives them."""
    with app.app_context(), db.write() as session:
        head = session.get(User, demo["user_head"])
        assert head is not None
        head.daily_digest = True
    submit_at(api, bkk(2026, 3, 10, 9))
    clock.set_now(bkk(2026, 3, 11, 9))  # the urgent memo's first reminder is due
    assert getattr(tasks, task)() == 1  # FlaskTask.__call__: app.app_context(), no request


# -- repeats and escalation ----------------------------------------------------------------


@pytest.mark.parametrize("escalate_after", [3, 2], ids=["default-3", "configured-2"])
def test_repeats_follow_policy_then_escalate_to_drafter_and_stop(
        make_app: Any, app: Flask, demo: dict[str, int], api: Any,
        escalate_after: int) -> None:
    """Reminders repeat an office day apart; after ESCALATE_AFTER the drafter is told; then none."""
    sweeper = app if escalate_after == 3 else make_app(REDIS_URL="", ESCALATE_AFTER=escalate_after)
    assert sweeper.config["ESCALATE_AFTER"] == escalate_after
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    # Friday 16:00 + 1 office day, then one more office day each time.
    schedule = [bkk(2026, 3, 16, 16), bkk(2026, 3, 17, 16), bkk(2026, 3, 18, 16)]

    escalations: list[Notification] = []
    for number, due in enumerate(schedule[:escalate_after], start=1):
        assert sweep_at(sweeper, due - MINUTE) == [], f"reminder {number} early"
        queued = sweep_at(sweeper, due)
        reminders = [r for r in queued if r.kind == NotificationKind.REMINDER]
        escalations = [r for r in queued if r.kind == NotificationKind.ESCALATION]
        assert_one_reminder(sweeper, reminders, memo_id, to="head", number=number)
        if number < escalate_after:
            assert escalations == []
            [step1, *_] = steps_of(sweeper, memo_id)
            assert step1.next_reminder_at == schedule[number]

    [escalation] = escalations  # queued together with the last reminder
    assert escalation.kind == NotificationKind.ESCALATION
    assert escalation.recipient_id == user_id(sweeper, "clerk")
    assert escalation.email == "clerk@example.com"
    assert escalation.subject.startswith(
        "[ด่วน] บันทึกข้อความของท่านค้างอยู่ที่ หัวหน้าสำนักปลัด เกินกำหนดแล้ว")
    assert URGENT_SUBJECT in escalation.subject

    [step1, *_] = steps_of(sweeper, memo_id)
    assert step1.reminders_sent == escalate_after and step1.next_reminder_at is None
    for later in (schedule[-1].replace(hour=16, minute=30), bkk(2026, 4, 30, 10),
                  bkk(2027, 6, 1, 10)):
        assert sweep_at(sweeper, later) == []
    reminders = rows(sweeper, memo_id, NotificationKind.REMINDER)
    assert [r.reminder_no for r in reminders] == list(range(1, escalate_after + 1))
    assert len(rows(sweeper, memo_id, NotificationKind.ESCALATION)) == 1


def test_a_late_sweep_queues_one_reminder_not_a_backlog(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """A sweep that runs days late (beat was down) queues one reminder and schedules the next."""
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    late = bkk(2026, 3, 18, 10)  # reminders 1 and 2 were due Monday and Tuesday
    assert_one_reminder(app, sweep_at(app, late), memo_id, to="head", number=1)
    [step1, *_] = steps_of(app, memo_id)
    assert step1.next_reminder_at == bkk(2026, 3, 19, 10)
    assert sweep_at(app, late) == []


URGENCIES = [
    # submitted Tuesday 2026-03-10 09:00 Bangkok; first and second reminder
    pytest.param("most_urgent", bkk(2026, 3, 10, 11), bkk(2026, 3, 10, 13),
                 id="most_urgent-2h"),
    pytest.param("very_urgent", bkk(2026, 3, 10, 13), bkk(2026, 3, 11, 9),
                 id="very_urgent-4h"),
    pytest.param("urgent", bkk(2026, 3, 11, 9), bkk(2026, 3, 12, 9), id="urgent-1d"),
    pytest.param("normal", bkk(2026, 3, 12, 9), bkk(2026, 3, 16, 9), id="normal-2d"),
]


@pytest.mark.parametrize(("urgency", "first", "second"), URGENCIES)
def test_first_and_second_reminder_per_urgency(
        app: Flask, demo: dict[str, int], api: Any, urgency: str, first: datetime,
        second: datetime) -> None:
    """Each urgency's first reminder and repeat come after its own span of office time."""
    memo_id = submit_at(api, bkk(2026, 3, 10, 9), urgency=urgency)
    assert sweep_at(app, first - MINUTE) == []
    assert_one_reminder(app, sweep_at(app, first), memo_id, to="head", number=1)
    [step1, *_] = steps_of(app, memo_id)
    assert step1.next_reminder_at == second
    assert_one_reminder(app, sweep_at(app, second), memo_id, to="head", number=2)


# -- exactly once -----------------------------------------------------------------------------


def test_two_concurrent_sweeps_queue_each_reminder_once(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """Two sweeps racing at the due moment queue exactly one reminder per step."""
    memo_ids = [submit_at(api, bkk(2026, 3, 13, 16)) for _ in range(3)]
    clock.set_now(bkk(2026, 3, 16, 16))
    start = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with service_context(app):
                start.wait(timeout=30)
                results.append(reminder_sweep.queue_reminders())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert len(results) == 2
    queued = [i for result in results for i in result]
    assert len(queued) == len(set(queued)) == 3

    for memo_id in memo_ids:
        reminders = rows(app, memo_id, NotificationKind.REMINDER)
        assert [(r.reminder_no, r.recipient_id) for r in reminders] == [
            (1, user_id(app, "head"))]
        [step1, *_] = steps_of(app, memo_id)
        assert step1.reminders_sent == 1
        assert step1.next_reminder_at == bkk(2026, 3, 17, 16)


def test_two_sweeps_in_a_row_queue_one_reminder(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """Running the sweep twice at the same moment queues the reminder only once."""
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    due = bkk(2026, 3, 16, 16)
    assert_one_reminder(app, sweep_at(app, due), memo_id, to="head", number=1)
    assert sweep_at(app, due) == []
    assert len(rows(app, memo_id, NotificationKind.REMINDER)) == 1


# -- decisions stop reminders -------------------------------------------------------------


def test_approval_stops_the_steps_reminders_and_starts_the_next_steps(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """Once the head approves, the head hears no more; the deputy's clock starts at the approval."""
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    assert_one_reminder(app, sweep_at(app, bkk(2026, 3, 16, 16)), memo_id, to="head", number=1)

    clock.set_now(bkk(2026, 3, 17, 10))
    response = api.act(memo_id, "head", "approve", ENDORSEMENT)
    assert response.status_code == 200, response.json
    assert response.json["state"] == "pending_2"
    step1, step2, *_ = steps_of(app, memo_id)
    assert step1.next_reminder_at is None
    assert step2.next_reminder_at == bkk(2026, 3, 18, 10)

    assert sweep_at(app, bkk(2026, 3, 17, 16)) == []  # the head's second reminder is gone
    assert sweep_at(app, bkk(2026, 3, 18, 9, 59)) == []
    row = assert_one_reminder(app, sweep_at(app, bkk(2026, 3, 18, 10)), memo_id, to="deputy",
                              number=1)
    assert row.memo_step_id == step2.id
    assert sweep_at(app, bkk(2027, 1, 4, 10)) != []  # the deputy's reminders go on
    head_reminders = [r for r in rows(app, memo_id, NotificationKind.REMINDER)
                      if r.recipient_id == user_id(app, "head")]
    assert len(head_reminders) == 1


def test_each_member_of_a_group_has_their_own_reminders(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """กองคลัง and กองช่าง wait together: each is reminded on their own; the one who has
    approved is reminded no more, the other still is."""
    clock.set_now(bkk(2026, 3, 13, 16))
    created = api.call("POST", "/memos", "clerk", json={
        "subject": URGENT_SUBJECT, "addressee": "นายก", "urgency": "urgent",
        "route_id": demo["procurement_route_id"], "amount": "250000"})
    memo_id = created.json["id"]
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    assert api.act(memo_id, "head", "approve", ENDORSEMENT).status_code == 200
    queued = sweep_at(app, bkk(2026, 3, 16, 16))
    assert sorted((r.recipient_id, r.reminder_no) for r in queued) == sorted(
        [(user_id(app, "kongklang"), 1), (user_id(app, "kongchang"), 1)])
    assert len({r.memo_step_id for r in queued}) == 2  # each on their own row

    clock.set_now(bkk(2026, 3, 17, 9))
    assert api.act(memo_id, "kongklang", "approve", "เห็นชอบ").status_code == 200
    later = sweep_at(app, bkk(2026, 3, 18, 16))
    assert [(r.recipient_id, r.memo_id) for r in later] == [
        (user_id(app, "kongchang"), memo_id)]


DECISIONS = [
    pytest.param("head", "send_back", "กรุณาแก้ไขวันที่ในย่อหน้าที่สอง", id="send_back"),
    pytest.param("head", "reject", "ไม่อยู่ในอำนาจพิจารณา", id="reject"),
    pytest.param("clerk", "withdraw", "", id="withdraw"),
]


@pytest.mark.parametrize(("actor", "action", "comment"), DECISIONS)
def test_memo_leaving_the_route_stops_reminders(
        app: Flask, demo: dict[str, int], api: Any, actor: str, action: str,
        comment: str) -> None:
    """Sent back, rejected or withdrawn: nobody is reminded about it any more."""
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    assert_one_reminder(app, sweep_at(app, bkk(2026, 3, 16, 16)), memo_id, to="head", number=1)
    clock.set_now(bkk(2026, 3, 17, 10))
    response = api.act(memo_id, actor, action, comment)
    assert response.status_code == 200, response.json
    assert all(step.next_reminder_at is None for step in steps_of(app, memo_id))
    for moment in (bkk(2026, 3, 17, 16), bkk(2026, 3, 18, 16), bkk(2027, 1, 4, 10)):
        assert sweep_at(app, moment) == []
    assert len(rows(app, memo_id, NotificationKind.REMINDER)) == 1


# -- delivery ------------------------------------------------------------------------------


def decoded_raw_header(message: Any, name: str) -> str:
    """A header decoded by RFC 2047 from its raw text.

    CPython's address parser keeps the folding space between two encoded-words of a
    display name (นางสาวอิสริย์ ผ ดุงทศ); RFC 2047 says to drop it, as decode_header does.
    """
    [raw] = [value for key, value in message.raw_items() if key.lower() == name.lower()]
    return str(make_header(decode_header(raw)))


def test_reminder_is_delivered_by_smtp_with_thai_subject(
        make_app: Any, app: Flask, demo: dict[str, int], api: Any, smtp_server: Any) -> None:
    """The queued reminder goes out once over SMTP to the head, its Thai subject intact."""
    memo_id = demo["memo_id"]  # the seed memo: normal urgency, so no [ด่วน] prefix
    clock.set_now(bkk(2026, 3, 13, 16))
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    [reminder] = sweep_at(app, bkk(2026, 3, 17, 16))  # two office days later
    assert reminder.id is not None

    mailer = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, REDIS_URL="")
    with mailer.app_context():
        assert delivery.deliver(reminder.id) == "sent"
        assert delivery.deliver(reminder.id) == "not-due-or-taken"
        memo_subject = db.session.exec(
            select(Notification.subject).where(Notification.id == reminder.id)).one()
    [message] = smtp_server.wait_for(1)
    subject = str(message["Subject"])
    assert subject.startswith("ขอเตือน: บันทึกข้อความยังรอท่านพิจารณา (ครั้งที่ ๑)")
    assert "รายงานความก้าวหน้าการดำเนินการตามมาตรการ" in subject
    assert subject == memo_subject
    [to] = message["To"].addresses
    assert to.addr_spec == "head@example.com"
    assert HEAD_NAME in decoded_raw_header(message, "To")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"http://localhost/memos/{memo_id}" in text
    [row] = [r for r in rows(app, memo_id) if r.id == reminder.id]
    assert row.status == NotificationStatus.SENT and row.attempts == 1
    assert row.sent_at == bkk(2026, 3, 17, 16)
    assert len(smtp_server.messages) == 1  # the arrival was never handed over


# -- the recipient's own settings ---------------------------------------------------------

SETTINGS = [
    # the checked boxes a browser posts; it always posts the (here unchecked) CSRF token too
    pytest.param({"notify_arrivals": "y"}, NotificationStatus.PENDING, "", False,
                 id="arrivals-on"),
    pytest.param({"notify_arrivals": "y", "daily_digest": "y"}, NotificationStatus.SKIPPED,
                 "ผู้รับเลือกรับสรุปรายวันแทน", True, id="digest-instead"),
    pytest.param({"daily_digest": "y"}, NotificationStatus.SKIPPED,
                 "ผู้รับเลือกรับสรุปรายวันแทน", True, id="digest-only"),
    pytest.param({}, NotificationStatus.SKIPPED, "ผู้รับปิดการแจ้งเตือนเรื่องเข้า", False,
                 id="arrivals-off-no-digest"),
]


@pytest.mark.parametrize(("form", "arrival_status", "skip_reason", "digest"), SETTINGS)
def test_settings_decide_arrival_and_digest_but_reminders_still_go(
        app: Flask, demo: dict[str, int], api: Any, client: Any, auth: Any, form: dict[str, str],
        arrival_status: str, skip_reason: str, digest: bool) -> None:
    """The head's settings skip the arrival email or swap it for a digest; reminders still go."""
    clock.set_now(bkk(2026, 3, 9, 15))
    auth.login("head")
    response = client.post("/settings", data={"csrf_token": "", **form})
    assert response.status_code == 302
    auth.logout()
    with app.app_context():
        head = db.session.get(User, demo["user_head"])
        assert head is not None
        assert (head.notify_arrivals, head.daily_digest) == (
            "notify_arrivals" in form, "daily_digest" in form)

    memo_id = submit_at(api, bkk(2026, 3, 10, 9))  # Tuesday
    [arrival] = rows(app, memo_id, NotificationKind.ARRIVAL)
    assert arrival.recipient_id == demo["user_head"]
    assert (arrival.status, arrival.last_error) == (arrival_status, skip_reason)

    wednesday = digests_at(app, bkk(2026, 3, 11, 8, 30))
    if digest:
        [row] = wednesday
        assert row.kind == NotificationKind.DIGEST and row.recipient_id == demo["user_head"]
        assert row.dedupe_key == f"digest:{demo['user_head']}:2026-03-11"
        assert row.subject.startswith("สรุปบันทึกข้อความรอท่านพิจารณา ๑ เรื่อง")
        assert URGENT_SUBJECT in row.body_text and URGENT_SUBJECT in row.body_html
        assert f"http://localhost/memos/{memo_id}" in row.body_text
    else:
        assert wednesday == []
    assert digests_at(app, bkk(2026, 3, 11, 8, 30)) == []  # once a day, however often it runs

    assert_one_reminder(app, sweep_at(app, bkk(2026, 3, 11, 9)), memo_id, to="head", number=1)


@pytest.mark.parametrize("moment", [
    pytest.param(bkk(2026, 3, 14, 8, 30), id="saturday"),
    pytest.param(bkk(2026, 3, 15, 8, 30), id="sunday"),
    pytest.param(bkk(2026, 4, 13, 8, 30), id="songkran"),
    pytest.param(bkk(2026, 3, 16, 8, 30), id="office-extra-holiday"),
])
def test_no_digest_on_a_day_the_office_is_closed(
        app: Flask, demo: dict[str, int], api: Any, moment: datetime) -> None:
    """The morning digest skips weekends, Thai holidays and the office's own holidays."""
    with app.app_context(), db.write() as session:
        head = session.get(User, demo["user_head"])
        assert head is not None
        head.daily_digest = True
    add_office_day(app, demo["org_id"], date(2026, 3, 16))
    submit_at(api, bkk(2026, 3, 13, 10))
    assert digests_at(app, moment) == []
    assert len(digests_at(app, bkk(2026, 3, 17, 8, 30))) == 1  # the next working day


def test_digest_lists_only_memos_waiting_for_that_user(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """The deputy's digest lists the memo the head passed on, not the one still at the head."""
    with app.app_context(), db.write() as session:
        for username in ("head", "deputy"):
            user = session.get(User, demo[f"user_{username}"])
            assert user is not None
            user.daily_digest = True
    passed_on = submit_at(api, bkk(2026, 3, 10, 9))
    clock.set_now(bkk(2026, 3, 10, 10))
    assert api.act(passed_on, "head", "approve", ENDORSEMENT).status_code == 200
    clock.set_now(bkk(2026, 3, 10, 11))
    still_at_head = create_memo(api, "normal", subject="ขออนุมัติเดินทางไปราชการ")
    assert api.act(still_at_head, "clerk", "submit").status_code == 200

    queued = {row.recipient_id: row for row in digests_at(app, bkk(2026, 3, 11, 8, 30))}
    assert set(queued) == {demo["user_head"], demo["user_deputy"]}
    assert URGENT_SUBJECT in queued[demo["user_deputy"]].body_text
    assert "ขออนุมัติเดินทางไปราชการ" not in queued[demo["user_deputy"]].body_text
    assert "ขออนุมัติเดินทางไปราชการ" in queued[demo["user_head"]].body_text
    assert URGENT_SUBJECT not in queued[demo["user_head"]].body_text


# -- the memo page ------------------------------------------------------------------------------


def notices(html: str) -> list[tuple[str, str]]:
    """The memo page's email notices as (status class, text with spaces collapsed)."""
    found = re.findall(r'<li class="notice notice-(\w+)">(.*?)</li>', html, re.S)
    return [(status, " ".join(re.sub(r"<[^>]+>", " ", text).split())) for status, text in found]


def test_memo_page_lists_notifications_with_recipient_and_status(
        make_app: Any, app: Flask, demo: dict[str, int], api: Any, client: Any, auth: Any,
        smtp_server: Any) -> None:
    """The drafter sees each email on the memo page: kind, reminder number, recipient, status."""
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    [arrival] = rows(app, memo_id, NotificationKind.ARRIVAL)
    assert arrival.id is not None
    mailer = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port, REDIS_URL="")
    with mailer.app_context():
        assert delivery.deliver(arrival.id) == "sent"
    for due in (bkk(2026, 3, 16, 16), bkk(2026, 3, 17, 16), bkk(2026, 3, 18, 16)):
        assert sweep_at(app, due)

    auth.login("clerk")
    response = client.get(f"/memos/{memo_id}")
    assert response.status_code == 200
    listed = notices(response.get_data(as_text=True))
    assert [status for status, _ in listed] == ["sent", "pending", "pending", "pending",
                                                "pending"]
    arrival_text, first, second, third, escalation = (text for _, text in listed)
    assert arrival_text.startswith(f"แจ้งเรื่องเข้า ถึง {HEAD_NAME} ส่งแล้ว")
    assert first.startswith(f"เตือน ครั้งที่ ๑ ถึง {HEAD_NAME} รอส่ง")
    assert second.startswith(f"เตือน ครั้งที่ ๒ ถึง {HEAD_NAME} รอส่ง")
    assert third.startswith(f"เตือน ครั้งที่ ๓ ถึง {HEAD_NAME} รอส่ง")
    assert escalation.startswith(f"แจ้งเรื่องค้าง ถึง {CLERK_NAME} รอส่ง")


def test_memo_page_shows_a_skipped_arrival(
        app: Flask, demo: dict[str, int], api: Any, client: Any, auth: Any) -> None:
    """An arrival the head turned off shows as not sent, by the recipient's settings."""
    with app.app_context(), db.write() as session:
        head = session.get(User, demo["user_head"])
        assert head is not None
        head.notify_arrivals = False
    memo_id = submit_at(api, bkk(2026, 3, 13, 16))
    auth.login("clerk")
    listed = notices(client.get(f"/memos/{memo_id}").get_data(as_text=True))
    assert listed == [("skipped",
                       f"แจ้งเรื่องเข้า ถึง {HEAD_NAME} ไม่ส่ง (ตามการตั้งค่าของผู้รับ)")]
