"""Each chain's head, written outside the database once a day.

A hash chain proves that nothing was changed inside it, but not that its whole tail was not
recomputed by someone who could write to the database. A line per chain per day in a file
the database cannot rewrite (``AUDIT_ANCHOR_DIR``; copy it off the server, print it, mail
it) pins each head: ``audit verify --against FILE`` then finds an event whose hash is no
longer what was anchored, or anchored events that are gone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from .. import clock
from ..db import ALL_OFFICES
from ..models import AuditEvent, AuditHead
from .verify import Verdict, office_codes


@dataclass(frozen=True)
class Anchor:
    chain: int
    office: str
    seq: int
    hash: str
    at: str


def anchor_heads(session: Session, folder: Path, now: datetime | None = None) -> Path:
    """Append every chain's head (sequence, hash, time) to this month's file of heads;
    the file's path."""
    now = now or clock.now()
    codes = office_codes(session)
    heads = session.exec(select(AuditHead).order_by(col(AuditHead.id))).all()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"heads-{now:%Y-%m}.jsonl"
    with path.open("a", encoding="utf-8") as out:
        for head in heads:
            if head.seq == 0:
                continue  # nothing to pin yet
            out.write(json.dumps({
                "chain": head.id, "office": codes.get(head.id or 0, ""), "seq": head.seq,
                "hash": head.hash, "at": now.isoformat()}, ensure_ascii=False) + "\n")
    return path


def read_anchors(path: Path) -> list[Anchor]:
    """The anchors in a file of heads (lines that are not anchors are an error)."""
    anchors = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw: dict[str, Any] = json.loads(line)
            anchors.append(Anchor(int(raw["chain"]), str(raw.get("office", "")),
                                  int(raw["seq"]), str(raw["hash"]), str(raw.get("at", ""))))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not an anchor line ({exc})") from None
    return anchors


def check_anchors(session: Session, chain: int, anchors: list[Anchor]) -> Verdict:
    """Every anchored head of ``chain`` must still be in it, with the hash it had."""
    mine = [a for a in anchors if a.chain == chain]
    if not mine:
        return Verdict(True, 0)
    found = {e.seq: e.hash for e in session.exec(
        select(AuditEvent).where(AuditEvent.chain == chain,
                                 col(AuditEvent.seq).in_({a.seq for a in mine}))
        .execution_options(**{ALL_OFFICES: True})).all()}
    for anchor in sorted(mine, key=lambda a: a.seq):
        if anchor.seq not in found:
            return Verdict(False, len(mine), anchor.seq,
                           f"เหตุการณ์ลำดับที่ {anchor.seq} ที่บันทึกยืนยันไว้เมื่อ {anchor.at} หายไป",
                           f"event #{anchor.seq}, anchored at {anchor.at}, is gone")
        if found[anchor.seq] != anchor.hash:
            return Verdict(False, len(mine), anchor.seq,
                           f"เหตุการณ์ลำดับที่ {anchor.seq} ไม่ตรงกับที่บันทึกยืนยันไว้เมื่อ "
                           f"{anchor.at}: ท้ายสายถูกเขียนใหม่",
                           f"event #{anchor.seq} no longer has the hash anchored at "
                           f"{anchor.at}: the tail was rewritten")
    return Verdict(True, len(mine))
