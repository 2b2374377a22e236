"""People and positions: accounts, who holds which post, and importing staff from CSV.

Every change is the office administrator's, is checked here (not in the view), and is
audited with what it was before and after.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from .. import clock
from ..errors import Conflict, Invalid
from ..extensions import db
from ..models import (
    ROLE_LABELS,
    AuthSession,
    Position,
    Role,
    RouteStep,
    User,
)
from ..thai import thai_digits
from . import notifications, passwords
from .accounts import Principal, check_new_password, hash_password
from .administration import (
    check_unchanged,
    fingerprint,
    office_record,
    one_line,
    record_change,
    require_admin,
)
from .common import RequestInfo

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
NAME_MAX = 200
TITLE_MAX = 200
IMPORT_MAX_BYTES = 1024 * 1024
IMPORT_MAX_ROWS = 2000


# -- checking one person's fields (the form and the CSV import share these) -----------


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
    known = {r.value for r in Role}
    labels = {label: role.value for role, label in ROLE_LABELS.items()}
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


def check_title(value: str) -> str:
    """A position's title, on one line."""
    return one_line(value, label="ชื่อตำแหน่ง", field="title", maximum=TITLE_MAX)


# -- people -----------------------------------------------------------------------------


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


def _username_taken(session: Session, username: str) -> bool:
    return session.exec(select(User.id).where(User.username == username)).first() is not None


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
        _unguessable())
    invitations: list[int] = []
    try:
        with db.write() as session:
            if _username_taken(session, username):
                raise _taken(username)
            user = User(org_id=principal.org_id, username=username, full_name=full_name,
                        email=email, roles=role_text, password_hash=password_hash)
            session.add(user)
            session.flush()
            record_change(session, principal, "user_created", before=None,
                          after=_person_dict(user), request_info=request_info,
                          text=full_name, user_id=user.id)
            if not password:
                invitations.append(passwords.issue_invitation(
                    session, user, request_info, invited_by=principal))
    except IntegrityError:
        raise _taken(username) from None  # another admin took it a moment ago
    notifications.dispatch(invitations)
    return user


def _taken(username: str) -> Conflict:
    return Conflict(f"มีชื่อผู้ใช้ \"{username}\" แล้ว", "That username exists.",
                    code="username_taken", details={"field": "username"})


def _unguessable() -> str:
    return secrets.token_urlsafe(32)


def invite(principal: Principal, user_id: int, request_info: RequestInfo | None) -> None:
    """Email a person of the office a fresh link with which they set their password."""
    passwords.invite(user_id=user_id, invited_by=principal, request_info=request_info)


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
            ended = _end_sessions(session, user_id)  # whoever knew the old one is out
        after = _person_dict(user)
        changed = {k for k in after if after[k] != before[k]}
        # A link mailed to the old (perhaps mistyped) address, or before the new password,
        # must not open the account any more.
        links_ended = passwords.expire_links(session, user_id) if (
            new_hash or "email" in changed) else 0
        if changed or new_hash:
            record_change(session, principal, "user_updated",
                          before={k: before[k] for k in changed},
                          after={k: after[k] for k in changed},
                          request_info=request_info, text=user.full_name, user_id=user_id,
                          password_set=bool(new_hash), sessions_ended=ended,
                          links_ended=links_ended)
        return user


def _end_sessions(session: Session, user_id: int) -> int:
    now = clock.now()
    rows = session.exec(select(AuthSession).where(
        AuthSession.user_id == user_id, col(AuthSession.revoked_at).is_(None))).all()
    for row in rows:
        row.revoked_at = now
    return len(rows)


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
        ended = 0 if active else _end_sessions(session, user_id)
        passwords.expire_links(session, user_id)  # a link from before must not revive it
        record_change(session, principal, "user_activated" if active else "user_deactivated",
                      before={"is_active": not active}, after={"is_active": active},
                      request_info=request_info, text=user.full_name, user_id=user_id,
                      sessions_ended=ended)
        return ended


# -- positions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PositionRow:
    position: Position
    holder_name: str
    holder_active: bool
    in_routes: int


def list_positions(principal: Principal) -> list[PositionRow]:
    require_admin(principal)
    session = db.session
    rows = session.exec(
        select(Position, User)
        .outerjoin(User, User.id == Position.holder_id)  # type: ignore[arg-type]
        .where(Position.org_id == principal.org_id).order_by(col(Position.id))
    ).all()
    used = dict(session.exec(  # type: ignore[call-overload]
        select(RouteStep.position_id, func.count()).group_by(col(RouteStep.position_id))).all())
    return [PositionRow(p, u.full_name if u else "", bool(u and u.is_active),
                        used.get(p.id or 0, 0)) for p, u in rows]


def _position_dict(position: Position) -> dict[str, Any]:
    return {"title": position.title, "holder_id": position.holder_id}


def _title_taken(session: Session, org_id: int, title: str, except_id: int | None = None) -> bool:
    found = session.exec(select(Position.id).where(Position.org_id == org_id,
                                                   Position.title == title)).first()
    return found is not None and found != except_id


def _check_holder(session: Session, principal: Principal, holder_id: int | None) -> None:
    if holder_id is None:
        return
    holder = office_record(session, User, holder_id, principal.org_id)
    if not holder.is_active:
        raise Invalid("ผู้ใช้นี้ถูกระงับ แต่งตั้งให้ดำรงตำแหน่งไม่ได้", "That account is deactivated.",
                      code="user_inactive", details={"field": "holder_id"})


def position_fingerprint(position: Position) -> str:
    """What the edit form carries back to detect a stale tab."""
    return fingerprint(_position_dict(position))


def save_position(*, principal: Principal, position_id: int | None, title: str,
                  holder_id: int | None, seen: str | None = None,
                  request_info: RequestInfo | None = None) -> Position:
    """Create a position, or rename it and change its holder. Memos already on their way keep
    the title they were laid with; the new holder answers for waiting memos at once."""
    require_admin(principal)
    title = check_title(title)
    with db.write() as session:
        if position_id is None:
            position = Position(org_id=principal.org_id, title=title)
            before = None
        else:
            position = office_record(session, Position, position_id, principal.org_id)
            before = _position_dict(position)
            check_unchanged(seen, before)
        if _title_taken(session, principal.org_id, title, position.id):
            raise Conflict(f"มีตำแหน่ง \"{title}\" แล้ว", "That position exists.",
                           code="title_taken", details={"field": "title"})
        _check_holder(session, principal, holder_id)
        position.title, position.holder_id = title, holder_id
        session.add(position)
        session.flush()
        after = _position_dict(position)
        if before != after:
            record_change(session, principal, "position_created" if before is None
                          else "position_updated", before=before, after=after,
                          request_info=request_info, text=title, position_id=position.id)
        return position


# -- importing staff from CSV -------------------------------------------------------------------

# Each column may be headed in English or in Thai.
COLUMNS = {
    "username": ("username", "ชื่อผู้ใช้"),
    "full_name": ("full_name", "ชื่อ-สกุล", "ชื่อ-นามสกุล", "ชื่อ"),
    "email": ("email", "อีเมล", "อีเมล์"),
    "position": ("position", "ตำแหน่ง"),
    "roles": ("roles", "บทบาท"),
}
REQUIRED = ("username", "full_name", "email")


@dataclass
class ImportRow:
    line: int
    username: str
    full_name: str
    email: str
    position: str
    roles: str
    new_position: bool = False


@dataclass
class ImportPreview:
    """What an import would do, or why it cannot: errors name their line in the file."""

    rows: list[ImportRow] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, Thai message)
    already_imported: bool = False  # this very file was imported before (a replayed confirm)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


def _decode(data: bytes, preview: ImportPreview) -> str | None:
    """UTF-8 (with or without Excel's BOM). Anything else is refused, naming the lines that
    are not UTF-8: a Thai CSV saved by Excel as "CSV (Comma delimited)" is Windows-874."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    for number, raw in enumerate(data.splitlines(), start=1):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            guess = ""
            try:
                text = raw.decode("cp874")
                if any("\u0e00" <= ch <= "\u0e7f" for ch in text):
                    guess = " (ดูเหมือนเป็นภาษาไทยแบบ TIS-620/Windows-874)"
            except UnicodeDecodeError:
                pass
            preview.errors.append((number, "บรรทัดนี้ไม่ได้เข้ารหัสแบบ UTF-8" + guess
                                   + " กรุณาบันทึกไฟล์ใหม่เป็น \"CSV UTF-8\""))
    return None


def _header_map(header: list[str], preview: ImportPreview) -> dict[str, int] | None:
    wanted = {alias.strip().lower(): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = wanted.get(name.strip().lower())
        if key is None:
            preview.errors.append((1, f"ไม่รู้จักคอลัมน์ \"{name.strip()[:40]}\" "
                                      "(ใช้ได้: username, full_name, email, position, roles)"))
        elif key in found:
            preview.errors.append((1, f"คอลัมน์ \"{name.strip()}\" ซ้ำ"))
        else:
            found[key] = index
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        preview.errors.append((1, "ขาดคอลัมน์ที่ต้องมี: " + ", ".join(missing)))
    return None if preview.errors else found


def _records(text: str, preview: ImportPreview) -> list[tuple[int, list[str]]] | None:
    """The CSV's records, each with the file line it starts on (a quoted cell may hold a
    line break, so records and lines differ); None, with the error noted, if unreadable."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[tuple[int, list[str]]] = []
    start = 1
    try:
        for record in reader:
            records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as error:
        preview.errors.append((start, f"อ่านบรรทัดนี้ในรูปแบบ CSV ไม่ได้ ({error})"))
        return None
    return records


def preview_import(principal: Principal, data: bytes) -> ImportPreview:
    """Check a staff CSV without saving anything: every problem, each with its line."""
    require_admin(principal)
    preview = ImportPreview()
    if len(data) > IMPORT_MAX_BYTES:
        preview.errors.append((0, "ไฟล์ใหญ่เกิน ๑ MB"))
        return preview
    text = _decode(data, preview)
    if text is None:
        return preview
    records = _records(text, preview)
    if records is None:
        return preview
    if not records or not any(c.strip() for c in records[0][1]):
        preview.errors.append((1, "ไฟล์ว่าง หรือไม่มีแถวหัวตาราง"))
        return preview
    header = records[0][1]
    columns = _header_map(header, preview)
    if columns is None:
        return preview
    if len(records) - 1 > IMPORT_MAX_ROWS:
        preview.errors.append((0, f"นำเข้าได้ครั้งละไม่เกิน {thai_digits(IMPORT_MAX_ROWS)} คน"))
        return preview
    session = db.session
    existing_users = set(session.exec(select(User.username)).all())
    positions = {p.title: p for p in session.exec(
        select(Position).where(Position.org_id == principal.org_id)).all()}
    seen_users: dict[str, int] = {}
    seen_positions: dict[str, int] = {}
    for line, record in records[1:]:
        if not any(c.strip() for c in record):
            continue  # a blank line, as spreadsheets leave at the end
        if len(record) != len(header):
            preview.errors.append((line, f"มี {thai_digits(len(record))} ช่อง "
                                         f"แต่หัวตารางมี {thai_digits(len(header))} ช่อง"))
            continue

        def cell(key: str, record: list[str] = record) -> str:
            return record[columns[key]].strip() if key in columns else ""

        problems: list[str] = []
        values: dict[str, str] = {}
        for key, check in (("username", check_username), ("full_name", check_full_name),
                           ("email", check_email)):
            try:
                values[key] = check(cell(key))
            except Invalid as error:
                problems.append(error.message)
        try:
            roles = check_roles(re.split(r"[\s;,]+", cell("roles")))
        except Invalid as error:
            problems.append(error.message)
            roles = ""
        title = ""
        if cell("position"):
            try:
                title = check_title(cell("position"))
            except Invalid as error:
                problems.append(error.message)
        username = values.get("username", "")
        if username:
            if username in seen_users:
                problems.append(f"ชื่อผู้ใช้ \"{username}\" ซ้ำกับบรรทัดที่ "
                                f"{thai_digits(seen_users[username])}")
            elif username in existing_users:
                problems.append(f"มีชื่อผู้ใช้ \"{username}\" ในระบบแล้ว")
            seen_users.setdefault(username, line)
        if title:
            if title in seen_positions:
                problems.append(f"ตำแหน่ง \"{title}\" ซ้ำกับบรรทัดที่ "
                                f"{thai_digits(seen_positions[title])}")
            elif title in positions and positions[title].holder_id is not None:
                problems.append(f"ตำแหน่ง \"{title}\" มีผู้ดำรงตำแหน่งอยู่แล้ว")
            seen_positions.setdefault(title, line)
        if problems:
            preview.errors.extend((line, p) for p in problems)
            continue
        if title and not cell("roles"):
            roles = Role.SIGNER.value  # whoever holds a post signs in it
        elif title and Role.SIGNER.value not in roles.split():
            roles = f"{roles} {Role.SIGNER.value}"
        preview.rows.append(ImportRow(line, username, values["full_name"], values["email"],
                                      title, roles, new_position=bool(title)
                                      and title not in positions))
    if not preview.rows and not preview.errors:
        preview.errors.append((0, "ไม่มีรายชื่อในไฟล์"))
    return preview


def confirm_import(principal: Principal, data: bytes, *,
                   request_info: RequestInfo | None = None) -> ImportPreview:
    """Import the file the admin previewed: all of it or, if anything is wrong now, none.
    Confirming the same file again (a second click, a resent form) imports nothing and
    says it was done, rather than reporting every name as taken."""
    require_admin(principal)
    digest = hashlib.sha256(data).hexdigest()
    if _imported_before(principal.org_id, digest):
        return ImportPreview(already_imported=True)
    preview = preview_import(principal, data)
    if not preview.ok:
        return preview
    unusable = "!" + hash_password(_unguessable())  # until each person sets theirs by email
    invitations: list[int] = []
    try:
        _confirm(principal, preview, unusable, invitations, request_info, digest)
    except IntegrityError:
        raise Conflict("มีผู้เพิ่มชื่อผู้ใช้หรือตำแหน่งเดียวกันระหว่างนี้ ไม่ได้นำเข้าผู้ใดเลย "
                       "กรุณาตรวจสอบไฟล์อีกครั้ง", "A username or position was taken meanwhile; "
                       "nothing was imported.", code="import_conflict") from None
    notifications.dispatch(invitations)  # only now are the accounts and their emails saved
    return preview


def _imported_before(org_id: int, digest: str) -> bool:
    from ..models import AuditAction, AuditEvent

    needle = f'"file_sha256":"{digest}"'
    return db.session.exec(select(AuditEvent.id).where(
        AuditEvent.org_id == org_id, AuditEvent.action == AuditAction.ADMIN_CHANGE,
        col(AuditEvent.details).contains(needle)).limit(1)).first() is not None


def _confirm(principal: Principal, preview: ImportPreview, unusable: str,
             invitations: list[int], request_info: RequestInfo | None, digest: str) -> None:
    with db.write() as session:
        positions = {p.title: p for p in session.exec(
            select(Position).where(Position.org_id == principal.org_id)).all()}
        for row in preview.rows:
            # Checked again inside the transaction: someone may have taken a name meanwhile.
            if _username_taken(session, row.username):
                raise Conflict(f"บรรทัดที่ {thai_digits(row.line)}: "
                               f"มีชื่อผู้ใช้ \"{row.username}\" ในระบบแล้ว "
                               "ไม่ได้นำเข้าผู้ใดเลย", "A username was taken meanwhile; nothing "
                               "was imported.", code="username_taken")
            user = User(org_id=principal.org_id, username=row.username, full_name=row.full_name,
                        email=row.email, roles=row.roles, password_hash=unusable)
            session.add(user)
            session.flush()
            # The invitation is written with the account: all of the import, or none of it.
            invitations.append(passwords.issue_invitation(session, user, request_info,
                                                          invited_by=principal))
            if row.position:
                position = positions.get(row.position)
                if position is None:
                    position = Position(org_id=principal.org_id, title=row.position)
                    positions[row.position] = position
                elif position.holder_id is not None:
                    raise Conflict(f"บรรทัดที่ {thai_digits(row.line)}: "
                                   "ตำแหน่งนี้มีผู้ดำรงตำแหน่งแล้ว ไม่ได้นำเข้าผู้ใดเลย",
                                   "A position was filled meanwhile; nothing was imported.",
                                   code="position_taken")
                position.holder_id = user.id
                session.add(position)
        session.flush()
        record_change(session, principal, "staff_imported", before=None,
                      after=[{"line": r.line, "username": r.username, "full_name": r.full_name,
                              "email": r.email, "position": r.position, "roles": r.roles}
                             for r in preview.rows],
                      request_info=request_info, text=f"นำเข้ารายชื่อ {len(preview.rows)} คน",
                      file_sha256=digest)
