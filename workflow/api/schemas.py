"""What the API takes and answers, beyond the memo models of ``workflow.models``.

These pydantic models do three jobs at once, so that they cannot drift apart: they validate
the request (query strings included), they shape the JSON that goes back, and the OpenAPI
document is generated from them (``contract.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
)

from ..circulation.rules import DIVISIONS_MAX, NOTE_MAX, POSITIONS_MAX
from ..memos.bulk import BULK_MAX
from ..memos.lists import BOXES
from ..memos.search import STATES, TEXT_MAX
from ..models import (
    CODE_MAX,
    COMMENT_MAX,
    DIVISION_MAX,
    MemoSummary,
    RecordId,
    TypedText,
    Urgency,
)
from ..validation import ID_MAX

PAGE_MAX = 500  # the longest page any list gives; a larger limit is refused, not clamped

# What Python's ``str.strip()`` removes, which the parsers do before reading a value: in the
# patterns below, so that " 5" is as acceptable in the document as it is to the server.
_SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]*"
# A day as people type it: d/m/yyyy in the Buddhist era (Thai or Arabic digits, "." allowed
# for "/") or an ISO date; empty for no filter.
DAY_PATTERN = (f"^{_SPACE}([0-9๐-๙]{{1,2}}[/.][0-9๐-๙]{{1,2}}[/.][0-9๐-๙]{{4}}"
               f"|[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}})?{_SPACE}$")

# Query parameters that the domain's own parsers read (``workflow.queryargs``), each with its
# Thai refusal and code (bad_date, bad_number, unknown_box …): the model checks their length
# and passes the text on; the document says what the parser accepts.
DayText = Annotated[str, StringConstraints(max_length=40),
                   WithJsonSchema({"type": "string", "maxLength": 40,
                                   "pattern": DAY_PATTERN})]
# A record id as a count typed in Thai or Arabic digits (from 1 to 2**31 - 1, else 422), or
# empty for none.
IdText = Annotated[str, StringConstraints(max_length=20),
                  WithJsonSchema({"type": "string", "maxLength": 20,
                                  "pattern": f"^{_SPACE}[0-9๐-๙]*{_SPACE}$"})]
_DAY = "d/m/yyyy (Buddhist era, Thai or Arabic digits) or yyyy-mm-dd"


class ErrorBody(BaseModel):
    """Every refusal: a machine-readable code, a Thai sentence for the user, and English."""

    error: str = Field(description="machine-readable code, e.g. validation_failed")
    message: str = Field(description="Thai, for the user")
    message_en: str
    details: dict[str, Any] | None = Field(
        default=None, description="per-field messages (fields) or the field at fault (field)")


class Query(BaseModel):
    """Query-string parameters, unknown ones ignored (caches and tools add their own)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    def as_args(self) -> dict[str, str]:
        """The parameters by their names in the URL, for ``workflow.queryargs``."""
        return {k: str(v) for k, v in self.model_dump(by_alias=True).items() if v is not None}


class MemoListQuery(Query):
    box: str = Field(default="inbox", max_length=20,
                     description="inbox: waiting for me; mine; decided; all I may open; "
                                 "circulated: circulated to me (เวียนทราบ), newest first",
                     json_schema_extra={"enum": list(BOXES)})
    # Refused above PAGE_MAX rather than quietly cut, so a client learns the rule.
    limit: int = Field(default=100, ge=1, le=PAGE_MAX, description="page size")
    before: str = Field(default="", max_length=64,
                        description="keyset cursor: next_before of the previous page")
    q: str = Field(default="", max_length=TEXT_MAX,
                   description="words of the subject; searches every memo you may open")
    number: str = Field(default="", max_length=TEXT_MAX,
                        description="document number (ที่), Thai or Arabic digits")
    date_from: DayText = Field(default="", alias="from", description=f"memo date from: {_DAY}")
    date_to: DayText = Field(default="", alias="to", description="memo date to, inclusive")
    state: str = Field(default="", max_length=20, json_schema_extra={"enum": ["", *STATES]})
    drafter: str = Field(default="", max_length=TEXT_MAX,
                         description="part of the drafter's name, or their username")
    urgency: str = Field(default="", max_length=20,
                         json_schema_extra={"enum": ["", *(u.value for u in Urgency)]})


class AuditQuery(Query):
    memo: str = Field(default="", max_length=200,
                      description="ที่ (document number) or words of the subject")
    memo_id: IdText = Field(default="", description="one memo")
    actor: str = Field(default="", max_length=200, description="username or part of the name")
    action: str = Field(default="", max_length=40, description="event type, e.g. memo_approved")
    state: str = Field(default="", max_length=30, description="state after the event")
    date_from: DayText = Field(default="", alias="from", description=f"first day: {_DAY}")
    date_to: DayText = Field(default="", alias="to", description="last day, inclusive")
    before: IdText = Field(default="",
                           description="keyset cursor: next_before of the previous page")
    limit: int = Field(default=50, ge=1, le=PAGE_MAX, description="page size")


class MemoPage(BaseModel):
    box: str
    items: list[MemoSummary]
    next_before: str | None = Field(description="the cursor of the next page; null on the last")


class AuditEventPublic(BaseModel):
    seq: int
    time_utc: datetime
    time_local: datetime
    action: str
    actor_id: int | None
    actor_name: str
    position: str
    memo_id: int | None
    state_before: str
    state_after: str
    text: str
    ip: str
    user_agent: str
    details: dict[str, Any]
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    filter: dict[str, str]
    items: list[AuditEventPublic]
    next_before: int | None


class MemoTrail(BaseModel):
    memo_id: int
    verified: bool
    broken_at: int | None = Field(description="the first event that does not verify")
    reason: str
    reason_en: str
    events: list[AuditEventPublic]


class BulkPick(BaseModel):
    memo_id: int = Field(ge=1, le=ID_MAX)
    version: int | None = Field(default=None, ge=1, le=ID_MAX,
                                description="the version the signer saw; refused if it moved")


class BulkActionRequest(BaseModel):
    action: str = Field(max_length=20, json_schema_extra={"enum": ["approve"]},
                        description="only approve may be taken on many memos at once")
    comment: str = Field(default="", max_length=COMMENT_MAX,
                         description="the one endorsement (เกษียน) every approval carries")
    memos: list[BulkPick] = Field(min_length=1, max_length=BULK_MAX)


class BulkRefusal(BaseModel):
    memo_id: int
    error: str
    message: str
    message_en: str


class BulkResult(BaseModel):
    approved: list[int] = Field(description="approved now, each its own decision and emails")
    refused: list[BulkRefusal] = Field(description="moved meanwhile; left as they are")


class PositionRef(BaseModel):
    id: int
    title: str


class ConditionPublic(BaseModel):
    field: Literal["amount", "urgency", "memo_type"] = Field(
        description="amount (in baht), urgency, or the memo's type")
    op: Literal["gt", "le", "ge", "eq", "ne"] = Field(
        description="amount: gt (over) or le (up to); urgency: ge (at least) or eq; "
                    "memo_type: eq or ne")
    value: str = Field(description="amount in baht (\"100000\"), urgency (normal, urgent, "
                                   "very_urgent, most_urgent), or the memo type")
    description: str = Field(description="the condition in Thai, as the route editor shows it")


class RouteStepPublic(BaseModel):
    step_no: int
    positions: list[PositionRef] = Field(description="one position, or the members of a group")
    rule: Literal["all", "any", "count"] = Field(
        description="how many members must approve: all, any one, or `need` of them")
    need: int = Field(description="approvals that complete the step")
    condition: ConditionPublic | None = Field(
        description="the step applies only when this holds; null: always")


class RoutePublic(BaseModel):
    id: int
    name: str
    memo_type: str = Field(description="the kind of memo the route is for; may be empty")
    is_default: bool
    is_active: bool
    asks_amount: bool = Field(description="a step depends on an amount, which a memo on this "
                                          "route must then give")
    steps: list[RouteStepPublic] = Field(description="the steps a memo goes up, in order")


class RouteList(BaseModel):
    items: list[RoutePublic]


class TokenRequest(BaseModel):
    # The office's code; may be left out while the installation serves one office.
    office: str = Field(default="", max_length=CODE_MAX)
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenUser(BaseModel):
    id: int
    username: str
    full_name: str
    roles: list[str]


class TokenIssued(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
    user: TokenUser


# -- administration: positions and routes (``admin_api.py``) -----------------------------------


DivisionName = Annotated[str, TypedText("กอง/สำนัก", DIVISION_MAX, required=True)]
AcknowledgeNote = Annotated[str, TypedText("หมายเหตุ", NOTE_MAX, required=False)]


class CirculationRequest(BaseModel):
    """Whom to circulate an approved memo to; at least one of the three. Strict: a position id
    is a JSON integer and all_staff a JSON boolean, as the document says."""

    model_config = ConfigDict(strict=True)

    position_ids: list[RecordId] = Field(default_factory=list, max_length=POSITIONS_MAX,
                                         description="positions whose holders receive it")
    divisions: list[DivisionName] = Field(
        default_factory=list, max_length=DIVISIONS_MAX,
        description="divisions (กอง/สำนัก) whose positions' holders receive it")
    all_staff: bool = Field(default=False,
                            description="every active person of the office but the circulator")


class AcknowledgeRequest(BaseModel):
    model_config = ConfigDict(strict=True)

    note: AcknowledgeNote = Field(default="", description="an optional short note with ทราบ")


class RecipientPublic(BaseModel):
    user_id: int
    full_name: str
    positions: str = Field(description="the posts they hold now, comma-separated")
    circulated_at: datetime
    opened_at: datetime | None = Field(description="their first opening of the memo page")
    acknowledged_at: datetime | None = Field(description="when they pressed ทราบ")
    note: str


class CirculationPublic(BaseModel):
    id: int
    memo_id: int
    circulated_by: str
    circulated_at: datetime
    targets: dict[str, Any] = Field(description="the positions, divisions and all_staff chosen")
    recipients: list[RecipientPublic] = Field(description="the people it reached now")
    already: list[int] = Field(description="users chosen who had it already, left out")


class CirculationStatus(BaseModel):
    memo_id: int
    total: int
    acknowledged: int
    recipients: list[RecipientPublic]


class AcknowledgeResult(RecipientPublic):
    acknowledged_now: bool = Field(description="false when it had been acknowledged before")
