"""The sealed final PDF: made once at final approval, PAdES B-T with the certomancer TSA's
timestamp, valid for pyHanko's validator trusting the office root, and served byte for byte."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
from pyhanko.keys import load_certs_from_pemder_data
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from sqlmodel import select

from tests.conftest import ApiClient
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.models import AuditEvent, OfficeSeal, SealedDocument
from workflow.seal import sealing
from workflow.seal.signing import off_loop

SIGNERS = [("head", "เพื่อโปรดพิจารณา"), ("deputy", "เพื่อโปรดพิจารณา"),
           ("permsec", "เห็นควรนำเรียนนายกเพื่อโปรดทราบ"), ("chief", "อนุมัติ")]


def nfkd(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKD", text))


def approve_all(api: ApiClient, memo_id: int) -> None:
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    for username, phrase in SIGNERS:
        assert api.act(memo_id, username, "approve", phrase).status_code == 200


def download(api: ApiClient, memo_id: int) -> bytes:
    response = api.call("GET", f"/memos/{memo_id}/pdf", "clerk")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return bytes(response.data)


def run(args: list[str]) -> str:
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def test_final_approval_seals_once_b_t_valid_and_downloads_are_those_bytes(
        seal_app, pki, tmp_path: Path, artifacts: Path):
    app = seal_app
    api = ApiClient(app.test_client())
    with app.app_context():
        memo_id = seed_demo()["memo_id"]
    approve_all(api, memo_id)

    # Before the task has run: the page says the final copy is being prepared, and the PDF
    # on offer says it is not the final copy.
    auth = app.test_client()
    auth.post("/login", data={"username": "clerk", "password": "demo"})
    assert 'data-testid="sealing"' in auth.get(f"/memos/{memo_id}").text
    provisional = download(api, memo_id)
    (tmp_path / "provisional.pdf").write_bytes(provisional)
    assert "ไม่ใช่ฉบับสมบูรณ์" in unicodedata.normalize(
        "NFC", run(["pdftotext", "-raw", str(tmp_path / "provisional.pdf"), "-"]))

    with app.app_context():
        digest = sealing.seal_memo(memo_id)
        assert sealing.seal_memo(memo_id) == "already sealed"  # a second task changes nothing
        stored = db.session.exec(select(SealedDocument)).all()
        seal = db.session.exec(select(OfficeSeal)).one()
        events = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "memo_sealed")).all()
    assert len(stored) == 1 and stored[0].sha256 == digest and stored[0].level == "B-T"
    assert len(events) == 1 and json.loads(events[0].details)["sha256"] == digest

    first, second = download(api, memo_id), download(api, memo_id)
    assert first == second and hashlib.sha256(first).hexdigest() == digest
    assert 'data-testid="sealed"' in auth.get(f"/memos/{memo_id}").text

    # pyHanko's validator, trusting the office root (and the TSA's CA for the timestamp).
    signature = PdfFileReader(io.BytesIO(first)).embedded_signatures[0]
    trust = ValidationContext(trust_roots=list(load_certs_from_pemder_data(seal.root.encode())),
                              allow_fetching=False)
    tsa_trust = ValidationContext(
        trust_roots=list(load_certs_from_pemder_data(pki.root_pem_path.read_bytes())),
        allow_fetching=False)
    status = off_loop(validate_pdf_signature, signature, trust, ts_validation_context=tsa_trust)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert status.coverage.name == "ENTIRE_FILE"
    assert status.timestamp_validity is not None and status.timestamp_validity.trusted
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    tsa = status.timestamp_validity.signing_cert.subject.human_friendly
    assert "Test Time Stamping Authority" in tsa

    path = artifacts / "sealed.pdf"
    path.write_bytes(first)
    text = nfkd(run(["pdftotext", "-raw", str(path), "-"]))
    for expected in ["สำนักงาน", "ประจำปี", "ประทับตราอิเล็กทรอนิกส์", "หนังสือรับรองการลงนาม"]:
        assert nfkd(expected) in text, expected
    assert nfkd("ไม่ใช่ฉบับสมบูรณ์") not in text
    # The signature's field lies over the seal block on the certificate's (last) page.
    with pikepdf.open(path) as document:
        widgets = [(n, [float(v) for v in a.Rect]) for n, page in enumerate(document.pages)
                   for a in page.get("/Annots", []) if a.get("/FT") == "/Sig"]
        assert [n for n, _ in widgets] == [len(document.pages) - 1]
        x1, y1, x2, y2 = widgets[0][1]
        assert x2 - x1 > 400 and 60 < y2 - y1 < 90
    listing = run(["pdfsig", str(path)])
    assert "Signature #1" in listing and "OfficeSeal" in listing
    assert "ETSI.CAdES.detached" in listing and "Total document signed" in listing
    if shutil.which("pdftoppm"):
        run(["pdftoppm", "-r", "60", "-png", str(path), str(artifacts / "sealed")])


def test_without_a_tsa_the_seal_is_b_b(make_app):
    app = make_app()
    api = ApiClient(app.test_client())
    with app.app_context():
        memo_id = seed_demo()["memo_id"]
    approve_all(api, memo_id)
    with app.app_context():
        sealing.seal_memo(memo_id)
        assert db.session.exec(select(SealedDocument)).one().level == "B-B"
        root = db.session.exec(select(OfficeSeal)).one().root
    signature = PdfFileReader(io.BytesIO(download(api, memo_id))).embedded_signatures[0]
    trust = ValidationContext(trust_roots=list(load_certs_from_pemder_data(root.encode())),
                              allow_fetching=False)
    status = off_loop(validate_pdf_signature, signature, trust)
    assert status.intact and status.trusted and status.timestamp_validity is None


def test_rejected_and_withdrawn_memos_are_not_sealed(make_app):
    app = make_app()
    api = ApiClient(app.test_client())
    with app.app_context():
        demo = seed_demo()
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    assert api.act(memo_id, "head", "reject", "ไม่เห็นชอบ").status_code == 200
    with app.app_context():
        assert sealing.seal_memo(memo_id) == "not approved"
        assert sealing.unsealed_approvals() == []
        assert db.session.exec(select(SealedDocument)).all() == []


def test_an_unreachable_tsa_leaves_the_memo_for_the_sweep(make_app, pki, tmp_path: Path):
    """A configured TSA that does not answer: nothing is stored (no weaker B-B copy), the
    memo stays among those the sweep seals, and once the TSA answers the sweep seals it."""
    from tests.support.net import free_port
    from workflow import tasks

    app = make_app(SEAL_TSA_URL=f"http://127.0.0.1:{free_port()}/tsa", SEAL_TSA_TIMEOUT=2)
    api = ApiClient(app.test_client())
    with app.app_context():
        memo_id = seed_demo()["memo_id"]
    approve_all(api, memo_id)
    with app.app_context():
        try:
            sealing.seal_memo(memo_id)
        except Exception:  # noqa: BLE001 - the TSA's failure, whatever pyHanko calls it
            pass
        else:
            raise AssertionError("sealed without the configured TSA")
        assert db.session.exec(select(SealedDocument)).all() == []
        assert sealing.unsealed_approvals() == [memo_id]
        assert not (sealing.folder().exists() and any(sealing.folder().iterdir()))
        app.config["SEAL_TSA_URL"] = pki.tsa_url
        assert tasks.seal_pending.run() == 1
        assert db.session.exec(select(SealedDocument)).one().level == "B-T"
        assert sealing.unsealed_approvals() == []
