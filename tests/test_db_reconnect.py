"""A pooled PostgreSQL connection cut while idle (a database restart, a firewall) is noticed
before use, and the request still succeeds (workflow/db.py, _ping_when_idle)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from tests.support.database import PG_ADMIN_URL
from workflow import db as workflow_db
from workflow.extensions import db
from workflow.models import Memo


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


def test_reads_are_planned_for_their_values_and_writes_reuse_prepared_plans(
        app: Any, demo: dict[str, int], api: Any, backend: str) -> None:
    """A read is not a prepared statement, so PostgreSQL plans each run for its values (a
    word search, a list that matches all memos or none); a write transaction's statements,
    and the principal's lookup by token on every request, are prepared after a few runs
    and their generic plan reused (workflow/db.py)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    for _ in range(workflow_db.WRITE_PREPARE_THRESHOLD + 1):
        assert api.call("GET", "/memos?q=ความคืบหน้า", "clerk").status_code == 200
    memo_id = demo["memo_id"]
    search = select(Memo.id).where(col(Memo.subject).ilike("%ความคืบหน้า%"))
    locked = select(Memo.version).where(Memo.id == memo_id).with_for_update()
    prepared_text = text("SELECT statement FROM pg_prepared_statements")
    with app.app_context():
        for _ in range(workflow_db.WRITE_PREPARE_THRESHOLD + 2):
            db.session.exec(search).all()
            db.session.commit()
            with db.write() as session:
                session.exec(locked).one()
                prepared = session.exec(prepared_text).all()  # type: ignore[call-overload]
        read_side = db.session.exec(prepared_text).all()  # type: ignore[call-overload]
    statements = [row[0] for row in [*prepared, *read_side]]
    assert any("FOR UPDATE" in statement for statement in statements), statements
    assert any("authsession" in statement for statement in statements), statements
    # The word search (LIKE for a Thai word, ILIKE for a Latin one) is never prepared.
    assert not any("SUBJECT" in statement.upper() and "LIKE" in statement.upper()
                   for statement in statements), statements


def test_the_app_connects_to_postgresql_without_jit_or_parallel_workers(
        app: Any, backend: str) -> None:
    """Both cost this app's short statements more than they save (workflow/db.py,
    make_engine): 14 ms of compiling for a 1.6 ms search, 3 ms to start a worker."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL's settings")
    with app.app_context():
        for setting, value in (("jit", "off"), ("max_parallel_workers_per_gather", "0")):
            shown = db.session.exec(text(f"SHOW {setting}")).one()  # type: ignore[call-overload]
            assert shown[0] == value
