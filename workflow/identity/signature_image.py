"""A user's handwritten signature as an image, printed above their name in the blocks they
signed (the PDF and the print view). Without one, the typed name stands, as the
correspondence regulation allows for a system that verifies identity.

The upload is judged by its bytes (PNG or JPEG, decoded to the end by Pillow), at most
``SIGNATURE_MAX_BYTES``, and stored outside the web root under ``ATTACHMENT_DIR/signatures``
named by its SHA-256: a file once written never changes, so a memo printed earlier prints
the same way again. Setting and removing it are audited.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path
from typing import IO, Any

from sqlmodel import col, select

from ..errors import Invalid, NotFound
from ..extensions import db
from ..images import IMAGE_TYPES, ImageProblem, decoded_type
from ..models import AuditAction, User
from ..storage import folder, write_whole
from ..trail.chain import Entry, RequestInfo, record
from .principal import Principal

_LOGGER = logging.getLogger(__name__)

SIGNATURE_MAX_BYTES = 512 * 1024
SIGNATURE_MAX_PIXELS = 4_000_000  # 2000 x 2000; a signature 1.5 cm tall needs far less

_TYPES = IMAGE_TYPES


def signature_folder() -> Path:
    """Where signature images are kept: outside the web root, beside the attachments."""
    return folder() / "signatures"


def _refuse(thai: str, english: str, code: str) -> Invalid:
    return Invalid(thai, english, code=code, details={"field": "signature"})


def image_type(data: bytes) -> str:
    """The image's extension judged from its bytes, after Pillow has decoded all of it."""
    try:
        return decoded_type(data, SIGNATURE_MAX_PIXELS)
    except ImageProblem as problem:
        if problem.kind == "pixels":
            raise _refuse("ภาพลายมือชื่อมีขนาดพิกเซลใหญ่เกินไป (ไม่เกิน ๒,๐๐๐ × ๒,๐๐๐)",
                          "The signature image has too many pixels.",
                          "signature_too_large") from None
        if problem.kind == "broken":
            raise _refuse("อ่านไฟล์ภาพลายมือชื่อไม่ได้ ไฟล์อาจเสียหาย",
                          "The signature image cannot be decoded.",
                          "bad_signature_image") from None
        raise _refuse("ภาพลายมือชื่อต้องเป็นไฟล์ PNG หรือ JPEG เท่านั้น (ตรวจจากเนื้อไฟล์ ไม่ใช่ชื่อไฟล์)",
                      "The signature must be a PNG or JPEG image (judged from its content).",
                      "bad_signature_type") from None


def set_image(principal: Principal, file_storage: Any,
              request_info: RequestInfo | None = None) -> str:
    """Store an uploaded PNG or JPEG as the user's own signature image; return its name."""
    stream: IO[bytes] | None = getattr(file_storage, "stream", None)
    data = stream.read(SIGNATURE_MAX_BYTES + 1) if stream is not None else b""
    if not data:
        raise _refuse("กรุณาเลือกไฟล์ภาพลายมือชื่อ", "Choose an image file.", "empty_file")
    if len(data) > SIGNATURE_MAX_BYTES:
        raise _refuse("ไฟล์ภาพลายมือชื่อใหญ่เกิน ๕๑๒ KB", "The signature image is larger than "
                      "512 KB.", "file_too_large")
    extension = image_type(data)
    digest = hashlib.sha256(data).hexdigest()
    name = f"sig-{digest[:32]}.{extension}"
    if not (signature_folder() / name).is_file():
        write_whole(signature_folder(), name, data)
    _change(principal, name, AuditAction.SIGNATURE_IMAGE_SET, request_info,
            sha256=digest, size=len(data))
    return name


def remove_image(principal: Principal, request_info: RequestInfo | None = None) -> None:
    """Print the typed name alone from now on (the file stays for what was printed with it)."""
    _change(principal, "", AuditAction.SIGNATURE_IMAGE_REMOVED, request_info)


def _change(principal: Principal, name: str, action: AuditAction,
            request_info: RequestInfo | None, **details: Any) -> None:
    with db.write() as session:
        user = session.get(User, principal.user_id, with_for_update=True)
        if user is None:
            raise NotFound("ไม่พบผู้ใช้", "User not found.", code="user_not_found")
        before = user.signature_file
        if before == name:
            return
        user.signature_file = name
        session.add(user)
        record(session, Entry(action, org_id=user.org_id, actor_id=user.id,
                              actor_name=user.full_name, request_info=request_info,
                              details={"before": before, "after": name, **details}))
    _LOGGER.info("user %s: signature image %s", principal.user_id, "set" if name else "removed")


def _data_uri(name: str) -> str:
    extension = name.rsplit(".", 1)[-1]
    if not name.startswith("sig-") or "/" in name or extension not in _TYPES:
        return ""
    try:
        data = (signature_folder() / name).read_bytes()
    except OSError:
        _LOGGER.warning("signature image %s is missing", name)
        return ""
    return f"data:{_TYPES[extension][2]};base64,{base64.b64encode(data).decode()}"


def data_uri_of(user_id: int) -> str:
    """One user's signature image as a ``data:`` URI ("" if none), for their account page."""
    user = db.session.get(User, user_id)
    return _data_uri(user.signature_file) if user and user.signature_file else ""


def images_of(user_ids: set[int]) -> dict[int, str]:
    """The signature images of these users as ``data:`` URIs, for printing their blocks."""
    if not user_ids:
        return {}
    rows = db.session.exec(select(User.id, User.signature_file).where(
        col(User.id).in_(user_ids), User.signature_file != "")).all()
    found = {user_id: _data_uri(name) for user_id, name in rows if user_id is not None}
    return {user_id: uri for user_id, uri in found.items() if uri}
