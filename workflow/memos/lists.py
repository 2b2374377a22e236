"""Lists of memos: the inbox tabs, the API's boxes and the memo search, keyset-paged (the
badge's waiting count is ``waiting.py``'s).

A list reads the few columns it shows (``LISTED``), not whole ``Memo`` objects: building
an ORM object per row, with its identity map entry and its type conversions, was about a
fifth of a 100-row API page's time (cProfile, ``bench/profile_reads.py --profile``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Row, bindparam, func, literal, or_, tuple_, union_all
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from .. import routing
from ..db import ALL_OFFICES, PlanHints, per_thread, per_thread_upto, prepared_plans
from ..dbtypes import UTCDateTime
from ..errors import Invalid
from ..extensions import db
from ..identity.principal import Principal
from ..models import (
    CirculationRecipient,
    Decision,
    Memo,
    MemoStep,
    User,
    current_round,
    waiting_at,
)
from ..validation import parse_count
from .search import MemoSearch, Shape, bound, conditions

BOXES = ("inbox", "mine", "decided", "all", "circulated")

# A reader who may open at most this many memos is served from the memos that name them
# (``_candidates``) rather than by walking the office's memos newest first.
CANDIDATES_MAX = 1000

# Readers (office, user, positions) whom more than CANDIDATES_MAX rows named when last
# counted: their count is skipped for five minutes. A head of office is named by more every
# day, and the count cost each of their searches a statement (0.4 ms with its round trip).
# Only the plan rides on this, never what is shown (``_may_open`` decides either way).
_NAMED_BY_MANY = PlanHints(seconds=300.0, entries=10_000)


# What a list shows of a memo (and the API's MemoSummary is made of), and its keyset.
LISTED: tuple[Any, ...] = tuple(col(c) for c in (
    Memo.id, Memo.number, Memo.memo_date, Memo.subject, Memo.addressee, Memo.urgency,
    Memo.state, Memo.version, Memo.drafter_id, Memo.updated_at))


@dataclass(frozen=True)
class MemoListItem:
    memo: Row[Any]  # the LISTED columns, by name: item.memo.subject
    drafter_name: str
    waiting_since: datetime | None = None
    acting_as: str = ""  # "รักษาราชการแทน…" when it waits for the reader as an acting officer
    # In the เวียนทราบ tab: when it was circulated to the reader, and when they acknowledged.
    circulated_at: datetime | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class Along:
    """Columns a page reads with its list's own statement (the nav's counts) and the
    parameters they need, which must agree with the list's where they share a name."""

    columns: tuple[Any, ...]
    params: dict[str, Any]


@dataclass(frozen=True)
class MemoPage:
    """One page of a list, and the cursor of the next (None on the last page)."""

    items: list[MemoListItem]
    next_before: str | None = None
    along: Any = None  # the first row, which carries the ``Along`` columns (None: no row)


def page_memos(principal: Principal, box: str, *, limit: int = 100, before: str | None = None,
               search: MemoSearch | None = None, along: Along | None = None) -> MemoPage:
    """One page of an inbox tab (or, with ``search``, of every memo the principal may open
    that matches it), after the keyset cursor ``before``. Keyset, not offset: a page costs
    the same at the 100,000th memo as at the first, and memos arriving meanwhile neither
    push one onto the next page twice nor make one skip."""
    if box not in BOXES:
        raise Invalid("ไม่รู้จักกล่องนี้", f"Unknown box {box!r}; expected one of "
                      f"{', '.join(BOXES)}.", code="unknown_box")
    searching = search is not None and not search.is_empty
    if searching:
        box = "all"  # a search looks through everything the reader may open
    if box == "inbox" and not principal.answers_for:
        return MemoPage([])
    acting = sorted({a.position_id for a in principal.acting})
    params: dict[str, Any] = {
        "org_id": principal.org_id, "user_id": principal.user_id, "limit": limit + 1,
        "position_ids": list(principal.position_ids), "acting_ids": acting,
        "answers_for": sorted(principal.answers_for)}
    if before:
        if box in ("decided", "circulated"):  # the cursor is the id of the row shown last
            params["before_id"] = parse_count(before, field="before", default=0)
        else:
            params["before_at"], params["before_id"] = _cursor(before)
    # Only "all" (and a search) depends on who the reader is beyond their ids: the other
    # boxes share one statement whatever the reader's posts.
    reader = box == "all"
    candidates = _candidates(principal, acting) if reader and not principal.oversees else None
    if candidates == []:
        return MemoPage([])  # nothing names them: there is nothing they may open
    if candidates is not None:
        params["candidate_ids"] = candidates
    posts = reader and bool(principal.position_ids)
    if not searching:
        query = _box_query(box, posts=posts, acting=reader and bool(acting),
                           oversees=reader and principal.oversees, after=bool(before),
                           candidates=candidates is not None)
    else:
        assert search is not None
        postgresql = db.session.get_bind().dialect.name == "postgresql"
        shape, values = bound(search.checked(), grams=postgresql)
        params.update(values)
        if not principal.oversees and candidates is None and postgresql:
            query = _search_then_probe(shape, posts=posts, acting=bool(acting),
                                       after=bool(before))
        else:
            query = _searched(shape, posts=posts, acting=bool(acting),
                              oversees=principal.oversees, after=bool(before),
                              candidates=candidates is not None)
    if along is not None:
        if clash := sorted(k for k, v in along.params.items() if params.get(k, v) != v):
            raise ValueError(f"the columns read along disagree with the list on {clash}")
        params.update(along.params)
        query = _with_columns(query, along.columns)
    rows = db.session.exec(query, params=params).all()
    more, first = len(rows) > limit, rows[0] if along is not None and rows else None
    if box == "inbox":
        # Once per memo, though one may answer for two members of its group (an acting
        # officer): their rows arrived together, so they come next to each other.
        items: list[MemoListItem] = []
        for row in rows[:limit]:
            if not items or items[-1].memo.id != row.id:
                items.append(MemoListItem(row, row.drafter_name, row.arrived_at,
                                          _acting_line(principal, row.position_id)))
        last = items[-1] if more else None
        return MemoPage(items, _cursor_of(last.waiting_since, last.memo.id)
                        if last and last.waiting_since else None, first)
    if box == "decided":
        return MemoPage([MemoListItem(row, row.drafter_name) for row in rows[:limit]],
                        str(rows[limit - 1].decision_id) if more else None, first)
    if box == "circulated":
        return MemoPage([MemoListItem(row, row.drafter_name, circulated_at=row.circulated_at,
                                      acknowledged_at=row.acknowledged_at)
                         for row in rows[:limit]],
                        str(rows[limit - 1].recipient_id) if more else None, first)
    items = [MemoListItem(row, row.drafter_name) for row in rows[:limit]]
    oldest = items[-1].memo if more else None  # the last shown: the next page starts after it
    return MemoPage(items, _cursor_of(oldest.updated_at, oldest.id) if oldest else None, first)


@per_thread_upto(64)
def _with_columns(query: Any, columns: tuple[Any, ...]) -> Any:
    return query.add_columns(*columns)  # both built once per thread: so is this


def _candidates(principal: Principal, acting: list[int]) -> list[int] | None:
    """The memos a reader who is no overseer may open are among these: the memos that name
    them (drafted by them, with a step at one of their posts or acting posts in any round,
    decided by them, circulated to them), a superset of what ``_may_open`` lets in, which
    still decides. None when more than ``CANDIDATES_MAX`` rows name them.

    Walking the office's memos newest first and probing each (the plan ``_may_open`` is
    written for) stops at the end of a page when the reader may open many of them, as a
    head of office may; for one who may open few or none (a new officer, the signer of a
    rare route) it read every memo of the office: 0.6 s for none of 100,000. Their few
    memos are found from these rows instead, by index, and the page is sorted from them.
    The rows are first counted up to the cap from the indexes alone (0.2 ms for a head of
    office with 97,500 decisions); only a reader under it has their memo ids read."""
    step_positions = sorted({*principal.position_ids, *acting})
    reader = (principal.org_id, principal.user_id, tuple(step_positions))
    if reader in _NAMED_BY_MANY:
        return None
    params = {"org_id": principal.org_id, "user_id": principal.user_id,
              "step_positions": step_positions, "cap": CANDIDATES_MAX + 1}
    positions = bool(step_positions)
    # Lookups by key, whose generic plan is the right one: planning them each time took
    # PostgreSQL longer (1.6 ms) than running them (0.2 ms).
    with prepared_plans(db.session):
        naming = db.session.exec(_naming_count(positions), params=params).one()
        if naming > CANDIDATES_MAX:
            _NAMED_BY_MANY.add(reader)
            return None
        if not naming:
            return []
        return sorted(set(db.session.exec(_naming_ids(positions), params=params).all()))


def _naming(positions: bool, *, ids: bool) -> list[Any]:
    """The rows that name the reader, each branch up to the cap: their memo ids (``ids``),
    or a column of the index each is found by, so that counting them reads the index only."""
    user_id: Any = bindparam("user_id")
    cap: Any = bindparam("cap", type_=Integer())
    branches = [
        select(Memo.id).where(Memo.drafter_id == user_id),
        select(Decision.memo_id if ids else Decision.id).where(Decision.actor_id == user_id),
        select(CirculationRecipient.memo_id if ids else CirculationRecipient.id)
        .where(CirculationRecipient.user_id == user_id)]
    if positions:
        branches.append(select(MemoStep.memo_id if ids else MemoStep.position_id).where(
            col(MemoStep.position_id).in_(bindparam("step_positions", expanding=True))))
    # Each branch stops at the cap too: with the cap outside only, PostgreSQL read all 99,539
    # decisions of a deputy through a bitmap (80 ms) to hand back the first 1,001. Each
    # is a subquery of its own, as SQLite takes no LIMIT on one part of a UNION.
    return [select(branch.limit(cap).subquery().c[0]) for branch in branches]


@per_thread  # every search, and the API's box=all
def _naming_count(positions: bool) -> Any:
    named = union_all(*_naming(positions, ids=False)).subquery()
    first = select(named.c[0]).limit(bindparam("cap", type_=Integer())).subquery()
    # Every row that names a user or their posts is of their office; without the office's
    # criteria each branch is an index-only scan.
    return (select(func.count()).select_from(first)
            .execution_options(**{ALL_OFFICES: True}))


@per_thread
def _naming_ids(positions: bool) -> Any:
    named = union_all(*_naming(positions, ids=True)).subquery()
    return select(named.c[0])


@per_thread
def _box_query(box: str, *, posts: bool, acting: bool, oversees: bool, after: bool,
               candidates: bool = False) -> Any:
    """One box's statement for readers of one shape (with posts or none, acting or not, an
    overseer or not, after a cursor or from the top, among ``_candidates`` or not), built
    once per thread (see ``db.per_thread``); the reader's ids, the cursor and the limit are
    bound when it runs."""
    base = select(*LISTED, _drafter_name()).where(  # type: ignore[call-overload]
        Memo.org_id == bindparam("org_id"))
    user_id: Any = bindparam("user_id")
    before_id: Any = bindparam("before_id")
    if box == "inbox":
        # What waits for the reader, oldest first (the cursor is the last one shown).
        query = (base.add_columns(col(MemoStep.arrived_at), col(MemoStep.position_id))
                 .join(MemoStep, current_round())
                 .where(waiting_at(bindparam("answers_for", expanding=True))))
        if after:
            query = query.where(tuple_(col(MemoStep.arrived_at), col(Memo.id))
                                > tuple_(bindparam("before_at", type_=UTCDateTime()),
                                         before_id))
        order: tuple[Any, ...] = (col(MemoStep.arrived_at).asc(), col(Memo.id).asc())
    elif box == "decided":
        query = _decided(base, user_id)
        if after:
            query = query.where(col(Decision.id) < before_id)
        order = (col(Decision.id).desc(),)
    elif box == "circulated":
        # What was circulated to the reader (เวียนทราบ), newest first; the cursor is the
        # last recipient row shown. Walks ix_circulationrecipient_user (user, id) backwards.
        query = (base.add_columns(col(CirculationRecipient.id).label("recipient_id"),
                                  CirculationRecipient.circulated_at,
                                  CirculationRecipient.acknowledged_at)
                 .join(CirculationRecipient, col(CirculationRecipient.memo_id) == Memo.id)
                 .where(CirculationRecipient.user_id == user_id))
        if after:
            query = query.where(col(CirculationRecipient.id) < before_id)
        order = (col(CirculationRecipient.id).desc(),)
    else:
        if box == "mine":
            query = base.where(Memo.drafter_id == user_id)
        else:
            query = base if oversees else base.where(_may_open(posts=posts, acting=acting))
            if candidates:
                query = query.where(
                    col(Memo.id).in_(bindparam("candidate_ids", expanding=True)))
        if after:
            query = query.where(_older_than_cursor())
        order = _NEWEST_FIRST
    return query.order_by(*order).limit(bindparam("limit", type_=Integer()))


# The order of every list but the inbox and the boxes walked by their own rows' ids, and the
# condition of its next page: after the (updated_at, id) cursor the last page ended at.
_NEWEST_FIRST = (col(Memo.updated_at).desc(), col(Memo.id).desc())


def _older_than_cursor() -> Any:
    return (tuple_(col(Memo.updated_at), col(Memo.id))
            < tuple_(bindparam("before_at", type_=UTCDateTime()), bindparam("before_id")))


def _decided(base: Any, user_id: Any) -> Any:
    """What the reader decided on, each memo once by their newest decision on it (one with
    no newer one of theirs on the same memo: an anti-join), walked newest first through
    ix_decision_actor: a page reads about a page of rows however many thousands they
    decided (a GROUP BY over all of them took 0.5 s at 100,000)."""
    later = aliased(Decision, name="later")
    newer = (select(later.id)
             .where(later.memo_id == Decision.memo_id, later.actor_id == user_id,
                    col(later.action).in_(routing.SIGNER_TRIGGERS),
                    col(later.id) > col(Decision.id))
             .exists())
    return (base.add_columns(col(Decision.id).label("decision_id"))
            .join(Decision, col(Decision.memo_id) == Memo.id)
            .where(Decision.actor_id == user_id,
                   col(Decision.action).in_(routing.SIGNER_TRIGGERS), ~newer))


@per_thread_upto(64)
def _searched(shape: Shape, *, posts: bool, acting: bool, oversees: bool, after: bool,
              candidates: bool) -> Any:
    """What the reader may open (``_box_query``'s "all") that matches a search's shape."""
    return _box_query("all", posts=posts, acting=acting, oversees=oversees, after=after,
                      candidates=candidates).where(*conditions(shape))


@per_thread_upto(64)
def _search_then_probe(shape: Shape, *, posts: bool, acting: bool, after: bool) -> Any:
    """A search by a reader who may open many memos but not all (a head of office), on
    PostgreSQL: the office's matches newest first, ``_may_open`` probing each in turn.

    In ``_searched`` the planner probes every match before sorting: for a word in 609 of an
    office's 5,000 memos, 609 probes of 4 index pages for a page of 101 (3.0-3.4 ms of 4.6,
    EXPLAIN ANALYZE, 200 offices x 5,000 memos). Here the matches are sorted in a subquery
    that ``OFFSET 0`` keeps whole (not pulled up, not probed inside), and the probes stop at
    the page's end: 1.6-2.0 ms. No outer ORDER BY, on purpose: PostgreSQL would then plan
    the subquery for all its rows and sort every match of a common word (14.5 ms, not 0.5,
    for "ก"); without it the LIMIT is passed down. A filter and a LIMIT keep the subquery's
    order; ``tests/memos/test_search_order.py`` holds PostgreSQL to it. SQLite: ``_searched``."""
    found_where = [Memo.org_id == bindparam("org_id"), *conditions(shape)]
    if after:
        found_where.append(_older_than_cursor())
    matches = (select(*LISTED, col(Memo.round), col(Memo.org_id))  # type: ignore[call-overload]
               .where(*found_where).order_by(*_NEWEST_FIRST).offset(0).subquery("found"))
    found = aliased(Memo, matches)
    return (select(*(getattr(found, c.key) for c in LISTED),  # type: ignore[call-overload]
                   _drafter_name(found))
            .where(_may_open(posts=posts, acting=acting, memo=found))
            .limit(bindparam("limit", type_=Integer())))


def _drafter_name(memo: Any = Memo) -> Any:
    """The drafter's name, looked up by id for each memo of the page only. Not a join: with
    many offices PostgreSQL takes "this office" and "this drafter" as independent, expects
    a handful of memos from joining the office's few people, and sorts every memo of the
    office (0.1 s at 200 offices x 5,000 memos) instead of walking an index (5 ms)."""
    return (select(User.full_name).where(User.id == memo.drafter_id).scalar_subquery()
            .label("drafter_name"))


def _may_open(*, posts: bool, acting: bool, memo: Any = Memo) -> Any:
    """As SQL, who ``access.can_view`` lets in besides overseers: the drafter, people on the
    route, past deciders, acting officers for what waits at their position now, and the
    people it was circulated to.

    Apart from the drafter, one EXISTS over a UNION ALL of the other branches, each
    correlated with the outer memo and answered by an index on that memo's few steps or
    decisions. PostgreSQL then walks the memos newest first, probes each and stops at the end
    of the page (1 ms at 100,000 memos). ``IN``, or one EXISTS per branch, lets it hash every
    step at the reader's posts and every decision they took before the first row instead
    (0.3-0.4 s), since it costs the plan as if all 100,000 memos were read. Branches that
    cannot match (no posts, no acting appointments) are left out. The reader's ids are
    bound when the statement runs: ``user_id``, ``position_ids``, ``acting_ids``. For a
    reader whom few rows name, ``_candidates`` narrows the memos probed to theirs first;
    whatever it gathers, this condition decides."""
    user_id: Any = bindparam("user_id")
    one = literal(1)
    branches: list[Any] = []
    if posts:
        # A draft never submitted is its drafter's working paper, not yet the signers'.
        branches.append(select(one).where(
            MemoStep.memo_id == memo.id, col(memo.round) > 0,
            col(MemoStep.position_id).in_(bindparam("position_ids", expanding=True))))
    # Someone who decided on it keeps reading it after leaving the position.
    branches.append(select(one).where(Decision.memo_id == memo.id,
                                      Decision.actor_id == user_id))
    if acting:
        # An acting officer reads what waits at the position now, not its history.
        branches.append(select(one).where(
            current_round(memo), waiting_at(bindparam("acting_ids", expanding=True))))
    # A memo circulated to them (แจ้งเวียน).
    branches.append(select(one).where(CirculationRecipient.memo_id == memo.id,
                                      CirculationRecipient.user_id == user_id))
    return or_(col(memo.drafter_id) == user_id, union_all(*branches).exists())


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
