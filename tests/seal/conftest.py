"""Fixtures of the seal's tests: certomancer's test PKI with a live RFC 3161 TSA, and an app
that timestamps with it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask

from tests.support.pki import LocalPki, start_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalPki]:
    """The test CA and its timestamp authority, served on 127.0.0.1 for the session."""
    running = start_pki(tmp_path_factory.mktemp("pki"))
    yield running
    running.stop()


@pytest.fixture
def seal_app(make_app: Any, pki: LocalPki) -> Flask:
    """The app, timestamping its seals at the test TSA and trusting the test CA for them."""
    return make_app(SEAL_TSA_URL=pki.tsa_url,  # type: ignore[no-any-return]
                    SEAL_TSA_ROOTS=str(pki.root_pem_path))
