"""The first administrator of an office, from the command line."""

from __future__ import annotations

from sqlmodel import col, select

from ..errors import Conflict
from ..extensions import db
from ..identity.passwords import check_new_password, hash_password
from ..models import (
    Organization,
    User,
)


def create_admin(*, username: str, full_name: str, email: str, password: str,
                 office: str) -> User:
    """The first administrator (and, on an empty database, their office)."""

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
