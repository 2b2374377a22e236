"""Offices as tenants of one installation: the code people sign in with, which office a
sign-in means, and whether an office is suspended."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from ..errors import Invalid
from ..models import CODE_MAX, Organization

# Latin lower-case, digits and hyphens, starting with a letter: typed on any phone keyboard,
# safe in a URL, and never two spellings of the same office.
_CODE = re.compile(rf"[a-z][a-z0-9-]{{1,{CODE_MAX - 1}}}")
# Codes that would read as a part of the site, or as the installation itself.
RESERVED_CODES = frozenset({"platform", "admin", "api", "static", "login", "logout", "www",
                            "o", "health", "system"})
PLATFORM_CODE = "platform"


def normalized_code(raw: str) -> str:
    """How a typed code is compared: without surrounding spaces, in lower case."""
    return (raw or "").strip().lower()


def checked_code(raw: str, *, field: str = "code") -> str:
    """A new office's code, or 422 with the rule in Thai."""
    code = normalized_code(raw)
    if not _CODE.fullmatch(code):
        raise Invalid(
            f"รหัสหน่วยงานต้องเป็นอักษรภาษาอังกฤษตัวเล็ก ตัวเลข หรือขีด (-) ขึ้นต้นด้วยตัวอักษร "
            f"ยาว ๒–{CODE_MAX} ตัว ไม่มีช่องว่าง เช่น thatoom",
            f"An office code is 2-{CODE_MAX} lower-case Latin letters, digits or hyphens, "
            "starting with a letter, e.g. thatoom.",
            code="invalid_office_code", details={"field": field})
    if code in RESERVED_CODES:
        raise Invalid(f"รหัส {code} สงวนไว้สำหรับระบบ กรุณาใช้รหัสอื่น",
                      f"The code {code!r} is reserved.", code="reserved_office_code",
                      details={"field": field})
    return code


def office_for_sign_in(session: Session, code: str) -> Organization | None:
    """The office a sign-in names by ``code``; with no code, the only office there is (so a
    one-office installation signs in exactly as before), else None. Never says which codes
    exist: an unknown office is answered like a wrong password."""
    code = normalized_code(code)
    if code:
        return session.exec(select(Organization).where(Organization.code == code)).first()
    offices = session.exec(
        select(Organization).where(col(Organization.is_platform).is_(False))
        .order_by(col(Organization.id)).limit(2)).all()
    return offices[0] if len(offices) == 1 else None


def tenant_count(session: Session, *, platform_too: bool = False) -> int:
    """How many offices the installation serves (the platform's own counted only if
    ``platform_too``), up to 2: enough to know whether an office must be named."""
    statement = select(Organization.id)
    if not platform_too:
        statement = statement.where(col(Organization.is_platform).is_(False))
    return len(session.exec(statement.limit(2)).all())
