"""A test PKI from certomancer: a CA, a real RFC 3161 timestamp authority served over HTTP on
127.0.0.1 (certomancer's Animator, a WSGI app, in a thread), and a signer that is *not* any
office's seal (for "signed by another key") whose PKCS#12 stands in for one a CA issued.

The keys are made fresh for each test session (certomancer reads keys from files; it does not
generate them), so nothing secret is checked in.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from werkzeug.serving import make_server

from tests.support.net import free_port

ARCH = "saraban-test"
_VALID = {"valid-from": "2020-01-01T00:00:00+0000", "valid-to": "2060-01-01T00:00:00+0000"}
_LABELS = ("root", "tsa", "other", "office-ca")


def _key_usage(*usages: str) -> dict[str, Any]:
    return {"id": "key_usage", "critical": True,
            "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _config(key_dir: Path, base_url: str) -> dict[str, Any]:
    ca = [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
          _key_usage("digital_signature", "key_cert_sign", "crl_sign")]
    signer = [_key_usage("digital_signature", "non_repudiation")]
    # The CA-issued seal names the CA's CRL (served by the same Animator), as a Thai CA's
    # certificate would: the seal can then be B-LT, its revocation data embedded.
    published = [*signer, {"id": "crl_distribution_points",
                           "smart-value": {"schema": "crl-dist-url",
                                           "params": {"crl-repo-names": ["root"]}}}]
    return {
        "external-url-prefix": base_url,
        "keysets": {ARCH: {"path-prefix": str(key_dir),
                           "keys": {label: {"path": f"{label}.pem"} for label in _LABELS}}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entity-defaults": {"country-name": "TH", "organization-name": "Certomancer Test CA"},
            "entities": {"root": {"common-name": "Test Root CA"},
                         "tsa": {"common-name": "Test Time Stamping Authority"},
                         "other": {"common-name": "Someone Else"},
                         "office-ca": {"common-name": "สำนักงานทดสอบ (CA-issued seal)"}},
            "certs": {
                "root": {"subject": "root", "issuer": "root", "validity": _VALID,
                         "extensions": ca},
                "tsa": {"issuer": "root", "validity": _VALID, "extensions": [
                    _key_usage("digital_signature"),
                    {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]}]},
                "other": {"issuer": "root", "validity": _VALID, "extensions": signer},
                "office-ca": {"issuer": "root", "validity": _VALID, "extensions": published},
            },
            "services": {
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
                "crl-repo": {"root": {"for-issuer": "root", "signing-key": "root",
                                      "simulated-update-schedule": "P30D"}},
            },
        }},
    }


@dataclass
class LocalPki:
    """The running PKI: the TSA's URL, the CA's root as PEM, and PKCS#12 bundles."""

    arch: Any
    tsa_url: str
    root_pem_path: Path
    _server: Any
    _thread: threading.Thread

    def pkcs12(self, label: str, password: bytes) -> bytes:
        """The certificate ``label`` with its key and chain, as a PKCS#12 file."""
        return bytes(self.arch.package_pkcs12(label, password=password))

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def start_pki(folder: Path) -> LocalPki:
    """Make the keys, build the architecture and serve its TSA on a free port."""
    from certomancer.integrations.animator import Animator, AnimatorArchStore
    from certomancer.registry import CertomancerConfig

    folder.mkdir(parents=True, exist_ok=True)
    for label in _LABELS:
        key = ec.generate_private_key(ec.SECP256R1())
        (folder / f"{label}.pem").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
    port = free_port()
    config = CertomancerConfig(_config(folder, f"http://127.0.0.1:{port}"),
                               key_search_dir=str(folder))
    arch = config.get_pki_arch(ARCH)  # type: ignore[arg-type]
    root_pem = folder / "root.crt.pem"
    root_pem.write_bytes(_pem(arch.get_cert("root").dump()))
    server = make_server("127.0.0.1", port, Animator(AnimatorArchStore(config.pki_archs),
                                                  with_web_ui=False), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/{ARCH}/tsa/tsa"
    return LocalPki(arch, url, root_pem, server, thread)


def _pem(der: bytes) -> bytes:
    from cryptography import x509

    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)
