"""An office from nothing to its first approved memo, and an acting officer, in Chromium.

The first test starts from an empty database: the real ``create-admin`` command makes the
first administrator, who then sets the office up in the browser (settings, a CSV of staff,
the route); the invitations arrive as real email (aiosmtpd), the clerk and the four signers
set their passwords through the emailed links, and the seed memo goes up the route to its
number. The second test has the demo office appoint an acting permanent secretary
(รักษาราชการแทน), who signs in that capacity, on the page, in the PDF and in the audit trail,
until the appointment ends.

Every step leaves a full-page screenshot in ``tests/artifacts/<test>/``.
"""

from __future__ import annotations

import re
import subprocess
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, Response, expect
from sqlmodel import col, select

from tests.browser.test_memo_route import Shots
from workflow.demo.seed import SEED_SUBJECT
from workflow.extensions import db
from workflow.models import Memo, Notification, NotificationKind, NotificationStatus, User
from workflow.office.calendar import office_today
from workflow.outbox import delivery
from workflow.thai import thai_digits

pytestmark = pytest.mark.browser

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "th-TH"}
APPROVE = "ลงนาม/เห็นชอบ"

# -- the office of the seed memo (../shared/seed/progress-memo-2565.txt) -----------------------

OFFICE = "องค์การบริหารส่วนตำบลท่าตูม"
UNIT_LINE = f"สำนักงานปลัด {OFFICE}"
PHONE = "๐-๓๖๗๑-๕๖๒๓ ต่อ ๑๐๑"
DOC_PREFIX = "สป ๓๔๕๐๑"
SUBJECT = ("รายงานความก้าวหน้าการดำเนินการตามมาตรการเพื่อส่งเสริมคุณธรรมและความโปร่งใส"
           "ภายในหน่วยงาน พ.ศ. ๒๕๖๕")
# (heading, paragraph) as the seed memo is laid out; the closing line has no heading.
BODY = (
    ("เรื่องเดิม",
     "ตามที่สำนักงานคณะกรรมการป้องกันและปราบปรามทุจริตแห่งชาติ ได้ประกาศผลคะแนนการประเมิน"
     "คุณธรรมและความโปร่งใสในการดำเนินงานของหน่วยงานภาครัฐประจำปี พ.ศ. ๒๕๖๔ "
     "เมื่อวันที่ ๒๖ สิงหาคม ๒๕๖๔ องค์การบริหารส่วนตำบลท่าตูม ได้คะแนนภาพรวมของหน่วยงาน "
     "ร้อยละ ๙๗.๐๑ คะแนน อยู่ในระดับ AA ซึ่งถือว่าอยู่ในเกณฑ์ที่ดี นั้น"),
    ("ข้อเท็จจริง",
     "ผลคะแนนการประเมินคุณธรรมและความโปร่งใสในการดำเนินงานของหน่วยงานภาครัฐประจำปี "
     "พ.ศ. ๒๕๖๔ องค์การบริหารส่วนตำบลท่าตูม ได้คะแนนภาพรวม ร้อยละ ๙๗.๐๑ คะแนน "
     "เมื่อเทียบกับ ปี พ.ศ. ๒๕๖๓ ได้คะแนนภาพรวม ร้อยละ ๖๓.๕๒ คะแนน"),
    ("ข้อพิจารณา",
     "สำนักงานปลัด จึงรายงานความก้าวหน้าการดำเนินการตามมาตรการเพื่อส่งเสริมคุณธรรมและ"
     "ความโปร่งใสภายในหน่วยงาน พ.ศ. ๒๕๖๕ รายละเอียดปรากฏตามเอกสารที่แนบมาพร้อมนี้"),
    ("", "จึงเรียนมาเพื่อโปรดทราบ และพิจารณาดำเนินการต่อไป"),
)

HEAD = "หัวหน้าสำนักปลัด"
DEPUTY = f"รองปลัด{OFFICE}"
PERMSEC = f"ปลัด{OFFICE}"
CHIEF = f"นายก{OFFICE}"
CLERK_POST = "เจ้าพนักงานธุรการ"
ACTING_LINE = "รักษาราชการแทนปลัดองค์การบริหารส่วนตำบล"

# username, full name, position (or ""), roles: the four signers of the seed memo, a clerk
# and seven more of the office (three of them without a post).
STAFF = (
    ("isari", "นางสาวอิสริย์ ผดุงทศ", HEAD, ""),
    ("kritsana", "นางกฤษณา พรพิมล", DEPUTY, ""),
    ("arada", "นางอาราดา แตนวงศ์", PERMSEC, ""),
    ("somkid", "นายสมคิด ดันทางกุล", CHIEF, ""),
    ("pimchanok", "นางสาวพิมพ์ชนก ศรีสุข", CLERK_POST, "clerk"),
    ("bangoen", "นางบังเอิญ ดงสิงห์", "นักจัดการงานทั่วไป", "clerk"),
    ("sunisa", "นางสุนิษา เหมอชาติ", "นักวิเคราะห์นโยบายและแผน", "clerk"),
    ("juthamanee", "นางจุฑามณี ปิ่นเพชร", "นิติกร", ""),
    ("prayat", "นายประหยัด คลังดี", "ผู้อำนวยการกองคลัง", ""),
    ("wilaiwan", "นางวิไลวรรณ ตรวจตรา", "", "auditor"),
    ("chaiwat", "นายชัยวัฒน์ ช่างดี", "", "clerk"),
    ("malee", "นางสาวมาลี ใจงาม", "", ""),
)
SIGNERS = (  # username, position, the endorsement they write (เกษียน)
    ("isari", HEAD, "เรียน รองปลัด อบต. เพื่อโปรดพิจารณา"),
    ("kritsana", DEPUTY, "เรียน ปลัด อบต. เห็นควรนำเสนอนายกเพื่อโปรดทราบ"),
    ("arada", PERMSEC, "เห็นควรนำเรียนนายกเพื่อโปรดทราบ"),
    ("somkid", CHIEF, "ทราบ อนุมัติ"),
)
CLERK = "pimchanok"
NAME = {username: full_name for username, full_name, _, _ in STAFF}
EMAIL = {username: f"{username}@thatoom.example.com" for username, *_ in STAFF}
ROUTE_NAME = "สายการเสนอปกติ (หัวหน้าสำนักปลัด → รองปลัด → ปลัด → นายก)"
ADMIN = ("thanapon", "นายธนพล รักษ์ระบบ", "thanapon@thatoom.example.com", "Rak-Rabob-2569!")
LINK = re.compile(r"http://localhost(/password/reset/[A-Za-z0-9_-]+)")

# -- the acting officer -----------------------------------------------------------------------

FINANCE = ("finance", "นายประหยัด คลังดี", "finance@example.com", "Kl@ng-Dee-2569")
FINANCE_POST = "ผู้อำนวยการกองการศึกษา"
ORDER_NO = "๑๒๓/๒๕๖๙"


@pytest.fixture
def app(make_app: Any, smtp_server: Any) -> Flask:
    """The app mailing the aiosmtpd sink; no broker, so the test delivers the outbox itself."""
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,  # type: ignore[no-any-return]
                    REDIS_URL="")


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    expect(page.locator("h1")).to_have_text("เข้าสู่ระบบ")
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
    expect(page).to_have_url(re.compile(r"/inbox"))


def flash(page: Page) -> Any:
    return page.locator(".flash-success")


def nav(page: Page, label: str) -> None:
    page.locator("nav.topnav a.navlink", has_text=label).click()


def memo_link(page: Page, subject: str) -> Any:
    return page.locator(".memo-item .memo-link").filter(has_text=subject)


def state(page: Page) -> Any:
    return page.get_by_test_id("memo-state")


def confirm(page: Page, *, quote: str | None = None) -> Response:
    """The confirmation dialog is up: check it, press ยืนยัน, return the POST's response."""
    dialog = page.locator("dialog[data-confirm-dialog]")
    expect(dialog).to_be_visible()
    expect(dialog.locator("[data-confirm-text]")).to_contain_text("ยืนยัน")
    if quote is not None:
        expect(dialog.locator("[data-confirm-comment]")).to_have_text(quote)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.locator("[data-confirm-ok]").click()
    page.wait_for_load_state("load")
    response = posted.value
    error = page.get_by_test_id("action-error")
    assert response.status == 302, f"{response.status} {error.all_inner_texts()}"
    return response


def endorse_and_approve(page: Page, comment: str) -> None:
    """Write the endorsement (เกษียน) in the action panel and approve, confirming it."""
    panel = page.get_by_test_id("action-panel")
    expect(panel.locator("h2")).to_have_text("พิจารณาและเกษียน")
    panel.locator("textarea[data-comment]").fill(comment)
    panel.locator(".actions").get_by_role("button", name=APPROVE, exact=True).click()
    confirm(page, quote=comment)
    expect(flash(page)).to_have_text("ลงนามแล้ว")
    expect(page.get_by_test_id("action-panel")).to_have_count(0)


def deliver_outbox(app: Flask) -> list[int]:
    """Send every due email in the outbox, as the worker's sweep would."""
    with app.app_context():
        due = delivery.sweep()
        for notification_id in due:
            assert delivery.deliver(notification_id) == "sent", notification_id
    return due


def nfkd(text: str) -> str:
    """Compare Thai under NFKD (ำ may come out as ํ + า) and without line breaks."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKD", text))


def staff_csv() -> str:
    lines = ["username,full_name,email,position,roles"]
    lines += [f"{u},{name},{EMAIL[u]},{post},{roles}" for u, name, post, roles in STAFF]
    return "\n".join(lines) + "\n"


def set_password_by_email(page: Page, smtp_server: Any, username: str, password: str) -> None:
    """Open the link in the person's invitation email and set their first password there."""
    [message] = smtp_server.to(EMAIL[username])
    assert str(message["Subject"]) == f"เชิญตั้งรหัสผ่านเข้าใช้ระบบสารบรรณ {OFFICE}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"เรียน {NAME[username]}" in text
    assert f"ผู้ดูแลระบบได้สร้างบัญชี \"{username}\"" in text and "๗ วัน" in text
    match = LINK.search(text)
    assert match, text
    page.goto(match.group(1))
    expect(page.locator("h1")).to_have_text("ตั้งรหัสผ่านใหม่")
    expect(page.locator("section.card")).to_contain_text(f"สำหรับบัญชี {username} ({NAME[username]})")
    page.fill("#new_password", password)
    page.fill("#confirm", password)
    page.get_by_role("button", name="บันทึกรหัสผ่านใหม่").click()
    expect(page).to_have_url(re.compile(r"/login"))
    expect(flash(page)).to_contain_text("ตั้งรหัสผ่านใหม่แล้ว กรุณาเข้าสู่ระบบด้วยรหัสผ่านใหม่")


def type_body(page: Page) -> None:
    """Type the body into the editor as a clerk would: headings and paragraphs."""
    editor = page.locator("[data-editor]")
    toolbar = page.locator("[data-editor-toolbar]")
    expect(editor).to_be_visible()
    editor.click()
    for index, (heading, paragraph) in enumerate(BODY):
        if index:
            page.keyboard.press("Enter")
        if heading:
            toolbar.get_by_role("button", name="หัวข้อ").click()
            page.keyboard.insert_text(heading)
            page.keyboard.press("Enter")
        toolbar.get_by_role("button", name="ย่อหน้า").click()
        page.keyboard.insert_text(paragraph)


# -- test 1 ----------------------------------------------------------------------------------


def test_a_new_office_sets_itself_up_in_the_browser(
        app: Flask, open_page: Callable[[], Page], smtp_server: Any, shots: Shots,
        tmp_path: Path) -> None:
    with app.app_context():
        assert db.session.exec(select(User)).first() is None  # an empty database

    # 1. The first administrator, by the real command line.
    username, full_name, email, password = ADMIN
    result = app.test_cli_runner().invoke(args=[
        "create-admin", "--username", username, "--full-name", full_name, "--email", email,
        "--office", "อบต.ท่าตูม"], env={"ADMIN_PASSWORD": password})
    assert result.exit_code == 0, result.output
    assert f"สร้างผู้ดูแลระบบ {username} แล้ว" in result.output

    # 2. The administrator, in the browser: the hub and the office settings.
    admin = open_page()
    log_in(admin, username, password)
    expect(admin.locator(".who-name")).to_have_text(full_name)
    nav(admin, "ผู้ดูแลระบบ")
    expect(admin).to_have_url(re.compile(r"/admin$"))
    expect(admin.locator("h1")).to_have_text("ผู้ดูแลระบบ")
    steps = admin.locator("ol.setup-steps")
    expect(steps).to_contain_text("(๑ คน)")
    expect(steps).to_contain_text("(๐ ตำแหน่ง)")
    expect(steps).to_contain_text("(๐ สาย)")
    shots(admin, "admin-hub-empty-office")

    admin.get_by_role("link", name="ตั้งค่าหน่วยงาน").click()
    expect(admin).to_have_url(re.compile(r"/admin/office$"))
    expect(admin.locator("h1")).to_have_text("ตั้งค่าหน่วยงาน")
    expect(admin.locator("#name")).to_have_value("อบต.ท่าตูม")
    admin.fill("#name", OFFICE)
    admin.fill("#unit_line", UNIT_LINE)
    admin.fill("#phone", PHONE)
    admin.fill("#doc_prefix", DOC_PREFIX)
    admin.get_by_role("button", name="บันทึกการตั้งค่า").click()
    expect(flash(admin)).to_have_text("บันทึกการตั้งค่าหน่วยงานแล้ว")
    for field, value in (("#name", OFFICE), ("#unit_line", UNIT_LINE), ("#phone", PHONE),
                         ("#doc_prefix", DOC_PREFIX)):
        expect(admin.locator(field)).to_have_value(value)
    shots(admin, "office-settings-saved")

    # The staff list, from a CSV file: preview first, then confirm.
    nav(admin, "ผู้ดูแลระบบ")
    admin.get_by_role("link", name="นำเข้ารายชื่อบุคลากรจากไฟล์ CSV").click()
    expect(admin.locator("h1")).to_have_text("นำเข้ารายชื่อบุคลากรจากไฟล์ CSV")
    csv_file = tmp_path / "บุคลากร-อบต-ท่าตูม.csv"
    csv_file.write_text(staff_csv(), encoding="utf-8")
    admin.set_input_files("#file", csv_file)
    admin.get_by_role("button", name="ตรวจสอบไฟล์").click()
    expect(admin.locator("h2")).to_have_text("ตัวอย่าง: จะนำเข้า ๑๒ คน")
    rows = admin.get_by_test_id("import-preview").locator("tbody tr")
    expect(rows).to_have_count(12)
    expect(rows.locator("td:nth-child(2)")).to_have_text([u for u, *_ in STAFF])
    expect(rows.locator("td:nth-child(3)")).to_have_text([n for _, n, _, _ in STAFF])
    with_post = sum(1 for *_, post, _ in STAFF if post)
    expect(rows.filter(has_text="(ตำแหน่งใหม่)")).to_have_count(with_post)
    # Whoever holds a post signs in it; the file need not say so.
    expect(rows.nth(0).locator("td:nth-child(6)")).to_contain_text("signer")
    expect(rows.nth(11).locator("td:nth-child(5)")).to_have_text("—")
    expect(admin.get_by_test_id("import-errors")).to_have_count(0)
    with app.app_context():  # nothing saved by the preview
        assert len(db.session.exec(select(User)).all()) == 1
    shots(admin, "import-preview")
    admin.get_by_test_id("confirm-import").click()
    expect(admin).to_have_url(re.compile(r"/admin/users$"))
    expect(flash(admin)).to_have_text(
        "นำเข้า ๑๒ คนแล้ว ระบบส่งลิงก์ตั้งรหัสผ่านให้ทุกคนทางอีเมล")
    users_table = admin.get_by_test_id("users").locator("tbody tr")
    expect(users_table).to_have_count(13)
    expect(users_table.filter(has_text=NAME["arada"])).to_contain_text(PERMSEC)
    shots(admin, "users-imported")

    # The route: the four signers' posts in order, the office's default.
    nav(admin, "ผู้ดูแลระบบ")
    admin.locator("ol.setup-steps").get_by_role("link", name="สายการเสนอ").click()
    expect(admin.locator("h1")).to_have_text("สายการเสนอ")
    expect(admin.locator("p.empty")).to_have_text("ยังไม่มีสายการเสนอ")
    admin.get_by_role("link", name="+ สร้างสายการเสนอ").click()
    expect(admin).to_have_url(re.compile(r"/admin/routes/new$"))
    expect(admin.locator("h1")).to_have_text("สร้างสายการเสนอ")
    admin.fill("#name", ROUTE_NAME)
    for step, (signer, post, _) in enumerate(SIGNERS):
        admin.get_by_test_id(f"step-{step}").get_by_role(
            "checkbox", name=f"{post} ({NAME[signer]})", exact=True).check()
    admin.check("#is_default")
    shots(admin, "route-editor")
    admin.get_by_role("button", name="บันทึกสายการเสนอ").click()
    expect(admin).to_have_url(re.compile(r"/admin/routes$"))
    expect(flash(admin)).to_have_text("บันทึกสายการเสนอแล้ว เรื่องที่เสนอไปแล้วยังคงใช้สายเดิม")
    route_row = admin.get_by_test_id("routes").locator(".memo-item")
    expect(route_row).to_have_count(1)
    expect(route_row.locator(".memo-subject")).to_contain_text(ROUTE_NAME)
    expect(route_row.locator(".state")).to_have_text("สายหลัก")
    expect(route_row.locator("ol.route-inline li")).to_have_text([p for _, p, _ in SIGNERS])
    shots(admin, "routes")

    nav(admin, "ผู้ดูแลระบบ")
    expect(steps).to_contain_text("(๑๓ คน)")
    expect(steps).to_contain_text(f"({thai_digits(with_post)} ตำแหน่ง)")
    expect(steps).to_contain_text("(๑ สาย)")
    expect(admin.locator(".flash-info")).to_have_count(0)  # no post is vacant
    shots(admin, "admin-hub-set-up")

    # 3. Everyone imported has a real invitation email; five of them set their password.
    assert len(deliver_outbox(app)) == 12
    messages = smtp_server.wait_for(12)
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in messages) == sorted(
        EMAIL.values())
    with app.app_context():
        invites = db.session.exec(select(Notification).where(
            Notification.kind == NotificationKind.PASSWORD_RESET)).all()
        assert len(invites) == 12
        assert {n.status for n in invites} == {NotificationStatus.SENT}

    def password_of(person: str) -> str:
        return f"Thatoom-{person}-2569"

    pages: dict[str, Page] = {}
    for person in (CLERK, *(s for s, _, _ in SIGNERS)):
        page = open_page()
        set_password_by_email(page, smtp_server, person, password_of(person))
        pages[person] = page
    shots(pages[CLERK], "clerk-password-set")

    # 4. The clerk drafts the seed memo, saves it, then submits it.
    clerk = pages[CLERK]
    log_in(clerk, CLERK, password_of(CLERK))
    expect(clerk.locator(".who-pos")).to_have_text(CLERK_POST)
    nav(clerk, "+ ร่างบันทึก")
    expect(clerk.locator("h1")).to_have_text("ร่างบันทึกข้อความใหม่")
    expect(clerk.locator("#addressee")).to_have_value(CHIEF)
    clerk.fill("#subject", SUBJECT)
    clerk.locator("#route_id").select_option(label=ROUTE_NAME)
    type_body(clerk)
    shots(clerk, "clerk-drafting")
    clerk.get_by_role("button", name="บันทึกร่าง", exact=True).click()
    expect(flash(clerk)).to_have_text("บันทึกร่างแล้ว")
    expect(clerk).to_have_url(re.compile(r"/memos/\d+/edit$"))
    match = re.search(r"/memos/(\d+)/edit$", clerk.url)
    assert match
    memo_id = int(match.group(1))
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.state == "draft"
        assert memo.unit_line == UNIT_LINE and memo.subject == SUBJECT
        for heading, paragraph in BODY:
            assert paragraph in memo.body
            if heading:
                assert f"<h3>{heading}</h3>" in memo.body
    expect(clerk.locator("#subject")).to_have_value(SUBJECT)
    clerk.get_by_role("button", name="บันทึกและเสนอ", exact=True).click()
    confirm(clerk)
    expect(clerk).to_have_url(re.compile(rf"/memos/{memo_id}$"))
    expect(flash(clerk)).to_have_text("เสนอบันทึกข้อความแล้ว")
    expect(state(clerk)).to_have_attribute("data-state", "pending_1")
    expect(state(clerk)).to_have_text("รอพิจารณา ลำดับที่ ๑")
    head = clerk.locator(".paper-head")
    expect(head).to_contain_text(f"{UNIT_LINE} โทร {PHONE}")
    expect(clerk.get_by_test_id("memo-number")).to_have_text(f"{DOC_PREFIX}/(ยังไม่ออกเลข)")
    expect(clerk.get_by_test_id("memo-subject")).to_have_text(SUBJECT)
    expect(clerk.locator(".paper-to")).to_have_text(f"เรียน {CHIEF}")
    expect(clerk.locator(".memo-body h3")).to_have_text([h for h, _ in BODY if h])
    expect(clerk.get_by_test_id("route").locator(".step-pos")).to_have_text(
        [p for _, p, _ in SIGNERS])
    shots(clerk, "clerk-submitted")

    # Each signer in turn: inbox, memo, endorsement, approval.
    for step, (signer, post, comment) in enumerate(SIGNERS, start=1):
        page = pages[signer]
        log_in(page, signer, password_of(signer))
        active = page.locator("nav.tabs .tab.active")
        expect(active).to_contain_text("รอฉันพิจารณา")
        expect(active.locator(".badge")).to_have_text("๑")
        expect(memo_link(page, SUBJECT)).to_contain_text(f"รอพิจารณา ลำดับที่ {thai_digits(step)}")
        expect(memo_link(page, SUBJECT)).to_contain_text(NAME[CLERK])
        if step == 1:
            shots(page, f"{signer}-inbox")
        memo_link(page, SUBJECT).click()
        expect(page).to_have_url(re.compile(rf"/memos/{memo_id}$"))
        expect(state(page)).to_have_attribute("data-state", f"pending_{step}")
        current = page.get_by_test_id("route").locator(".route-step.current")
        expect(current.locator(".step-pos")).to_have_text(post)
        expect(current.locator(".step-holder")).to_have_text(NAME[signer])
        endorse_and_approve(page, comment)
        final = "approved" if step == len(SIGNERS) else f"pending_{step + 1}"
        expect(state(page)).to_have_attribute("data-state", final)
        if step == 1:
            shots(page, f"{signer}-approved")

    # The memo is approved and numbered; the clerk sees the same.
    chief = pages["somkid"]
    expect(state(chief)).to_have_text("อนุมัติแล้ว")
    number = chief.get_by_test_id("memo-number")
    expect(number).to_have_text(re.compile(rf"^{DOC_PREFIX}/[๐-๙]+$"))
    endorsements = chief.get_by_test_id("endorsements").locator(".endorsement")
    expect(endorsements).to_have_count(4)
    expect(endorsements.locator(".endorsement-text")).to_have_text([c for _, _, c in SIGNERS])
    expect(endorsements.locator(".endorsement-by")).to_have_text(
        [f"({NAME[s]})" for s, _, _ in SIGNERS])
    expect(endorsements.locator(".endorsement-pos")).to_have_text([p for _, p, _ in SIGNERS])
    shots(chief, "memo-approved")
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.state == "approved" and memo.number
        issued = memo.number
    assert number.inner_text() == issued

    # The outbox sends each signer's arrival email and the clerk's news of the approval.
    assert len(deliver_outbox(app)) == len(SIGNERS) + 1
    for person in (*(s for s, _, _ in SIGNERS), CLERK):
        about = [m for m in smtp_server.to(EMAIL[person]) if SUBJECT in str(m["Subject"])]
        assert len(about) == 1, (person, [str(m["Subject"]) for m in smtp_server.to(EMAIL[person])])

    clerk.goto(f"/memos/{memo_id}")
    expect(state(clerk)).to_have_text("อนุมัติแล้ว")
    notices = clerk.get_by_test_id("notifications").locator(".notice")
    expect(notices).to_have_count(len(SIGNERS) + 1)
    expect(notices.locator(".notice-status")).to_contain_text(["ส่งแล้ว"] * (len(SIGNERS) + 1))
    expect(clerk.get_by_test_id("memo-number")).to_have_text(issued)
    shots(clerk, "clerk-sees-approved-memo")


# -- test 2 ----------------------------------------------------------------------------------


def test_an_acting_officer_signs_for_the_absent_permanent_secretary(
        app: Flask, demo: dict[str, int], api: Any, open_page: Callable[[], Page],
        live_server: str, shots: Shots, artifacts: Path, tmp_path: Path) -> None:
    memo_id = demo["memo_id"]
    username, full_name, email, password = FINANCE

    # The administrator adds the finance director, their post, and the appointment order.
    admin = open_page()
    log_in(admin, "admin", "demo")
    admin.goto("/admin/users")
    expect(admin.locator("h1")).to_have_text("ผู้ใช้งาน")
    admin.fill("#username", username)
    admin.fill("#full_name", full_name)
    admin.fill("#email", email)
    admin.locator("#roles").select_option(["signer"])
    admin.fill("#password", password)
    admin.get_by_role("button", name="เพิ่มผู้ใช้", exact=True).click()
    expect(flash(admin)).to_have_text(f"เพิ่มผู้ใช้ {full_name} แล้ว")
    expect(admin.get_by_test_id("users").locator("tbody tr").filter(has_text=username)
           ).to_contain_text(email)

    admin.goto("/admin/positions")
    expect(admin.locator("h1")).to_have_text("ตำแหน่งและผู้ดำรงตำแหน่ง")
    admin.fill("#title", FINANCE_POST)
    admin.locator("#holder_id").select_option(label=f"{full_name} ({username})")
    admin.get_by_role("button", name="บันทึก", exact=True).click()
    expect(flash(admin)).to_have_text("บันทึกตำแหน่งแล้ว")
    expect(admin.get_by_test_id("positions").locator("tbody tr").filter(has_text=FINANCE_POST)
           ).to_contain_text(full_name)

    with app.app_context():
        today = office_today()
    ends = today + timedelta(days=14)
    admin.goto("/appointments")
    expect(admin.locator("h1")).to_have_text("ผู้รักษาราชการแทน / ปฏิบัติราชการแทน")
    expect(admin.locator("p.empty")).to_have_text("ยังไม่มีคำสั่งแต่งตั้ง")
    admin.locator("#position_id").select_option(label=PERMSEC)
    admin.locator("#acting_user_id").select_option(label=f"{full_name} — {FINANCE_POST}")
    admin.locator("#capacity").select_option(label="รักษาราชการแทน")
    admin.fill("#order_no", ORDER_NO)
    # The start as the office types it (Buddhist era), the end in ISO form.
    admin.fill("#starts_on", f"{today.day}/{today.month}/{today.year + 543}")
    admin.fill("#ends_on", ends.isoformat())
    admin.fill("#note", "ปลัดลาพักผ่อน")
    admin.check("#holder_absent")
    admin.get_by_role("button", name="บันทึกคำสั่ง").click()
    expect(flash(admin)).to_have_text("บันทึกคำสั่งแต่งตั้งแล้ว")
    row = admin.get_by_test_id("appointments").locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(PERMSEC)
    expect(row).to_contain_text("ผู้ดำรงตำแหน่ง: นางอาราดา แตนวงศ์ (ไม่อยู่)")
    expect(row).to_contain_text(full_name)
    expect(row).to_contain_text("รักษาราชการแทน")
    expect(row).to_contain_text(ORDER_NO)
    expect(row).to_contain_text("มีผลอยู่")
    shots(admin, "appointment-recorded")

    # Two memos wait at the permanent secretary's step (moved along by the API).
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    second_subject = "ขออนุมัติจัดซื้อวัสดุสำนักงาน"
    created = api.call("POST", "/memos", "clerk", json={
        "subject": second_subject, "addressee": CHIEF,
        "body": "<p>ด้วยสำนักปลัดมีความจำเป็นต้องจัดซื้อวัสดุสำนักงาน</p>"})
    assert created.status_code == 201, created.json
    second_id = created.json["id"]
    assert api.act(second_id, "clerk", "submit").status_code == 200
    for memo in (memo_id, second_id):
        for signer in ("head", "deputy"):
            response = api.act(memo, signer, "approve", "เพื่อโปรดพิจารณา")
            assert response.status_code == 200, response.json
        assert response.json["state"] == "pending_3"

    # The acting officer sees both in their inbox, and signs the first.
    finance = open_page()
    log_in(finance, username, password)
    expect(finance.locator(".who-pos")).to_have_text([FINANCE_POST, f"{ACTING_LINE}ท่าตูม"])
    nav(finance, "รอพิจารณา")
    expect(finance).to_have_url(re.compile(r"/inbox\?tab=waiting$"))
    active = finance.locator("nav.tabs .tab.active")
    expect(active).to_contain_text("รอฉันพิจารณา")
    expect(active.locator(".badge")).to_have_text("๒")
    expect(finance.get_by_test_id("waiting-count")).to_have_text("๒")
    for subject in (SEED_SUBJECT, second_subject):
        expect(memo_link(finance, subject)).to_contain_text("รอพิจารณา ลำดับที่ ๓")
    shots(finance, "finance-inbox")

    memo_link(finance, SEED_SUBJECT).click()
    expect(finance).to_have_url(re.compile(rf"/memos/{memo_id}$"))
    expect(state(finance)).to_have_attribute("data-state", "pending_3")
    current = finance.get_by_test_id("route").locator(".route-step.current")
    expect(current.locator(".step-pos")).to_have_text(PERMSEC)
    comment = "เห็นชอบ เห็นควรนำเรียนนายกเพื่อโปรดทราบ"
    endorse_and_approve(finance, comment)
    expect(state(finance)).to_have_attribute("data-state", "pending_4")
    mine = finance.get_by_test_id("endorsements").locator(".endorsement").last
    expect(mine.locator(".endorsement-text")).to_have_text(comment)
    expect(mine.locator(".endorsement-by")).to_have_text(f"({full_name})")
    expect(mine.locator(".endorsement-pos")).to_have_text(
        [FINANCE_POST, f"{ACTING_LINE}ท่าตูม"])
    shots(finance, "memo-acting-signature")
    shots.element(finance.locator("aside.side"), "memo-acting-signature-side")

    # The chief approves; the PDF carries the acting officer's name and capacity.
    done = api.act(memo_id, "chief", "approve", "ทราบ อนุมัติ")
    assert done.status_code == 200 and done.json["state"] == "approved", done.json
    finance.reload()
    expect(state(finance)).to_have_text("อนุมัติแล้ว")
    pdf_response = finance.context.request.get(f"{live_server}/memos/{memo_id}.pdf")
    assert pdf_response.status == 200
    assert pdf_response.headers["content-type"].startswith("application/pdf")
    pdf = artifacts / "memo.pdf"
    pdf.write_bytes(pdf_response.body())
    text = subprocess.run(["pdftotext", "-raw", str(pdf), "-"], check=True,
                          capture_output=True, text=True).stdout
    flat = nfkd(text)
    for expected in (full_name, "รักษาราชการแทน", f"{ACTING_LINE}ท่าตูม", FINANCE_POST,
                     comment):
        assert nfkd(expected) in flat, expected
    for old in artifacts.glob("pdf-page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf),
                    str(artifacts / "pdf-page")], check=True)
    assert list(artifacts.glob("pdf-page-*1.png")), list(artifacts.iterdir())

    # The audit trail names the acting officer and the capacity, and is intact.
    admin.goto(f"/memos/{memo_id}/audit")
    expect(admin.locator("h1")).to_have_text("ประวัติการดำเนินการ")
    expect(admin.get_by_test_id("audit-verdict")).to_have_attribute("data-ok", "true")
    signed = admin.get_by_test_id("audit-timeline").locator("li").filter(
        has_text=f"{APPROVE} — {full_name}")
    expect(signed).to_have_count(1)
    expect(signed).to_contain_text(f"({FINANCE_POST} {ACTING_LINE}ท่าตูม)")
    expect(signed).to_contain_text("รอพิจารณา ลำดับที่ ๓ → รอพิจารณา ลำดับที่ ๔")
    expect(signed).to_contain_text(comment)
    shots(admin, "audit-trail")

    # The appointment ends today: the second memo leaves the acting officer's inbox.
    admin.goto("/appointments")
    admin.get_by_role("button", name="สิ้นสุดวันนี้").click()
    expect(flash(admin)).to_have_text("สิ้นสุดการรักษาราชการแทนแล้ว")
    ended = admin.get_by_test_id("appointments").locator("tbody tr")
    expect(ended).to_contain_text("สิ้นสุดแล้ว")
    expect(ended).to_contain_text("สิ้นสุดก่อนกำหนด")
    expect(admin.get_by_role("button", name="สิ้นสุดวันนี้")).to_have_count(0)
    shots(admin, "appointment-ended")

    finance.goto("/inbox?tab=waiting")
    expect(memo_link(finance, second_subject)).to_have_count(0)
    expect(finance.locator("p.empty")).to_have_text("ไม่มีบันทึกรอท่านพิจารณา")
    expect(finance.locator(".who-pos")).to_have_text([FINANCE_POST])
    shots(finance, "finance-inbox-after-appointment-ended")
    response = finance.goto(f"/memos/{second_id}")
    assert response is not None and response.status == 403

    # The permanent secretary, back, has the second memo again.
    permsec = open_page()
    log_in(permsec, "permsec", "demo")
    expect(memo_link(permsec, second_subject)).to_contain_text("รอพิจารณา ลำดับที่ ๓")
    expect(memo_link(permsec, SEED_SUBJECT)).to_have_count(0)
    with app.app_context():
        states = dict(db.session.exec(select(Memo.id, Memo.state).where(
            col(Memo.id).in_([memo_id, second_id]))).all())
    assert states == {memo_id: "approved", second_id: "pending_3"}
