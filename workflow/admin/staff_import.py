"""Importing staff from a CSV file: a preview with every error by line, then all or nothing."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from ..errors import Conflict, Invalid
from ..extensions import db
from ..identity.links import issue_invitation
from ..identity.passwords import hash_password
from ..identity.principal import Principal, require_admin
from ..models import AuditAction, AuditEvent, Position, Role, User
from ..outbox.queue import dispatch
from ..thai import thai_digits
from ..trail.chain import RequestInfo
from .changes import record_change
from .people import (
    check_email,
    check_full_name,
    check_roles,
    check_username,
    unguessable_password,
    username_taken,
)
from .positions import check_title

IMPORT_MAX_BYTES = 1024 * 1024


IMPORT_MAX_ROWS = 2000


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
    existing_users = set(session.exec(
        select(User.username).where(User.org_id == principal.org_id)).all())
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
    unusable = "!" + hash_password(unguessable_password())  # until each person sets theirs by email
    invitations: list[int] = []
    try:
        _confirm(principal, preview, unusable, invitations, request_info, digest)
    except IntegrityError:
        raise Conflict("มีผู้เพิ่มชื่อผู้ใช้หรือตำแหน่งเดียวกันระหว่างนี้ ไม่ได้นำเข้าผู้ใดเลย "
                       "กรุณาตรวจสอบไฟล์อีกครั้ง", "A username or position was taken meanwhile; "
                       "nothing was imported.", code="import_conflict") from None
    dispatch(invitations)  # only now are the accounts and their emails saved
    return preview


def _imported_before(org_id: int, digest: str) -> bool:

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
            if username_taken(session, principal.org_id, row.username):
                raise Conflict(f"บรรทัดที่ {thai_digits(row.line)}: "
                               f"มีชื่อผู้ใช้ \"{row.username}\" ในระบบแล้ว "
                               "ไม่ได้นำเข้าผู้ใดเลย", "A username was taken meanwhile; nothing "
                               "was imported.", code="username_taken")
            user = User(org_id=principal.org_id, username=row.username, full_name=row.full_name,
                        email=row.email, roles=row.roles, password_hash=unusable)
            session.add(user)
            session.flush()
            # The invitation is written with the account: all of the import, or none of it.
            invitations.append(issue_invitation(session, user, request_info,
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
