"""The Alembic migrations build exactly the schema the SQLModel tables describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import workflow.models  # noqa: F401
from workflow.db import make_engine

# Indexes only a migration can express (a PostgreSQL trigram index).
MIGRATION_ONLY = {"ix_memo_subject_trgm"}


def test_migrations_match_the_models(database_url):
    """Autogenerate finds nothing left to migrate after `upgrade head`."""
    engine = make_engine(database_url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), SQLModel.metadata)
    engine.dispose()
    leftovers = [d for d in diff
                 if not (d[0] == "remove_index" and d[1].name in MIGRATION_ONLY)]
    assert leftovers == []
