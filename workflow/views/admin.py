"""Administration pages. Each service checks the admin role itself; the view only renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import login_required
from werkzeug.wrappers import Response

from .. import thai
from ..admin import garuda as garuda_admin
from ..admin import office_days as days_admin
from ..admin import office_settings as settings_admin
from ..admin import outbox_admin
from ..admin import seal as seal_admin
from ..errors import Conflict, Invalid
from ..forms import OfficeDayForm, OfficeSettingsForm, PostForm
from ..models import URGENCY_LABELS, NotificationStatus
from ..web import request_info
from .util import principal

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/outbox")
@login_required
def outbox() -> Any:
    """Every email the office has queued: pending, sent, failed (with retry)."""
    status = request.args.get("status") or None
    if status not in {None, *NotificationStatus}:
        status = None
    rows = outbox_admin.outbox(principal(), status)
    return render_template("admin/outbox.html", rows=rows, status=status, form=PostForm(),
                           statuses=list(NotificationStatus))


@bp.route("/outbox/<int:notification_id>/retry", methods=["POST"])
@login_required
def retry(notification_id: int) -> Any:
    """Send a failed email again."""
    form = PostForm()
    if form.validate_on_submit():
        outbox_admin.retry(notification_id=notification_id,
                           principal=principal())
        flash("นำกลับเข้าคิวส่งใหม่แล้ว", "success")
    return redirect(url_for("admin.outbox", status="failed"))


@bp.route("/office-days", methods=["GET", "POST"])
@login_required
def office_days() -> Any:
    """The office's extra holidays and extra working days, which office time respects."""
    form = OfficeDayForm()
    status = 200
    if form.validate_on_submit():
        try:
            day = thai.parse_date(form.day.data or "")
        except ValueError:
            form.day.errors = ["วันที่ไม่ถูกต้อง ตัวอย่าง ๗/๑๒/๒๕๖๙"]
            status = 422
        else:
            days_admin.add_day(principal=principal(), day=day,
                               is_holiday=form.kind.data == "holiday", note=form.note.data or "",
                               request_info=request_info())
            flash("เพิ่มวันแล้ว", "success")
            return redirect(url_for("admin.office_days"))
    elif request.method == "POST":
        status = 422
    days = days_admin.list_days(principal())
    return render_template("admin/office_days.html", form=form, days=days,
                           delete_form=PostForm()), status


@bp.route("/office-days/<int:day_id>/delete", methods=["POST"])
@login_required
def delete_office_day(day_id: int) -> Any:
    """Remove one exception."""
    if PostForm().validate_on_submit():
        days_admin.remove_day(principal=principal(), day_id=day_id,
                              request_info=request_info())
        flash("ลบแล้ว", "success")
    return redirect(url_for("admin.office_days"))


def _settings_data(current: settings_admin.OfficeSettings) -> dict[str, Any]:
    """The form's values from what is stored ("" where the server's default applies)."""
    org = current.org
    data: dict[str, Any] = {
        "name": org.name, "unit_line": org.unit_line, "phone": org.phone,
        "doc_prefix": org.doc_prefix, "arabic_digits": not org.thai_digits,
        "numbering_point": org.numbering_point, "require_endorsement": org.require_endorsement,
        "office_opens": org.office_opens, "office_closes": org.office_closes,
        "escalate_after": "" if org.escalate_after is None else str(org.escalate_after),
        "attachments_per_memo": ("" if org.attachments_per_memo is None
                                 else str(org.attachments_per_memo)),
        "storage_quota_mb": "" if org.storage_quota_mb is None else str(org.storage_quota_mb),
        "holders_may_appoint": org.holders_may_appoint,
        "drafters_may_circulate": org.drafters_may_circulate,
        "seen": settings_admin.settings_fingerprint(org),
    }
    for urgency in URGENCY_LABELS:
        for key in settings_admin.REMINDER_KEYS:
            data[OfficeSettingsForm.reminder_field(urgency, key)] = (
                current.reminder_policy.get(urgency, {}).get(key, ""))
    return data


def _changes(form: OfficeSettingsForm) -> dict[str, object]:
    """What the form asks the office service to set."""
    def text(name: str) -> str:
        return str(form[name].data or "")

    return {
        "name": text("name"), "unit_line": text("unit_line"), "phone": text("phone"),
        "doc_prefix": text("doc_prefix"), "thai_digits": not form.arabic_digits.data,
        "numbering_point": text("numbering_point"),
        "require_endorsement": bool(form.require_endorsement.data),
        "office_opens": text("office_opens"), "office_closes": text("office_closes"),
        "reminder_policy": {
            str(urgency): {key: text(OfficeSettingsForm.reminder_field(urgency, key))
                           for key in settings_admin.REMINDER_KEYS}
            for urgency in URGENCY_LABELS},
        "escalate_after": text("escalate_after"),
        "attachments_per_memo": text("attachments_per_memo"),
        "storage_quota_mb": text("storage_quota_mb"),
        "holders_may_appoint": bool(form.holders_may_appoint.data),
        "drafters_may_circulate": bool(form.drafters_may_circulate.data),
    }


def _settings_page(current: settings_admin.OfficeSettings, form: OfficeSettingsForm, *,
                   error: str = "", garuda_error: str = "", seal_error: str = "",
                   status: int = 200) -> Any:
    return render_template("admin/office.html", current=current, form=form, error=error,
                           garuda_error=garuda_error, seal=seal_admin.summary(principal()),
                           seal_error=seal_error,
                           reminder_keys=settings_admin.REMINDER_KEYS), status


@bp.route("/office", methods=["GET", "POST"])
@login_required
def office_settings() -> Any:
    """The office's name, document header, office hours, reminders and Garuda."""
    current = settings_admin.settings(principal())
    if request.method == "GET":
        return _settings_page(current, OfficeSettingsForm(data=_settings_data(current)))
    form = OfficeSettingsForm()
    if not form.validate_on_submit():
        return _settings_page(current, form, error="ข้อมูลไม่ถูกต้อง", status=422)
    try:
        changed = settings_admin.update_settings(principal=principal(), changes=_changes(form),
                                                 request_info=request_info(), seen=form.seen.data)
    except Conflict as exc:  # another admin saved meanwhile: show what is stored now
        fresh = settings_admin.settings(principal())
        return _settings_page(fresh, OfficeSettingsForm(formdata=None, data=_settings_data(fresh)),
                              error=exc.message, status=exc.status)
    except Invalid as exc:
        fields = exc.details.get("fields", {})
        for name, message in fields.items():
            field_name = name.replace(".", "_")
            if field_name in form:
                form[field_name].errors = [*form[field_name].errors, message]
        return _settings_page(current, form, error=exc.message if not fields else
                              "ข้อมูลบางช่องไม่ถูกต้อง กรุณาแก้ไขตามข้อความสีแดง", status=exc.status)
    flash("บันทึกการตั้งค่าหน่วยงานแล้ว" if changed else "ไม่มีการเปลี่ยนแปลง", "success")
    return redirect(url_for("admin.office_settings"))


@bp.route("/office/garuda", methods=["POST"])
@login_required
def upload_garuda() -> Any:
    """Set the Garuda printed at the top of the office's memos (PNG or JPEG)."""
    current = settings_admin.settings(principal())  # admins only, before the upload is read
    if not PostForm().validate_on_submit():
        return redirect(url_for("admin.office_settings"))
    try:
        garuda_admin.set_garuda(principal(), request.files.get("garuda"),
                                request_info=request_info())
    except Invalid as exc:
        form = OfficeSettingsForm(formdata=None, data=_settings_data(current))
        return _settings_page(current, form, garuda_error=exc.message, status=exc.status)
    flash("บันทึกภาพครุฑแล้ว", "success")
    return redirect(url_for("admin.office_settings"))


@bp.route("/office/seal", methods=["POST"])
@login_required
def replace_seal() -> Any:
    """Replace the office seal with an uploaded PKCS#12 (the old one is kept for old PDFs)."""
    current = settings_admin.settings(principal())  # admins only, before the upload is read
    if not PostForm().validate_on_submit():
        return redirect(url_for("admin.office_settings"))
    try:
        seal_admin.replace(principal(), request.files.get("pkcs12"),
                           request.form.get("password", ""), request_info=request_info())
    except Invalid as exc:
        form = OfficeSettingsForm(formdata=None, data=_settings_data(current))
        return _settings_page(current, form, seal_error=exc.message, status=exc.status)
    flash("เปลี่ยนใบรับรองตราประทับอิเล็กทรอนิกส์แล้ว ใบรับรองเดิมยังเก็บไว้ให้ตรวจเอกสารเก่าได้",
          "success")
    return redirect(url_for("admin.office_settings") + "#seal")


@bp.route("/office/seal/root.pem")
@login_required
def seal_root() -> Response:
    """The office seal's root certificate, for readers to trust in their PDF reader."""
    return Response(seal_admin.root_pem(principal()), mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'attachment; filename="office-seal-root.pem"'})


@bp.route("/office/garuda/delete", methods=["POST"])
@login_required
def remove_garuda() -> Any:
    """Print the office's memos without a Garuda."""
    if PostForm().validate_on_submit():
        garuda_admin.remove_garuda(principal(), request_info=request_info())
        flash("นำภาพครุฑออกแล้ว", "success")
    return redirect(url_for("admin.office_settings"))
