"""Drafting a memo, reading it, and acting on it."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from pydantic import ValidationError
from werkzeug.wrappers import Response

from .. import routing, steps
from ..errors import WorkflowError
from ..forms import ActionForm, BulkApproveForm, MemoForm, PostForm
from ..memos import actions, attachments, bulk, commands, queries, routes
from ..models import MemoCreate, MemoUpdate
from ..phrases import BULK, SEND_BACK, endorsement_phrases
from ..thai import thai_digits
from ..validation import field_errors, parse_count, parse_id
from ..web import request_info, send_attachment
from .badges import MemoFacts, memo_facts
from .util import principal

bp = Blueprint("memos", __name__, url_prefix="/memos")

DONE_MESSAGES = {
    routing.SUBMIT: "เสนอบันทึกข้อความแล้ว",
    routing.RESUBMIT: "เสนอบันทึกข้อความใหม่แล้ว",
    routing.APPROVE: "ลงนามแล้ว",
    routing.SEND_BACK: "ส่งกลับให้ผู้ร่างแก้ไขแล้ว",
    routing.REJECT: "บันทึกว่าไม่อนุมัติแล้ว",
    routing.WITHDRAW: "ถอนเรื่องแล้ว",
}


def _form_fields(form: MemoForm) -> dict[str, Any]:
    raw_route = (form.route_id.data or "").strip()
    return {
        "subject": form.subject.data or "",
        "addressee": form.addressee.data or "",
        "urgency": form.urgency.data or "normal",
        "body": form.body.data or "",
        # As typed: the model's id rule refuses "²", "๑" or 10**20 beside the field.
        "route_id": raw_route if raw_route not in ("", "None") else None,
        "memo_type": form.memo_type.data or "",
        # An empty amount is no amount (an edit clears it); anything typed is judged.
        "amount": (form.amount.data or "").strip() or None,
    }


def _editor(form: MemoForm, *, memo_view: queries.MemoView | None, errors: dict[str, str],
            status: int = 200) -> tuple[str, int]:
    offered = routes.offered_for(principal(), memo_view.memo if memo_view else None)
    form.route_id.choices = [(str(r.route.id), r.label) for r in offered]
    if not form.route_id.data or form.route_id.data == "None":
        default = next((r for r in offered if r.route.is_default), None)
        form.route_id.data = str(default.route.id) if default else ""
    return render_template("memo_form.html", form=form, view=memo_view, errors=errors,
                           routes=offered,
                           by_amount=[r.route.id for r in offered if r.asks_amount],
                           memo_types=sorted({r.route.memo_type for r in offered
                                              if r.route.memo_type})), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> Any:
    """Draft a new memo; save it, or save and submit it."""
    form = MemoForm()
    if request.method == "GET":
        form.addressee.data = commands.default_addressee(principal())
        return _editor(form, memo_view=None, errors={})
    if not form.validate_on_submit():
        return _editor(form, memo_view=None, errors={"form": "แบบฟอร์มไม่ถูกต้อง"}, status=400)
    try:
        memo_create = MemoCreate.model_validate(_form_fields(form))
    except ValidationError as exc:
        return _editor(form, memo_view=None, errors=field_errors(exc), status=422)
    try:
        memo = commands.create_memo(actor_id=current_user.user_id, memo_create=memo_create,
                                    request_info=request_info())
    except WorkflowError as exc:
        return _editor(form, memo_view=None, errors={"form": exc.message}, status=exc.status)
    assert memo.id is not None
    return _after_save(memo.id, submit=request.form.get("intent") == "submit")


@bp.route("/<int:memo_id>/edit", methods=["GET", "POST"])
@login_required
def edit(memo_id: int) -> Any:
    """Edit a draft or a memo sent back for revision."""
    view = commands.editable_memo(principal(), memo_id)
    if request.method == "GET":
        return _stored_editor(memo_id, errors={})
    form = MemoForm()
    if not form.validate_on_submit():
        return _editor(form, memo_view=view, errors={"form": "แบบฟอร์มไม่ถูกต้อง"}, status=400)
    try:
        memo_update = MemoUpdate.model_validate(
            {**_form_fields(form), "version": (form.version.data or "").strip() or None})
        commands.update_memo(memo_id=memo_id, actor_id=current_user.user_id,
                             memo_update=memo_update, request_info=request_info())
    except ValidationError as exc:
        return _editor(form, memo_view=view, errors=field_errors(exc), status=422)
    except WorkflowError as exc:
        # Keep what the user typed on screen; nothing they saved earlier is touched.
        return _editor(form, memo_view=view, errors={"form": exc.message}, status=exc.status)
    return _after_save(memo_id, submit=request.form.get("intent") == "submit")


def _stored_editor(memo_id: int, *, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    """The editor filled from the memo as saved."""
    view = queries.get_memo(principal(), memo_id)
    form = MemoForm(obj=view.memo)
    form.urgency.data = view.memo.urgency
    form.route_id.data = str(view.memo.route_id)
    form.version.data = str(view.memo.version)
    form.amount.data = (steps.baht_text(view.memo.amount_satang)
                        if view.memo.amount_satang is not None else "")
    return _editor(form, memo_view=view, errors=errors, status=status)


def _after_save(memo_id: int, *, submit: bool) -> Response:
    if not submit:
        flash("บันทึกร่างแล้ว", "success")
        return redirect(url_for("memos.edit", memo_id=memo_id))
    try:
        memo = commands.send_up(memo_id=memo_id, actor_id=current_user.user_id,
                                request_info=request_info())
    except WorkflowError as exc:
        flash(f"บันทึกร่างแล้ว แต่ยังเสนอไม่ได้: {exc.message}", "error")
        return redirect(url_for("memos.edit", memo_id=memo_id))
    flash(DONE_MESSAGES[routing.RESUBMIT if memo.round > 1 else routing.SUBMIT], "success")
    return redirect(url_for("memos.show", memo_id=memo_id))


def _show(memo_id: int, form: ActionForm | None = None, error: str = "",
          status: int = 200, view: queries.MemoView | None = None) -> tuple[str, int]:
    if view is None:
        view = queries.get_memo(principal(), memo_id)
    if form is None:
        form = ActionForm()
    form.version.data = view.memo.version
    phrases: tuple[str, ...] = ()
    if view.current_step is not None:
        phrases = endorsement_phrases(view.current_step, view.last_step)
    facts = memo_facts(memo_id) if view.memo.state == routing.APPROVED else MemoFacts()
    return render_template(
        "memo.html", view=view, form=form, error=error, phrases=phrases,
        send_back_phrases=SEND_BACK, facts=facts,
    ), status


@bp.route("/<int:memo_id>")
@login_required
def show(memo_id: int) -> tuple[str, int]:
    """The memo page: header, body, route, endorsements and the signer's action panel."""
    view = queries.get_memo(principal(), memo_id)  # checks access
    page = _show(memo_id, view=view)
    if view.unopened_by_reader:
        commands.mark_opened(memo_id=memo_id, principal=principal(),
                             request_info=request_info())
    return page


@bp.route("/<int:memo_id>/act", methods=["POST"])
@login_required
def act(memo_id: int) -> Any:
    """Take an action on the memo (approve, send back, reject, withdraw, submit)."""
    form = ActionForm()
    if not form.validate_on_submit():
        return _show(memo_id, form, error="แบบฟอร์มไม่ถูกต้อง กรุณาลองใหม่", status=400)
    action = form.action.data or ""
    try:
        actions.perform(
            action,
            memo_id=memo_id,
            actor_id=current_user.user_id,
            principal=principal(),
            comment=form.comment.data or "",
            expected_version=form.version.data,
            request_info=request_info(),
            target_step=parse_count(form.target_step.data, field="ลำดับที่ส่งกลับ", default=None,
                                    low=1, high=99) if action == routing.SEND_BACK else None,
        )
    except WorkflowError as exc:
        if exc.status in (403, 404) and exc.code in ("memo_forbidden", "memo_not_found"):
            raise
        return _show(memo_id, form, error=exc.message, status=exc.status)
    done = DONE_MESSAGES.get(action, "ดำเนินการแล้ว")
    if action == routing.SEND_BACK and form.target_step.data:
        done = "ส่งกลับให้ลำดับที่เลือกพิจารณาใหม่แล้ว"
    flash(done, "success")
    return redirect(url_for("memos.show", memo_id=memo_id))


def _picks(ids: list[str], values: Any) -> list[bulk.Pick]:
    """The ticked memos of the inbox or the confirmation form: ``memo`` ids, each with the
    ``version_<id>`` the signer saw. A malformed id is a Thai 422 (validation.parse_id)."""
    picks = []
    for raw in ids:
        memo_id = parse_id(raw, field="memo", label="บันทึกที่เลือก")
        if memo_id is not None:
            version = parse_id(values.get(f"version_{memo_id}"), field="version",
                               label="รุ่นของบันทึก")
            picks.append(bulk.Pick(memo_id, version))
    return picks


@bp.route("/approve-many", methods=["GET"])
@login_required
def approve_many_confirm() -> Any:
    """The memos ticked in the inbox, listed once more with one endorsement for them all."""
    try:
        picks = _picks(request.args.getlist("memo"), request.args)
        memos = bulk.check_picks(principal(), picks)
    except WorkflowError as exc:
        flash(exc.message, "error")
        return redirect(url_for("inbox.inbox", tab="waiting"))
    chosen = [(p, memos.get(p.memo_id)) for p in picks]
    return render_template("approve_many.html", form=BulkApproveForm(), chosen=chosen,
                           count=len(memos), phrases=BULK)


@bp.route("/approve-many", methods=["POST"])
@login_required
def approve_many() -> Any:
    """Approve every listed memo, each on its own; say which were approved and which had
    moved meanwhile."""
    form = BulkApproveForm()
    if not form.validate_on_submit():
        flash("แบบฟอร์มหมดอายุ กรุณาเลือกบันทึกใหม่อีกครั้ง", "error")
        return redirect(url_for("inbox.inbox", tab="waiting"))
    try:
        outcome = bulk.approve_many(principal(), _picks(request.form.getlist("memo"),
                                                        request.form),
                                    comment=form.comment.data or "",
                                    request_info=request_info())
    except WorkflowError as exc:  # the list as a whole: nothing was approved
        flash(exc.message, "error")
        return redirect(url_for("inbox.inbox", tab="waiting"))
    if outcome.approved:
        flash(f"ลงนามแล้ว {thai_digits(len(outcome.approved))} เรื่อง", "success")
    for refusal in outcome.refused:
        flash(f"“{refusal.subject}” ยังไม่ได้ลงนาม: {refusal.error.message}", "error")
    return redirect(url_for("inbox.inbox", tab="waiting"))


@bp.route("/<int:memo_id>/attachments", methods=["POST"])
@login_required
def upload(memo_id: int) -> Any:
    """Attach a file (สิ่งที่ส่งมาด้วย) to a draft or returned memo."""
    if not PostForm().validate_on_submit():
        flash("แบบฟอร์มไม่ถูกต้อง กรุณาลองใหม่", "error")
        return redirect(url_for("memos.edit", memo_id=memo_id)), 400
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        queries.require_visible(principal(), memo_id)
        flash("กรุณาเลือกไฟล์", "error")
        return redirect(url_for("memos.edit", memo_id=memo_id))
    try:
        attachments.add(memo_id=memo_id, actor_id=current_user.user_id,
                        filename=upload.filename, stream=upload.stream,
                        request_info=request_info())
    except WorkflowError as exc:
        if exc.status in (403, 404):
            raise
        return _stored_editor(memo_id, errors={"attachment": exc.message}, status=exc.status)
    finally:
        upload.close()  # the spooled temporary file, now rather than at garbage collection
    flash("แนบไฟล์แล้ว", "success")
    return redirect(url_for("memos.edit", memo_id=memo_id))


@bp.route("/<int:memo_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@login_required
def remove_attachment(memo_id: int, attachment_id: int) -> Any:
    """Take a file off a draft or returned memo."""
    if PostForm().validate_on_submit():
        attachments.remove(memo_id=memo_id, attachment_id=attachment_id,
                           actor_id=current_user.user_id, request_info=request_info())
        flash("ลบไฟล์แนบแล้ว", "success")
    return redirect(url_for("memos.edit", memo_id=memo_id))


@bp.route("/<int:memo_id>/attachments/<int:attachment_id>")
@login_required
def download(memo_id: int, attachment_id: int) -> Any:
    """Download an attachment, for those who may read the memo."""
    return send_attachment(attachments.for_download(principal(), memo_id, attachment_id))
