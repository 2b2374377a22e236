"""The demo office for a test, seeded by ``seed_demo`` once per database and copied in after.

``seed_demo`` looks up and adds some 35 rows one at a time (70 statements, 70–120 ms), and
most tests start from it. The first test on a database seeds it for real; the rows it made
are kept, and the next test that starts from empty tables gets the same rows back in one
INSERT per table (10–20 ms). A test that has written anything before asking for the office
gets the real ``seed_demo``, as does any database whose seeding touched the audit chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import Connection, Table, insert, select, text
from sqlmodel import SQLModel

from workflow.demo.seed import seed_demo
from workflow.extensions import db


@dataclass(frozen=True)
class _Seeded:
    ids: dict[str, int]
    rows: list[tuple[Table, list[dict[str, Any]]]]  # parents before children


# By database URL and the secret the office's seal key is encrypted under.
_SEEDED: dict[tuple[str, str], _Seeded] = {}


def demo_office(app: Flask) -> dict[str, int]:
    """The demo office in ``app``'s database: ``seed_demo``'s ids."""
    key = (app.config["DATABASE_URL"],
           app.config.get("SEAL_KEY") or app.config.get("SECRET_KEY") or "")
    with app.app_context():
        engine = db.engine
        with engine.connect() as conn:
            fresh = _untouched(conn)
        seeded = _SEEDED.get(key)
        if fresh and seeded is not None:
            with engine.begin() as conn:
                _copy_in(conn, seeded)
            return dict(seeded.ids)
        ids = seed_demo()
        if fresh:
            with engine.connect() as conn:
                rows = _rows(conn)
            if rows is not None:
                _SEEDED[key] = _Seeded(ids, rows)
        return ids


def _tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "audithead"]


def _untouched(conn: Connection) -> bool:
    """Every table as ``empty_tables`` leaves it: no rows, the audit chain at its genesis."""
    anything = " OR ".join(f'EXISTS (SELECT 1 FROM "{t.name}")' for t in _tables())
    if conn.execute(text(f"SELECT {anything}")).scalar():
        return False
    return conn.execute(text("SELECT seq FROM audithead")).scalar_one() == 0


def _rows(conn: Connection) -> list[tuple[Table, list[dict[str, Any]]]] | None:
    """What the seeding wrote, table by table; None if it moved the audit chain (a copy
    could not reproduce the chain's head)."""
    if conn.execute(text("SELECT seq FROM audithead")).scalar_one() != 0:
        return None
    rows = []
    for table in _tables():
        found = [dict(row) for row in conn.execute(select(table)).mappings()]
        if found:
            rows.append((table, found))
    return rows


def _copy_in(conn: Connection, seeded: _Seeded) -> None:
    for table, rows in seeded.rows:
        conn.execute(insert(table), rows)
    if conn.dialect.name == "postgresql":
        # The rows came with their ids: move each id sequence past them, as the seeding did.
        for table, rows in seeded.rows:
            if "id" in table.c:
                conn.execute(text("SELECT setval(pg_get_serial_sequence(:table, 'id'), :last)"),
                             {"table": f'"{table.name}"', "last": max(r["id"] for r in rows)})
