"""Attachments (สิ่งที่ส่งมาด้วย): checked, stored outside the web root, served only to readers.

The file's type is read from its bytes (the ``filetype`` library's magic numbers)
and must agree with its extension: an .exe renamed .pdf is refused. The stored
name is a random token; the uploader's name is only ever displayed (escaped) and
sent back in a Content-Disposition header.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import filetype
from flask import current_app
from sqlalchemy import bindparam, func
from sqlmodel import Session, col, select

from .. import clock
from ..db import per_thread
from ..errors import Invalid, NotFound
from ..extensions import db
from ..identity.access import require_view
from ..identity.principal import Principal
from ..models import Attachment, AuditAction, Memo, MemoVersion, Organization, User
from ..storage import folder
from ..thai import thai_digits
from ..trail.chain import Entry, RequestInfo, record
from .locking import lock_for_editing

# extension -> the type the bytes must show
ALLOWED = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "gif": "image/gif",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
}
_FORBIDDEN_CHARS = set('<>:"/\\|?*') | {"\x00"}
_CHUNK = 1024 * 1024


def check_filename(name: str) -> str:
    """The uploader's file name if it is a plain name with an allowed extension, else 422."""
    name = unicodedata.normalize("NFC", (name or "").strip())
    bad = (not name or len(name) > 200 or ".." in name or name.startswith(".")
           or any(ch in _FORBIDDEN_CHARS or unicodedata.category(ch)[0] == "C" for ch in name))
    if bad:
        raise Invalid(
            "ชื่อไฟล์ไม่ถูกต้อง: ห้ามมีเครื่องหมาย / \\ < > : \" | ? * หรือ .. และยาวไม่เกิน ๒๐๐ ตัวอักษร",
            "Bad file name: no path separators, '..', <, >, quotes or control characters.",
            code="bad_filename",
        )
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in ALLOWED:
        raise Invalid(
            "แนบได้เฉพาะไฟล์ PDF รูปภาพ (PNG, JPG, GIF) Word และ Excel",
            f"Only {', '.join(sorted(ALLOWED))} files may be attached.",
            code="bad_file_type",
        )
    return name


def _sniff(head: bytes, extension: str) -> str:
    kind = filetype.guess(head)
    expected = ALLOWED[extension]
    if kind is None or kind.mime != expected:
        found = kind.mime if kind else "unknown"
        raise Invalid(
            f"เนื้อไฟล์ไม่ใช่ไฟล์ .{extension} จริง (ตรวจพบ {found}) จึงไม่รับไว้",
            f"The file's content is not a .{extension} file (found {found}).",
            code="content_mismatch",
        )
    return expected


def add(*, memo_id: int, actor_id: int, filename: str, stream: IO[bytes],
        request_info: RequestInfo | None = None) -> Attachment:
    """Check, store and record one upload to a draft or returned memo."""
    name = check_filename(filename)
    extension = name.rsplit(".", 1)[-1].lower()
    limit = int(current_app.config["ATTACHMENT_MAX_MB"]) * 1024 * 1024
    target_dir = folder()
    target_dir.mkdir(parents=True, exist_ok=True)
    stored_name = secrets.token_hex(16)
    partial = target_dir / f"{stored_name}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with partial.open("wb") as out:
            while chunk := stream.read(_CHUNK):
                if len(head) < 8192:
                    head += chunk[: 8192 - len(head)]
                size += len(chunk)
                if size > limit:
                    raise Invalid(
                        f"ไฟล์ใหญ่เกิน {current_app.config['ATTACHMENT_MAX_MB']} MB",
                        f"The file is larger than {current_app.config['ATTACHMENT_MAX_MB']} MB.",
                        code="file_too_large")
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise Invalid("ไฟล์ว่างเปล่า", "The file is empty.", code="empty_file")
        content_type = _sniff(head, extension)
        with db.write() as session:
            memo, _ = lock_for_editing(session, memo_id=memo_id, actor_id=actor_id)
            _check_room(session, memo, size)
            partial.rename(target_dir / stored_name)
            row = Attachment(org_id=memo.org_id, memo_id=memo_id, filename=name,
                             stored_name=stored_name, content_type=content_type, size=size,
                             sha256=digest.hexdigest(), uploaded_by_id=actor_id)
            session.add(row)
            session.flush()
            memo.version += 1
            _audit(session, memo, actor_id, AuditAction.ATTACHMENT_ADDED, row, request_info)
            return row
    except BaseException:
        partial.unlink(missing_ok=True)
        if (target_dir / stored_name).exists() and not _recorded(stored_name):
            (target_dir / stored_name).unlink(missing_ok=True)
        raise


def _check_room(session: Session, memo: Memo, size: int) -> None:
    """Refuse (422) a file past the memo's count or the office's storage, both as the
    office set them (else the server's). The office's row is locked (FOR NO KEY UPDATE, so
    the office's other inserts, which only key-share it, go on), so two uploads at once
    cannot both take the last megabytes."""
    org = session.exec(select(Organization).where(Organization.id == memo.org_id)
                       .with_for_update(key_share=True)).one()
    config = current_app.config
    most = org.attachments_per_memo or int(config["ATTACHMENTS_PER_MEMO"])
    if len(of_memo(session, memo.id or 0)) >= most:
        raise Invalid(f"แนบไฟล์ได้ไม่เกิน {thai_digits(most)} ไฟล์ต่อบันทึก กรุณานำไฟล์ที่ไม่ใช้ออกก่อน",
                      f"At most {most} attachments per memo.", code="too_many_attachments")
    quota = (org.storage_quota_mb or int(config["OFFICE_STORAGE_MB"])) * 1024 * 1024
    if stored_bytes(session, org.id or 0) + size > quota:
        raise Invalid(
            f"พื้นที่เก็บไฟล์ของหน่วยงานเต็ม ({thai_digits(quota // (1024 * 1024))} MB) "
            "กรุณาติดต่อผู้ดูแลระบบของหน่วยงาน",
            "The office's attachment storage is full.", code="storage_full")


def stored_bytes(session: Session, org_id: int) -> int:
    """How much of the office's storage its files take: every file still on disk, removed
    ones included until they are purged."""
    return int(session.exec(
        select(func.coalesce(func.sum(Attachment.size), 0))
        .where(Attachment.org_id == org_id, col(Attachment.purged_at).is_(None))).one())


def purge_removed(now: datetime | None = None) -> int:
    """Delete the files of attachments removed more than ATTACHMENT_RETENTION_DAYS ago whose
    content no submitted version of their memo names (a version keeps what was decided on,
    so its files stay). The rows stay, marked purged, for the record. Returns how many."""
    now = now or clock.now()
    cutoff = now - timedelta(days=int(current_app.config["ATTACHMENT_RETENTION_DAYS"]))
    purged = 0
    with db.write() as session:
        rows = session.exec(
            select(Attachment).where(col(Attachment.removed_at) < cutoff,
                                     col(Attachment.purged_at).is_(None))
            .order_by(col(Attachment.id)).limit(1000).with_for_update(skip_locked=True)).all()
        kept = _named_by_versions(session, {row.memo_id for row in rows})
        for row in rows:
            if (row.memo_id, row.sha256) in kept:
                continue
            (folder() / row.stored_name).unlink(missing_ok=True)
            row.purged_at = now
            purged += 1
    return purged


def _named_by_versions(session: Session, memo_ids: set[int]) -> set[tuple[int, str]]:
    """(memo, file hash) of every file a submitted version of these memos names."""
    if not memo_ids:
        return set()
    versions = session.exec(select(MemoVersion.memo_id, MemoVersion.attachments).where(
        col(MemoVersion.memo_id).in_(memo_ids))).all()
    return {(memo_id, digest) for memo_id, names in versions
            for digest in (names or "").split(",") if digest}


def _recorded(stored_name: str) -> bool:
    return db.session.exec(
        select(Attachment.id).where(Attachment.stored_name == stored_name)).first() is not None


def _audit(session: Session, memo: Memo, actor_id: int, action: AuditAction,
           row: Attachment, request_info: RequestInfo | None) -> None:
    user = session.get(User, actor_id)
    record(session, Entry(
        action, org_id=memo.org_id, actor_id=actor_id, actor_name=user.full_name if user else "",
        memo_id=memo.id, state_before=memo.state, state_after=memo.state, text=row.filename,
        details={"attachment_id": row.id, "sha256": row.sha256, "size": row.size,
                 "content_type": row.content_type},
        request_info=request_info))


def remove(*, memo_id: int, attachment_id: int, actor_id: int,
           request_info: RequestInfo | None = None) -> None:
    """Take an attachment off a draft or returned memo; file and row stay, for earlier versions."""
    with db.write() as session:
        memo, _ = lock_for_editing(session, memo_id=memo_id, actor_id=actor_id)
        row = session.get(Attachment, attachment_id)
        if row is None or row.memo_id != memo_id:
            raise NotFound("ไม่พบไฟล์แนบนี้", "Attachment not found.", code="attachment_not_found")
        if row.removed_at is not None:
            return
        _audit(session, memo, actor_id, AuditAction.ATTACHMENT_REMOVED, row, request_info)
        row.removed_at = clock.now()
        memo.version += 1


def of_memo(session: Session, memo_id: int) -> list[Attachment]:
    """The memo's attachments, in upload order."""
    return list(session.exec(_of_memo(), params={"memo_id": memo_id}).all())


@per_thread
def _of_memo() -> Any:
    return (select(Attachment)
            .where(col(Attachment.memo_id) == bindparam("memo_id"),
                   col(Attachment.removed_at).is_(None))
            .order_by(col(Attachment.id)))


@dataclass(frozen=True)
class Download:
    path: Path
    filename: str
    content_type: str


def for_download(principal: Principal, memo_id: int, attachment_id: int) -> Download:
    """An attachment's file (also one removed from a later version), for readers of the memo."""
    session = db.session
    memo = session.get(Memo, memo_id)
    row = session.get(Attachment, attachment_id)
    if memo is None or row is None or row.memo_id != memo_id:
        raise NotFound("ไม่พบไฟล์แนบนี้", "Attachment not found.", code="attachment_not_found")
    require_view(session, principal, memo)
    if memo.drafter_id != principal.user_id and not principal.oversees:
        # Others see only what was submitted: a file removed while drafting stays private.
        submitted = session.exec(
            select(MemoVersion.attachments).where(MemoVersion.memo_id == memo_id)).all()
        if not any(row.sha256 in (hashes or "").split(",") for hashes in submitted):
            raise NotFound("ไม่พบไฟล์แนบนี้", "Attachment not found.", code="attachment_not_found")
    return Download(folder() / row.stored_name, row.filename, row.content_type)
