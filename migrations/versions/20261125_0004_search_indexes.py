"""search indexes: memo number, and trigram search of memo subjects on PostgreSQL

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 19:05:00
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_memo_org_number', 'memo', ['org_id', 'number'], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # Subject words are matched with LIKE '%word%'; a trigram index serves that, and
        # pg_trgm splits Thai into trigrams under a UTF-8 ctype. pg_trgm is a trusted
        # extension (PostgreSQL 13+), so the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_memo_subject_trgm ON memo USING gin (subject gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_memo_subject_trgm")
    op.drop_index('ix_memo_org_number', table_name='memo')
