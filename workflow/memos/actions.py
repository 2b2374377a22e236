"""Moving a memo along its route: one trigger, one all-or-nothing unit of work.

Load and lock the memo, ask the route's machine (``workflow.routing``) whether the actor
may take it, then write the new state, the step statuses, the decision, the emails and the
audit event, and commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlmodel import Session, col, select

from .. import clock, jobs, routing
from ..errors import Conflict, Forbidden, Invalid
from ..extensions import db
from ..identity.access import require_view
from ..identity.acting import ActingRole, Answerer, answerers_for, snapshot_json
from ..identity.principal import Principal
from ..models import (
    COMMENT_MAX,
    Decision,
    Memo,
    MemoStep,
    MemoVersion,
    NumberingPoint,
    Organization,
    StepStatus,
)
from ..office.calendar import office_tz
from ..outbox.queue import dispatch
from ..steps import GROUP_MAX
from ..trail.chain import CHAIN_ACTIONS, Entry, RequestInfo, record
from .loaded import Content, LoadedMemo, load_memo, rows_at, stages_of
from .locking import actor_in, check_version
from .notices import on_transition
from .register import issue_number
from .rounds import as_one_update, lay_steps, move_rows
from .versions import snapshot

_LOGGER = logging.getLogger(__name__)

SEAL_TASK = "workflow.tasks.seal_memo"


@dataclass
class Done:
    """What an action leaves: the memo as committed, what was loaded to decide it (updated),
    and who answers for its steps; enough to show the memo again without reading it back."""

    memo: Memo
    loaded: LoadedMemo
    answering: dict[int, list[Answerer]]


def perform(
    trigger: str,
    *,
    memo_id: int,
    actor_id: int,
    principal: Principal | None = None,
    comment: str = "",
    expected_version: int | None = None,
    request_info: RequestInfo | None = None,
    target_step: int | None = None,
) -> Done:
    """Take ``trigger`` (one of ``routing.TRIGGERS``: submit, approve, send_back, resubmit,
    reject, withdraw) on a memo, as one all-or-nothing unit of work. ``target_step`` sends a
    memo back to an earlier step rather than to its drafter. ``principal``, the
    request's own (built from the database when the request began), saves loading the actor
    again; a script or a task passes only ``actor_id``.

    Read top to bottom, this is the path of one approval: lock the memo, let the route's
    machine judge, move the steps, keep the content that was decided on, write the decision,
    queue the emails, append the audit event; after commit, hand the emails to the worker.
    """
    comment = checked_request(trigger, comment)
    with db.write() as session:
        loaded = load_memo(session, memo_id, lock=True, actor_id=actor_id)
        memo, org = loaded.memo, loaded.org
        actor = _actor(session, actor_id, principal, loaded)
        require_view(session, actor, memo, loaded.steps)
        _check_version(session, memo, expected_version, trigger)

        move = _judge(session, memo, actor, org, trigger, comment, loaded.steps, target_step)
        # Who answers for each step, looked up once: for the arrival email and the reply.
        with session.no_autoflush:
            answering = answerers_for(session, {s.position_id for s in move.steps},
                                      move.now.astimezone(office_tz()).date())
        moved = move_rows(move.steps, trigger=trigger, signed=move.signed,
                          state_before=move.state_before, state_after=move.state_after,
                          actor_id=actor.user_id, now=move.now)
        as_one_update(move.steps)
        kept = _keep_content(session, memo, move, actor.user_id)
        version = Content(kept.revision, kept.content_hash) if kept else loaded.latest_version
        number = _issue_number_if_due(session, memo, org, move)
        decided_version = memo.version
        memo.state = move.state_after
        memo.version += 1
        memo.updated_at = move.now
        signature = signature_of(actor, move.signed)
        signed_as = " ".join(signature.lines)[:200] if move.signed else "ผู้ร่าง"
        _record_decision(session, memo, actor, move, signature, decided_version, version)
        queued = on_transition(
            session, memo=memo, org=org, trigger=trigger, steps=move.steps,
            opened=moved.opened, released=moved.released,
            answering=answering, actor_name=actor.full_name, actor_position=signed_as,
            comment=comment, now=move.now)
        session.flush()
        _record_audit(session, memo, actor, move, signature, signed_as, decided_version,
                      number, request_info)
    # Only now is the action committed: hand the emails to the worker, and a final approval
    # to the seal (by name: the seal sits above memos; its sweep catches a lost task).
    dispatch(queued)
    if memo.state == routing.APPROVED and move.state_before != routing.APPROVED:
        jobs.send(SEAL_TASK, memo.id)
    same_round = move.steps is loaded.steps
    loaded.deciders = {**(loaded.deciders if same_round else {}),
                       **{s.id or 0: actor.full_name for s in move.signed}}
    loaded.steps = move.steps
    if version is not None:
        loaded.latest_version = version
    return Done(memo, loaded, answering)


def _actor(session: Session, actor_id: int, principal: Principal | None,
           loaded: LoadedMemo) -> Principal:
    """The actor, as of this request. The request's principal was read from the database
    when the request began; under the lock we check again only that the account is still
    active. A post or an appointment changed in the instant between is no different from one
    changed just after this commit: the action is simply ordered before the change."""
    if principal is None or principal.user_id != actor_id:
        return actor_in(session, actor_id)
    if not loaded.actor_active:
        raise Forbidden("บัญชีผู้ใช้นี้ถูกระงับ", "This account is not active.", code="inactive")
    return principal


@dataclass
class _Move:
    """One trigger as the machine judged it: the states it passes and the steps it touches."""

    trigger: str
    comment: str
    state_before: str
    passed: list[str]  # the states the memo passes through; the last is where it stays
    steps: list[MemoStep]  # this round's steps, a row for each member of each step
    signed: list[MemoStep]  # the rows the actor decides in their position(s)
    now: datetime

    @property
    def state_after(self) -> str:
        return self.passed[-1]


def checked_request(trigger: str, comment: str) -> str:
    """Refuse an unknown trigger or an overlong endorsement before anything is locked."""
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
    return comment


def _check_version(session: Session, memo: Memo, expected: int | None, trigger: str) -> None:
    """Refuse a stale tab, except for what the other members of a group did meanwhile: their
    approvals change the memo's version but not the step it waits at, nor its content, so a
    member's decision made on the page as it was still stands."""
    if expected is None or expected == memo.version:
        return
    if trigger in routing.SIGNER_TRIGGERS and 0 < memo.version - expected <= GROUP_MAX:
        since = session.exec(
            select(Decision.action, Decision.state_before, Decision.state_after)
            .where(Decision.memo_id == memo.id, col(Decision.memo_version) >= expected)
        ).all()
        if len(since) == memo.version - expected and all(
                action == routing.APPROVE and before == after == memo.state
                for action, before, after in since):
            return
    check_version(memo, expected)


def _judge(session: Session, memo: Memo, actor: Principal, org: Organization, trigger: str,
           comment: str, steps: list[MemoStep], target_step: int | None) -> _Move:
    """Ask the route's machine whether the actor may take ``trigger`` now (else it raises
    403, 409 or 422), against the steps of this round, or of the round a (re)submission
    opens."""
    state_before = memo.state
    opening = trigger in (routing.SUBMIT, routing.RESUBMIT) and routing.is_editable(memo.state)
    if opening and memo.drafter_id == actor.user_id:
        # Judge against the steps the new round would have, then lay them.
        memo.round += 1
        steps = lay_steps(session, memo)
    elif not steps:  # never submitted: the machine still needs a route to judge by
        steps = [MemoStep(org_id=memo.org_id, memo_id=memo.id or 0, round=0, step_no=1,
                          position_id=0, position_title="")]
    if trigger in routing.SIGNER_TRIGGERS:
        _refuse_second_decision(steps, actor, state_before)
    act = routing.Act(
        actor_id=actor.user_id,
        drafter_id=memo.drafter_id,
        stages=stages_of(steps),
        actor_position_ids=actor.answers_for,
        comment=comment,
        endorsement_required=org.require_endorsement,
        target_step=target_step if trigger == routing.SEND_BACK else None,
    )
    passed = routing.fire_run(trigger, state_before, act)
    # Only a signer acts in a step's position; a drafter's withdrawal does not. One
    # approval may cover several members and steps the signer answers for.
    signed: list[MemoStep] = []
    if trigger in routing.SIGNER_TRIGGERS:
        left = [state_before, *passed[:-1]] if trigger == routing.APPROVE else [state_before]
        signed = [row for state in left for row in rows_at(steps, routing.step_of(state))
                  if row.position_id in actor.answers_for
                  and row.status in (StepStatus.PENDING, StepStatus.WAITING)]
    return _Move(trigger, comment, state_before, passed, steps, signed, clock.now())


def _refuse_second_decision(steps: list[MemoStep], actor: Principal, state: str) -> None:
    """A member whose step closed without them (another member of an any-of or n-of-m group
    completed it first) is told that the step was decided meanwhile: 409, not 403."""
    step = routing.step_of(state)
    if step is None:
        return
    mine = [row for row in steps if row.position_id in actor.answers_for]
    if any(row.step_no == step and row.status == StepStatus.PENDING for row in mine):
        return
    if any(row.step_no < step and row.status == StepStatus.CANCELLED
           and row.arrived_at is not None for row in mine):
        raise Conflict(
            "ลำดับของท่านได้รับความเห็นครบแล้วโดยผู้พิจารณาอื่นในกลุ่ม "
            "กรุณาเปิดบันทึกเพื่อดูสถานะล่าสุด",
            "Your step was completed by another member of its group meanwhile.",
            code="already_decided",
            details={"state": state},
        )


def _keep_content(session: Session, memo: Memo, move: _Move,
                  actor_id: int) -> MemoVersion | None:
    """On (re)submission keep the content as a version and return it (the version decided
    on); otherwise None, and the latest version stands."""
    if move.trigger not in (routing.SUBMIT, routing.RESUBMIT):
        return None
    memo.submitted_at = memo.submitted_at or move.now
    return snapshot(session, memo=memo, actor_id=actor_id, now=move.now)


def _issue_number_if_due(session: Session, memo: Memo, org: Organization,
                         move: _Move) -> str | None:
    """The document number (ที่), at final approval or at submission as the office chose."""
    if (move.state_after == routing.APPROVED
            and org.numbering_point == NumberingPoint.APPROVAL) or (
            move.trigger == routing.SUBMIT and org.numbering_point == NumberingPoint.SUBMISSION):
        return issue_number(session, memo=memo, org=org, now=move.now)
    return None


def _record_decision(session: Session, memo: Memo, actor: Principal, move: _Move,
                     signature: Signature, decided_version: int,
                     version: Content | None) -> None:
    """Write the decision row with the endorsement verbatim and the signature lines. A row
    written with Core: nothing in this action reads it back as an object (the reply reads
    the memo's decisions afresh), and a model object costs its validation and a flush."""
    if any(step.id is None for step in move.steps):
        session.flush()  # a new round's steps need ids before the decision and emails point at them
    acting_step = move.signed[0] if move.signed else None
    session.connection().execute(insert(Decision.__table__), {  # type: ignore[attr-defined]
        "org_id": memo.org_id,
        "memo_id": memo.id or 0,
        "memo_step_id": acting_step.id if acting_step else None,
        "round": memo.round,
        "step_no": acting_step.step_no if acting_step else None,
        "through_step": move.signed[-1].step_no if len(move.signed) > 1 else None,
        "action": move.trigger,
        "actor_id": actor.user_id,
        "actor_name": actor.full_name,
        "position_id": acting_step.position_id if acting_step else None,
        "position_title": acting_step.position_title if acting_step else "ผู้ร่าง",
        "signed_as": "\n".join(signature.lines),
        "appointments": snapshot_json(signature.roles),
        "comment": move.comment,
        "state_before": move.state_before,
        "state_after": move.state_after,
        "memo_version": decided_version,
        "revision": version.revision if version else 0,
        "content_hash": version.content_hash if version else "",
        "created_at": move.now,
    })


def _record_audit(session: Session, memo: Memo, actor: Principal, move: _Move,
                  signature: Signature, signed_as: str, decided_version: int,
                  number: str | None, request_info: RequestInfo | None) -> None:
    """Append the action to the audit trail, the last write before commit."""
    acting_step = move.signed[0] if move.signed else None
    roles = signature.roles
    record(session, Entry(
        CHAIN_ACTIONS[move.trigger], org_id=memo.org_id, actor_id=actor.user_id,
        actor_name=actor.full_name, position_title=signed_as, memo_id=memo.id,
        state_before=move.state_before, state_after=move.state_after, text=move.comment,
        details={"round": memo.round, "step": acting_step.step_no if acting_step else None,
                 "version": decided_version, **({"number": number} if number else {}),
                 **({"steps": sorted({s.step_no for s in move.signed})}
                    if len({s.step_no for s in move.signed}) > 1 else {}),
                 **({"to_step": routing.step_of(move.state_after)}
                    if move.trigger == routing.SEND_BACK and routing.step_of(move.state_after)
                    else {}),
                 **({"acting": [r.snapshot() for r in roles]} if roles else {})},
        request_info=request_info))
    _LOGGER.info("memo %s: %s by user %s (%s -> %s)", memo.id, move.trigger, actor.user_id,
                 move.state_before, move.state_after)


@dataclass(frozen=True)
class Signature:
    lines: list[str]
    roles: list[ActingRole]


def signature_of(actor: Principal, signed: list[MemoStep]) -> Signature:
    """What is printed under the signer's name: their own position, then one line for each
    step they signed for under an appointment ("รักษาราชการแทนปลัด…")."""
    lines: list[str] = []
    roles: list[ActingRole] = []
    for step in signed:
        role = actor.acting_role(step.position_id)
        if role is None:
            lines.append(step.position_title)
        else:
            roles.append(role)
    if roles and not lines and actor.position_titles:
        lines.append(actor.position_titles[0])
    lines += [role.line for role in roles]
    return Signature(list(dict.fromkeys(lines)), roles)


