"""Signing a PDF with an office seal (PAdES, with pyHanko): the part of sealing that needs
pyHanko's signer.

Only ``sealing.seal_memo`` imports this module, when it seals a memo (in a Celery worker),
and the tests. pyHanko's signer and the HTTP client of its timestamps took 0.6 s to import,
which every web process, Celery worker and ``flask`` command paid at start-up without
signing anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pikepdf
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers, timestamps
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ..models import OfficeSeal
from . import keys

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

FIELD_NAME = "OfficeSeal"


def off_loop(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call one of pyHanko's synchronous functions, which run their own event loop with
    ``asyncio.run``: directly, or in a helper thread when this thread already runs a loop
    (an async server, or a test driving a browser), where ``asyncio.run`` refuses."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def sign(pdf: bytes, seal: OfficeSeal, *, reason: str, location: str) -> tuple[bytes, str]:
    """Sign ``pdf`` as a certifying PAdES signature of ``seal`` (no later change permitted);
    returns the signed bytes and the baseline level reached."""
    key = keys.decrypt_key(seal)
    key_info = asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    der = serialization.Encoding.DER
    cert = asn1_x509.Certificate.load(keys.load_pem_list(seal.certificate)[0].public_bytes(der))
    chain = [asn1_x509.Certificate.load(c.public_bytes(der))
             for c in keys.load_pem_list(seal.chain)]
    signer = signers.SimpleSigner(signing_cert=cert, signing_key=key_info,
                                  cert_registry=SimpleCertificateStore.from_certs(chain))
    config = current_app.config
    tsa_url = config.get("SEAL_TSA_URL") or ""
    timestamper = (timestamps.HTTPTimeStamper(tsa_url, timeout=int(config["SEAL_TSA_TIMEOUT"]))
                   if tsa_url else None)
    base = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, location=location, name=location, certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES)
    if timestamper is not None and _revocable(cert):
        # B-LT: the certificates and the CRLs/OCSP answers that prove the chain good today go
        # into the file's DSS, so it verifies without the CA's servers years from now. Any
        # failure to fetch them seals B-T instead: a timestamp still proves the signing time.
        roots = [c for c in chain if c.self_signed != "no"] or chain[-1:] or [cert]
        context = ValidationContext(trust_roots=roots, allow_fetching=True,
                                    revocation_mode="hard-fail")
        try:
            return _sign(pdf, dataclasses.replace(base, embed_validation_info=True,
                                                  validation_context=context),
                         signer, timestamper), "B-LT"
        except Exception:  # noqa: BLE001 - revocation data unreachable: fall back to B-T
            _LOGGER.warning("revocation data could not be embedded; sealing B-T",
                            exc_info=True)
    out = _sign(pdf, base, signer, timestamper)
    return out, ("B-T" if timestamper else "B-B")


# The seal block on the completion certificate (templates/print/memo.html, static/print.css):
# 16 cm wide (the A4 text width) and at least 2.6 cm tall, in points.
_BLOCK_WIDTH, _BLOCK_HEIGHT = 16 / 2.54 * 72, 2.6 / 2.54 * 72


def _block(pdf: bytes) -> tuple[int, tuple[int, int, int, int]] | None:
    """Where the rendered seal block is: its page and rectangle, from the named destination
    WeasyPrint writes for its ``id`` (None if the document has none)."""
    with pikepdf.open(io.BytesIO(pdf)) as document:
        names = document.Root.get("/Names")
        dests = names.get("/Dests") if names is not None else None
        pairs = dests.get("/Names") if dests is not None else None
        if pairs is None:
            return None
        for i in range(0, len(pairs) - 1, 2):
            if str(pairs[i]) == "seal-block":
                target = pairs[i + 1]
                page = next((n for n, p in enumerate(document.pages)
                             if p.obj.objgen == target[0].objgen), None)
                if page is None:
                    return None
                x, top = float(target[2]), float(target[3])
                return page, (round(x), round(top - _BLOCK_HEIGHT), round(x + _BLOCK_WIDTH),
                              round(top))
    return None


def _sign(pdf: bytes, metadata: signers.PdfSignatureMetadata, signer: signers.Signer,
          timestamper: timestamps.TimeStamper | None) -> bytes:
    """Sign, with the signature's field laid over the seal block, so a PDF reader's click on
    the block opens the signature. The field draws nothing itself: the block is the page's."""
    block = _block(pdf)
    spec = fields.SigFieldSpec(FIELD_NAME, on_page=block[0], box=block[1]) if block else None
    pdf_signer = signers.PdfSigner(metadata, signer, timestamper=timestamper,
                                   stamp_style=TextStampStyle(stamp_text="", border_width=0),
                                   new_field_spec=spec)
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    return off_loop(pdf_signer.sign_pdf, writer).getvalue()


def _revocable(cert: asn1_x509.Certificate) -> bool:
    """Whether the seal's certificate names where its revocation status is published (a CA's
    does; the office's own generated one has nothing to publish)."""
    return bool(cert.crl_distribution_points or cert.ocsp_urls)
