"""An office's seal: a certificate and its private key, which only ever rests encrypted.

By default an office gets its own small PKI when it is created: a self-signed root (which
readers may download and trust) and a seal certificate it issues. An administrator may
instead upload a PKCS#12 issued by a CA. The private key is stored as AES-GCM ciphertext
under a key derived from ``SEAL_KEY`` (default ``SECRET_KEY``), which lives in the
configuration, never in the database: a database dump alone cannot sign. The ciphertext is
bound to the certificate's fingerprint, so a key cannot be swapped onto another seal's row.
"""

from __future__ import annotations

import base64
import logging
import os
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.x509.oid import NameOID
from flask import current_app
from sqlmodel import Session, col, select

from .. import clock
from ..extensions import db
from ..models import OfficeSeal, Organization

_LOGGER = logging.getLogger(__name__)

GENERATED = "generated"
PKCS12 = "pkcs12"
# A common name may be at most 64 characters (RFC 5280's ub-common-name).
_CN_MAX = 64
_UNIT = "ตราประทับอิเล็กทรอนิกส์ (Saraban Workflow)"
ROOT_YEARS = 20
SEAL_YEARS = 10

SealKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _cipher() -> AESGCM:
    """AES-256-GCM under a key derived from the configuration (never from the database)."""
    secret = current_app.config.get("SEAL_KEY") or current_app.config.get("SECRET_KEY") or ""
    if not secret:
        raise RuntimeError("SEAL_KEY (or SECRET_KEY) must be set to keep office seals")
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
               info=b"saraban-workflow office seal v1").derive(secret.encode())
    return AESGCM(key)


def encrypt_key(private_key: SealKey, fingerprint: str) -> str:
    """The private key as stored: "v1:" + base64(nonce || ciphertext), bound to its seal."""
    der = private_key.private_bytes(serialization.Encoding.DER,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    nonce = os.urandom(12)
    sealed = _cipher().encrypt(nonce, der, f"seal:{fingerprint}".encode())
    return "v1:" + base64.b64encode(nonce + sealed).decode()


def decrypt_key(seal: OfficeSeal) -> SealKey:
    """The seal's private key, decrypted in memory for one signature."""
    raw = base64.b64decode(seal.encrypted_key.removeprefix("v1:"))
    der = _cipher().decrypt(raw[:12], raw[12:], f"seal:{seal.fingerprint}".encode())
    key = serialization.load_der_private_key(der, password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise RuntimeError("unsupported seal key type")
    return key


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER, as lower-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def names_of(cert: x509.Certificate) -> tuple[str, str]:
    """The subject and issuer as people read them. Read through asn1crypto: cryptography
    warns on every Thai common name longer than 21 characters (it counts bytes)."""
    parsed = asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
    return parsed.subject.human_friendly, parsed.issuer.human_friendly


def load_pem_list(text: str) -> list[x509.Certificate]:
    """Every certificate in a PEM text (empty text: none)."""
    return x509.load_pem_x509_certificates(text.encode()) if text.strip() else []


def _name(common_name: str, office: str) -> x509.Name:
    # RFC 5280 allows a common name 64 *characters*; cryptography counts UTF-8 bytes, which
    # would cut a Thai name to a third of that, so its check (and its warning) is skipped.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        common = x509.NameAttribute(NameOID.COMMON_NAME, common_name[:_CN_MAX], _validate=False)
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "TH"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, office),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, _UNIT),
        common,
    ])


def _certificate(subject: x509.Name, issuer: x509.Name, public_key: Any, signing_key: SealKey,
                 now: datetime, years: int, *, ca: bool,
                 issuer_key: Any) -> x509.Certificate:
    builder = (x509.CertificateBuilder()
               .subject_name(subject).issuer_name(issuer).public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=365 * years))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True)
               .add_extension(x509.KeyUsage(
                   digital_signature=not ca, content_commitment=not ca, key_encipherment=False,
                   data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                   crl_sign=ca, encipher_only=False, decipher_only=False), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                              critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key),
                              critical=False))
    return builder.sign(signing_key, hashes.SHA256())


@dataclass(frozen=True)
class Material:
    """What a seal is made of before it is stored."""

    key: SealKey
    certificate: x509.Certificate
    chain: list[x509.Certificate]  # the issuers, root last (may be empty)
    root: x509.Certificate  # the trust anchor offered for download


def generate(office_name: str) -> Material:
    """A new root for the office and a seal certificate it issues (EC P-256, SHA-256)."""
    now = clock.now()
    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = _name(f"ราก {office_name}", office_name)
    root = _certificate(root_name, root_name, root_key.public_key(), root_key, now, ROOT_YEARS,
                        ca=True, issuer_key=root_key.public_key())
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal = _certificate(_name(office_name, office_name), root_name, seal_key.public_key(),
                        root_key, now, SEAL_YEARS, ca=False, issuer_key=root_key.public_key())
    # The root's key is dropped here: nothing signs with it again; a new seal gets a new root.
    return Material(seal_key, seal, [root], root)


def store(session: Session, org_id: int, material: Material, *, source: str,
          created_by_id: int | None = None) -> OfficeSeal:
    """Add ``material`` as the office's seal in the caller's transaction, retiring the one
    in use (which stays, so what it sealed still verifies)."""
    now = clock.now()
    for old in session.exec(select(OfficeSeal).where(OfficeSeal.org_id == org_id,
                                                      col(OfficeSeal.retired_at).is_(None))):
        old.retired_at = now
        session.add(old)
    cert = material.certificate
    digest = fingerprint(cert)
    seal = OfficeSeal(
        org_id=org_id, source=source, subject=names_of(cert)[0][:500],
        issuer=names_of(cert)[1][:500],
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        fingerprint=digest, certificate=pem(cert),
        chain="".join(pem(c) for c in material.chain), root=pem(material.root),
        root_fingerprint=fingerprint(material.root),
        encrypted_key=encrypt_key(material.key, digest), created_by_id=created_by_id,
        created_at=now)
    session.add(seal)
    session.flush()
    _LOGGER.info("office %s: seal %s (%s) in use", org_id, digest[:16], source)
    return seal


def current(session: Session, org_id: int) -> OfficeSeal | None:
    """The seal the office signs with now, if it has one."""
    return session.exec(select(OfficeSeal).where(OfficeSeal.org_id == org_id,
                                                 col(OfficeSeal.retired_at).is_(None))
                        .order_by(col(OfficeSeal.id).desc())).first()


def ensure(session: Session, org: Organization) -> OfficeSeal:
    """The office's seal, generated now if it has none (an office made before seals, or
    by a script that skipped it)."""
    seal = current(session, org.id or 0)
    if seal is None:
        seal = store(session, org.id or 0, generate(org.name), source=GENERATED)
    return seal


def history(org_id: int) -> list[OfficeSeal]:
    """Every seal the office has had, newest first."""
    return list(db.session.exec(select(OfficeSeal).where(OfficeSeal.org_id == org_id)
                                .order_by(col(OfficeSeal.id).desc())))


def by_fingerprint(session: Session, digest: str) -> OfficeSeal | None:
    """The seal (of any office, in use or retired) whose certificate has this SHA-256."""
    return session.exec(select(OfficeSeal).where(OfficeSeal.fingerprint == digest)
                        .execution_options(all_offices=True)).first()


def root_by_fingerprint(digest: str) -> str:
    """The PEM of an office seal's root (any office's, in use or retired) by its SHA-256;
    "" if no seal has that root. Roots are public: readers import them to trust the seal."""
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return ""
    seal = db.session.exec(select(OfficeSeal).where(OfficeSeal.root_fingerprint == digest)
                           .execution_options(all_offices=True)).first()
    return seal.root if seal else ""


def short_fingerprint(digest: str) -> str:
    """The fingerprint as people compare it: colon-separated byte pairs."""
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2)).upper()
