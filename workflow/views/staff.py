"""Administration of people, positions, routes and acting appointments.

The services check the admin role and every value; a view turns a refusal into the
form re-rendered with the Thai message (422, 409 …), so nothing typed is lost.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import login_required
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from .. import thai
from ..admin import appointments, people, staff_import
from ..admin import positions as position_admin
from ..admin import routes as route_admin
from ..errors import Invalid, WorkflowError
from ..forms import AppointmentForm, ImportForm, PersonForm, PositionForm, PostForm, RouteForm
from ..identity import acting
from ..identity.principal import require_admin
from ..memos import routes
from ..models import CAPACITY_LABELS
from ..validation import parse_id
from ..web import request_info
from .route_form import CONDITION_CHOICES, Slot, posted_slots, slots_of, spec_of
from .util import principal

bp = Blueprint("staff", __name__)


@dataclass(frozen=True)
class _Refused:
    """Why a form is shown again: the (field, Thai message) of a refusal, and the status."""

    error: tuple[str, str] = ("", "")
    status: int = 200


def _submit(form: FlaskForm, save: Callable[[], str], done: str) -> Response | _Refused:
    """The one shape of every admin form: validate, call the service through ``save``
    (which returns the success message), then redirect to ``done``; a refusal comes back
    with its message beside the form and its status (422, 409 …), the typed values kept."""
    if not form.validate_on_submit():
        return _Refused(status=400 if request.method == "POST" else 200)
    try:
        message = save()
    except WorkflowError as exc:
        return _Refused((str(exc.details.get("field", "")), exc.message), exc.status)
    flash(message, "success")
    return redirect(url_for(done))


@bp.route("/admin")
@login_required
def hub() -> Any:
    """What an administrator looks after, and what needs attention now."""
    me = principal()
    require_admin(me)
    return render_template("admin/hub.html",
                           stranded=acting.unanswered(me.org_id),
                           positions=position_admin.list_positions(me),
                           routes=routes.list_routes(me), people_count=len(people.list_people(me)))


# -- people ------------------------------------------------------------------------


@bp.route("/admin/users", methods=["GET", "POST"])
@login_required
def users() -> Any:
    """Everyone in the office, and a form to add one."""
    me = principal()
    form = PersonForm()

    def save() -> str:
        user = people.create_person(
            principal=me, username=form.username.data or "",
            full_name=form.full_name.data or "", email=form.email.data or "",
            roles=list(form.roles.data or []), password=form.password.data or "",
            request_info=request_info())
        return f"เพิ่มผู้ใช้ {user.full_name} แล้ว" + (
            "" if form.password.data else " และส่งลิงก์ตั้งรหัสผ่านทางอีเมลแล้ว")

    outcome = _submit(form, save, "staff.users")
    if isinstance(outcome, Response):
        return outcome
    return render_template("admin/users.html", rows=people.list_people(me), form=form,
                           error=outcome.error, post=PostForm()), outcome.status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@login_required
def edit_user(user_id: int) -> Any:
    """One person's account: name, email, roles, a new password."""
    me = principal()
    user = people.get_person(me, user_id)
    form = PersonForm(obj=user) if request.method == "GET" else PersonForm()
    if request.method == "GET":
        form.roles.data = user.roles.split()
        form.seen.data = people.person_fingerprint(user)

    def save() -> str:
        people.update_person(principal=me, user_id=user_id,
                             full_name=form.full_name.data or "", email=form.email.data or "",
                             roles=list(form.roles.data or []),
                             password=form.password.data or "", seen=form.seen.data,
                             request_info=request_info())
        return "บันทึกแล้ว"

    outcome = _submit(form, save, "staff.users")
    if isinstance(outcome, Response):
        return outcome
    return render_template("admin/user_edit.html", user=user, form=form, error=outcome.error,
                           post=PostForm()), outcome.status


@bp.route("/admin/users/<int:user_id>/<any(deactivate, activate):verb>", methods=["POST"])
@login_required
def set_active(user_id: int, verb: str) -> Any:
    """Deactivating ends the person's sessions and tokens at once."""
    if not PostForm().validate_on_submit():
        abort(400)
    ended = people.set_active(principal=principal(), user_id=user_id,
                              active=verb == "activate", request_info=request_info())
    if verb == "deactivate":
        flash(f"ระงับบัญชีแล้ว ออกจากระบบทุกเครื่อง {thai.thai_digits(ended)} รายการ "
              "เรื่องที่รอผู้นี้พิจารณาต้องแต่งตั้งผู้รักษาราชการแทน", "success")
    else:
        flash("เปิดใช้บัญชีแล้ว", "success")
    return redirect(url_for("staff.users"))


@bp.route("/admin/users/<int:user_id>/invite", methods=["POST"])
@login_required
def invite(user_id: int) -> Any:
    """Email the person a fresh link to set their password."""
    if not PostForm().validate_on_submit():
        abort(400)
    user = people.get_person(principal(), user_id)
    people.invite(principal(), user_id, request_info())
    flash(f"ส่งลิงก์ตั้งรหัสผ่านไปที่ {user.email} แล้ว", "success")
    return redirect(url_for("staff.edit_user", user_id=user_id))


# -- positions ------------------------------------------------------------------------


def _holder_choices(me: Any, include_none: bool = True) -> list[SelectChoice]:
    rows = [r for r in people.list_people(me) if r.user.is_active]
    choices = [SelectChoice("", "— ว่าง —")] if include_none else []
    return choices + [SelectChoice(str(r.user.id), f"{r.user.full_name} ({r.user.username})")
                      for r in rows]


def _optional_int(value: str | None) -> int | None:
    """A chosen id, or None when nothing was chosen; anything else is refused (422) by the
    one id rule of ``validation.parse_id``."""
    return parse_id(value, field="choice", label="ค่าที่เลือก")


@bp.route("/admin/positions", methods=["GET", "POST"])
@bp.route("/admin/positions/<int:position_id>", methods=["GET", "POST"])
@login_required
def positions(position_id: int | None = None) -> Any:
    """The office's posts and who holds each; a form to add or change one."""
    me = principal()
    rows = position_admin.list_positions(me)
    editing = next((r.position for r in rows if r.position.id == position_id), None)
    if position_id is not None and editing is None:
        abort(404)
    form = PositionForm()
    form.holder_id.choices = _holder_choices(me)
    if request.method == "GET" and editing is not None:
        form.title.data = editing.title
        form.holder_id.data = str(editing.holder_id or "")
        form.division.data = editing.division
        form.seen.data = position_admin.position_fingerprint(editing)

    def save() -> str:
        position_admin.save_position(principal=me, position_id=position_id,
                                     title=form.title.data or "",
                                     holder_id=_optional_int(form.holder_id.data),
                                     division=form.division.data or "",
                                     seen=form.seen.data, request_info=request_info())
        return "บันทึกตำแหน่งแล้ว"

    outcome = _submit(form, save, "staff.positions")
    if isinstance(outcome, Response):
        return outcome
    return render_template("admin/positions.html", rows=rows, form=form, editing=editing,
                           error=outcome.error, post=PostForm()), outcome.status


# -- importing staff ------------------------------------------------------------------------


@bp.route("/admin/import", methods=["GET", "POST"])
@login_required
def import_staff() -> Any:
    """Upload a CSV, see what it would do (or every error with its line), then confirm."""
    me = principal()
    require_admin(me)
    form = ImportForm()
    preview = None
    content = ""
    status = 200
    if form.validate_on_submit():
        if form.content.data:  # step two: the admin confirmed the previewed file
            try:
                data = base64.b64decode(form.content.data, validate=True)
            except (binascii.Error, ValueError):
                abort(400)
            try:
                preview = staff_import.confirm_import(me, data, request_info=request_info())
            except WorkflowError as exc:  # someone took a name meanwhile: nothing imported
                preview = staff_import.ImportPreview(errors=[(0, exc.message)])
            if preview.already_imported:
                flash("ไฟล์นี้นำเข้าไปแล้ว ไม่ได้นำเข้าซ้ำ", "info")
                return redirect(url_for("staff.users"))
            if preview.ok:
                flash(f"นำเข้า {thai.thai_digits(len(preview.rows))} คนแล้ว "
                      "ระบบส่งลิงก์ตั้งรหัสผ่านให้ทุกคนทางอีเมล", "success")
                return redirect(url_for("staff.users"))
            status = 422
        else:
            upload = request.files.get("file")
            if upload is None or not upload.filename:
                form.file.errors = ["กรุณาเลือกไฟล์ CSV"]
                status = 422
            else:
                data = upload.read(staff_import.IMPORT_MAX_BYTES + 1)
                preview = staff_import.preview_import(me, data)
                if preview.ok:
                    content = base64.b64encode(data).decode()
                else:
                    status = 422
    elif request.method == "POST":
        status = 400
    return render_template("admin/import.html", form=form, preview=preview, content=content,
                           columns=staff_import.COLUMNS), status


# -- routes ------------------------------------------------------------------------------------


@bp.route("/admin/routes")
@login_required
def route_list() -> Any:
    """The office's routes."""
    me = principal()
    require_admin(me)
    return render_template("admin/routes.html", rows=routes.list_routes(me), post=PostForm())


@bp.route("/admin/routes/new", methods=["GET", "POST"])
@bp.route("/admin/routes/<int:route_id>", methods=["GET", "POST"])
@login_required
def route_edit(route_id: int | None = None) -> Any:
    """A route as its steps in order: each one position or a group with a rule, each under
    an optional condition."""
    me = principal()
    current = routes.get_route(me, route_id) if route_id is not None else None
    form = RouteForm()
    if request.method == "GET" and current is not None:
        form.name.data = current.route.name
        form.memo_type.data = current.route.memo_type
        form.is_default.data = current.route.is_default
        form.seen.data = route_admin.route_fingerprint(current)
    slots = slots_of(current) if current else []
    if request.method == "POST":
        slots = [slot for slot in posted_slots() if slot.positions or slot.when]
        if not slots:  # the plain form: one position per step, in order (scripts use it)
            slots = [Slot([v]) for v in request.form.getlist("steps")[:routes.MAX_STEPS + 1]
                     if v]

    def save() -> str:
        route_admin.save_route(principal=me, route_id=route_id, name=form.name.data or "",
                               memo_type=form.memo_type.data or "",
                               steps=[spec_of(slot, n) for n, slot in enumerate(slots, start=1)],
                               is_default=bool(form.is_default.data), seen=form.seen.data,
                               request_info=request_info())
        return "บันทึกสายการเสนอแล้ว เรื่องที่เสนอไปแล้วยังคงใช้สายเดิม"

    outcome = _submit(form, save, "staff.route_list")
    if isinstance(outcome, Response):
        return outcome
    positions = position_admin.list_positions(me)
    shown = slots + [Slot([]) for _ in range(max(4 - len(slots), 2))]
    return render_template("admin/route_edit.html", form=form, current=current,
                           slots=shown[:routes.MAX_STEPS], positions=positions,
                           conditions=CONDITION_CHOICES, error=outcome.error), outcome.status


@bp.route("/admin/routes/<int:route_id>/<any(retire, restore):verb>", methods=["POST"])
@login_required
def route_active(route_id: int, verb: str) -> Any:
    """Retire a route, or bring it back."""
    if not PostForm().validate_on_submit():
        abort(400)
    route_admin.set_route_active(principal=principal(), route_id=route_id, active=verb == "restore",
                                 request_info=request_info())
    flash("ยกเลิกการใช้สายการเสนอแล้ว" if verb == "retire" else "นำกลับมาใช้แล้ว", "success")
    return redirect(url_for("staff.route_list"))


@bp.route("/admin/positions/<int:position_id>/<any(retire, restore):verb>", methods=["POST"])
@login_required
def position_active(position_id: int, verb: str) -> Any:
    """Retire a position, or bring it back; a refusal (still in a route, memos waiting) is
    said on the positions page."""
    if not PostForm().validate_on_submit():
        abort(400)
    try:
        position_admin.set_position_active(principal=principal(), position_id=position_id,
                                           active=verb == "restore",
                                           request_info=request_info())
    except WorkflowError as exc:
        if exc.status in (401, 403, 404):  # not theirs: the same refusal as everywhere
            raise
        flash(exc.message, "error")
    else:
        flash("ยกเลิกตำแหน่งแล้ว" if verb == "retire" else "นำตำแหน่งกลับมาใช้แล้ว", "success")
    return redirect(url_for("staff.positions"))


# -- acting appointments ------------------------------------------------------------------------


@bp.route("/appointments", methods=["GET", "POST"])
@login_required
def appointment_list() -> Any:
    """Acting appointments: admins for any position, holders for their own where allowed."""
    me = principal()
    rows = appointments.list_appointments(me)
    manageable = appointments.manageable_positions(me)
    if not me.is_admin and not manageable and not rows:
        abort(403)
    form = AppointmentForm()
    form.position_id.choices = [SelectChoice("", "— เลือกตำแหน่ง —")] + [
        SelectChoice(str(p.id), p.title) for p in manageable]
    form.acting_user_id.choices = [("", "— เลือกผู้ได้รับแต่งตั้ง —"),
                                   *appointments.candidate_choices(me)]

    def save() -> str:
        if not form.position_id.data or not form.acting_user_id.data:
            raise Invalid("กรุณาเลือกตำแหน่งและผู้ได้รับแต่งตั้ง",
                          "Choose the position and the acting officer.",
                          code="choice_required", details={"field": "position_id"})
        appointments.create(
            principal=me, position_id=_optional_int(form.position_id.data) or 0,
            acting_user_id=_optional_int(form.acting_user_id.data) or 0,
            capacity=form.capacity.data or "",
            starts_on=_typed_date(form.starts_on.data, "starts_on", "วันเริ่ม"),
            ends_on=_typed_date(form.ends_on.data, "ends_on", "วันสิ้นสุด"),
            order_no=form.order_no.data or "", holder_absent=bool(form.holder_absent.data),
            note=form.note.data or "", request_info=request_info())
        return "บันทึกคำสั่งแต่งตั้งแล้ว"

    outcome = _submit(form, save, "staff.appointment_list")
    if isinstance(outcome, Response):
        return outcome
    return render_template("admin/appointments.html", rows=rows, form=form, error=outcome.error,
                           post=PostForm(), can_appoint=bool(manageable),
                           STATUS_LABELS=appointments.STATUS_LABELS,
                           CAPACITY_LABELS=CAPACITY_LABELS), outcome.status


def _typed_date(text: str | None, field: str, label: str) -> date:
    """A date typed as ๗/๑๒/๒๕๖๙ (Buddhist era), or refused in Thai beside its field."""
    try:
        return thai.parse_date(text or "")
    except ValueError:
        raise Invalid(f"{label}ไม่ถูกต้อง ตัวอย่าง ๗/๑๒/๒๕๖๙", f"Bad date in {field}.",
                      code="bad_date", details={"field": field}) from None


@bp.route("/appointments/<int:appointment_id>/end", methods=["POST"])
@login_required
def appointment_end(appointment_id: int) -> Any:
    """End an appointment today."""
    if not PostForm().validate_on_submit():
        abort(400)
    appointments.end(principal=principal(), appointment_id=appointment_id,
                     request_info=request_info())
    flash("สิ้นสุดการรักษาราชการแทนแล้ว", "success")
    return redirect(url_for("staff.appointment_list"))

