"""Memo versions: what was submitted each time, and what changed for a signer since they decided."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from ..identity.principal import Principal
from ..models import URGENCY_LABELS, Decision, Memo, MemoVersion, Urgency
from ..textdiff import Op, html_text, word_diff
from .attachments import of_memo

FIELDS = (("subject", "เรื่อง"), ("addressee", "เรียน"), ("urgency", "ชั้นความเร็ว"),
          ("body", "เนื้อหา"))


def content_hash(memo: Memo | MemoVersion, attachment_hashes: list[str] | None = None) -> str:
    """SHA-256 of the memo's content (subject, addressee, urgency, body and the SHA-256 of
    each attachment) as canonical JSON."""
    content: dict[str, object] = {name: str(getattr(memo, name)) for name, _ in FIELDS}
    content["attachments"] = sorted(attachment_hashes or [])
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def latest(session: Session, memo_id: int) -> MemoVersion | None:
    """The most recently submitted version."""
    return session.exec(
        select(MemoVersion).where(MemoVersion.memo_id == memo_id)
        .order_by(col(MemoVersion.revision).desc()).limit(1)
    ).first()


def snapshot(session: Session, *, memo: Memo, actor_id: int, now: datetime) -> MemoVersion:
    """Keep the content being submitted; a new revision only if it changed since the last one."""

    files = [a.sha256 for a in of_memo(session, memo.id or 0)]
    digest = content_hash(memo, files)
    last = latest(session, memo.id or 0)
    if last is not None and last.content_hash == digest:
        return last
    version = MemoVersion(
        org_id=memo.org_id, memo_id=memo.id or 0, revision=(last.revision if last else 0) + 1,
        subject=memo.subject, addressee=memo.addressee, urgency=memo.urgency, body=memo.body,
        content_hash=digest, attachments=",".join(sorted(files)), created_by_id=actor_id,
        created_at=now,
    )
    session.add(version)
    memo.revision = version.revision
    return version


@dataclass(frozen=True)
class FieldDiff:
    label: str
    runs: list[tuple[Op, str]]


@dataclass(frozen=True)
class VersionDiff:
    """What changed between the version a signer last decided on and the current one."""

    seen_revision: int
    current_revision: int
    fields: list[FieldDiff]


def _text(version: MemoVersion, name: str) -> str:
    value = getattr(version, name)
    if name == "body":
        return html_text(value)
    if name == "urgency":
        return URGENCY_LABELS[Urgency(value)]
    return str(value)


def diff_for(session: Session, memo: Memo, principal: Principal) -> VersionDiff | None:
    """The diff a returning signer needs: their last decided revision against the current one."""
    if memo.revision < 2:
        return None
    seen = session.exec(
        select(Decision.revision).where(Decision.memo_id == memo.id,
                                        Decision.actor_id == principal.user_id,
                                        Decision.revision > 0,
                                        Decision.revision < memo.revision)
        .order_by(col(Decision.revision).desc()).limit(1)
    ).first()
    if not seen:
        return None
    versions = {v.revision: v for v in session.exec(
        select(MemoVersion).where(MemoVersion.memo_id == memo.id,
                                  col(MemoVersion.revision).in_((seen, memo.revision)))).all()}
    old, new = versions.get(seen), versions.get(memo.revision)
    if old is None or new is None:
        return None
    fields = [FieldDiff(label, word_diff(_text(old, name), _text(new, name)))
              for name, label in FIELDS if getattr(old, name) != getattr(new, name)]
    return VersionDiff(seen, memo.revision, fields)
