"""The audit trail: what is recorded, that tampering is caught, search, export and indexes.

Every event of the trail is read back from the database itself and compared
with what the test did, field by field; the chain is then checked the way an
auditor would check it (``flask audit verify``, the memo's badge, the API).
Tampering is done as an attacker with database access would do it: with raw
SQL on a connection of its own, bypassing the PostgreSQL append-only trigger
as a superuser can (``session_replication_role = replica``).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, create_engine, event, insert, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from tests.factories import make_memo, make_office, make_route, make_user
from workflow import clock, routing
from workflow.db import normalise_url
from workflow.demo.seed import PEOPLE, SEED_SUBJECT
from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.memos import actions, commands
from workflow.models import (
    AuditAction,
    AuditEvent,
    Memo,
    MemoCreate,
    MemoUpdate,
    Organization,
    Urgency,
    User,
)
from workflow.trail.chain import _HASHED, Entry, RequestInfo, chain_hash, record

if TYPE_CHECKING:
    from click.testing import Result

    from tests.conftest import ApiClient, AuthActions

BKK = ZoneInfo("Asia/Bangkok")
NAMES = {username: full_name for username, full_name, _, _ in PEOPLE}
TITLES = {username: title or "" for username, _, _, title in PEOPLE}
DRAFTER = "ผู้ร่าง"  # the position_title of the drafter's own actions
IPS = {username: f"10.0.0.{number}" for number, (username, *_) in enumerate(PEOPLE, start=1)}
MATERIALS = "ขออนุมัติจัดซื้อวัสดุสำนักงาน"
TO_CHIEF = "เห็นควรนำเรียนนายกเพื่อโปรดทราบ"


def agent(username: str) -> str:
    """The User-Agent each demo person's browser or script sends in these tests."""
    return f"SarabanTest/1.0 ({username})"


def env(username: str) -> dict[str, str]:
    """The WSGI environ a request of ``username`` comes with (their own IP and User-Agent)."""
    return {"REMOTE_ADDR": IPS[username], "HTTP_USER_AGENT": agent(username)}


def info(username: str) -> RequestInfo:
    """The same origin, for calling a service directly."""
    return RequestInfo(ip=IPS[username], user_agent=agent(username))


# -- helpers -------------------------------------------------------------------------------


def stored(app: Flask, memo_id: int | None = None) -> list[AuditEvent]:
    """The events as the database holds them now, oldest first (one memo's, or all): in the
    order they were written, across the offices' chains."""
    with app.app_context():
        query = select(AuditEvent).order_by(col(AuditEvent.id))
        if memo_id is not None:
            query = query.where(AuditEvent.memo_id == memo_id)
        return list(db.session.exec(query).all())


def last_seq(app: Flask) -> int:
    """The seq of the newest event."""
    return stored(app)[-1].seq


def do(app: Flask, demo: dict[str, int], memo_id: int, username: str, trigger: str,
       comment: str = "") -> None:
    """Take ``trigger`` on the memo as ``username`` through the service, as the views do."""
    with app.app_context():
        actions.perform(trigger, memo_id=memo_id, actor_id=demo[f"user_{username}"],
                        comment=comment, request_info=info(username))


def open_memo(app: Flask, demo: dict[str, int], memo_id: int, username: str) -> None:
    """``username`` opens the memo page (the read receipt, as the page records it)."""
    with app.app_context():
        user = db.session.get(User, demo[f"user_{username}"])
        assert user is not None
        commands.mark_opened(memo_id=memo_id, principal=principal_for(db.session, user),
                             request_info=info(username))


def draft(app: Flask, demo: dict[str, int], username: str, subject: str) -> int:
    """A new draft by ``username``, created through the service."""
    with app.app_context():
        memo = commands.create_memo(
            actor_id=demo[f"user_{username}"],
            memo_create=MemoCreate(subject=subject, addressee="นายกองค์การบริหารส่วนตำบลท่าตูม",
                                   body="<p>ตามที่ได้รับมอบหมาย</p>"),
            request_info=info(username))
        assert memo.id is not None
        return memo.id


def at(year: int, month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A moment in office time (Asia/Bangkok)."""
    return datetime(year, month, day, hour, minute, tzinfo=BKK)


def api_act(api: ApiClient, memo_id: int, username: str, action: str, comment: str = "") -> Any:
    """Take an action through the API, from ``username``'s own IP and User-Agent."""
    response = api.call("POST", f"/memos/{memo_id}/actions", username,
                        json={"action": action, "comment": comment}, environ_base=env(username))
    assert response.status_code == 200, (username, action, response.json)
    return response


def api_get_memo(api: ApiClient, memo_id: int, username: str) -> None:
    """``username`` reads the memo through the API."""
    response = api.call("GET", f"/memos/{memo_id}", username, environ_base=env(username))
    assert response.status_code == 200, response.json


def verify(runner: Any, memo_id: int | None = None) -> Result:
    """``flask audit verify`` (of the whole chain, or ``--memo``)."""
    args = ["audit", "verify", *(["--memo", str(memo_id)] if memo_id is not None else [])]
    return runner.invoke(args=args)  # type: ignore[no-any-return]


def badge(client: FlaskClient, memo_id: int) -> str:
    """The ``data-ok`` of the verification badge on the memo's audit page."""
    response = client.get(f"/memos/{memo_id}/audit")
    assert response.status_code == 200, response.text
    found = re.search(r'data-testid="audit-verdict" data-ok="(true|false)"', response.text)
    assert found, response.text
    return found.group(1)


@contextmanager
def attacker(app: Flask) -> Iterator[Connection]:
    """A raw connection of its own, in one transaction, past the append-only trigger."""
    engine = create_engine(normalise_url(app.config["DATABASE_URL"]))
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            yield conn
    finally:
        engine.dispose()


def raw_execute(app: Flask, sql: str, **params: Any) -> None:
    """Run one statement as the attacker."""
    with attacker(app) as conn:
        conn.execute(text(sql), params)


def forge(app: Flask, template: AuditEvent, *, seq: int, prev_hash: str,
          **changes: Any) -> None:
    """Insert an event with a correctly computed hash over ``prev_hash`` (as a forger would)."""
    fields = {name: getattr(template, name) for name in _HASHED}
    fields.update(chain=template.chain, seq=seq, prev_hash=prev_hash, **changes)
    forged = AuditEvent(**fields, hash="")
    forged.hash = chain_hash(prev_hash, forged.model_dump())
    values = forged.model_dump(exclude={"id"})
    with attacker(app) as conn:
        conn.execute(insert(AuditEvent.__table__).values(**values))  # type: ignore[attr-defined]


def search(api: ApiClient, username: str = "auditor", **args: Any) -> Any:
    """GET /api/v1/audit with ``args`` as its query string."""
    return api.call("GET", "/audit", username, query_string=args)


def seqs(response: Any) -> list[int]:
    """The seq of every event in an API search answer."""
    assert response.status_code == 200, response.json
    return [item["seq"] for item in response.json["items"]]


# -- 1. what the trail records --------------------------------------------------------------


@dataclass(frozen=True)
class Expected:
    """One memo event as the trail must hold it."""

    actor: str
    action: str
    position: str
    before: str
    after: str
    text: str = ""
    details: dict[str, Any] | None = None


def test_route_with_send_back_records_every_event_in_order(
        app: Flask, demo: dict[str, int], api: ApiClient, auth: AuthActions,
        client: FlaskClient) -> None:
    """A route with one send-back leaves exactly its events, in order, verbatim, with receipts."""
    memo_id = demo["memo_id"]
    new_subject = "รายงานความก้าวหน้าการดำเนินการตามมาตรการส่งเสริมคุณธรรม พ.ศ. ๒๕๖๕ (แก้ไข)"
    head_text = "เห็นควรเสนอรองปลัดเพื่อโปรดพิจารณา"
    deputy_text = "เห็นควรนำเรียนปลัด\nเพื่อโปรดพิจารณา, ตามเสนอ"
    reason = "ขอให้แก้ไขชื่อเรื่องให้ตรงกับคำสั่งที่ ๑๒/๒๕๖๕ แล้วเสนอใหม่"
    chief_text = "อนุมัติ ทราบ \"ดำเนินการต่อไป\""

    api_act(api, memo_id, "clerk", routing.SUBMIT, "เสนอเพื่อโปรดพิจารณา")
    # Read receipts: the current signer's first look counts, nobody else's, and only once.
    api_get_memo(api, memo_id, "head")
    api_get_memo(api, memo_id, "head")
    api_get_memo(api, memo_id, "deputy")  # on the route, but not their step yet
    api_get_memo(api, memo_id, "clerk")
    api_get_memo(api, memo_id, "auditor")
    api_act(api, memo_id, "head", routing.APPROVE, head_text)
    # The deputy opens it on the web page, twice.
    auth.login("deputy")
    for _ in range(2):
        assert client.get(f"/memos/{memo_id}", environ_base=env("deputy")).status_code == 200
    api_act(api, memo_id, "deputy", routing.APPROVE, deputy_text)
    api_act(api, memo_id, "permsec", routing.SEND_BACK, reason)
    edited = api.call("PATCH", f"/memos/{memo_id}", "clerk", environ_base=env("clerk"),
                      json={"subject": new_subject, "version": 5})
    assert edited.status_code == 200, edited.json
    api_act(api, memo_id, "clerk", routing.RESUBMIT, "แก้ไขตามที่ปลัดสั่งการแล้ว")
    api_get_memo(api, memo_id, "head")  # a new round: a new step, a new receipt
    api_act(api, memo_id, "head", routing.APPROVE, head_text)
    api_act(api, memo_id, "deputy", routing.APPROVE, deputy_text)
    api_act(api, memo_id, "permsec", routing.APPROVE, TO_CHIEF)
    api_act(api, memo_id, "chief", routing.APPROVE, chief_text)

    def decided(round_no: int, step: int | None, version: int) -> dict[str, Any]:
        return {"round": round_no, "step": step, "version": version}

    expected = [
        Expected("clerk", "memo_submitted", DRAFTER, "draft", "pending_1",
                 "เสนอเพื่อโปรดพิจารณา", decided(1, None, 1)),
        Expected("head", "memo_opened", TITLES["head"], "pending_1", "pending_1", "",
                 {"round": 1, "step": 1}),
        Expected("head", "memo_approved", TITLES["head"], "pending_1", "pending_2", head_text,
                 decided(1, 1, 2)),
        Expected("deputy", "memo_opened", TITLES["deputy"], "pending_2", "pending_2", "",
                 {"round": 1, "step": 2}),
        Expected("deputy", "memo_approved", TITLES["deputy"], "pending_2", "pending_3",
                 deputy_text, decided(1, 2, 3)),
        Expected("permsec", "memo_sent_back", TITLES["permsec"], "pending_3", "returned",
                 reason, decided(1, 3, 4)),
        Expected("clerk", "memo_edited", "", "returned", "returned", "",
                 {"changes": {"subject": {"old": SEED_SUBJECT, "new": new_subject}},
                  "version": 6}),
        Expected("clerk", "memo_resubmitted", DRAFTER, "returned", "pending_1",
                 "แก้ไขตามที่ปลัดสั่งการแล้ว", decided(2, None, 6)),
        Expected("head", "memo_opened", TITLES["head"], "pending_1", "pending_1", "",
                 {"round": 2, "step": 1}),
        Expected("head", "memo_approved", TITLES["head"], "pending_1", "pending_2", head_text,
                 decided(2, 1, 7)),
        Expected("deputy", "memo_approved", TITLES["deputy"], "pending_2", "pending_3",
                 deputy_text, decided(2, 2, 8)),
        Expected("permsec", "memo_approved", TITLES["permsec"], "pending_3", "pending_4",
                 TO_CHIEF, decided(2, 3, 9)),
        Expected("chief", "memo_approved", TITLES["chief"], "pending_4", "approved",
                 chief_text, {**decided(2, 4, 10), "number": "สป ๓๔๕๐๑/๑"}),
    ]
    events = stored(app, memo_id)
    got = [Expected(next(u for u in NAMES if demo[f"user_{u}"] == e.actor_id), e.action,
                    e.position_title, e.state_before, e.state_after, e.text,
                    json.loads(e.details)) for e in events]
    assert got == expected
    for one in events:
        actor = next(u for u in NAMES if demo[f"user_{u}"] == one.actor_id)
        assert (one.actor_name, one.org_id) == (NAMES[actor], demo["org_id"])
        assert (one.ip, one.user_agent) == (IPS[actor], agent(actor)), one.action
    # Nothing else mentions the memo (no email was delivered), and the whole chain holds.
    everything = stored(app)
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1))
    assert {e.action for e in everything} - {e.action for e in events} == {"login_succeeded"}
    trail = api.call("GET", f"/memos/{memo_id}/audit", "auditor")
    assert trail.status_code == 200
    assert trail.json["verified"] is True
    assert [e["seq"] for e in trail.json["events"]] == [e.seq for e in events]
    assert [e["text"] for e in trail.json["events"]] == [e.text for e in expected]


def test_memo_created_and_draft_edits_are_recorded(app: Flask, demo: dict[str, int],
                                                   api: ApiClient) -> None:
    """Creating a memo and editing its fields record who, what, and each field's old and new."""
    response = api.call("POST", "/memos", "head", environ_base=env("head"),
                        json={"subject": MATERIALS, "addressee": "นายก", "urgency": "urgent"})
    assert response.status_code == 201, response.json
    memo_id = response.json["id"]
    unchanged = api.call("PATCH", f"/memos/{memo_id}", "head", environ_base=env("head"),
                         json={"subject": MATERIALS})
    assert unchanged.status_code == 200
    changed = api.call("PATCH", f"/memos/{memo_id}", "head", environ_base=env("head"),
                       json={"addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม",
                             "urgency": "most_urgent", "version": 1})
    assert changed.status_code == 200, changed.json
    events = stored(app, memo_id)
    assert [(e.action, e.actor_id, e.state_before, e.state_after, json.loads(e.details))
            for e in events] == [
        ("memo_created", demo["user_head"], "", "draft",
         {"subject": MATERIALS, "urgency": "urgent"}),
        ("memo_edited", demo["user_head"], "draft", "draft",
         {"changes": {"addressee": {"old": "นายก", "new": "นายกองค์การบริหารส่วนตำบลท่าตูม"},
                      "urgency": {"old": "urgent", "new": "most_urgent"}}, "version": 2}),
    ]
    assert all((e.ip, e.user_agent) == (IPS["head"], agent("head")) for e in events)


# -- 2. signing in and out ------------------------------------------------------------------


def test_logins_failures_and_logouts_are_recorded_with_origin(
        app: Flask, demo: dict[str, int], client: FlaskClient, auth: AuthActions) -> None:
    """Sign-in, a wrong password, an unknown user and sign-out each leave one event."""
    client.environ_base.update(REMOTE_ADDR="198.51.100.23",
                               HTTP_USER_AGENT="Mozilla/5.0 (X11; Linux) SarabanTest")
    assert auth.login("clerk").status_code == 302
    assert auth.logout().status_code == 302
    assert auth.login("clerk", "wrong-password").status_code == 401
    assert auth.login("  No-Such-User ", "demo").status_code == 401
    token = client.post("/api/v1/auth/token", json={"username": "head", "password": "demo"})
    assert token.status_code == 201 and token.json is not None
    bad = client.post("/api/v1/auth/token", json={"username": "head", "password": "nope"})
    assert bad.status_code == 401
    revoked = client.delete("/api/v1/auth/token",
                            headers={"Authorization": f"Bearer {token.json['token']}"})
    assert revoked.status_code == 204

    clerk, head = demo["user_clerk"], demo["user_head"]
    org = demo["org_id"]
    events = stored(app)
    assert [(e.action, e.org_id, e.actor_id, e.actor_name, json.loads(e.details))
            for e in events] == [
        ("login_succeeded", org, clerk, NAMES["clerk"], {"kind": "web"}),
        ("logout", org, clerk, NAMES["clerk"], {"kind": "web"}),
        ("login_failed", org, clerk, NAMES["clerk"],
         {"username": "clerk", "reason": "wrong_password", "kind": "web"}),
        ("login_failed", None, None, "",
         {"username": "no-such-user", "reason": "unknown_user", "kind": "web"}),
        ("login_succeeded", org, head, NAMES["head"], {"kind": "api"}),
        ("login_failed", org, head, NAMES["head"],
         {"username": "head", "reason": "wrong_password", "kind": "api"}),
        ("logout", org, head, NAMES["head"], {"kind": "api"}),
    ]
    for e in events:
        assert (e.ip, e.user_agent) == ("198.51.100.23", "Mozilla/5.0 (X11; Linux) SarabanTest")
        assert (e.memo_id, e.position_title, e.state_before, e.state_after, e.text) == (
            None, "", "", "", "")


# -- 3. tampering is caught -----------------------------------------------------------------


@dataclass(frozen=True)
class Trail:
    """Two memos whose events interleave, then the auditor signing in (web and API)."""

    seed: int
    other: int


# seq -> (memo, action, actor) of the trail fixture; "X" is the seed memo, "Y" the other.
TRAIL_LAYOUT = {
    1: ("Y", "memo_created", "head"),
    2: ("X", "memo_submitted", "clerk"),
    3: ("Y", "memo_submitted", "head"),
    4: ("X", "memo_opened", "head"),
    5: ("Y", "memo_opened", "deputy"),
    6: ("X", "memo_approved", "head"),
    7: ("Y", "memo_approved", "deputy"),
    8: ("X", "memo_approved", "deputy"),
    9: ("Y", "memo_approved", "permsec"),
    10: ("X", "memo_approved", "permsec"),
    11: ("Y", "memo_approved", "chief"),
    12: (None, "login_succeeded", "auditor"),
    13: (None, "login_succeeded", "auditor"),
}


@pytest.fixture
def trail(app: Flask, demo: dict[str, int], auth: AuthActions, api: ApiClient) -> Trail:
    """The seed memo (X) three approvals up, interleaved with another memo (Y) approved."""
    x = demo["memo_id"]
    y = draft(app, demo, "head", MATERIALS)  # head drafts: the route skips head's own step
    do(app, demo, x, "clerk", routing.SUBMIT)
    do(app, demo, y, "head", routing.SUBMIT, "เพื่อโปรดพิจารณา")
    open_memo(app, demo, x, "head")
    open_memo(app, demo, y, "deputy")
    do(app, demo, x, "head", routing.APPROVE, "เห็นควรเสนอรองปลัด")
    do(app, demo, y, "deputy", routing.APPROVE, "เห็นควรอนุมัติ")
    do(app, demo, x, "deputy", routing.APPROVE, "เห็นควรนำเรียนปลัด")
    do(app, demo, y, "permsec", routing.APPROVE, "เห็นควรอนุมัติ")
    do(app, demo, x, "permsec", routing.APPROVE, TO_CHIEF)
    do(app, demo, y, "chief", routing.APPROVE, "อนุมัติ")
    auth.login("auditor")
    api.token("auditor")
    memo_of = {x: "X", y: "Y", None: None}
    user_of = {demo[f"user_{u}"]: u for u in NAMES}
    assert {e.seq: (memo_of[e.memo_id], e.action, user_of[e.actor_id or 0])
            for e in stored(app)} == TRAIL_LAYOUT
    return Trail(seed=x, other=y)


@dataclass(frozen=True)
class Tamper:
    """One attack, and where the whole-chain and the per-memo checks must say it breaks."""

    attack: Callable[[Flask, Trail], None]
    chain_at: str  # how the CLI names the first broken event of the chain
    chain_reason: str
    memo_at: str  # ... and of the seed memo's own trail
    memo_reason: str
    memo_seq: int | None  # broken_at of the API


def alter_text(app: Flask, _: Trail) -> None:
    """Rewrite the head's endorsement (#6)."""
    raw_execute(app, "UPDATE auditevent SET text = :text WHERE seq = 6", text="ไม่เห็นชอบ")


def delete_middle(app: Flask, _: Trail) -> None:
    """Delete the head's approval (#6) from the middle of the chain."""
    raw_execute(app, "DELETE FROM auditevent WHERE seq = 6")


def delete_opened(app: Flask, _: Trail) -> None:
    """Delete the head's read receipt (#4), between two events of the other memo."""
    raw_execute(app, "DELETE FROM auditevent WHERE seq = 4")


def swap(app: Flask, _: Trail) -> None:
    """Swap who signed and what they wrote between #6 and #8."""
    events = {e.seq: e for e in stored(app) if e.seq in (6, 8)}
    with attacker(app) as conn:
        for seq, other in ((6, 8), (8, 6)):
            source = events[other]
            conn.execute(text("UPDATE auditevent SET text = :text, actor_id = :actor_id, "
                              "actor_name = :actor_name, position_title = :title WHERE seq = :seq"),
                         {"text": source.text, "actor_id": source.actor_id,
                          "actor_name": source.actor_name, "title": source.position_title,
                          "seq": seq})


def forge_at_end(app: Flask, trail: Trail) -> None:
    """Append a forged approval with a made-up prev_hash."""
    events = stored(app)
    forge(app, events[5], seq=events[-1].seq + 1, prev_hash="f" * 64,
          text="อนุมัติ (ปลอม)", created_at=events[-1].created_at + timedelta(seconds=1))


def forge_in_gap(app: Flask, trail: Trail) -> None:
    """Delete #6 and put a forgery with a valid hash in its place."""
    original = next(e for e in stored(app) if e.seq == 6)
    raw_execute(app, "DELETE FROM auditevent WHERE seq = 6")
    forge(app, original, seq=6, prev_hash=original.prev_hash, text="ไม่เห็นชอบ ให้ยุติเรื่อง")


def delete_history(app: Flask, trail: Trail) -> None:
    """Delete every event of the seed memo."""
    raw_execute(app, "DELETE FROM auditevent WHERE memo_id = :memo", memo=trail.seed)


ALTERED = "content does not match its hash (altered)"
RELINKED = "prev_hash does not match the event before it"
MEMO_LINK = "the memo's previous event is missing or was inserted"
TAMPERS = {
    "altered": Tamper(alter_text, "event #6", ALTERED, "event #6", ALTERED, 6),
    # The memo's own back-links catch a deletion at the memo's next event.
    "deleted": Tamper(delete_middle, "event #6", "event #6 is missing (deleted)",
                      "event #8", MEMO_LINK, 8),
    "swapped": Tamper(swap, "event #6", ALTERED, "event #6", ALTERED, 6),
    "forged_at_end": Tamper(forge_at_end, "event #14", RELINKED, "event #14", MEMO_LINK, 14),
    "forged_in_gap": Tamper(forge_in_gap, "event #7", RELINKED, "event #7",
                            "the next event does not link back", 7),
    "history_deleted": Tamper(delete_history, "event #2", "event #2 is missing (deleted)",
                              "the memo's trail", "the memo's whole history is missing", None),
    "opened_deleted": Tamper(delete_opened, "event #4", "event #4 is missing (deleted)",
                             "event #6", MEMO_LINK, 6),
}


@pytest.mark.parametrize("case", list(TAMPERS))
def test_tampering_is_caught_by_every_check(
        app: Flask, trail: Trail, runner: Any, client: FlaskClient, api: ApiClient,
        case: str) -> None:
    """Altering, deleting, swapping or forging events breaks verify, the badge and the API."""
    tamper = TAMPERS[case]
    before = verify(runner)
    assert before.exit_code == 0, before.output
    assert "OK: 13 events verified" in before.output
    for memo_id in (trail.seed, trail.other):
        assert verify(runner, memo_id).exit_code == 0
        assert badge(client, memo_id) == "true"
        assert api.call("GET", f"/memos/{memo_id}/audit", "auditor").json["verified"] is True

    tamper.attack(app, trail)

    chain = verify(runner)
    assert chain.exit_code == 1, chain.output
    assert f"BROKEN at {tamper.chain_at}: {tamper.chain_reason}" in chain.output
    answer = api.call("GET", f"/memos/{trail.seed}/audit", "auditor")
    assert answer.status_code == 200
    assert badge(client, trail.seed) == "false"
    assert (answer.json["verified"], answer.json["broken_at"]) == (False, tamper.memo_seq)
    assert tamper.memo_reason in answer.json["reason_en"]
    one = verify(runner, trail.seed)
    assert one.exit_code == 1, one.output
    assert f"BROKEN at {tamper.memo_at}: " in one.output
    assert tamper.memo_reason in one.output


def test_verify_names_a_removed_chain_end(app: Flask, trail: Trail, runner: Any) -> None:
    """Deleting the newest events is caught by the head row that remembers the chain's end."""
    raw_execute(app, "DELETE FROM auditevent WHERE seq >= 12")
    result = verify(runner)
    assert result.exit_code == 1
    assert "BROKEN at event #12: events at the end of the chain were removed" in result.output
    assert "11 events verified before it" in result.output


# -- 4. the database refuses changes -------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE auditevent SET text = 'แก้ไข' WHERE seq = 1",
    "DELETE FROM auditevent WHERE seq = 1",
    "TRUNCATE auditevent",
    "TRUNCATE auditevent CASCADE",
])
def test_postgresql_refuses_changes_to_the_trail(
        app: Flask, demo: dict[str, int], backend: str, runner: Any, statement: str) -> None:
    """On PostgreSQL a plain UPDATE, DELETE or TRUNCATE of auditevent raises and changes nothing."""
    if backend != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's")
    do(app, demo, demo["memo_id"], "clerk", routing.SUBMIT)
    before = stored(app)
    engine = create_engine(normalise_url(app.config["DATABASE_URL"]))
    try:
        with pytest.raises(DBAPIError, match="auditevent is append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    finally:
        engine.dispose()
    with app.app_context(), pytest.raises(DBAPIError, match="append-only"), db.write() as s:
        s.connection().execute(text(statement))
    assert [(e.seq, e.text, e.hash) for e in stored(app)] == [
        (e.seq, e.text, e.hash) for e in before]
    assert verify(runner).exit_code == 0


# -- 5. search --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Dated:
    """A trail laid down over several days around January 2569 (2026)."""

    materials: int
    seed: int


@pytest.fixture
def dated(app: Flask, demo: dict[str, int], api: ApiClient) -> Dated:
    """Seven events on different days, the first and last just outside January in Bangkok."""
    seed = demo["memo_id"]
    clock.set_now(at(2025, 12, 31, 23, 30))
    materials = draft(app, demo, "clerk", MATERIALS)  # 1
    clock.set_now(at(2026, 1, 1, 0, 10))
    do(app, demo, materials, "clerk", routing.SUBMIT)  # 2
    clock.set_now(at(2026, 1, 15, 10, 0))
    do(app, demo, materials, "head", routing.APPROVE, "เห็นควรอนุมัติ")  # 3
    clock.set_now(at(2026, 1, 31, 23, 50))
    do(app, demo, materials, "deputy", routing.SEND_BACK, "ขอให้แนบใบเสนอราคา")  # 4
    clock.set_now(at(2026, 2, 1, 0, 5))
    do(app, demo, seed, "clerk", routing.SUBMIT)  # 5
    clock.set_now(at(2026, 2, 10, 9, 0))
    do(app, demo, seed, "head", routing.APPROVE, "เห็นควรนำเรียนรองปลัด")  # 6
    clock.set_now(at(2026, 3, 2, 9, 0))
    api.token("auditor")  # 7: login_succeeded
    with app.app_context(), db.write() as session:
        memo = session.get(Memo, materials)
        assert memo is not None
        memo.number = "สป ๓๔๕๐๑/๒๕"
    assert [e.action for e in stored(app)] == [
        "memo_created", "memo_submitted", "memo_approved", "memo_sent_back", "memo_submitted",
        "memo_approved", "login_succeeded"]
    return Dated(materials=materials, seed=seed)


SEARCHES: list[tuple[dict[str, str], list[int]]] = [
    ({}, [7, 6, 5, 4, 3, 2, 1]),
    ({"memo": "วัสดุ"}, [4, 3, 2, 1]),
    ({"memo": "คุณธรรม"}, [6, 5]),
    ({"memo": "สป ๓๔๕๐๑/๒๕"}, [4, 3, 2, 1]),  # the memo's ที่
    ({"memo": "ไม่มีเรื่องนี้"}, []),
    ({"memo": "ขออนุมัติ วัสดุ"}, [4, 3, 2, 1]),  # every word must be in the subject
    ({"memo": "วัสดุ คุณธรรม"}, []),
    ({"actor": "head"}, [6, 3]),
    ({"actor": "HEAD"}, [6, 3]),
    ({"actor": "อิสริย์"}, [6, 3]),
    ({"actor": "ศรีสุข"}, [5, 2, 1]),
    ({"actor": "auditor"}, [7]),
    ({"actor": "nobody"}, []),
    ({"action": "memo_approved"}, [6, 3]),
    ({"action": "memo_created"}, [1]),
    ({"action": "login_succeeded"}, [7]),
    ({"state": "pending_1"}, [5, 2]),
    ({"state": "returned"}, [4]),
    ({"state": "approved"}, []),
    ({"from": "๑/๑/๒๕๖๙", "to": "๓๑/๑/๒๕๖๙"}, [4, 3, 2]),
    ({"from": "1/1/2569", "to": "31/1/2569"}, [4, 3, 2]),
    ({"from": "๑/๒/๒๕๖๙"}, [7, 6, 5]),
    ({"to": "๓๑/๑/๒๕๖๙"}, [4, 3, 2, 1]),
    ({"from": "2026-01-15", "to": "2026-01-15"}, [3]),
    ({"from": "๑/๒/๒๕๖๙", "to": "๓๑/๑/๒๕๖๙"}, []),
    ({"actor": "clerk", "from": "๑/๑/๒๕๖๙", "to": "๓๑/๑/๒๕๖๙"}, [2]),
    ({"memo": "วัสดุ", "action": "memo_approved"}, [3]),
    ({"actor": "อิสริย์", "memo": "คุณธรรม"}, [6]),
    ({"action": "memo_submitted", "state": "pending_1", "from": "๑/๒/๒๕๖๙"}, [5]),
]


def test_search_filters_return_exactly_the_matching_events(
        app: Flask, dated: Dated, api: ApiClient) -> None:
    """Each filter, and combinations, return exactly the events that match, newest first."""
    for args, expected in SEARCHES:
        assert seqs(search(api, **args)) == expected, args
    by_id = search(api, memo_id=dated.materials)
    assert seqs(by_id) == [4, 3, 2, 1]
    assert by_id.json["filter"] == {"memo_id": str(dated.materials)}
    assert seqs(search(api, memo_id=dated.seed, state="pending_2")) == [6]
    assert seqs(search(api, memo_id=dated.seed, actor="deputy")) == []
    first = search(api, memo="วัสดุ", action="memo_sent_back").json["items"]
    assert [(e["actor_name"], e["position"], e["text"], e["state_before"], e["state_after"])
            for e in first] == [(NAMES["deputy"], TITLES["deputy"], "ขอให้แนบใบเสนอราคา",
                                 "pending_2", "returned")]
    assert first[0]["time_local"].startswith("2026-01-31T23:50:00")


def _head_signs_in_at(app: Flask, demo: dict[str, int], moments: list[datetime]) -> None:
    """The head's sign-in recorded at each of ``moments``; then the clock is at 6 Jan 2026."""
    for moment in moments:
        clock.set_now(moment)
        with app.app_context(), db.write() as session:
            record(session, Entry(
                AuditAction.LOGIN_SUCCEEDED, org_id=demo["org_id"], actor_id=demo["user_head"],
                actor_name=NAMES["head"], details={"kind": "web"}))
    clock.set_now(at(2026, 1, 6, 9, 0))


def test_date_search_finds_events_of_a_server_whose_clock_is_behind(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    """Two servers' clocks a second apart at midnight: the date filter still finds every event."""
    moments = [at(2026, 1, 4, 23, 59) + timedelta(seconds=58),  # 1: server A
               at(2026, 1, 5, 0, 0) + timedelta(seconds=1),  # 2: server A
               at(2026, 1, 5, 0, 0) + timedelta(milliseconds=500)]  # 3: server B, a second behind
    _head_signs_in_at(app, demo, moments)
    api.token("auditor")  # 4
    assert seqs(search(api, **{"from": "๕/๑/๒๕๖๙", "to": "๕/๑/๒๕๖๙"})) == [3, 2]
    assert seqs(search(api, **{"from": "๕/๑/๒๕๖๙"})) == [4, 3, 2]
    assert seqs(search(api, **{"to": "๔/๑/๒๕๖๙"})) == [1]


def test_date_search_of_an_office_with_events_on_the_legacy_chain(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    """Migration 0012 left an office's older events on the legacy chain, numbered with every
    office's events of that time, so their seqs run past those of the office's own, newer
    chain. A date search still gives each range its own events and no others."""
    legacy = [at(2025, 6, 1, 10, 0), at(2025, 6, 1, 11, 0)]
    with app.app_context(), db.write() as session:
        session.execute(insert(AuditEvent), [
            {"chain": demo["org_id"] + 1000, "seq": 500 + n, "created_at": moment,
             "org_id": demo["org_id"], "action": AuditAction.LOGIN_SUCCEEDED,
             "actor_name": NAMES["head"], "prev_hash": "0" * 64, "hash": f"{n:064d}"}
            for n, moment in enumerate(legacy)])
    _head_signs_in_at(app, demo, [at(2026, 1, 5, 9, 0), at(2026, 1, 5, 10, 0)])
    api.token("auditor")
    own = seqs(search(api, **{"from": "5/1/2569", "to": "5/1/2569"}))
    assert len(own) == 2 and max(own) < 500
    assert seqs(search(api, **{"from": "1/6/2568", "to": "1/6/2568"})) == [501, 500]
    assert seqs(search(api, **{"to": "1/6/2568"})) == [501, 500]


def test_search_pages_by_seq_without_overlap_or_gap(app: Flask, dated: Dated,
                                                    api: ApiClient) -> None:
    """Paging with ``before`` walks to older events, each exactly once, and then stops."""
    pages: list[list[int]] = []
    before: int | None = None
    while True:
        args: dict[str, Any] = {"limit": 3, **({"before": before} if before else {})}
        response = search(api, **args)
        pages.append(seqs(response))
        before = response.json["next_before"]
        if before is None:
            break
        assert before == pages[-1][-1]
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    filtered = search(api, memo="วัสดุ", limit=2)
    assert (seqs(filtered), filtered.json["next_before"]) == ([4, 3], 3)
    older = search(api, memo="วัสดุ", limit=2, before=3)
    assert (seqs(older), older.json["next_before"]) == ([2, 1], None)


def test_search_page_lists_results_and_links_older_ones(
        app: Flask, dated: Dated, client: FlaskClient, auth: AuthActions) -> None:
    """The auditors' page shows the matching rows, keeps the filter, and links the next page."""
    auth.login("auditor")
    page = client.get("/audit", query_string={"memo": "วัสดุ", "limit": "3"})
    assert page.status_code == 200
    rows = re.findall(r"<tr>\s*<td>(.*?)</td>", page.text)
    assert rows == ["๔", "๓", "๒"]
    assert "ขอให้แนบใบเสนอราคา" in page.text and "เห็นควรอนุมัติ" in page.text
    link = re.search(r'href="(/audit\?[^"]*before=2[^"]*)"', page.text)
    assert link, page.text
    older = client.get(link.group(1).replace("&amp;", "&"))
    assert re.findall(r"<tr>\s*<td>(.*?)</td>", older.text) == ["๑"]


@pytest.mark.parametrize("bad", ["๓๒/๑/๒๕๖๙", "31/02/2569", "เมื่อวาน", "2026-13-01"])
def test_search_refuses_a_bad_date_in_thai(app: Flask, demo: dict[str, int], api: ApiClient,
                                           client: FlaskClient, auth: AuthActions,
                                           bad: str) -> None:
    """An impossible or unreadable date is a 422 with a Thai message, on the API and the page."""
    response = search(api, **{"from": bad})
    assert response.status_code == 422
    assert response.json["error"] == "bad_date"
    assert response.json["message"] == f"วันที่ \"{bad}\" ไม่ถูกต้อง ตัวอย่าง ๑/๔/๒๕๖๕"
    auth.login("auditor")
    page = client.get("/audit", query_string={"to": bad})
    assert page.status_code == 422
    assert "ไม่ถูกต้อง ตัวอย่าง ๑/๔/๒๕๖๕" in page.text


@pytest.mark.parametrize("args", [{"from": "1/1/1"}, {"from": "0001-01-01"},
                                  {"to": "๓๑/๑๒/๑๐๕๔๒"}])  # B.E. 10542 = 31 Dec 9999
def test_search_refuses_a_date_at_the_edge_of_the_calendar(
        app: Flask, demo: dict[str, int], api: ApiClient, args: dict[str, str]) -> None:
    """A date the office clock cannot reach is a 422 bad_date, not a server error."""
    response = search(api, **args)
    assert response.status_code == 422
    assert response.json["error"] == "bad_date"


@pytest.mark.parametrize("name", ["memo_id", "before"])
def test_search_refuses_a_number_out_of_range(app: Flask, demo: dict[str, int],
                                              api: ApiClient, name: str) -> None:
    """A memo_id or cursor too large for the database is a 422 bad_number, not a server error."""
    for who in ("auditor", "clerk"):
        response = search(api, who, **{name: "99999999999999999999"})
        assert response.status_code == 422, (who, response.json)
        assert response.json["error"] == "bad_number"


@dataclass(frozen=True)
class Offices:
    """The demo office with a second clerk's draft, and a memo of another office."""

    seed: int
    colleague_draft: int
    elsewhere: int


@pytest.fixture
def offices(app: Flask, demo: dict[str, int]) -> Offices:
    """clerk2's draft in the demo office, and a draft of another office."""
    with app.app_context(), db.write() as session:
        clerk2 = make_user(session, office=session.get(Organization, demo["org_id"]),
                           username="clerk2", full_name="นายวีระ ขยันงาน", roles="clerk")
        other = make_office(session, name="เทศบาลตำบลบ้านใหม่",
                            unit_line="สำนักปลัดเทศบาลตำบลบ้านใหม่")
        outsider = make_user(session, office=other, username="outsider",
                             full_name="นายสมศักดิ์ ต่างถิ่น", roles="clerk admin auditor")
        route = make_route(session, office=other, positions=[], name="สายการเสนอปกติ")
        elsewhere = make_memo(session, drafter=outsider, route=route,
                              subject="บันทึกของอีกสำนักงาน", addressee="นายกเทศมนตรี")
        record(session, Entry(AuditAction.MEMO_CREATED, org_id=other.id,
                              actor_id=outsider.id, actor_name=outsider.full_name,
                              memo_id=elsewhere.id, state_after="draft"))
        ids = (clerk2.id, elsewhere.id)
    colleague = draft(app, demo, "clerk", "ร่างของเพื่อนร่วมงาน")
    with app.app_context(), db.write() as session:  # hand the draft over to clerk2
        memo = session.get(Memo, colleague)
        assert memo is not None and ids[0] is not None
        memo.drafter_id = ids[0]
    assert ids[1] is not None
    return Offices(seed=demo["memo_id"], colleague_draft=colleague, elsewhere=ids[1])


# (who, memo) -> may they read that memo's trail; None means no memo_id at all.
ACCESS: list[tuple[str, str | None, bool]] = [
    ("auditor", None, True),
    ("admin", None, True),
    ("clerk", None, False),
    ("head", None, False),
    ("clerk", "seed", True),  # their own draft
    ("head", "seed", False),  # a draft not yet submitted is not the signers'
    ("clerk", "colleague_draft", False),
    ("head", "colleague_draft", False),
    ("clerk", "elsewhere", False),
    ("head", "elsewhere", False),
    ("clerk", "missing", False),
]


def test_search_access_on_the_page_and_the_api(
        app: Flask, demo: dict[str, int], offices: Offices, api: ApiClient,
        client: FlaskClient, auth: AuthActions) -> None:
    """Only overseers search the whole trail; others see one memo's trail, and only if theirs."""
    with app.app_context():  # the seed memo has a trail of its own
        commands.update_memo(memo_id=offices.seed, actor_id=demo["user_clerk"],
                             memo_update=MemoUpdate(urgency=Urgency.URGENT),
                             request_info=info("clerk"))
    memo_ids = {"seed": offices.seed, "colleague_draft": offices.colleague_draft,
                "elsewhere": offices.elsewhere, "missing": 999_999}
    for who, memo, allowed in ACCESS:
        args = {"memo_id": str(memo_ids[memo])} if memo else {}
        answer = search(api, who, **args)
        auth.login(who)
        page = client.get("/audit", query_string=args)
        if allowed:
            assert answer.status_code == 200, (who, memo, answer.json)
            assert page.status_code == 200, (who, memo)
            assert answer.json["items"], (who, memo)
            assert 'data-testid="audit-results"' in page.text
        else:
            assert (answer.status_code, page.status_code) == (403, 403), (who, memo)
            # Another office's memo is answered exactly as a missing one (#12).
            assert answer.json["error"] == ("memo_forbidden" if memo == "colleague_draft"
                                            or who == "head" and memo not in (None, "elsewhere",
                                                                               "missing")
                                            else "audit_forbidden")
            assert answer.json["message"] in (
                "เฉพาะผู้ตรวจสอบและผู้ดูแลระบบที่ค้นหาประวัติทั้งหมดได้",
                "ท่านไม่มีสิทธิ์ดูประวัติของบันทึกนี้", "ท่านไม่มีสิทธิ์เข้าถึงบันทึกข้อความนี้")
        if memo:
            trail = api.call("GET", f"/memos/{memo_ids[memo]}/audit", who)
            expected = 200 if allowed else (404 if memo in ("missing", "elsewhere") else 403)
            assert trail.status_code == expected, (who, memo)
            assert client.get(f"/memos/{memo_ids[memo]}/audit").status_code == expected
    # Once submitted, the seed memo's trail is open to the signers on its route.
    do(app, demo, offices.seed, "clerk", routing.SUBMIT)
    assert search(api, "head", memo_id=offices.seed).status_code == 200
    assert search(api, "clerk2", memo_id=offices.seed).status_code == 403
    # Overseers search their own office only: another office's events never show up.
    for who in ("auditor", "admin"):
        everything = search(api, who, limit=500).json["items"]
        assert everything and all(e["memo_id"] != offices.elsewhere for e in everything)
        assert search(api, who, memo_id=offices.elsewhere).json["items"] == []
        # Another office's memo is answered as a missing one (#12).
        assert api.call("GET", f"/memos/{offices.elsewhere}/audit", who).status_code == 404
    outsider = search(api, "outsider").json["items"]
    assert [(e["memo_id"], e["action"]) for e in outsider] == [
        (None, "login_succeeded"), (offices.elsewhere, "memo_created")]


# -- 6. export ------------------------------------------------------------------------------


def test_csv_and_json_exports_carry_every_event_intact(
        app: Flask, demo: dict[str, int], client: FlaskClient, auth: AuthActions) -> None:
    """CSV (with BOM) and JSON exports hold one row per event of the filter, Thai intact."""
    seed = demo["memo_id"]
    tricky = 'เห็นควรเสนอ, "ด่วน"\nบรรทัดที่สอง'
    do(app, demo, seed, "clerk", routing.SUBMIT)
    do(app, demo, seed, "head", routing.APPROVE, tricky)
    do(app, demo, seed, "deputy", routing.APPROVE, TO_CHIEF)
    with app.app_context(), db.write() as session:  # more events than one export page (500)
        record(session, *(Entry(AuditAction.LOGIN_FAILED, org_id=demo["org_id"],
                                details={"username": f"guess{n}"})
                                 for n in range(520)))
    auth.login("auditor")

    def export_csv(**args: Any) -> list[dict[str, str]]:
        response = client.get("/audit.csv", query_string=args)
        assert response.status_code == 200
        assert response.mimetype == "text/csv"
        assert response.headers["Content-Disposition"].startswith("attachment;")
        body = response.get_data()
        assert body.startswith(b"\xef\xbb\xbf")
        return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))

    def export_json(**args: Any) -> dict[str, Any]:
        response = client.get("/audit.json", query_string=args)
        assert response.status_code == 200
        return json.loads(response.get_data(as_text=True))  # type: ignore[no-any-return]

    rows = export_csv(memo_id=seed)
    memo_events = list(reversed(stored(app, seed)))
    assert [int(r["seq"]) for r in rows] == [e.seq for e in memo_events]
    assert [r["text"] for r in rows] == [TO_CHIEF, tricky, ""]
    assert [r["actor_name"] for r in rows] == [NAMES["deputy"], NAMES["head"], NAMES["clerk"]]
    assert [r["position"] for r in rows] == [TITLES["deputy"], TITLES["head"], DRAFTER]
    assert [json.loads(r["details"]) for r in rows] == [json.loads(e.details)
                                                        for e in memo_events]
    assert [r["hash"] for r in rows] == [e.hash for e in memo_events]
    exported = export_json(memo_id=seed)
    assert exported["filter"] == {"memo_id": str(seed)}
    assert [e["seq"] for e in exported["events"]] == [int(r["seq"]) for r in rows]
    assert [e["text"] for e in exported["events"]] == [r["text"] for r in rows]
    assert [e["time_local"] for e in exported["events"]] == [r["time_local"] for r in rows]
    assert exported["events"][0]["ip"] == IPS["deputy"]

    everything = export_csv()
    in_office = [e.seq for e in reversed(stored(app)) if e.org_id == demo["org_id"]]
    assert [int(r["seq"]) for r in everything] == in_office
    assert len(everything) > 500
    assert [e["seq"] for e in export_json()["events"]] == in_office
    approved = export_csv(action="memo_approved")
    assert [r["text"] for r in approved] == [TO_CHIEF, tricky]
    assert export_csv(actor="ไม่มีใคร") == []
    auth.login("clerk")
    assert client.get("/audit.csv").status_code == 403
    assert client.get("/audit.json").status_code == 403
    assert len(export_csv(memo_id=seed)) == 3



def test_csv_export_defuses_formulas(app, demo, api, client, auth):
    """A reason that looks like a spreadsheet formula is exported as text."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "head", "send_back", '=HYPERLINK("http://evil.example","คลิก")')
    auth.login("auditor")
    text = client.get(f"/audit.csv?memo_id={memo_id}").data.decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert "'=HYPERLINK(\"http://evil.example\",\"คลิก\")" in cells
    assert not any(cell.startswith("=") for cell in cells)


# -- 7. every filter is served by an index ------------------------------------------------


INDEX_FILTERS: dict[str, dict[str, str]] = {
    "none": {},
    "memo_words": {"memo": "รหัส007"},
    "memo_number": {"memo": "สป ๓๔๕๐๑/๗"},
    "memo_id": {"memo_id": "{memo}"},
    "actor_username": {"actor": "deputy"},
    "actor_thai_name": {"actor": "กฤษณา"},
    "action": {"action": "memo_sent_back"},
    "state": {"state": "returned"},
    "date_range": {"from": "๑๐/๑/๒๕๖๙", "to": "๑๒/๑/๒๕๖๙"},
    "date_from": {"from": "๓/๒/๒๕๖๙"},
    "date_to": {"to": "๓/๑/๒๕๖๙"},
    "combined": {"actor": "head", "action": "memo_approved", "from": "๑/๑/๒๕๖๙",
                 "to": "๓๑/๑/๒๕๖๙"},
    "paged": {"action": "login_succeeded", "before": "{middle}"},
}
EVENTS_PER_DAY = 500
RARE = 50  # events of the old memo, all by the admin on the first day


@dataclass(frozen=True)
class BigTrail:
    """Ten memos busy every day, and one old memo whose events all lie at the start."""

    memo_ids: list[int]
    old_memo: int
    total: int


def big_trail(app: Flask, demo: dict[str, int], runner: Any, days: int) -> BigTrail:
    """``days`` x 500 events appended through ``record``; the chain verified, tables analysed."""
    clock.set_now(at(2025, 12, 31))
    memo_ids = [draft(app, demo, "clerk", f"เรื่องทดสอบ รหัส{n:03d}") for n in range(1, 11)]
    old = draft(app, demo, "admin", "เรื่องเก่าที่ไม่อนุมัติ รหัสเก่า")
    with app.app_context(), db.write() as session:
        for n, memo_id in enumerate(memo_ids, start=1):
            memo = session.get(Memo, memo_id)
            assert memo is not None
            memo.number = f"สป ๓๔๕๐๑/{thai_number(n)}"
        memo = session.get(Memo, old)
        assert memo is not None
        memo.number = "สป ๓๔๕๐๑/๙๙"
    busy = ["clerk", "head", "deputy", "permsec", "chief", "auditor"]  # the admin is rare
    opened = ("memo_opened", "pending_1", "pending_1")
    approved = ("memo_approved", "pending_1", "pending_2")
    sent_back = ("memo_sent_back", "pending_3", "returned")  # about 1 in 97
    kinds = [("login_succeeded", "", ""), opened, approved, approved, ("logout", "", "")]
    with app.app_context(), db.write() as session:
        for day in range(days):
            clock.set_now(at(2026, 1, 1) + timedelta(days=day))
            entries = [Entry(AuditAction.MEMO_REJECTED, org_id=demo["org_id"],
                             actor_id=demo["user_admin"], actor_name=NAMES["admin"],
                             memo_id=old, state_before="pending_1", state_after="rejected",
                             text="ไม่อนุมัติ") for _ in range(RARE if day == 0 else 0)]
            for n in range(EVENTS_PER_DAY - len(entries)):
                action, before, after = kinds[n % len(kinds)] if n % 97 else sent_back
                who = busy[(n + day) % len(busy)]
                on_memo = action not in ("login_succeeded", "logout")
                entries.append(Entry(
                    action, org_id=demo["org_id"], actor_id=demo[f"user_{who}"],
                    actor_name=NAMES[who],
                    memo_id=memo_ids[(n * 7 + day) % len(memo_ids)] if on_memo else None,
                    state_before=before, state_after=after, request_info=info(who)))
            record(session, *entries)
    clock.set_now(at(2026, 3, 1))
    total = len(memo_ids) + 1 + days * EVENTS_PER_DAY
    assert f"OK: {total} events verified" in verify(runner).output
    engine = create_engine(normalise_url(app.config["DATABASE_URL"]),
                           isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
    finally:
        engine.dispose()
    return BigTrail(memo_ids=memo_ids, old_memo=old, total=total)


def thai_number(n: int) -> str:
    """``n`` in Thai digits."""
    return str(n).translate(str.maketrans("0123456789", "๐๑๒๓๔๕๖๗๘๙"))


def explain_search(app: Flask, api: ApiClient, args: dict[str, Any], options: str = "") -> Any:
    """EXPLAIN the very statement GET /api/v1/audit runs for ``args`` (captured, not rebuilt)."""
    captured: list[tuple[str, Any]] = []
    app_engine = app.extensions["saraban_db"]

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "FROM auditevent" in statement and "ORDER BY auditevent.seq DESC" in statement:
            captured.append((statement, parameters))

    event.listen(app_engine, "before_cursor_execute", capture)
    try:
        response = search(api, **args)
    finally:
        event.remove(app_engine, "before_cursor_execute", capture)
    assert response.status_code == 200, response.json
    assert response.json["items"], args  # every search here finds something
    assert len(captured) == 1, captured
    statement, parameters = captured[0]
    with app_engine.connect() as conn:
        return conn.exec_driver_sql(f"EXPLAIN {options} {statement}", parameters).all()


INDEX_SCAN = re.compile(r"(Index (Only )?Scan( Backward)? using \w+ on auditevent"
                        r"|Bitmap Heap Scan on auditevent)")


def test_every_search_filter_is_served_by_an_index(
        app: Flask, demo: dict[str, int], backend: str, api: ApiClient, runner: Any) -> None:
    """With 20k events analysed, no search filter makes PostgreSQL scan the whole trail."""
    if backend != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    trail = big_trail(app, demo, runner, days=40)
    plans = {}
    for name, args in INDEX_FILTERS.items():
        filled = {key: value.format(memo=trail.memo_ids[6], middle=trail.total // 2)
                  for key, value in args.items()}
        plans[name] = "\n".join(row[0] for row in explain_search(app, api, filled))
    unserved = {name: plan for name, plan in plans.items()
                if "Seq Scan on auditevent" in plan or not INDEX_SCAN.search(plan)}
    assert unserved == {}, "\n\n".join(f"{n}:\n{p}" for n, p in unserved.items())


def rows_read(node: dict[str, Any]) -> float:
    """Rows a plan read from auditevent (kept plus filtered out), over all its loops."""
    read = 0.0
    if node.get("Relation Name") == "auditevent":
        kept = node["Actual Rows"] + node.get("Rows Removed by Filter", 0) + node.get(
            "Rows Removed by Index Recheck", 0)
        read += kept * node["Actual Loops"]
    return read + sum(rows_read(child) for child in node.get("Plans", []))


def rows_read_by_search(app: Flask, api: ApiClient, args: dict[str, str]) -> float:
    """How many auditevent rows the search for ``args`` really reads (EXPLAIN ANALYZE)."""
    [(plan,)] = explain_search(app, api, args, "(ANALYZE, FORMAT JSON)")
    if isinstance(plan, str):
        plan = json.loads(plan)
    return rows_read(plan[0]["Plan"])


def test_rare_old_events_are_reached_through_their_own_index(
        app: Flask, demo: dict[str, int], backend: str, api: ApiClient, runner: Any) -> None:
    """Finding the 50 oldest events by memo id, action, state or date reads ~50 rows, not 10k."""
    if backend != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    trail = big_trail(app, demo, runner, days=20)
    searches = [{"memo_id": str(trail.old_memo)}, {"action": "memo_rejected"},
                {"state": "rejected"}, {"to": "๑/๑/๒๕๖๙"},
                {"from": "๑/๑/๒๕๖๙", "to": "๑/๑/๒๕๖๙"}]
    read = {str(args): rows_read_by_search(app, api, args) for args in searches}
    assert {args: n for args, n in read.items() if n > 20 * RARE} == {}, read


def test_rare_old_events_by_actor_or_subject_are_reached_through_their_index(
        app: Flask, demo: dict[str, int], backend: str, api: ApiClient, runner: Any) -> None:
    """Finding the 50 oldest events by actor or subject words reads ~50 rows, not 10k."""
    if backend != "postgresql":
        pytest.skip("query plans are checked on PostgreSQL")
    trail = big_trail(app, demo, runner, days=20)
    searches = [{"actor": "admin"}, {"actor": "ธนพล"}, {"memo": "รหัสเก่า"},
                {"memo": "สป ๓๔๕๐๑/๙๙"}]
    read = {str(args): rows_read_by_search(app, api, args) for args in searches}
    assert trail.total > 10_000
    assert {args: n for args, n in read.items() if n > 20 * RARE} == {}, read
