"""The offices of one installation, as its platform administrators run them: create an
office with its first administrator, suspend it, reactivate it.

A suspended office keeps everything. Its people cannot sign in, their sessions and tokens
stop at the next request (``identity.principal.load_principal``), and its reminders and
emails wait (``memos.reminders``, ``outbox.delivery``) until it is reactivated.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock
from ..admin.people import check_email, check_full_name, check_username, unguessable_password
from ..errors import Conflict, Forbidden, NotFound
from ..extensions import db
from ..identity.links import issue_invitation
from ..identity.passwords import check_new_password, hash_password
from ..identity.principal import Principal
from ..models import AuditAction, Memo, Organization, Role, User
from ..office.tenants import PLATFORM_CODE, checked_code
from ..outbox.queue import dispatch
from ..seal import keys as seal_keys
from ..trail.chain import Entry, RequestInfo, record
from ..validation import one_line

PLATFORM_NAME = "ผู้ดูแลระบบกลาง"


def require_platform(principal: Principal) -> None:
    """Refuse (403) anyone but a platform administrator."""
    if not principal.has_role(Role.PLATFORM):
        raise Forbidden("เฉพาะผู้ดูแลระบบกลางเท่านั้น", "Platform administrators only.",
                        code="platform_only")


@dataclass(frozen=True)
class OfficeSummary:
    org: Organization
    people: int
    memos: int


def list_offices(principal: Principal) -> list[OfficeSummary]:
    """Every office the installation serves, with how many people and memos it has."""
    require_platform(principal)
    session = db.session
    people = dict(session.exec(select(User.org_id, func.count()).group_by(col(User.org_id))).all())
    memos = dict(session.exec(select(Memo.org_id, func.count()).group_by(col(Memo.org_id))).all())
    offices = session.exec(select(Organization).where(col(Organization.is_platform).is_(False))
                           .order_by(col(Organization.code))).all()
    return [OfficeSummary(o, people.get(o.id or 0, 0), memos.get(o.id or 0, 0)) for o in offices]


def create_office(*, principal: Principal | None, code: str, name: str, admin_username: str,
                  admin_full_name: str, admin_email: str, admin_password: str = "",
                  request_info: RequestInfo | None = None) -> Organization:
    """A new office and its first administrator, all or nothing. Without a password the
    administrator is emailed an invitation to set their own. ``principal`` is None from the
    shell."""
    if principal is not None:
        require_platform(principal)
    code = checked_code(code)
    name = one_line(name, label="ชื่อหน่วยงาน", field="name", maximum=200)
    username = check_username(admin_username)
    full_name = check_full_name(admin_full_name)
    email = check_email(admin_email)
    if admin_password:
        check_new_password(admin_password, username=username)
    password_hash = hash_password(admin_password) if admin_password else "!" + hash_password(
        unguessable_password())
    invitations: list[int] = []
    try:
        with db.write() as session:
            _refuse_taken(session, code, name)
            org = Organization(code=code, name=name, unit_line=name)
            session.add(org)
            session.flush()
            seal_keys.ensure(session, org)  # its own root and seal certificate
            admin = User(org_id=org.id or 0, username=username, full_name=full_name,
                         email=email, roles=Role.ADMIN.value, password_hash=password_hash)
            session.add(admin)
            session.flush()
            _record(session, principal, "office_created", org, request_info,
                    admin_username=username, admin_email=email,
                    invited=not admin_password)
            if not admin_password:
                invitations.append(issue_invitation(session, admin, request_info,
                                                    invited_by=principal))
    except IntegrityError:  # another administrator took the code or name a moment ago
        raise Conflict("มีหน่วยงานรหัสหรือชื่อนี้แล้ว", "That office code or name exists.",
                       code="office_taken") from None
    dispatch(invitations)
    return org


def set_suspended(*, principal: Principal | None, org_id: int, suspended: bool,
                  request_info: RequestInfo | None = None) -> Organization:
    """Suspend an office (nothing is deleted) or bring it back."""
    if principal is not None:
        require_platform(principal)
    with db.write() as session:
        org = session.get(Organization, org_id)
        if org is None or org.is_platform:
            raise NotFound("ไม่พบหน่วยงานนี้", "Office not found.", code="office_not_found")
        if (org.suspended_at is not None) == suspended:
            return org  # already so: a second click changes nothing
        org.suspended_at = clock.now() if suspended else None
        _record(session, principal, "office_suspended" if suspended else "office_reactivated",
                org, request_info)
        return org


def office_by_code(code: str) -> Organization:
    """An office by its code, or 404 (for the shell)."""
    org = db.session.exec(select(Organization).where(
        Organization.code == code.strip().lower())).first()
    if org is None:
        raise NotFound(f"ไม่พบหน่วยงานรหัส {code}", f"No office {code!r}.",
                       code="office_not_found")
    return org


def platform_office(session: Session) -> Organization:
    """The installation's own office, where platform administrators belong; made on first
    use."""
    org = session.exec(select(Organization).where(col(Organization.is_platform).is_(True))
                       .order_by(col(Organization.id))).first()
    if org is None:
        org = Organization(code=PLATFORM_CODE, name=PLATFORM_NAME, unit_line=PLATFORM_NAME,
                           is_platform=True)
        session.add(org)
        session.flush()
    return org


def create_platform_admin(*, username: str, full_name: str, email: str,
                          password: str) -> User:
    """A platform administrator, from the shell. They sign in with the office code
    ``platform``."""
    username = check_username(username)
    full_name = check_full_name(full_name)
    email = check_email(email)
    check_new_password(password, username=username)
    password_hash = hash_password(password)
    with db.write() as session:
        org = platform_office(session)
        if session.exec(select(User.id).where(User.org_id == org.id,
                                              User.username == username)).first():
            raise Conflict(f"มีชื่อผู้ใช้ \"{username}\" แล้ว", "That username exists.",
                           code="username_taken")
        user = User(org_id=org.id or 0, username=username, full_name=full_name, email=email,
                    roles=Role.PLATFORM.value, password_hash=password_hash)
        session.add(user)
        session.flush()
        return user


def _refuse_taken(session: Session, code: str, name: str) -> None:
    if session.exec(select(Organization.id).where(Organization.code == code)).first():
        raise Conflict(f"มีหน่วยงานรหัส {code} แล้ว กรุณาใช้รหัสอื่น",
                       f"The office code {code!r} is taken.", code="office_code_taken",
                       details={"field": "code"})
    if session.exec(select(Organization.id).where(Organization.name == name)).first():
        raise Conflict("มีหน่วยงานชื่อนี้แล้ว", "An office of that name exists.",
                       code="office_name_taken", details={"field": "name"})


def _record(session: Session, principal: Principal | None, change: str, org: Organization,
            request_info: RequestInfo | None, **details: object) -> None:
    """Platform events go on the platform office's trail, naming the office concerned."""
    home = platform_office(session)
    record(session, Entry(
        AuditAction.PLATFORM_CHANGE, org_id=home.id,
        actor_id=principal.user_id if principal else None,
        actor_name=principal.full_name if principal else "(คำสั่งระบบ)",
        text=org.name,
        details={"change": change, "office_id": org.id, "office_code": org.code,
                 **details},
        request_info=request_info))
