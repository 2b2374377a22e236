"""The tables, as SQLModel families: ``XBase`` (shared fields), ``X`` (the table), and the
request/response shapes the API validates with.

A memo keeps its own copy of its route (``MemoStep`` rows, one per step and
round) so that editing a route never changes a memo already in flight, and
so that reminders and the inbox can index "which step is waiting where".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any
from uuid import uuid4

from pydantic import BaseModel, BeforeValidator, ConfigDict, WithJsonSchema
from pydantic_core import core_schema
from sqlalchemy import BigInteger, ColumnElement, Index, Text, UniqueConstraint, and_, text
from sqlmodel import Field, SQLModel, col

from . import clock, routing
from .dbtypes import UTCDateTime, ValueEnum
from .errors import Invalid
from .steps import AMOUNT_LENGTH, AMOUNT_PATTERN, parse_baht
from .validation import text_pattern, typed_text_problem

SUBJECT_MAX = 300
CODE_MAX = 32  # an office's sign-in code
ADDRESSEE_MAX = 200
UNIT_LINE_MAX = 300
BODY_MAX = 500_000
COMMENT_MAX = 2_000
MEMO_TYPE_MAX = 200
DIVISION_MAX = 100


def _moment(**kwargs: Any) -> Any:
    """A UTC timestamp column that defaults to the clock's now."""
    return Field(default_factory=clock.now, sa_type=UTCDateTime, **kwargs)


class Role(StrEnum):
    CLERK = "clerk"
    SIGNER = "signer"
    ADMIN = "admin"
    AUDITOR = "auditor"
    PLATFORM = "platform"  # runs the installation: creates, suspends and reactivates offices


ROLE_LABELS = {
    Role.CLERK: "เจ้าหน้าที่ธุรการ",
    Role.SIGNER: "ผู้ลงนาม",
    Role.ADMIN: "ผู้ดูแลระบบ",
    Role.AUDITOR: "ผู้ตรวจสอบ",
    Role.PLATFORM: "ผู้ดูแลระบบกลาง",
}
# The roles an office's administrator may give; PLATFORM is given only from the shell
# (``create-platform-admin``), to people of the installation's own office.
OFFICE_ROLES = (Role.CLERK, Role.SIGNER, Role.ADMIN, Role.AUDITOR)


class Urgency(StrEnum):
    """ชั้นความเร็ว: how fast a memo must move."""

    NORMAL = "normal"
    URGENT = "urgent"
    VERY_URGENT = "very_urgent"
    MOST_URGENT = "most_urgent"


URGENCY_LABELS = {
    Urgency.NORMAL: "ปกติ",
    Urgency.URGENT: "ด่วน",
    Urgency.VERY_URGENT: "ด่วนมาก",
    Urgency.MOST_URGENT: "ด่วนที่สุด",
}


class StepStatus(StrEnum):
    WAITING = "waiting"  # not reached yet
    PENDING = "pending"  # the memo is at this step now
    APPROVED = "approved"
    SENT_BACK = "sent_back"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # the memo was withdrawn or sent back before reaching it
    SKIPPED = "skipped"  # the step's condition does not hold for this memo


class OfficeScoped:
    """A table of one office's data, marked by its ``org_id``. While a request acts for an
    office, every ORM query of these tables is limited to that office's rows in one place
    (``db.scope_to_office``), so a query cannot forget the filter."""


class Organization(SQLModel, table=True):
    """An office (ส่วนราชการ) with its own staff, routes and document numbers: one tenant of
    the installation."""

    id: int | None = Field(default=None, primary_key=True)
    # What people type to sign in (``thatoom``): lower-case Latin letters, digits and hyphens.
    code: str = Field(max_length=CODE_MAX, unique=True)
    name: str = Field(max_length=200, unique=True)
    # The installation's own office, where platform administrators sign in; never a tenant.
    is_platform: bool = False
    # A suspended office keeps everything; nobody signs in and nothing is sent until it is
    # reactivated.
    suspended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    unit_line: str = Field(max_length=UNIT_LINE_MAX)  # the ส่วนราชการ line of a memo
    phone: str = Field(default="", max_length=100)
    doc_prefix: str = Field(default="", max_length=50)  # e.g. สป ๓๔๕๐๑
    require_endorsement: bool = True
    thai_digits: bool = True
    # When the register issues the memo's ที่: at final approval (default) or at submission.
    numbering_point: str = Field(default="approval", max_length=20)
    # Office hours ("08:30"/"16:30"); empty means the server's OFFICE_OPENS/OFFICE_CLOSES.
    office_opens: str = Field(default="", max_length=5)
    office_closes: str = Field(default="", max_length=5)
    # Reminder policy per urgency as JSON ({"urgent": {"first": "1d", "repeat": "1d"}, …});
    # empty means the server's REMINDER_POLICY. Escalation after N reminders likewise.
    reminder_policy: str = Field(default="", sa_type=Text)
    escalate_after: int | None = None
    # The Garuda (ครุฑ) printed at the top of the memo: a file under ATTACHMENT_DIR.
    garuda_file: str = Field(default="", max_length=80)
    # Whether a position's holder may appoint their own acting officer (not only an admin).
    holders_may_appoint: bool = False
    # Whether a memo's drafter may circulate it once approved (แจ้งเวียน), not only its final
    # signer.
    drafters_may_circulate: bool = False
    # Limits on attachments; empty means the server's ATTACHMENTS_PER_MEMO and
    # OFFICE_STORAGE_MB.
    attachments_per_memo: int | None = None
    storage_quota_mb: int | None = None
    # A new value whenever the office's own days change (office/calendar.py does it on every
    # flush that touches them), so each process may keep the calendar in memory and still
    # see a holiday declared by another.
    calendar_stamp: str = Field(default_factory=lambda: uuid4().hex, max_length=32)
    created_at: datetime = _moment()


class User(OfficeScoped, SQLModel, table=True):
    """A person who signs in: clerk, signer, admin or auditor (roles combine)."""

    id: int | None = Field(default=None, primary_key=True)
    # Unique within the office, not the installation: every อบต. may have its ``clerk``.
    __table_args__ = (UniqueConstraint("org_id", "username", name="uq_user_org_username"),)

    org_id: int = Field(foreign_key="organization.id", index=True)
    username: str = Field(max_length=64)
    full_name: str = Field(max_length=200)  # with title: นางสาวอิสริย์ ผดุงทศ
    email: str = Field(max_length=254)
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    roles: str = Field(default="clerk", max_length=100)  # space-separated Role values
    notify_arrivals: bool = True  # email when a memo arrives for me
    daily_digest: bool = False  # one morning summary instead of an email per memo
    # An image of the handwritten signature, printed above the name in the blocks this user
    # signed: a file under ATTACHMENT_DIR/signatures, named by its content ("" if none).
    signature_file: str = Field(default="", max_length=80)
    created_at: datetime = _moment()

    def role_set(self) -> frozenset[str]:
        """The user's roles as a set."""
        return frozenset(self.roles.split())


class Position(OfficeScoped, SQLModel, table=True):
    """An office post such as หัวหน้าสำนักปลัด, held by one user at a time."""

    __table_args__ = (UniqueConstraint("org_id", "title"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=200)
    holder_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    # The division (กอง/สำนัก) the post belongs to, as the office writes it ("" if none): a
    # memo may be circulated to everyone holding a post in one division.
    division: str = Field(default="", max_length=DIVISION_MAX)
    # A retired post stays for the memos, routes and appointments that named it, but is no
    # longer offered for new routes, appointments or circulation.
    is_active: bool = True


class Route(OfficeScoped, SQLModel, table=True):
    """A สายการเสนอ: the ordered positions a memo goes up."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id", index=True)
    name: str = Field(max_length=200)
    # The kind of memo the route is for (เรื่องทั่วไป, ขออนุมัติจัดซื้อ …), shown at drafting.
    memo_type: str = Field(default="", max_length=200)
    is_default: bool = False
    # Retired routes stay for the memos that used them, but are no longer offered.
    is_active: bool = True


class RouteStep(OfficeScoped, SQLModel, table=True):
    """One step (ลำดับ) of a route: one position, or a group of positions (``RouteMember``)
    with a rule, and the condition on the memo under which the step applies."""

    __table_args__ = (UniqueConstraint("route_id", "step_no"),)

    id: int | None = Field(default=None, primary_key=True)
    # Its memo's (or route's) office, kept on the row so that office scoping needs no join.
    org_id: int = Field(foreign_key="organization.id")
    route_id: int = Field(foreign_key="route.id")
    step_no: int
    # How many members must approve: None, all of them; 1, any one; n, n of them.
    need: int | None = None
    # The condition (``routing.Condition``); an empty field means the step always applies.
    when_field: str = Field(default="", max_length=20)
    when_op: str = Field(default="", max_length=10)
    when_value: str = Field(default="", max_length=200)


class RouteMember(OfficeScoped, SQLModel, table=True):
    """A position in a route step; a step of one member is a step of one position."""

    __table_args__ = (UniqueConstraint("route_step_id", "position_id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    route_step_id: int = Field(foreign_key="routestep.id", index=True)
    position_id: int = Field(foreign_key="position.id")


class MemoBase(SQLModel):
    """The fields a drafter writes."""

    subject: str = Field(max_length=SUBJECT_MAX)  # เรื่อง
    addressee: str = Field(max_length=ADDRESSEE_MAX)  # เรียน
    # Enums are stored as their values in plain strings: readable in SQL, no DB enum types.
    urgency: Urgency = Field(default=Urgency.NORMAL, sa_type=ValueEnum(Urgency))  # ชั้นความเร็ว
    body: str = Field(default="", sa_column_kwargs={"nullable": False}, sa_type=Text)


class Memo(OfficeScoped, MemoBase, table=True):
    """A บันทึกข้อความ and where it stands on its route."""

    __table_args__ = (
        Index("ix_memo_org_state", "org_id", "state"),
        Index("ix_memo_drafter_updated", "drafter_id", "updated_at", "id"),
        Index("ix_memo_org_number", "org_id", "number"),
        # The office's memos newest first: the auditor's list and searches walk it backwards.
        # It carries the subject (PostgreSQL), so that asking which memos have a word reads
        # the index, not every memo's body (migration 0024).
        Index("ix_memo_org_updated", "org_id", "updated_at", "id",
              postgresql_include=["subject"]),
        # ix_memo_subject_trgm and ix_memo_number_trgm (PostgreSQL only, GIN trigram led by
        # org_id) are made in migrations 0004, 0014 and 0016; ix_memo_number_grams (the
        # number's pieces of one and two characters, for a search that short) in 0026; 0025's
        # ix_memo_number_pairs, which those replaced, is dropped by 0027.
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    route_id: int = Field(foreign_key="route.id")
    drafter_id: int = Field(foreign_key="user.id")
    unit_line: str = Field(max_length=UNIT_LINE_MAX)  # ส่วนราชการ
    number: str | None = Field(default=None, max_length=100)  # ที่, issued by the register
    memo_date: date  # วันที่
    state: str = Field(default="draft", max_length=30)
    round: int = 0  # how many times it has been submitted
    revision: int = 0  # the latest submitted content (MemoVersion); 0 before the first
    version: int = 1  # bumped by every change; a stale form or tab is refused
    created_at: datetime = _moment()
    updated_at: datetime = _moment()
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # What a route's conditions may look at besides the urgency: the kind of memo, and an
    # amount in satang (whole numbers: money is never a float), asked for by such a route.
    memo_type: str = Field(default="", max_length=MEMO_TYPE_MAX)
    amount_satang: int | None = Field(default=None, sa_type=BigInteger)


@dataclass(frozen=True)
class TypedText:
    """Text as the API takes it, in ``Annotated[str, TypedText(...)]``: checked as sent
    (present, one line, not too long; refused in Thai), then trimmed. The same rule goes into
    the OpenAPI document as length and pattern, so the two cannot disagree."""

    label_th: str
    maximum: int
    required: bool
    single_line: bool = True

    def check(self, value: str) -> str:
        problem = typed_text_problem(value, maximum=self.maximum, required=self.required,
                                     single_line=self.single_line)
        if problem == "control_characters":
            raise ValueError(f"{self.label_th}: ต้องเป็นข้อความบรรทัดเดียว ไม่มีอักขระควบคุม")
        if problem == "required":
            raise ValueError(f"{self.label_th}: ต้องกรอก")
        if problem == "too_long":
            raise ValueError(f"{self.label_th}: ยาวเกิน {self.maximum:,} ตัวอักษร")
        return value.strip()

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        return core_schema.no_info_after_validator_function(self.check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        return {"type": "string", "maxLength": self.maximum,
                **({"minLength": 1} if self.required else {}),
                "pattern": text_pattern(required=self.required, single_line=self.single_line)}


SubjectText = Annotated[str, TypedText("เรื่อง", SUBJECT_MAX, required=True)]
AddresseeText = Annotated[str, TypedText("เรียน", ADDRESSEE_MAX, required=True)]
BodyHtml = Annotated[str, TypedText("เนื้อหา", BODY_MAX, required=False, single_line=False)]


MemoTypeText = Annotated[str, TypedText("ประเภทหนังสือ", MEMO_TYPE_MAX, required=False)]


def _satang(value: Any) -> int:
    if not isinstance(value, str):  # a JSON number would be a float: money is typed as text
        raise ValueError('จำนวนเงิน: ต้องเป็นข้อความตัวเลขบาท เช่น "250000" หรือ "1,500.50"')
    try:
        return parse_baht(value)
    except Invalid as problem:
        raise ValueError(f"จำนวนเงิน: {problem.message}") from None


# An amount in baht as typed ("250,000", "๑,๕๐๐.๕๐"), held as whole satang.
AmountBaht = Annotated[int, BeforeValidator(_satang), WithJsonSchema({
    "type": "string", "maxLength": AMOUNT_LENGTH, "pattern": AMOUNT_PATTERN,
    "description": "baht, with at most two decimals: \"250000\", \"1,500.50\""})]

# An id or version in a request: what an INTEGER column holds. A larger number is the
# caller's mistake (422), not the database's overflow (500); "²" or "๑" is no number at all.
RecordId = Annotated[int, Field(ge=1, le=2**31 - 1)]


class MemoCreate(SQLModel):
    """What a drafter sends to create a memo."""

    subject: SubjectText
    addressee: AddresseeText
    urgency: Urgency = Urgency.NORMAL
    body: BodyHtml = ""
    route_id: RecordId | None = None  # the route it goes up; the office's default if omitted
    memo_type: MemoTypeText = ""  # the kind of memo, for a route's conditions
    amount: AmountBaht | None = None  # asked for by a route that decides by amount


class MemoUpdate(SQLModel):
    """A partial edit of a draft or a returned memo."""

    subject: SubjectText | None = None
    addressee: AddresseeText | None = None
    urgency: Urgency | None = None
    body: BodyHtml | None = None
    route_id: RecordId | None = None
    memo_type: MemoTypeText | None = None
    amount: AmountBaht | None = None  # null clears it
    version: RecordId | None = None  # the version the editor started from


class MemoStep(OfficeScoped, SQLModel, table=True):
    """One step of one memo's route in one round (a resubmission starts a new round)."""

    __table_args__ = (
        # A step of a group has a row for each member, each with its own decision, email
        # and reminders.
        UniqueConstraint("memo_id", "round", "step_no", "position_id",
                         name="uq_memostep_memo_round_step_position"),
        Index("ix_memostep_position_status", "position_id", "status"),
        # What waits at a post, oldest first: the inbox's waiting tab reads it alone.
        Index("ix_memostep_waiting", "org_id", "position_id", "arrived_at", "memo_id", "round",
              postgresql_where=text("status = 'pending'"),
              sqlite_where=text("status = 'pending'")),
        Index("ix_memostep_reminder_due", "status", "next_reminder_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Its memo's (or route's) office, kept on the row so that office scoping needs no join.
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int = Field(foreign_key="memo.id")
    round: int
    step_no: int
    position_id: int = Field(foreign_key="position.id")
    position_title: str = Field(max_length=200)  # as it read when the step was laid
    need: int = 1  # approvals that complete the step (its group's rule, as laid)
    condition: str = Field(default="", max_length=300)  # why the step applies, or is skipped
    # Bumped when a signer sends the memo back to this step or an earlier one: its emails
    # of the new pass are new emails, not repeats of the first.
    pass_no: int = 1
    status: StepStatus = Field(default=StepStatus.WAITING, sa_type=ValueEnum(StepStatus))
    arrived_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # read receipt
    reminders_sent: int = 0
    last_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the next reminder falls due, in office time; None once decided or escalated.
    next_reminder_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    @property
    def key(self) -> str:
        """The step in an email's dedupe key: its id, and its pass after the first."""
        return f"{self.id}" if self.pass_no <= 1 else f"{self.id}.{self.pass_no}"


def current_round(memo: Any = None) -> ColumnElement[bool]:
    """The join of a memo (``Memo``, or an alias of it) to its steps of the round under way:
    a resubmitted memo keeps the steps of earlier rounds, which no longer wait for anyone."""
    memo = memo if memo is not None else Memo
    return and_(col(MemoStep.memo_id) == col(memo.id), col(MemoStep.round) == col(memo.round))


def waiting_at(position_ids: Any) -> ColumnElement[bool]:
    """Steps that wait for a decision at any of ``position_ids`` (with ``current_round``, the
    memos waiting there now)."""
    return and_(col(MemoStep.status) == StepStatus.PENDING,
                col(MemoStep.position_id).in_(position_ids))


class Decision(OfficeScoped, SQLModel, table=True):
    """One action on a memo's route, with the endorsement (เกษียน) or reason verbatim.

    Names and titles are copied in, because the record must read as it was
    signed even after a person changes name or a position is renamed.
    """

    __table_args__ = (
        Index("ix_decision_memo", "memo_id", "id"),
        Index("ix_decision_actor", "actor_id", "id"),
        # The decided box's walk: a signer's approvals and refusals only (migration 0023).
        Index("ix_decision_signer", "actor_id", "id",
              postgresql_where=text("action IN ('approve', 'reject', 'send_back')"),
              sqlite_where=text("action IN ('approve', 'reject', 'send_back')")),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Its memo's (or route's) office, kept on the row so that office scoping needs no join.
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int = Field(foreign_key="memo.id")
    memo_step_id: int | None = Field(default=None, foreign_key="memostep.id")
    round: int
    step_no: int | None = None
    action: str = Field(max_length=20)
    actor_id: int = Field(foreign_key="user.id")
    actor_name: str = Field(max_length=200)
    position_id: int | None = Field(default=None, foreign_key="position.id")
    position_title: str = Field(default="", max_length=200)
    comment: str = Field(default="", sa_type=Text)
    # The lines printed under the signer's name, one per line: their own position and,
    # when acting, "รักษาราชการแทน<position>". One signature may cover consecutive steps
    # (step_no … through_step) when the signer answers for each of them.
    signed_as: str = Field(default="", sa_type=Text)
    through_step: int | None = None
    # A JSON snapshot of the acting appointment(s) the decision was taken under.
    appointments: str = Field(default="", sa_type=Text)
    state_before: str = Field(max_length=30)
    state_after: str = Field(max_length=30)
    memo_version: int
    revision: int = 0  # the content version decided on …
    content_hash: str = Field(default="", max_length=64)  # … and its SHA-256
    created_at: datetime = _moment()

    def signature_lines(self) -> list[str]:
        """The lines under the signer's name (older rows knew only the step's title)."""
        return self.signed_as.splitlines() if self.signed_as else [self.position_title]


class AuthSession(SQLModel, table=True):
    """A signed-in browser session or an API token; only a hash of the secret is kept.

    Revoking the row (logout, deactivation, "sign out everywhere") ends it
    on the next request.
    """

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    kind: str = Field(max_length=10)  # web | api
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _moment()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class Capacity(StrEnum):
    """The capacity an appointed officer signs in."""

    ACTING = "acting"  # รักษาราชการแทน: the post is vacant or its holder cannot serve
    DEPUTIZING = "deputizing"  # ปฏิบัติราชการแทน: authority handed down; the holder still serves


CAPACITY_LABELS = {
    Capacity.ACTING: "รักษาราชการแทน",
    Capacity.DEPUTIZING: "ปฏิบัติราชการแทน",
}


class Appointment(OfficeScoped, SQLModel, table=True):
    """An acting appointment: who answers for a position, in which capacity, from when to
    when (office dates, both inclusive), and the order (คำสั่ง) that made it."""

    __table_args__ = (
        Index("ix_appointment_position", "position_id", "ends_on"),
        Index("ix_appointment_acting", "acting_user_id", "ends_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    position_id: int = Field(foreign_key="position.id")
    acting_user_id: int = Field(foreign_key="user.id")
    capacity: Capacity = Field(default=Capacity.ACTING, sa_type=ValueEnum(Capacity))
    starts_on: date
    ends_on: date
    order_no: str = Field(max_length=100)  # คำสั่ง อบต. ที่ ๑๒/๒๕๖๙
    # The holder is away (leave, training): while in force, only the acting officer signs.
    holder_absent: bool = True
    note: str = Field(default="", max_length=300)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = _moment()
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # ended early


class PasswordReset(SQLModel, table=True):
    """A one-time link to set a new password, sent by email; only a hash of it is kept."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = _moment()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=64)


class ActionRequest(SQLModel):
    """An action on a memo's route, as the API receives it."""

    action: str = Field(max_length=20, schema_extra={"json_schema_extra": {
        "enum": list(routing.TRIGGERS)}})  # an unknown one is refused by the route itself
    comment: str = Field(default="", max_length=COMMENT_MAX)
    version: RecordId | None = None  # refuse if the memo has moved on since this version
    # send_back only: an earlier step the memo passed in this round; null sends it to the
    # drafter
    target_step: int | None = Field(default=None, ge=1, le=99)


class StepPublic(SQLModel):
    """One member of one step (a step of one position has one; a group, one per member)."""

    step_no: int
    position_title: str
    holder_name: str
    status: str  # waiting, pending, approved, sent_back, rejected, cancelled, skipped
    opened_at: datetime | None = None
    needs_acting: bool = False  # nobody may decide here today: an acting officer is needed
    need: int = 1  # approvals that complete the step
    members: int = 1  # members of the step
    condition: str = ""  # the condition the step applies under, in Thai; "" always


class DecisionPublic(SQLModel):
    round: int
    revision: int
    content_hash: str
    step_no: int | None
    action: str
    actor_id: int
    actor_name: str
    position_title: str
    signed_as: str = ""  # the lines under the signer's name, newline-separated
    through_step: int | None = None  # one signature for steps step_no … through_step
    comment: str
    state_before: str
    state_after: str
    created_at: datetime


class AttachmentPublic(SQLModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_at: datetime


# A plain pydantic model, not a SQLModel: a list page validates a hundred of them, and
# SQLModel's own __init__ took twice as long (0.64 ms against 0.36 ms for 100).
class MemoSummary(BaseModel):
    """A memo as lists show it."""

    model_config = ConfigDict(from_attributes=True)  # as a SQLModel was: from a Memo too

    id: int
    number: str | None
    memo_date: date
    subject: str
    addressee: str
    urgency: Urgency
    state: str
    state_label: str
    version: int
    current_step: int | None
    drafter_id: int
    drafter_name: str
    updated_at: datetime


class MemoPublic(MemoSummary):
    """A memo as its page and the API show it."""

    unit_line: str
    body: str
    round: int
    revision: int
    created_at: datetime
    submitted_at: datetime | None
    memo_type: str
    amount: str | None  # baht, as "250000" or "1500.50"
    steps: list[StepPublic]
    decisions: list[DecisionPublic]
    attachments: list[AttachmentPublic]
    allowed_actions: list[str]


class NotificationKind(StrEnum):
    ARRIVAL = "arrival"  # a memo waits for the recipient
    REMINDER = "reminder"  # ... and is still waiting
    ESCALATION = "escalation"  # the drafter is told the memo has stalled
    SENT_BACK = "sent_back"
    RETURNED_TO_STEP = "returned_to_step"  # the drafter: a signer sent it back to a step
    STEP_CLOSED = "step_closed"  # a group member: the step closed without them
    REJECTED = "rejected"
    APPROVED = "approved"
    DIGEST = "digest"  # the morning summary
    PASSWORD_RESET = "password_reset"  # a one-time link; its body is blanked once sent
    CIRCULATION = "circulation"  # an approved memo circulated to the recipient (แจ้งเวียน)
    CIRCULATION_REMINDER = "circulation_reminder"  # ... not yet acknowledged


class NotificationStatus(StrEnum):
    PENDING = "pending"  # waiting for a worker (or for its next retry)
    SENDING = "sending"  # claimed by a worker
    SENT = "sent"
    FAILED = "failed"  # gave up after the last retry; an admin may retry
    SKIPPED = "skipped"  # not sent, by the recipient's own settings


class Notification(OfficeScoped, SQLModel, table=True):
    """The outbox: one email to one person, written in the same transaction as its cause.

    ``dedupe_key`` is unique, so the same arrival, the same reminder number of
    the same step, or the same day's digest can never be queued twice, however
    many web processes, beat schedulers or workers race.
    """

    __table_args__ = (
        Index("ix_notification_due", "status", "next_attempt_at"),
        Index("ix_notification_memo", "memo_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int | None = Field(default=None, foreign_key="memo.id")
    memo_step_id: int | None = Field(default=None, foreign_key="memostep.id")
    recipient_id: int = Field(foreign_key="user.id", index=True)
    email: str = Field(max_length=254)
    kind: NotificationKind = Field(sa_type=ValueEnum(NotificationKind))
    reminder_no: int | None = None
    dedupe_key: str = Field(max_length=120, unique=True)
    subject: str = Field(max_length=400)
    body_text: str = Field(sa_type=Text)
    body_html: str = Field(sa_type=Text)
    status: NotificationStatus = Field(default=NotificationStatus.PENDING,
                                       sa_type=ValueEnum(NotificationStatus))
    attempts: int = 0
    last_error: str = Field(default="", max_length=1000)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _moment()


class OfficeDay(OfficeScoped, SQLModel, table=True):
    """An office's own exception to the calendar: an extra holiday or an extra working day."""

    __table_args__ = (UniqueConstraint("org_id", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    day: date
    is_holiday: bool  # True: closed that day; False: open although a weekend or holiday
    note: str = Field(default="", max_length=200)


class AuditAction(StrEnum):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET_REQUESTED = "password_reset_requested"
    PASSWORD_RESET = "password_reset"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    MEMO_CREATED = "memo_created"
    MEMO_EDITED = "memo_edited"
    MEMO_OPENED = "memo_opened"  # a signer's first look at the memo at their step
    MEMO_SUBMITTED = "memo_submitted"
    MEMO_APPROVED = "memo_approved"
    MEMO_SENT_BACK = "memo_sent_back"
    MEMO_RESUBMITTED = "memo_resubmitted"
    MEMO_REJECTED = "memo_rejected"
    MEMO_WITHDRAWN = "memo_withdrawn"
    ATTACHMENT_ADDED = "attachment_added"
    ATTACHMENT_REMOVED = "attachment_removed"
    NOTIFICATION_SENT = "notification_sent"
    NOTIFICATION_FAILED = "notification_failed"
    ADMIN_CHANGE = "admin_change"
    PLATFORM_CHANGE = "platform_change"  # an office created, suspended or reactivated
    MEMO_SEALED = "memo_sealed"  # the final PDF signed with the office seal and stored
    SIGNATURE_IMAGE_SET = "signature_image_set"
    SIGNATURE_IMAGE_REMOVED = "signature_image_removed"
    MEMO_CIRCULATED = "memo_circulated"  # an approved memo sent round for information
    MEMO_ACKNOWLEDGED = "memo_acknowledged"  # a recipient pressed ทราบ


AUDIT_ACTION_LABELS = {
    AuditAction.PLATFORM_CHANGE: "งานของผู้ดูแลระบบกลาง",
    AuditAction.LOGIN_SUCCEEDED: "เข้าสู่ระบบ",
    AuditAction.LOGIN_FAILED: "เข้าสู่ระบบไม่สำเร็จ",
    AuditAction.LOGOUT: "ออกจากระบบ",
    AuditAction.PASSWORD_CHANGED: "เปลี่ยนรหัสผ่าน",
    AuditAction.PASSWORD_RESET_REQUESTED: "ขอตั้งรหัสผ่านใหม่",
    AuditAction.PASSWORD_RESET: "ตั้งรหัสผ่านใหม่ทางอีเมล",
    AuditAction.SIGNED_OUT_EVERYWHERE: "ออกจากระบบทุกเครื่อง",
    AuditAction.MEMO_CREATED: "สร้างบันทึก",
    AuditAction.MEMO_EDITED: "แก้ไขบันทึก",
    AuditAction.MEMO_OPENED: "เปิดอ่านแล้ว",
    AuditAction.MEMO_SUBMITTED: "เสนอ",
    AuditAction.MEMO_APPROVED: "ลงนาม/เห็นชอบ",
    AuditAction.MEMO_SENT_BACK: "ส่งกลับแก้ไข",
    AuditAction.MEMO_RESUBMITTED: "เสนอใหม่",
    AuditAction.MEMO_REJECTED: "ไม่อนุมัติ",
    AuditAction.MEMO_WITHDRAWN: "ถอนเรื่อง",
    AuditAction.ATTACHMENT_ADDED: "แนบไฟล์",
    AuditAction.ATTACHMENT_REMOVED: "ลบไฟล์แนบ",
    AuditAction.NOTIFICATION_SENT: "ส่งอีเมลแล้ว",
    AuditAction.NOTIFICATION_FAILED: "ส่งอีเมลไม่สำเร็จ",
    AuditAction.ADMIN_CHANGE: "ผู้ดูแลระบบแก้ไขข้อมูล",
    AuditAction.MEMO_SEALED: "ประทับตราอิเล็กทรอนิกส์ฉบับสมบูรณ์",
    AuditAction.SIGNATURE_IMAGE_SET: "ตั้งภาพลายมือชื่อ",
    AuditAction.SIGNATURE_IMAGE_REMOVED: "นำภาพลายมือชื่อออก",
    AuditAction.MEMO_CIRCULATED: "แจ้งเวียน",
    AuditAction.MEMO_ACKNOWLEDGED: "รับทราบ (เวียนทราบ)",
}


class AuditEvent(OfficeScoped, SQLModel, table=True):
    """One line of the audit trail. Append-only: PostgreSQL refuses UPDATE and DELETE.

    Each office has its own chain (``chain`` is its id; 0 holds the installation's events
    that name no office, such as a sign-in to an unknown office code). ``seq`` numbers a
    chain's events 1, 2, 3 … without gaps; ``hash`` is SHA-256 of ``prev_hash`` and the
    event's canonical content, so changing, deleting, inserting or reordering any event
    breaks its chain from there on, and verifying one office needs no other's.
    """

    __table_args__ = (
        UniqueConstraint("chain", "seq", name="uq_auditevent_chain_seq"),
        Index("ix_audit_org_seq", "org_id", "seq"),
        Index("ix_audit_memo_seq", "memo_id", "seq"),
        Index("ix_audit_actor_seq", "actor_id", "seq"),
        Index("ix_audit_org_action_seq", "org_id", "action", "seq"),
        Index("ix_audit_org_state_seq", "org_id", "state_after", "seq"),
        Index("ix_audit_org_created", "org_id", "created_at", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chain: int = 0
    seq: int
    created_at: datetime = _moment()
    org_id: int | None = Field(default=None, foreign_key="organization.id")
    actor_id: int | None = Field(default=None, foreign_key="user.id")
    actor_name: str = Field(default="", max_length=200)
    position_title: str = Field(default="", max_length=200)
    action: str = Field(max_length=40)
    memo_id: int | None = Field(default=None, foreign_key="memo.id")
    state_before: str = Field(default="", max_length=30)
    state_after: str = Field(default="", max_length=30)
    text: str = Field(default="", sa_type=Text)  # endorsement or reason, verbatim
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)
    details: str = Field(default="{}", sa_type=Text)  # canonical JSON
    prev_hash: str = Field(max_length=64)
    # The hash of the memo's previous event: a memo's own chain, so that its page can
    # prove none of its events went missing without walking the whole trail.
    memo_prev_hash: str = Field(default="", max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The end of one chain (``id`` is the chain's: the office's id, 0 for the
    installation's), locked only for the instant an event is appended to it: offices do not
    wait for each other."""

    id: int | None = Field(default=None, primary_key=True)
    seq: int = 0
    hash: str = Field(default="0" * 64, max_length=64)
    # Event times never go backwards along the chain, even between servers whose
    # clocks disagree, so that a date range is also a range of seq.
    last_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class NumberingPoint(StrEnum):
    """When a memo gets its ที่ from the register."""

    APPROVAL = "approval"
    SUBMISSION = "submission"


class RegisterCounter(OfficeScoped, SQLModel, table=True):
    """The last number issued in one office's outgoing register (ทะเบียนหนังสือส่ง) for a year.

    Locked while a number is issued, so numbers run without gaps even under
    concurrent approvals; a rolled-back approval rolls its number back too.
    """

    __table_args__ = (UniqueConstraint("org_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    year: int  # Christian year of issue (the register restarts each 1 January)
    last_number: int = 0


class RegisterEntry(OfficeScoped, SQLModel, table=True):
    """One number issued: which memo got it, when, and the subject it bore."""

    __table_args__ = (UniqueConstraint("org_id", "year", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    year: int
    number: int
    memo_id: int = Field(foreign_key="memo.id", unique=True)
    document_number: str = Field(max_length=100)  # as printed: สป ๓๔๕๐๑/๑๗๗
    subject: str = Field(max_length=SUBJECT_MAX)
    issued_at: datetime = _moment()


class MemoVersion(OfficeScoped, SQLModel, table=True):
    """The memo's content as it was submitted: revision 1, and one more per changed resubmission.

    ``content_hash`` is SHA-256 of the canonical content; each decision records the
    hash of the version it was taken on.
    """

    __table_args__ = (UniqueConstraint("memo_id", "revision"),)

    id: int | None = Field(default=None, primary_key=True)
    # Its memo's (or route's) office, kept on the row so that office scoping needs no join.
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int = Field(foreign_key="memo.id")
    revision: int
    subject: str = Field(max_length=SUBJECT_MAX)
    addressee: str = Field(max_length=ADDRESSEE_MAX)
    urgency: Urgency = Field(sa_type=ValueEnum(Urgency))
    body: str = Field(sa_type=Text)
    attachments: str = Field(default="", sa_type=Text)  # SHA-256 of each file, sorted, comma-joined
    content_hash: str = Field(max_length=64)
    created_by_id: int = Field(foreign_key="user.id")
    created_at: datetime = _moment()


class Attachment(OfficeScoped, SQLModel, table=True):
    """สิ่งที่ส่งมาด้วย: a file attached to a memo, stored outside the web root under a
    server-generated name, with the SHA-256 of its bytes."""

    __table_args__ = (Index("ix_attachment_memo", "memo_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    # Its memo's (or route's) office, kept on the row so that office scoping needs no join.
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int = Field(foreign_key="memo.id")
    filename: str = Field(max_length=200)  # as the uploader named it, checked, for display
    stored_name: str = Field(max_length=64, unique=True)
    content_type: str = Field(max_length=120)  # detected from the bytes, not the name
    size: int
    sha256: str = Field(max_length=64)
    uploaded_by_id: int = Field(foreign_key="user.id")
    uploaded_at: datetime = _moment()
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the file of a removed attachment was deleted from disk, after the retention
    # period, once no submitted version of the memo names it.
    purged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OfficeSeal(OfficeScoped, SQLModel, table=True):
    """One signing certificate of an office (its electronic seal) with its private key.

    The key is kept only encrypted (AES-GCM under ``SEAL_KEY`` from the configuration), so a
    dump of the database alone cannot sign. A replaced seal is retired, never deleted: its
    certificate and root stay here, so every PDF it sealed still verifies.
    """

    __table_args__ = (Index("ix_officeseal_org", "org_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    source: str = Field(max_length=20)  # "generated" or "pkcs12"
    subject: str = Field(max_length=500)
    issuer: str = Field(max_length=500)
    not_before: datetime = Field(sa_type=UTCDateTime)
    not_after: datetime = Field(sa_type=UTCDateTime)
    # SHA-256 of the seal certificate's DER: how a signed PDF is matched to its office.
    fingerprint: str = Field(max_length=64, unique=True)
    certificate: str = Field(sa_type=Text)  # PEM
    chain: str = Field(default="", sa_type=Text)  # PEM of the issuers, root last
    root: str = Field(sa_type=Text)  # PEM of the trust anchor readers may download
    root_fingerprint: str = Field(max_length=64)
    encrypted_key: str = Field(sa_type=Text)  # "v1:" + base64(nonce || AES-GCM(PKCS#8 DER))
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _moment()
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class SealedDocument(OfficeScoped, SQLModel, table=True):
    """The approved memo's final PDF, rendered and sealed once; every download serves exactly
    these bytes (a file under ATTACHMENT_DIR, named at random)."""

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int = Field(foreign_key="memo.id", unique=True)
    seal_id: int = Field(foreign_key="officeseal.id")
    revision: int  # the approved version
    stored_name: str = Field(max_length=80, unique=True)
    sha256: str = Field(max_length=64, index=True)
    size: int
    # PAdES baseline level: "B-LT" with revocation data embedded, "B-T" with a TSA, else "B-B"
    level: str = Field(max_length=10)
    sealed_at: datetime = _moment()


class Circulation(OfficeScoped, SQLModel, table=True):
    """แจ้งเวียน: an approved memo sent round to chosen positions, divisions or all staff, for
    their information. A memo may be circulated more than once, each time to people who have
    not had it yet."""

    __table_args__ = (Index("ix_circulation_memo", "memo_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    memo_id: int = Field(foreign_key="memo.id")
    circulated_by_id: int = Field(foreign_key="user.id")
    circulated_by_name: str = Field(max_length=200)  # as it read when circulated
    # What was chosen, as JSON ({"positions": [titles], "divisions": [...], "all_staff": b}):
    # the people it came to are the recipient rows, this says why.
    targets: str = Field(default="{}", sa_type=Text)
    recipient_count: int = 0
    created_at: datetime = _moment()


class CirculationRecipient(OfficeScoped, SQLModel, table=True):
    """One person a memo was circulated to (เวียนทราบ): when they first opened it, when they
    acknowledged it (ทราบ) with an optional note, and their reminders. A person receives a
    memo's circulation once, however many circulations name them."""

    __table_args__ = (
        UniqueConstraint("memo_id", "user_id", name="uq_circulationrecipient_memo_user"),
        # The เวียนทราบ tab and its badge: one person's rows, newest first.
        Index("ix_circulationrecipient_user", "user_id", "id"),
        Index("ix_circulationrecipient_reminder_due", "next_reminder_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    org_id: int = Field(foreign_key="organization.id")
    circulation_id: int = Field(foreign_key="circulation.id")
    memo_id: int = Field(foreign_key="memo.id")
    user_id: int = Field(foreign_key="user.id")
    circulated_at: datetime = _moment()
    opened_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acknowledged_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    note: str = Field(default="", max_length=200)  # the recipient's short note with ทราบ
    reminders_sent: int = 0
    last_reminded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the next reminder falls due, in office time; None once acknowledged or given up.
    next_reminder_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
