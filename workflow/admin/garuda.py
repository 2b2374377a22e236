"""Uploading and removing the office's Garuda (ตราครุฑ): checked by content, decoded to the end,
stored by random name."""

from __future__ import annotations

import hashlib
import logging
from typing import IO, Any

from ..errors import Invalid, NotFound
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..models import (
    Organization,
)
from ..office.garuda import GARUDA_MAX_BYTES, garuda_folder, garuda_type
from ..storage import write_whole
from ..trail.chain import RequestInfo
from .changes import record_change

_LOGGER = logging.getLogger(__name__)


def set_garuda(principal: Principal, file_storage: Any,
               request_info: RequestInfo | None = None) -> str:
    """Store an uploaded PNG or JPEG (at most 2 MB) as the office's Garuda; return its name."""
    require_admin(principal)
    stream: IO[bytes] | None = getattr(file_storage, "stream", None)
    data = stream.read(GARUDA_MAX_BYTES + 1) if stream is not None else b""
    if not data:
        raise Invalid("กรุณาเลือกไฟล์ภาพครุฑ", "Choose an image file.", code="empty_file",
                      details={"field": "garuda"})
    if len(data) > GARUDA_MAX_BYTES:
        raise Invalid("ไฟล์ภาพครุฑใหญ่เกิน ๒ MB", "The Garuda image is larger than 2 MB.",
                      code="file_too_large", details={"field": "garuda"})
    extension = garuda_type(data)
    digest = hashlib.sha256(data).hexdigest()
    name = f"garuda-{digest[:16]}.{extension}"
    if not (garuda_folder() / name).is_file():
        # Named by content: the same image uploaded twice is one file, and a file once
        # written never changes, so a memo printed earlier is printed the same way again.
        write_whole(garuda_folder(), name, data)
    with db.write() as session:
        org = session.get(Organization, principal.org_id, with_for_update=True)
        if org is None:
            raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
        before = org.garuda_file
        org.garuda_file = name
        if before != name:
            record_change(session, principal, "office_settings", before={"garuda_file": before},
                          after={"garuda_file": name}, sha256=digest, size=len(data),
                          request_info=request_info)
    return name


def remove_garuda(principal: Principal, request_info: RequestInfo | None = None) -> None:
    """Print the office's memos without a Garuda; the file stays, as the audit names it."""
    require_admin(principal)
    with db.write() as session:
        org = session.get(Organization, principal.org_id, with_for_update=True)
        if org is None:
            raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
        if not org.garuda_file:
            return
        record_change(session, principal, "office_settings",
                      before={"garuda_file": org.garuda_file}, after={"garuda_file": ""},
                      request_info=request_info)
        org.garuda_file = ""
