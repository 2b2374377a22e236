"""The counts in every page's navigation, read together: one statement per page.

The nav shows how many memos wait for the reader's decision on every page, and the inbox's
tabs also show how many circulated memos wait for their ทราบ. Each was its own statement;
an inbox page, already the most visited, paid two round trips for two numbers. Both are now
scalar subqueries of one SELECT, read the first time a page asks and kept for the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import g
from flask_login import current_user
from sqlalchemy import literal
from sqlmodel import select

from ..circulation.queries import unacknowledged_statement
from ..db import per_thread
from ..extensions import db
from ..memos.lists import waiting_count_params, waiting_count_statement
from .util import principal

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Badges:
    waiting: int = 0  # memos waiting for the reader's decision
    circulated: int = 0  # circulated memos the reader has not acknowledged


def badges() -> Badges:
    """The signed-in reader's counts (zeros for nobody); a badge never takes a page down."""
    if "badges" not in g:
        g.badges = _read() if current_user.is_authenticated else Badges()
    shown: Badges = g.badges
    return shown


def _read() -> Badges:
    reader = principal()
    signer = bool(reader.answers_for)
    params: dict[str, Any] = {"user_id": reader.user_id}
    if signer:
        params.update(waiting_count_params(reader))
    try:
        waiting, circulated = db.session.exec(_statement(signer), params=params).one()
    except Exception:  # noqa: BLE001 - a badge must never take the page down
        _LOGGER.warning("could not count the waiting memos", exc_info=True)
        return Badges()
    return Badges(int(waiting), int(circulated))


@per_thread
def _statement(signer: bool) -> Any:
    # Someone who answers for no position has nothing waiting: no count is asked.
    waiting = waiting_count_statement().scalar_subquery() if signer else literal(0)
    return select(waiting, unacknowledged_statement().scalar_subquery())
