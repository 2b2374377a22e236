"""Administration pages. Each service checks the admin role itself; the view only renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from .. import thai
from ..forms import OfficeDayForm, PostForm
from ..models import NotificationStatus
from ..services import notifications, office

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/outbox")
@login_required
def outbox() -> Any:
    """Every email the office has queued: pending, sent, failed (with retry)."""
    status = request.args.get("status") or None
    if status not in {None, *NotificationStatus}:
        status = None
    rows = notifications.outbox(current_user, status)  # type: ignore[arg-type]
    return render_template("admin/outbox.html", rows=rows, status=status, form=PostForm(),
                           statuses=list(NotificationStatus))


@bp.route("/outbox/<int:notification_id>/retry", methods=["POST"])
@login_required
def retry(notification_id: int) -> Any:
    """Send a failed email again."""
    form = PostForm()
    if form.validate_on_submit():
        notifications.retry(notification_id=notification_id,
                            principal=current_user)  # type: ignore[arg-type]
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
            office.add_day(principal=current_user, day=day,  # type: ignore[arg-type]
                           is_holiday=form.kind.data == "holiday", note=form.note.data or "")
            flash("เพิ่มวันแล้ว", "success")
            return redirect(url_for("admin.office_days"))
    elif request.method == "POST":
        status = 422
    days = office.list_days(current_user)  # type: ignore[arg-type]
    return render_template("admin/office_days.html", form=form, days=days,
                           delete_form=PostForm()), status


@bp.route("/office-days/<int:day_id>/delete", methods=["POST"])
@login_required
def delete_office_day(day_id: int) -> Any:
    """Remove one exception."""
    if PostForm().validate_on_submit():
        office.remove_day(principal=current_user, day_id=day_id)  # type: ignore[arg-type]
        flash("ลบแล้ว", "success")
    return redirect(url_for("admin.office_days"))
