"""The ``Principal`` every request acts as: the user, their roles, the positions they hold and
the ones they act for today."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam
from sqlalchemy.orm import Bundle, aliased
from sqlmodel import Session, col, select

from .. import clock
from ..db import per_thread, prepared_plans, scope_to_office
from ..errors import Forbidden
from ..extensions import db
from ..models import (
    Appointment,
    AuthSession,
    Organization,
    Position,
    Role,
    User,
)
from ..office.calendar import office_today
from . import acting
from .acting import ActingRole

WEB = "web"


API = "api"


def token_digest(token: str) -> str:
    """The SHA-256 under which a session secret, token or link is stored (never the secret)."""
    return hashlib.sha256(token.encode()).hexdigest()



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
                  today: date | None = None, *,
                  positions: list[Position] | None = None) -> Principal:
    """Build the principal of ``user`` with the positions they hold (``positions``, when the
    caller loaded them already) and the appointments in force today (one more query)."""
    if positions is None:
        positions = list(session.exec(
            select(Position).where(Position.holder_id == user.id).order_by(col(Position.id))
        ).all())
    assert user.id is not None
    held = frozenset(p.id for p in positions if p.id is not None)
    roles, away = acting.roles_and_absences(session, user.id, held, today or office_today())
    return _principal(user, token, positions, roles, away)


def _principal(user: Any, token: str, positions: list[Any], roles: list[ActingRole],
               away: frozenset[int]) -> Principal:
    """From a user and the posts they hold (loaded objects, or the columns of the same
    names)."""
    assert user.id is not None
    return Principal(
        user_id=user.id,
        org_id=user.org_id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=frozenset(user.roles.split()),
        position_ids=frozenset(p.id for p in positions if p.id is not None),
        position_titles=tuple(p.title for p in positions),
        token=token,
        acting=tuple(roles),
        absent_from=away,
    )


def load_principal(token: str, kind: str) -> Principal | None:
    """The principal of a live session or token, or None if revoked, expired or deactivated.
    One query on every request: the session, its user and whether their office is
    suspended, the positions they hold and the appointments in force that concern them (a
    few rows: posts x appointments)."""
    if not token:
        return None
    with prepared_plans(db.session):
        rows = db.session.exec(_principal_statement(), params={
            "token_hash": token_digest(token), "kind": kind, "today": office_today()}).all()
    if not rows:
        return None
    auth, user, suspended_at = rows[0][0], rows[0][1], rows[0][5]
    if (auth.revoked_at is not None or auth.expires_at <= clock.now() or not user.is_active
            or suspended_at is not None):  # a suspended office's sessions stop here
        return None
    positions = list({p.id: p for _, _, p, _, _, _ in rows if p.id is not None}.values())
    concerning = {a.id: (a, title) for _, _, _, a, title, _ in rows if a.id is not None}
    held_now = frozenset(p.id for p in positions if p.id is not None)
    roles, away = acting.read_roles(sorted(concerning.values(), key=lambda r: r[0].id or 0),
                                    user.id or 0, held_now)
    principal = _principal(user, token, positions, roles, away)
    # From here on this request sees its own office's records only; the installation's
    # own administrators run every office and are not limited to one.
    scope_to_office(None if principal.has_role(Role.PLATFORM) else principal.org_id)
    return principal


@per_thread
def _principal_statement() -> Any:
    """The session of ``token_hash`` (of ``kind``) with its user, their office's suspension,
    and one row per post they hold x appointment in force ``today`` that concerns them."""
    held, appointed = aliased(Position, name="held"), aliased(Position, name="appointed")
    held_ids = select(held.id).where(held.holder_id == User.id).correlate(User)
    # Bundles of the columns a principal is made of, not whole rows loaded as objects: a
    # few columns instead of fifty, on every request.
    return (
        select(Bundle("auth", col(AuthSession.revoked_at),  # type: ignore[call-overload]
                      col(AuthSession.expires_at)),
               Bundle("user", col(User.id), col(User.org_id), col(User.username),
                      col(User.full_name), col(User.email), col(User.roles),
                      col(User.is_active)),
               Bundle("post", col(Position.id), col(Position.title)),
               Bundle("appointment", col(Appointment.id), col(Appointment.position_id),
                      col(Appointment.acting_user_id), col(Appointment.holder_absent),
                      col(Appointment.capacity), col(Appointment.order_no),
                      col(Appointment.starts_on), col(Appointment.ends_on)),
               appointed.title, Organization.suspended_at)
        .join(User, User.id == AuthSession.user_id)  # type: ignore[arg-type]
        .join(Organization, Organization.id == User.org_id)  # type: ignore[arg-type]
        .outerjoin(Position, Position.holder_id == User.id)  # type: ignore[arg-type]
        .outerjoin(Appointment, acting.concerning(User.id, held_ids,
                                                  bindparam("today", type_=Date)))
        .outerjoin(appointed, appointed.id == Appointment.position_id)  # type: ignore[arg-type]
        .where(col(AuthSession.token_hash) == bindparam("token_hash"),
               col(AuthSession.kind) == bindparam("kind"))
        .order_by(col(Position.id), col(Appointment.id))
    )


def require_admin(principal: Principal) -> None:
    """Refuse (403) anyone but an administrator of their own office."""
    if not principal.is_admin:
        raise Forbidden("เฉพาะผู้ดูแลระบบเท่านั้น", "Administrators only.", code="admin_only")
