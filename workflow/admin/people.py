"""People: accounts and their roles, created, edited, invited and deactivated by an admin."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from .. import clock
from ..errors import Conflict, Invalid
from ..extensions import db
from ..identity.links import issue_invitation
from ..identity.passwords import check_new_password, hash_password
from ..identity.principal import Principal, require_admin
from ..identity.revocation import expire_links, revoke_all
from ..models import (
    OFFICE_ROLES,
    ROLE_LABELS,
    AuthSession,
    Position,
    Role,
    User,
)
from ..office.records import office_record
from ..outbox.queue import dispatch
from ..trail.chain import RequestInfo
from ..validation import one_line
from .changes import check_unchanged, fingerprint, record_change

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")


NAME_MAX = 200


def check_username(value: str) -> str:
    value = value.strip().lower()
    if not USERNAME.match(value):
        raise Invalid("ชื่อผู้ใช้ต้องเป็นอักษรอังกฤษตัวเล็ก ตัวเลข จุด ขีด หรือขีดล่าง ยาว ๓–๖๔ ตัว",
                      "The username must be 3–64 of a-z, 0-9, '.', '_' or '-'.",
                      code="bad_username", details={"field": "username"})
    return value


def check_full_name(value: str) -> str:
    """A person's name with title, on one line."""
    return one_line(value, label="ชื่อ-สกุล", field="full_name", maximum=NAME_MAX)


def check_email(value: str) -> str:
    try:
        # Syntax only: no DNS lookups from the server (offices run on closed networks).
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        raise Invalid(f"อีเมลไม่ถูกต้อง: {value.strip()[:80]}", "The email address is not valid.",
                      code="bad_email", details={"field": "email"}) from None


def check_roles(values: list[str]) -> str:
    known = {r.value for r in OFFICE_ROLES}
    labels = {ROLE_LABELS[role]: role.value for role in OFFICE_ROLES}
    roles: list[str] = []
    for value in values:
        value = value.strip()
        if not value:
            continue
        role = labels.get(value, value.lower())
        if role not in known:
            raise Invalid(f"ไม่รู้จักบทบาท \"{value[:40]}\" (ใช้ได้: clerk, signer, admin, auditor)",
                          f"Unknown role {value!r}.", code="bad_role", details={"field": "roles"})
        if role not in roles:
            roles.append(role)
    return " ".join(roles) or Role.CLERK.value


@dataclass(frozen=True)
class PersonRow:
    user: User
    positions: list[str]
    live_sessions: int

    @property
    def role_labels(self) -> list[str]:
        return [ROLE_LABELS[Role(r)] for r in self.user.roles.split() if r in set(Role)]


def list_people(principal: Principal) -> list[PersonRow]:
    """Everyone in the office, active first, with the posts they hold."""
    require_admin(principal)
    session = db.session
    users = session.exec(select(User).where(User.org_id == principal.org_id)
                         .order_by(col(User.is_active).desc(), col(User.full_name))).all()
    held: dict[int, list[str]] = {}
    for position in session.exec(select(Position).where(Position.org_id == principal.org_id)
                                 .order_by(col(Position.id))).all():
        if position.holder_id is not None:
            held.setdefault(position.holder_id, []).append(position.title)
    live = dict(session.exec(  # type: ignore[call-overload]
        select(AuthSession.user_id, func.count())
        .where(col(AuthSession.revoked_at).is_(None), col(AuthSession.expires_at) > clock.now())
        .group_by(col(AuthSession.user_id))).all())
    return [PersonRow(u, held.get(u.id or 0, []), live.get(u.id or 0, 0)) for u in users]


def get_person(principal: Principal, user_id: int) -> User:
    require_admin(principal)
    return office_record(db.session, User, user_id, principal.org_id)


def _person_dict(user: User) -> dict[str, Any]:
    return {"username": user.username, "full_name": user.full_name, "email": user.email,
            "roles": user.roles, "is_active": user.is_active}


def username_taken(session: Session, org_id: int, username: str) -> bool:
    """Whether the office already has someone of that username (other offices may)."""
    return session.exec(select(User.id).where(
        User.org_id == org_id, User.username == username)).first() is not None


def create_person(*, principal: Principal, username: str, full_name: str, email: str,
                  roles: list[str], password: str = "",
                  request_info: RequestInfo | None = None) -> User:
    """Add an account. Without a password, the person is emailed a link to set their own."""
    require_admin(principal)
    username = check_username(username)
    full_name = check_full_name(full_name)
    email = check_email(email)
    role_text = check_roles(roles)
    if password:
        check_new_password(password, username=username)
    # argon2 is slow on purpose: hash before taking the write lock. Without a password the
    # account gets an unusable random hash until the person sets theirs by the emailed link.
    password_hash = hash_password(password) if password else "!" + hash_password(
        unguessable_password())
    invitations: list[int] = []
    try:
        with db.write() as session:
            if username_taken(session, principal.org_id, username):
                raise _taken(username)
            user = User(org_id=principal.org_id, username=username, full_name=full_name,
                        email=email, roles=role_text, password_hash=password_hash)
            session.add(user)
            session.flush()
            record_change(session, principal, "user_created", before=None,
                          after=_person_dict(user), request_info=request_info,
                          text=full_name, user_id=user.id)
            if not password:
                invitations.append(issue_invitation(
                    session, user, request_info, invited_by=principal))
    except IntegrityError:
        raise _taken(username) from None  # another admin took it a moment ago
    dispatch(invitations)
    return user


def _taken(username: str) -> Conflict:
    return Conflict(f"มีชื่อผู้ใช้ \"{username}\" แล้ว", "That username exists.",
                    code="username_taken", details={"field": "username"})


def unguessable_password() -> str:
    return secrets.token_urlsafe(32)


def person_fingerprint(user: User) -> str:
    """What the edit form carries back to detect a stale tab."""
    return fingerprint(_person_dict(user))


def update_person(*, principal: Principal, user_id: int, full_name: str, email: str,
                  roles: list[str], password: str = "", seen: str | None = None,
                  request_info: RequestInfo | None = None) -> User:
    """Change a person's name, email, roles or (when given) password."""
    require_admin(principal)
    full_name = check_full_name(full_name)
    email = check_email(email)
    role_text = check_roles(roles)
    if user_id == principal.user_id and Role.ADMIN not in role_text.split():
        raise Conflict("ท่านถอนบทบาทผู้ดูแลระบบของตนเองไม่ได้", "You cannot remove your own admin role.",
                       code="own_admin_role")
    new_hash = ""
    if password:
        user = get_person(principal, user_id)
        check_new_password(password, username=user.username)
        new_hash = hash_password(password)
    with db.write() as session:
        user = office_record(session, User, user_id, principal.org_id)
        before = _person_dict(user)
        check_unchanged(seen, before)
        user.full_name, user.email, user.roles = full_name, email, role_text
        ended = 0
        if new_hash:
            user.password_hash = new_hash
            ended = revoke_all(session, user_id)  # whoever knew the old one is out
        after = _person_dict(user)
        changed = {k for k in after if after[k] != before[k]}
        # A link mailed to the old (perhaps mistyped) address, or before the new password,
        # must not open the account any more.
        links_ended = expire_links(session, user_id) if (
            new_hash or "email" in changed) else 0
        if changed or new_hash:
            record_change(session, principal, "user_updated",
                          before={k: before[k] for k in changed},
                          after={k: after[k] for k in changed},
                          request_info=request_info, text=user.full_name, user_id=user_id,
                          password_set=bool(new_hash), sessions_ended=ended,
                          links_ended=links_ended)
        return user


def set_active(*, principal: Principal, user_id: int, active: bool,
               request_info: RequestInfo | None = None) -> int:
    """Deactivate (or reactivate) an account. Deactivating ends every session and API token
    at once; the posts they hold stay theirs, so their waiting memos show as needing an
    acting officer. Returns how many sessions ended."""
    require_admin(principal)
    if user_id == principal.user_id and not active:
        raise Conflict("ท่านระงับบัญชีของตนเองไม่ได้", "You cannot deactivate yourself.",
                       code="deactivate_self")
    with db.write() as session:
        user = office_record(session, User, user_id, principal.org_id)
        if user.is_active == active:
            return 0
        user.is_active = active
        ended = 0 if active else revoke_all(session, user_id)
        expire_links(session, user_id)  # a link from before must not revive it
        record_change(session, principal, "user_activated" if active else "user_deactivated",
                      before={"is_active": not active}, after={"is_active": active},
                      request_info=request_info, text=user.full_name, user_id=user_id,
                      sessions_ended=ended)
        return ended


def invite(principal: Principal, user_id: int, request_info: RequestInfo | None) -> None:
    """An administrator emails an account of their office its link to set a password
    (again): a new colleague, or one whose first link expired. Refused for a deactivated
    account."""
    require_admin(principal)
    with db.write() as session:
        user = office_record(session, User, user_id, principal.org_id)
        if not user.is_active:
            raise Conflict("บัญชีนี้ถูกระงับ ส่งลิงก์ตั้งรหัสผ่านไม่ได้",
                           "The account is deactivated.", code="inactive")
        notification_id = issue_invitation(session, user, request_info, invited_by=principal)
    dispatch([notification_id])
