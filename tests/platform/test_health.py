"""GET /healthz and ``flask health``: what a load balancer and monitoring are told, with the
real database, a real Redis (or none listening), and the outbox as the services fill it."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from tests.support.database import PG_ADMIN_URL
from tests.support.net import free_port
from workflow import clock
from workflow.extensions import db
from workflow.platform import health
from workflow.platform.offices import set_suspended


def healthz(app: Flask) -> tuple[int, dict[str, Any]]:
    response = app.test_client().get("/healthz")
    assert response.is_json, response.data[:300]
    return response.status_code, response.json


def test_the_code_revision_is_alembics_head() -> None:
    from alembic.script import ScriptDirectory

    from config import BASE_DIR
    from workflow.cli import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script.get_heads() == [health.code_revision()]
    assert len(list(script.walk_revisions())) == int(health.code_revision())  # one line
    assert (BASE_DIR / "migrations" / "versions").is_dir()


# Each test asks again after changing something: no answer kept from the last round.
FRESH = {"HEALTH_CACHE_SECONDS": 0}


def test_a_healthy_installation_is_ok(make_app: Any, redis_server: Any) -> None:
    app = make_app(REDIS_URL=redis_server.url, **FRESH)
    status, body = healthz(app)
    assert status == 200
    assert body == {"status": "ok", "checks": {
        "database": {"ok": True},
        "schema": {"ok": True, "at": health.code_revision(),
                   "expected": health.needed_revision(), "latest": health.code_revision()},
        "outbox": {"ok": True, "late_seconds": 0},
        "redis": {"ok": True}}}
    runner = app.test_cli_runner()
    done = runner.invoke(args=["health"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["status"] == "ok"


def test_a_database_older_than_the_code_takes_the_instance_out(make_app: Any) -> None:
    """Code deployed before ``flask db-upgrade`` would fail page by page; here it says so."""
    app = make_app(**FRESH)
    with app.app_context(), db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '0025'"))
    try:
        status, body = healthz(app)
        assert status == 503
        assert body["status"] == "failing"
        schema = body["checks"]["schema"]
        assert (schema["ok"], schema["at"]) == (False, "0025")
        assert "db-upgrade" in schema["message"] and "ฐานข้อมูล" in schema["message"]
        done = app.test_cli_runner().invoke(args=["health"])
        assert done.exit_code == 1
    finally:
        with app.app_context(), db.write() as session:
            session.execute(text("UPDATE alembic_version SET version_num = :v"),
                            {"v": health.code_revision()})


def test_the_code_serves_on_the_schema_before_a_contract_migration() -> None:
    """Alembic's own reading: the revision the health check asks for is the newest
    migration that is not a contract (``CONTRACT = True``), which the text scan finds."""
    from alembic.script import ScriptDirectory

    from workflow.cli import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    needed = next(r.revision for r in script.walk_revisions()
                  if not getattr(r.module, "CONTRACT", False))
    assert health.needed_revision() == needed <= health.code_revision()


def test_between_the_two_steps_of_an_upgrade_the_new_code_serves(make_app: Any) -> None:
    """README, "Upgrading while serving": at the revision before a contract migration (0027
    drops what only older code reads) the new code is healthy; older than that, it is not."""
    app = make_app(**FRESH)
    needed, latest = health.needed_revision(), health.code_revision()
    with app.app_context(), db.write() as session:
        session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": needed})
    try:
        status, body = healthz(app)
        assert (status, body["status"]) == (200, "ok")
        assert body["checks"]["schema"] == {"ok": True, "at": needed, "expected": needed,
                                            "latest": latest}
    finally:
        with app.app_context(), db.write() as session:
            session.execute(text("UPDATE alembic_version SET version_num = :v"),
                            {"v": latest})


def test_a_table_held_by_a_lock_delays_the_answer_by_the_statement_timeout_at_most(
        make_app: Any, backend: str) -> None:
    """A migration or VACUUM FULL holding the outbox's table: the check gives up after
    STATEMENT_TIMEOUT_MS rather than hanging, and while one round waits the other requests
    answer from the last round instead of each holding a thread and a connection."""
    import threading
    import time

    from workflow.db import make_engine

    if backend != "postgresql":
        pytest.skip("a lock that blocks readers is PostgreSQL's")
    app = make_app(**FRESH)
    assert healthz(app)[1]["status"] == "ok"  # the round later requests may answer from
    engine = make_engine(app.config["DATABASE_URL"])
    waited: list[tuple[float, dict[str, Any]]] = []
    try:
        with engine.connect() as other:
            other.execute(text("LOCK TABLE notification IN ACCESS EXCLUSIVE MODE"))

            def slow_round() -> None:
                started = time.monotonic()
                body = healthz(app)[1]
                waited.append((time.monotonic() - started, body))

            thread = threading.Thread(target=slow_round)
            thread.start()
            for _ in range(200):  # until the slow round holds the process's round
                lock = app.extensions.get("health_lock")
                if lock is not None and lock.locked():
                    break
                time.sleep(0.05)
            started = time.monotonic()
            meanwhile = healthz(app)
            # Well under the statement timeout: it did not wait for the round.
            assert time.monotonic() - started < health.STATEMENT_TIMEOUT_MS / 2000
            assert meanwhile[0] == 200 and meanwhile[1]["status"] == "ok"  # the last round
            thread.join(timeout=30)
            other.rollback()
    finally:
        engine.dispose()
    took, body = waited[0]
    assert took < health.STATEMENT_TIMEOUT_MS / 1000 + 2
    assert body["status"] == "degraded" and body["checks"]["outbox"]["ok"] is False
    assert body["checks"]["database"]["ok"] and body["checks"]["schema"]["ok"]


def test_a_request_limited_to_one_office_is_told_about_the_whole_installation(
        make_app: Any) -> None:
    """A signed-in request's reads are limited to its office (``db.scope_to_office``); the
    outbox check's are not, as its answer is kept and given to the balancer too."""
    from tests.support.clients import ApiClient
    from tests.support.demo import demo_office
    from workflow.db import scope_to_office
    from workflow.demo.seed import seed_demo

    app = make_app(**FRESH)
    demo, api = demo_office(app), ApiClient(app.test_client())
    assert api.act(demo["memo_id"], "clerk", "submit").status_code == 200
    with app.app_context():
        other = seed_demo("other")["org_id"]
    assert other != demo["org_id"]
    clock.set_now(clock.now() + timedelta(
        seconds=app.config["HEALTH_OUTBOX_LATE_SECONDS"] + 60))
    with app.test_request_context("/healthz"):
        scope_to_office(other)
        found = health.check(app.config)
    assert found.status == health.DEGRADED and found.checks["outbox"].ok is False


def test_redis_not_answering_degrades_but_serves(make_app: Any) -> None:
    app = make_app(REDIS_URL=f"redis://127.0.0.1:{free_port()}/0", **FRESH)
    status, body = healthz(app)
    assert (status, body["status"]) == (200, "degraded")
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"] == {"ok": True}


@pytest.mark.one_backend
def test_a_database_not_answering_fails_without_a_500(make_app: Any) -> None:
    down = PG_ADMIN_URL.rsplit("@", 1)[0] + f"@127.0.0.1:{free_port()}/postgres"
    app = make_app(DATABASE_URL=down, **FRESH)
    status, body = healthz(app)
    assert (status, body["status"]) == (503, "failing")
    assert body["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert "schema" not in body["checks"]  # nothing more to ask of it


def test_an_email_left_unsent_degrades_and_a_suspended_offices_does_not(
        make_app: Any) -> None:
    """No worker runs here (no Redis): the head's email about the submitted memo stays due.
    Past HEALTH_OUTBOX_LATE_SECONDS it is reported; a suspended office's emails wait for
    its reactivation by design and are not."""
    from tests.support.clients import ApiClient
    from tests.support.demo import demo_office

    app = make_app(**FRESH)
    demo, api = demo_office(app), ApiClient(app.test_client())
    assert api.act(demo["memo_id"], "clerk", "submit").status_code == 200
    late_after = app.config["HEALTH_OUTBOX_LATE_SECONDS"]
    clock.set_now(clock.now() + timedelta(seconds=late_after - 60))
    assert healthz(app) == (200, {"status": "ok", "checks": {
        **healthz(app)[1]["checks"], "outbox": {"ok": True, "late_seconds": late_after - 60}}})
    clock.set_now(clock.now() + timedelta(seconds=120))
    status, body = healthz(app)
    assert (status, body["status"]) == (200, "degraded")
    outbox = body["checks"]["outbox"]
    assert outbox["ok"] is False and outbox["late_seconds"] >= late_after + 60
    assert "Celery" in outbox["message"] and "อีเมล" in outbox["message"]
    with app.app_context():
        set_suspended(principal=None, org_id=demo["org_id"], suspended=True)
    assert healthz(app)[1]["checks"]["outbox"] == {"ok": True, "late_seconds": 0}


def test_a_process_answers_from_its_last_round_for_a_few_seconds(
        make_app: Any, redis_server: Any) -> None:
    """However many ask, one round of checks per HEALTH_CACHE_SECONDS: Redis stopping is
    seen by the next round, not by every request; ``flask health`` always checks anew."""
    app = make_app(REDIS_URL=redis_server.url, HEALTH_CACHE_SECONDS=60)
    assert healthz(app)[1]["status"] == "ok"
    redis_server.stop()
    assert healthz(app)[1]["status"] == "ok"  # the kept answer
    done = app.test_cli_runner().invoke(args=["health"])
    assert json.loads(done.output)["checks"]["redis"]["ok"] is False
    app.config["HEALTH_CACHE_SECONDS"] = 0
    assert healthz(app)[1]["status"] == "degraded"
