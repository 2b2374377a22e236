"""What the administrators' API takes and answers: positions, and routes with their steps,
groups and conditions (``admin_api.py``). The checks of substance are the services' (in
``workflow.admin``); these shapes bound sizes and types and document them."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from ..admin.positions import TITLE_MAX
from ..memos.routes import MAX_STEPS, NAME_MAX
from ..models import DIVISION_MAX, RecordId, TypedText
from ..steps import ALL, ANY, CONDITION_OPS, COUNT, GROUP_MAX, URGENCY_ORDER


class PositionPublic(BaseModel):
    id: int
    title: str
    holder_id: int | None = Field(description="the user who holds it; null: vacant")
    holder_name: str = Field(description="the holder's full name; empty when vacant")
    holder_active: bool = Field(description="false when vacant or the holder is deactivated")
    division: str = Field(description="the division (กอง/สำนัก) it belongs to; may be empty")
    is_active: bool = Field(description="false once retired: kept for the records that name "
                                        "it, no longer offered for routes, appointments or "
                                        "circulation")
    in_routes: int = Field(description="how many routes (retired ones included) have it in a "
                                       "step")


class PositionList(BaseModel):
    items: list[PositionPublic]


class _Strict(BaseModel):
    """A request body read as sent: no "true" for true, no "5" or 5.0 for 5."""

    model_config = ConfigDict(strict=True)


class PositionCreate(_Strict):
    title: Annotated[str, TypedText("ชื่อตำแหน่ง", TITLE_MAX, required=True)] = Field(
        description="unique in the office, e.g. ผู้อำนวยการกองคลัง")
    holder_id: RecordId | None = Field(default=None, description="a user of the office; "
                                                                 "null or left out: vacant")
    division: Annotated[str, TypedText("กอง/สำนัก", DIVISION_MAX, required=False)] = Field(
        default="", description="the division (กอง/สำนัก) it belongs to, for circulation")


class PositionUpdate(_Strict):
    title: Annotated[str, TypedText("ชื่อตำแหน่ง", TITLE_MAX, required=True)] = Field(
        description="unique in the office; memos on their way keep the title they were laid "
                    "with")
    holder_id: RecordId | None = Field(description="the new holder, who answers for the "
                                                   "memos waiting at the post at once; null: "
                                                   "vacant")
    division: Annotated[str, TypedText("กอง/สำนัก", DIVISION_MAX, required=False)] | None = Field(
        default=None, description="the division; left out or null: unchanged")
    is_active: bool | None = Field(
        default=None, description="false retires the position (refused while a route in use "
                                  "names it or a memo waits at it), true restores it; left out "
                                  "or null: unchanged")


def _at_most(count: int) -> Any:
    """Read at most ``count`` items of a list: one past the limit is enough for the service
    to refuse the list in its own words ("at most 12 steps"), and no more work is done on a
    longer one. The document states the limit itself."""
    return BeforeValidator(lambda value: value[:count] if isinstance(value, list) else value)


class ConditionWrite(_Strict):
    """When a step applies. Which ``op`` fits which ``field``, and the ``value``, are checked
    by the route service, which names the step at fault."""

    field: str = Field(min_length=1, max_length=20, json_schema_extra={
        "enum": [name for name in CONDITION_OPS]},
        description="amount (in baht), urgency, or memo_type")
    op: str = Field(max_length=10, json_schema_extra={
        "enum": [op for op in sorted({o for ops in CONDITION_OPS.values() for o in ops})]},
        description="amount: gt (over) or le (up to); urgency: ge (at least) or eq; "
                    "memo_type: eq or ne")
    value: str = Field(max_length=NAME_MAX, json_schema_extra={"minLength": 1}, description=(
        "amount: baht as typed, \"100000\" or \"1,500.50\"; urgency: one of "
        f"{', '.join(URGENCY_ORDER)}; memo_type: the type's name"))


class RouteStepWrite(_Strict):
    positions: Annotated[list[RecordId], _at_most(GROUP_MAX + 1)] = Field(
        json_schema_extra={"minItems": 1, "maxItems": GROUP_MAX, "uniqueItems": True},
        description="position ids: one, or the members of a group; a position may appear "
                    "only once in a route")
    rule: str = Field(default=ALL, max_length=10, json_schema_extra={"enum": [ALL, ANY, COUNT]},
                      description="for a group: all must approve, any one, or `need` of them "
                                  "(count)")
    need: int | None = Field(default=None, description="with rule count: how many must "
                                                       "approve, from 1 to the number of "
                                                       "positions; ignored otherwise")
    condition: ConditionWrite | None = Field(default=None, description="the step applies only "
                                                                       "when this holds; null "
                                                                       "or left out: always")


def _steps() -> Any:
    return Field(json_schema_extra={"minItems": 1, "maxItems": MAX_STEPS},
                 description="the steps a memo goes up, in order")


_NAME = TypedText("ชื่อสายการเสนอ", NAME_MAX, required=True)
_MEMO_TYPE = TypedText("ประเภทหนังสือ", NAME_MAX, required=False)


class RouteCreate(_Strict):
    name: Annotated[str, _NAME]
    memo_type: Annotated[str, _MEMO_TYPE] = Field(
        default="", description="the kind of memo the route is for; may be empty")
    is_default: bool = Field(default=False, description="offered first at drafting; the "
                                                        "office's former default stops being it")
    steps: Annotated[list[RouteStepWrite], _at_most(MAX_STEPS + 1)] = _steps()


class RouteUpdate(_Strict):
    """The whole route as it is to be (memos already on their way keep their own copy)."""

    name: Annotated[str, _NAME]
    memo_type: Annotated[str, _MEMO_TYPE] = Field(
        description="the kind of memo the route is for; may be empty")
    is_default: bool = Field(description="true makes it the office's default (and active); "
                                         "the default stays the default until another route "
                                         "is made it, so false on it is refused (409)")
    is_active: bool = Field(description="false retires the route (no longer offered at "
                                        "drafting), true restores it")
    steps: Annotated[list[RouteStepWrite], _at_most(MAX_STEPS + 1)] = _steps()



# -- circulation (แจ้งเวียน) -------------------------------------------------------------------
