"""office seals (signing certificates, keys encrypted) and sealed final PDFs

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.dbtypes

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'officeseal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('not_before', workflow.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('not_after', workflow.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('certificate', sa.Text(), nullable=False),
        sa.Column('chain', sa.Text(), nullable=False),
        sa.Column('root', sa.Text(), nullable=False),
        sa.Column('root_fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64),
                  nullable=False),
        sa.Column('encrypted_key', sa.Text(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', workflow.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.Column('retired_at', workflow.dbtypes.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['user.id']),
        sa.ForeignKeyConstraint(['org_id'], ['organization.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('fingerprint'),
    )
    op.create_index('ix_officeseal_org', 'officeseal', ['org_id', 'id'], unique=False)
    op.create_table(
        'sealeddocument',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('memo_id', sa.Integer(), nullable=False),
        sa.Column('seal_id', sa.Integer(), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size', sa.Integer(), nullable=False),
        sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('sealed_at', workflow.dbtypes.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['memo_id'], ['memo.id']),
        sa.ForeignKeyConstraint(['org_id'], ['organization.id']),
        sa.ForeignKeyConstraint(['seal_id'], ['officeseal.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('memo_id'),
        sa.UniqueConstraint('stored_name'),
    )
    op.create_index(op.f('ix_sealeddocument_sha256'), 'sealeddocument', ['sha256'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_sealeddocument_sha256'), table_name='sealeddocument')
    op.drop_table('sealeddocument')
    op.drop_index('ix_officeseal_org', table_name='officeseal')
    op.drop_table('officeseal')
