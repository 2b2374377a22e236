"""The outgoing register page."""

from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import login_required

from .. import thai
from ..errors import Invalid
from ..memos import register
from ..office.calendar import office_today
from .util import principal

bp = Blueprint("register", __name__)


@bp.route("/register")
@login_required
def index() -> str:
    """The numbers issued in one year (Buddhist era in the URL, as people say it)."""
    raw = thai.arabic_digits(request.args.get("year", "").strip())
    year = office_today().year
    if raw:
        if not (raw.isascii() and raw.isdigit()) or not 2400 <= int(raw) <= 3000:
            raise Invalid("ปี พ.ศ. ไม่ถูกต้อง", "year must be a Buddhist-era year such as 2569.",
                          code="bad_year")
        year = int(raw) - thai.BE_OFFSET
    rows = register.entries(principal(), year)
    return render_template("register.html", rows=rows, year=year)
