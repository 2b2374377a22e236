"""The signed-in user's own settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, login_required, logout_user

from ..admin import appointments
from ..errors import WorkflowError
from ..forms import PasswordForm, PostForm, SettingsForm
from ..identity import sessions, signature_image
from ..identity.principal import token_digest
from ..web import request_info
from .util import principal

bp = Blueprint("account", __name__)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """Email settings: arrivals on or off, and the daily digest."""
    user = sessions.settings_of(current_user.user_id)
    form = SettingsForm(obj=user)
    if form.validate_on_submit():
        sessions.update_settings(user_id=current_user.user_id,
                                 notify_arrivals=bool(form.notify_arrivals.data),
                                 daily_digest=bool(form.daily_digest.data))
        flash("บันทึกการตั้งค่าแล้ว", "success")
        return redirect(url_for("account.settings"))
    return render_template("settings.html", form=form, user=user)


@bp.route("/account")
@login_required
def profile() -> str:
    """The user's own page: positions, acting appointments, notification settings, signature
    image and live sessions."""
    return _profile()


def _profile(signature_error: str = "") -> str:
    me = principal()
    return render_template("account.html", sessions=sessions.active_sessions(me),
                           current_token=me.token, form=PostForm(),
                           digest=token_digest, user=sessions.settings_of(me.user_id),
                           appointments=appointments.of_person(me),
                           STATUS_LABELS=appointments.STATUS_LABELS,
                           signature_uri=signature_image.data_uri_of(me.user_id),
                           signature_error=signature_error)


@bp.route("/account/signature", methods=["POST"])
@login_required
def upload_signature() -> Any:
    """Set the image of one's handwritten signature (PNG or JPEG)."""
    if not PostForm().validate_on_submit():
        return redirect(url_for("account.profile"))
    try:
        signature_image.set_image(principal(), request.files.get("signature"),
                                  request_info=request_info())
    except WorkflowError as exc:
        return _profile(signature_error=exc.message), exc.status
    flash("บันทึกภาพลายมือชื่อแล้ว จะพิมพ์เหนือชื่อของท่านในบันทึกที่ท่านลงนาม", "success")
    return redirect(url_for("account.profile") + "#signature")


@bp.route("/account/signature/delete", methods=["POST"])
@login_required
def remove_signature() -> Any:
    """Print the typed name alone from now on."""
    if PostForm().validate_on_submit():
        signature_image.remove_image(principal(), request_info=request_info())
        flash("นำภาพลายมือชื่อออกแล้ว ระบบจะพิมพ์ชื่อของท่านแทน", "success")
    return redirect(url_for("account.profile") + "#signature")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password() -> Any:
    """Change one's password; the old one is required and other sessions end."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            sessions.change_password(principal=principal(),
                                     old_password=form.old_password.data or "",
                                     new_password=form.new_password.data or "",
                                     request_info=request_info())
        except WorkflowError as exc:
            return render_template("password.html", form=form, error=exc.message), exc.status
        flash("เปลี่ยนรหัสผ่านแล้ว เครื่องอื่นที่เคยเข้าสู่ระบบไว้ต้องเข้าสู่ระบบใหม่", "success")
        return redirect(url_for("account.profile"))
    status = 422 if form.errors else 200
    return render_template("password.html", form=form, error=""), status


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@login_required
def sign_out_everywhere() -> Any:
    """End every session and API token of this user, this browser's too."""
    if PostForm().validate_on_submit():
        sessions.sign_out_everywhere(principal=principal(), request_info=request_info())
        logout_user()
        flask_session.clear()
        flash("ออกจากระบบทุกเครื่องแล้ว", "info")
    return redirect(url_for("auth.login"))
