"""Approving many memos at once (issue #14, point 5): through the API and the inbox, each
approval its own decision, audit event and emails; a list with duplicates or someone else's
memos refused whole; a memo that moved meanwhile reported and left alone."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from sqlalchemy import func
from sqlmodel import col, select

from tests.factories import make_memo
from workflow import routing
from workflow.extensions import db
from workflow.models import AuditEvent, Decision, Memo, Notification, NotificationKind, User


def _pending(app: Flask, count: int, state: str = routing.pending(1)) -> list[Memo]:
    """``count`` memos of the demo clerk waiting at ``state``."""
    with app.app_context():
        clerk = db.session.exec(select(User).where(User.username == "clerk")).one()
        return [make_memo(db.session, drafter=clerk, state=state) for _ in range(count)]


def _counts(app: Flask, memo_ids: list[int]) -> tuple[int, int, int]:
    """Approvals, memo_approved audit events and arrival emails on these memos."""
    with app.app_context():
        session = db.session
        decisions = session.exec(select(func.count()).select_from(Decision).where(
            col(Decision.memo_id).in_(memo_ids), Decision.action == routing.APPROVE)).one()
        events = session.exec(select(func.count()).select_from(AuditEvent).where(
            col(AuditEvent.memo_id).in_(memo_ids), AuditEvent.action == "memo_approved")).one()
        arrivals = session.exec(select(Notification.memo_id, Notification.recipient_id).where(
            col(Notification.memo_id).in_(memo_ids),
            Notification.kind == NotificationKind.ARRIVAL)).all()
        return decisions, events, len(arrivals)


def _states(app: Flask, memo_ids: list[int]) -> list[str]:
    with app.app_context():
        return [db.session.get(Memo, i).state for i in memo_ids]  # type: ignore[union-attr]


def _bulk(api: Any, memos: list[Memo], who: str = "head", **extra: Any) -> Any:
    return api.call("POST", "/memos/actions", who, json={
        "action": "approve", "comment": "เห็นชอบ",
        "memos": [{"memo_id": m.id, "version": m.version} for m in memos], **extra})


def test_fifty_memos_approved_at_once_each_as_if_alone(app: Flask, demo: dict[str, int],
                                                      api: Any) -> None:
    memos = _pending(app, 50)
    ids = [m.id or 0 for m in memos]
    _, _, arrivals_before = _counts(app, ids)
    response = _bulk(api, memos)
    assert response.status_code == 200, response.json
    assert sorted(response.json["approved"]) == sorted(ids) and response.json["refused"] == []
    assert _states(app, ids) == [routing.pending(2)] * 50
    decisions, events, arrivals = _counts(app, ids)
    # One decision and one audit event each; one arrival email each for the next step's
    # holder (the deputy), on top of the head's own arrival emails from before.
    assert (decisions, events, arrivals - arrivals_before) == (50, 50, 50)
    again = _bulk(api, memos)  # a second click: the versions have moved on
    assert again.status_code == 422 or again.json["approved"] == []
    assert _counts(app, ids) == (decisions, events, arrivals)


def test_a_memo_that_moved_meanwhile_is_reported_and_the_others_approved(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memos = _pending(app, 3)
    moved = memos[1]
    assert api.act(moved.id or 0, "head", "approve", "เพื่อโปรดพิจารณา").status_code == 200
    response = _bulk(api, memos)
    assert response.status_code == 200, response.json
    assert response.json["approved"] == [memos[0].id, memos[2].id]
    [refusal] = response.json["refused"]
    assert refusal["memo_id"] == moved.id and refusal["message"] and refusal["message_en"]
    decisions, _, _ = _counts(app, [moved.id or 0])
    assert decisions == 1  # only its own approval from before


def test_a_list_with_a_memo_twice_is_refused_whole(app: Flask, demo: dict[str, int],
                                                   api: Any) -> None:
    memos = _pending(app, 2)
    response = _bulk(api, [memos[0], memos[1], memos[0]])
    assert response.status_code == 422
    assert response.json["error"] == "duplicate_memos"
    assert response.json["details"]["memo_ids"] == [memos[0].id]
    assert "ซ้ำ" in response.json["message"]
    assert _states(app, [m.id or 0 for m in memos]) == [routing.pending(1)] * 2


def test_a_list_with_someone_elses_memo_is_refused_whole(app: Flask, demo: dict[str, int],
                                                         api: Any) -> None:
    """A draft the signer may not open (and an id that does not exist) refuse the whole
    list with one answer, so the list tells nothing about them; nothing is approved."""
    memos = _pending(app, 2)
    with app.app_context():
        clerk = db.session.exec(select(User).where(User.username == "clerk")).one()
        draft = make_memo(db.session, drafter=clerk)
    for stranger in (draft.id, 2_000_000_000):
        response = api.call("POST", "/memos/actions", "head", json={
            "action": "approve", "comment": "เห็นชอบ",
            "memos": [{"memo_id": memos[0].id}, {"memo_id": stranger}, {"memo_id": memos[1].id}]})
        assert response.status_code == 422, response.json
        assert response.json["error"] == "not_yours"
        assert response.json["details"]["memo_ids"] == [stranger]
    assert _states(app, [m.id or 0 for m in memos]) == [routing.pending(1)] * 2


def test_bad_bulk_requests_are_refused_in_thai(app: Flask, demo: dict[str, int],
                                               api: Any) -> None:
    memos = _pending(app, 1)
    pick = [{"memo_id": memos[0].id}]
    for body, code in (
            ({"action": "approve", "memos": []}, "validation_failed"),
            ({"action": "approve", "memos": [{"memo_id": i} for i in range(1, 102)]},
             "validation_failed"),
            ({"action": "reject", "memos": pick}, "bulk_action_unsupported"),
            ({"action": "approve", "memos": [{"memo_id": "๑"}]}, "validation_failed"),
            ({"action": "approve", "comment": "ก" * 2001, "memos": pick}, "validation_failed")):
        response = api.call("POST", "/memos/actions", "head", json=body)
        assert response.status_code == 422, (body, response.json)
        assert response.json["error"] == code and response.json["message"], response.json
    assert _states(app, [memos[0].id or 0]) == [routing.pending(1)]


def test_in_the_inbox_tick_confirm_and_approve(app: Flask, demo: dict[str, int], client: Any,
                                               auth: Any) -> None:
    memos = _pending(app, 3)
    auth.login("head")
    inbox = client.get("/inbox?tab=waiting").get_data(as_text=True)
    for memo in memos:
        assert f'name="memo" value="{memo.id}"' in inbox
    chosen = memos[:2]
    query = "&".join(f"memo={m.id}&version_{m.id}={m.version}" for m in chosen)
    confirm = client.get(f"/memos/approve-many?{query}")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert all(m.subject in page for m in chosen) and memos[2].subject not in page
    assert "ลงนาม ๒ เรื่อง" in page
    form = {"memo": [str(m.id) for m in chosen], "comment": "เห็นชอบ",
            **{f"version_{m.id}": str(m.version) for m in chosen}}
    done = client.post("/memos/approve-many", data=form, follow_redirects=True)
    assert done.status_code == 200
    assert "ลงนามแล้ว ๒ เรื่อง" in done.get_data(as_text=True)
    assert _states(app, [m.id or 0 for m in memos]) == [routing.pending(2)] * 2 + [
        routing.pending(1)]
    # The same form again (a second click, a stale tab): each is reported, none signed twice.
    again = client.post("/memos/approve-many", data=form, follow_redirects=True)
    text = again.get_data(as_text=True)
    assert "ยังไม่ได้ลงนาม" in text and len(re.findall("ยังไม่ได้ลงนาม", text)) == 2
    assert _counts(app, [m.id or 0 for m in chosen])[0] == 2


def test_the_inbox_refuses_a_list_with_a_stranger(app: Flask, demo: dict[str, int],
                                                  client: Any, auth: Any) -> None:
    memos = _pending(app, 1)
    auth.login("head")
    page = client.get(f"/memos/approve-many?memo={memos[0].id}&memo=2000000000",
                      follow_redirects=True).get_data(as_text=True)
    assert "ยังไม่ได้ลงนามเรื่องใดเลย" in page
    assert _states(app, [memos[0].id or 0]) == [routing.pending(1)]
