"""The demo office of the seed memo: องค์การบริหารส่วนตำบลท่าตูม, its signers and the draft.

Idempotent: running it again adds only what is missing and changes nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlmodel import Session, select

from ..extensions import db
from ..identity.passwords import hash_password
from ..models import (
    Memo,
    Organization,
    Position,
    Role,
    Route,
    RouteMember,
    RouteStep,
    Urgency,
    User,
)
from ..seal import keys as seal_keys

DEMO_PASSWORD = "demo"
DEMO_CODE = "thatoom"  # the office code the demo logins sign in with
OFFICE = "องค์การบริหารส่วนตำบลท่าตูม"
SEED_SUBJECT = (
    "รายงานความก้าวหน้าการดำเนินการตามมาตรการเพื่อส่งเสริมคุณธรรมและความโปร่งใสภายในหน่วยงาน "
    "พ.ศ. ๒๕๖๕"
)
SEED_BODY = Path(__file__).resolve().parent.parent / "demo" / "progress_memo_2565.html"

# username, full name, roles, position held (None: no position)
PEOPLE = (
    ("clerk", "นางสาวพิมพ์ชนก ศรีสุข", "clerk", "เจ้าพนักงานธุรการ"),
    ("head", "นางสาวอิสริย์ ผดุงทศ", "signer clerk", "หัวหน้าสำนักปลัด"),
    ("deputy", "นางกฤษณา พรพิมล", "signer", "รองปลัดองค์การบริหารส่วนตำบลท่าตูม"),
    ("permsec", "นางอาราดา แตนวงศ์", "signer", "ปลัดองค์การบริหารส่วนตำบลท่าตูม"),
    ("chief", "นายสมคิด ดันทางกุล", "signer", "นายกองค์การบริหารส่วนตำบลท่าตูม"),
    ("kongklang", "นางสาวกัลยา เงินทอง", "signer", "ผู้อำนวยการกองคลัง"),
    ("kongchang", "นายวิศวะ ช่างดี", "signer", "ผู้อำนวยการกองช่าง"),
    ("admin", "นายธนพล รักษ์ระบบ", "admin", None),
    ("auditor", "นางวิไลวรรณ ตรวจตรา", "auditor", None),
)
ROUTE = ("head", "deputy", "permsec", "chief")

# The procurement route: กองคลัง and กองช่าง give their opinions in parallel (both), and
# above 100,000 baht the memo goes on to นายก; up to it, it ends at ปลัด.
PROCUREMENT = "สายการเสนอจัดซื้อจัดจ้าง (เกิน ๑๐๐,๐๐๐ บาท ถึงนายก)"
PROCUREMENT_STEPS = ((("head",), None), (("kongklang", "kongchang"), None), (("permsec",), None),
                     (("chief",), ("amount", "gt", str(100_000 * 100))))


def demo_logins(code: str = DEMO_CODE) -> str:
    """The demo logins as ``make run`` and ``seed-demo`` print them."""
    return (f"Demo logins (office {code}, password: {DEMO_PASSWORD}): "
            + ", ".join(person[0] for person in PEOPLE))


def _get_or_add(session: Session, model: type, defaults: dict[str, object], **keys: object):  # type: ignore[no-untyped-def]
    row = session.exec(select(model).filter_by(**keys)).first()
    if row is None:
        row = model(**keys, **defaults)
        session.add(row)
        session.flush()
    return row


def _lay_route(session: Session, org: Organization, route: Route,
               steps: Sequence[tuple[tuple[str, ...], tuple[str, str, str] | None]],
               positions: dict[str, Position]) -> None:
    """The route's steps (each the posts of some demo people, with an optional condition),
    where missing; a group of several needs all of them."""
    for step_no, (usernames, when) in enumerate(steps, start=1):
        field, op, value = when or ("", "", "")
        step = _get_or_add(session, RouteStep, {"org_id": org.id, "when_field": field,
                                                "when_op": op, "when_value": value},
                           route_id=route.id, step_no=step_no)
        for username in usernames:
            _get_or_add(session, RouteMember, {"org_id": org.id}, route_step_id=step.id,
                        position_id=positions[username].id)


def _demo_office(session: Session, code: str | None) -> Organization:
    """The demo office: by its name when no code is asked for (a database from before
    offices had codes keeps its own), else by ``code``; made when missing."""
    if code is None:
        org = session.exec(select(Organization).where(Organization.name == OFFICE)).first()
        code = DEMO_CODE
    else:
        org = session.exec(select(Organization).where(Organization.code == code)).first()
    if org is None:
        # Names are unique too: a second demo office carries its code in its name.
        name_taken = session.exec(select(Organization.id).where(
            Organization.name == OFFICE)).first() is not None
        org = Organization(code=code, name=f"{OFFICE} ({code})" if name_taken else OFFICE,
                           unit_line=f"สำนักงานปลัด {OFFICE}", phone="๐-๓๖๗๑-๕๖๒๓ ต่อ ๑๐๑",
                           doc_prefix="สป ๓๔๕๐๑")
        session.add(org)
        session.flush()
        seal_keys.ensure(session, org)
    return org


def seed_demo(code: str | None = None) -> dict[str, int]:
    """Create the demo office (under ``code``, else ``thatoom``), its people, route and the
    seed memo where missing. Several demo offices may stand side by side, each with the same
    logins."""
    with db.write() as session:
        org = _demo_office(session, code)
        password_hash = hash_password(DEMO_PASSWORD)
        users: dict[str, User] = {}
        positions: dict[str, Position] = {}
        for username, full_name, roles, title in PEOPLE:
            user = _get_or_add(
                session, User,
                {"full_name": full_name, "roles": roles,
                 "email": f"{username}@example.com", "password_hash": password_hash},
                org_id=org.id, username=username,
            )
            users[username] = user
            if title:
                position = _get_or_add(session, Position, {"holder_id": user.id},
                                       org_id=org.id, title=title)
                positions[username] = position
        route = _get_or_add(session, Route, {"is_default": True}, org_id=org.id,
                            name="สายการเสนอปกติ (หัวหน้าสำนักปลัด → รองปลัด → ปลัด → นายก)")
        _lay_route(session, org, route, [((u,), None) for u in ROUTE], positions)
        procurement = _get_or_add(session, Route, {"is_default": False, "memo_type": "จัดซื้อจัดจ้าง"},
                                  org_id=org.id, name=PROCUREMENT)
        _lay_route(session, org, procurement, PROCUREMENT_STEPS, positions)
        memo = session.exec(select(Memo).where(Memo.subject == SEED_SUBJECT,
                                               Memo.org_id == org.id)).first()
        if memo is None:
            memo = Memo(
                org_id=org.id or 0, route_id=route.id, drafter_id=users["clerk"].id or 0,
                unit_line=org.unit_line, memo_date=date(2022, 4, 19), subject=SEED_SUBJECT,
                # The source reads "นายองค์การ…", a slip for the title นายกองค์การ….
                addressee=f"นายก{OFFICE}", urgency=Urgency.NORMAL,
                body=SEED_BODY.read_text(encoding="utf-8"),
            )
            session.add(memo)
            session.flush()
        return {"org_id": org.id, "route_id": route.id, "memo_id": memo.id,
                "procurement_route_id": procurement.id,
                **{f"user_{u}": users[u].id for u in users}}


__all__ = ["DEMO_CODE", "DEMO_PASSWORD", "PEOPLE", "Role", "seed_demo"]
