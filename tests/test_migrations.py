"""The Alembic migrations build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import workflow.models  # noqa: F401
from workflow.db import make_engine

# Indexes only a migration can express (PostgreSQL trigram and expression indexes).
MIGRATION_ONLY = {"ix_memo_subject_trgm", "ix_memo_number_trgm", "ix_memo_number_grams"}


def test_migrations_match_the_models(database_url):
    """Autogenerate finds nothing left to migrate after `upgrade head`."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    leftovers = [d for d in diff
                 if not (d[0] == "remove_index" and d[1].name in MIGRATION_ONLY)]
    assert leftovers == []


def test_a_database_of_one_office_upgrades_and_its_people_sign_in_as_before(
        tmp_path, backend):
    """From the schema before offices had codes (revision 0009), with data: the office gets
    a code, usernames stay, and everyone signs in without naming the office."""
    from alembic import command
    from argon2 import PasswordHasher
    from sqlalchemy import text

    from tests.conftest import TEST_CONFIG
    from tests.support.database import create_database, drop_database
    from workflow import create_app
    from workflow.cli import alembic_config

    url = create_database(backend, tmp_path, revision="0009")
    try:
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO organization (name, unit_line, phone, doc_prefix, "
                "require_endorsement, thai_digits, numbering_point, office_opens, "
                "office_closes, reminder_policy, garuda_file, holders_may_appoint, "
                "calendar_stamp, created_at) VALUES ('อบต.เดิม', 'สำนักงานปลัด', '', 'สป', "
                "true, true, 'approval', '', '', '', '', false, 'x', CURRENT_TIMESTAMP)"))
            conn.execute(text(
                "INSERT INTO \"user\" (org_id, username, full_name, email, password_hash, "
                "is_active, roles, notify_arrivals, daily_digest, created_at) VALUES "
                "(1, 'clerk', 'นางสาวเดิม ใช้งาน', 'c@example.com', :hash, true, 'clerk', "
                "true, false, CURRENT_TIMESTAMP)"),
                {"hash": PasswordHasher().hash("เดิม-รหัสผ่าน-2569")})
        engine.dispose()
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT code FROM organization")).scalar_one() == "office1"
        engine.dispose()
        app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
        client = app.test_client()
        signed_in = client.post("/api/v1/auth/token", json={
            "username": "clerk", "password": "เดิม-รหัสผ่าน-2569"})
        assert signed_in.status_code == 201, signed_in.json
        app.extensions["saraban_db"].dispose()
    finally:
        drop_database(url)


def test_routes_become_groups_of_one_and_memos_in_flight_carry_on(tmp_path, backend):
    """From revision 0017 with a route of two positions and a memo waiting at its first step:
    each step becomes a group of one, and the memo is approved up the rest of its way."""
    from alembic import command
    from argon2 import PasswordHasher
    from sqlalchemy import text

    from tests.conftest import TEST_CONFIG
    from tests.support.database import create_database, drop_database
    from workflow import create_app
    from workflow.cli import alembic_config

    url = create_database(backend, tmp_path, revision="0017")
    password = PasswordHasher().hash("เดิม-รหัสผ่าน-2569")
    try:
        engine = make_engine(url)
        with engine.begin() as conn:
            def insert(sql: str, **values: object) -> None:
                conn.execute(text(sql), values)

            insert("INSERT INTO organization (id, code, name, is_platform, unit_line, phone, "
                   "doc_prefix, require_endorsement, thai_digits, numbering_point, "
                   "office_opens, office_closes, reminder_policy, garuda_file, "
                   "holders_may_appoint, calendar_stamp, created_at) VALUES (1, 'old', "
                   "'อบต.เดิม', false, 'สำนักงานปลัด', '', 'สป', true, true, 'approval', '', "
                   "'', '', '', false, 'x', CURRENT_TIMESTAMP)")
            for user_id, username in ((1, "clerk"), (2, "head"), (3, "boss")):
                insert("INSERT INTO \"user\" (id, org_id, username, full_name, email, "
                       "password_hash, is_active, roles, notify_arrivals, daily_digest, "
                       "signature_file, created_at) VALUES (:id, 1, :u, :u, :e, :p, true, "
                       "'signer clerk', true, false, '', CURRENT_TIMESTAMP)",
                       id=user_id, u=username, e=f"{username}@example.com", p=password)
            insert("INSERT INTO position (id, org_id, title, holder_id) VALUES "
                   "(1, 1, 'หัวหน้าสำนักปลัด', 2), (2, 1, 'ปลัด', 3)")
            insert("INSERT INTO route (id, org_id, name, memo_type, is_default, is_active) "
                   "VALUES (1, 1, 'สายเดิม', '', true, true)")
            insert("INSERT INTO routestep (id, org_id, route_id, step_no, position_id) VALUES "
                   "(1, 1, 1, 1, 1), (2, 1, 1, 2, 2)")
            insert("INSERT INTO memo (id, org_id, route_id, drafter_id, unit_line, memo_date, "
                   "state, round, revision, version, created_at, updated_at, subject, "
                   "addressee, urgency, body) VALUES (1, 1, 1, 1, 'สำนักงานปลัด', "
                   "'2026-12-01', 'pending_1', 1, 0, 2, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                   "'เรื่องที่ค้างอยู่', 'นายก', 'normal', '<p>x</p>')")
            insert("INSERT INTO memostep (org_id, memo_id, round, step_no, position_id, "
                   "position_title, status, arrived_at, reminders_sent) VALUES "
                   "(1, 1, 1, 1, 1, 'หัวหน้าสำนักปลัด', 'pending', CURRENT_TIMESTAMP, 0), "
                   "(1, 1, 1, 2, 2, 'ปลัด', 'waiting', NULL, 0)")
        engine.dispose()
        command.upgrade(alembic_config(url), "head")
        engine = make_engine(url)
        with engine.connect() as conn:
            members = conn.execute(text(
                "SELECT s.step_no, m.position_id, s.need FROM routemember m JOIN routestep s "
                "ON s.id = m.route_step_id ORDER BY s.step_no")).all()
            laid = conn.execute(text("SELECT need, condition, pass_no FROM memostep")).all()
        engine.dispose()
        assert [tuple(r) for r in members] == [(1, 1, None), (2, 2, None)]
        assert {tuple(r) for r in laid} == {(1, "", 1)}

        app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
        client = app.test_client()

        def act(username: str) -> dict[str, object]:
            token = client.post("/api/v1/auth/token", json={
                "username": username, "password": "เดิม-รหัสผ่าน-2569"}).json["token"]
            done = client.post("/api/v1/memos/1/actions", json={
                "action": "approve", "comment": "เห็นชอบ"},
                headers={"Authorization": f"Bearer {token}"})
            assert done.status_code == 200, done.json
            return dict(done.json)

        assert act("head")["state"] == "pending_2"
        assert act("boss")["state"] == "approved"
        app.extensions["saraban_db"].dispose()
    finally:
        drop_database(url)


def test_the_grams_index_is_built_again_after_a_downgrade_or_a_failed_build(tmp_path, backend):
    """Migrations 0025 and 0026 build their indexes CONCURRENTLY, outside the migration's
    transaction: a build that failed leaves an invalid index under the name, which the next
    upgrade drops and builds again. 0026 adds the grams index and keeps 0025's pairs, which
    the code of before it still asks for while it runs; 0027 drops the pairs (and its
    downgrade builds them again); each downgrade removes its index and its function."""
    if backend != "postgresql":
        pytest.skip("the number's indexes are PostgreSQL's")
    from alembic import command
    from sqlalchemy import text

    from tests.support.database import create_database, drop_database
    from workflow.cli import alembic_config

    url = create_database(backend, tmp_path)
    config = alembic_config(url)

    def state(name: str) -> tuple[bool | None, bool, bool]:
        """Whether the index ix_memo_number_<name> is valid (None: there is none), whether
        it is built on memo_number_<name>, and whether that function is there."""
        engine = make_engine(url)
        with engine.connect() as conn:
            index = conn.execute(text(
                "SELECT i.indisvalid, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                f"WHERE c.relname = 'ix_memo_number_{name}'")).one_or_none()
            function = conn.execute(text(
                f"SELECT to_regprocedure('memo_number_{name}(text)') IS NOT NULL")).scalar_one()
        engine.dispose()
        if index is None:
            return None, False, function
        return index[0], f"memo_number_{name}(" in index[1], function

    try:
        assert (state("grams"), state("pairs")) == ((True, True, True), (None, False, False))
        command.downgrade(config, "0026")
        assert (state("grams"), state("pairs")) == ((True, True, True), (True, True, True))
        command.downgrade(config, "0025")
        assert (state("grams"), state("pairs")) == ((None, False, False), (True, True, True))
        command.downgrade(config, "0024")
        assert state("pairs") == (None, False, False)
        command.upgrade(config, "0025")
        # What a failed concurrent build of 0026 leaves: the index, marked invalid.
        engine = make_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE INDEX ix_memo_number_grams ON memo (id)"))
            conn.execute(text("UPDATE pg_index SET indisvalid = false WHERE indexrelid = "
                              "'ix_memo_number_grams'::regclass"))
        engine.dispose()
        assert state("grams") == (False, False, False)
        command.upgrade(config, "0026")
        assert (state("grams"), state("pairs")) == ((True, True, True), (True, True, True))
        command.upgrade(config, "head")
        assert (state("grams"), state("pairs")) == ((True, True, True), (None, False, False))
    finally:
        drop_database(url)


def test_db_upgrade_stops_at_a_revision_for_an_upgrade_in_two_steps(tmp_path, backend):
    """``db-upgrade --to 0026`` leaves the pairs that code of before 0026 still asks for
    (README: an upgrade while serving goes through 0026 first); a revision that does not
    exist, an empty one or a step back is refused in Thai and English without a
    traceback; one the database is past changes nothing, and says so."""
    from sqlalchemy import text

    from tests.conftest import TEST_CONFIG
    from tests.support.database import create_database, drop_database
    from workflow import create_app
    from workflow.platform.health import code_revision

    url = create_database(backend, tmp_path, revision="0024")
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url})
    try:
        runner = app.test_cli_runner()

        def revision() -> str:
            engine = make_engine(url)
            with engine.connect() as conn:
                at = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            engine.dispose()
            return str(at)

        stopped = runner.invoke(args=["db-upgrade", "--to", "0026"])
        assert stopped.exit_code == 0, stopped.output
        assert "now at revision 0026" in stopped.output and revision() == "0026"

        for wrong in ("9999", "", "-1"):
            refused = runner.invoke(args=["db-upgrade", "--to", wrong])
            assert refused.exit_code in (1, 2), refused.output  # 2: click's bad parameter
            assert "Traceback" not in refused.output and revision() == "0026"
            assert ("cannot upgrade to revision" in refused.output
                    or "a revision is required" in refused.output), refused.output
        assert "ปรับฐานข้อมูลเป็นรุ่น 9999 ไม่ได้" in runner.invoke(
            args=["db-upgrade", "--to", "9999"]).output

        behind = runner.invoke(args=["db-upgrade", "--to", "0025"])
        assert behind.exit_code == 0, behind.output
        assert "already at revision 0026: nothing changed" in behind.output
        assert revision() == "0026"

        done = runner.invoke(args=["db-upgrade"])
        assert done.exit_code == 0 and "now at revision" in done.output
        assert revision() == code_revision()
        again = runner.invoke(args=["db-upgrade"])
        assert "nothing changed" in again.output
    finally:
        app.extensions["saraban_db"].dispose()
        drop_database(url)
