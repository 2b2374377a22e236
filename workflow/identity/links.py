"""Setting a password through a one-time emailed link: a reset, or a new colleague's invitation.

A link carries a random secret; only its SHA-256 is stored, so a copy of the database
does not open anyone's account. The email goes out through the outbox like every other
notification, and the worker blanks its body once it is sent so the live link does not
linger there either.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from sqlalchemy import func, or_, update
from sqlmodel import Session, col, select

from .. import clock, thai
from ..errors import Invalid
from ..extensions import db
from ..models import (
    AuditAction,
    Notification,
    NotificationKind,
    Organization,
    PasswordReset,
    User,
)
from ..office.tenants import office_for_sign_in
from ..outbox.queue import dispatch, enqueue
from ..trail.chain import Entry, RequestInfo, record
from .passwords import check_new_password, hash_password
from .principal import Principal, token_digest
from .revocation import expire_open_links, revoke_all

_LOGGER = logging.getLogger(__name__)


LOGIN_MAX = 254  # the longest email address; usernames are shorter


TOKEN_MAX = 200  # token_urlsafe(32) is 43 characters; anything much longer is not ours


def request_reset(*, login: str, office: str = "",
                  request_info: RequestInfo | None = None) -> None:
    """Email a one-time link to the active account whose username or email is ``login``,
    in ``office`` (its code; a username means nothing without its office, an email
    address alone is looked up in every office).

    The caller learns nothing: an unknown or inactive login returns exactly as a known
    one does, and writes an audit event too, so both take a write transaction.
    """

    login = login.strip()[:LOGIN_MAX]
    key = login.lower()
    info = request_info or RequestInfo()
    minutes = int(current_app.config.get("PASSWORD_RESET_MINUTES", 30))
    queued: list[int] = []
    with db.write() as session:
        now = clock.now()
        org = office_for_sign_in(session, office)
        matches = (or_(col(User.username) == key, func.lower(User.email) == key) if org
                   else func.lower(User.email) == key)
        in_office = [col(User.org_id) == org.id] if org else []
        users = list(session.exec(
            select(User).where(matches, *in_office).order_by(col(User.id))
        ).all()) if key else []
        active = [u for u in users if u.is_active][:5]
        for user in active:
            queued.append(_issue(session, user, now=now, minutes=minutes, info=info))
        if not active:
            outcome = "inactive" if users else "unknown"
            first = users[0] if users else None
            record(session, Entry(
                AuditAction.PASSWORD_RESET_REQUESTED, org_id=first.org_id if first else None,
                actor_id=first.id if first else None,
                actor_name=first.full_name if first else "",
                details={"login": login, "outcome": outcome}, request_info=info))
    _LOGGER.info("password reset asked for %r: %d link(s) queued", login, len(queued))
    dispatch(queued)


def issue_invitation(session: Session, user: User,
                     request_info: RequestInfo | None = None, *,
                     invited_by: Principal | None = None) -> int:
    """Write, in the caller's transaction, a link to set a first password and its email.
    It lasts INVITATION_DAYS (7): a new colleague may not read their mail within the half
    hour a reset link lasts. Returns the email's id, to dispatch after commit."""
    days = int(current_app.config.get("INVITATION_DAYS", 7))
    return _issue(session, user, now=clock.now(), minutes=days * 24 * 60,
                  info=request_info or RequestInfo(), invitation=True, by=invited_by)


def _issue(session: Session, user: User, *, now: datetime, minutes: int,
           info: RequestInfo, invitation: bool = False, by: Principal | None = None) -> int:
    """Write one reset, its email in the outbox and its audit event; return the email's id."""

    assert user.id is not None
    # Only the newest link works: the ones sent before it expire now. A "forgot password"
    # asked by anyone must not cut short a new colleague's week-long invitation, though.
    expire_open_links(session, user.id, now,
                      only_before=None if invitation else now + timedelta(minutes=minutes))
    token = secrets.token_urlsafe(32)
    reset = PasswordReset(user_id=user.id, token_hash=token_digest(token),
                          created_at=now, expires_at=now + timedelta(minutes=minutes),
                          ip=info.ip[:64])
    session.add(reset)
    session.flush()
    org = session.get(Organization, user.org_id)
    org_name = org.name if org else ""
    values = {
        "recipient_name": user.full_name,
        "username": user.username,
        "office_code": org.code if org else "",
        "link": f"{current_app.config['BASE_URL'].rstrip('/')}/password/reset/{token}",
        "minutes": thai.thai_digits(minutes),
        "expires": thai.format_datetime(reset.expires_at, tz=current_app.config["TIMEZONE"]),
        "org_name": org_name,
        "invitation": invitation,
        "duration": (f"{thai.thai_digits(minutes // 1440)} วัน" if minutes >= 1440
                     else f"{thai.thai_digits(minutes)} นาที"),
    }
    subject = (f"เชิญตั้งรหัสผ่านเข้าใช้ระบบสารบรรณ {org_name}" if invitation
               else f"ตั้งรหัสผ่านใหม่ ระบบสารบรรณ {org_name}").strip()
    row = Notification(
        org_id=user.org_id, memo_id=None, recipient_id=user.id, email=user.email,
        kind=NotificationKind.PASSWORD_RESET, dedupe_key=f"password_reset:{reset.id}",
        subject=subject[:400],
        body_text=render_template("email/password_reset.txt", **values),
        body_html=render_template("email/password_reset.html", **values),
    )
    enqueue(session, row)  # its dedupe key is the new reset's id: never a duplicate
    session.flush()
    assert row.id is not None
    # Who asked: the person themselves ("forgot password"), or the admin who invited them.
    record(session, Entry(
        AuditAction.PASSWORD_RESET_REQUESTED, org_id=user.org_id,
        actor_id=by.user_id if by else user.id, actor_name=by.full_name if by else user.full_name,
        details={"outcome": "sent", "reset_id": reset.id, "notification_id": row.id,
                 "expires_at": reset.expires_at.isoformat(), "invitation": invitation,
                 "for_user_id": user.id, "for_username": user.username},
        request_info=info))
    return row.id


@dataclass(frozen=True)
class ResetTicket:
    """A reset link that may still be used, and whose account it opens."""

    reset_id: int
    user_id: int
    username: str
    full_name: str
    expires_at: datetime


def _link_invalid() -> Invalid:
    return Invalid(
        "ลิงก์ตั้งรหัสผ่านใหม่นี้ใช้ไม่ได้ อาจไม่ถูกต้อง หมดอายุ หรือถูกใช้ไปแล้ว กรุณาขอลิงก์ใหม่",
        "This password reset link is invalid, expired or already used; ask for a new one.",
        code="reset_link_invalid",
    )


def check_reset_token(token: str) -> ResetTicket:
    """The reset behind ``token`` if it is unused, unexpired and its account active."""

    if not token or len(token) > TOKEN_MAX:
        raise _link_invalid()
    row = db.session.exec(
        select(PasswordReset, User)
        .join(User, User.id == PasswordReset.user_id)  # type: ignore[arg-type]
        .where(PasswordReset.token_hash == token_digest(token))
    ).first()
    if row is None:
        raise _link_invalid()
    reset, user = row
    if reset.used_at is not None or reset.expires_at <= clock.now() or not user.is_active:
        raise _link_invalid()
    assert reset.id is not None and user.id is not None
    return ResetTicket(reset.id, user.id, user.username, user.full_name, reset.expires_at)


def reset_password(*, token: str, new_password: str,
                   request_info: RequestInfo | None = None) -> None:
    """Set a new password through a reset link (once); every session and API token ends."""

    ticket = check_reset_token(token)
    check_new_password(new_password, username=ticket.username)
    new_hash = hash_password(new_password)  # outside the write lock: argon2 is slow
    with db.write() as session:
        now = clock.now()
        # The conditional update is the single use: of two requests racing with the same
        # link, the second finds used_at set (PostgreSQL re-checks the row after the first
        # commits; SQLite's BEGIN IMMEDIATE queues them) and changes nothing.
        claimed = session.exec(  # type: ignore[call-overload]
            update(PasswordReset)
            .where(col(PasswordReset.id) == ticket.reset_id,
                   col(PasswordReset.used_at).is_(None),
                   col(PasswordReset.expires_at) > now)
            .values(used_at=now)
        )
        user = session.get(User, ticket.user_id)
        if claimed.rowcount != 1 or user is None or not user.is_active:
            raise _link_invalid()
        user.password_hash = new_hash
        expire_open_links(session, ticket.user_id, now)
        ended = revoke_all(session, ticket.user_id)
        record(session, Entry(
            AuditAction.PASSWORD_RESET, org_id=user.org_id, actor_id=user.id,
            actor_name=user.full_name,
            details={"reset_id": ticket.reset_id, "sessions_ended": ended},
            request_info=request_info))
    _LOGGER.info("password of user %s reset by email link; %d session(s) ended",
                 ticket.user_id, ended)
