"""indexes for reading at scale: memos newest first per office, what waits at a post, the
document number by trigram

Measured with bench/read_scale.py's database (100,000 memos): the auditor's all-memos went
from a sequential scan and sort (94 ms) to 0.2 ms, the waiting tab from 10.7 ms to 0.2 ms,
the number search from a sequential scan to 2 ms.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('memo', schema=None) as batch_op:
        batch_op.create_index('ix_memo_org_updated', ['org_id', 'updated_at', 'id'],
                              unique=False)
    with op.batch_alter_table('memostep', schema=None) as batch_op:
        batch_op.create_index('ix_memostep_waiting',
                              ['org_id', 'position_id', 'arrived_at', 'memo_id', 'round'],
                              unique=False, postgresql_where=sa.text("status = 'pending'"),
                              sqlite_where=sa.text("status = 'pending'"))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_memo_number_trgm ON memo USING gin (number gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_memo_number_trgm")
    with op.batch_alter_table('memostep', schema=None) as batch_op:
        batch_op.drop_index('ix_memostep_waiting')
    with op.batch_alter_table('memo', schema=None) as batch_op:
        batch_op.drop_index('ix_memo_org_updated')
