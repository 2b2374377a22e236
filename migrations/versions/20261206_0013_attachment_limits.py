"""attachment limits per office, and removed files purged after retention

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workflow.dbtypes

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attachments_per_memo', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('storage_quota_mb', sa.Integer(), nullable=True))
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purged_at', workflow.dbtypes.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_column('purged_at')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('storage_quota_mb')
        batch_op.drop_column('attachments_per_memo')
