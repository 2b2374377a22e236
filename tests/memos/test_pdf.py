"""The official memo as PDF: the form, Thai that copies out as written, the certificate."""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from tests.conftest import ROOT

# The PDF is rendered from what the memo page shows: the database adds nothing here.
pytestmark = pytest.mark.one_backend

SIGNERS = [("head", "เพื่อโปรดพิจารณา"), ("deputy", "เพื่อโปรดพิจารณา"),
           ("permsec", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ"), ("chief", "อนุมัติ")]
NAMES = ["นางสาวอิสริย์ ผดุงทศ", "นางกฤษณา พรพิมล", "นางอาราดา แตนวงศ์", "นายสมคิด ดันทางกุล"]


def nfkd(text: str) -> str:
    """Compare Thai under NFKD (ำ may come out as ํ + า) and without line breaks."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKD", text))


def approved_pdf(api, memo_id: int) -> bytes:
    api.act(memo_id, "clerk", "submit")
    for username, phrase in SIGNERS:
        assert api.act(memo_id, username, "approve", phrase).status_code == 200
    response = api.call("GET", f"/memos/{memo_id}/pdf", "clerk")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return bytes(response.data)


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "memo.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-raw", str(path), "-"], check=True,
                          capture_output=True, text=True).stdout


def test_the_seed_memo_pdf_copies_out_its_thai_intact(app, demo, api, tmp_path, artifacts):
    """Every header field and endorsement is in the text layer, Thai intact under NFKD."""
    pdf = approved_pdf(api, demo["memo_id"])
    text = pdftotext(pdf, tmp_path)
    flat = nfkd(text)
    for expected in ["บันทึกข้อความ", "ส่วนราชการ สำนักงานปลัด องค์การบริหารส่วนตำบลท่าตูม",
                     "ที่ สป ๓๔๕๐๑/๑", "วันที่", "เรื่อง รายงานความก้าวหน้า",
                     "เรียน นายกองค์การบริหารส่วนตำบลท่าตูม", "สำนักงาน", "ประจำปี",
                     "เห็นควรนำเรียนนายกเพื่อโปรดทราบ", "หนังสือรับรองการลงนาม",
                     *NAMES, *(phrase for _, phrase in SIGNERS)]:
        assert nfkd(expected) in flat, expected
    assert "สำนักงำน" not in text and "งำน" not in text

    # Keep the pages as pictures to look at.
    (artifacts / "memo.pdf").write_bytes(pdf)
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(artifacts / "memo.pdf"),
                        str(artifacts / "page")], check=True)
        assert (artifacts / "page-1.png").exists()


def test_the_certificate_hash_is_verified_publicly(app, demo, api, client, tmp_path):
    """The SHA-256 printed on the certificate opens a public page that says: genuine, approved."""
    text = pdftotext(approved_pdf(api, demo["memo_id"]), tmp_path)
    digest = re.search(r"\b([0-9a-f]{64})\b", text).group(1)
    assert api.call("GET", f"/memos/{demo['memo_id']}", "clerk").json["decisions"][-1][
        "content_hash"] == digest
    page = client.get(f"/verify/{digest}")  # no login
    assert page.status_code == 200 and 'data-genuine="true"' in page.text
    assert "สป ๓๔๕๐๑/๑" in page.text and "รายงานความก้าวหน้า" not in page.text  # no content
    assert client.get(f"/verify/{'0' * 64}").status_code == 404
    assert client.get("/verify/not-a-hash").status_code == 404


def test_a_memo_not_yet_approved_is_not_genuine(app, demo, api, client):
    """A pending memo's version hash does not verify, and its PDF has no certificate."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    digest = api.call("GET", f"/memos/{memo_id}", "clerk").json["decisions"][0]["content_hash"]
    assert client.get(f"/verify/{digest}").status_code == 404


def test_only_readers_get_the_pdf(app, demo, api, client, auth):
    """A signer cannot print a draft they may not read; the web routes answer too."""
    memo_id = demo["memo_id"]
    assert api.call("GET", f"/memos/{memo_id}/pdf", "head").status_code == 403
    auth.login("clerk")
    assert client.get(f"/memos/{memo_id}.pdf").status_code == 200
    page = client.get(f"/memos/{memo_id}/print")
    assert page.status_code == 200 and "บันทึกข้อความ" in page.text and "print.css" in page.text


def test_pasting_the_seed_body_keeps_its_table(app, demo, api):
    """The seed's body, as pasted (cells holding <p> and <ul> fragments), keeps its table."""
    seed = ROOT / "workflow" / "demo" / "progress_memo_2565.html"
    pasted = seed.read_text(encoding="utf-8") + '<script>alert(1)</script><img src=x onerror=x>'
    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ทดสอบวางเนื้อหา", "addressee": "นายก", "body": pasted})
    body = created.json["body"]
    assert body.count("<tr>") == 4 and "<th>มาตรการ</th>" in body and "<ul>" in body
    assert "<script" not in body and "onerror" not in body



def test_parallel_endorsements_print_in_the_order_given_with_every_pass(
        app, demo, api, tmp_path, artifacts):
    """The procurement memo of 250,000 baht, sent back to the group once: each member's
    endorsement prints in the order given, addressed to ปลัด, and the send-back to the group
    and both passes are on the page."""
    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ขออนุมัติจัดซื้อครุภัณฑ์สำนักงาน", "addressee": "นายก",
        "route_id": demo["procurement_route_id"], "amount": "250,000"})
    memo_id = created.json["id"]
    steps = [("clerk", "submit", ""), ("head", "approve", "เพื่อโปรดพิจารณาให้ความเห็น"),
             ("kongchang", "approve", "กองช่างตรวจสอบคุณลักษณะแล้ว"),
             ("kongklang", "approve", "กองคลังตรวจสอบงบประมาณแล้ว"),
             ("permsec", "send_back", "โปรดตรวจสอบราคากลางอีกครั้ง"),
             ("kongklang", "approve", "กองคลังตรวจสอบราคากลางแล้ว"),
             ("kongchang", "approve", "กองช่างยืนยันราคากลาง"),
             ("permsec", "approve", "เห็นควรอนุมัติ"),
             ("chief", "approve", "ทราบ อนุมัติให้ดำเนินการจัดซื้อ")]
    for who, action, comment in steps:
        extra = {"target_step": 2} if action == "send_back" else {}
        assert api.act(memo_id, who, action, comment, **extra).status_code == 200, (who, action)
    response = api.call("GET", f"/memos/{memo_id}/pdf", "clerk")
    assert response.status_code == 200
    flat = nfkd(pdftotext(bytes(response.data), tmp_path))
    given = [nfkd(comment) for _, _, comment in steps[1:]]
    places = [flat.find(comment) for comment in given]
    assert all(p >= 0 for p in places) and places == sorted(places), places
    assert nfkd("ส่งกลับให้พิจารณาใหม่") in flat
    assert nfkd("เรียน ปลัดองค์การบริหารส่วนตำบลท่าตูม") in flat
    assert nfkd("เรียน ผู้อำนวยการกองคลัง และ ผู้อำนวยการกองช่าง") in flat
    (artifacts / "memo.pdf").write_bytes(bytes(response.data))
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(artifacts / "memo.pdf"),
                        str(artifacts / "page")], check=True)
