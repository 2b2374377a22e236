"""The /verify page as a person uses it, in Chromium on a desktop and on a 360 px phone:
upload the sealed PDF, then a changed copy; axe-core finds nothing serious; screenshots kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from tests.browser import axe
from tests.browser.test_memo_route import DESKTOP, PHONE, Shots
from tests.conftest import ApiClient
from tests.seal.test_sealed_pdf import approve_all, download
from tests.seal.test_verify import text_appended
from workflow.demo.seed import seed_demo
from workflow.seal import sealing

pytestmark = pytest.mark.browser


@pytest.fixture
def app(seal_app: Flask) -> Flask:
    """The live server's app timestamps its seals at the test TSA."""
    return seal_app


def test_verify_page_on_desktop_and_phone(app, live_server, browser, artifacts: Path,
                                          tmp_path: Path):
    api = ApiClient(app.test_client())
    with app.app_context():
        memo_id = seed_demo()["memo_id"]
    approve_all(api, memo_id)
    with app.app_context():
        sealing.seal_memo(memo_id)  # pyHanko's own loop runs beside Playwright's (off_loop)
    sealed = tmp_path / "memo-sealed.pdf"
    sealed.write_bytes(download(api, memo_id))
    changed = tmp_path / "memo-changed.pdf"
    changed.write_bytes(text_appended(sealed.read_bytes()))

    shots = Shots(artifacts)
    for device, options in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(base_url=live_server, **options)
        page = context.new_page()
        page.goto("/verify")
        page.set_input_files("#verify-file", str(sealed))
        page.get_by_role("button", name="ตรวจสอบ").click()
        result = page.get_by_test_id("verify-result")
        assert result.get_attribute("data-verdict") == "valid"
        assert "ไม่ถูกแก้ไขหลังประทับตรา" in result.inner_text()
        assert axe.blocking(axe.violations(page)) == [], axe.describe(axe.violations(page))
        shots(page, f"{device}-valid")
        page.set_input_files("#verify-file", str(changed))
        page.get_by_role("button", name="ตรวจสอบ").click()
        assert page.get_by_test_id("verify-result").get_attribute("data-verdict") == "appended"
        shots(page, f"{device}-appended")
        context.close()


def test_seal_and_signature_sections_as_people_see_them(app, live_server, browser,
                                                        artifacts: Path, tmp_path: Path):
    """The admin's seal section and a signer's signature-image section, desktop and phone."""
    from tests.identity.test_signature_image import signature_png

    with app.app_context():
        seed_demo()
    image = tmp_path / "signature.png"
    image.write_bytes(signature_png())
    shots = Shots(artifacts)
    for device, options in (("desktop", DESKTOP), ("phone", PHONE)):
        for username, path, section in (("admin", "/admin/office", "seal"),
                                        ("chief", "/account", "signature")):
            context = browser.new_context(base_url=live_server, **options)
            page = context.new_page()
            page.goto("/login")
            page.fill("#username", username)
            page.fill("#password", "demo")
            page.get_by_role("button", name="เข้าสู่ระบบ", exact=True).click()
            page.goto(path)
            if section == "signature":
                page.set_input_files("#signature-file", str(image))
                page.get_by_role("button", name="บันทึกภาพลายมือชื่อ").click()
                assert page.get_by_test_id("signature-preview").is_visible()
            assert axe.blocking(axe.violations(page)) == [], axe.describe(axe.violations(page))
            shots.element(page.get_by_test_id(section), f"{device}-{section}")
            context.close()
