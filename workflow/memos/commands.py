"""Drafting: create, edit, submit, and the read receipt."""

from __future__ import annotations

import logging

from sqlmodel import col, select

from .. import clock, routing
from ..errors import Forbidden
from ..extensions import db
from ..identity.principal import Principal
from ..models import (
    AuditAction,
    Memo,
    MemoCreate,
    MemoStep,
    MemoUpdate,
    Organization,
    Role,
    StepStatus,
    current_round,
    waiting_at,
)
from ..office.calendar import office_today
from ..richtext import sanitize
from ..trail.chain import Entry, RequestInfo, record
from .actions import perform, signature_of
from .locking import actor_in, check_version, lock_for_editing, require_editable
from .queries import MemoView, get_memo
from .routes import route_for_drafting

_LOGGER = logging.getLogger(__name__)


def create_memo(
    *, actor_id: int, memo_create: MemoCreate, request_info: RequestInfo | None = None
) -> Memo:
    """Start a draft in the actor's office, on the office's default route."""
    with db.write() as session:
        actor = actor_in(session, actor_id)
        if not actor.has_role(Role.CLERK, Role.SIGNER, Role.ADMIN):
            raise Forbidden("ท่านไม่มีสิทธิ์ร่างบันทึกข้อความ", "You may not draft memos.")
        org = session.get(Organization, actor.org_id)
        assert org is not None
        route = route_for_drafting(session, org.id or 0, memo_create.route_id)
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
            memo_type=memo_create.memo_type,
            amount_satang=memo_create.amount,
        )
        session.add(memo)
        session.flush()
        record(session, Entry(
            AuditAction.MEMO_CREATED, org_id=memo.org_id, actor_id=actor.user_id,
            actor_name=actor.full_name, memo_id=memo.id, state_after=memo.state,
            details={"subject": memo.subject, "urgency": memo.urgency},
            request_info=request_info))
        _LOGGER.info("memo %s created by user %s", memo.id, actor_id)
        return memo


def editable_memo(principal: Principal, memo_id: int) -> MemoView:
    """The memo for its editor page, refused as an edit would be."""
    view = get_memo(principal, memo_id)
    require_editable(view.memo, principal.user_id)
    return view


def send_up(*, memo_id: int, actor_id: int, request_info: RequestInfo | None = None) -> Memo:
    """Submit a saved draft, or resubmit a memo that was sent back."""
    memo = db.session.get(Memo, memo_id)
    returned = memo is not None and memo.state == routing.RETURNED
    return perform(routing.RESUBMIT if returned else routing.SUBMIT, memo_id=memo_id,
                   actor_id=actor_id, request_info=request_info).memo


def update_memo(
    *, memo_id: int, actor_id: int, memo_update: MemoUpdate,
    request_info: RequestInfo | None = None,
) -> Memo:
    """Edit a draft or a returned memo; only its drafter may, and only from the current version."""
    with db.write() as session:
        memo, actor = lock_for_editing(session, memo_id=memo_id, actor_id=actor_id)
        check_version(memo, memo_update.version)
        changes = memo_update.model_dump(exclude_unset=True, exclude={"version"})
        changes = {k: v for k, v in changes.items() if v is not None or k == "amount"}
        if "amount" in changes:  # sent as null, the amount is cleared
            changes["amount_satang"] = changes.pop("amount")
        if "body" in changes:
            changes["body"] = sanitize(changes["body"])
        if "route_id" in changes:
            changes["route_id"] = route_for_drafting(
                session, memo.org_id, changes["route_id"], current=memo.route_id).id
        changed = {k: v for k, v in changes.items() if getattr(memo, k) != v}
        if changed:
            before = {key: getattr(memo, key) for key in changed}
            for key, value in changed.items():
                setattr(memo, key, value)
            memo.version += 1
            memo.updated_at = clock.now()
            record(session, Entry(
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


def mark_opened(*, memo_id: int, principal: Principal,
                request_info: RequestInfo | None = None) -> None:
    """Record the read receipt (เปิดอ่านแล้ว) the first time the current signer opens the memo."""
    if not principal.answers_for:
        return  # not a signer today: no read at all on the memo page's hot path
    step = db.session.exec(
        select(MemoStep)
        .join(Memo, current_round())
        .where(MemoStep.memo_id == memo_id, waiting_at(principal.answers_for),
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
        opened_as = " ".join(signature_of(principal, [step]).lines)[:200]
        record(writer, Entry(
            AuditAction.MEMO_OPENED, org_id=memo.org_id, actor_id=principal.user_id,
            actor_name=principal.full_name, position_title=opened_as, memo_id=memo_id,
            state_before=memo.state, state_after=memo.state,
            details={"round": step.round, "step": step.step_no}, request_info=request_info))
