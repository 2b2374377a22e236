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
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
    engine.dispose()


TEST_CONFIG: dict[str, Any] = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_SECURE": False,
    "BASE_URL": "http://localhost",
}


@pytest.fixture
def make_app(database_url: str, tmp_path: Path) -> Iterator[Any]:
    """Build an app on the test database with extra settings (the first call empties the tables)."""
    _empty_tables(database_url)
    apps: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        config = {**TEST_CONFIG, "DATABASE_URL": database_url, **overrides}
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
