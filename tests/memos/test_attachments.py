"""Attachments: real content checked, unsafe names and oversize files refused, readers only."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
import requests
from sqlmodel import select

from workflow.extensions import db
from workflow.memos import attachments
from workflow.models import Attachment, Memo, MemoVersion

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00" + b"\x00" * 200


def upload(api, memo_id: int, name: str, data: bytes, username: str = "clerk"):
    """POST a file to the API as multipart."""
    return api.call("POST", f"/memos/{memo_id}/attachments", username,
                    data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def memo_row(app, memo_id: int) -> Memo:
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        assert memo is not None
        return memo


def test_a_pdf_is_stored_outside_the_web_root_with_its_sha256(app, demo, api, tmp_path):
    """The upload is kept under a random name in ATTACHMENT_DIR, hashed, and downloads intact."""
    memo_id = demo["memo_id"]
    response = upload(api, memo_id, "คำสั่ง อบต.ท่าตูม ที่ ๐๑๔-๒๕๖๕.pdf", PDF)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["content_type"] == "application/pdf" and body["size"] == len(PDF)
    with app.app_context():
        row = db.session.exec(select(Attachment)).one()
    stored = Path(app.config["ATTACHMENT_DIR"]) / row.stored_name
    assert stored.read_bytes() == PDF
    assert "ท่าตูม" not in row.stored_name and "/" not in row.stored_name

    download = api.call("GET", f"/memos/{memo_id}/attachments/{row.id}", "clerk")
    assert download.status_code == 200 and download.data == PDF
    download.close()
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''" in disposition
    assert api.call("GET", f"/memos/{memo_id}", "clerk").json["attachments"][0]["id"] == row.id


@pytest.mark.parametrize(("name", "data", "status", "code"), [
    ("report.pdf", EXE, 422, "content_mismatch"),  # an .exe renamed .pdf
    ("../../etc/passwd.pdf", PDF, 422, "bad_filename"),
    ("..\\..\\boot.pdf", PDF, 422, "bad_filename"),
    ("<script>alert(1)</script>.pdf", PDF, 422, "bad_filename"),
    ('a"onmouseover="x.pdf', PDF, 422, "bad_filename"),
    ("setup.exe", EXE, 422, "bad_file_type"),
    ("image.png", PDF, 422, "content_mismatch"),
    ("empty.pdf", b"", 422, "empty_file"),
], ids=["exe-as-pdf", "traversal", "backslash-traversal", "html-name", "quote-name", "exe",
        "pdf-as-png", "empty"])
def test_unsafe_or_false_files_are_refused(app, demo, api, name, data, status, code):
    """Each is refused with a Thai message and its code; the memo and its files are untouched."""
    memo_id = demo["memo_id"]
    assert upload(api, memo_id, "ok.png", PNG).status_code == 201
    before = memo_row(app, memo_id)
    response = upload(api, memo_id, name, data)
    assert response.status_code == status, response.json
    # A quote ends the name in the multipart header, so what arrives may lack its extension.
    assert response.json["error"] in {code, "bad_file_type"} and response.json["message"]
    after = memo_row(app, memo_id)
    assert (after.version, after.subject, after.body) == (before.version, before.subject,
                                                          before.body)
    with app.app_context():
        assert [a.filename for a in db.session.exec(select(Attachment)).all()] == ["ok.png"]
    assert len(list(Path(app.config["ATTACHMENT_DIR"]).iterdir())) == 1  # no leftovers


def _post_file(base: str, token: str, memo_id: int, name: str, size: int) -> requests.Response:
    """A real HTTP upload (the test client would spool a body this big to a file of its own)."""
    body = PDF + b"0" * (size - len(PDF))
    return requests.post(f"{base}/api/v1/memos/{memo_id}/attachments",
                         headers={"Authorization": f"Bearer {token}"},
                         files={"file": (name, body, "application/pdf")}, timeout=60)


def test_a_30_mb_upload_is_refused_with_413(app, demo, api, live_server):
    """Past the request limit the server answers 413 in Thai; nothing is stored."""
    response = _post_file(live_server, api.token("clerk"), demo["memo_id"], "big.pdf",
                          30 * 1024 * 1024)
    assert response.status_code == 413 and "ใหญ่เกิน" in response.json()["message"]
    with app.app_context():
        assert db.session.exec(select(Attachment)).all() == []


def test_over_the_attachment_limit_but_under_the_request_limit(app, demo, api, live_server):
    """ATTACHMENT_MAX_MB is enforced while streaming, with a Thai message; no file is left."""
    app.config["ATTACHMENT_MAX_MB"] = 1
    response = _post_file(live_server, api.token("clerk"), demo["memo_id"], "two-mb.pdf",
                          2 * 1024 * 1024)
    assert response.status_code == 422 and response.json()["error"] == "file_too_large"
    assert "1 MB" in response.json()["message"]
    assert list(Path(app.config["ATTACHMENT_DIR"]).glob("*")) == []


def test_only_readers_download_and_only_the_drafter_attaches(app, demo, api):
    """A signer cannot read a never-submitted draft's file; nobody but the drafter attaches."""
    memo_id = demo["memo_id"]
    row_id = upload(api, memo_id, "ok.pdf", PDF).json["id"]
    assert api.call("GET", f"/memos/{memo_id}/attachments/{row_id}", "head").status_code == 403
    assert upload(api, memo_id, "x.pdf", PDF, username="auditor").status_code == 403
    assert api.call("GET", f"/memos/{memo_id}/attachments/999", "clerk").status_code == 404
    api.act(memo_id, "clerk", "submit")
    download = api.call("GET", f"/memos/{memo_id}/attachments/{row_id}", "head")
    assert download.status_code == 200
    download.close()
    assert upload(api, memo_id, "late.pdf", PDF).status_code == 409  # pending: no changes


def test_attachments_are_part_of_the_version_signed(app, demo, api):
    """Changing the files between rounds makes a new version with another hash."""
    memo_id = demo["memo_id"]
    upload(api, memo_id, "first.pdf", PDF)
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "head", "send_back", "แนบรูปประกอบด้วย")
    upload(api, memo_id, "photo.png", PNG)
    assert api.act(memo_id, "clerk", "resubmit").json["revision"] == 2
    with app.app_context():
        versions = db.session.exec(select(MemoVersion).order_by(MemoVersion.revision)).all()
    assert versions[0].attachments == hashlib.sha256(PDF).hexdigest()
    assert versions[1].attachments.count(",") == 1
    assert versions[0].content_hash != versions[1].content_hash


def test_the_editor_uploads_and_shows_a_thai_error(app, demo, client, auth):
    """Through the web page: a good file is listed; an .exe renamed .pdf gets a Thai message."""
    memo_id = demo["memo_id"]
    auth.login("clerk")
    ok = client.post(f"/memos/{memo_id}/attachments",
                     data={"file": (io.BytesIO(PDF), "รายงาน.pdf")},
                     content_type="multipart/form-data")
    assert ok.status_code == 302
    assert "รายงาน.pdf" in client.get(f"/memos/{memo_id}/edit").text
    bad = client.post(f"/memos/{memo_id}/attachments",
                      data={"file": (io.BytesIO(EXE), "virus.pdf")},
                      content_type="multipart/form-data")
    assert bad.status_code == 422 and "ไม่ใช่ไฟล์ .pdf จริง" in bad.text
    assert "รายงาน.pdf" in bad.text  # what was saved is still there


def test_a_file_removed_while_drafting_stays_private(app, demo, api):
    """Signers cannot fetch a file the drafter removed before submitting, nor see its events."""
    memo_id = demo["memo_id"]
    secret = api.call("POST", f"/memos/{memo_id}/attachments", "clerk",
                      data={"file": (io.BytesIO(PDF), "เงินเดือน-ลับ.pdf")},
                      content_type="multipart/form-data").json["id"]
    api.call("POST", f"/memos/{memo_id}/attachments", "clerk",
             data={"file": (io.BytesIO(PDF + b"%kept"), "kept.pdf")},
             content_type="multipart/form-data")
    with app.app_context():
        attachments.remove(memo_id=memo_id, attachment_id=secret, actor_id=demo["user_clerk"])
    api.act(memo_id, "clerk", "submit")
    assert api.call("GET", f"/memos/{memo_id}/attachments/{secret}", "head").status_code == 404
    trail = api.call("GET", f"/memos/{memo_id}/audit", "head").json
    assert "เงินเดือน-ลับ.pdf" not in str(trail["events"])
    assert trail["verified"] is True
    mine = api.call("GET", f"/memos/{memo_id}/audit", "clerk").json
    assert "เงินเดือน-ลับ.pdf" in str(mine["events"])
