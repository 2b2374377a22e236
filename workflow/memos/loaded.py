"""One memo with what both its page and an action on it read, in a single statement.

The memo page, the API and every action start from the same facts: the memo, its office,
the drafter's name and first post, the content last submitted, and this round's steps with
who decided each. Reading them as one joined statement (one row per step) keeps the
approve path and the page to one round trip for all of it; an action takes the same
statement with the memo's row lock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import and_, bindparam
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from ..db import per_thread
from ..errors import NotFound
from ..models import (
    Attachment,
    Memo,
    MemoStep,
    MemoVersion,
    Organization,
    Position,
    StepStatus,
    User,
)
from ..steps import Stage


class Content(NamedTuple):
    """Which content a decision is taken on: its revision and SHA-256."""

    revision: int
    content_hash: str


@dataclass
class LoadedMemo:
    memo: Memo
    org: Organization
    latest_version: Content | None  # the content last submitted, if ever
    drafter_name: str
    drafter_position: str
    steps: list[MemoStep]  # this round's, in order; empty before the first submission
    deciders: dict[int, str] = field(default_factory=dict)  # step id -> who decided it
    actor_active: bool = False  # whether the ``actor_id`` asked about is an active account
    # Whether any file is attached now: most memos have none, and then their page and an
    # action's reply skip the statement that lists them.
    has_attachments: bool = True


def load_memo(session: Session, memo_id: int, *, lock: bool = False,
              actor_id: int | None = None) -> LoadedMemo:
    """The memo and what goes with it, or 404. ``lock`` holds the memo's row until commit
    (FOR NO KEY UPDATE of the memo alone; SQLite's IMMEDIATE transaction already excludes other
    writers), and reads what goes with it as committed once the lock is held. ``actor_id``
    also reads whether that account is active, under the same lock."""
    recheck = lock and session.get_bind().dialect.name == "postgresql"
    statement = _statement(lock, actor_id is not None, recheck)
    params = {"memo_id": memo_id, "actor_id": actor_id}
    rows = session.exec(statement, params=params).all()
    if not rows:
        raise NotFound("ไม่พบบันทึกข้อความนี้", "Memo not found.", code="memo_not_found")
    if recheck and rows[0][-1] != rows[0][0].version:
        rows = session.exec(statement.execution_options(populate_existing=True),
                            params=params).all()
    memo, org, revision, content_hash, drafter_name, position_title = rows[0][:6]
    steps = [row[6] for row in rows if row[6] is not None]
    return LoadedMemo(
        memo=memo, org=org, drafter_name=drafter_name, drafter_position=position_title or "",
        latest_version=Content(revision, content_hash) if revision is not None else None,
        steps=steps, deciders={row[6].id: row[7] for row in rows if row[6] is not None and row[7]},
        has_attachments=bool(rows[0][8]),
        actor_active=bool(rows[0][9]) if actor_id is not None else False,
    )


@per_thread
def _statement(lock: bool, with_actor: bool, recheck: bool) -> Any:
    """The memo (``memo_id``) joined to its office, drafter, content and this round's steps;
    with ``with_actor``, whether ``actor_id`` is active; see ``load_memo`` for the rest."""
    drafter, decider = aliased(User, name="drafter"), aliased(User, name="decider")
    first_post = (
        select(Position.title).where(col(Position.holder_id) == col(Memo.drafter_id))
        .order_by(col(Position.id)).limit(1).scalar_subquery())
    columns: list[Any] = [Memo, Organization, MemoVersion.revision, MemoVersion.content_hash,
                          drafter.full_name, first_post, MemoStep, decider.full_name,
                          select(Attachment.id).where(col(Attachment.memo_id) == col(Memo.id),
                                                      col(Attachment.removed_at).is_(None))
                          .exists()]
    if with_actor:
        columns.append(select(User.is_active).where(col(User.id) == bindparam("actor_id"))
                       .scalar_subquery())
    if recheck:
        # Having waited for another action's commit, PostgreSQL re-reads the locked memo row
        # as committed but keeps the joined rows (the steps) as the statement's snapshot saw
        # them, from before that commit: the second of two members approving a group together
        # would not see the first one's approval. The memo's version in that snapshot tells:
        # when it is not the version locked, the steps are read again (the lock is held by
        # then). Uncontended, it stays one statement.
        seen = aliased(Memo, name="seen")
        columns.append(select(seen.version).where(seen.id == Memo.id).scalar_subquery())
    statement = (
        select(*columns)
        .join(Organization, col(Organization.id) == col(Memo.org_id))
        .join(drafter, col(drafter.id) == col(Memo.drafter_id))
        .outerjoin(MemoVersion, and_(col(MemoVersion.memo_id) == col(Memo.id),
                                     col(MemoVersion.revision) == col(Memo.revision)))
        .outerjoin(MemoStep, and_(col(MemoStep.memo_id) == col(Memo.id),
                                  col(MemoStep.round) == col(Memo.round)))
        .outerjoin(decider, col(decider.id) == col(MemoStep.decided_by_id))
        .where(col(Memo.id) == bindparam("memo_id"))
        .order_by(col(MemoStep.step_no), col(MemoStep.id))
    )
    if lock:
        # FOR NO KEY UPDATE OF the memo alone: it excludes other writers of the memo but not
        # the key-share lock an insert pointing at the memo takes (an audit event, an
        # email's), so a worker that holds the audit head while recording a sent email cannot
        # deadlock with an action that holds the memo and waits for that head. (SQLite's
        # IMMEDIATE transaction already excludes other writers.)
        statement = statement.with_for_update(of=Memo, key_share=True)
    return statement


def rows_at(steps: list[MemoStep], step_no: int | None) -> list[MemoStep]:
    """The rows of one step of a round: one per member of its group."""
    return [s for s in steps if s.step_no == step_no]


def stages_of(steps: list[MemoStep]) -> tuple[Stage, ...]:
    """A round's rows as the machine's steps: each step's members, the approvals it needs,
    who has approved in this pass, and whether it applies to the memo."""
    grouped: dict[int, list[MemoStep]] = {}
    for step in steps:
        grouped.setdefault(step.step_no, []).append(step)
    return tuple(
        Stage(tuple(r.position_id for r in rows), rows[0].need,
              frozenset(r.position_id for r in rows if r.status == StepStatus.APPROVED),
              applies=rows[0].status != StepStatus.SKIPPED)
        for _, rows in sorted(grouped.items()))
