"""Verify by upload (/verify and POST /api/v1/verify): the sealed copy is recognised with its
memo, office and signers; a changed file, an appended update or another key's signature is
reported; what is no readable PDF is refused with a clear message, never a 500."""

from __future__ import annotations

import io
import re
import time

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import signers

from tests.conftest import ApiClient
from tests.seal.test_sealed_pdf import approve_all, download
from workflow.demo.seed import seed_demo
from workflow.seal import sealing
from workflow.seal.signing import off_loop

# The seal's cryptography and its pages: the database adds nothing to what is tested here.
pytestmark = pytest.mark.one_backend


def _sealed(app) -> tuple[bytes, bytes]:
    """The demo memo approved: (its provisional unsigned PDF, its sealed PDF)."""
    api = ApiClient(app.test_client())
    with app.app_context():
        memo_id = seed_demo()["memo_id"]
    approve_all(api, memo_id)
    provisional = download(api, memo_id)
    with app.app_context():
        sealing.seal_memo(memo_id)
    return provisional, download(api, memo_id)


def multipart(data: bytes, name: str, field: str = "file") -> tuple[bytes, str]:
    """The upload as a browser sends it, built here so that a large body stays in memory (the
    test client would spool it to a temporary file that an early 413 leaves open)."""
    boundary = "----saraban-verify-test"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    body += data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def page(client, data: bytes, name: str = "memo.pdf"):
    body, content_type = multipart(data, name)
    return client.post("/verify", data=body, content_type=content_type)


def api_verify(client, data: bytes, name: str = "memo.pdf"):
    body, content_type = multipart(data, name)
    return client.post("/api/v1/verify", data=body, content_type=content_type)


def verdict(response) -> str:
    match = re.search(r'data-verdict="([a-z_]+)"', response.text)
    return match.group(1) if match else ""


def one_byte_changed(pdf: bytes) -> bytes:
    """Flip one byte inside the first content stream, well within the signed range."""
    at = pdf.index(b"stream\n") + 40
    return pdf[:at] + bytes([pdf[at] ^ 0x01]) + pdf[at + 1:]


def text_appended(pdf: bytes) -> bytes:
    """An incremental update after the signature that draws new text on the first page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    page_ref = writer.find_page_for_modification(0)[0]
    page_obj = page_ref.get_object()
    stream = generic.StreamObject(stream_data=b"BT /F1 30 Tf 100 400 Td (PAID IN FULL) Tj ET")
    contents = page_obj["/Contents"]
    refs = list(contents) if isinstance(contents, generic.ArrayObject) else [page_obj.raw_get(
        "/Contents")]
    page_obj["/Contents"] = generic.ArrayObject([*refs, writer.add_object(stream)])
    writer.update_container(page_obj)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def signed_by_other(pdf: bytes, pki) -> bytes:
    """The same (unsigned) document signed with a key no office holds."""
    signer = signers.SimpleSigner.load_pkcs12_data(pki.pkcs12("other", b"pw"), other_certs=[],
                                                   passphrase=b"pw")
    out = off_loop(signers.sign_pdf, IncrementalPdfFileWriter(io.BytesIO(pdf)),
                   signers.PdfSignatureMetadata(field_name="Other"), signer=signer)
    return out.getvalue()


def test_the_sealed_copy_is_recognised_with_its_memo_office_and_signers(seal_app):
    _, sealed = _sealed(seal_app)
    client = seal_app.test_client()
    assert client.get("/verify").status_code == 200
    answer = page(client, sealed)
    assert answer.status_code == 200 and verdict(answer) == "valid"
    for expected in ["องค์การบริหารส่วนตำบลท่าตูม", "สป ๓๔๕๐๑/๑", "นายสมคิด ดันทางกุล",
                     "รับรองเวลาโดยหน่วยประทับเวลา", "ไม่ถูกแก้ไขหลังประทับตรา"]:
        assert expected in answer.text, expected
    assert "รายงานความก้าวหน้า" not in answer.text  # the subject is not repeated
    root = client.get(re.search(r'href="(/verify/root/[0-9a-f]{64}\.pem)"', answer.text)[1])
    assert root.status_code == 200 and b"BEGIN CERTIFICATE" in root.data
    assert client.get(f"/verify/root/{'0' * 64}.pem").status_code == 404
    body = api_verify(client, sealed).json
    assert body["verdict"] == "valid" and body["genuine"] and body["timestamped"]
    assert body["number"] == "สป ๓๔๕๐๑/๑" and len(body["signers"]) == 4
    assert "unchanged" in body["message_en"] and body["message"]


def test_a_changed_file_an_appended_update_and_another_key_are_reported(seal_app, pki):
    provisional, sealed = _sealed(seal_app)
    client = seal_app.test_client()
    cases = {"altered": one_byte_changed(sealed), "appended": text_appended(sealed),
             "not_ours": signed_by_other(provisional, pki)}
    for expected, data in cases.items():
        answer = page(client, data)
        assert answer.status_code == 200 and verdict(answer) == expected, expected
        body = api_verify(client, data).json
        assert body["verdict"] == expected and not body["genuine"], expected
        assert body["number"] == ""  # nothing about the memo is claimed for a changed file
    assert "แก้ไขหลังประทับตรา" in page(client, cases["appended"]).text
    assert "ใบรับรองอื่น" in page(client, cases["not_ours"]).text


def test_a_stored_copy_is_read_and_checked_in_one_child(seal_app, monkeypatch):
    """A copy the system stored is known by its digest, and with it the seal to check it
    against: the file is read and checked in one sandbox child, not two. Any other file is
    still read first to learn whose signature it bears."""
    from workflow import sandbox

    _, sealed = _sealed(seal_app)
    client = seal_app.test_client()
    children: list[str] = []
    run = sandbox.run

    def counted(function, *args, **kwargs):
        children.append(function.__name__)
        return run(function, *args, **kwargs)

    monkeypatch.setattr(sandbox, "run", counted)
    assert api_verify(client, sealed).json["verdict"] == "valid"
    assert children == ["examine"]
    children.clear()
    assert api_verify(client, text_appended(sealed)).json["verdict"] == "appended"
    assert children == ["first_signer", "check"]


@pytest.mark.parametrize("name, make, status, code", [
    ("not a PDF", lambda s, p: b"GIF89a" + b"\0" * 100, 422, "not_pdf"),
    ("empty", lambda s, p: b"", 422, "empty_file"),
    ("huge", lambda s, p: b"%PDF-1.7\n" + b"0" * (2 * 1024 * 1024), 413, None),
    ("unsigned", lambda s, p: p, 200, None),
    ("truncated", lambda s, p: s[: len(s) // 3], 422, "damaged_pdf"),
    ("garbage after the header", lambda s, p: b"%PDF-1.7\n" + bytes(range(256)) * 50, 422,
     "damaged_pdf"),
])
def test_bad_input_gets_a_clear_answer_never_a_500(make_app, pki, name, make, status, code):
    app = make_app(SEAL_TSA_URL=pki.tsa_url, VERIFY_MAX_MB=1)
    provisional, sealed = _sealed(app)
    data = make(sealed, provisional)
    client = app.test_client()
    answer = page(client, data)
    assert answer.status_code == status, (name, answer.text[-800:])
    assert "data-testid=\"verify-error\"" in answer.text or verdict(answer) == "unsigned" or (
        status == 413 and "ใหญ่เกิน" in answer.text)
    body = api_verify(client, data)
    assert body.status_code == status and body.is_json, name
    if code:
        assert body.json["error"] == code and body.json["message"] and body.json["message_en"]
    if name == "unsigned":
        assert body.json["verdict"] == "unsigned"


def test_a_request_without_the_file_field_is_refused(app):
    client = app.test_client()
    assert page(client, b"x").status_code in (200, 422)
    answer = client.post("/api/v1/verify", data={}, content_type="multipart/form-data")
    assert answer.status_code == 422 and answer.json["error"] == "empty_file"


def test_verification_is_rate_limited(make_app):
    app = make_app(RATELIMIT_ENABLED=True, VERIFY_LIMIT="2 per minute")
    client = app.test_client()
    codes = [api_verify(client, b"not a pdf").status_code for _ in range(3)]
    assert codes == [422, 422, 429]
    assert "บ่อยเกินไป" in page(client, b"not a pdf").text


def test_a_timestamp_from_an_authority_not_configured_as_trusted_is_said_so(make_app, pki):
    app = make_app(SEAL_TSA_URL=pki.tsa_url)  # no SEAL_TSA_ROOTS
    _, sealed = _sealed(app)
    body = api_verify(app.test_client(), sealed).json
    assert body["verdict"] == "valid" and not body["timestamped"] and body["untrusted_timestamp"]
    assert "ไม่ได้ตั้งค่าให้เชื่อถือผู้ออก" in page(app.test_client(), sealed).text


def many_updates(pdf: bytes, count: int) -> bytes:
    """``count`` incremental updates appended, each adding one small unreferenced object,
    written by hand: pyHanko's writer would take minutes to build them one by one."""
    out = bytearray(pdf)
    previous = int(re.findall(rb"startxref\s+(\d+)", pdf)[-1])
    root = re.findall(rb"/Root (\d+ \d+ R)", pdf)[-1]
    size = max(int(n) for n in re.findall(rb"/Size (\d+)", pdf))
    for i in range(count):
        number, at = size + i, len(out)
        out += b"%d 0 obj\n<< /N %d >>\nendobj\n" % (number, i)
        xref = len(out)
        out += (b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root %s /Prev %d >>\n"
                b"startxref\n%d\n%%%%EOF\n" % (number, at, number + 1, root, previous, xref))
        previous = xref
    return bytes(out)


def test_a_file_whose_check_outgrows_the_sandbox_is_refused_and_the_server_goes_on(make_app,
                                                                                    pki):
    """pyHanko's diff analysis is quadratic in the updates after the signature: 3,000 (half a
    megabyte) took 32 s in the web worker before the check moved to the sandbox."""
    app = make_app(SEAL_TSA_URL=pki.tsa_url, VERIFY_TIMEOUT_SECONDS=1)
    _, sealed = _sealed(app)
    client = app.test_client()
    started = time.monotonic()
    answer = api_verify(client, many_updates(sealed, 3000))
    assert answer.status_code == 422 and answer.json["error"] == "verify_too_complex"
    assert "ซับซ้อนเกินกว่าที่ระบบจะตรวจสอบได้" in answer.json["message"]
    assert time.monotonic() - started < 10
    assert "ซับซ้อนเกินกว่า" in page(client, many_updates(sealed, 3000)).text
    # The next upload is checked as usual, a few harmless updates included.
    assert api_verify(client, sealed).json["verdict"] == "valid"
    assert api_verify(client, many_updates(sealed, 20)).json["verdict"] == "valid"


def test_an_unreadable_tsa_roots_file_is_logged_and_the_seal_still_checked(make_app, pki,
                                                                            caplog):
    app = make_app(SEAL_TSA_URL=pki.tsa_url)
    _, sealed = _sealed(app)
    app.config["SEAL_TSA_ROOTS"] = "/nonexistent/tsa-roots.pem"
    body = api_verify(app.test_client(), sealed)
    assert body.status_code == 200
    assert body.json["verdict"] == "valid" and not body.json["timestamped"]
    assert "SEAL_TSA_ROOTS" in caplog.text
