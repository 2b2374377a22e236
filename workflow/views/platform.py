"""The platform administrator's page: the installation's offices, a new office with its
first administrator, suspension and reactivation. The platform service checks the role."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import login_required

from ..errors import Conflict, Invalid
from ..forms import OfficeForm, PostForm
from ..platform import offices
from ..web import request_info
from .util import principal

bp = Blueprint("platform", __name__, url_prefix="/platform")


@bp.route("/", methods=["GET", "POST"])
@login_required
def index() -> Any:
    """Every office, and the form that adds one."""
    me = principal()
    form = OfficeForm()
    status, error = 200, ""
    if form.validate_on_submit():
        try:
            org = offices.create_office(
                principal=me, code=form.code.data or "", name=form.name.data or "",
                admin_username=form.admin_username.data or "",
                admin_full_name=form.admin_full_name.data or "",
                admin_email=form.admin_email.data or "", request_info=request_info())
        except (Invalid, Conflict) as exc:
            status, error = exc.status, exc.message
        else:
            flash(f"สร้างหน่วยงาน {org.name} (รหัส {org.code}) แล้ว "
                  "และส่งอีเมลเชิญผู้ดูแลระบบหน่วยงานตั้งรหัสผ่านแล้ว", "success")
            return redirect(url_for("platform.index"))
    elif form.is_submitted():
        status, error = 400, "แบบฟอร์มหมดอายุ กรุณาลองใหม่"
    rows = offices.list_offices(me)
    return render_template("platform/offices.html", rows=rows, form=form, error=error,
                           post_form=PostForm()), status


@bp.route("/offices/<int:org_id>/suspend", methods=["POST"])
@login_required
def suspend(org_id: int) -> Any:
    """Suspend an office: nobody signs in, nothing is sent, nothing is deleted."""
    if PostForm().validate_on_submit():
        org = offices.set_suspended(principal=principal(), org_id=org_id, suspended=True,
                                    request_info=request_info())
        flash(f"ระงับการใช้งาน {org.name} แล้ว ข้อมูลทั้งหมดยังอยู่ครบ", "success")
    return redirect(url_for("platform.index"))


@bp.route("/offices/<int:org_id>/reactivate", methods=["POST"])
@login_required
def reactivate(org_id: int) -> Any:
    """Bring a suspended office back."""
    if PostForm().validate_on_submit():
        org = offices.set_suspended(principal=principal(), org_id=org_id, suspended=False,
                                    request_info=request_info())
        flash(f"เปิดใช้งาน {org.name} อีกครั้งแล้ว", "success")
    return redirect(url_for("platform.index"))
