"""A second office on one installation, from the platform administrator to its first
approved memo, and its suspension, in headless Chromium.

The installation already serves the demo office (thatoom). The real ``create-platform-admin``
command makes a platform administrator, who signs in with the office code ``platform`` and
creates the office หนองบัว on /platform; its administrator's invitation arrives as real
email (aiosmtpd), they set a password through its link, sign in with the new office's code,
set the office up (settings, three people, their posts, a two-step route), and the clerk's
memo goes up the route to its number. Then the platform administrator suspends the office:
its administrator's next page load lands on the login page and signing in is refused in
Thai, while the demo office carries on; reactivation brings access back.

Key pages are photographed at 1280 px and at 360 px in ``tests/artifacts/<test>/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlmodel import select

from tests.browser.test_memo_route import Shots
from tests.browser.test_office_setup import (
    confirm,
    deliver_outbox,
    endorse_and_approve,
    flash,
    memo_link,
    nav,
    state,
)
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.identity.sessions import SUSPENDED_MESSAGE
from workflow.models import Memo, Organization, Role, User

pytestmark = pytest.mark.browser

DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}, "locale": "th-TH"}
NARROW = {"width": 360, "height": 740}
LINK = re.compile(r"http://localhost(/password/reset/[A-Za-z0-9_-]+)")

ROOT_ADMIN = ("root1", "นายกลาง ดูแลระบบ", "root1@platform.example", "ผู้ดูแลกลาง-2569")
CODE = "nongbua"
OFFICE = "องค์การบริหารส่วนตำบลหนองบัว"
ADMIN = ("somsak", "นายสมศักดิ์ ใจดี", "somsak@nongbua.example", "Nongbua-Admin-2569")
UNIT_LINE = f"สำนักงานปลัด {OFFICE}"
DOC_PREFIX = "นบ ๗๗๐๐๑"
CLERK_POST = "เจ้าพนักงานธุรการ"
HEAD_POST = "หัวหน้าสำนักปลัด"
CHIEF_POST = f"นายก{OFFICE}"
# username, full name, role, post
PEOPLE = (
    ("malai", "นางสาวมาลัย ศรีหนองบัว", "clerk", CLERK_POST),
    ("prasert", "นายประเสริฐ ทองดี", "signer", HEAD_POST),
    ("wichai", "นายวิชัย บัวงาม", "signer", CHIEF_POST),
)
NAME = {username: full_name for username, full_name, _, _ in PEOPLE}
ROUTE_NAME = "สายการเสนอ (หัวหน้าสำนักปลัด → นายก)"
SIGNERS = (("prasert", HEAD_POST, "เรียน นายก อบต. เพื่อโปรดพิจารณา"),
           ("wichai", CHIEF_POST, "ทราบ อนุมัติ"))
SUBJECT = "ขออนุมัติจัดซื้อวัสดุสำนักงาน ประจำปีงบประมาณ พ.ศ. ๒๕๖๙"
BODY = ("ด้วยสำนักปลัด องค์การบริหารส่วนตำบลหนองบัว มีความจำเป็นต้องจัดซื้อวัสดุสำนักงาน "
        "เพื่อใช้ในการปฏิบัติราชการ จึงเรียนมาเพื่อโปรดพิจารณาอนุมัติ")


def password_of(username: str) -> str:
    return f"Nongbua-{username}-2569"


@pytest.fixture
def app(make_app: Any, smtp_server: Any) -> Flask:
    """The app mailing the aiosmtpd sink; no broker, so the test delivers the outbox itself."""
    return make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,  # type: ignore[no-any-return]
                    REDIS_URL="")


def both_widths(page: Page, shots: Shots, name: str) -> None:
    """Photograph the page at 1280 px, then at 360 px, where it must not scroll sideways."""
    shots(page, f"{name}-desktop")
    page.set_viewport_size(NARROW)
    try:
        width = int(page.evaluate("document.documentElement.scrollWidth"))
        shots(page, f"{name}-360")
        assert width <= NARROW["width"], f"{name} is {width} px wide at 360 px"
        # Nor does a table hide a button in a box scrolled sideways: each is in sight.
        for box in page.locator("table button").evaluate_all(
                "buttons => buttons.map(b => b.getBoundingClientRect().right)"):
            assert box <= NARROW["width"], f"{name}: a button ends at {box} px"
    finally:
        page.set_viewport_size(DESKTOP["viewport"])


def submit_login(page: Page, office: str, username: str, password: str) -> None:
    """Type the office code, username and password into the login page, and send them."""
    expect(page.locator("h1")).to_have_text("เข้าสู่ระบบ")
    expect(page.locator("#office")).to_be_visible()
    page.fill("#office", office)
    page.fill("#username", username)
    page.fill("#password", password)
    page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()


def log_in(page: Page, office: str, username: str, password: str) -> None:
    page.goto("/login")
    submit_login(page, office, username, password)
    expect(page).to_have_url(re.compile(r"/(inbox|platform/)"))


def office_row(page: Page) -> Any:
    return page.get_by_test_id("offices").locator(f'tr[data-code="{CODE}"]')


def test_a_platform_admin_opens_an_office_that_approves_a_memo_and_is_suspended(
        app: Flask, open_page: Callable[[], Page], smtp_server: Any, shots: Shots) -> None:
    with app.app_context():
        seed_demo()  # the installation already serves the demo office, thatoom

    # 1. A platform administrator, by the real command line.
    root_user, root_name, root_email, root_password = ROOT_ADMIN
    made = app.test_cli_runner().invoke(args=[
        "create-platform-admin", "--username", root_user, "--full-name", root_name,
        "--email", root_email], env={"ADMIN_PASSWORD": root_password})
    assert made.exit_code == 0, made.output

    # 2. They sign in with the office code "platform" (a one-office installation's login
    # page shows the code field when a link names it) and create the office.
    root = open_page()
    root.goto("/login?office=platform")
    expect(root.locator("#office")).to_have_value("platform")
    submit_login(root, "platform", root_user, root_password)
    expect(root).to_have_url(re.compile(r"/platform/$"))
    expect(root.locator("h1")).to_have_text("หน่วยงานในระบบ")
    expect(root.locator(".who-name")).to_have_text(root_name)
    expect(root.get_by_test_id("offices").locator("tbody tr")).to_have_count(1)  # thatoom
    form = root.get_by_test_id("new-office")
    form.locator("#code").fill(CODE)
    form.locator("#name").fill(OFFICE)
    form.locator("#admin_username").fill(ADMIN[0])
    form.locator("#admin_full_name").fill(ADMIN[1])
    form.locator("#admin_email").fill(ADMIN[2])
    form.get_by_role("button", name="สร้างหน่วยงานและส่งอีเมลเชิญ").click()
    expect(root).to_have_url(re.compile(r"/platform/$"))
    expect(flash(root)).to_have_text(
        f"สร้างหน่วยงาน {OFFICE} (รหัส {CODE}) แล้ว และส่งอีเมลเชิญผู้ดูแลระบบหน่วยงานตั้งรหัสผ่านแล้ว")
    row = office_row(root)
    expect(row.locator("td")).to_have_text([CODE, OFFICE, "๑", "๐", "ใช้งาน",
                                            "ระงับการใช้งาน"])
    expect(root.get_by_test_id("offices").locator("tbody tr")).to_have_count(2)
    both_widths(root, shots, "platform-new-office")
    with app.app_context():
        org = db.session.exec(select(Organization).where(Organization.code == CODE)).one()
        admin_user = db.session.exec(select(User).where(User.org_id == org.id)).one()
        assert admin_user.roles == Role.ADMIN and admin_user.password_hash.startswith("!")

    # 3. The invitation email, and its link.
    assert len(deliver_outbox(app)) == 1
    [message] = smtp_server.wait_for(1)
    admin_name, admin_email = ADMIN[1], ADMIN[2]
    assert message["To"].addresses[0].addr_spec == admin_email
    assert str(message["Subject"]) == f"เชิญตั้งรหัสผ่านเข้าใช้ระบบสารบรรณ {OFFICE}"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"เรียน {admin_name}" in text
    assert f"ใช้รหัสหน่วยงาน \"{CODE}\" และชื่อผู้ใช้ \"{ADMIN[0]}\"" in text
    match = LINK.search(text)
    assert match, text
    admin = open_page()
    # The email as it reads in a mail client (its HTML part).
    admin.set_content(message.get_body(preferencelist=("html",)).get_content())
    expect(admin.locator("body")).to_contain_text(admin_name)
    both_widths(admin, shots, "invitation-email")
    admin.goto(match.group(1))
    expect(admin.locator("h1")).to_have_text("ตั้งรหัสผ่านใหม่")
    expect(admin.locator("section.card")).to_contain_text(f"สำหรับบัญชี {ADMIN[0]} ({admin_name})")
    both_widths(admin, shots, "invitation-link-page")
    admin.fill("#new_password", ADMIN[3])
    admin.fill("#confirm", ADMIN[3])
    admin.get_by_role("button", name="บันทึกรหัสผ่านใหม่").click()
    expect(admin).to_have_url(re.compile(r"/login"))
    expect(flash(admin)).to_contain_text("ตั้งรหัสผ่านใหม่แล้ว")

    # 4. The new office's administrator signs in with its code (two offices now: the login
    # page asks for it) and sets the office up.
    submit_login(admin, CODE, ADMIN[0], ADMIN[3])
    expect(admin).to_have_url(re.compile(r"/inbox"))
    expect(admin.locator(".who-name")).to_have_text(admin_name)
    nav(admin, "ผู้ดูแลระบบ")
    expect(admin).to_have_url(re.compile(r"/admin$"))
    steps = admin.locator("ol.setup-steps")
    expect(steps).to_contain_text("(๑ คน)")
    expect(steps).to_contain_text("(๐ ตำแหน่ง)")

    admin.get_by_role("link", name="ตั้งค่าหน่วยงาน").click()
    expect(admin.locator("#name")).to_have_value(OFFICE)
    admin.fill("#unit_line", UNIT_LINE)
    admin.fill("#doc_prefix", DOC_PREFIX)
    admin.get_by_role("button", name="บันทึกการตั้งค่า").click()
    expect(flash(admin)).to_have_text("บันทึกการตั้งค่าหน่วยงานแล้ว")

    admin.goto("/admin/users")
    for username, full_name, role, _ in PEOPLE:
        admin.fill("#username", username)
        admin.fill("#full_name", full_name)
        admin.fill("#email", f"{username}@nongbua.example")
        admin.locator("#roles").select_option([role])
        admin.fill("#password", password_of(username))
        admin.get_by_role("button", name="เพิ่มผู้ใช้", exact=True).click()
        expect(flash(admin)).to_have_text(f"เพิ่มผู้ใช้ {full_name} แล้ว")
    users = admin.get_by_test_id("users").locator("tbody tr")
    expect(users).to_have_count(4)

    admin.goto("/admin/positions")
    for username, full_name, _, post in PEOPLE:
        admin.fill("#title", post)
        admin.locator("#holder_id").select_option(label=f"{full_name} ({username})")
        admin.get_by_role("button", name="บันทึก", exact=True).click()
        expect(flash(admin)).to_have_text("บันทึกตำแหน่งแล้ว")
    # The demo office's posts are not offered here: only this office's three.
    expect(admin.get_by_test_id("positions").locator("tbody tr")).to_have_count(3)

    admin.goto("/admin/routes/new")
    admin.fill("#name", ROUTE_NAME)
    for step, (signer, post, _) in enumerate(SIGNERS):
        admin.get_by_test_id(f"step-{step}").get_by_role(
            "checkbox", name=f"{post} ({NAME[signer]})", exact=True).check()
    admin.check("#is_default")
    admin.get_by_role("button", name="บันทึกสายการเสนอ").click()
    expect(admin).to_have_url(re.compile(r"/admin/routes$"))
    route_row = admin.get_by_test_id("routes").locator(".memo-item")
    expect(route_row.locator("ol.route-inline li")).to_have_text([p for _, p, _ in SIGNERS])

    nav(admin, "ผู้ดูแลระบบ")
    expect(steps).to_contain_text("(๔ คน)")
    expect(steps).to_contain_text("(๓ ตำแหน่ง)")
    expect(steps).to_contain_text("(๑ สาย)")
    both_widths(admin, shots, "office-admin-hub")

    # 5. The clerk drafts and submits a memo; the head and the chief approve it.
    clerk = open_page()
    log_in(clerk, CODE, "malai", password_of("malai"))
    expect(clerk.locator(".who-pos")).to_have_text(CLERK_POST)
    nav(clerk, "+ ร่างบันทึก")
    expect(clerk.locator("h1")).to_have_text("ร่างบันทึกข้อความใหม่")
    clerk.fill("#subject", SUBJECT)
    clerk.fill("#addressee", CHIEF_POST)
    clerk.locator("#route_id").select_option(label=ROUTE_NAME)
    editor = clerk.locator("[data-editor]")
    editor.click()
    clerk.keyboard.insert_text(BODY)
    clerk.get_by_role("button", name="บันทึกและเสนอ", exact=True).click()
    confirm(clerk)
    expect(clerk).to_have_url(re.compile(r"/memos/\d+$"))
    expect(flash(clerk)).to_have_text("เสนอบันทึกข้อความแล้ว")
    expect(state(clerk)).to_have_attribute("data-state", "pending_1")
    memo_id = int(clerk.url.rsplit("/", 1)[1])

    for step, (signer, post, comment) in enumerate(SIGNERS, start=1):
        page = open_page()
        log_in(page, CODE, signer, password_of(signer))
        expect(memo_link(page, SUBJECT)).to_contain_text(NAME["malai"])
        memo_link(page, SUBJECT).click()
        expect(page).to_have_url(re.compile(rf"/memos/{memo_id}$"))
        current = page.get_by_test_id("route").locator(".route-step.current")
        expect(current.locator(".step-pos")).to_have_text(post)
        endorse_and_approve(page, comment)
        final = "approved" if step == len(SIGNERS) else f"pending_{step + 1}"
        expect(state(page)).to_have_attribute("data-state", final)

    clerk.goto(f"/memos/{memo_id}")
    expect(state(clerk)).to_have_text("อนุมัติแล้ว")
    expect(clerk.get_by_test_id("memo-number")).to_have_text(f"{DOC_PREFIX}/๑")
    expect(clerk.get_by_test_id("endorsements").locator(".endorsement-text")).to_have_text(
        [c for _, _, c in SIGNERS])
    both_widths(clerk, shots, "memo-approved")
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.state == "approved" and memo.org_id == org.id
    # Two arrivals and the clerk's approval, from the new office.
    assert len(deliver_outbox(app)) == len(SIGNERS) + 1
    assert [str(m["Subject"]) for m in smtp_server.to("malai@nongbua.example")] == [
        f"บันทึกข้อความของท่านได้รับการอนุมัติแล้ว: {SUBJECT}"]

    # 6. The platform administrator suspends the office.
    root.goto("/platform/")
    office_row(root).get_by_role("button", name="ระงับการใช้งาน").click()
    dialog = root.locator("dialog[data-confirm-dialog]")
    expect(dialog, "suspending an office asks for confirmation first").to_be_visible()
    expect(dialog).to_contain_text(f"ระงับการใช้งาน {OFFICE}?")
    shots(root, "suspend-confirm-dialog")
    with root.expect_response(lambda r: r.request.method == "POST") as posted:
        dialog.locator("[data-confirm-ok]").click()
    assert posted.value.status == 302
    expect(flash(root)).to_have_text(f"ระงับการใช้งาน {OFFICE} แล้ว ข้อมูลทั้งหมดยังอยู่ครบ")
    expect(office_row(root)).to_contain_text("ระงับ ตั้งแต่")
    expect(office_row(root).get_by_role("button", name="เปิดใช้งานอีกครั้ง")).to_be_visible()
    both_widths(root, shots, "platform-office-suspended")

    # Its administrator's next page load goes to the login page ...
    admin.goto("/admin")
    expect(admin).to_have_url(re.compile(r"/login"))
    expect(admin.locator("h1")).to_have_text("เข้าสู่ระบบ")
    # ... and signing in again is refused, in Thai, by the suspension message.
    with admin.expect_response(lambda r: r.request.method == "POST") as refused:
        submit_login(admin, CODE, ADMIN[0], ADMIN[3])
    assert refused.value.status == 403
    expect(admin.locator(".flash-error")).to_have_text(SUSPENDED_MESSAGE)
    expect(admin).to_have_url(re.compile(r"/login"))
    both_widths(admin, shots, "login-refused-office-suspended")
    # A wrong password is only a wrong password, suspended or not.
    submit_login(admin, CODE, ADMIN[0], "not-the-password")
    expect(admin.locator(".flash-error")).to_have_text("ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง")
    # The clerk's open session stops too; the demo office carries on.
    clerk.goto(f"/memos/{memo_id}")
    expect(clerk).to_have_url(re.compile(r"/login"))
    demo_clerk = open_page()
    log_in(demo_clerk, "thatoom", "clerk", "demo")
    expect(demo_clerk).to_have_url(re.compile(r"/inbox"))

    # 7. Reactivated, the office signs in again, with everything where it was.
    root.goto("/platform/")
    office_row(root).get_by_role("button", name="เปิดใช้งานอีกครั้ง").click()
    expect(flash(root)).to_have_text(f"เปิดใช้งาน {OFFICE} อีกครั้งแล้ว")
    expect(office_row(root).locator("td").nth(4)).to_have_text("ใช้งาน")
    expect(office_row(root).locator("td").nth(3)).to_have_text("๑")
    submit_login(admin, CODE, ADMIN[0], ADMIN[3])
    expect(admin).to_have_url(re.compile(r"/inbox"))
    nav(admin, "ผู้ดูแลระบบ")
    expect(admin).to_have_url(re.compile(r"/admin$"))
    expect(admin.locator("ol.setup-steps")).to_contain_text("(๔ คน)")
    # The clerk's session was held, not ended: it works again as it was.
    clerk.goto(f"/memos/{memo_id}")
    expect(state(clerk)).to_have_text("อนุมัติแล้ว")
    expect(clerk.get_by_test_id("memo-number")).to_have_text(f"{DOC_PREFIX}/๑")
    shots(admin, "office-admin-back")
