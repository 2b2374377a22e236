"""The Garuda (ตราครุฑ) printed on the office's memos: what an upload must be, and reading it."""

from __future__ import annotations

import base64
import logging
from pathlib import Path

from ..errors import Invalid
from ..images import IMAGE_TYPES, ImageProblem, decoded_type
from ..models import (
    Organization,
)
from ..storage import folder

_LOGGER = logging.getLogger(__name__)

GARUDA_MAX_BYTES = 2 * 1024 * 1024


GARUDA_MAX_PIXELS = 25_000_000  # 5000 x 5000; a Garuda 1.5 cm tall needs far less


GARUDA_TYPES = IMAGE_TYPES


def garuda_folder() -> Path:

    return folder()


def garuda_type(data: bytes) -> str:
    """The image's extension judged from its bytes, after Pillow has decoded all of it."""
    refused = Invalid("ภาพครุฑต้องเป็นไฟล์ PNG หรือ JPEG เท่านั้น (ตรวจจากเนื้อไฟล์ ไม่ใช่ชื่อไฟล์; "
                      "ไม่รับ SVG)", "The Garuda must be a PNG or JPEG image (judged from its "
                      "content; SVG is not accepted).", code="bad_garuda_type",
                      details={"field": "garuda"})
    try:
        return decoded_type(data, GARUDA_MAX_PIXELS)
    except ImageProblem as problem:
        if problem.kind == "pixels":
            raise Invalid("ภาพครุฑมีขนาดพิกเซลใหญ่เกินไป (ไม่เกิน ๕,๐๐๐ × ๕,๐๐๐)",
                          "The Garuda image has too many pixels.",
                          code="garuda_too_large", details={"field": "garuda"}) from None
        if problem.kind == "broken":
            raise Invalid("อ่านไฟล์ภาพครุฑไม่ได้ ไฟล์อาจเสียหาย",
                          "The Garuda image cannot be decoded.", code="bad_garuda_image",
                          details={"field": "garuda"}) from None
        raise refused from None


def garuda_data_uri(org: Organization) -> str:
    """The office's Garuda as a ``data:`` URI for the print view and the PDF ("" if none)."""
    name = org.garuda_file
    extension = name.rsplit(".", 1)[-1]
    if not name or extension not in GARUDA_TYPES or "/" in name or name.startswith("."):
        return ""
    try:
        data = (garuda_folder() / name).read_bytes()
    except OSError:
        _LOGGER.warning("office %s: Garuda file %s is missing", org.id, name)
        return ""
    return f"data:{GARUDA_TYPES[extension][2]};base64,{base64.b64encode(data).decode('ascii')}"
