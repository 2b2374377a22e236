"""The inbox and its tabs."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..memos import lists
from ..models import Role, Urgency
from ..queryargs import memo_search_from_args
from . import badges
from .util import principal

bp = Blueprint("inbox", __name__)

PAGE_SIZE = 50

TABS = {
    "waiting": ("inbox", "รอฉันพิจารณา"),
    "mine": ("mine", "ที่ฉันส่ง/ร่าง"),
    "decided": ("decided", "ที่ฉันพิจารณาแล้ว"),
    "circulated": ("circulated", "เวียนทราบ"),
}


@bp.route("/")
def index() -> Response:
    """Home is the inbox."""
    return redirect(url_for("inbox.inbox"))


@bp.route("/inbox")
@login_required
def inbox() -> Any:
    """One tab of the signed-in user's memos."""
    if current_user.has_role(Role.PLATFORM):  # the installation's people have no memos
        return redirect(url_for("platform.index"))
    tab = request.args.get("tab", "")
    if tab not in TABS:
        tab = "waiting" if current_user.answers_for else "mine"
    search = memo_search_from_args(request.args)
    # Its tabs show both counts of the nav: the list's statement reads them along.
    page = lists.page_memos(principal(), TABS[tab][0],
                              before=request.args.get("before") or None, limit=PAGE_SIZE,
                              search=search, along=badges.along_the_list())
    # The next page keeps the tab and the search; only the cursor moves on.
    kept: dict[str, Any] = {k: v for k, v in request.args.items() if k != "before" and v}
    next_url = (url_for("inbox.inbox", **kept, before=page.next_before)
                if page.next_before else None)
    badges.from_the_list(page.along)
    return render_template("inbox.html", tab=tab, tabs=TABS, items=page.items,
                           search=search, next_url=next_url, URGENCY_CHOICES=Urgency)
