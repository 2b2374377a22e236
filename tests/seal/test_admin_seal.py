"""The office seal on the admin's office page: subject, validity and fingerprint shown, the
root offered for download, and replacement by a CA-issued PKCS#12 (certomancer's): a bad file
or a wrong password is refused and the seal stays; a replaced seal still verifies what it
sealed."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader
from sqlmodel import select

from tests.conftest import ApiClient, AuthActions
from tests.factories import make_memo
from tests.seal.test_sealed_pdf import approve_all, download
from tests.seal.test_verify import api_verify
from workflow import routing
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.models import AuditEvent, OfficeSeal, User
from workflow.seal import keys, sealing

# The seal's cryptography and its pages: the database adds nothing to what is tested here.
pytestmark = pytest.mark.one_backend


def _upload(client, data: bytes, password: str):
    return client.post("/admin/office/seal", data={
        "pkcs12": (io.BytesIO(data), "seal.p12"), "password": password},
        content_type="multipart/form-data")


def _seals(app) -> list[OfficeSeal]:
    with app.app_context():
        return list(db.session.exec(select(OfficeSeal).order_by(OfficeSeal.id)))


def test_the_office_page_shows_the_seal_and_offers_its_root(seal_app):
    with seal_app.app_context():
        seed_demo()
    client = seal_app.test_client()
    AuthActions(client).login("admin")
    page = client.get("/admin/office")
    seal = _seals(seal_app)[0]
    assert page.status_code == 200 and 'data-testid="seal"' in page.text
    assert "องค์การบริหารส่วนตำบลท่าตูม" in page.text
    assert keys.short_fingerprint(seal.fingerprint) in page.text
    assert "ระบบสร้างให้หน่วยงานเอง" in page.text
    root = client.get("/admin/office/seal/root.pem")
    assert root.status_code == 200 and root.data == seal.root.encode()
    anchor = x509.load_pem_x509_certificate(root.data)
    assert keys.fingerprint(anchor) == seal.root_fingerprint
    # Only an administrator manages the seal.
    AuthActions(client).logout()
    AuthActions(client).login("clerk")
    assert client.get("/admin/office/seal/root.pem").status_code == 403
    assert _upload(client, b"x", "pw").status_code == 403


def test_bad_pkcs12_or_wrong_password_is_refused_and_the_seal_stays(seal_app, pki):
    with seal_app.app_context():
        seed_demo()
    client = seal_app.test_client()
    AuthActions(client).login("admin")
    before = _seals(seal_app)
    good = pki.pkcs12("office-ca", b"correct horse")
    for data, password, message in [
        (b"not a pkcs12 file at all", "x", "ไม่ใช่ไฟล์ PKCS#12"),
        (good[: len(good) // 2], "correct horse", "ไม่ใช่ไฟล์ PKCS#12"),
        (good, "wrong password", "รหัสผ่านของไฟล์ PKCS#12 ไม่ถูกต้อง"),
        (b"", "", "กรุณาเลือกไฟล์ PKCS#12"),
    ]:
        answer = _upload(client, data, password)
        assert answer.status_code == 422 and message in answer.text, message
        assert 'data-testid="seal-error"' in answer.text
    assert [(s.fingerprint, s.retired_at) for s in _seals(seal_app)] == [
        (s.fingerprint, s.retired_at) for s in before]


def test_a_ca_issued_seal_replaces_the_old_which_still_verifies_what_it_sealed(seal_app, pki):
    app = seal_app
    api = ApiClient(app.test_client())
    with app.app_context():
        demo = seed_demo()
    approve_all(api, demo["memo_id"])
    with app.app_context():
        sealing.seal_memo(demo["memo_id"])
    old_pdf = download(api, demo["memo_id"])

    client = app.test_client()
    AuthActions(client).login("admin")
    answer = _upload(client, pki.pkcs12("office-ca", b"correct horse"), "correct horse")
    assert answer.status_code == 302
    old, new = _seals(app)
    assert old.retired_at is not None and new.retired_at is None and new.source == "pkcs12"
    assert "CA-issued seal" in new.subject and "Test Root CA" in new.issuer
    assert "Test Root CA" in client.get("/admin/office").text
    with app.app_context():
        change = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "admin_change")).all()[-1]
        assert json.loads(change.details)["change"] == "office_seal"
        clerk = db.session.exec(select(User).where(User.username == "clerk")).one()
        memo = make_memo(db.session, drafter=clerk, state=routing.APPROVED)
        sealing.seal_memo(memo.id)
    new_pdf = download(api, memo.id)

    verify = app.test_client()
    for pdf, fingerprint in ((old_pdf, old.fingerprint), (new_pdf, new.fingerprint)):
        body = api_verify(verify, pdf).json
        assert body["verdict"] == "valid" and body["office"] == "องค์การบริหารส่วนตำบลท่าตูม"
        assert body["timestamped"], body
        # each PDF is signed by the seal in use when it was sealed
        signer = PdfFileReader(io.BytesIO(pdf)).embedded_signatures[0].signer_cert
        assert hashlib.sha256(signer.dump()).hexdigest() == fingerprint


def test_a_new_office_gets_its_own_root_and_seal(app):
    """Created from the shell (principal None), an office has a generated seal at once,
    issued by its own root, its key stored only encrypted."""
    from workflow.platform.offices import create_office

    with app.app_context():
        org = create_office(principal=None, code="nongbua", name="เทศบาลตำบลหนองบัว",
                            admin_username="admin", admin_full_name="นายผู้ดูแล ระบบ",
                            admin_email="admin@example.com", admin_password="ม้าลาย-ข้าม-ถนน-2569")
        seal = keys.current(db.session, org.id)
        assert seal is not None and seal.source == "generated"
        assert "เทศบาลตำบลหนองบัว" in seal.subject and seal.root_fingerprint != seal.fingerprint
        assert seal.encrypted_key.startswith("v1:") and "PRIVATE KEY" not in seal.encrypted_key
        assert keys.decrypt_key(seal) is not None  # with this app's SEAL_KEY (SECRET_KEY)
        app.config["SEAL_KEY"] = "another key"
        with pytest.raises(Exception):  # noqa: B017 - AES-GCM refuses the wrong key
            keys.decrypt_key(seal)


def test_a_seal_whose_ca_publishes_revocation_is_b_lt(seal_app, pki):
    """With a CA that publishes a CRL, the revocation data goes into the file (B-LT): pyHanko
    validates it offline, revocation checked hard, and /verify still finds it whole."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.sign.validation import DocumentSecurityStore, validate_pdf_signature

    from workflow.models import SealedDocument
    from workflow.seal.signing import off_loop

    app = seal_app
    with app.app_context():
        demo = seed_demo()
    client = app.test_client()
    AuthActions(client).login("admin")
    assert _upload(client, pki.pkcs12("office-ca", b"pw"), "pw").status_code == 302
    api = ApiClient(app.test_client())
    approve_all(api, demo["memo_id"])
    with app.app_context():
        sealing.seal_memo(demo["memo_id"])
        assert db.session.exec(select(SealedDocument)).one().level == "B-LT"
    pdf = download(api, demo["memo_id"])
    roots = list(load_certs_from_pemder_data(pki.root_pem_path.read_bytes()))
    reader = PdfFileReader(io.BytesIO(pdf))
    dss = DocumentSecurityStore.read_dss(reader)
    assert dss.crls, "no CRL embedded"
    # Offline, revocation checked hard: only what the file carries can satisfy it.
    offline = dss.as_validation_context({"trust_roots": roots, "allow_fetching": False,
                                         "revocation_mode": "hard-fail"})
    signature = reader.embedded_signatures[0]
    status = off_loop(validate_pdf_signature, signature, offline)
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()
    assert api_verify(app.test_client(), pdf).json["verdict"] == "valid"
