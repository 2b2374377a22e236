"""What pyHanko finds in an uploaded PDF: the part of verification that reads the file.

It runs in ``workflow.sandbox`` (``verify`` calls it there), because its work grows with what
the file asks of it, not with its size: the diff analysis of a signature is quadratic in the
incremental updates appended after it (3,000 of them, half a megabyte, took 32 s), and a
file is whatever anyone uploads. So these functions know nothing of Flask or the database:
they take bytes and certificates, and return plain, picklable facts.

pyHanko is imported by the functions, not with the module: the web process imports this
module only to hand its functions to the sandbox, and pyHanko (its ``sign`` package pulls in
the signer and an HTTP client) took 0.5 s of every process's start-up. The forkserver
imports ``PYHANKO`` once, so a child finds it loaded.
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_LOGGER = logging.getLogger(__name__)

# What the functions below import from pyHanko, for the sandbox's forkserver to load first.
PYHANKO = ("pyhanko.keys", "pyhanko.pdf_utils.reader", "pyhanko.sign.diff_analysis",
           "pyhanko.sign.validation", "pyhanko.sign.validation.settings",
           "pyhanko_certvalidator")

UNREADABLE = "unreadable"  # not a PDF pyHanko can read: truncated, damaged
UNSIGNED = "unsigned"
BAD_CERTIFICATE = "bad_certificate"  # a signature whose certificate cannot be read
SIGNED = "signed"


@dataclass(frozen=True)
class Signer:
    """The file's first signature: whose certificate made it, if it can be read."""

    kind: str  # one of the four above
    fingerprint: str = ""  # SHA-256 of the certificate, as keys.by_fingerprint looks it up
    subject: str = ""


@dataclass(frozen=True)
class Check:
    """The first signature, validated against one seal's root."""

    validated: bool  # False: the signature value itself is mangled
    intact: bool = False
    valid: bool = False
    covers_all: bool = False
    sealed_at: datetime | None = None
    timestamped: bool = False  # sealed_at is from a trusted timestamp authority
    untrusted_timestamp: bool = False  # from a token whose authority is not trusted here


def first_signer(data: bytes) -> Signer:
    """Read the file and its first signature's certificate."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except MemoryError:
        raise  # the sandbox's limit: too complex to check, not damaged
    except Exception:  # noqa: BLE001 - whatever the parser trips on, the file is unreadable
        _LOGGER.info("verify: unreadable PDF", exc_info=True)
        return Signer(UNREADABLE)
    if not signatures:
        return Signer(UNSIGNED)
    try:
        cert = signatures[0].signer_cert
        return Signer(SIGNED, hashlib.sha256(cert.dump()).hexdigest(),
                      cert.subject.human_friendly)
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - a certificate that cannot be read
        _LOGGER.info("verify: unreadable signature", exc_info=True)
        return Signer(BAD_CERTIFICATE)


def check(data: bytes, seal_root: bytes, tsa_roots: bytes | None) -> Check:
    """Validate the first signature, trusting ``seal_root`` only (PEM or DER) for the seal
    and ``tsa_roots`` for its timestamp (None: the seal's root decides)."""
    from pyhanko.keys import load_certs_from_pemder_data
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    # A seal certificate from a CA may carry either bit; pyHanko's default wants
    # non-repudiation.
    key_usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"},
                                    match_all_key_usages=False)
    signature = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures[0]
    trust = ValidationContext(trust_roots=list(load_certs_from_pemder_data(seal_root)),
                              allow_fetching=False)
    tsa = None if tsa_roots is None else ValidationContext(
        trust_roots=list(load_certs_from_pemder_data(tsa_roots)), allow_fetching=False)
    try:
        status = validate_pdf_signature(signature, trust, tsa, key_usage_settings=key_usage)
    except MemoryError:
        raise  # the sandbox's limit: not a verdict on the file
    except Exception:  # noqa: BLE001 - a mangled signature value is a changed file
        _LOGGER.info("verify: the signature did not validate", exc_info=True)
        return Check(validated=False)
    stamp = status.timestamp_validity
    timestamped = bool(stamp and stamp.intact and stamp.valid and stamp.trusted)
    return Check(validated=True, intact=bool(status.intact), valid=bool(status.valid),
                 covers_all=_covers_all(status),
                 sealed_at=stamp.timestamp if stamp else status.signer_reported_dt,
                 timestamped=timestamped,
                 untrusted_timestamp=bool(stamp and stamp.intact and not timestamped))


def examine(data: bytes, fingerprint: str, seal_root: bytes,
            tsa_roots: bytes | None) -> tuple[Signer, Check | None]:
    """``first_signer``, and ``check`` against ``seal_root`` when the signer is the seal
    expected (``fingerprint``): both in one child for the usual upload, a copy the system
    stored, whose seal the caller knows from its digest. None: the signer is another, to be
    looked up and checked apart. Both steps share one child's time and memory: a copy the
    system stored is one it wrote, whose check takes a few tens of milliseconds of the
    ten seconds allowed."""
    signer = first_signer(data)
    if signer.kind != SIGNED or signer.fingerprint != fingerprint:
        return signer, None
    return signer, check(data, seal_root, tsa_roots)


def _covers_all(status: Any) -> bool:
    """The signature covers the whole file, or all that follows it is validation data (the
    DSS a B-LT seal appends: certificates, CRLs, OCSP answers; no content)."""
    from pyhanko.sign.diff_analysis import ModificationLevel

    coverage = status.coverage.name if status.coverage is not None else ""
    if coverage == "ENTIRE_FILE":
        return True
    level = status.modification_level
    return (coverage == "ENTIRE_REVISION" and level is not None
            and level <= ModificationLevel.LTA_UPDATES and status.docmdp_ok is not False)
