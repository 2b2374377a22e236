"""Admins keep the office's own holidays and working days, which office time then respects."""

from __future__ import annotations

from datetime import date

from sqlmodel import select

from workflow.extensions import db
from workflow.models import OfficeDay
from workflow.office.calendar import calendar_for


def test_admin_adds_a_holiday_in_buddhist_era_and_reminders_skip_it(app, demo, client, auth):
    """A day typed as ๒๘/๑๒/๒๕๖๙ is stored as 2026-12-28 and is no office day any more."""
    auth.login("admin")
    response = client.post("/admin/office-days",
                           data={"day": "๒๘/๑๒/๒๕๖๙", "kind": "holiday", "note": "วันหยุดพิเศษ"})
    assert response.status_code == 302
    page = client.get("/admin/office-days").text
    assert "๒๘ ธันวาคม ๒๕๖๙" in page and "วันหยุดพิเศษ" in page
    with app.app_context():
        [row] = db.session.exec(select(OfficeDay)).all()
        assert row.day == date(2026, 12, 28) and row.is_holiday
        calendar = calendar_for(db.session, demo["org_id"])
        assert not calendar.is_working_day(date(2026, 12, 28))
        assert calendar.is_working_day(date(2026, 12, 29))


def test_a_weekend_working_day(app, demo, client, auth):
    """A Saturday declared a working day counts as office time."""
    auth.login("admin")
    client.post("/admin/office-days", data={"day": "5/12/2569", "kind": "working", "note": ""})
    with app.app_context():
        calendar = calendar_for(db.session, demo["org_id"])
        assert calendar.is_working_day(date(2026, 12, 5))


def test_bad_and_duplicate_days_are_refused(app, demo, client, auth):
    """A malformed date is 422 with a Thai hint; the same day twice is 409; nothing else lost."""
    auth.login("admin")
    response = client.post("/admin/office-days", data={"day": "31/02/2569", "kind": "holiday"})
    assert response.status_code == 422 and "วันที่ไม่ถูกต้อง" in response.text
    assert client.post("/admin/office-days",
                       data={"day": "28/12/2569", "kind": "holiday"}).status_code == 302
    response = client.post("/admin/office-days", data={"day": "28/12/2569", "kind": "holiday"})
    assert response.status_code == 409 and "มีอยู่ในรายการแล้ว" in response.text
    with app.app_context():
        assert len(db.session.exec(select(OfficeDay)).all()) == 1


def test_only_admins_edit_the_calendar(app, demo, client, auth):
    """A signer gets a Thai 403 on the page and on a POST, and nothing is written."""
    auth.login("head")
    assert client.get("/admin/office-days").status_code == 403
    assert client.post("/admin/office-days",
                       data={"day": "28/12/2569", "kind": "holiday"}).status_code == 403
    with app.app_context():
        assert db.session.exec(select(OfficeDay)).all() == []


def test_admin_removes_a_day(app, demo, client, auth):
    """Deleting takes the day off the list."""
    auth.login("admin")
    client.post("/admin/office-days", data={"day": "28/12/2569", "kind": "holiday"})
    with app.app_context():
        [row] = db.session.exec(select(OfficeDay)).all()
    assert client.post(f"/admin/office-days/{row.id}/delete").status_code == 302
    with app.app_context():
        assert db.session.exec(select(OfficeDay)).all() == []
