"""circulation (แจ้งเวียน): circulations and their recipients, a position's division, and
the office setting that lets drafters circulate

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.dbtypes

revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('drafters_may_circulate', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with op.batch_alter_table('position', schema=None) as batch_op:
        batch_op.add_column(sa.Column('division', sqlmodel.sql.sqltypes.AutoString(length=100),
                                      nullable=False, server_default=''))
    op.create_table(
        'circulation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('memo_id', sa.Integer(), nullable=False),
        sa.Column('circulated_by_id', sa.Integer(), nullable=False),
        sa.Column('circulated_by_name', sqlmodel.sql.sqltypes.AutoString(length=200),
                  nullable=False),
        sa.Column('targets', sa.Text(), nullable=False),
        sa.Column('recipient_count', sa.Integer(), nullable=False),
        sa.Column('created_at', workflow.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['circulated_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['memo_id'], ['memo.id']),
        sa.ForeignKeyConstraint(['org_id'], ['organization.id']),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_circulation_memo', 'circulation', ['memo_id', 'id'], unique=False)
    op.create_table(
        'circulationrecipient',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('circulation_id', sa.Integer(), nullable=False),
        sa.Column('memo_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('circulated_at', workflow.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('opened_at', workflow.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.Column('acknowledged_at', workflow.dbtypes.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('reminders_sent', sa.Integer(), nullable=False),
        sa.Column('last_reminded_at', workflow.dbtypes.UTCDateTime(timezone=True),
                  nullable=True),
        sa.Column('next_reminder_at', workflow.dbtypes.UTCDateTime(timezone=True),
                  nullable=True),
        sa.ForeignKeyConstraint(['circulation_id'], ['circulation.id']),
        sa.ForeignKeyConstraint(['memo_id'], ['memo.id']),
        sa.ForeignKeyConstraint(['org_id'], ['organization.id']),
        sa.ForeignKeyConstraint(['user_id'], ['user.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('memo_id', 'user_id', name='uq_circulationrecipient_memo_user'),
    )
    op.create_index('ix_circulationrecipient_user', 'circulationrecipient', ['user_id', 'id'],
                    unique=False)
    op.create_index('ix_circulationrecipient_reminder_due', 'circulationrecipient',
                    ['next_reminder_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_circulationrecipient_reminder_due', table_name='circulationrecipient')
    op.drop_index('ix_circulationrecipient_user', table_name='circulationrecipient')
    op.drop_table('circulationrecipient')
    op.drop_index('ix_circulation_memo', table_name='circulation')
    op.drop_table('circulation')
    with op.batch_alter_table('position', schema=None) as batch_op:
        batch_op.drop_column('division')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('drafters_may_circulate')
