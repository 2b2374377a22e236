"""the trigram indexes of memo subjects and numbers lead with the office

With many offices a word or a number is looked up in one office, but the trigram indexes
were installation-wide: at 200 offices x 5,000 memos a common word matched 125,000 memos
across offices (every office's numbers look alike too), and PostgreSQL built a bitmap of all
of them before keeping one office's (60 ms). Led by ``org_id`` (btree_gin lets a GIN index
hold it), the index reads the office's matches only: the signer's word search went from
60-75 ms to 8 ms as a query on bench/offices_scale.py's database. The names stay, so
nothing that refers to them changes. PostgreSQL only; SQLite has no trigram index.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    # btree_gin, like pg_trgm, is a trusted extension: the database's owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    for column in ('subject', 'number'):
        op.execute(f"DROP INDEX IF EXISTS ix_memo_{column}_trgm")
        op.execute(f"CREATE INDEX ix_memo_{column}_trgm ON memo "
                   f"USING gin (org_id, {column} gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    for column in ('subject', 'number'):
        op.execute(f"DROP INDEX IF EXISTS ix_memo_{column}_trgm")
        op.execute(f"CREATE INDEX ix_memo_{column}_trgm ON memo USING gin ({column} gin_trgm_ops)")
