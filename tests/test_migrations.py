"""The Alembic migrations build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import workflow.models  # noqa: F401
from workflow.db import make_engine

# Indexes only a migration can express (a PostgreSQL trigram index).
MIGRATION_ONLY = {"ix_memo_subject_trgm", "ix_memo_number_trgm"}


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
