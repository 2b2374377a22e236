"""Approving many memos at once (issue #14, point 5): one endorsement, each approval its own.

A signer ticks several memos in the inbox and approves them together. Each is then
``actions.perform("approve", …)`` on its own: its own row lock, version check, decision,
audit event and emails, exactly as if it had been approved from its page. So a bulk
approval of N memos is N single approvals, and nothing about one can spoil another.

The list is judged first, as a whole, and refused as a whole (nothing approved) if it is
not something the signer could have ticked: empty, longer than ``BULK_MAX``, a memo twice,
or a memo they may not open (someone else's, another office's). A memo that moved since
the signer ticked it (an acting officer approved it, the drafter withdrew it, the tab was
stale) is reported with the reason and left as it is; the others go on.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import col, select

from .. import thai
from ..errors import Forbidden, Invalid, NotFound, WorkflowError
from ..extensions import db
from ..identity.principal import Principal
from ..models import Memo, MemoStep, current_round, waiting_at
from ..trail.chain import RequestInfo
from . import actions, queries

_LOGGER = logging.getLogger(__name__)

BULK_MAX = 100  # memos in one bulk approval: a page of the inbox, twice over


@dataclass(frozen=True)
class Pick:
    """One ticked memo, with the version the signer saw (None: whatever it is now)."""

    memo_id: int
    version: int | None = None


@dataclass
class Refusal:
    memo_id: int
    error: WorkflowError
    subject: str = ""  # to name it to the signer


@dataclass
class BulkOutcome:
    approved: list[int] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


def waiting_for(principal: Principal, memo_ids: Sequence[int]) -> dict[int, Memo]:
    """Which of ``memo_ids`` wait for the principal's decision now, in their office."""
    if not principal.answers_for or not memo_ids:
        return {}
    rows = db.session.exec(
        select(Memo).join(MemoStep, current_round())
        .where(Memo.org_id == principal.org_id, col(Memo.id).in_(list(memo_ids)),
               waiting_at(principal.answers_for))).all()
    return {memo.id: memo for memo in rows if memo.id is not None}


def _may_open(principal: Principal, memo_id: int) -> bool:
    try:
        queries.require_visible(principal, memo_id)
    except (NotFound, Forbidden):
        return False
    return True


def check_picks(principal: Principal, picks: Sequence[Pick]) -> dict[int, Memo]:
    """The ticked memos, if the list as a whole may be approved; else a Thai 422 that says
    what is wrong with it. Nothing is changed either way."""
    if not picks:
        raise Invalid("กรุณาเลือกบันทึกอย่างน้อยหนึ่งเรื่อง", "Choose at least one memo.",
                      code="nothing_chosen")
    if len(picks) > BULK_MAX:
        raise Invalid(f"ลงนามพร้อมกันได้ไม่เกิน {thai.thai_digits(BULK_MAX)} เรื่องต่อครั้ง",
                      f"At most {BULK_MAX} memos at once.", code="too_many",
                      details={"most": BULK_MAX})
    twice = sorted(memo_id for memo_id, n in Counter(p.memo_id for p in picks).items() if n > 1)
    if twice:
        raise Invalid("มีบันทึกซ้ำในรายการ กรุณาเลือกแต่ละเรื่องเพียงครั้งเดียว",
                      f"Memos listed more than once: {twice}.", code="duplicate_memos",
                      details={"memo_ids": twice})
    waiting = waiting_for(principal, [p.memo_id for p in picks])
    strangers = [p.memo_id for p in picks
                 if p.memo_id not in waiting and not _may_open(principal, p.memo_id)]
    if strangers:
        # The same answer whether the memo is someone else's, another office's or does not
        # exist: the list tells nothing about memos the signer may not see. One the signer
        # may open but that no longer waits for them has moved meanwhile: approve_many
        # reports it alone.
        raise Invalid("บางเรื่องในรายการไม่ใช่บันทึกที่ท่านพิจารณาได้ จึงยังไม่ได้ลงนามเรื่องใดเลย "
                      "กรุณาเปิดกล่อง \"รอฉันพิจารณา\" แล้วเลือกใหม่",
                      f"Not memos you may decide on: {strangers}; nothing was approved.",
                      code="not_yours", details={"memo_ids": strangers})
    return waiting


def approve_many(principal: Principal, picks: Sequence[Pick], *, comment: str,
                 request_info: RequestInfo | None = None) -> BulkOutcome:
    """Approve each ticked memo with the one endorsement ``comment``, each in its own unit
    of work (see the module's docstring)."""
    comment = actions.checked_request("approve", comment)  # once, not once per memo
    check_picks(principal, picks)
    outcome = BulkOutcome()
    for pick in picks:
        try:
            actions.perform("approve", memo_id=pick.memo_id, actor_id=principal.user_id,
                            principal=principal, comment=comment,
                            expected_version=pick.version, request_info=request_info)
        except WorkflowError as exc:  # it moved meanwhile: say so, leave it, go on
            memo = db.session.get(Memo, pick.memo_id)
            outcome.refused.append(Refusal(pick.memo_id, exc, memo.subject if memo else ""))
        else:
            outcome.approved.append(pick.memo_id)
    _LOGGER.info("bulk approval by user %s: %d approved, %d refused", principal.user_id,
                 len(outcome.approved), len(outcome.refused))
    return outcome
