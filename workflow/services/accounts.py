"""Sign-in, sessions and API tokens, and the ``Principal`` every request acts as."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlmodel import Session, col, select

from .. import clock
from ..errors import Unauthorized
from ..extensions import db
from ..models import AuditAction, AuthSession, Organization, Position, Role, User
from .common import RequestInfo

if TYPE_CHECKING:
    from .appointments import ActingRole


@lru_cache(maxsize=4)
def _hasher_for(time_cost: int, memory_cost: int) -> tuple[PasswordHasher, str]:
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_cost)
    # Verified against when the username is unknown, so that the answer takes as
    # long as for a real account and timing does not reveal which usernames exist.
    return hasher, hasher.hash("not-a-real-password")


def _hasher() -> tuple[PasswordHasher, str]:
    """argon2id with the configured cost (the library's defaults unless a test lowers them)."""
    config = current_app.config
    return _hasher_for(int(config["ARGON2_TIME_COST"]), int(config["ARGON2_MEMORY_KIB"]))

WEB = "web"
API = "api"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher()[0].hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher()[0].verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


token_digest = _digest  # the account page marks "this browser" by comparing digests


@dataclass(frozen=True)
class Principal:
    """Who is making this request: the user, their roles, the positions they hold, and the
    ones they act for today under an appointment."""

    user_id: int
    org_id: int
    username: str
    full_name: str
    email: str
    roles: frozenset[str]
    position_ids: frozenset[int] = field(default_factory=frozenset)
    position_titles: tuple[str, ...] = ()
    token: str = ""
    acting: tuple[ActingRole, ...] = ()
    # Held positions whose holder an appointment in force marks as away.
    absent_from: frozenset[int] = field(default_factory=frozenset)

    # Flask-Login reads these four.
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        """The session secret, so that revoking the session row logs the browser out."""
        return self.token

    def has_role(self, *roles: str) -> bool:
        """True if the user has any of ``roles``."""
        return bool(self.roles.intersection(roles))

    @property
    def answers_for(self) -> frozenset[int]:
        """The positions whose waiting memos this person may decide on today."""
        return (self.position_ids - self.absent_from) | {a.position_id for a in self.acting}

    def acting_role(self, position_id: int) -> ActingRole | None:
        """The appointment under which this person answers for ``position_id``, if not its
        holder."""
        if position_id in self.position_ids and position_id not in self.absent_from:
            return None
        return next((a for a in self.acting if a.position_id == position_id), None)

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def oversees(self) -> bool:
        """Admins and auditors may read every memo of their office."""
        return self.has_role(Role.ADMIN, Role.AUDITOR)


def principal_for(session: Session, user: User, token: str = "",
                  today: date | None = None) -> Principal:
    """Build the principal of ``user`` with the positions they hold and act for right now."""
    from . import appointments

    positions = session.exec(
        select(Position).where(Position.holder_id == user.id).order_by(col(Position.id))
    ).all()
    assert user.id is not None
    held = frozenset(p.id for p in positions if p.id is not None)
    return Principal(
        user_id=user.id,
        org_id=user.org_id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=user.role_set(),
        position_ids=held,
        position_titles=tuple(p.title for p in positions),
        token=token,
        acting=tuple(appointments.acting_roles(session, user.id, today)),
        absent_from=appointments.absent_from(session, held, today),
    )


def authenticate(
    *,
    username: str,
    password: str,
    kind: str,
    lifetime: timedelta,
    ip: str = "",
    user_agent: str = "",
) -> Principal:
    """Check the password and open a new session (a fresh secret every login)."""
    from . import audit

    username = username.strip().lower()[:64]
    info = RequestInfo(ip=ip, user_agent=user_agent)
    # Hash outside the write transaction: argon2 is slow on purpose, and SQLite's
    # write lock must not wait for it.
    user = db.session.exec(select(User).where(User.username == username)).first()
    hasher, dummy_hash = _hasher()
    ok = _verify(user.password_hash if user else dummy_hash, password)
    new_hash = hash_password(password) if user and ok and hasher.check_needs_rehash(
        user.password_hash) else None
    if not (user and ok and user.is_active):
        reason = "unknown_user" if user is None else ("inactive" if ok else "wrong_password")
        with db.write() as session:
            audit.record(session, audit.Entry(
                AuditAction.LOGIN_FAILED, org_id=user.org_id if user else None,
                actor_id=user.id if user else None, actor_name=user.full_name if user else "",
                details={"username": username, "reason": reason, "kind": kind},
                request_info=info))
        raise Unauthorized(
            "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง",
            "Wrong username or password.",
            code="bad_credentials",
        )
    token = secrets.token_urlsafe(32)
    with db.write() as session:
        user = session.get(User, user.id)
        assert user is not None and user.id is not None
        now = clock.now()
        session.add(
            AuthSession(
                user_id=user.id,
                kind=kind,
                token_hash=_digest(token),
                created_at=now,
                expires_at=now + lifetime,
                ip=ip[:64],
                user_agent=user_agent[:300],
            )
        )
        if new_hash:
            user.password_hash = new_hash
        principal = principal_for(session, user, token)
        audit.record(session, audit.Entry(
            AuditAction.LOGIN_SUCCEEDED, org_id=user.org_id, actor_id=user.id,
            actor_name=user.full_name, details={"kind": kind}, request_info=info))
    return principal


def load_principal(token: str, kind: str) -> Principal | None:
    """The principal of a live session or token, or None if revoked, expired or deactivated."""
    if not token:
        return None
    session = db.session
    row = session.exec(
        select(AuthSession, User)
        .join(User, User.id == AuthSession.user_id)  # type: ignore[arg-type]
        .where(AuthSession.token_hash == _digest(token), AuthSession.kind == kind)
    ).first()
    if row is None:
        return None
    auth, user = row
    if auth.revoked_at is not None or auth.expires_at <= clock.now() or not user.is_active:
        return None
    return principal_for(session, user, token)


def revoke(token: str, request_info: RequestInfo | None = None) -> None:
    """End one session or token (logout)."""
    from . import audit

    with db.write() as session:
        auth = session.exec(
            select(AuthSession).where(AuthSession.token_hash == _digest(token))
        ).first()
        if auth is not None and auth.revoked_at is None:
            auth.revoked_at = clock.now()
            user = session.get(User, auth.user_id)
            assert user is not None
            audit.record(session, audit.Entry(
                AuditAction.LOGOUT, org_id=user.org_id, actor_id=user.id,
                actor_name=user.full_name, details={"kind": auth.kind},
                request_info=request_info))


def settings_of(user_id: int) -> User:
    """The user's own record, for their settings page."""
    user = db.session.get(User, user_id)
    if user is None:
        raise Unauthorized("กรุณาเข้าสู่ระบบ", "Not signed in.")
    return user


def update_settings(*, user_id: int, notify_arrivals: bool, daily_digest: bool) -> None:
    """Change how the user is told about memos waiting for them."""
    with db.write() as session:
        user = session.get(User, user_id)
        if user is None:
            raise Unauthorized("กรุณาเข้าสู่ระบบ", "Not signed in.")
        user.notify_arrivals = notify_arrivals
        user.daily_digest = daily_digest


def check_new_password(password: str, *, username: str = "") -> None:
    """Refuse a password that is too short, is the username, or is on the shipped list of
    breached passwords (in Thai and English)."""
    from ..errors import Invalid
    from .passwords import is_breached

    minimum = int(current_app.config["PASSWORD_MIN_LENGTH"])
    if len(password) < minimum:
        raise Invalid(f"รหัสผ่านต้องยาวอย่างน้อย {minimum} ตัวอักษร",
                      f"The password must be at least {minimum} characters.",
                      code="password_too_short")
    if len(password) > 1024:
        raise Invalid("รหัสผ่านยาวเกินไป", "The password is too long.", code="password_too_long")
    if username and password.strip().lower() == username.strip().lower():
        raise Invalid("รหัสผ่านต้องไม่ซ้ำกับชื่อผู้ใช้", "The password must differ from the username.",
                      code="password_is_username")
    if is_breached(password):
        raise Invalid("รหัสผ่านนี้อยู่ในรายการรหัสผ่านที่รั่วไหลหรือใช้กันทั่วไป กรุณาตั้งรหัสผ่านอื่น",
                      "This password appears in a list of breached or common passwords.",
                      code="password_breached")


def change_password(*, principal: Principal, old_password: str, new_password: str,
                    request_info: RequestInfo | None = None) -> None:
    """Change one's own password (the old one is required); other sessions and tokens end."""
    from . import audit

    user = db.session.get(User, principal.user_id)
    if user is None or not _verify(user.password_hash, old_password):
        raise Unauthorized("รหัสผ่านเดิมไม่ถูกต้อง", "The current password is wrong.",
                           code="bad_old_password")
    check_new_password(new_password, username=user.username)
    new_hash = hash_password(new_password)  # outside the write lock: argon2 is slow on purpose
    with db.write() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        user.password_hash = new_hash
        ended = _revoke_all(session, user.id or 0, keep=principal.token)
        from .passwords import expire_links

        expire_links(session, user.id or 0)  # a reset link from before opens nothing now
        audit.record(session, audit.Entry(
            AuditAction.PASSWORD_CHANGED, org_id=user.org_id, actor_id=user.id,
            actor_name=user.full_name, details={"other_sessions_ended": ended},
            request_info=request_info))


def _revoke_all(session: Session, user_id: int, keep: str = "") -> int:
    now = clock.now()
    rows = session.exec(select(AuthSession).where(
        AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))).all()
    ended = 0
    for row in rows:
        if keep and row.token_hash == _digest(keep):
            continue
        row.revoked_at = now
        ended += 1
    return ended


def sign_out_everywhere(*, principal: Principal, request_info: RequestInfo | None = None) -> int:
    """End every session and API token of the user, this one included."""
    from . import audit

    with db.write() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        ended = _revoke_all(session, principal.user_id)
        audit.record(session, audit.Entry(
            AuditAction.SIGNED_OUT_EVERYWHERE, org_id=user.org_id, actor_id=user.id,
            actor_name=user.full_name, details={"sessions_ended": ended},
            request_info=request_info))
    return ended


def active_sessions(principal: Principal) -> list[AuthSession]:
    """The user's live sessions and tokens, newest first."""
    return list(db.session.exec(
        select(AuthSession).where(AuthSession.user_id == principal.user_id,
                                  col(AuthSession.revoked_at).is_(None),
                                  col(AuthSession.expires_at) > clock.now())
        .order_by(col(AuthSession.created_at).desc())
    ).all())


def create_admin(*, username: str, full_name: str, email: str, password: str,
                 office: str) -> User:
    """The first administrator (and, on an empty database, their office)."""
    from ..errors import Conflict

    check_new_password(password, username=username)
    new_hash = hash_password(password)
    with db.write() as session:
        if session.exec(select(User).where(User.username == username.lower())).first():
            raise Conflict("มีชื่อผู้ใช้นี้แล้ว", "That username exists.", code="username_taken")
        org = session.exec(select(Organization).order_by(col(Organization.id))).first()
        if org is None:
            org = Organization(name=office, unit_line=office)
            session.add(org)
            session.flush()
        user = User(org_id=org.id or 0, username=username.lower(), full_name=full_name,
                    email=email, password_hash=new_hash, roles="admin")
        session.add(user)
        return user
