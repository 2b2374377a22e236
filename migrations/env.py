"""Alembic environment: the tables are the SQLModel metadata of ``workflow.models``."""

from __future__ import annotations

import os

from alembic import context
from sqlmodel import SQLModel

import workflow.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from workflow.db import make_engine
from workflow.dbtypes import ValueEnum

config = context.config
target_metadata = SQLModel.metadata


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write ValueEnum columns as the plain VARCHAR they are in the database."""
    if type_ == "type" and isinstance(obj, ValueEnum):
        return f"sa.String(length={obj.impl.length})"  # type: ignore[attr-defined]
    return False


def _url() -> str:
    url = config.attributes.get("database_url") or os.environ.get("DATABASE_URL")
    if not url:
        from config import Config

        url = Config.DATABASE_URL
    return str(url)


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True, render_item=render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(_url())
    # Disposed however the run ends: a failed migration or an unknown revision would
    # otherwise leave the pool's connection open until the process exits.
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # A batch ALTER on SQLite copies the table and drops the old one, which the
                # rows pointing at it would forbid; the copy keeps every key, so check them
                # after. On the driver's connection, outside the BEGIN that SQLAlchemy would
                # open first (inside a transaction SQLite ignores this pragma).
                connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys=OFF")
            # render_as_batch lets later ALTERs work on SQLite, which cannot alter columns in
            # place.
            context.configure(connection=connection, target_metadata=target_metadata,
                              render_as_batch=True, compare_type=True, render_item=render_item)
            with context.begin_transaction():
                context.run_migrations()
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration left broken references: {broken[:5]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
