"""Forgotten passwords: ask for an emailed link, then set a new password through it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from ..errors import WorkflowError
from ..extensions import limiter
from ..identity import links, sessions
from ..models import CODE_MAX
from ..web import request_info

bp = Blueprint("password_reset", __name__)

# The one answer to every request for a link, so that nobody learns which accounts exist.
SENT_MESSAGE = ("หากข้อมูลตรงกับบัญชีในระบบ ระบบได้ส่งลิงก์ตั้งรหัสผ่านใหม่ไปทางอีเมลแล้ว "
                "กรุณาตรวจสอบกล่องจดหมาย (รวมถึงจดหมายขยะ) ลิงก์ใช้ได้ครั้งเดียวและมีอายุจำกัด")


class ForgotForm(FlaskForm):
    office = StringField("รหัสหน่วยงาน", validators=[Length(max=CODE_MAX,
                                                              message="รหัสหน่วยงานยาวเกินไป")])
    login = StringField("ชื่อผู้ใช้หรืออีเมล",
                        validators=[DataRequired("กรุณากรอกชื่อผู้ใช้หรืออีเมล"),
                                    Length(max=links.LOGIN_MAX,
                                           message="ชื่อผู้ใช้หรืออีเมลยาวเกินไป")])


class ResetForm(FlaskForm):
    new_password = PasswordField("รหัสผ่านใหม่", validators=[DataRequired("กรุณากรอกรหัสผ่านใหม่")])
    confirm = PasswordField("ยืนยันรหัสผ่านใหม่",
                            validators=[DataRequired("กรุณายืนยันรหัสผ่านใหม่"),
                                        EqualTo("new_password", "รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน")])


def _ip_limits() -> str:
    return str(current_app.config.get("PASSWORD_RESET_LIMIT_PER_IP", "5 per minute"))


def _login_limits() -> str:
    return str(current_app.config.get("PASSWORD_RESET_LIMIT_PER_LOGIN", "3 per 15 minutes"))


def _login_key() -> str:
    """Rate-limit key for links asked for one account, so nobody floods its mailbox."""
    return (f"reset:{request.form.get('office', '').strip().lower()[:CODE_MAX]}:"
            f"{request.form.get('login', '').strip().lower()[:links.LOGIN_MAX]}")


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_ip_limits, methods=["POST"])
@limiter.limit(_login_limits, key_func=_login_key, methods=["POST"])
def forgot() -> Any:
    """Ask for a reset link by username or email; the answer is the same whoever it is."""
    form = ForgotForm()
    if form.validate_on_submit():
        links.request_reset(login=form.login.data or "", office=form.office.data or "",
                            request_info=request_info())
        return render_template("password_forgot.html", form=ForgotForm(formdata=None),
                               sent=SENT_MESSAGE, ask_office=sessions.office_must_be_named())
    status = 422 if request.method == "POST" else 200
    if request.method == "GET":
        form.office.data = request.args.get("office") or request.cookies.get("office", "")
    return render_template("password_forgot.html", form=form, sent="",
                           ask_office=sessions.office_must_be_named()), status


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset(token: str) -> Any:
    """Set a new password through an emailed link; the link works once."""
    form = ResetForm()
    try:
        ticket = links.check_reset_token(token)
    except WorkflowError as exc:
        # Gone: a link that was never ours, has expired or was used looks the same.
        return render_template("password_reset.html", form=form, ticket=None,
                               error=exc.message), 410
    if form.validate_on_submit():
        try:
            links.reset_password(token=token, new_password=form.new_password.data or "",
                                 request_info=request_info())
        except WorkflowError as exc:
            if exc.code == "reset_link_invalid":
                return render_template("password_reset.html", form=form, ticket=None,
                                       error=exc.message), 410
            return render_template("password_reset.html", form=form, ticket=ticket,
                                   error=exc.message), exc.status
        if current_user.is_authenticated:
            logout_user()  # that session was just revoked with all the others
        flask_session.clear()
        flash("ตั้งรหัสผ่านใหม่แล้ว กรุณาเข้าสู่ระบบด้วยรหัสผ่านใหม่ "
              "(เครื่องอื่นที่เคยเข้าสู่ระบบไว้ต้องเข้าสู่ระบบใหม่)", "success")
        return redirect(url_for("auth.login"))
    status = 422 if request.method == "POST" else 200
    return render_template("password_reset.html", form=form, ticket=ticket, error=""), status
