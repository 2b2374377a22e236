"""Signature images: a user uploads a PNG or JPEG of their handwritten signature on their
account page (judged by content, size-limited, stored outside the web root, audited), and it
is printed above their name in the blocks they signed, in the print view and the sealed PDF."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlmodel import select

from tests.conftest import ROOT, ApiClient, AuthActions
from tests.seal.test_sealed_pdf import approve_all, download
from tests.seal.test_verify import multipart
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.models import AuditEvent, User
from workflow.seal import sealing


def signature_png() -> bytes:
    """A blue scribble on a transparent background, as a scanned signature would be."""
    image = Image.new("RGBA", (600, 200), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    draw.line([(30, 150), (120, 40), (180, 160), (260, 50), (330, 150), (420, 60), (560, 120)],
              fill=(20, 40, 160, 255), width=9)
    draw.arc((380, 40, 520, 180), 200, 340, fill=(20, 40, 160, 255), width=7)
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def upload(client, data: bytes, name: str = "signature.png"):
    # Built in memory: the test client would spool a large body to a temporary file that a
    # refusal before the end of the body leaves open.
    body, content_type = multipart(data, name, field="signature")
    return client.post("/account/signature", data=body, content_type=content_type)


def events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.exec(select(AuditEvent).where(AuditEvent.action == action)))


def test_a_signature_image_is_printed_above_the_signers_name(make_app, tmp_path: Path,
                                                              artifacts: Path):
    app = make_app()
    with app.app_context():
        demo = seed_demo()
    client = app.test_client()
    AuthActions(client).login("chief")
    assert 'data-testid="no-signature"' in client.get("/account").text
    answer = upload(client, signature_png())
    assert answer.status_code == 302
    page = client.get("/account").text
    assert 'data-testid="signature-preview"' in page and "data:image/png;base64," in page
    [event] = events(app, "signature_image_set")
    with app.app_context():
        chief = db.session.exec(select(User).where(User.username == "chief")).one()
    stored = Path(app.config["ATTACHMENT_DIR"]) / "signatures" / chief.signature_file
    details = json.loads(event.details)
    assert stored.is_file() and details["after"] == chief.signature_file
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == details["sha256"]
    assert not list((ROOT / "static").rglob(chief.signature_file))  # outside the web root

    api = ApiClient(app.test_client())
    approve_all(api, demo["memo_id"])
    clerk = app.test_client()
    AuthActions(clerk).login("clerk")
    printed = clerk.get(f"/memos/{demo['memo_id']}/print").text
    assert printed.count('class="sig-image"') == 1  # only the chief has one
    assert 'alt="ลายมือชื่อ นายสมคิด ดันทางกุล"' in printed

    with app.app_context():
        sealing.seal_memo(demo["memo_id"])
    pdf = download(api, demo["memo_id"])
    path = artifacts / "signed-with-image.pdf"
    path.write_bytes(pdf)
    listing = subprocess.run(["pdfimages", "-list", str(path)], check=True,
                             capture_output=True, text=True).stdout
    assert len(listing.strip().splitlines()) >= 3  # header, rule, and the signature image
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "70", "-png", str(path), str(artifacts / "page")],
                       check=True)

    # Removing it is audited, and the typed name stands alone again.
    assert client.post("/account/signature/delete").status_code == 302
    assert len(events(app, "signature_image_removed")) == 1
    assert 'class="sig-image"' not in clerk.get(f"/memos/{demo['memo_id']}/print").text


def _jpeg_header_only() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (50, 50), "white").save(out, "JPEG")
    return out.getvalue()[:200]


@pytest.mark.parametrize("name, data, message", [
    ("gif", b"GIF89a" + bytes(200), "PNG หรือ JPEG เท่านั้น"),
    ("svg", b'<svg xmlns="http://www.w3.org/2000/svg"><path d="M0 0"/></svg>',
     "PNG หรือ JPEG เท่านั้น"),
    ("png magic, then garbage", b"\x89PNG\r\n\x1a\n" + bytes(500), "อ่านไฟล์ภาพลายมือชื่อไม่ได้"),
    ("truncated jpeg", _jpeg_header_only(), "อ่านไฟล์ภาพลายมือชื่อไม่ได้"),
    ("too big", b"\x89PNG\r\n\x1a\n" + bytes(600 * 1024), "ใหญ่เกิน"),
    ("empty", b"", "กรุณาเลือกไฟล์"),
])
def test_what_is_not_a_signature_image_is_refused(app, demo, name, data, message):
    client = app.test_client()
    AuthActions(client).login("chief")
    answer = upload(client, data, f"sig.{name.split()[0]}")
    assert answer.status_code == 422 and message in answer.text, name
    assert 'data-testid="signature-error"' in answer.text
    with app.app_context():
        assert db.session.exec(select(User).where(User.username == "chief")).one(
        ).signature_file == ""
    assert events(app, "signature_image_set") == []
