"""The seal runs where it belongs: the final approval, committed, hands the memo to a real
Celery worker (on a real Redis), which seals it; the memo page then says so."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest
from sqlmodel import select

from tests.conftest import ApiClient, CeleryProcesses, RedisServer
from tests.seal.test_sealed_pdf import approve_all, download
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.models import SealedDocument


@pytest.fixture
def worker_app(make_app, database_url, redis_server: RedisServer, pki, tmp_path: Path):
    """The app and a Celery worker on the same database and Redis, timestamping at the TSA."""
    app = make_app(REDIS_URL=redis_server.url, SEAL_TSA_URL=pki.tsa_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url, "REDIS_URL": redis_server.url,
        "SECRET_KEY": "test-secret", "SEAL_TSA_URL": pki.tsa_url,
        "ATTACHMENT_DIR": app.config["ATTACHMENT_DIR"],
        "SARABAN_INSTANCE": str(tmp_path / "instance"), "BASE_URL": "http://localhost",
    }
    processes = CeleryProcesses(env, tmp_path)
    processes.start_worker()
    yield app, processes
    processes.stop()


def test_final_approval_is_sealed_by_the_worker(worker_app):
    app, processes = worker_app
    api = ApiClient(app.test_client())
    with app.app_context():
        memo_id = seed_demo()["memo_id"]
    approve_all(api, memo_id)
    deadline = time.monotonic() + 60
    sealed = None
    while time.monotonic() < deadline and sealed is None:
        time.sleep(0.3)
        with app.app_context():
            sealed = db.session.exec(select(SealedDocument)).first()
    assert sealed is not None, processes.log()
    assert sealed.level == "B-T"
    assert hashlib.sha256(download(api, memo_id)).hexdigest() == sealed.sha256
