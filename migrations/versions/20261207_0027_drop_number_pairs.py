"""0025's pairs of a document number are dropped: the grams of 0026 serve every search the
pairs served

The contract half of expand-then-contract. Migration 0026 added ``ix_memo_number_grams`` and
kept ``ix_memo_number_pairs`` with its function ``memo_number_pairs``, because the code of
before 0026 asks for them while it serves during an upgrade. No code since 0026 reads them
(``workflow/memos/search.py`` asks the grams), and every approval paid to keep the second
index. An installation that upgrades while serving, from a database before 0026, upgrades
in two steps, so that no code still asking for the pairs is serving when they go:
``flask --app wsgi db-upgrade --to 0026``, roll out the new code, then ``db-upgrade``
(README, "Upgrading while serving"). Dropped without blocking writes (CONCURRENTLY).
PostgreSQL only.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import context, op

revision: str = '0027'
down_revision: str | None = '0026'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A contract: it drops only what no code since 0026 reads, so the code that ships it also
# serves on a database at 0026, between the two steps of an upgrade while serving. The
# health check's schema test asks for the newest migration not marked so
# (``workflow/platform/health.py``, ``needed_revision``).
CONTRACT = True


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_memo_number_pairs")
    op.execute("DROP FUNCTION IF EXISTS memo_number_pairs(text)")


def downgrade() -> None:
    # Going back builds them as 0025 did: its upgrade is the one definition of the pairs.
    script = context.script.get_revision('0025')
    assert script is not None and script.module is not None
    script.module.upgrade()
