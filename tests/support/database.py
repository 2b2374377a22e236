"""Scratch databases for the tests: one migrated database per backend, emptied between tests."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlmodel import SQLModel

from workflow.cli import upgrade_database

PG_ADMIN_URL = os.environ.get(
    "TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def create_database(backend: str, folder: Path, *, revision: str = "head") -> str:
    """A new database migrated to ``revision`` (an SQLite file in ``folder``, or a
    PostgreSQL database of its own); its URL."""
    if backend == "sqlite":
        url = f"sqlite:///{folder / 'test.sqlite3'}"
    else:
        name = f"saraban_test_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    # The schema comes from the Alembic migrations, not create_all, so they are tested too.
    if revision == "head":
        upgrade_database(url)
    else:
        from alembic import command

        from workflow.cli import alembic_config

        command.upgrade(alembic_config(url), revision)
    return url


def drop_database(url: str) -> None:
    """Drop a PostgreSQL database ``create_database`` made (SQLite files go with their folder)."""
    if url.startswith("sqlite"):
        return
    name = url.rsplit("/", 1)[1]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_tables(url: str) -> None:
    """Delete every row, start every id sequence again, and put back the audit chain's
    genesis head."""
    import workflow.models  # noqa: F401 - fills SQLModel.metadata

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            # DELETE, not TRUNCATE: a test's tables hold a few rows, and TRUNCATE of every
            # table (new files, locks, fsyncs) took 110 ms before each test, DELETE 12 ms.
            # The replica role skips the foreign keys and the audit table's append-only
            # trigger, a test reset being the one exception to it.
            sequences = conn.execute(text(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'S' AND n.nspname = current_schema()")).scalars().all()
            conn.exec_driver_sql(
                "SET LOCAL session_replication_role = replica;"
                + "".join(f'DELETE FROM "{table}";' for table in tables)
                + "".join(f'ALTER SEQUENCE "{name}" RESTART;' for name in sequences))
        else:
            for table in tables:
                conn.execute(text(f'DELETE FROM "{table}"'))
        conn.execute(text("INSERT INTO audithead (id, seq, hash) VALUES (1, 0, :genesis)"),
                     {"genesis": "0" * 64})
    engine.dispose()
