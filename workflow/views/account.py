"""The signed-in user's own settings."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from ..forms import SettingsForm
from ..services import accounts

bp = Blueprint("account", __name__)


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings() -> Any:
    """Email settings: arrivals on or off, and the daily digest."""
    user = accounts.settings_of(current_user.user_id)
    form = SettingsForm(obj=user)
    if form.validate_on_submit():
        accounts.update_settings(user_id=current_user.user_id,
                                 notify_arrivals=bool(form.notify_arrivals.data),
                                 daily_digest=bool(form.daily_digest.data))
        flash("บันทึกการตั้งค่าแล้ว", "success")
        return redirect(url_for("account.settings"))
    return render_template("settings.html", form=form, user=user)
