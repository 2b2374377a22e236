"""The office's own days are kept in memory under its calendar stamp, and a change to them,
by whatever writes it, gives the office a new stamp in the same transaction."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask

from tests.factories import make_office, make_user
from tests.support.statements import statements
from workflow.admin import office_days
from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.models import OfficeDay, Organization, Role
from workflow.office.calendar import calendar_for

DAY = date(2026, 3, 17)  # a Tuesday, a working day unless the office says otherwise


def _queries(app: Flask, org_id: int) -> tuple[Any, list[str]]:
    with statements(app) as sent:
        db.session.expire_all()
        calendar = calendar_for(db.session, org_id)
    return calendar, [s for s in sent if "officeday" in s.lower()]


def test_the_days_are_read_once_then_again_only_after_a_change(app: Flask) -> None:
    with app.app_context():
        with db.write() as session:
            office = make_office(session)
            admin = make_user(session, office=office, roles=Role.ADMIN)
            principal = principal_for(session, admin)
        org_id = office.id or 0
        first, read = _queries(app, org_id)
        assert read and first.is_working_day(DAY)
        again, read = _queries(app, org_id)
        assert not read and again.is_working_day(DAY)

        stamp = db.session.get(Organization, org_id).calendar_stamp  # type: ignore[union-attr]
        row = office_days.add_day(principal=principal, day=DAY, is_holiday=True, note="งานประจำปี")
        db.session.expire_all()
        assert db.session.get(Organization, org_id).calendar_stamp != stamp  # type: ignore[union-attr]
        after, read = _queries(app, org_id)
        assert read and not after.is_working_day(DAY)

        office_days.remove_day(principal=principal, day_id=row.id or 0)
        back, read = _queries(app, org_id)
        assert read and back.is_working_day(DAY)


def test_a_day_written_straight_through_the_session_restamps_the_office(app: Flask) -> None:
    with app.app_context():
        with db.write() as session:
            office = make_office(session)
        org_id = office.id or 0
        assert calendar_for(db.session, org_id).is_working_day(DAY)
        with db.write() as session:
            session.add(OfficeDay(org_id=org_id, day=DAY, is_holiday=True, note="ปิดทำการ"))
        calendar, read = _queries(app, org_id)
        assert read and not calendar.is_working_day(DAY)


def test_offices_do_not_share_their_days(app: Flask) -> None:
    with app.app_context():
        with db.write() as session:
            closed, open_ = make_office(session), make_office(session)
            session.add(OfficeDay(org_id=closed.id or 0, day=DAY, is_holiday=True, note=""))
        assert not calendar_for(db.session, closed.id or 0).is_working_day(DAY)
        assert calendar_for(db.session, open_.id or 0).is_working_day(DAY)
