"""Verify by upload: is this PDF an office's sealed final copy, unchanged since it was sealed?

The answer comes from the file itself, checked with pyHanko: the signature's bytes, whether
it covers the whole file (anything appended after it, an incremental update included, is a
change), and whose certificate made it (one of an office's seals, current or retired, whose
root is the trust anchor). When the file is byte for byte a sealed copy we stored, the memo's
number, office and signers are named: all of which the PDF itself prints. Input that is not
a readable PDF is refused with a Thai (and English) reason, never a server error.

pyHanko reads the file in ``workflow.sandbox`` (``pdfcheck`` holds that part): what the
checking costs depends on what the file asks for, and anyone can upload one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import current_app
from sqlmodel import col, select

from .. import routing, sandbox
from ..db import ALL_OFFICES
from ..errors import Invalid, Unavailable
from ..extensions import db
from ..models import Decision, Memo, OfficeSeal, Organization, SealedDocument
from . import keys, pdfcheck

_LOGGER = logging.getLogger(__name__)

VALID = "valid"
ALTERED = "altered"
APPENDED = "appended"
NOT_OURS = "not_ours"
UNSIGNED = "unsigned"

T = TypeVar("T")

# The checks run in the sandbox's children, which start with pyHanko loaded.
sandbox.preload(pdfcheck.__name__, *pdfcheck.PYHANKO)

_VERDICTS = {
    VALID: ("ลายมือชื่ออิเล็กทรอนิกส์ถูกต้อง ไฟล์ไม่ถูกแก้ไขหลังประทับตรา และตราครอบคลุมทั้งไฟล์",
            "The seal is intact and covers the whole file: unchanged since it was sealed."),
    ALTERED: ("ไฟล์ถูกแก้ไขหลังประทับตรา: เนื้อหาไม่ตรงกับลายมือชื่ออิเล็กทรอนิกส์ อย่าใช้ไฟล์นี้เป็นฉบับจริง",
              "The file was changed after it was sealed: its content no longer matches the "
              "signature. Do not rely on it."),
    APPENDED: ("ไฟล์ถูกแก้ไขหลังประทับตรา: มีการต่อท้ายไฟล์ (incremental update) หลังลายมือชื่อ "
               "ส่วนที่เพิ่มไม่ได้รับการรับรอง อย่าใช้ไฟล์นี้เป็นฉบับจริง",
               "The file was changed after it was sealed: an incremental update was appended "
               "after the signature, and what it adds is not covered. Do not rely on it."),
    NOT_OURS: ("ไฟล์นี้ลงนามด้วยใบรับรองอื่น ไม่ใช่ตราประทับอิเล็กทรอนิกส์ของหน่วยงานในระบบนี้",
               "The file is signed with another certificate, not an office seal of this system."),
    UNSIGNED: ("ไฟล์ PDF นี้ไม่มีลายมือชื่ออิเล็กทรอนิกส์ จึงไม่ใช่ฉบับสมบูรณ์ที่ประทับตราจากระบบ",
               "This PDF carries no signature, so it is not a sealed final copy from this "
               "system."),
}


@dataclass(frozen=True)
class SignerLine:
    name: str
    position: str
    when: datetime


@dataclass(frozen=True)
class Verdict:
    """What the uploaded file turned out to be."""

    verdict: str
    message: str
    message_en: str
    sha256: str
    signed_by: str = ""  # the certificate's subject, as the PDF carries it
    office: str = ""
    root_fingerprint: str = ""  # the office root that vouches for a valid seal
    sealed_at: datetime | None = None
    timestamped: bool = False  # sealed_at is from a trusted timestamp authority
    # sealed_at is from a timestamp token whose authority this server is not set to trust
    # (SEAL_TSA_ROOTS): still the token's time, not the signer's clock.
    untrusted_timestamp: bool = False
    number: str = ""
    approved_at: datetime | None = None
    signers: list[SignerLine] = field(default_factory=list)

    @property
    def genuine(self) -> bool:
        return self.verdict == VALID

    def public(self) -> dict[str, Any]:
        """The answer as the API gives it."""
        return {
            "verdict": self.verdict, "genuine": self.genuine, "message": self.message,
            "message_en": self.message_en, "sha256": self.sha256, "signed_by": self.signed_by,
            "office": self.office, "root_fingerprint": self.root_fingerprint,
            "sealed_at": self.sealed_at.isoformat() if self.sealed_at else None,
            "timestamped": self.timestamped,
            "untrusted_timestamp": self.untrusted_timestamp, "number": self.number,
            "approved_at": self.approved_at.isoformat() if self.approved_at else None,
            "signers": [{"name": s.name, "position": s.position, "when": s.when.isoformat()}
                        for s in self.signers],
        }


def _verdict(kind: str, digest: str, **values: Any) -> Verdict:
    thai, english = _VERDICTS[kind]
    return Verdict(kind, thai, english, digest, **values)


def empty() -> Invalid:
    """The refusal of an upload with no bytes (or no file at all)."""
    return Invalid("กรุณาเลือกไฟล์ PDF ที่ต้องการตรวจสอบ (ไฟล์ว่างเปล่า)",
                   "Choose a PDF file to check; the upload was empty.", code="empty_file")


def too_large(limit_mb: int) -> Invalid:
    """The refusal of a file over ``VERIFY_MAX_MB``."""
    error = Invalid(f"ไฟล์ใหญ่เกิน {limit_mb} MB จึงตรวจสอบไม่ได้",
                    f"The file is larger than {limit_mb} MB.", code="file_too_large")
    error.status = 413
    return error


def _not_pdf() -> Invalid:
    return Invalid("ไฟล์นี้ไม่ใช่ไฟล์ PDF กรุณาเลือกไฟล์ PDF ที่ได้รับจากระบบ",
                   "The file is not a PDF.", code="not_pdf")


def _damaged() -> Invalid:
    return Invalid("ไฟล์ PDF นี้ไม่สมบูรณ์หรือเสียหาย (เช่น ถูกตัดท้ายไฟล์) จึงตรวจสอบไม่ได้ "
                   "กรุณาใช้ไฟล์ต้นฉบับที่ได้รับ",
                   "The PDF is incomplete or damaged (for example truncated) and cannot be "
                   "checked.", code="damaged_pdf")


_CHUNK = 64 * 1024


def read_upload(file_storage: Any) -> bytes:
    """The uploaded file's bytes, read in chunks and refused as soon as they pass
    ``VERIFY_MAX_MB`` (the view has capped the request body to about the same)."""
    limit_mb = int(current_app.config["VERIFY_MAX_MB"])
    stream = getattr(file_storage, "stream", None)
    if stream is None:
        raise empty()
    parts, size = [], 0
    while chunk := stream.read(_CHUNK):
        size += len(chunk)
        if size > limit_mb * 1024 * 1024:
            raise too_large(limit_mb)
        parts.append(chunk)
    return b"".join(parts)


def request_cap() -> int:
    """The request body a verification may send: the file's limit and room for the form."""
    return int(current_app.config["VERIFY_MAX_MB"]) * 1024 * 1024 + 64 * 1024


def too_complex() -> Invalid:
    """The refusal of a file whose checking outgrows the sandbox's limits."""
    return Invalid("ไฟล์ PDF นี้ซับซ้อนเกินกว่าที่ระบบจะตรวจสอบได้ภายในเวลาที่กำหนด (เช่น มีการแก้ไขต่อท้าย"
                   "จำนวนมาก) จึงไม่อาจยืนยันได้ว่าเป็นฉบับจริง กรุณาใช้ไฟล์ต้นฉบับที่ได้รับจากระบบ",
                   "The PDF is too complex to check within the server's limits (for example, "
                   "many appended updates), so it cannot be confirmed as genuine.",
                   code="verify_too_complex")


def _busy() -> Unavailable:
    return Unavailable("ระบบกำลังตรวจสอบไฟล์ของผู้ใช้อื่นอยู่ กรุณาลองใหม่อีกครั้งในอีกสักครู่",
                       "The server is busy checking other files; try again shortly.",
                       code="verify_busy")


def _in_sandbox(function: Callable[..., T], *args: Any) -> T:
    """``function`` on the upload in the sandbox, within ``VERIFY_MEMORY_MB`` and
    ``VERIFY_TIMEOUT_SECONDS``; a file that outgrows them is refused, never the worker's."""
    config = current_app.config
    limits = sandbox.Limits(memory_mb=config["VERIFY_MEMORY_MB"],
                            seconds=config["VERIFY_TIMEOUT_SECONDS"],
                            concurrent=config["VERIFY_CONCURRENT"])
    try:
        # One gate for both steps of a check: VERIFY_CONCURRENT children at most.
        return sandbox.run(function, *args, limits=limits, gate="verify")
    except sandbox.Busy:
        raise _busy() from None
    except sandbox.OutOfBounds:
        raise too_complex() from None
    except sandbox.Failed:  # pyHanko tripped on the file somewhere we did not foresee
        raise _damaged() from None


def verify_pdf(data: bytes) -> Verdict:
    """Check an uploaded file; raises ``Invalid`` (422) for what is not a readable PDF or is
    too complex to check, ``Unavailable`` (503) while every check slot is taken."""
    if not data:
        raise empty()
    if b"%PDF-" not in data[:1024]:
        raise _not_pdf()
    digest = hashlib.sha256(data).hexdigest()
    stored = _stored(digest)
    checked: pdfcheck.Check | None = None
    if stored is not None:
        # Byte for byte a copy we sealed: its seal is known, so the file is read and checked
        # in one child rather than two (each costs a fork and pyHanko's reading of the file).
        # The verdict is still the signature's: the record only says which root to try.
        signer, checked = _in_sandbox(pdfcheck.examine, data, stored.seal.fingerprint,
                                      stored.seal.root.encode(), _tsa_roots())
    else:
        signer = _in_sandbox(pdfcheck.first_signer, data)
    if signer.kind == pdfcheck.UNREADABLE:
        _LOGGER.info("verify: unreadable PDF %s", digest[:16])
        raise _damaged()
    if signer.kind == pdfcheck.UNSIGNED:
        return _verdict(UNSIGNED, digest)
    if signer.kind == pdfcheck.BAD_CERTIFICATE:
        return _verdict(ALTERED, digest)
    if checked is not None and stored is not None:
        seal: OfficeSeal | None = stored.seal
    else:
        seal = keys.by_fingerprint(db.session, signer.fingerprint)
    if seal is None:
        return _verdict(NOT_OURS, digest, signed_by=signer.subject)
    if checked is None:
        checked = _in_sandbox(pdfcheck.check, data, seal.root.encode(), _tsa_roots())
    if not checked.validated:
        return _verdict(ALTERED, digest, signed_by=signer.subject)
    office = _office_name(seal)
    if not (checked.intact and checked.valid):
        return _verdict(ALTERED, digest, signed_by=signer.subject, office=office)
    if not checked.covers_all:
        return _verdict(APPENDED, digest, signed_by=signer.subject, office=office)
    return _verdict(VALID, digest, signed_by=signer.subject, office=office,
                    sealed_at=checked.sealed_at, timestamped=checked.timestamped,
                    untrusted_timestamp=checked.untrusted_timestamp,
                    root_fingerprint=seal.root_fingerprint, **_memo_facts(stored))


def _tsa_roots() -> bytes | None:
    """The roots trusted for timestamps (``SEAL_TSA_ROOTS``), as the file holds them; None
    leaves it to the seal's."""
    path = current_app.config.get("SEAL_TSA_ROOTS") or ""
    if not path:
        return None
    try:
        return Path(path).read_bytes()
    except OSError:  # misconfigured: say so in the log, and check the seal without it
        _LOGGER.error("SEAL_TSA_ROOTS %s cannot be read; timestamps are not trusted", path,
                      exc_info=True)
        return None


def _office_name(seal: OfficeSeal) -> str:
    org = db.session.get(Organization, seal.org_id)
    return org.name if org else ""


@dataclass(frozen=True)
class _Stored:
    """A sealed copy the system stored, found by its digest: its memo and the seal on it."""

    memo: Memo
    seal: OfficeSeal


def _stored(digest: str) -> _Stored | None:
    row = db.session.exec(
        select(Memo, OfficeSeal)
        .join(SealedDocument, col(SealedDocument.memo_id) == col(Memo.id))
        .join(OfficeSeal, col(OfficeSeal.id) == col(SealedDocument.seal_id))
        .where(SealedDocument.sha256 == digest).execution_options(**{ALL_OFFICES: True})
    ).first()
    return _Stored(*row) if row is not None else None


def _memo_facts(stored: _Stored | None) -> dict[str, Any]:
    """Number, approval time and signers of the memo whose stored sealed copy is exactly
    this file: what its completion certificate prints, nothing more."""
    if stored is None:
        return {}
    memo = stored.memo
    decisions = db.session.exec(
        select(Decision).where(Decision.memo_id == memo.id, Decision.round == memo.round,
                               Decision.action == routing.APPROVE)
        .order_by(col(Decision.id)).execution_options(**{ALL_OFFICES: True})).all()
    return {"number": memo.number or "", "approved_at": memo.updated_at,
            "signers": [SignerLine(d.actor_name, (d.signed_as or d.position_title).split("\n")[0],
                                   d.created_at) for d in decisions]}
