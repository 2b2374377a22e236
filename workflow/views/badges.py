"""The counts in every page's navigation, read together: one statement per page.

The nav shows how many memos wait for the reader's decision on every page, and the inbox's
tabs also show how many circulated memos wait for their ทราบ. Each was its own statement;
an inbox page, already the most visited, paid two round trips for two numbers. Both are now
scalar subqueries of one SELECT, read the first time a page asks and kept for the request.

An approved memo's page also asks two small facts of its own, whether its final copy is
sealed and whether it was ever circulated: ``memo_facts`` reads them with the waiting count.
And the inbox, the page people open most, reads both counts in its list's own statement
(``along_the_list``), one round trip fewer: in process at 100,000 memos, 0.2-0.4 ms of a
4-5 ms page (``bench/profile_reads.py``, alternated with the code before, three times). An
empty list has no row to carry them and reads them on its own as before (0.2 ms more).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import literal
from sqlmodel import select

from ..circulation.queries import circulated_statement, unacknowledged_statement
from ..db import per_thread
from ..extensions import db
from ..memos.lists import Along
from ..memos.waiting import waiting_count_params, waiting_count_statement
from ..seal.sealing import sealed_at_statement
from .util import principal

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Badges:
    waiting: int = 0  # memos waiting for the reader's decision
    circulated: int | None = None  # circulated memos not acknowledged; None: not asked


@dataclass(frozen=True)
class MemoFacts:
    """What an approved memo's page shows besides the memo and its decisions."""

    sealed_at: datetime | None = None  # when its final copy was sealed, if it has been
    circulated: bool = False  # whether it was ever circulated (its section lists them then)


def badges(*, circulated: bool = False) -> Badges:
    """The signed-in reader's counts (zeros for nobody); a badge never takes a page down.
    Every page's nav shows the waiting memos; the inbox also asks for the ``circulated``
    ones, before it renders, so that both come in one statement."""
    kept: Badges | None = g.get("badges")
    if kept is None or (circulated and kept.circulated is None):
        kept = g.badges = _read(circulated) if current_user.is_authenticated else Badges(0, 0)
    return kept


def along_the_list() -> Along:
    """Both counts as columns for the inbox's list statement to read along
    (``lists.page_memos(along=…)``), each an uncorrelated subquery that the database
    computes once; ``from_the_list`` takes the values. A failure of the counts is now one
    of the list's, which fails the page as the list's own would."""
    return Along(_along(_signer()), _params())


def from_the_list(values: Any) -> Badges:
    """The counts the list read along (its first row's), kept for the page; when the list
    had no row to carry them, read on their own."""
    if values is None:
        return badges(circulated=True)
    g.badges = Badges(int(values.badge_waiting), int(values.badge_circulated))
    return g.badges


def memo_facts(memo_id: int) -> MemoFacts:
    """An approved memo's facts, read with the reader's waiting count (kept for the nav)."""
    waiting, sealed_at, ever_circulated = db.session.exec(
        _statement(_signer(), circulated=False, memo_page=True), params=_params(memo_id)).one()
    g.badges = Badges(int(waiting))
    return MemoFacts(sealed_at, bool(ever_circulated))


def _signer() -> bool:
    return bool(principal().answers_for)


def _params(memo_id: int | None = None) -> dict[str, Any]:
    reader = principal()
    params: dict[str, Any] = {"user_id": reader.user_id}
    if memo_id is not None:  # a memo page's own facts
        params["memo_id"] = memo_id
    if reader.answers_for:
        params.update(waiting_count_params(reader))
    return params


def _read(circulated: bool) -> Badges:
    signer = _signer()
    if not signer and not circulated:
        return Badges()  # nothing waits for someone who answers for no position
    try:
        # One column comes back as a scalar (sqlmodel's exec), two as a row.
        counts = db.session.exec(_statement(signer, circulated=circulated),
                                 params=_params()).one()
    except Exception:  # noqa: BLE001 - a badge must never take the page down
        _LOGGER.warning("could not count the waiting memos", exc_info=True)
        return Badges(0, 0 if circulated else None)
    if not circulated:
        return Badges(int(counts))
    return Badges(int(counts[0]), int(counts[1]))


@per_thread
def _statement(signer: bool, *, circulated: bool, memo_page: bool = False) -> Any:
    # Someone who answers for no position has nothing waiting: no count is asked.
    columns: list[Any] = [waiting_count_statement().scalar_subquery() if signer else literal(0)]
    if circulated:
        columns.append(unacknowledged_statement().scalar_subquery())
    if memo_page:
        columns += [sealed_at_statement().scalar_subquery(),
                    circulated_statement().scalar_subquery()]
    return select(*columns)


@per_thread
def _along(signer: bool) -> tuple[Any, ...]:
    # Uncorrelated, said outright: a count must never be taken per row of the list.
    waiting: Any = (waiting_count_statement().scalar_subquery().correlate(None) if signer
                    else literal(0))
    return (waiting.label("badge_waiting"),
            unacknowledged_statement().scalar_subquery().correlate(None)
            .label("badge_circulated"))
