"""Reminders of unacknowledged circulations by the office's policy (frozen clock, no broker),
the completion certificate's acknowledgements in the PDF's text, and the admin settings that
circulation adds (a position's division, drafters may circulate), each audited."""

from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlmodel import col, select

from tests.circulation.factories import FINANCE, CirculationOffice, circulation_office
from tests.memos.test_pdf import nfkd
from workflow import clock
from workflow.circulation import notices, operations
from workflow.circulation.recipients import Targets
from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.memos import documents
from workflow.models import (
    AuditAction,
    AuditEvent,
    Notification,
    NotificationKind,
    Organization,
    Position,
    User,
)
from workflow.thai import format_datetime

BKK = ZoneInfo("Asia/Bangkok")


@pytest.fixture
def app(make_app: Any) -> Flask:
    """No broker: the tests run the sweep themselves."""
    return make_app(REDIS_URL="")  # type: ignore[no-any-return]


@pytest.fixture
def office(app: Flask) -> CirculationOffice:
    with app.app_context():
        return circulation_office(db.session)


def _acknowledge(app: Flask, office: CirculationOffice, name: str, note: str = "") -> None:
    with app.app_context():
        user = db.session.get(User, office.id_of(name))
        assert user is not None
        operations.acknowledge(memo_id=office.memo.id or 0,
                               principal=principal_for(db.session, user), note=note)


def _circulate(app: Flask, office: CirculationOffice, targets: Targets) -> None:
    with app.app_context():
        operations.circulate(memo_id=office.memo.id or 0, actor_id=office.id_of("chief"),
                             targets=targets)


def _sweep(app: Flask, moment: datetime) -> list[Notification]:
    clock.set_now(moment)
    with app.app_context():
        ids = notices.queue_reminders()
        return [n for i in ids if (n := db.session.get(Notification, i)) is not None]


def test_reminders_follow_the_office_policy_and_stop_after_its_escalation_count(
        app: Flask, office: CirculationOffice) -> None:
    with app.app_context(), db.write() as session:
        org = session.get(Organization, office.office.id)
        assert org is not None
        org.reminder_policy = json.dumps({"normal": {"first": "2h", "repeat": "1h"}})
        org.escalate_after = 2
    clock.set_now(datetime(2027, 6, 9, 9, 0, tzinfo=BKK))  # a Wednesday, an office day
    _circulate(app, office, Targets(divisions=(FINANCE,)))
    clock.set_now(datetime(2027, 6, 9, 10, 0, tzinfo=BKK))
    _acknowledge(app, office, "finance1")
    assert _sweep(app, datetime(2027, 6, 9, 10, 59, tzinfo=BKK)) == []
    [first] = _sweep(app, datetime(2027, 6, 9, 11, 0, tzinfo=BKK))
    assert (first.kind, first.recipient_id, first.reminder_no) == (
        NotificationKind.CIRCULATION_REMINDER, office.id_of("finance2"), 1)
    assert first.subject.startswith("ขอเตือน: บันทึกข้อความแจ้งเวียนยังรอท่านกด “ทราบ” (ครั้งที่ ๑)")
    assert first.dedupe_key.startswith("circulation_reminder:") and first.dedupe_key.endswith(":1")
    assert _sweep(app, datetime(2027, 6, 9, 11, 30, tzinfo=BKK)) == []  # repeat is 1 h
    [second] = _sweep(app, datetime(2027, 6, 9, 12, 0, tzinfo=BKK))
    assert (second.recipient_id, second.reminder_no) == (office.id_of("finance2"), 2)
    # Two reminders is the office's escalation count: no more chasing.
    assert _sweep(app, datetime(2027, 6, 10, 15, 0, tzinfo=BKK)) == []
    assert _sweep(app, datetime(2027, 6, 30, 15, 0, tzinfo=BKK)) == []


def test_reminders_wait_for_office_time_and_stop_once_acknowledged(
        app: Flask, office: CirculationOffice) -> None:
    """The server's policy for ปกติ (2 office days): circulated on Friday afternoon, due on
    Tuesday afternoon, not over the weekend; an acknowledgement meanwhile ends it."""
    clock.set_now(datetime(2027, 6, 11, 15, 0, tzinfo=BKK))  # Friday
    _circulate(app, office, Targets(divisions=(FINANCE,)))
    assert _sweep(app, datetime(2027, 6, 14, 16, 0, tzinfo=BKK)) == []  # Monday
    _acknowledge(app, office, "finance1")
    due = _sweep(app, datetime(2027, 6, 15, 15, 0, tzinfo=BKK))  # Tuesday, two office days
    assert [n.recipient_id for n in due] == [office.id_of("finance2")]


def _pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "memo.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_the_certificate_lists_acknowledgements_with_their_dates(
        app: Flask, office: CirculationOffice, client: Any, auth: Any, tmp_path: Path,
        artifacts: Path) -> None:
    _circulate(app, office, Targets(divisions=(FINANCE,)))
    _acknowledge(app, office, "finance1", "ทราบ")
    with app.app_context():
        acked_at = db.session.exec(select(AuditEvent.created_at).where(
            AuditEvent.action == AuditAction.MEMO_ACKNOWLEDGED)).one()
    auth.login(office.people["chief"].username)
    response = client.get(f"/memos/{office.memo.id}/circulation.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    (artifacts / "circulation.pdf").write_bytes(response.data)
    text = nfkd(_pdftotext(response.data, tmp_path))
    for expected in ("หนังสือรับรองการลงนาม", "แจ้งเวียนเพื่อทราบ และการรับทราบ",
                     office.people["finance1"].full_name, office.people["finance2"].full_name,
                     "ยังไม่รับทราบ", format_datetime(acked_at)):
        assert nfkd(expected) in text, expected
    # The print view says the same; the sealed final copy (made at approval) does not.
    printed = client.get(f"/memos/{office.memo.id}/print").get_data(as_text=True)
    assert 'class="circulation-acks"' in printed
    with app.test_request_context():
        loaded = documents.load_memo(db.session, office.memo.id or 0)
        view = documents.memo_view(principal_for(db.session, office.people["chief"]), loaded,
                                   for_page=False)
        seal = documents.SealBlock("อบต.", clock.now(), "ab" * 32)
        html = documents.render_html(documents._document(view, seal), "print.css")  # noqa: SLF001
    assert "circulation-acks" not in html


def test_a_positions_division_is_edited_by_the_admin_and_audited(
        app: Flask, office: CirculationOffice, client: Any, auth: Any) -> None:
    auth.login(office.people["admin"].username)
    position_id = office.positions["engineer"]
    page = client.get(f"/admin/positions/{position_id}").get_data(as_text=True)
    found = re.search(r'name="seen" type="hidden" value="([^"]+)"', page)
    assert found is not None
    seen = found.group(1)
    with app.app_context():
        position = db.session.get(Position, position_id)
        assert position is not None
        title, holder = position.title, position.holder_id
    response = client.post(f"/admin/positions/{position_id}", data={
        "title": title, "holder_id": str(holder), "division": "  กองการศึกษา  ", "seen": seen})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Position, position_id).division == "กองการศึกษา"  # type: ignore[union-attr]
        event = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.ADMIN_CHANGE).order_by(
            col(AuditEvent.seq).desc())).first()
    assert event is not None
    details = json.loads(event.details)
    assert details["before"]["division"] == "กองช่าง"
    assert details["after"]["division"] == "กองการศึกษา"
    too_long = client.post(f"/admin/positions/{position_id}", data={
        "title": title, "holder_id": str(holder), "division": "ก" * 101})
    assert too_long.status_code == 422
    assert "กอง/สำนักยาวเกินไป" in too_long.get_data(as_text=True)


def test_drafters_may_circulate_is_an_audited_office_setting(
        app: Flask, office: CirculationOffice) -> None:
    from workflow.admin import office_settings

    with app.app_context():
        admin = db.session.get(User, office.id_of("admin"))
        assert admin is not None
        changed = office_settings.update_settings(
            principal=principal_for(db.session, admin), changes={"drafters_may_circulate": True})
        assert changed == ["drafters_may_circulate"]
        assert db.session.get(Organization, office.office.id).drafters_may_circulate  # type: ignore[union-attr]
        event = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == AuditAction.ADMIN_CHANGE)).one()
    details = json.loads(event.details)
    assert (details["before"], details["after"]) == ({"drafters_may_circulate": False},
                                                     {"drafters_may_circulate": True})
