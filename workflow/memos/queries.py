"""Reading memos: the inbox tabs, the waiting count, and one memo as its reader may see it."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal, or_, tuple_, union_all
from sqlalchemy.orm import aliased, defer
from sqlmodel import col, select

from .. import routing
from ..db import per_thread
from ..dbtypes import UTCDateTime
from ..errors import Invalid, NotFound
from ..extensions import db
from ..identity.access import require_view
from ..identity.acting import Answerer, answerers_for
from ..identity.principal import Principal
from ..models import (
    Attachment,
    CirculationRecipient,
    Decision,
    Memo,
    MemoStep,
    Organization,
    StepStatus,
    User,
    current_round,
    waiting_at,
)
from ..office.calendar import office_today
from ..outbox import queue
from ..steps import Stage, rule_label
from ..validation import parse_count
from . import attachments
from .loaded import LoadedMemo, load_memo, stages_of
from .routes import plan_for
from .search import MemoSearch, conditions
from .versions import VersionDiff, diff_for

BOXES = ("inbox", "mine", "decided", "all", "circulated")


@dataclass(frozen=True)
class MemoListItem:
    memo: Memo
    drafter_name: str
    waiting_since: datetime | None = None
    acting_as: str = ""  # "รักษาราชการแทน…" when it waits for the reader as an acting officer
    # In the เวียนทราบ tab: when it was circulated to the reader, and when they acknowledged.
    circulated_at: datetime | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class MemoPage:
    """One page of a list, and the cursor of the next (None on the last page)."""

    items: list[MemoListItem]
    next_before: str | None = None


def page_memos(principal: Principal, box: str, *, limit: int = 100, before: str | None = None,
               search: MemoSearch | None = None) -> MemoPage:
    """One page of an inbox tab (or, with ``search``, of every memo the principal may open
    that matches it), after the keyset cursor ``before``. Keyset, not offset: a page costs
    the same at the 100,000th memo as at the first, and memos arriving meanwhile neither
    push one onto the next page twice nor make one skip."""
    if box not in BOXES:
        raise Invalid("ไม่รู้จักกล่องนี้", f"Unknown box {box!r}; expected one of "
                      f"{', '.join(BOXES)}.", code="unknown_box")
    # A list shows no memo's body: not read (a fifth of a 100-row page's time), and never
    # loaded one memo at a time behind the list's back (raiseload).
    base = (select(Memo, _drafter_name()).where(Memo.org_id == principal.org_id)
            .options(defer(Memo.body, raiseload=True)))  # type: ignore[arg-type]
    if search is not None and not search.is_empty:
        box = "all"  # a search looks through everything the reader may open
        base = base.where(*conditions(search.checked()))
    if box == "inbox":
        return _inbox_page(principal, base, limit, before)
    if box == "decided":
        return _decided_page(principal, base, limit, before)
    if box == "circulated":
        return _circulated_page(principal, base, limit, before)
    if box == "mine":
        query = base.where(Memo.drafter_id == principal.user_id)
    else:
        query = base.where(_may_open(principal)) if not principal.oversees else base
    if before:
        updated, memo_id = _cursor(before)
        query = query.where(tuple_(col(Memo.updated_at), col(Memo.id))
                            < tuple_(literal(updated, UTCDateTime()), literal(memo_id)))
    rows = db.session.exec(
        query.order_by(col(Memo.updated_at).desc(), col(Memo.id).desc()).limit(limit + 1)
    ).all()
    items = [MemoListItem(m, name) for m, name in rows[:limit]]
    last = items[-1].memo if len(rows) > limit else None
    return MemoPage(items, _cursor_of(last.updated_at, last.id) if last else None)


def _inbox_page(principal: Principal, base: Any, limit: int, before: str | None) -> MemoPage:
    """What waits for the principal, oldest first (the cursor is the last one shown)."""
    if not principal.answers_for:
        return MemoPage([])
    query = (base.add_columns(col(MemoStep.arrived_at), col(MemoStep.position_id))
             .join(MemoStep, current_round())
             .where(waiting_at(principal.answers_for)))
    if before:
        arrived, memo_id = _cursor(before)
        query = query.where(tuple_(col(MemoStep.arrived_at), col(Memo.id))
                            > tuple_(literal(arrived, UTCDateTime()), literal(memo_id)))
    rows = db.session.exec(
        query.order_by(col(MemoStep.arrived_at).asc(), col(Memo.id).asc()).limit(limit + 1)
    ).all()
    # Once per memo, though one may answer for two members of its group (an acting officer):
    # their rows arrived together, so they come next to each other in this order.
    items: list[MemoListItem] = []
    for m, name, arrived, position_id in rows[:limit]:
        if not items or items[-1].memo.id != m.id:
            items.append(MemoListItem(m, name, arrived, _acting_line(principal, position_id)))
    last = items[-1] if len(rows) > limit else None
    return MemoPage(items, _cursor_of(last.waiting_since, last.memo.id)
                    if last and last.waiting_since else None)


def _decided_page(principal: Principal, base: Any, limit: int, before: str | None) -> MemoPage:
    """What the principal decided on, each memo once by their newest decision on it (one
    with no newer one of theirs on the same memo: an anti-join), walked newest first through
    ix_decision_actor: a page reads about a page of rows however many thousands they
    decided (a GROUP BY over all of them took 0.5 s at 100,000)."""
    signer = col(Decision.action).in_(routing.SIGNER_TRIGGERS)
    later = _later()
    newer = (select(later.id)
             .where(later.memo_id == Decision.memo_id, later.actor_id == principal.user_id,
                    col(later.action).in_(routing.SIGNER_TRIGGERS),
                    col(later.id) > col(Decision.id))
             .exists())
    query = (base.add_columns(Decision.id).join(Decision, col(Decision.memo_id) == Memo.id)
             .where(Decision.actor_id == principal.user_id, signer, ~newer))
    if before:
        query = query.where(col(Decision.id) < parse_count(before, field="before", default=0))
    rows = db.session.exec(query.order_by(col(Decision.id).desc()).limit(limit + 1)).all()
    items = [MemoListItem(m, name) for m, name, _ in rows[:limit]]
    return MemoPage(items, str(rows[limit - 1][2]) if len(rows) > limit else None)


def _circulated_page(principal: Principal, base: Any, limit: int,
                     before: str | None) -> MemoPage:
    """What was circulated to the principal (เวียนทราบ), newest first; the cursor is the last
    recipient row shown. Walks ix_circulationrecipient_user (user, id) backwards."""
    query = (base.add_columns(CirculationRecipient.id, CirculationRecipient.circulated_at,
                              CirculationRecipient.acknowledged_at)
             .join(CirculationRecipient, col(CirculationRecipient.memo_id) == Memo.id)
             .where(CirculationRecipient.user_id == principal.user_id))
    if before:
        query = query.where(col(CirculationRecipient.id)
                            < parse_count(before, field="before", default=0))
    rows = db.session.exec(
        query.order_by(col(CirculationRecipient.id).desc()).limit(limit + 1)).all()
    items = [MemoListItem(m, name, circulated_at=at, acknowledged_at=acked)
             for m, name, _, at, acked in rows[:limit]]
    return MemoPage(items, str(rows[limit - 1][2]) if len(rows) > limit else None)


def _drafter_name() -> Any:
    """The drafter's name, looked up by id for each memo of the page only.

    Not a join: with many offices PostgreSQL takes "this office" and "this drafter" as
    independent, expects a handful of memos from joining the office's few people, and reads
    every memo of the office to sort them (0.1 s at 200 offices x 5,000 memos) instead of
    walking an index and stopping at the end of the page (5 ms)."""
    return select(User.full_name).where(User.id == Memo.drafter_id).scalar_subquery()


# The same decision table, for "a newer decision of theirs on the memo" (built once).
@per_thread
def _later() -> Any:  # Decision aliased once per thread (see db.per_thread)
    return aliased(Decision, name="later")


def _may_open(principal: Principal) -> Any:
    """As SQL, who ``access.can_view`` lets in besides overseers: the drafter, people on the
    route, past deciders, acting officers for what waits at their position now, and the
    people it was circulated to.

    Apart from the drafter, one EXISTS over a UNION ALL of the other branches, each
    correlated with the outer memo and answered by an index on that memo's few steps or
    decisions. PostgreSQL then walks the memos newest first, probes each and stops at the end
    of the page (1 ms at 100,000 memos). ``IN``, or one EXISTS per branch, lets it hash every
    step at the reader's posts and every decision they took before the first row instead
    (0.3-0.4 s), since it costs the plan as if all 100,000 memos were read. Branches that
    cannot match (no posts, no acting appointments) are left out."""
    one = literal(1)
    branches: list[Any] = []
    if principal.position_ids:
        # A draft never submitted is its drafter's working paper, not yet the signers'.
        branches.append(select(one).where(
            MemoStep.memo_id == Memo.id, col(Memo.round) > 0,
            col(MemoStep.position_id).in_(principal.position_ids)))
    # Someone who decided on it keeps reading it after leaving the position.
    branches.append(select(one).where(
        Decision.memo_id == Memo.id, Decision.actor_id == principal.user_id))
    acting = {a.position_id for a in principal.acting}
    if acting:
        # An acting officer reads what waits at the position now, not its history.
        branches.append(select(one).where(current_round(), waiting_at(acting)))
    # A memo circulated to them (แจ้งเวียน).
    branches.append(select(one).where(CirculationRecipient.memo_id == Memo.id,
                                      CirculationRecipient.user_id == principal.user_id))
    return or_(col(Memo.drafter_id) == principal.user_id, union_all(*branches).exists())


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _cursor_of(moment: datetime, memo_id: int | None) -> str:
    """A keyset cursor, URL-safe: microseconds since 1970 and the memo id."""
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}.{memo_id}"


def _cursor(raw: str) -> tuple[datetime, int]:
    """A (time, memo id) keyset cursor as ``page_memos`` hands it out; a 422 otherwise."""
    micros, _, memo_id = raw.partition(".")
    if not (micros.isascii() and micros.isdigit() and len(micros) <= 17):
        raise Invalid("ตำแหน่งหน้าถัดไปไม่ถูกต้อง", "The before cursor is not one we handed out.",
                      code="bad_cursor")
    number = parse_count(memo_id, field="before", default=None)
    if number is None:
        raise Invalid("ตำแหน่งหน้าถัดไปไม่ถูกต้อง", "The before cursor is not one we handed out.",
                      code="bad_cursor")
    return _EPOCH + timedelta(microseconds=int(micros)), number


def _acting_line(principal: Principal, position_id: int) -> str:
    role = principal.acting_role(position_id)
    return role.line if role else ""


def count_waiting(principal: Principal) -> int:
    """How many memos wait for the principal's decision (the inbox badge)."""
    if not principal.answers_for:
        return 0
    return db.session.exec(
        select(func.count(func.distinct(MemoStep.memo_id)))
        .select_from(MemoStep)
        .join(Memo, current_round())
        .where(waiting_at(principal.answers_for))
    ).one()


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


def _step_view(memo: Memo, row: _Laid, answering: dict[int, list[Answerer]]) -> RouteStepView:
    holder, needs_acting = row.decider or "", False
    if not row.decider and row.status in (StepStatus.WAITING, StepStatus.PENDING):
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
    ``for_page`` adds what only the memo page shows: its emails and the version diff."""
    session = db.session
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
    if answering is None:
        answering = answerers_for(session, {row.position_id for row in laid}, office_today())
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
        attachments=attachments.of_memo(session, memo_id),
        diff=diff_for(session, memo, principal) if for_page else None,
    )
