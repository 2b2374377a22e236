"""Every HTML form of the app, as ``test_form_fuzz.py`` fuzzes it (issue #15, point 3).

The forms are found, not listed: every rule of the app's url_map that takes POST outside
the JSON API is a form, its WTForms classes are the ones its view function refers to, its
fields are those of an instance of each class, and the names it reads straight from
``request.form`` or ``request.files`` are taken from the view's source. A field added to a
form class later is fuzzed too; a new POST view fails ``test_every_post_form_has_a_case``
until it has a ``FormCase`` here saying who posts it and which values pass.
"""

from __future__ import annotations

import base64
import inspect
import re
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from flask_wtf import FlaskForm
from wtforms import Field

# -- what a form is made of ------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One posted name: its WTForms type ("File" for an upload, "Raw" for a name the view
    reads from ``request.form`` itself) and the choices the class gives it."""

    name: str
    kind: str
    choices: tuple[str, ...] = ()

    @property
    def is_file(self) -> bool:
        return self.kind in ("FileField", "File")


@dataclass(frozen=True)
class FormSpec:
    """One POST rule: its endpoint, the form classes its view reads and all their fields."""

    rule: str
    endpoint: str
    arguments: tuple[str, ...]
    converters: dict[str, Any]
    form_classes: tuple[str, ...]
    fields: tuple[FieldSpec, ...]

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


_READ_NAME = re.compile(r"request\.(form|files)\.(?:get|getlist)\(\s*[\"']([^\"']+)[\"']")


def _choices(form_field: Field) -> tuple[str, ...]:
    choices = getattr(form_field, "choices", None) or []
    values: list[str] = []
    for choice in choices:
        value = choice[0] if isinstance(choice, tuple | list) else getattr(choice, "value", choice)
        values.append(str(value))
    return tuple(values)


def form_classes_of(view: Any) -> list[type[FlaskForm]]:
    """The FlaskForm classes ``view`` reads the request into: those it names, less any it only
    builds with ``formdata=None`` to show stored values, and less the bare ``PostForm``
    when a real form is beside it (that one renders the page's other buttons)."""
    function = inspect.unwrap(view)
    names = inspect.getclosurevars(function)
    source = inspect.getsource(function)
    found: list[type[FlaskForm]] = []
    for value in {**names.globals, **names.nonlocals}.values():
        if not (isinstance(value, type) and issubclass(value, FlaskForm)):
            continue
        calls = re.findall(rf"\b{value.__name__}\(([^)]*)\)", source)
        if calls and all("formdata=None" in call for call in calls):
            continue
        found.append(value)
    if len(found) > 1:
        found = [cls for cls in found if cls.__name__ != "PostForm"]
    return sorted(found, key=lambda cls: cls.__name__)


def form_specs(app: Flask) -> dict[str, FormSpec]:
    """Every POST rule of the app outside ``api.``, by its rule, with the fields it reads."""
    specs: dict[str, FormSpec] = {}
    for rule in app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint.startswith("api."):
            continue
        view = app.view_functions[rule.endpoint]
        classes = form_classes_of(view)
        fields: dict[str, FieldSpec] = {}
        with app.test_request_context("/", method="POST"):
            for cls in classes:
                for form_field in cls(formdata=None):
                    if form_field.name == "csrf_token":
                        continue
                    fields.setdefault(form_field.name, FieldSpec(
                        form_field.name, type(form_field).__name__, _choices(form_field)))
        for where, name in _READ_NAME.findall(inspect.getsource(inspect.unwrap(view))):
            fields.setdefault(name, FieldSpec(name, "File" if where == "files" else "Raw"))
        specs[rule.rule] = FormSpec(
            rule=rule.rule, endpoint=rule.endpoint, arguments=tuple(sorted(rule.arguments)),
            converters=dict(rule._converters),  # noqa: SLF001 - werkzeug keeps them there
            form_classes=tuple(cls.__name__ for cls in classes), fields=tuple(fields.values()))
    return specs


# -- who posts each form, and what passes ----------------------------------------------------


@dataclass(frozen=True)
class T:
    """A value known only once the demo office exists: the id (or token) of a target."""

    name: str


# Path arguments and the target each names.
PATH_TARGETS = {
    "memo_id": "memo", "attachment_id": "attachment", "day_id": "day",
    "notification_id": "notification", "position_id": "position", "route_id": "route",
    "user_id": "user", "appointment_id": "appointment", "org_id": "org", "token": "token",
}

NEW_PASSWORD = "ม้าลายข้ามถนน-๒๕๖๙-Zebra"
VALID_CSV = ("username,full_name,email,position,roles\n"
             "fuzzer1,นายฟัซ ทดสอบ,fuzzer1@example.com,,clerk\n").encode()


@dataclass(frozen=True)
class FormCase:
    """How to post one form: as whom, where its current values are read from (a GET of
    ``page``; "same" is the form's own URL), values that pass (per field, ``T`` for targets),
    which targets to make first, and what else counts as an accepted submit."""

    actor: str | None
    page: str | None = "same"
    valid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    needs: tuple[str, ...] = ()
    accepted_200: str = ""  # a 200 whose body has this is an accepted submit, not a refusal
    refusal_audit: frozenset[str] = frozenset()  # audit actions a refusal still records
    relogin: bool = False  # sign in again before every case (the form may end the session)
    renew: tuple[str, ...] = ()  # targets an accepted submit uses up, made again after it
    paths: dict[str, str] = field(default_factory=dict)  # path argument -> target, if not usual

    def target_of(self, argument: str) -> str:
        """The target a path argument names in this case."""
        return self.paths.get(argument, PATH_TARGETS.get(argument, argument))


def rule_of(key: str) -> str:
    """The URL rule of a case: a rule fuzzed as two people is keyed "rule#who"."""
    return key.split("#", 1)[0]


MEMO_VALID: dict[str, tuple[Any, ...]] = {
    "subject": ("ขออนุมัติจัดซื้อวัสดุสำนักงาน",),
    "addressee": ("นายกองค์การบริหารส่วนตำบลท่าตูม",),
    "urgency": ("normal", "urgent", "very_urgent", "most_urgent"),
    "body": ("<p>ด้วยสำนักปลัดมีความจำเป็นต้องจัดซื้อวัสดุสำนักงาน</p>",),
    "route_id": (T("route"),),
    "memo_type": ("", "จัดซื้อจัดจ้าง"),
    "amount": ("", "250,000", "๑,๕๐๐.๕๐"),
    "intent": ("save", "save", "submit"),
}
PERSON_VALID: dict[str, tuple[Any, ...]] = {
    "username": ("somsri", "fuzz_user"),
    "full_name": ("นางสมศรี ใจดี",),
    "email": ("somsri@example.com",),
    "roles": ("clerk", "signer", ("clerk", "signer")),
    "password": ("", NEW_PASSWORD),
}
ADMIN = "admin"
PLATFORM_ADMIN = "root1"

CASES: dict[str, FormCase] = {
    "/login": FormCase(
        actor=None, valid={"office": ("thatoom", ""), "username": ("clerk", "admin"),
                           "password": ("demo",), "remember": ("y", "")},
        refusal_audit=frozenset({"login_failed"}), relogin=True),
    "/logout": FormCase(actor="clerk", page=None, relogin=True),
    "/password/forgot": FormCase(
        actor=None, valid={"office": ("thatoom", ""), "login": ("clerk", "clerk@example.com")},
        accepted_200="ระบบได้ส่งลิงก์ตั้งรหัสผ่านใหม่"),
    "/password/reset/<token>": FormCase(
        actor=None, needs=("token",), renew=("token",),
        valid={"new_password": (NEW_PASSWORD,), "confirm": (NEW_PASSWORD,)}),
    "/settings": FormCase(actor="clerk", valid={"notify_arrivals": ("y", ""),
                                                "daily_digest": ("y", "")}),
    "/account/password": FormCase(
        actor="clerk", valid={"old_password": ("demo",), "new_password": (NEW_PASSWORD,),
                              "confirm": (NEW_PASSWORD,)}, relogin=True),
    "/account/sign-out-everywhere": FormCase(actor="clerk", page=None, relogin=True),
    "/account/signature": FormCase(actor="clerk", page=None),
    "/account/signature/delete": FormCase(actor="clerk", page=None),
    "/memos/new": FormCase(actor="clerk", valid=MEMO_VALID),
    "/memos/<int:memo_id>/edit": FormCase(actor="clerk", valid={**MEMO_VALID,
                                                                "intent": ("save",)}),
    "/memos/<int:memo_id>/act": FormCase(
        actor="clerk", page="/memos/{memo_id}",
        valid={"action": ("submit", "withdraw", "resubmit", "approve", "send_back", "reject"),
               "comment": ("", "เพื่อโปรดพิจารณา")}),
    "/memos/<int:memo_id>/act#signer": FormCase(
        actor="head", page="/memos/{memo_id}", paths={"memo_id": "pending"}, renew=("pending",),
        valid={"action": ("approve", "send_back", "reject"),
               "comment": ("เห็นควรอนุมัติ", "ขอให้แก้ไขตัวเลขงบประมาณ"),
               "target_step": ("",)}),
    "/memos/approve-many": FormCase(
        actor="head", page=None, renew=("pending",),
        valid={"memo": (T("pending"),), "comment": ("เห็นชอบ", "")}),
    "/memos/<int:memo_id>/edit#returned": FormCase(
        actor="clerk", paths={"memo_id": "returned"}, valid={**MEMO_VALID, "intent": ("save",)}),
    "/memos/<int:memo_id>/circulate": FormCase(
        actor="chief", page="/memos/{memo_id}", paths={"memo_id": "approved"},
        valid={"all_staff": ("y", ""), "position_ids": (T("position"), "")}),
    "/memos/<int:memo_id>/acknowledge": FormCase(
        actor="clerk", page="/memos/{memo_id}", paths={"memo_id": "circulated"},
        valid={"note": ("", "รับทราบ"), "back": ("inbox", "")}),
    "/memos/<int:memo_id>/attachments": FormCase(actor="clerk", page=None),
    "/memos/<int:memo_id>/attachments/<int:attachment_id>/remove": FormCase(
        actor="clerk", page=None, renew=("attachment",)),
    "/admin/office": FormCase(actor=ADMIN, valid={
        "office_opens": ("08:30",), "office_closes": ("16:30",), "escalate_after": ("", "3"),
        "attachments_per_memo": ("", "10"), "storage_quota_mb": ("", "500"),
        "numbering_point": ("approval", "submission")}),
    "/verify": FormCase(actor=None, page=None),
    "/admin/office/seal": FormCase(actor=ADMIN, page=None),
    "/admin/office/garuda": FormCase(actor=ADMIN, page=None),
    "/admin/office/garuda/delete": FormCase(actor=ADMIN, page=None),
    "/admin/office-days": FormCase(actor=ADMIN, valid={
        "day": ("๗/๑๒/๒๕๖๙", "2027-01-04", "1/2/2570"), "kind": ("holiday", "working"),
        "note": ("", "วันหยุดชดเชย")}),
    "/admin/office-days/<int:day_id>/delete": FormCase(actor=ADMIN, page=None,
                                                       renew=("day",)),
    "/admin/outbox/<int:notification_id>/retry": FormCase(actor=ADMIN, page=None,
                                                          renew=("notification",)),
    "/admin/users": FormCase(actor=ADMIN, valid=PERSON_VALID),
    "/admin/users/<int:user_id>": FormCase(actor=ADMIN, valid=PERSON_VALID),
    "/admin/users/<int:user_id>/<any(deactivate, activate):verb>": FormCase(
        actor=ADMIN, page=None),
    "/admin/users/<int:user_id>/invite": FormCase(actor=ADMIN, page=None),
    "/admin/positions": FormCase(actor=ADMIN, valid={
        "title": ("นักวิชาการเงินและบัญชี",), "holder_id": ("", T("user"))}),
    "/admin/positions/<int:position_id>": FormCase(actor=ADMIN, valid={
        "title": ("หัวหน้าสำนักปลัด (ใหม่)",), "holder_id": ("", T("user"))}),
    "/admin/import": FormCase(actor=ADMIN, valid={
        "content": ("", base64.b64encode(VALID_CSV).decode())}),
    "/admin/routes/new": FormCase(actor=ADMIN, needs=("position",), valid={
        "name": ("สายการเสนอเรื่องการเงิน",), "memo_type": ("", "การเงิน"),
        "is_default": ("", "y"), "steps": (T("position"), (T("position"), T("position2")))}),
    "/admin/routes/<int:route_id>": FormCase(actor=ADMIN, needs=("position",), valid={
        "name": ("สายการเสนอปกติ",), "steps": (T("position"), (T("position"), T("position2")))}),
    "/admin/routes/<int:route_id>/<any(retire, restore):verb>": FormCase(actor=ADMIN, page=None),
    "/admin/positions/<int:position_id>/<any(retire, restore):verb>": FormCase(
        actor=ADMIN, page=None),
    "/appointments": FormCase(actor=ADMIN, needs=("position", "deputy"), valid={
        "position_id": (T("position"),), "acting_user_id": (T("deputy"),),
        "capacity": ("acting", "deputizing"), "starts_on": ("๑/๑/๒๕๗๐",),
        "ends_on": ("๓๑/๑/๒๕๗๐",), "order_no": ("๑๒/๒๕๖๙",), "holder_absent": ("y", ""),
        "note": ("", "ลาพักผ่อน")}),
    "/appointments/<int:appointment_id>/end": FormCase(actor=ADMIN, page=None,
                                                       renew=("appointment",)),
    "/platform/": FormCase(actor=PLATFORM_ADMIN, needs=("platform",), valid={
        "code": ("newoffice", "nongbua"), "name": ("องค์การบริหารส่วนตำบลหนองบัว",),
        "admin_username": ("boss",), "admin_full_name": ("นายใหม่ ดูแล",),
        "admin_email": ("boss@nongbua.example",)}),
    "/platform/offices/<int:org_id>/suspend": FormCase(
        actor=PLATFORM_ADMIN, needs=("platform",), page=None),
    "/platform/offices/<int:org_id>/reactivate": FormCase(
        actor=PLATFORM_ADMIN, needs=("platform",), page=None),
}
