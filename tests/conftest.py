"""Shared fixtures: a real database on both backends, the app, clients, a live server, Chromium,
and the real SMTP server, Redis and Celery processes of the notification tests.

Every test that takes ``app`` runs twice, once on SQLite and once on
PostgreSQL (``-k sqlite`` or ``-k postgresql`` picks one). The schema comes
from the Alembic migrations, not ``create_all``, so the migrations are tested
too. Each test starts from empty tables. The servers themselves live in
``tests/support/``; test data comes from ``tests/factories.py``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from jinja2 import FileSystemBytecodeCache
from werkzeug.serving import make_server

from tests.support.clients import ApiClient, AuthActions
from tests.support.database import create_database, drop_database, empty_tables
from tests.support.demo import demo_office
from tests.support.net import free_port
from tests.support.paths import ARTIFACTS, ROOT
from tests.support.redis_server import RedisServer
from tests.support.smtp import SmtpSink
from tests.support.workers import CeleryProcesses
from workflow import clock, create_app

# Test modules import these from here; they live in tests.support.
__all__ = ["ROOT", "ApiClient", "AuthActions", "CeleryProcesses", "RedisServer", "SmtpSink",
           "free_port"]

BACKENDS = [b for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b]
# Tests that drive Chromium run on PostgreSQL only, the database of a real installation: what
# a page shows does not depend on the database, every service and view under them runs on
# both, and a browser test costs ten times a client test (CI must stay under 20 minutes).
# BROWSER_BACKENDS=sqlite,postgresql runs them on both.
BROWSER_BACKENDS = [b for b in os.environ.get("BROWSER_BACKENDS", "postgresql").split(",") if b]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out browser tests on the backends BROWSER_BACKENDS does not name, and tests
    marked ``postgres_only`` or ``one_backend`` on SQLite, before their fixtures are built
    (when more than one backend runs, so that TEST_BACKENDS=sqlite still runs them there)."""
    if len(BACKENDS) < 2:
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec else None
        if backend is not None and (
                item.get_closest_marker("browser") is not None and backend not in BROWSER_BACKENDS
                or (item.get_closest_marker("postgres_only") is not None
                    or item.get_closest_marker("one_backend") is not None)
                and backend != "postgresql"):
            dropped.append(item)
        else:
            kept.append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept

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

NOTIFY_CONFIG = {
    "MAIL_RETRY_BASE_SECONDS": 1,
    "MAIL_RETRY_MAX_SECONDS": 2,
    "NOTIFICATION_LEASE_SECONDS": 3,
    "OUTBOX_SWEEP_SECONDS": 1,
    "MAIL_TIMEOUT": 10,
}


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database for the whole session, one per backend."""
    url = create_database(request.param, tmp_path_factory.mktemp("db"))
    yield url
    drop_database(url)


@pytest.fixture
def backend(database_url: str) -> str:
    """``sqlite`` or ``postgresql``."""
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture(scope="session")
def template_cache(tmp_path_factory: pytest.TempPathFactory) -> FileSystemBytecodeCache:
    """Compiled templates, shared by every app of this process: each test builds a new app,
    whose first pages would otherwise compile the same templates again (40 ms a test)."""
    return FileSystemBytecodeCache(str(tmp_path_factory.mktemp("jinja")))


@pytest.fixture
def make_app(database_url: str, tmp_path: Path,
             template_cache: FileSystemBytecodeCache) -> Iterator[Any]:
    """Build an app on the test database with extra settings (the first call empties the tables)."""
    empty_tables(database_url)
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = {**TEST_CONFIG, "DATABASE_URL": database_url,
                  "ATTACHMENT_DIR": str(tmp_path / "attachments"), **overrides}
        os.environ.setdefault("SARABAN_INSTANCE", str(tmp_path / "instance"))
        app = create_app(config)
        app.jinja_env.bytecode_cache = template_cache
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
    return demo_office(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of ``app``."""
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    """A runner for ``app``'s CLI commands."""
    return app.test_cli_runner()


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    """Sign ``client`` in and out through the login form."""
    return AuthActions(client)


@pytest.fixture
def api(client: FlaskClient) -> ApiClient:
    """Call the JSON API through ``client`` as any user."""
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


@pytest.fixture
def smtp_server() -> Iterator[SmtpSink]:
    """An aiosmtpd server on a free port, collecting messages."""
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server on a free port, stopped after the test."""
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


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
