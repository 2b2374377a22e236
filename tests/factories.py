"""Small factories for test data: an office, its people, positions, routes and memos.

Convention: every factory takes the session to write into as its first argument, the
``session`` of a ``with db.write() as session:`` block inside ``with app.app_context():``::

    with app.app_context(), db.write() as session:
        office = make_office(session)
        clerk = make_user(session, office=office)
        ...

A factory adds its rows and flushes, so ids are set, but does not commit: the block
commits when it ends, or rolls everything back if it raises. Arguments are keyword-only;
``**overrides`` set any other column of the row. Defaults carry a counter, so any number
of offices, users, positions, routes and memos coexist in one database.

``make_memo`` beyond ``"draft"`` is the one factory that commits. A memo is moved along
its route by the real services (``commands.send_up`` and ``actions.perform``), which open units
of work of their own and must see the office, its people and the draft: so it commits the
session first, then lets the drafter and each step's signer act as they would through the
web, and returns the memo refreshed in the session. Steps, decisions, versions, register
numbers, audit events and outbox rows are then exactly what production writes. Call
services of your own after the block, not inside it (on SQLite the block holds the write
lock they would wait for).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, SQLModel, col, select

from workflow import routing
from workflow.extensions import db
from workflow.identity.acting import answerers
from workflow.identity.passwords import hash_password
from workflow.memos import actions, commands
from workflow.memos.routes import route_for_drafting
from workflow.models import (
    Memo,
    MemoStep,
    Organization,
    Position,
    Role,
    Route,
    RouteMember,
    RouteStep,
    StepStatus,
    User,
)
from workflow.office.calendar import office_today
from workflow.thai import thai_digits

_counter = itertools.count(1)

ENDORSEMENT = "เห็นชอบ"
SEND_BACK_REASON = "โปรดแก้ไขตัวเลขในตารางให้ตรงกับรายงาน"
REJECT_REASON = "ไม่อนุมัติ เนื่องจากไม่มีงบประมาณรองรับ"
# The states make_memo can reach, besides pending_<k> (waiting at step k).
_OTHER_STATES = (routing.APPROVED, routing.RETURNED, routing.REJECTED, routing.WITHDRAWN)


def _row(model: type[SQLModel], defaults: dict[str, Any], overrides: dict[str, Any]) -> Any:
    """``model(**defaults, **overrides)``, refusing names that are not columns (SQLModel tables
    would silently drop them)."""
    unknown = set(overrides) - set(model.model_fields)
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    return model(**{**defaults, **overrides})


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def make_office(session: Session, **overrides: Any) -> Organization:
    """An office (Organization) with a unique code, name, unit line and document-number
    prefix."""
    n = next(_counter)
    name = overrides.get("name", f"องค์การบริหารส่วนตำบลทดสอบ{n}")
    return _add(session, _row(Organization, {
        "code": f"office-{n}", "name": name, "unit_line": f"สำนักงานปลัด {name}",
        "phone": "๐-๓๖๗๑-๕๖๒๓",
        "doc_prefix": f"ทส {thai_digits(str(n))}",
    }, overrides))


def make_user(session: Session, *, office: Organization, roles: str | Iterable[str] = Role.CLERK,
              password: str = "demo", **overrides: Any) -> User:
    """A person of ``office`` who signs in as ``user<n>`` with ``password``; ``roles`` is a
    space-separated string or any iterable of ``Role`` values."""
    n = next(_counter)
    username = overrides.get("username", f"user{n}")
    return _add(session, _row(User, {
        "org_id": office.id, "username": username, "full_name": f"นางสาวทดสอบ ผู้ใช้ที่{n}",
        "email": f"{username}@example.com", "password_hash": hash_password(password),
        "roles": roles if isinstance(roles, str) else " ".join(roles),
    }, overrides))


def make_position(session: Session, *, office: Organization, holder: User | None = None,
                  title: str | None = None) -> Position:
    """A post of ``office``, held by ``holder`` (vacant when None)."""
    return _add(session, Position(
        org_id=office.id or 0, title=title or f"ตำแหน่งทดสอบที่ {next(_counter)}",
        holder_id=holder.id if holder else None))


@dataclass(frozen=True)
class Group:
    """A route step of several positions (``need``: None for all of them, 1 for any one, n for
    n of them), or of one, under an optional condition ``when`` = (field, op, value) with
    amounts in satang, as stored."""

    positions: Sequence[Position]
    need: int | None = None
    when: tuple[str, str, str] = ("", "", "")


def make_route(session: Session, *, office: Organization,
               positions: Sequence[Position | Group], name: str | None = None,
               is_default: bool = True, **overrides: Any) -> Route:
    """A route of ``office`` up ``positions`` in order, each a position or a ``Group``; as
    the default, it takes over from the office's previous default (an office has exactly
    one)."""
    if is_default:
        for other in session.exec(select(Route).where(
                Route.org_id == office.id, Route.is_default == True)).all():  # noqa: E712
            other.is_default = False
    route = _add(session, _row(Route, {
        "org_id": office.id, "name": name or f"สายการเสนอทดสอบที่ {next(_counter)}",
        "is_default": is_default,
    }, overrides))
    for number, item in enumerate(positions, start=1):
        group = item if isinstance(item, Group) else Group([item])
        step = RouteStep(org_id=route.org_id, route_id=route.id or 0, step_no=number,
                         need=group.need, when_field=group.when[0], when_op=group.when[1],
                         when_value=group.when[2])
        session.add(step)
        session.flush()
        session.add_all(RouteMember(org_id=route.org_id, route_step_id=step.id or 0,
                                    position_id=p.id or 0) for p in group.positions)
    session.flush()
    return route


def make_memo(session: Session, *, drafter: User, route: Route | None = None,
              state: str = routing.DRAFT, at_step: int = 1, **overrides: Any) -> Memo:
    """A memo drafted by ``drafter`` on ``route`` (the office's default when None), brought
    to ``state``: ``"draft"``; ``routing.pending(k)``, waiting at step k; ``"approved"``; or
    ``"returned"``, ``"rejected"`` or ``"withdrawn"`` while waiting at step ``at_step``."""
    target = _target_step(state, at_step)
    n = next(_counter)
    office = session.get(Organization, drafter.org_id)
    assert office is not None
    route = route or route_for_drafting(session, drafter.org_id, None)
    # The draft as create_memo stores it (without its memo_created audit event).
    memo = _add(session, _row(Memo, {
        "org_id": drafter.org_id, "route_id": route.id, "drafter_id": drafter.id,
        "unit_line": office.unit_line, "memo_date": office_today(),
        "subject": f"ขออนุมัติจัดซื้อวัสดุสำนักงาน ครั้งที่ {n}",
        "addressee": f"นายก{office.name}",
        "body": f"<p>ด้วยสำนักปลัดมีความประสงค์จะจัดซื้อวัสดุสำนักงาน รายการที่ {n}</p>",
    }, overrides))
    if state == routing.DRAFT:
        return memo
    session.commit()
    memo_id, drafter_id = memo.id, drafter.id
    assert memo_id is not None and drafter_id is not None
    moved = commands.send_up(memo_id=memo_id, actor_id=drafter_id)
    while routing.step_of(moved.state) not in (None, target):
        moved = _act(moved, routing.APPROVE, ENDORSEMENT)
    if routing.step_of(moved.state) != target:
        raise ValueError(f"memo {memo_id} went {moved.state!r} before step {target}: the "
                         "route is shorter, or one person signed consecutive steps at once")
    if state == routing.RETURNED:
        _act(moved, routing.SEND_BACK, SEND_BACK_REASON)
    elif state == routing.REJECTED:
        _act(moved, routing.REJECT, REJECT_REASON)
    elif state == routing.WITHDRAWN:
        actions.perform(routing.WITHDRAW, memo_id=memo_id, actor_id=drafter_id)
    session.refresh(memo)
    return memo


def _target_step(state: str, at_step: int) -> int | None:
    """The step make_memo approves up to before the last action (None: to the top)."""
    step = routing.step_of(state)
    if step is not None:
        return step
    if state in (routing.RETURNED, routing.REJECTED, routing.WITHDRAWN):
        return at_step
    if state in (routing.DRAFT, routing.APPROVED):
        return None
    raise ValueError(f"make_memo cannot reach {state!r}; expected draft, pending_<k> or one "
                     f"of {', '.join(_OTHER_STATES)}")


def _act(memo: Memo, trigger: str, comment: str) -> Memo:
    """``trigger`` taken by the first person who answers today for the step the memo waits at."""
    step = db.session.exec(select(MemoStep).where(
        MemoStep.memo_id == memo.id, MemoStep.round == memo.round,
        MemoStep.step_no == routing.step_of(memo.state), MemoStep.status == StepStatus.PENDING)
        .order_by(col(MemoStep.id))).first()
    assert step is not None
    signers = answerers(db.session, step.position_id, drafter_id=memo.drafter_id)
    if not signers:
        raise ValueError(f"nobody answers for step {step.step_no} ({step.position_title}) "
                         f"of memo {memo.id}: give the position a holder")
    return actions.perform(trigger, memo_id=memo.id or 0, actor_id=signers[0].user.id or 0,
                           comment=comment).memo


__all__ = ["Group", "make_memo", "make_office", "make_position", "make_route", "make_user"]
