"""A pooled PostgreSQL connection cut while idle (a database restart, a firewall) is noticed
before use, and the request still succeeds (workflow/db.py, _ping_when_idle)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.support.database import PG_ADMIN_URL
from workflow import db as workflow_db


def test_a_connection_cut_while_idle_is_replaced_not_failed(app: Any, demo: dict[str, int],
                                                            api: Any, backend: str,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has no server to lose")
    assert api.call("GET", "/memos", "clerk").status_code == 200  # the pool holds a connection
    engine = app.extensions["saraban_db"]
    with engine.connect() as connection:
        database = connection.execute(text("SELECT current_database()")).scalar_one()
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        cut = connection.execute(text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = :name AND pid <> pg_backend_pid()"), {"name": database}).scalar_one()
    admin.dispose()
    assert cut >= 1
    monkeypatch.setattr(workflow_db, "PING_AFTER_IDLE_SECONDS", 0.0)  # "idle long enough"
    response = api.call("GET", "/memos", "clerk")
    assert response.status_code == 200, response.json
    assert api.act(demo["memo_id"], "clerk", "submit").status_code == 200


def test_a_busy_connection_is_not_pinged(app: Any, demo: dict[str, int], api: Any,
                                         backend: str) -> None:
    """Reused a moment after it was returned, a connection goes straight to work: no extra
    round trip on each request."""
    if backend != "postgresql":
        pytest.skip("the ping is PostgreSQL's")
    engine = app.extensions["saraban_db"]
    pings: list[Any] = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda connection: pings.append(connection) or original(connection)
    try:
        for _ in range(3):
            assert api.call("GET", "/memos", "clerk").status_code == 200
    finally:
        engine.dialect.do_ping = original
    assert pings == []


def test_each_statement_is_planned_for_its_own_values(app: Any, backend: str) -> None:
    """No generic plan for a prepared search: PostgreSQL plans each run with its values."""
    if backend != "postgresql":
        pytest.skip("a PostgreSQL setting")
    with app.extensions["saraban_db"].connect() as connection:
        assert connection.execute(text("SHOW plan_cache_mode")).scalar_one() == (
            "force_custom_plan")
