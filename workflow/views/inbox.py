"""The inbox and its three tabs."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..memos import queries

bp = Blueprint("inbox", __name__)

TABS = {
    "waiting": ("inbox", "รอฉันพิจารณา"),
    "mine": ("mine", "ที่ฉันส่ง/ร่าง"),
    "decided": ("decided", "ที่ฉันพิจารณาแล้ว"),
}


@bp.route("/")
def index() -> Response:
    """Home is the inbox."""
    return redirect(url_for("inbox.inbox"))


@bp.route("/inbox")
@login_required
def inbox() -> str:
    """One tab of the signed-in user's memos."""
    tab = request.args.get("tab", "")
    if tab not in TABS:
        tab = "waiting" if current_user.answers_for else "mine"
    items = queries.list_memos(current_user, TABS[tab][0])  # type: ignore[arg-type]
    return render_template("inbox.html", tab=tab, tabs=TABS, items=items)
