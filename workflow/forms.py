"""Web forms. WTForms gives them CSRF protection and rendering; the pydantic models in
``workflow.models`` remain the one place that decides what a valid memo is."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from .models import (
    ADDRESSEE_MAX,
    CAPACITY_LABELS,
    CODE_MAX,
    MEMO_TYPE_MAX,
    OFFICE_ROLES,
    ROLE_LABELS,
    SUBJECT_MAX,
    URGENCY_LABELS,
)
from .steps import AMOUNT_LENGTH


class LoginForm(FlaskForm):
    # Checked by the sign-in itself: an unknown code is answered like a wrong password.
    office = StringField("รหัสหน่วยงาน", validators=[Length(max=CODE_MAX,
                                                              message="รหัสหน่วยงานยาวเกินไป")])
    username = StringField("ชื่อผู้ใช้", validators=[DataRequired("กรุณากรอกชื่อผู้ใช้"),
                                                    Length(max=64, message="ชื่อผู้ใช้ยาวเกินไป")])
    password = PasswordField("รหัสผ่าน", validators=[DataRequired("กรุณากรอกรหัสผ่าน"),
                                                    Length(max=1024, message="รหัสผ่านยาวเกินไป")])
    remember = BooleanField("จดจำการเข้าสู่ระบบในเครื่องนี้")


class MemoForm(FlaskForm):
    # Limits are repeated as HTML attributes so the phone's keyboard stops the user early;
    # the server still checks through MemoCreate / MemoUpdate.
    subject = StringField("เรื่อง", render_kw={"maxlength": SUBJECT_MAX})
    addressee = StringField("เรียน", render_kw={"maxlength": ADDRESSEE_MAX})
    urgency = SelectField("ชั้นความเร็ว", validate_choice=False,  # MemoCreate judges it
                          choices=[SelectChoice(k.value, v) for k, v in URGENCY_LABELS.items()])
    body = TextAreaField("เนื้อหา")
    route_id = SelectField("สายการเสนอ", validate_choice=False, choices=[])  # the service judges
    memo_type = StringField("ประเภทหนังสือ", render_kw={"maxlength": MEMO_TYPE_MAX})
    amount = StringField("จำนวนเงิน (บาท)", render_kw={"maxlength": AMOUNT_LENGTH,
                                                          "inputmode": "decimal"})
    version = HiddenField()


class ActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    comment = TextAreaField("เกษียน")  # its limit is the service's to judge, with a Thai message
    version = IntegerField(validators=[Optional()])
    # Where a send-back goes: "" for the drafter, else an earlier step's number (the route
    # judges whether the memo passed it).
    target_step = StringField("ส่งกลับไปที่", render_kw={"maxlength": 3})


class BulkApproveForm(FlaskForm):
    """The confirmation of a bulk approval; the memos come as repeated ``memo`` fields, each
    with its ``version_<id>``, read by the view."""

    comment = TextAreaField("เกษียน (ใช้กับทุกเรื่องที่เลือก)")


class SettingsForm(FlaskForm):
    notify_arrivals = BooleanField("ส่งอีเมลเมื่อมีบันทึกข้อความรอท่านพิจารณา")
    daily_digest = BooleanField("รับสรุปรายวันเวลา ๐๘.๓๐ น. แทนอีเมลทีละเรื่อง")


class PostForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class OfficeDayForm(FlaskForm):
    day = StringField("วันที่ (วว/ดด/ปปปป พ.ศ.)", validators=[DataRequired("กรุณากรอกวันที่"),
                                                          Length(max=20, message="วันที่ยาวเกินไป")])
    kind = SelectField("ประเภท", choices=[SelectChoice("holiday", "วันหยุดเพิ่มเติม"),
                                          SelectChoice("working", "วันทำงานเพิ่มเติม")])
    note = StringField("หมายเหตุ", validators=[Length(max=200, message="หมายเหตุยาวเกิน ๒๐๐ ตัวอักษร")])


class OfficeForm(FlaskForm):
    """A new office and its first administrator, as the platform administrator types it;
    the platform service judges every value."""

    code = StringField("รหัสหน่วยงาน (อักษรอังกฤษตัวเล็ก เช่น thatoom)",
                       render_kw={"maxlength": CODE_MAX, "autocapitalize": "off",
                                  "spellcheck": "false"})
    name = StringField("ชื่อหน่วยงาน", render_kw={"maxlength": 200})
    admin_username = StringField("ชื่อผู้ใช้ของผู้ดูแลระบบหน่วยงาน",
                                 render_kw={"maxlength": 64, "autocapitalize": "off"})
    admin_full_name = StringField("ชื่อ-สกุลของผู้ดูแลระบบ (พร้อมคำนำหน้า)",
                                  render_kw={"maxlength": 200})
    admin_email = StringField("อีเมลของผู้ดูแลระบบ (ระบบจะส่งลิงก์เชิญตั้งรหัสผ่าน)",
                              render_kw={"maxlength": 254, "inputmode": "email"})


class PasswordForm(FlaskForm):
    old_password = PasswordField("รหัสผ่านเดิม", validators=[DataRequired("กรุณากรอกรหัสผ่านเดิม")])
    new_password = PasswordField("รหัสผ่านใหม่", validators=[DataRequired("กรุณากรอกรหัสผ่านใหม่")])
    confirm = PasswordField("ยืนยันรหัสผ่านใหม่",
                            validators=[DataRequired("กรุณายืนยันรหัสผ่านใหม่"),
                                        EqualTo("new_password", "รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน")])


class OfficeSettingsForm(FlaskForm):
    """The office's settings; the office service judges every value, with Thai messages."""

    name = StringField("ชื่อหน่วยงาน", render_kw={"maxlength": 200})
    unit_line = StringField("ส่วนราชการ (บรรทัดหัวบันทึกข้อความ)", render_kw={"maxlength": 300})
    phone = StringField("โทรศัพท์", render_kw={"maxlength": 100})
    doc_prefix = StringField("รหัสเลขที่หนังสือ (ที่)", render_kw={"maxlength": 50})
    arabic_digits = BooleanField("ใช้เลขอารบิก (1 2 3) ในเลขที่และวันที่ของเอกสาร แทนเลขไทย")
    numbering_point = SelectField(
        "ออกเลขที่หนังสือเมื่อ", validate_choice=False,  # the service judges it, in Thai
        choices=[SelectChoice("approval", "ได้รับอนุมัติ (ลงนามครบ)"),
                 SelectChoice("submission", "เสนอเรื่อง")])
    require_endorsement = BooleanField("ผู้ลงนามต้องเขียนเกษียนทุกครั้ง")
    office_opens = StringField("เปิดทำการ", render_kw={"maxlength": 8, "inputmode": "numeric"})
    office_closes = StringField("ปิดทำการ", render_kw={"maxlength": 8, "inputmode": "numeric"})
    escalate_after = StringField("แจ้งผู้ร่างว่าเรื่องค้าง เมื่อเตือนครบ (ครั้ง)",
                                 render_kw={"maxlength": 3, "inputmode": "numeric"})
    attachments_per_memo = StringField("จำนวนไฟล์แนบสูงสุดต่อบันทึก",
                                       render_kw={"maxlength": 4, "inputmode": "numeric"})
    storage_quota_mb = StringField("พื้นที่เก็บไฟล์แนบของหน่วยงาน (MB)",
                                   render_kw={"maxlength": 8, "inputmode": "numeric"})
    holders_may_appoint = BooleanField("ผู้ดำรงตำแหน่งแต่งตั้งผู้รักษาราชการแทนตนเองได้ "
                                       "(ไม่ต้องผ่านผู้ดูแลระบบ)")
    drafters_may_circulate = BooleanField("ผู้ร่างแจ้งเวียนบันทึกที่อนุมัติแล้วเองได้ "
                                          "(นอกจากผู้ลงนามคนสุดท้าย)")
    seen = HiddenField()  # the settings as this form showed them: a stale tab is refused

    @staticmethod
    def reminder_field(urgency: str, key: str) -> str:
        """The name of the field for one urgency's first or repeat reminder."""
        return f"reminder_policy_{urgency}_{key}"


for _urgency in URGENCY_LABELS:
    for _key, _label in (("first", "เตือนครั้งแรกหลัง"), ("repeat", "เตือนซ้ำทุก")):
        setattr(OfficeSettingsForm, OfficeSettingsForm.reminder_field(_urgency, _key),
                StringField(f"{URGENCY_LABELS[_urgency]}: {_label}", render_kw={"maxlength": 10}))


class PersonForm(FlaskForm):
    """An account, as the administrator edits it; the people service judges every value."""

    username = StringField("ชื่อผู้ใช้ (อักษรอังกฤษตัวเล็ก)", render_kw={"maxlength": 64,
                                                                    "autocapitalize": "off"})
    full_name = StringField("ชื่อ-สกุล (พร้อมคำนำหน้า)", render_kw={"maxlength": 200})
    email = StringField("อีเมล", render_kw={"maxlength": 254, "inputmode": "email"})
    roles = SelectMultipleField("บทบาท", validate_choice=False,
                                choices=[SelectChoice(role.value, ROLE_LABELS[role])
                                         for role in OFFICE_ROLES])
    password = PasswordField("รหัสผ่าน (เว้นว่างไว้ได้: ระบบจะส่งลิงก์ให้ผู้ใช้ตั้งเองทางอีเมล)",
                             render_kw={"autocomplete": "new-password"})
    seen = HiddenField()  # the record as this form showed it: a stale tab is refused


class PositionForm(FlaskForm):
    title = StringField("ชื่อตำแหน่ง", render_kw={"maxlength": 200})
    division = StringField("กอง/สำนัก (ถ้ามี)", render_kw={"maxlength": 100})
    holder_id = SelectField("ผู้ดำรงตำแหน่ง", validate_choice=False, choices=[])
    seen = HiddenField()


class ImportForm(FlaskForm):
    """Step one uploads the file; step two confirms it, carrying the same bytes back."""

    file = FileField("ไฟล์ CSV (UTF-8)")
    content = HiddenField()  # base64 of the previewed file, on the confirm step


class RouteForm(FlaskForm):
    """Name and kind; the ordered steps are read from the repeated ``steps`` select."""

    name = StringField("ชื่อสายการเสนอ", render_kw={"maxlength": 200})
    memo_type = StringField("ใช้กับหนังสือประเภท", render_kw={"maxlength": 200})
    is_default = BooleanField("ใช้เป็นสายการเสนอหลักของหน่วยงาน")
    seen = HiddenField()


class AppointmentForm(FlaskForm):
    position_id = SelectField("ตำแหน่งที่ให้รักษาราชการแทน", validate_choice=False, choices=[])
    acting_user_id = SelectField("ผู้ได้รับแต่งตั้ง", validate_choice=False, choices=[])
    capacity = SelectField("ฐานะ", validate_choice=False,
                           choices=[SelectChoice(k.value, v) for k, v in CAPACITY_LABELS.items()])
    starts_on = StringField("ตั้งแต่วันที่ (วว/ดด/ปปปป พ.ศ.)", render_kw={"maxlength": 20})
    ends_on = StringField("ถึงวันที่ (วว/ดด/ปปปป พ.ศ.)", render_kw={"maxlength": 20})
    order_no = StringField("คำสั่งที่", render_kw={"maxlength": 100})
    holder_absent = BooleanField(
        "ผู้ดำรงตำแหน่งไม่อยู่ในช่วงนี้ (ลา/ไปราชการ) — ให้ผู้ได้รับแต่งตั้งพิจารณาแทนแต่ผู้เดียว",
        default=True)
    note = StringField("หมายเหตุ", render_kw={"maxlength": 300})


class CirculateForm(FlaskForm):
    """Whom to circulate an approved memo to (แจ้งเวียน); the circulation service judges the
    choice, with Thai messages."""

    position_ids = SelectMultipleField("ตำแหน่ง", validate_choice=False, choices=[])
    divisions = SelectMultipleField("กอง/สำนัก", validate_choice=False, choices=[])
    all_staff = BooleanField("บุคลากรทั้งหมดของหน่วยงาน")


class AcknowledgeForm(FlaskForm):
    """ทราบ: a recipient acknowledges a circulated memo, with an optional short note."""

    note = StringField("หมายเหตุ (ถ้ามี)", render_kw={"maxlength": 200})
    back = HiddenField()  # "inbox" to return to the เวียนทราบ tab; else the memo page
