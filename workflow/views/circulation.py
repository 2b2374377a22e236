"""Circulating an approved memo (แจ้งเวียน) and acknowledging it (ทราบ).

The memo page belongs to the memos blueprint; this one adds to it without editing it: a
template global gives the page its circulation section (``templates/circulation/``), and an
after-request hook notes a recipient's first opening of the page.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from ..circulation import operations, queries
from ..circulation.recipients import Targets
from ..errors import WorkflowError
from ..forms import AcknowledgeForm, CirculateForm
from ..memos import documents
from ..models import Memo, Organization
from ..thai import format_datetime, thai_digits
from ..validation import parse_id
from ..web import request_info, send_pdf
from . import memos as memo_pages
from .badges import badges
from .util import principal

bp = Blueprint("circulation", __name__, url_prefix="/memos")

_LOGGER = logging.getLogger(__name__)

# Refusals that are about the memo itself: answered as the memo page would be (404/403).
_MEMO_REFUSALS = ("memo_not_found", "memo_forbidden")


def _memo_page_with(memo_id: int, exc: WorkflowError) -> Any:
    """The memo page again, its circulation section showing the refusal, with its status."""
    if exc.status in (403, 404) and exc.code in _MEMO_REFUSALS:
        raise exc
    g.circulation_error = exc.message
    return memo_pages._show(memo_id, status=exc.status)  # noqa: SLF001 - the page, as is


@bp.route("/<int:memo_id>/circulate", methods=["POST"])
@login_required
def circulate(memo_id: int) -> Any:
    """Circulate an approved memo to the chosen positions, divisions or all staff."""
    form = CirculateForm()
    if not form.validate_on_submit():
        return _memo_page_with(memo_id, WorkflowError(
            "แบบฟอร์มไม่ถูกต้อง กรุณาลองใหม่", "Invalid form.", code="bad_form"))
    try:
        position_ids = tuple(
            number for raw in (form.position_ids.data or [])
            if (number := parse_id(raw, field="position_ids", label="ตำแหน่ง")) is not None)
        targets = Targets(position_ids=position_ids,
                          divisions=tuple(d for d in (form.divisions.data or []) if d.strip()),
                          all_staff=bool(form.all_staff.data))
        done = operations.circulate(memo_id=memo_id, actor_id=current_user.user_id,
                                    targets=targets, request_info=request_info())
    except WorkflowError as exc:
        return _memo_page_with(memo_id, exc)
    message = f"แจ้งเวียนแล้ว {thai_digits(len(done.recipients))} คน"
    if done.already:
        message += f" (อีก {thai_digits(len(done.already))} คนได้รับแจ้งเวียนไว้ก่อนแล้ว)"
    flash(message, "success")
    return redirect(url_for("memos.show", memo_id=memo_id, _anchor="circulation"))


@bp.route("/<int:memo_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(memo_id: int) -> Any:
    """ทราบ: the recipient acknowledges the circulated memo (a second press changes nothing)."""
    form = AcknowledgeForm()
    if not form.validate_on_submit():
        return _memo_page_with(memo_id, WorkflowError(
            "แบบฟอร์มไม่ถูกต้อง กรุณาลองใหม่", "Invalid form.", code="bad_form"))
    try:
        done = operations.acknowledge(memo_id=memo_id, principal=principal(),
                                      note=form.note.data or "", request_info=request_info())
    except WorkflowError as exc:
        return _memo_page_with(memo_id, exc)
    acked_at = done.recipient.acknowledged_at
    if done.now:
        flash("บันทึกการรับทราบแล้ว", "success")
    else:
        flash(f"ท่านกดทราบเรื่องนี้ไว้แล้วเมื่อ {format_datetime(acked_at)}", "info")
    if form.back.data == "inbox":
        return redirect(url_for("inbox.inbox", tab="circulated"))
    return redirect(url_for("memos.show", memo_id=memo_id, _anchor="circulation"))


@bp.route("/<int:memo_id>/circulation.pdf")
@login_required
def reading_copy(memo_id: int) -> Response:
    """The memo as a fresh PDF whose certificate lists the acknowledgements so far: the
    sealed final copy was made at approval and is never sealed again."""
    return send_pdf(documents.render_pdf(principal(), memo_id), memo_id)


def _section(view: Any, circulated: bool) -> queries.Section | None:
    """The memo page's circulation section for the signed-in reader (the page has checked
    access to ``view.memo`` and read whether it was ever ``circulated``)."""
    memo: Memo = view.memo
    org: Organization = view.org
    section = queries.section_for(principal(), memo, org, view.decisions,
                                  circulated=circulated)
    # Kept for _note_first_opening: the section has read the reader's own recipient row.
    g.circulation_shown = section
    return section


def _badge() -> int:
    """Circulated memos the signed-in user has not acknowledged; never takes a page down."""
    return badges(circulated=True).circulated or 0


@bp.app_context_processor
def _circulation_globals() -> dict[str, Any]:
    # Functions, not values: only the pages that show them pay for their queries.
    return {"circulation_section": _section, "circulation_badge": _badge,
            "circulation_acknowledgements": queries.acknowledgements}


@bp.after_app_request
def _note_first_opening(response: Response) -> Response:
    """A recipient's first look at a circulated memo's page, noted with its time: only for a
    page actually shown (GET, 200), so that a refused form shown again writes nothing."""
    if (request.endpoint == "memos.show" and request.method == "GET"
            and response.status_code == 200 and current_user.is_authenticated):
        if "circulation_shown" in g:
            # The page's section has read the reader's recipient row: nothing to note
            # unless it is there and unopened, which is seldom (one read saved a page).
            shown: queries.Section | None = g.circulation_shown
            if shown is None or shown.mine is None or shown.mine.opened_at is not None:
                return response
        try:
            operations.mark_opened(memo_id=int((request.view_args or {})["memo_id"]),
                                   principal=principal())
        except Exception:  # noqa: BLE001 - the page is already made; never lose it for this
            _LOGGER.warning("could not note the circulated memo's opening", exc_info=True)
    return response
