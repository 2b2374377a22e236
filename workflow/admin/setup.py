"""The first administrator of an office, from the command line."""

from __future__ import annotations

from sqlmodel import select

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..identity.passwords import check_new_password, hash_password
from ..models import (
    Organization,
    User,
)
from ..office.tenants import checked_code, normalized_code, office_for_sign_in, tenant_count
from ..seal import keys as seal_keys

# The code of an installation's first office when the command line names none.
DEFAULT_CODE = "office"


def create_admin(*, username: str, full_name: str, email: str, password: str,
                 office: str, code: str = "") -> User:
    """An administrator of the office ``code`` (which may be left out while there is one
    office); on an empty database, also the office, named ``office``."""

    check_new_password(password, username=username)
    new_hash = hash_password(password)
    with db.write() as session:
        if code:
            org = session.exec(select(Organization).where(
                Organization.code == normalized_code(code))).first()
        else:
            org = office_for_sign_in(session, "")
            if org is None and tenant_count(session):
                raise Invalid("มีหลายหน่วยงาน กรุณาระบุ --code ของหน่วยงาน",
                              "Several offices exist: name one with --code.",
                              code="office_required")
        if org is None:
            if tenant_count(session) and code:
                raise NotFound(f"ไม่พบหน่วยงานรหัส {code}", f"No office {code!r}.",
                               code="office_not_found")
            org = Organization(code=checked_code(code or DEFAULT_CODE), name=office,
                               unit_line=office)
            session.add(org)
            session.flush()
            seal_keys.ensure(session, org)  # its own root and seal certificate
        if session.exec(select(User).where(User.org_id == org.id,
                                           User.username == username.lower())).first():
            raise Conflict("มีชื่อผู้ใช้นี้แล้ว", "That username exists.", code="username_taken")
        user = User(org_id=org.id or 0, username=username.lower(), full_name=full_name,
                    email=email, password_hash=new_hash, roles="admin")
        session.add(user)
        return user
