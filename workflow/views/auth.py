"""Signing in and out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from ..errors import Forbidden, Unauthorized
from ..extensions import limiter, login_username_limit
from ..forms import LoginForm, PostForm
from ..identity import sessions
from ..identity.principal import WEB
from ..office.tenants import normalized_code
from ..web import request_info

bp = Blueprint("auth", __name__)

OFFICE_COOKIE = "office"
OFFICE_COOKIE_DAYS = 365


def _login_limits() -> str:
    return str(current_app.config["LOGIN_LIMIT_PER_IP"])


def _safe_next(target: str | None) -> str:
    """Only follow a ``next`` that stays on this site."""
    if target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/"):
            return target
    return url_for("inbox.inbox")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limits, methods=["POST"])
@login_username_limit  # shared with the API's token endpoint
def login() -> Any:
    """The sign-in page."""
    if current_user.is_authenticated:
        return redirect(url_for("inbox.inbox"))
    form = LoginForm()
    if request.method == "GET":
        # The office this browser signed in to last, or the one a link names (?office=).
        form.office.data = request.args.get("office") or request.cookies.get(OFFICE_COOKIE, "")
    ask_office = sessions.office_must_be_named()
    if form.validate_on_submit():
        lifetime = timedelta(seconds=current_app.config["PERMANENT_SESSION_LIFETIME"])
        if form.remember.data:
            lifetime = timedelta(days=14)
        try:
            principal = sessions.authenticate(
                office=form.office.data or "",
                username=form.username.data or "",
                password=form.password.data or "",
                kind=WEB,
                lifetime=lifetime,
                ip=request.remote_addr or "",
                user_agent=request.user_agent.string,
            )
        except (Unauthorized, Forbidden) as exc:
            flash(exc.message, "error")
            return render_template("login.html", form=form, ask_office=ask_office), exc.status
        # Nothing from before sign-in survives into the signed-in session.
        session.clear()
        login_user(principal, remember=bool(form.remember.data), duration=lifetime)
        response = redirect(_safe_next(request.args.get("next")))
        if form.office.data:  # remember the office, never the person
            response.set_cookie(OFFICE_COOKIE, normalized_code(form.office.data),
                                max_age=OFFICE_COOKIE_DAYS * 86400, httponly=True,
                                samesite="Lax", secure=request.is_secure)
        return response
    status = 422 if request.method == "POST" else 200
    return render_template("login.html", form=form, ask_office=ask_office), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    """End this browser's session (the server-side row too)."""
    form = PostForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        sessions.revoke(current_user.get_id(), request_info())
        logout_user()
        session.clear()
        flash("ออกจากระบบแล้ว", "info")
    return redirect(url_for("auth.login"))
