"""Reading circulations: the memo page's section, the tab's badge, one memo's status for the
API, and the acknowledgements the completion certificate lists."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import col, select

from ..db import per_thread
from ..errors import NotFound
from ..extensions import db
from ..identity.access import require_view
from ..identity.principal import Principal
from ..models import (
    Circulation,
    CirculationRecipient,
    Decision,
    Memo,
    Organization,
    Position,
    User,
)
from .rules import circulator_problem


@dataclass(frozen=True)
class RecipientView:
    user_id: int
    full_name: str
    positions: str  # the posts they hold now, comma-separated
    circulated_at: datetime
    opened_at: datetime | None
    acknowledged_at: datetime | None
    note: str


@dataclass(frozen=True)
class CirculationView:
    circulation_id: int
    circulated_by: str
    circulated_at: datetime
    described: str  # "ตำแหน่ง … · กองคลัง · บุคลากรทั้งหมด"
    recipient_count: int


@dataclass(frozen=True)
class PositionChoice:
    position_id: int
    title: str
    division: str
    holder_name: str


@dataclass(frozen=True)
class Section:
    """What the memo page shows of its circulation, for one reader."""

    circulations: list[CirculationView]
    recipients: list[RecipientView]
    mine: RecipientView | None = None  # the reader's own row, when it was circulated to them
    can_circulate: bool = False
    positions: list[PositionChoice] = field(default_factory=list)  # the form's choices
    divisions: list[str] = field(default_factory=list)

    @property
    def acknowledged(self) -> list[RecipientView]:
        return [r for r in self.recipients if r.acknowledged_at is not None]

    @property
    def waiting(self) -> list[RecipientView]:
        return [r for r in self.recipients if r.acknowledged_at is None]


def targets_of(targets_json: str) -> dict[str, Any]:
    """A circulation's choice as stored: positions (titles), divisions and all_staff."""
    try:
        targets = json.loads(targets_json or "{}")
    except ValueError:
        return {}
    return targets if isinstance(targets, dict) else {}


def describe(targets_json: str) -> str:
    """A circulation's choice as people read it."""
    targets = targets_of(targets_json)
    parts = [*targets.get("positions", []), *targets.get("divisions", [])]
    if targets.get("all_staff"):
        parts.append("บุคลากรทั้งหมดของหน่วยงาน")
    return " · ".join(str(p) for p in parts)


def recipients_of(memo_id: int) -> list[RecipientView]:
    """Everyone a memo was circulated to, in the order they were added (the caller has
    checked access)."""
    session = db.session
    rows = session.exec(
        select(CirculationRecipient, User.full_name)
        .join(User, col(User.id) == col(CirculationRecipient.user_id))
        .where(CirculationRecipient.memo_id == memo_id)
        .order_by(col(CirculationRecipient.id))).all()
    held: dict[int, list[str]] = {}
    user_ids = {r.user_id for r, _ in rows}
    if user_ids:
        for holder_id, title in session.exec(
                select(Position.holder_id, Position.title)
                .where(col(Position.holder_id).in_(user_ids)).order_by(col(Position.id))).all():
            held.setdefault(holder_id or 0, []).append(title)
    return [RecipientView(r.user_id, name, ", ".join(held.get(r.user_id, [])), r.circulated_at,
                          r.opened_at, r.acknowledged_at, r.note) for r, name in rows]


def section_for(principal: Principal, memo: Memo, org: Organization,
                decisions: Sequence[Decision] | None = None, *,
                circulated: bool = True) -> Section | None:
    """The memo page's circulation section (the page has checked access), or None when there
    is nothing to show: not approved, or approved but neither circulated nor circulable by
    the reader. ``decisions``, the memo's as the page read them, tell who signed last;
    ``circulated`` False, that the page knows there is no circulation to list."""
    if memo.state != "approved" or memo.id is None:
        return None
    session = db.session
    circulations = [
        CirculationView(c.id or 0, c.circulated_by_name, c.created_at, describe(c.targets),
                        c.recipient_count)
        for c in session.exec(_circulations(), params={"memo_id": memo.id}).all()
    ] if circulated else []
    recipients = recipients_of(memo.id) if circulations else []
    can_circulate = circulator_problem(session, principal, memo, org, decisions) is None
    if not circulations and not can_circulate:
        return None
    mine = next((r for r in recipients if r.user_id == principal.user_id), None)
    positions: list[PositionChoice] = []
    divisions: list[str] = []
    if can_circulate:
        rows = session.exec(
            select(Position, User.full_name)
            .outerjoin(User, col(User.id) == col(Position.holder_id))
            .where(Position.org_id == memo.org_id, Position.is_active == True)  # noqa: E712
            .order_by(col(Position.division), col(Position.id))).all()
        positions = [PositionChoice(p.id or 0, p.title, p.division, name or "")
                     for p, name in rows]
        divisions = sorted({p.division for p in positions if p.division})
    return Section(circulations, recipients, mine, can_circulate, positions, divisions)


@per_thread
def circulated_statement() -> Any:
    """Whether the memo (``memo_id``) was ever circulated, for a page that reads it with
    other facts in one statement: most approved memos never are."""
    return select(select(Circulation.id).where(Circulation.memo_id == bindparam("memo_id"))
                  .exists())


@per_thread  # every circulated memo's page asks it
def _circulations() -> Any:
    return (select(Circulation).where(Circulation.memo_id == bindparam("memo_id"))
            .order_by(col(Circulation.id)))


def status(principal: Principal, memo_id: int) -> list[RecipientView]:
    """Who a memo was circulated to, and who has acknowledged, for a reader of the memo."""
    memo = db.session.get(Memo, memo_id)
    if memo is None:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    require_view(db.session, principal, memo)
    return recipients_of(memo_id)


@per_thread  # on every inbox page
def unacknowledged_statement() -> Any:
    """How many circulated memos wait for the ทราบ of ``user_id`` (the inbox tab's badge),
    as a SELECT that ``views.badges`` reads with the waiting count."""
    return (select(func.count()).select_from(CirculationRecipient)
            .where(CirculationRecipient.user_id == bindparam("user_id"),
                   col(CirculationRecipient.acknowledged_at).is_(None)))


def acknowledgements(memo_id: int) -> list[RecipientView]:
    """The recipients of a memo for its completion certificate: the caller (the print view)
    has checked access."""
    return recipients_of(memo_id)
