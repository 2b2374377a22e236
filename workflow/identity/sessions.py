"""Sign-in, sign-out, sessions and API tokens, and a user's own settings and password."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import col, select

from .. import clock
from ..errors import Forbidden, Unauthorized
from ..extensions import db
from ..models import (
    CODE_MAX,
    AuditAction,
    AuthSession,
    User,
)
from ..office.tenants import normalized_code, office_for_sign_in, tenant_count
from ..trail.chain import Entry, RequestInfo, record
from .passwords import check_new_password, hash_password, password_hasher, verify_password
from .principal import Principal, principal_for, token_digest
from .revocation import expire_links, revoke_all


def authenticate(
    *,
    username: str,
    password: str,
    kind: str,
    lifetime: timedelta,
    office: str = "",
    ip: str = "",
    user_agent: str = "",
) -> Principal:
    """Check the password of ``username`` in ``office`` (its code; may be left out while the
    installation serves one office) and open a new session (a fresh secret every login).
    An unknown office is answered exactly like a wrong password, so that codes cannot be
    probed; a suspended office is named only to someone whose password is right."""

    username = username.strip().lower()[:64]
    info = RequestInfo(ip=ip, user_agent=user_agent)
    # Hash outside the write transaction: argon2 is slow on purpose, and SQLite's
    # write lock must not wait for it.
    org = office_for_sign_in(db.session, office)
    user = db.session.exec(select(User).where(
        User.org_id == org.id, User.username == username)).first() if org else None
    hasher, dummy_hash = password_hasher()
    ok = verify_password(user.password_hash if user else dummy_hash, password)
    new_hash = hash_password(password) if user and ok and hasher.check_needs_rehash(
        user.password_hash) else None
    suspended = bool(org and org.suspended_at is not None)
    if not (user and ok and user.is_active) or suspended:
        reason = ("unknown_office" if org is None else "unknown_user" if user is None
                  else "wrong_password" if not ok else "inactive" if not user.is_active
                  else "office_suspended")
        with db.write() as session:
            record(session, Entry(
                # On the account's office's trail; an attempt at no known account names
                # none and goes on the installation's.
                AuditAction.LOGIN_FAILED, org_id=user.org_id if user else None,
                actor_id=user.id if user else None, actor_name=user.full_name if user else "",
                details={"username": username, "reason": reason, "kind": kind,
                         # The code typed, when it named no office (the event then has none).
                         **({"office": normalized_code(office)[:CODE_MAX]}
                            if org is None and office.strip() else {})},
                request_info=info))
        if reason == "office_suspended":
            raise Forbidden(SUSPENDED_MESSAGE, "This office is suspended.",
                            code="office_suspended")
        raise Unauthorized(
            "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง",
            "Wrong office, username or password.",
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
                token_hash=token_digest(token),
                created_at=now,
                expires_at=now + lifetime,
                ip=ip[:64],
                user_agent=user_agent[:300],
            )
        )
        if new_hash:
            user.password_hash = new_hash
        principal = principal_for(session, user, token)
        record(session, Entry(
            AuditAction.LOGIN_SUCCEEDED, org_id=user.org_id, actor_id=user.id,
            actor_name=user.full_name, details={"kind": kind}, request_info=info))
    return principal


def office_must_be_named() -> bool:
    """Whether the sign-in page shows the office field: once there is more than one office
    to sign in to, the platform's own included (its people type ``platform``). Left empty,
    it still means the only tenant, if there is one."""
    return tenant_count(db.session, platform_too=True) > 1


SUSPENDED_MESSAGE = ("หน่วยงานนี้ถูกระงับการใช้งานชั่วคราว ข้อมูลทั้งหมดยังอยู่ครบ "
                     "กรุณาติดต่อผู้ดูแลระบบกลาง")


def revoke(token: str, request_info: RequestInfo | None = None) -> None:
    """End one session or token (logout)."""

    with db.write() as session:
        auth = session.exec(
            select(AuthSession).where(AuthSession.token_hash == token_digest(token))
        ).first()
        if auth is not None and auth.revoked_at is None:
            auth.revoked_at = clock.now()
            user = session.get(User, auth.user_id)
            assert user is not None
            record(session, Entry(
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


def change_password(*, principal: Principal, old_password: str, new_password: str,
                    request_info: RequestInfo | None = None) -> None:
    """Change one's own password (the old one is required); other sessions and tokens end."""

    user = db.session.get(User, principal.user_id)
    if user is None or not verify_password(user.password_hash, old_password):
        raise Unauthorized("รหัสผ่านเดิมไม่ถูกต้อง", "The current password is wrong.",
                           code="bad_old_password")
    check_new_password(new_password, username=user.username)
    new_hash = hash_password(new_password)  # outside the write lock: argon2 is slow on purpose
    with db.write() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        user.password_hash = new_hash
        ended = revoke_all(session, user.id or 0, keep=principal.token)

        expire_links(session, user.id or 0)  # a reset link from before opens nothing now
        record(session, Entry(
            AuditAction.PASSWORD_CHANGED, org_id=user.org_id, actor_id=user.id,
            actor_name=user.full_name, details={"other_sessions_ended": ended},
            request_info=request_info))


def sign_out_everywhere(*, principal: Principal, request_info: RequestInfo | None = None) -> int:
    """End every session and API token of the user, this one included."""

    with db.write() as session:
        user = session.get(User, principal.user_id)
        assert user is not None
        ended = revoke_all(session, principal.user_id)
        record(session, Entry(
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
