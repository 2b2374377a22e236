"""Walking the chain to prove nothing was changed, deleted, inserted or cut off."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ..db import ALL_OFFICES
from ..models import (
    AuditEvent,
    AuditHead,
    Decision,
    Organization,
)
from .chain import CHAIN_ACTIONS, GENESIS, chain_hash


@dataclass(frozen=True)
class Verdict:
    """The outcome of a verification: ok, or where the chain first breaks and why."""

    ok: bool
    checked: int
    seq: int | None = None
    reason: str = ""
    reason_en: str = ""


# Events are read as plain rows, not ORM objects (a million of them add up), and hashed from
# their ``_mapping``.
_EVENTS = AuditEvent.__table__  # type: ignore[attr-defined]


def _walk(session: Session, chain: int, batch: int = 10_000) -> Iterator[Any]:
    """Every event of ``chain`` in order."""
    last = 0
    while True:
        rows = session.execute(
            select(_EVENTS).where(_EVENTS.c.chain == chain, _EVENTS.c.seq > last)
            .order_by(_EVENTS.c.seq).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq


def _check(event: Any, prev_hash: str) -> tuple[str, str] | None:
    if event.prev_hash != prev_hash:
        return ("ลำดับถูกแทรก ลบ หรือสลับก่อนเหตุการณ์นี้",
                "prev_hash does not match the event before it (inserted, deleted or reordered)")
    if chain_hash(prev_hash, event._mapping) != event.hash:
        return ("เนื้อหาของเหตุการณ์นี้ถูกแก้ไข", "content does not match its hash (altered)")
    return None


def office_codes(session: Session) -> dict[int, str]:
    """Each office's code by id: an office's chain has the office's id."""
    return dict(session.exec(select(Organization.id, Organization.code)).all())  # type: ignore[arg-type]


def chains(session: Session) -> list[int]:
    """Every chain the trail has (one per office that has events, 0 for the installation):
    those with a head, and any with events but no head, which only a forger makes."""
    heads = set(session.exec(select(AuditHead.id)).all())
    used = set(session.execute(select(_EVENTS.c.chain).distinct()).scalars().all())
    return sorted(i for i in heads | used if i is not None)


def verify_chain(session: Session, chain: int | None = None) -> Verdict:
    """Walk one chain in order (every chain when ``chain`` is None); name the first event
    that does not hold."""
    if chain is None:
        checked = 0
        for each in chains(session):
            verdict = verify_chain(session, each)
            if not verdict.ok:
                return Verdict(False, checked + verdict.checked, verdict.seq, verdict.reason,
                               verdict.reason_en)
            checked += verdict.checked
        return Verdict(True, checked)
    expected_seq, prev_hash, checked = 1, GENESIS, 0
    for event in _walk(session, chain):
        if event.seq != expected_seq:
            return Verdict(False, checked, expected_seq,
                           f"เหตุการณ์ลำดับที่ {expected_seq} หายไป",
                           f"event #{expected_seq} is missing (deleted)")
        problem = _check(event, prev_hash)
        if problem:
            return Verdict(False, checked, event.seq, *problem)
        prev_hash, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    head = session.get(AuditHead, chain)
    if head is not None and (head.seq != expected_seq - 1 or head.hash != prev_hash):
        return Verdict(False, checked, expected_seq,
                       "เหตุการณ์ท้ายสายถูกลบ", "events at the end of the chain were removed")
    return Verdict(True, checked)


def verify_memo(session: Session, memo_id: int) -> Verdict:
    """Check one memo's events, their links on both sides, and that none is missing."""
    # Hashes only, never shown: the chain is read whole, whichever office's events it holds
    # (the events from before per-office chains share one).
    events = session.execute(
        select(_EVENTS).where(_EVENTS.c.memo_id == memo_id)
        .order_by(_EVENTS.c.created_at, _EVENTS.c.chain, _EVENTS.c.seq)
        .execution_options(**{ALL_OFFICES: True})
    ).all()
    if not events:
        return Verdict(False, 0, None, "ประวัติของบันทึกนี้หายไปทั้งหมด",
                       "the memo's whole history is missing")
    # A memo's events are on its office's chain (one written before chains were per office
    # may also have some on the older shared chain): check each against its own chain.
    wanted = {(e.chain, e.seq + step) for e in events for step in (-1, 1)}
    neighbours = {
        (e.chain, e.seq): e for e in session.execute(
            select(_EVENTS).where(
                _EVENTS.c.chain.in_({chain for chain, _ in wanted}),
                _EVENTS.c.seq.in_({seq for _, seq in wanted}))
            .execution_options(**{ALL_OFFICES: True})
        ).all()
    }
    heads = {h.id: h for h in session.exec(select(AuditHead).where(
        col(AuditHead.id).in_({e.chain for e in events}))).all()}
    memo_prev = GENESIS
    for event in events:
        if event.memo_prev_hash != memo_prev:
            return Verdict(False, 0, event.seq,
                           "เหตุการณ์ของบันทึกนี้ก่อนหน้าเหตุการณ์นี้หายไปหรือถูกแทรก",
                           "the memo's previous event is missing or was inserted")
        memo_prev = event.hash
        before = neighbours.get((event.chain, event.seq - 1))
        if event.seq > 1 and before is None:
            return Verdict(False, 0, event.seq - 1, f"เหตุการณ์ลำดับที่ {event.seq - 1} หายไป",
                           f"event #{event.seq - 1} is missing")
        problem = _check(event, before.hash if before else GENESIS)
        if problem:
            return Verdict(False, 0, event.seq, *problem)
        after = neighbours.get((event.chain, event.seq + 1))
        head = heads.get(event.chain)
        if after is None and head is not None and head.seq > event.seq:
            return Verdict(False, 0, event.seq + 1, f"เหตุการณ์ลำดับที่ {event.seq + 1} หายไป",
                           f"event #{event.seq + 1} is missing")
        if after is not None and after.prev_hash != event.hash:
            return Verdict(False, 0, after.seq, "ลำดับถูกแทรกหรือสลับหลังเหตุการณ์นี้",
                           "the next event does not link back")
    chain_events = sum(1 for e in events if e.action in CHAIN_ACTIONS.values())
    decisions = len(session.exec(select(Decision.id).where(Decision.memo_id == memo_id)).all())
    if chain_events != decisions:
        return Verdict(False, len(events), None,
                       "จำนวนเหตุการณ์ไม่ตรงกับการพิจารณาที่บันทึกไว้ (มีเหตุการณ์ถูกลบ)",
                       f"{chain_events} chain events for {decisions} decisions")
    return Verdict(True, len(events))
