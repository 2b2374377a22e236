"""Web forms. WTForms gives them CSRF protection and rendering; the pydantic models in
``workflow.models`` remain the one place that decides what a valid memo is."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from .models import ADDRESSEE_MAX, SUBJECT_MAX, URGENCY_LABELS


class LoginForm(FlaskForm):
    username = StringField("ชื่อผู้ใช้", validators=[DataRequired("กรุณากรอกชื่อผู้ใช้"),
                                                    Length(max=64)])
    password = PasswordField("รหัสผ่าน", validators=[DataRequired("กรุณากรอกรหัสผ่าน"),
                                                    Length(max=1024)])
    remember = BooleanField("จดจำการเข้าสู่ระบบในเครื่องนี้")


class MemoForm(FlaskForm):
    # Limits are repeated as HTML attributes so the phone's keyboard stops the user early;
    # the server still checks through MemoCreate / MemoUpdate.
    subject = StringField("เรื่อง", render_kw={"maxlength": SUBJECT_MAX})
    addressee = StringField("เรียน", render_kw={"maxlength": ADDRESSEE_MAX})
    urgency = SelectField("ชั้นความเร็ว", validate_choice=False,  # MemoCreate judges it
                          choices=[SelectChoice(k.value, v) for k, v in URGENCY_LABELS.items()])
    body = TextAreaField("เนื้อหา")
    version = HiddenField()


class ActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    comment = TextAreaField("เกษียน")  # its limit is the service's to judge, with a Thai message
    version = IntegerField(validators=[Optional()])


class SettingsForm(FlaskForm):
    notify_arrivals = BooleanField("ส่งอีเมลเมื่อมีบันทึกข้อความรอท่านพิจารณา")
    daily_digest = BooleanField("รับสรุปรายวันเวลา ๐๘.๓๐ น. แทนอีเมลทีละเรื่อง")


class PostForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class OfficeDayForm(FlaskForm):
    day = StringField("วันที่ (วว/ดด/ปปปป พ.ศ.)", validators=[DataRequired("กรุณากรอกวันที่"),
                                                          Length(max=20)])
    kind = SelectField("ประเภท", choices=[SelectChoice("holiday", "วันหยุดเพิ่มเติม"),
                                          SelectChoice("working", "วันทำงานเพิ่มเติม")])
    note = StringField("หมายเหตุ", validators=[Length(max=200)])


class PasswordForm(FlaskForm):
    old_password = PasswordField("รหัสผ่านเดิม", validators=[DataRequired("กรุณากรอกรหัสผ่านเดิม")])
    new_password = PasswordField("รหัสผ่านใหม่", validators=[DataRequired("กรุณากรอกรหัสผ่านใหม่")])
    confirm = PasswordField("ยืนยันรหัสผ่านใหม่",
                            validators=[DataRequired("กรุณายืนยันรหัสผ่านใหม่"),
                                        EqualTo("new_password", "รหัสผ่านใหม่ทั้งสองช่องไม่ตรงกัน")])
