"""Reading one memo as its reader may see it (the lists are in ``lists``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import col, select

from .. import routing
from ..db import per_thread, prepared_plans
from ..errors import NotFound
from ..extensions import db
from ..identity.access import require_view
from ..identity.acting import Answerer, answerers_for
from ..identity.principal import Principal
from ..models import (
    Attachment,
    Decision,
    Memo,
    Organization,
    StepStatus,
)
from ..office.calendar import office_today
from ..outbox import queue
from ..steps import Stage, rule_label
from . import attachments
from .loaded import LoadedMemo, load_memo, stages_of
from .routes import plan_for
from .versions import VersionDiff, diff_for


@dataclass(frozen=True)
class RouteStepView:
    """One member of one step of the memo's route (a step of one position has one)."""

    step_no: int
    position_title: str
    holder_name: str  # who decided, once decided; before that, who answers for it today
    status: str
    opened_at: datetime | None = None
    needs_acting: bool = False  # nobody can decide here today: appoint an acting officer
    need: int = 1  # approvals that complete its step
    members: int = 1  # members of its step
    condition: str = ""  # the condition its step applies under, in Thai ("" for none)

    @property
    def rule(self) -> str:
        return rule_label(self.need, self.members)


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
    # A step waits for the reader and they have not opened it: the page then records the read
    # receipt (``commands.mark_opened``). Known from the rows loaded, so that opening a memo
    # one has read before, or is not to sign, asks the database nothing more.
    unopened_by_reader: bool = False

    @property
    def last_step(self) -> int:
        """The last step that applies to this memo: the one that decides it."""
        return max((s.step_no for s in self.steps if s.status != StepStatus.SKIPPED), default=0)

    def addressed_to(self, decision: Decision) -> str:
        """Whom an endorsement is written to (its "เรียน" line): the next step that applies
        after an approval, the step a send-back goes to; "" when it goes to nobody above (a
        final decision, or back to the drafter)."""
        if decision.action == routing.APPROVE:
            after = decision.through_step or decision.step_no or 0
            later = [s.step_no for s in self.steps
                     if s.step_no > after and s.status != StepStatus.SKIPPED]
            to = min(later, default=None)
        elif decision.action == routing.SEND_BACK:
            to = routing.step_of(decision.state_after)
        else:
            to = None
        return " และ ".join(s.position_title for s in self.steps if s.step_no == to)

    @property
    def send_back_to(self) -> list[tuple[int, str]]:
        """The earlier steps a signer may send the memo back to: (step, its positions)."""
        if self.current_step is None:
            return []
        titles: dict[int, list[str]] = {}
        for s in self.steps:
            if s.step_no < self.current_step and s.status != StepStatus.SKIPPED:
                titles.setdefault(s.step_no, []).append(s.position_title)
        return [(n, " และ ".join(t)) for n, t in titles.items()]


@dataclass(frozen=True)
class _Laid:
    """A row of the route as the memo page shows it, before who answers is looked up."""

    step_no: int
    position_id: int
    title: str
    status: str
    decider: str | None = None
    opened_at: datetime | None = None
    need: int = 1
    members: int = 1
    condition: str = ""


def _undecided(row: _Laid) -> bool:
    """A row whose holder the route card names as who answers for it today."""
    return not row.decider and row.status in (StepStatus.WAITING, StepStatus.PENDING)


def _step_view(memo: Memo, row: _Laid, answering: dict[int, list[Answerer]]) -> RouteStepView:
    holder, needs_acting = row.decider or "", False
    if _undecided(row):
        names = [a.label for a in answering.get(row.position_id, [])
                 if a.user.id != memo.drafter_id]
        holder, needs_acting = ", ".join(names), not names
    return RouteStepView(row.step_no, row.title, holder, row.status, row.opened_at,
                         needs_acting, row.need, row.members, row.condition)


def _laid_rows(session: Any, loaded: LoadedMemo) -> list[_Laid]:
    """The route as laid for this round, or, before the first submission, as it would be."""
    memo = loaded.memo
    if memo.round > 0:
        sizes = Counter(s.step_no for s in loaded.steps)
        return [_Laid(s.step_no, s.position_id, s.position_title, s.status,
                      loaded.deciders.get(s.id or 0), s.opened_at, s.need, sizes[s.step_no],
                      s.condition) for s in loaded.steps]
    return [_Laid(n, position_id, title,
                  StepStatus.WAITING if step.applies else StepStatus.SKIPPED,
                  need=step.need, members=len(step.members), condition=step.why)
            for n, step in enumerate(plan_for(session, memo, strict=False), start=1)
            for position_id, title in step.members]


def require_visible(principal: Principal, memo_id: int) -> None:
    """404 for a memo that is not there (another office's is not), 403 for one the principal
    may not read. A request that is refused for its input calls this first, so that the
    answer about another office's memo is the same 404 whatever was sent."""
    session = db.session
    memo = session.get(Memo, memo_id)
    if memo is None:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    require_view(session, principal, memo)


def get_memo(principal: Principal, memo_id: int, *, for_page: bool = True) -> MemoView:
    """One memo as the principal may see it, with its route, decisions and the actions on offer.
    ``for_page`` adds what only the memo page shows: its emails and the version diff.

    Every read here is by the memo's id (its row, steps, decisions, emails, attachments),
    where one generic plan is right for every memo: they reuse prepared plans rather than
    be planned on each run (the memo's read took longer to plan than to run)."""
    session = db.session
    with prepared_plans(session):
        loaded = load_memo(session, memo_id)
        require_view(session, principal, loaded.memo, loaded.steps)
        return memo_view(principal, loaded, for_page=for_page)


@per_thread
def _decisions() -> Any:  # a memo's decisions (``memo_id``), oldest first
    return select(Decision).where(col(Decision.memo_id) == bindparam("memo_id")).order_by(
        col(Decision.id))


def memo_view(principal: Principal, loaded: LoadedMemo, *,
              answering: dict[int, list[Answerer]] | None = None,
              for_page: bool = True) -> MemoView:
    """The view of a memo already loaded and cleared for ``principal``: by ``get_memo``, or by
    an action, which passes who answers for the steps it looked up for its emails."""
    session = db.session
    memo = loaded.memo
    laid = _laid_rows(session, loaded)
    if answering is None:  # decided rows name their decider: an approved memo asks nothing
        answering = answerers_for(session, {row.position_id for row in laid if _undecided(row)},
                                  office_today())
    steps = [_step_view(memo, row, answering) for row in laid]
    decisions = list(session.exec(_decisions(), params={"memo_id": memo.id}))
    act = routing.Act(
        actor_id=principal.user_id,
        drafter_id=memo.drafter_id,
        stages=stages_of(loaded.steps) if loaded.steps else (Stage.of(0),),
        actor_position_ids=principal.answers_for,
    )
    memo_id = memo.id or 0
    return MemoView(
        memo=memo,
        org=loaded.org,
        drafter_name=loaded.drafter_name,
        drafter_position=loaded.drafter_position,
        steps=steps,
        decisions=decisions,
        allowed=routing.allowed_triggers(memo.state, act),
        current_step=routing.step_of(memo.state),
        notifications=queue.for_memo(memo_id) if for_page else [],
        attachments=attachments.of_memo(session, memo_id) if loaded.has_attachments else [],
        diff=diff_for(session, memo, principal) if for_page else None,
        unopened_by_reader=any(
            s.status == StepStatus.PENDING and s.opened_at is None
            and s.position_id in principal.answers_for for s in loaded.steps),
    )
