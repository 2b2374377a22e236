"""The office seal on the admin's office page: what certificate the office seals with, its
root to hand to readers, and replacing it with a PKCS#12 issued by a CA.

A replacement is checked whole before anything changes (readable, the right password, a key
that matches its certificate, valid today, allowed to sign); a refusal leaves the seal in
use as it was. The old seal is retired, not deleted, so every PDF it sealed still verifies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from asn1crypto import pkcs12 as asn1_pkcs12
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12

from .. import clock
from ..errors import Invalid, NotFound
from ..extensions import db
from ..identity.principal import Principal, require_admin
from ..models import Organization
from ..seal import keys
from ..trail.chain import RequestInfo
from .changes import record_change

_LOGGER = logging.getLogger(__name__)

PKCS12_MAX_BYTES = 256 * 1024


@dataclass(frozen=True)
class SealSummary:
    """The seal in use, as the office page shows it."""

    seal_id: int
    source: str
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    fingerprint: str
    root_subject: str
    earlier: int  # retired seals, kept so that what they sealed still verifies


def summary(principal: Principal) -> SealSummary:
    """The office's current seal (made now if the office has none yet)."""
    require_admin(principal)
    with db.write() as session:
        org = session.get(Organization, principal.org_id)
        if org is None:
            raise NotFound("ไม่พบหน่วยงาน", "Office not found.", code="org_not_found")
        seal = keys.ensure(session, org)
    earlier = len(keys.history(principal.org_id)) - 1
    root = keys.load_pem_list(seal.root)[0]
    return SealSummary(seal.id or 0, seal.source, seal.subject, seal.issuer, seal.not_before,
                       seal.not_after, keys.short_fingerprint(seal.fingerprint),
                       keys.names_of(root)[0], earlier)


def root_pem(principal: Principal) -> bytes:
    """The trust anchor of the office's current seal, as PEM, for readers to import."""
    require_admin(principal)
    seal = keys.current(db.session, principal.org_id)
    if seal is None:
        raise NotFound("หน่วยงานยังไม่มีตราประทับอิเล็กทรอนิกส์", "The office has no seal yet.",
                       code="no_seal")
    return seal.root.encode()


def _refuse(thai: str, english: str, code: str) -> Invalid:
    return Invalid(thai, english, code=code, details={"field": "pkcs12"})


def load_pkcs12(data: bytes, password: str) -> keys.Material:
    """A seal from a PKCS#12 file, or a Thai refusal that says what is wrong with it."""
    if not data:
        raise _refuse("กรุณาเลือกไฟล์ PKCS#12 (.p12 หรือ .pfx)", "Choose a PKCS#12 file.",
                      "empty_file")
    if len(data) > PKCS12_MAX_BYTES:
        raise _refuse("ไฟล์ PKCS#12 ใหญ่เกิน ๒๕๖ KB", "The PKCS#12 file is larger than 256 KB.",
                      "file_too_large")
    try:
        asn1_pkcs12.Pfx.load(data)["auth_safe"]["content"].native  # noqa: B018 - parse it all
    except Exception:  # noqa: BLE001 - any parse failure: not a PKCS#12 file
        raise _refuse("ไฟล์นี้ไม่ใช่ไฟล์ PKCS#12 (.p12/.pfx) หรือไฟล์เสียหาย",
                      "The file is not a PKCS#12 file, or it is damaged.", "bad_pkcs12") from None
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(
            data, password.encode() if password else None)
    except Exception:  # noqa: BLE001 - cryptography says only "invalid password or data"
        raise _refuse("รหัสผ่านของไฟล์ PKCS#12 ไม่ถูกต้อง (หรือไฟล์เข้ารหัสด้วยวิธีที่ระบบไม่รองรับ)",
                      "Wrong password for the PKCS#12 file (or an unsupported encryption).",
                      "wrong_password") from None
    if key is None or cert is None:
        raise _refuse("ไฟล์ PKCS#12 ต้องมีทั้งใบรับรองและกุญแจส่วนตัว",
                      "The PKCS#12 file must hold a certificate and its private key.",
                      "incomplete_pkcs12")
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) or (
            isinstance(key, rsa.RSAPrivateKey) and key.key_size < 2048):
        raise _refuse("กุญแจต้องเป็น RSA อย่างน้อย 2048 บิต หรือ EC",
                      "The key must be RSA of at least 2048 bits, or EC.", "weak_key")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, spki) != cert.public_key().public_bytes(der, spki):
        raise _refuse("กุญแจส่วนตัวไม่ตรงกับใบรับรองในไฟล์",
                      "The private key does not belong to the certificate.", "key_mismatch")
    now = clock.now()
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise _refuse("ใบรับรองหมดอายุแล้วหรือยังไม่ถึงวันเริ่มใช้",
                      "The certificate is expired or not yet valid.", "cert_not_valid_now")
    _check_usage(cert)
    chain = _chain(cert, list(extra or []))
    return keys.Material(key, cert, chain, chain[-1] if chain else cert)


def _check_usage(cert: x509.Certificate) -> None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise _refuse("ใบรับรองนี้ไม่อนุญาตให้ใช้ลงลายมือชื่อ (key usage)",
                      "The certificate's key usage does not allow signing.", "cert_cannot_sign")


def _chain(cert: x509.Certificate, others: list[x509.Certificate]) -> list[x509.Certificate]:
    """The issuers of ``cert`` found among ``others``, nearest first (compared as asn1crypto
    names: cryptography warns about long Thai names when it reads them)."""
    parsed = {id(c): asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
              for c in [cert, *others]}
    chain: list[x509.Certificate] = []
    current = cert
    while True:
        here = parsed[id(current)]
        if here.self_signed != "no":
            break
        issuer = next((c for c in others if c not in chain and c is not current
                       and parsed[id(c)].subject == here.issuer), None)
        if issuer is None:
            break
        chain.append(issuer)
        current = issuer
    return chain


def replace(principal: Principal, file_storage: Any, password: str,
            request_info: RequestInfo | None = None) -> SealSummary:
    """Make an uploaded PKCS#12 the office's seal; the one in use is retired and kept."""
    require_admin(principal)
    stream: IO[bytes] | None = getattr(file_storage, "stream", None)
    data = stream.read(PKCS12_MAX_BYTES + 1) if stream is not None else b""
    material = load_pkcs12(data, password or "")
    with db.write() as session:
        before = keys.current(session, principal.org_id)
        seal = keys.store(session, principal.org_id, material, source=keys.PKCS12,
                          created_by_id=principal.user_id)
        record_change(session, principal, "office_seal",
                      before={"fingerprint": before.fingerprint if before else ""},
                      after={"fingerprint": seal.fingerprint, "subject": seal.subject},
                      request_info=request_info)
    _LOGGER.info("office %s: seal replaced by an uploaded PKCS#12", principal.org_id)
    return summary(principal)
