"""Ending what opens an account: its sessions, API tokens and emailed links.

Called when a password changes, an account is deactivated or its email changes, or a
link is used: whoever held the old key is out at once, in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from .. import clock
from ..models import AuthSession, PasswordReset
from .principal import token_digest


def revoke_all(session: Session, user_id: int, keep: str = "") -> int:
    """End every live browser session and API token of the user (but ``keep``, the secret of
    the one making the change), in the caller's transaction; return how many."""
    now = clock.now()
    rows = session.exec(select(AuthSession).where(
        AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))).all()
    ended = 0
    for row in rows:
        if keep and row.token_hash == token_digest(keep):
            continue
        row.revoked_at = now
        ended += 1
    return ended


def expire_open_links(session: Session, user_id: int, now: datetime,
                      only_before: datetime | None = None) -> int:
    """Expire the account's unused links (those expiring by ``only_before``, if given)."""
    query = (update(PasswordReset)
             .where(col(PasswordReset.user_id) == user_id, col(PasswordReset.used_at).is_(None),
                    col(PasswordReset.expires_at) > now))
    if only_before is not None:
        query = query.where(col(PasswordReset.expires_at) <= only_before)
    expired = session.exec(query.values(expires_at=now))  # type: ignore[call-overload]
    return int(expired.rowcount or 0)


def expire_links(session: Session, user_id: int) -> int:
    """End every open reset or invitation link of an account, in the caller's transaction:
    called when its email or password changes or it is (de)activated, so that a link sent to
    an old or mistyped address, or before a password change, opens nothing. Returns how many."""
    return expire_open_links(session, user_id, clock.now())
