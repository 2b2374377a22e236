"""What a route step is: one position or a group with a rule (``Stage``), and the condition
on the memo under which it applies (``Condition``).

Pure data and functions like ``workflow.routing``, which judges with them (nothing of Flask,
SQLModel or Celery): the service lays a memo's steps with ``Condition.holds`` on the memo's
``Facts``, and the machine never enters a step that does not apply. Amounts are whole
satang, never floats.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

from .errors import Invalid
from .thai import arabic_digits

ALL, ANY, COUNT = "all", "any", "count"
RULE_LABELS = {ALL: "ทุกตำแหน่ง", ANY: "ตำแหน่งใดตำแหน่งหนึ่ง", COUNT: "อย่างน้อย n ตำแหน่ง"}
GROUP_MAX = 20  # members of one step: a group is a few divisions, not the whole staff


def rule_of(need: int | None, members: int) -> str:
    """The rule a step's ``need`` expresses: None (or every member) is all of them, 1 of
    several is any one of them, anything between is n of m."""
    if need is None or need >= members:
        return ALL
    return ANY if need == 1 else COUNT


def rule_label(need: int | None, members: int) -> str:
    """The rule in Thai, for the route editor and the memo page ("" for a step of one)."""
    if members <= 1:
        return ""
    rule = rule_of(need, members)
    if rule == COUNT:
        return f"อย่างน้อย {need} ใน {members} ตำแหน่ง"
    return RULE_LABELS[rule]


@dataclass(frozen=True)
class Stage:
    """One step of a memo's route as the machine sees it: its members (position ids), how many
    of them must approve, which of them have approved in this pass, and whether it applies."""

    members: tuple[int, ...]
    need: int = 1
    decided: frozenset[int] = frozenset()
    applies: bool = True

    @classmethod
    def of(cls, position_id: int) -> Stage:
        return cls((position_id,))

    @classmethod
    def all_of(cls, *members: int) -> Stage:
        return cls(members, len(members))

    @classmethod
    def any_of(cls, *members: int) -> Stage:
        return cls(members, 1)

    @classmethod
    def n_of(cls, need: int, *members: int) -> Stage:
        return cls(members, need)

    def open_to(self, positions: frozenset[int]) -> frozenset[int]:
        """The members ``positions`` may still decide for in this pass."""
        return (frozenset(self.members) - self.decided) & positions

    def approved_by(self, positions: frozenset[int]) -> Stage:
        """The step after ``positions`` approved in it."""
        return replace(self, decided=self.decided | (frozenset(self.members) & positions))

    def met_with(self, positions: frozenset[int]) -> bool:
        """Whether approving for ``positions`` as well meets the step's rule."""
        return len(self.decided | (frozenset(self.members) & positions)) >= self.need


URGENCY_ORDER = ("normal", "urgent", "very_urgent", "most_urgent")
URGENCY_LABELS = {"normal": "ปกติ", "urgent": "ด่วน", "very_urgent": "ด่วนมาก",
                  "most_urgent": "ด่วนที่สุด"}
AMOUNT_MAX_SATANG = 10**15  # ten trillion baht: beyond any office's budget
# What an amount may look like as typed: up to 13 digits of baht (Thai or Arabic), commas
# between them, and up to two decimals. Everything it admits parses (``parse_baht``).
AMOUNT_LENGTH = 30  # 13 digits, 12 commas, the point and two decimals
AMOUNT_PATTERN = r"^[0-9๐-๙](,?[0-9๐-๙]){0,12}(\.[0-9๐-๙]{1,2})?$"
# field -> the comparisons it allows, and their Thai words
CONDITION_OPS = {
    "amount": {"gt": "เกิน", "le": "ไม่เกิน"},
    "urgency": {"ge": "ตั้งแต่", "eq": "เป็น"},
    "memo_type": {"eq": "เป็น", "ne": "ไม่ใช่"},
}
FIELD_LABELS = {"amount": "จำนวนเงิน", "urgency": "ชั้นความเร็ว", "memo_type": "ประเภทหนังสือ"}


@dataclass(frozen=True)
class Facts:
    """What a condition may look at on a memo."""

    memo_type: str = ""
    urgency: str = "normal"
    amount_satang: int | None = None


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def baht_text(satang: int) -> str:
    """100000 baht as "100,000", 1234.5 as "1,234.50"."""
    baht, part = divmod(satang, 100)
    return f"{baht:,}" if not part else f"{baht:,}.{part:02d}"


def parse_baht(text: str) -> int:
    """An amount in baht as typed ("250,000", "๒๕๐,๐๐๐.๕๐") in satang; Invalid if it is no
    amount, negative, has more than two decimals, or is beyond any budget."""
    cleaned = arabic_digits((text or "").strip()).replace(",", "").replace(" ", "")
    if cleaned.endswith("บาท"):
        cleaned = cleaned[:-3]
    problem = Invalid("จำนวนเงินต้องเป็นตัวเลขบาท ไม่ติดลบ ทศนิยมไม่เกิน ๒ ตำแหน่ง "
                      "เช่น 250,000 หรือ 1,500.50",
                      "The amount must be a non-negative number of baht with at most two "
                      "decimals.", code="invalid_amount", details={"field": "amount"})
    if (not cleaned or len(text) > AMOUNT_LENGTH
            or not all(c in "0123456789." for c in cleaned)):
        raise problem
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise problem from None
    satang = value * 100
    if satang != satang.to_integral_value() or satang >= AMOUNT_MAX_SATANG:
        raise problem
    return int(satang)


@dataclass(frozen=True)
class Condition:
    """``field op value``: the amount over or up to a limit (value in satang), the urgency at
    least or exactly a level, the memo's type being or not being a name."""

    field: str
    op: str
    value: str

    @classmethod
    def build(cls, field_: str, op: str, value: str) -> Condition | None:
        """A condition from the editor's three fields (None when the field is empty), or
        Invalid naming what is wrong."""
        if not field_:
            return None
        ops = CONDITION_OPS.get(field_)
        if ops is None or op not in ops:
            raise Invalid("เงื่อนไขของลำดับไม่ถูกต้อง", "Unknown condition.",
                          code="invalid_condition", details={"field": "condition"})
        value = " ".join((value or "").split())
        if field_ == "amount":
            value = str(parse_baht(value))
        elif field_ == "urgency":
            by_label = {label: key for key, label in URGENCY_LABELS.items()}
            value = by_label.get(value, value)
            if value not in URGENCY_ORDER:
                raise Invalid("กรุณาเลือกชั้นความเร็วของเงื่อนไข", "Unknown urgency.",
                              code="invalid_condition", details={"field": "condition"})
        elif not value or len(value) > 200:
            raise Invalid("กรุณาระบุประเภทหนังสือของเงื่อนไข (ไม่เกิน ๒๐๐ ตัวอักษร)",
                          "The memo type of the condition is required.",
                          code="invalid_condition", details={"field": "condition"})
        return cls(field_, op, value)

    def holds(self, facts: Facts) -> bool:
        if self.field == "amount":
            if facts.amount_satang is None:
                raise Invalid(
                    "สายการเสนอนี้พิจารณาตามจำนวนเงิน กรุณาระบุจำนวนเงิน (บาท) ก่อนเสนอ",
                    "The route decides by amount; the memo has no amount.",
                    code="amount_required", details={"field": "amount"})
            limit = int(self.value)
            return facts.amount_satang > limit if self.op == "gt" else facts.amount_satang <= limit
        if self.field == "urgency":
            rank = URGENCY_ORDER.index
            here = facts.urgency if facts.urgency in URGENCY_ORDER else "normal"
            return rank(here) >= rank(self.value) if self.op == "ge" else here == self.value
        same = _fold(facts.memo_type) == _fold(self.value)
        return same if self.op == "eq" else not same

    def describe(self) -> str:
        """In Thai, as the route editor and the memo page say it."""
        word = CONDITION_OPS[self.field][self.op]
        if self.field == "amount":
            return f"{FIELD_LABELS['amount']}{word} {baht_text(int(self.value))} บาท"
        if self.field == "urgency":
            more = " ขึ้นไป" if self.op == "ge" else ""
            return f"{FIELD_LABELS['urgency']}{word}{URGENCY_LABELS[self.value]}{more}"
        return f"{FIELD_LABELS['memo_type']}{word} “{self.value}”"
