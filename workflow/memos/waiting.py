"""How many memos wait for a reader's decision: the badge of the nav, on every page of a
signer."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func
from sqlmodel import select

from ..db import per_thread
from ..extensions import db
from ..identity.principal import Principal
from ..models import MemoStep, waiting_at


def count_waiting(principal: Principal) -> int:
    """How many memos wait for the principal's decision (the inbox badge, on every page).

    From the steps alone, without joining each one's memo to check it is of the round under
    way: a step is pending only in its memo's current round (whatever ends a round, a send
    back, a rejection or a withdrawal, cancels its pending steps, and a new round's steps
    are new rows; ``tests/memos/test_waiting_count.py`` walks each). So it is an index-only
    count of ``ix_memostep_waiting``: 0.5 ms for 2,500 waiting, where probing each memo
    took 7 ms."""
    if not principal.answers_for:
        return 0
    return db.session.exec(waiting_count_statement(),
                           params=waiting_count_params(principal)).one()


@per_thread  # on every page of a signer
def waiting_count_statement() -> Any:
    """``count_waiting``'s SELECT, for a page that reads it with other counts at once."""
    return (select(func.count(func.distinct(MemoStep.memo_id)))
            .where(MemoStep.org_id == bindparam("org_id"),
                   waiting_at(bindparam("answers_for", expanding=True))))


def waiting_count_params(principal: Principal) -> dict[str, Any]:
    return {"org_id": principal.org_id, "answers_for": sorted(principal.answers_for)}
