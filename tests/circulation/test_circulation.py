"""Circulation (แจ้งเวียน, issue #14 point 4): circulate an approved memo to positions, a
division or all staff; recipients read it, open it and acknowledge it (ทราบ) once; every
refusal is a Thai message with its status and leaves nothing behind. On both backends."""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask
from sqlmodel import col, func, select

from tests.circulation.factories import FINANCE, PALAD, WORKS, CirculationOffice, circulation_office
from tests.factories import make_memo, make_office, make_position, make_user
from workflow import routing
from workflow.circulation import recipients as recipient_rules
from workflow.extensions import db
from workflow.models import (
    AuditEvent,
    Circulation,
    CirculationRecipient,
    Notification,
    NotificationKind,
    Organization,
)


@pytest.fixture
def office(app: Flask) -> CirculationOffice:
    with app.app_context():
        return circulation_office(db.session)


def _circulate(api: Any, office: CirculationOffice, who: str = "chief", **body: Any) -> Any:
    return api.call("POST", f"/memos/{office.memo.id}/circulation",
                    office.people[who].username, json=body)


def _recipient_ids(app: Flask, memo_id: int) -> set[int]:
    with app.app_context():
        return set(db.session.exec(select(CirculationRecipient.user_id).where(
            CirculationRecipient.memo_id == memo_id)).all())


def _emails(app: Flask, memo_id: int, kind: str = NotificationKind.CIRCULATION
            ) -> list[Notification]:
    with app.app_context():
        return list(db.session.exec(select(Notification).where(
            Notification.memo_id == memo_id, Notification.kind == kind)
            .order_by(col(Notification.id))).all())


def _counts(app: Flask) -> tuple[int, ...]:
    """Rows of everything a circulation or an acknowledgement writes (audit events about
    memos: a first API call's sign-in is an event too)."""
    with app.app_context():
        counts = [db.session.exec(select(func.count()).select_from(model)).one()
                  for model in (Circulation, CirculationRecipient, Notification)]
        counts.append(db.session.exec(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.memo_id).is_not(None))).one())
        return tuple(counts)


def _events(app: Flask, memo_id: int, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.exec(select(AuditEvent).where(
            AuditEvent.memo_id == memo_id, AuditEvent.action == action)
            .order_by(col(AuditEvent.seq))).all())


def test_circulate_to_positions_reaches_their_holders_each_emailed_once(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    response = _circulate(api, office, position_ids=[office.positions["finance1"],
                                                     office.positions["engineer"],
                                                     office.positions["vacant"]])
    assert response.status_code == 201, response.json
    body = response.json
    want = {office.id_of("finance1"), office.id_of("engineer")}
    assert {r["user_id"] for r in body["recipients"]} == want
    assert all(r["acknowledged_at"] is None for r in body["recipients"])
    assert body["already"] == [] and body["circulated_by"] == office.people["chief"].full_name
    assert _recipient_ids(app, office.memo.id) == want
    emails = _emails(app, office.memo.id)
    assert sorted(e.recipient_id for e in emails) == sorted(want)
    assert {e.dedupe_key for e in emails} == {f"circulation:{office.memo.id}:{u}" for u in want}
    assert all(e.subject.startswith("มีบันทึกข้อความแจ้งเวียนให้ท่านทราบ") for e in emails)
    assert all(f"/memos/{office.memo.id}" in e.body_text for e in emails)
    [event] = _events(app, office.memo.id, "memo_circulated")
    assert event.actor_id == office.id_of("chief")
    assert set(json.loads(event.details)["recipients"]) == want


def test_circulate_to_a_division_reaches_every_active_holder_in_it(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    response = _circulate(api, office, divisions=[FINANCE])
    assert response.status_code == 201, response.json
    # finance1 and finance2; the deactivated holder in กองคลัง is left out.
    assert _recipient_ids(app, office.memo.id) == {office.id_of("finance1"),
                                                  office.id_of("finance2")}
    assert response.json["targets"] == {"all_staff": False, "divisions": [FINANCE],
                                        "positions": []}


def test_circulate_to_all_staff_reaches_every_active_person_but_the_circulator(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    assert _circulate(api, office, all_staff=True).status_code == 201
    everyone = {office.id_of(n) for n in ("clerk", "head", "finance1", "finance2", "engineer",
                                           "admin")}
    assert _recipient_ids(app, office.memo.id) == everyone
    assert len(_emails(app, office.memo.id)) == len(everyone)


def test_a_second_circulation_adds_only_people_who_had_not_had_it(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    assert _circulate(api, office, divisions=[FINANCE]).status_code == 201
    second = _circulate(api, office, divisions=[FINANCE, WORKS])
    assert second.status_code == 201, second.json
    assert [r["user_id"] for r in second.json["recipients"]] == [office.id_of("engineer")]
    assert sorted(second.json["already"]) == sorted([office.id_of("finance1"),
                                                     office.id_of("finance2")])
    assert len(_emails(app, office.memo.id)) == 3  # nobody emailed twice
    before = _counts(app)
    third = _circulate(api, office, divisions=[FINANCE])
    assert third.status_code == 409
    assert third.json["error"] == "already_circulated"
    assert third.json["message"] == "ผู้รับที่เลือกทุกคนได้รับแจ้งเวียนบันทึกนี้แล้ว"
    assert _counts(app) == before


@pytest.mark.parametrize(("body", "status", "code", "thai"), [
    ({}, 422, "no_recipients", "กรุณาเลือกผู้รับแจ้งเวียน"),
    ({"position_ids": [], "divisions": [], "all_staff": False}, 422, "no_recipients",
     "กรุณาเลือกผู้รับแจ้งเวียน"),
    ({"position_ids": [2_000_000_000]}, 422, "unknown_position", "ไม่พบตำแหน่งที่เลือก"),
    ({"divisions": ["กองที่ไม่มี"]}, 422, "unknown_division", "ไม่พบกอง/สำนัก \"กองที่ไม่มี\""),
    ({"position_ids": ["x"]}, 422, "validation_failed", "ตำแหน่ง: ค่าไม่ถูกต้อง"),
    ({"position_ids": [0]}, 422, "validation_failed", "ตำแหน่ง"),
    ({"all_staff": "yes"}, 422, "validation_failed", "บุคลากรทั้งหมด"),
    ({"divisions": ["  "]}, 422, "validation_failed", "กอง/สำนัก: ต้องกรอก"),
    ({"divisions": ["กอง\nคลัง"]}, 422, "validation_failed", "บรรทัดเดียว"),
    ({"position_ids": list(range(1, 202))}, 422, "validation_failed", "ตำแหน่ง"),
])
def test_bad_choices_are_refused_in_thai_and_save_nothing(
        app: Flask, office: CirculationOffice, api: Any, body: dict[str, Any], status: int,
        code: str, thai: str) -> None:
    before = _counts(app)
    response = _circulate(api, office, **body)
    assert response.status_code == status, response.json
    assert response.json["error"] == code
    assert thai in response.json["message"] and response.json["message_en"]
    assert _counts(app) == before


def test_a_position_of_another_office_is_unknown_here(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    with app.app_context(), db.write() as session:
        other = make_office(session)
        theirs = make_position(session, office=other,
                               holder=make_user(session, office=other)).id
    response = _circulate(api, office, position_ids=[theirs])
    assert (response.status_code, response.json["error"]) == (422, "unknown_position")


def test_vacant_posts_only_reach_nobody(app: Flask, office: CirculationOffice,
                                        api: Any) -> None:
    before = _counts(app)
    response = _circulate(api, office, position_ids=[office.positions["vacant"]])
    assert (response.status_code, response.json["error"]) == (422, "nobody_to_circulate_to")
    assert _counts(app) == before


def test_more_people_than_the_bound_are_refused(app: Flask, office: CirculationOffice,
                                                api: Any, monkeypatch: Any) -> None:
    monkeypatch.setattr(recipient_rules, "RECIPIENTS_MAX", 3)
    before = _counts(app)
    response = _circulate(api, office, all_staff=True)
    assert (response.status_code, response.json["error"]) == (422, "too_many_recipients")
    assert "ไม่เกิน ๓ คน" in response.json["message"]
    assert _counts(app) == before


def test_who_may_circulate(app: Flask, office: CirculationOffice, api: Any) -> None:
    """The final signer; not an earlier signer; the drafter only where the office allows."""
    before = _counts(app)
    head = _circulate(api, office, "head", all_staff=True)
    assert (head.status_code, head.json["error"]) == (403, "not_circulator")
    assert "ผู้ลงนามคนสุดท้าย" in head.json["message"]
    drafter = _circulate(api, office, "clerk", all_staff=True)
    assert (drafter.status_code, drafter.json["error"]) == (403, "drafter_may_not_circulate")
    assert "ไม่ได้อนุญาตให้ผู้ร่าง" in drafter.json["message"]
    assert _counts(app) == before
    with app.app_context(), db.write() as session:
        org = session.get(Organization, office.office.id)
        assert org is not None
        org.drafters_may_circulate = True
    allowed = _circulate(api, office, "clerk", divisions=[FINANCE])
    assert allowed.status_code == 201, allowed.json


def test_only_an_approved_memo_is_circulated(app: Flask, office: CirculationOffice,
                                             api: Any) -> None:
    with app.app_context():
        pending = make_memo(db.session, drafter=office.people["clerk"],
                            state=routing.pending(2))
    before = _counts(app)
    response = api.call("POST", f"/memos/{pending.id}/circulation",
                        office.people["chief"].username, json={"all_staff": True})
    assert (response.status_code, response.json["error"]) == (409, "not_approved")
    assert "เฉพาะบันทึกที่อนุมัติแล้ว" in response.json["message"]
    assert _counts(app) == before


def test_strangers_get_404_whatever_they_send(app: Flask, office: CirculationOffice,
                                              api: Any) -> None:
    with app.app_context(), db.write() as session:
        other = make_office(session)
        stranger = make_user(session, office=other, roles="admin").username
    for body in ({"all_staff": True}, {"all_staff": "x"}, "no json"):
        kwargs = {"json": body} if isinstance(body, dict) else {"data": body}
        response = api.call("POST", f"/memos/{office.memo.id}/circulation", stranger, **kwargs)
        assert response.status_code == 404, response.json
    for path in (f"/memos/{office.memo.id}/acknowledge", f"/memos/{office.memo.id}/circulation"):
        method = "POST" if path.endswith("acknowledge") else "GET"
        assert api.call(method, path, stranger, json={}).status_code == 404


def test_acknowledge_records_time_and_one_audit_event_and_is_idempotent(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    assert _circulate(api, office, divisions=[FINANCE]).status_code == 201
    who = office.people["finance1"].username
    path = f"/memos/{office.memo.id}/acknowledge"
    first = api.call("POST", path, who, json={"note": "รับทราบ จะดำเนินการต่อ"})
    assert first.status_code == 200, first.json
    assert first.json["acknowledged_now"] is True and first.json["acknowledged_at"]
    assert first.json["opened_at"] == first.json["acknowledged_at"]
    counts = _counts(app)
    again = api.call("POST", path, who, json={"note": "ซ้ำ"})
    assert again.status_code == 200
    assert again.json["acknowledged_now"] is False
    assert again.json["acknowledged_at"] == first.json["acknowledged_at"]
    assert again.json["note"] == "รับทราบ จะดำเนินการต่อ"
    assert _counts(app) == counts
    [event] = _events(app, office.memo.id, "memo_acknowledged")
    assert event.actor_id == office.id_of("finance1")
    assert event.text == "รับทราบ จะดำเนินการต่อ"
    status = api.call("GET", f"/memos/{office.memo.id}/circulation",
                      office.people["chief"].username)
    assert (status.json["total"], status.json["acknowledged"]) == (2, 1)


def test_acknowledging_what_was_not_circulated_to_you_is_refused(
        app: Flask, office: CirculationOffice, api: Any) -> None:
    assert _circulate(api, office, divisions=[FINANCE]).status_code == 201
    before = _counts(app)
    path = f"/memos/{office.memo.id}/acknowledge"
    # The admin may read the memo, but it was not circulated to them.
    admin = api.call("POST", path, office.people["admin"].username, json={})
    assert (admin.status_code, admin.json["error"]) == (403, "not_a_recipient")
    # The engineer may not even read it.
    engineer = api.call("POST", path, office.people["engineer"].username, json={})
    assert (engineer.status_code, engineer.json["error"]) == (403, "memo_forbidden")
    long_note = api.call("POST", path, office.people["finance1"].username,
                         json={"note": "ก" * 201})
    assert long_note.status_code == 422 and "หมายเหตุ" in long_note.json["message"]
    assert _counts(app) == before


def test_recipients_read_the_memo_and_others_still_may_not(
        app: Flask, office: CirculationOffice, api: Any, client: Any, auth: Any) -> None:
    memo_id = office.memo.id
    engineer = office.people["engineer"].username
    assert api.call("GET", f"/memos/{memo_id}", engineer).status_code == 403
    assert _circulate(api, office, divisions=[WORKS]).status_code == 201
    assert api.call("GET", f"/memos/{memo_id}", engineer).status_code == 200
    assert api.call("GET", f"/memos/{memo_id}/pdf", engineer).status_code == 200
    listed = api.call("GET", "/memos?box=circulated", engineer).json
    assert [m["id"] for m in listed["items"]] == [memo_id]
    everything = api.call("GET", "/memos?box=all", engineer).json
    assert memo_id in [m["id"] for m in everything["items"]]
    # finance2 was not in กองช่าง: still no reading.
    assert api.call("GET", f"/memos/{memo_id}", office.people["finance2"].username
                    ).status_code == 403
    auth.login(office.people["finance2"].username)
    assert client.get(f"/memos/{memo_id}").status_code == 403


def test_the_first_opening_is_noted_and_kept(app: Flask, office: CirculationOffice, api: Any,
                                             client: Any, auth: Any) -> None:
    assert _circulate(api, office, divisions=[WORKS]).status_code == 201

    def opened() -> Any:
        with app.app_context():
            return db.session.exec(select(CirculationRecipient.opened_at).where(
                CirculationRecipient.user_id == office.id_of("engineer"))).one()

    assert opened() is None
    auth.login(office.people["engineer"].username)
    assert client.get(f"/memos/{office.memo.id}").status_code == 200
    first = opened()
    assert first is not None
    assert client.get(f"/memos/{office.memo.id}").status_code == 200
    assert opened() == first


def test_the_web_forms_circulate_and_acknowledge_and_the_page_lists_both(
        app: Flask, office: CirculationOffice, client: Any, auth: Any) -> None:
    memo_id = office.memo.id
    auth.login(office.people["chief"].username)
    page = client.get(f"/memos/{memo_id}").get_data(as_text=True)
    assert 'data-testid="circulate-form"' in page and FINANCE in page and PALAD in page
    refused = client.post(f"/memos/{memo_id}/circulate", data={})
    assert refused.status_code == 422
    assert "กรุณาเลือกผู้รับแจ้งเวียน" in refused.get_data(as_text=True)
    done = client.post(f"/memos/{memo_id}/circulate", data={
        "divisions": FINANCE, "position_ids": str(office.positions["engineer"])})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert _recipient_ids(app, memo_id) == {office.id_of(n) for n in
                                            ("finance1", "finance2", "engineer")}
    bad_id = client.post(f"/memos/{memo_id}/circulate", data={"position_ids": "๑"})
    assert bad_id.status_code == 422

    auth.login(office.people["finance1"].username)
    tab = client.get("/inbox?tab=circulated").get_data(as_text=True)
    assert office.memo.subject in tab and 'data-testid="circulated-count"' in tab
    for _ in range(2):  # a double click: the second changes nothing and is no error
        response = client.post(f"/memos/{memo_id}/acknowledge", data={"back": "inbox"})
        assert response.status_code == 302
        assert response.headers["Location"].endswith("/inbox?tab=circulated")
    assert len(_events(app, memo_id, "memo_acknowledged")) == 1
    tab = client.get("/inbox?tab=circulated").get_data(as_text=True)
    assert 'data-testid="circulated-count"' not in tab and "ทราบแล้ว" in tab

    auth.login(office.people["chief"].username)
    page = client.get(f"/memos/{memo_id}").get_data(as_text=True)
    acked = page.split('data-testid="acknowledged"')[1].split("</ul>")[0]
    waiting = page.split('data-testid="not-acknowledged"')[1].split("</ul>")[0]
    assert office.people["finance1"].full_name in acked
    assert office.people["finance2"].full_name in waiting
    assert office.people["engineer"].full_name in waiting
    assert "รับทราบแล้ว ๑ จาก ๓ คน" in page


def test_a_stranger_posting_the_forms_gets_404(app: Flask, office: CirculationOffice,
                                               client: Any, auth: Any) -> None:
    with app.app_context(), db.write() as session:
        other = make_office(session)
        stranger = make_user(session, office=other, roles="signer").username
    auth.login(stranger)
    before = _counts(app)
    assert client.post(f"/memos/{office.memo.id}/circulate",
                       data={"all_staff": "y"}).status_code == 404
    assert client.post(f"/memos/{office.memo.id}/acknowledge", data={}).status_code == 404
    assert client.get(f"/memos/{office.memo.id}/circulation.pdf").status_code == 404
    assert _counts(app) == before
