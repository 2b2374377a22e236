"""Reading memos: the inbox tabs, the waiting count, and one memo as its reader may see it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from .. import routing
from ..errors import Invalid, NotFound
from ..extensions import db
from ..identity.access import require_view
from ..identity.acting import Answerer, answerers_for
from ..identity.principal import Principal
from ..models import (
    Attachment,
    Decision,
    Memo,
    MemoStep,
    Organization,
    Position,
    StepStatus,
    User,
    current_round,
    waiting_at,
)
from ..office.calendar import office_today
from ..outbox import queue
from . import attachments
from .routes import positions_for
from .versions import VersionDiff, diff_for

BOXES = ("inbox", "mine", "decided", "all")


@dataclass(frozen=True)
class MemoListItem:
    memo: Memo
    drafter_name: str
    waiting_since: datetime | None = None
    acting_as: str = ""  # "รักษาราชการแทน…" when it waits for the reader as an acting officer


def list_memos(principal: Principal, box: str, *, limit: int = 100) -> list[MemoListItem]:
    """The memos of one inbox tab, as the principal may see them."""
    session = db.session
    base = (
        select(Memo, User.full_name)
        .join(User, User.id == Memo.drafter_id)  # type: ignore[arg-type]
        .where(Memo.org_id == principal.org_id)
    )
    if box == "inbox":
        if not principal.answers_for:
            return []
        rows = session.exec(  # type: ignore[call-overload]
            base.add_columns(col(MemoStep.arrived_at), col(MemoStep.position_id))
            .join(MemoStep, current_round())
            .where(waiting_at(principal.answers_for))
            .order_by(col(MemoStep.arrived_at).asc())
            .limit(limit)
        ).all()
        return [MemoListItem(m, name, arrived, _acting_line(principal, position_id))
                for m, name, arrived, position_id in rows]
    if box == "mine":
        query = base.where(Memo.drafter_id == principal.user_id).order_by(
            col(Memo.updated_at).desc())
    elif box == "decided":
        mine = (
            select(Decision.memo_id, func.max(Decision.id).label("last"))
            .where(Decision.actor_id == principal.user_id,
                   col(Decision.action).in_(routing.SIGNER_TRIGGERS))
            .group_by(col(Decision.memo_id))
            .subquery()
        )
        query = base.join(mine, mine.c.memo_id == Memo.id).order_by(mine.c.last.desc())
    elif box == "all":
        if not principal.oversees:
            # The same people can_view lets in: drafter, route, past deciders, and
            # acting officers for what waits at their position now.
            on_route = select(MemoStep.memo_id).where(
                col(MemoStep.position_id).in_(principal.position_ids or {0}))
            decided = select(Decision.memo_id).where(Decision.actor_id == principal.user_id)
            current = aliased(Memo)  # not correlated with the outer Memo
            acting = select(MemoStep.memo_id).join(current, current_round(current)).where(
                waiting_at({a.position_id for a in principal.acting} or {0}))
            query = base.where(or_(
                col(Memo.drafter_id) == principal.user_id,
                and_(col(Memo.round) > 0, col(Memo.id).in_(on_route)),
                col(Memo.id).in_(decided),
                col(Memo.id).in_(acting),
            ))
        else:
            query = base
        query = query.order_by(col(Memo.updated_at).desc())
    else:
        raise Invalid(
            "ไม่รู้จักกล่องนี้",
            f"Unknown box {box!r}; expected one of {', '.join(BOXES)}.",
            code="unknown_box",
        )
    return [MemoListItem(m, name) for m, name in session.exec(query.limit(limit)).all()]


def _acting_line(principal: Principal, position_id: int) -> str:
    role = principal.acting_role(position_id)
    return role.line if role else ""


def count_waiting(principal: Principal) -> int:
    """How many memos wait for the principal's decision (the inbox badge)."""
    if not principal.answers_for:
        return 0
    return db.session.exec(
        select(func.count())
        .select_from(MemoStep)
        .join(Memo, current_round())
        .where(waiting_at(principal.answers_for))
    ).one()


@dataclass(frozen=True)
class RouteStepView:
    step_no: int
    position_title: str
    holder_name: str  # who decided, once decided; before that, who answers for it today
    status: str
    opened_at: datetime | None = None
    needs_acting: bool = False  # nobody can decide here today: appoint an acting officer


@dataclass(frozen=True)
class MemoView:
    """Everything the memo page and the API show of one memo."""

    memo: Memo
    org: Organization
    drafter_name: str
    drafter_position: str
    steps: list[RouteStepView]
    decisions: list[Decision]
    allowed: list[str]
    current_step: int | None
    notifications: list[queue.NotificationView]
    attachments: list[Attachment]
    diff: VersionDiff | None = None


def _step_view(memo: Memo, step_no: int, position_id: int, title: str, status: str,
               decider: str | None, opened_at: datetime | None,
               answering: dict[int, list[Answerer]]) -> RouteStepView:
    if decider:
        return RouteStepView(step_no, title, decider, status, opened_at)
    if status in (StepStatus.WAITING, StepStatus.PENDING):
        names = [a.label for a in answering.get(position_id, []) if a.user.id != memo.drafter_id]
        return RouteStepView(step_no, title, ", ".join(names), status, opened_at,
                             needs_acting=not names)
    return RouteStepView(step_no, title, "", status, opened_at)


def get_memo(principal: Principal, memo_id: int) -> MemoView:
    """One memo as the principal may see it, with its route, decisions and the actions on offer."""
    session = db.session
    memo = session.get(Memo, memo_id)
    if memo is None:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    require_view(session, principal, memo)
    org = session.get(Organization, memo.org_id)
    drafter = session.get(User, memo.drafter_id)
    assert org is not None and drafter is not None
    drafter_position = session.exec(
        select(Position.title).where(Position.holder_id == drafter.id).order_by(col(Position.id))
    ).first() or ""
    # (step_no, position_id, title, status, who decided, opened_at) of each step shown
    laid: list[tuple[int, int, str, str, str | None, datetime | None]]
    if memo.round > 0:
        step_rows = session.exec(
            select(MemoStep, User.full_name)
            .outerjoin(User, User.id == MemoStep.decided_by_id)  # type: ignore[arg-type]
            .where(MemoStep.memo_id == memo.id, MemoStep.round == memo.round)
            .order_by(col(MemoStep.step_no))
        ).all()
        laid = [(s.step_no, s.position_id, s.position_title, s.status, decider, s.opened_at)
                for s, decider in step_rows]
    else:
        laid = [(n, p.id or 0, p.title, StepStatus.WAITING, None, None)
                for n, p in enumerate(positions_for(session, memo), start=1)]
    position_ids = tuple(position_id for _, position_id, *_ in laid)
    answering = answerers_for(session, set(position_ids), office_today())
    steps = [_step_view(memo, *row, answering=answering) for row in laid]
    decisions = list(
        session.exec(select(Decision).where(Decision.memo_id == memo.id).order_by(col(Decision.id)))
    )
    act = routing.Act(
        actor_id=principal.user_id,
        drafter_id=memo.drafter_id,
        step_position_ids=position_ids or (0,),
        actor_position_ids=principal.answers_for,
    )
    return MemoView(
        memo=memo,
        org=org,
        drafter_name=drafter.full_name,
        drafter_position=drafter_position,
        steps=steps,
        decisions=decisions,
        allowed=routing.allowed_triggers(memo.state, act),
        current_step=routing.step_of(memo.state),
        notifications=queue.for_memo(memo_id),
        attachments=attachments.of_memo(session, memo_id),
        diff=diff_for(session, memo, principal),
    )
