"""Administration pages. Each service checks the admin role itself; the view only renders."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..forms import PostForm
from ..models import NotificationStatus
from ..services import notifications

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
