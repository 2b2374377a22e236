"""Drafting memos and moving them along their route.

Each action runs as one unit of work: load and lock the memo, ask the route's
machine (``workflow.routing``) whether the actor may take it, then write the
new state, the step statuses and the decision row, and commit — all or nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from .. import clock, routing
from ..errors import Conflict, Forbidden, Invalid, NotFound
from ..extensions import db
from ..models import (
    COMMENT_MAX,
    Attachment,
    AuditAction,
    Decision,
    Memo,
    MemoCreate,
    MemoStep,
    MemoUpdate,
    NumberingPoint,
    Organization,
    Position,
    Role,
    RouteStep,
    StepStatus,
    User,
)
from ..richtext import sanitize
from . import appointments, attachments, audit, notifications, register, routes, versions
from .access import require_view
from .accounts import Principal, principal_for
from .common import RequestInfo, office_today

_LOGGER = logging.getLogger(__name__)

_STEP_OUTCOME = {
    routing.APPROVE: StepStatus.APPROVED,
    routing.SEND_BACK: StepStatus.SENT_BACK,
    routing.REJECT: StepStatus.REJECTED,
}


# -- loading -------------------------------------------------------------------


def _lock_memo(session: Session, memo_id: int) -> Memo:
    """Load the memo and hold it until commit (FOR UPDATE on PostgreSQL; SQLite's
    IMMEDIATE transaction already excludes other writers)."""
    memo = session.exec(select(Memo).where(Memo.id == memo_id).with_for_update()).first()
    if memo is None:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    return memo


def _actor(session: Session, actor_id: int) -> Principal:
    """The actor as the database knows them inside this transaction, not as the session cached."""
    user = session.get(User, actor_id)
    if user is None or not user.is_active:
        raise Forbidden("บัญชีผู้ใช้นี้ถูกระงับ", "This account is not active.", code="inactive")
    return principal_for(session, user)


def _check_version(memo: Memo, expected: int | None) -> None:
    if expected is not None and expected != memo.version:
        raise Conflict(
            "บันทึกนี้มีการเปลี่ยนแปลงหลังจากที่ท่านเปิดไว้ กรุณาตรวจสอบสถานะล่าสุดก่อนดำเนินการอีกครั้ง",
            "The memo changed since you opened it; reload and try again.",
            code="stale_version",
            details={"version": memo.version},
        )


# -- drafting ------------------------------------------------------------------


def create_memo(
    *, actor_id: int, memo_create: MemoCreate, request_info: RequestInfo | None = None
) -> Memo:
    """Start a draft in the actor's office, on the office's default route."""
    with db.write() as session:
        actor = _actor(session, actor_id)
        if not actor.has_role(Role.CLERK, Role.SIGNER, Role.ADMIN):
            raise Forbidden("ท่านไม่มีสิทธิ์ร่างบันทึกข้อความ", "You may not draft memos.")
        org = session.get(Organization, actor.org_id)
        assert org is not None
        route = routes.route_for_drafting(session, org.id or 0, memo_create.route_id)
        memo = Memo(
            org_id=actor.org_id,
            route_id=route.id or 0,
            drafter_id=actor.user_id,
            unit_line=org.unit_line,
            memo_date=office_today(),
            subject=memo_create.subject,
            addressee=memo_create.addressee,
            urgency=memo_create.urgency,
            body=sanitize(memo_create.body),
        )
        session.add(memo)
        session.flush()
        audit.record(session, audit.Entry(
            AuditAction.MEMO_CREATED, org_id=memo.org_id, actor_id=actor.user_id,
            actor_name=actor.full_name, memo_id=memo.id, state_after=memo.state,
            details={"subject": memo.subject, "urgency": memo.urgency},
            request_info=request_info))
        _LOGGER.info("memo %s created by user %s", memo.id, actor_id)
        return memo


def _require_editable(memo: Memo, actor_id: int) -> None:
    """Only the drafter changes a memo, and only while it is a draft or sent back."""
    if memo.drafter_id != actor_id:
        raise Forbidden(
            "เฉพาะผู้ร่างเท่านั้นที่แก้ไขบันทึกนี้ได้",
            "Only the drafter may edit this memo.",
            code="not_drafter",
        )
    if not routing.is_editable(memo.state):
        raise Conflict(
            f"แก้ไขไม่ได้ เนื่องจากบันทึกอยู่ในสถานะ \"{routing.state_label(memo.state)}\"",
            f"A memo in state {memo.state!r} cannot be edited.",
            code="not_editable",
            details={"state": memo.state},
        )


def lock_for_editing(session: Session, *, memo_id: int, actor_id: int) -> tuple[Memo, Principal]:
    """Lock a memo its drafter is about to change (text or attachments)."""
    memo = _lock_memo(session, memo_id)
    actor = _actor(session, actor_id)
    require_view(session, actor, memo)
    _require_editable(memo, actor.user_id)
    return memo, actor


def editable_memo(principal: Principal, memo_id: int) -> MemoView:
    """The memo for its editor page, refused as an edit would be."""
    view = get_memo(principal, memo_id)
    _require_editable(view.memo, principal.user_id)
    return view


def send_up(*, memo_id: int, actor_id: int, request_info: RequestInfo | None = None) -> Memo:
    """Submit a saved draft, or resubmit a memo that was sent back."""
    memo = db.session.get(Memo, memo_id)
    returned = memo is not None and memo.state == routing.RETURNED
    return perform(routing.RESUBMIT if returned else routing.SUBMIT, memo_id=memo_id,
                   actor_id=actor_id, request_info=request_info)


def update_memo(
    *, memo_id: int, actor_id: int, memo_update: MemoUpdate,
    request_info: RequestInfo | None = None,
) -> Memo:
    """Edit a draft or a returned memo; only its drafter may, and only from the current version."""
    with db.write() as session:
        memo, actor = lock_for_editing(session, memo_id=memo_id, actor_id=actor_id)
        _check_version(memo, memo_update.version)
        changes = memo_update.model_dump(exclude_unset=True, exclude={"version"})
        changes = {k: v for k, v in changes.items() if v is not None}
        if "body" in changes:
            changes["body"] = sanitize(changes["body"])
        if "route_id" in changes:
            changes["route_id"] = routes.route_for_drafting(
                session, memo.org_id, changes["route_id"], current=memo.route_id).id
        changed = {k: v for k, v in changes.items() if getattr(memo, k) != v}
        if changed:
            before = {key: getattr(memo, key) for key in changed}
            for key, value in changed.items():
                setattr(memo, key, value)
            memo.version += 1
            memo.updated_at = clock.now()
            audit.record(session, audit.Entry(
                AuditAction.MEMO_EDITED, org_id=memo.org_id, actor_id=actor.user_id,
                actor_name=actor.full_name, memo_id=memo.id, state_before=memo.state,
                state_after=memo.state,
                details={"changes": {k: {"old": before[k], "new": changed[k]} for k in changed},
                         "version": memo.version},
                request_info=request_info))
        return memo


def default_addressee(principal: Principal) -> str:
    """เรียน, as most memos of the office begin: to the chief executive (นายก) of the office."""
    org = db.session.get(Organization, principal.org_id)
    return f"นายก{org.name}" if org else ""


# -- moving along the route ---------------------------------------------------


def _lay_steps(session: Session, memo: Memo) -> list[MemoStep]:
    """Copy the memo's route into a new round of steps.

    Positions the drafter holds are left out: a head of office who drafts
    signs as the drafter, and must not be asked to approve their own memo.
    """
    rows = session.exec(
        select(RouteStep, Position)
        .join(Position, Position.id == RouteStep.position_id)  # type: ignore[arg-type]
        .where(RouteStep.route_id == memo.route_id)
        .order_by(col(RouteStep.step_no))
    ).all()
    positions = [p for _, p in rows if p.holder_id != memo.drafter_id]
    if not positions:
        raise Invalid(
            "สายการเสนอของบันทึกนี้ไม่มีผู้พิจารณา",
            "The memo's route has no signer.",
            code="empty_route",
        )
    steps = [
        MemoStep(
            memo_id=memo.id or 0,
            round=memo.round,
            step_no=number,
            position_id=position.id or 0,
            position_title=position.title,
        )
        for number, position in enumerate(positions, start=1)
    ]
    session.add_all(steps)
    return steps


def _current_steps(session: Session, memo: Memo) -> list[MemoStep]:
    return list(
        session.exec(
            select(MemoStep)
            .where(MemoStep.memo_id == memo.id, MemoStep.round == memo.round)
            .order_by(col(MemoStep.step_no))
        ).all()
    )


def perform(
    trigger: str,
    *,
    memo_id: int,
    actor_id: int,
    comment: str = "",
    expected_version: int | None = None,
    request_info: RequestInfo | None = None,
) -> Memo:
    """Take ``trigger`` (one of ``routing.TRIGGERS``: submit, approve, send_back, resubmit,
    reject, withdraw) on a memo, as one all-or-nothing unit of work."""
    if trigger not in routing.TRIGGERS:
        raise Invalid(
            "ไม่รู้จักการดำเนินการนี้",
            f"Unknown action {trigger!r}; expected one of {', '.join(routing.TRIGGERS)}.",
            code="unknown_action",
        )
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise Invalid(
            f"ข้อความเกษียนยาวเกิน {COMMENT_MAX:,} ตัวอักษร",
            f"The comment is longer than {COMMENT_MAX} characters.",
            code="comment_too_long",
        )
    with db.write() as session:
        memo = _lock_memo(session, memo_id)
        actor = _actor(session, actor_id)
        require_view(session, actor, memo)
        _check_version(memo, expected_version)
        org = session.get(Organization, memo.org_id)
        assert org is not None

        state_before = memo.state
        opening = trigger in (routing.SUBMIT, routing.RESUBMIT) and routing.is_editable(memo.state)
        if opening and memo.drafter_id == actor.user_id:
            # Judge against the steps the new round would have, then lay them.
            memo.round += 1
            steps = _lay_steps(session, memo)
        else:
            steps = _current_steps(session, memo)
            if not steps:  # never submitted: the machine still needs a route to judge by
                steps = [MemoStep(memo_id=memo_id, round=0, step_no=1, position_id=0,
                                  position_title="")]
        act = routing.Act(
            actor_id=actor.user_id,
            drafter_id=memo.drafter_id,
            step_position_ids=tuple(s.position_id for s in steps),
            actor_position_ids=actor.answers_for,
            comment=comment,
            endorsement_required=org.require_endorsement,
        )
        passed = routing.fire_run(trigger, state_before, act)
        state_after = passed[-1]

        now = clock.now()
        step_before = routing.step_of(state_before)
        # Only a signer acts in a step's position; a drafter's withdrawal does not. One
        # approval may cover several consecutive steps the signer answers for.
        signed = (steps[step_before - 1:step_before - 1 + len(passed)]
                  if step_before and trigger in routing.SIGNER_TRIGGERS else [])
        acting_step = signed[0] if signed else None
        _close_steps(steps, trigger, signed, actor.user_id, now)
        step_after = routing.step_of(state_after)
        if step_after is not None:
            steps[step_after - 1].status = StepStatus.PENDING
            steps[step_after - 1].arrived_at = now
        if trigger in (routing.SUBMIT, routing.RESUBMIT):
            memo.submitted_at = memo.submitted_at or now
            versions.snapshot(session, memo=memo, actor_id=actor.user_id, now=now)
        current = versions.latest(session, memo_id) if memo.revision else None

        decided_version = memo.version
        number = None
        if (state_after == routing.APPROVED and org.numbering_point == NumberingPoint.APPROVAL) or (
                trigger == routing.SUBMIT and org.numbering_point == NumberingPoint.SUBMISSION):
            number = register.issue_number(session, memo=memo, org=org, now=now)
        memo.state = state_after
        memo.version += 1
        memo.updated_at = now
        signature = _signature(actor, signed)
        position_title = " ".join(signature.lines)[:200] if signed else "ผู้ร่าง"
        session.add(
            Decision(
                memo_id=memo_id,
                memo_step_id=acting_step.id if acting_step else None,
                round=memo.round,
                step_no=acting_step.step_no if acting_step else None,
                through_step=signed[-1].step_no if len(signed) > 1 else None,
                action=trigger,
                actor_id=actor.user_id,
                actor_name=actor.full_name,
                position_id=acting_step.position_id if acting_step else None,
                position_title=acting_step.position_title if acting_step else "ผู้ร่าง",
                signed_as="\n".join(signature.lines),
                appointments=appointments.snapshot_json(signature.roles),
                comment=comment,
                state_before=state_before,
                state_after=state_after,
                memo_version=decided_version,
                revision=current.revision if current else 0,
                content_hash=current.content_hash if current else "",
                created_at=now,
            )
        )
        session.flush()  # the new steps need ids before notifications point at them
        queued = notifications.on_transition(
            session, memo=memo, trigger=trigger, steps=steps, actor_name=actor.full_name,
            actor_position=position_title, comment=comment, now=now)
        session.flush()
        queued_ids = [n.id for n in queued if n.id is not None]
        audit.record(session, audit.Entry(
            audit.CHAIN_ACTIONS[trigger], org_id=memo.org_id, actor_id=actor.user_id,
            actor_name=actor.full_name, position_title=position_title, memo_id=memo_id,
            state_before=state_before, state_after=state_after, text=comment,
            details={"round": memo.round, "step": acting_step.step_no if acting_step else None,
                     "version": decided_version, **({"number": number} if number else {}),
                     **({"steps": [s.step_no for s in signed]} if len(signed) > 1 else {}),
                     **({"acting": [r.snapshot() for r in signature.roles]}
                        if signature.roles else {})},
            request_info=request_info))
        _LOGGER.info("memo %s: %s by user %s (%s -> %s)", memo_id, trigger, actor_id,
                     state_before, state_after)
    # Only now is the action committed: hand the emails to the worker.
    notifications.dispatch(queued_ids)
    return memo


@dataclass(frozen=True)
class _Signature:
    lines: list[str]
    roles: list[appointments.ActingRole]


def _signature(actor: Principal, signed: list[MemoStep]) -> _Signature:
    """What is printed under the signer's name: their own position, then one line for each
    step they signed for under an appointment ("รักษาราชการแทนปลัด…")."""
    lines: list[str] = []
    roles: list[appointments.ActingRole] = []
    for step in signed:
        role = actor.acting_role(step.position_id)
        if role is None:
            lines.append(step.position_title)
        else:
            roles.append(role)
    if roles and not lines and actor.position_titles:
        lines.append(actor.position_titles[0])
    lines += [role.line for role in roles]
    return _Signature(list(dict.fromkeys(lines)), roles)


def _close_steps(
    steps: list[MemoStep], trigger: str, signed: list[MemoStep], actor_id: int, now: datetime
) -> None:
    """Record the outcome on the steps signed, and cancel the ones the memo will not reach."""
    for acting in signed:
        if trigger in _STEP_OUTCOME:
            acting.status = _STEP_OUTCOME[trigger]
            acting.decided_at = now
            acting.decided_by_id = actor_id
    if trigger in (routing.SEND_BACK, routing.REJECT, routing.WITHDRAW):
        for step in steps:
            if step.status in (StepStatus.WAITING, StepStatus.PENDING):
                step.status = StepStatus.CANCELLED


# -- reading -------------------------------------------------------------------


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
            .join(MemoStep, and_(col(MemoStep.memo_id) == col(Memo.id),
                                col(MemoStep.round) == col(Memo.round)))
            .where(col(MemoStep.status) == StepStatus.PENDING,
                   col(MemoStep.position_id).in_(principal.answers_for))
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
            # The same people access.can_view lets in: drafter, route, past deciders, and
            # acting officers for what waits at their position now.
            on_route = select(MemoStep.memo_id).where(
                col(MemoStep.position_id).in_(principal.position_ids or {0}))
            decided = select(Decision.memo_id).where(Decision.actor_id == principal.user_id)
            current = aliased(Memo)  # not correlated with the outer Memo
            acting = select(MemoStep.memo_id).join(
                current, and_(col(current.id) == col(MemoStep.memo_id),
                              col(current.round) == col(MemoStep.round))).where(
                col(MemoStep.status) == StepStatus.PENDING,
                col(MemoStep.position_id).in_({a.position_id for a in principal.acting} or {0}))
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
        .join(Memo, and_(col(MemoStep.memo_id) == col(Memo.id),
                        col(MemoStep.round) == col(Memo.round)))
        .where(MemoStep.status == StepStatus.PENDING,
               col(MemoStep.position_id).in_(principal.answers_for))
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
    notifications: list[notifications.NotificationView]
    attachments: list[Attachment]
    diff: versions.VersionDiff | None = None


def _step_view(session: Session, memo: Memo, step_no: int, position_id: int, title: str,
               status: str, decider: str | None, opened_at: datetime | None,
               today: date) -> RouteStepView:
    if decider:
        return RouteStepView(step_no, title, decider, status, opened_at)
    if status in (StepStatus.WAITING, StepStatus.PENDING):
        names = [a.label for a in appointments.answerers(session, position_id, today,
                                                         drafter_id=memo.drafter_id)]
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
    today = office_today()
    if memo.round > 0:
        step_rows = session.exec(
            select(MemoStep, User.full_name)
            .outerjoin(User, User.id == MemoStep.decided_by_id)  # type: ignore[arg-type]
            .where(MemoStep.memo_id == memo.id, MemoStep.round == memo.round)
            .order_by(col(MemoStep.step_no))
        ).all()
        steps = [_step_view(session, memo, s.step_no, s.position_id, s.position_title,
                            s.status, decider, s.opened_at, today)
                 for s, decider in step_rows]
        position_ids = tuple(s.position_id for s, _ in step_rows)
    else:
        route_rows = session.exec(
            select(RouteStep, Position)
            .join(Position, Position.id == RouteStep.position_id)  # type: ignore[arg-type]
            .where(RouteStep.route_id == memo.route_id)
            .order_by(col(RouteStep.step_no))
        ).all()
        kept = [p for _, p in route_rows if p.holder_id != memo.drafter_id]
        steps = [_step_view(session, memo, n, p.id or 0, p.title, StepStatus.WAITING, None,
                            None, today)
                 for n, p in enumerate(kept, start=1)]
        position_ids = tuple(p.id or 0 for p in kept)
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
        notifications=notifications.for_memo(memo_id),
        attachments=attachments.of_memo(session, memo_id),
        diff=versions.diff_for(session, memo, principal),
    )


__all__ = [
    "BOXES", "MemoView", "count_waiting", "create_memo", "default_addressee",
    "get_memo", "list_memos", "mark_opened", "perform", "update_memo",
]


def mark_opened(*, memo_id: int, principal: Principal,
                request_info: RequestInfo | None = None) -> None:
    """Record the read receipt (เปิดอ่านแล้ว) the first time the current signer opens the memo."""
    if not principal.answers_for:
        return  # not a signer today: no read at all on the memo page's hot path
    step = db.session.exec(
        select(MemoStep)
        .join(Memo, (Memo.id == MemoStep.memo_id) & (Memo.round == MemoStep.round))  # type: ignore[arg-type]
        .where(MemoStep.memo_id == memo_id, MemoStep.status == StepStatus.PENDING,
               col(MemoStep.position_id).in_(principal.answers_for),
               col(MemoStep.opened_at).is_(None))
    ).first()
    if step is None:
        return  # not theirs to open, or opened already: the common case costs one read
    with db.write() as writer:
        step = writer.exec(select(MemoStep).where(MemoStep.id == step.id).with_for_update()).one()
        if step.opened_at is not None or step.status != StepStatus.PENDING:
            return
        memo = writer.get(Memo, memo_id)
        assert memo is not None
        step.opened_at = clock.now()
        # An acting officer opens it as what they would sign as: "<own post> รักษาราชการแทน…".
        opened_as = " ".join(_signature(principal, [step]).lines)[:200]
        audit.record(writer, audit.Entry(
            AuditAction.MEMO_OPENED, org_id=memo.org_id, actor_id=principal.user_id,
            actor_name=principal.full_name, position_title=opened_as, memo_id=memo_id,
            state_before=memo.state, state_after=memo.state,
            details={"round": step.round, "step": step.step_no}, request_info=request_info))
