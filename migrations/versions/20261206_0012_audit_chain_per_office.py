"""an audit hash chain per office: auditevent.chain, unique (chain, seq), a head per chain

The events written before this revision form one chain. Rewriting them into one chain per
office would change their hashes, which is what an audit trail must never do, so they stay
together as the chain of the installation's first office (or chain 0 on a database with
no office), whose head they already have. Every event from now on goes on its own office's
chain.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    connection = op.get_bind()
    postgresql = connection.dialect.name == 'postgresql'
    legacy = connection.execute(sa.text(
        "SELECT min(id) FROM organization WHERE NOT is_platform")).scalar() or 0
    with op.batch_alter_table('auditevent', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chain', sa.Integer(), nullable=True))
    if postgresql:  # the trail refuses UPDATE; this one fills a new column, nothing else
        op.execute("ALTER TABLE auditevent DISABLE TRIGGER auditevent_append_only")
    op.execute(sa.text("UPDATE auditevent SET chain = :legacy").bindparams(legacy=legacy))
    if postgresql:
        op.execute("ALTER TABLE auditevent ENABLE TRIGGER auditevent_append_only")
        op.alter_column('auditevent', 'chain', existing_type=sa.Integer(), nullable=False)
        op.drop_constraint('auditevent_seq_key', 'auditevent', type_='unique')
        op.create_unique_constraint('uq_auditevent_chain_seq', 'auditevent', ['chain', 'seq'])
    else:
        with op.batch_alter_table('auditevent', schema=None, naming_convention=_NAMING,
                                  recreate='always') as batch_op:
            batch_op.alter_column('chain', existing_type=sa.Integer(), nullable=False)
            batch_op.drop_constraint('uq_auditevent_seq', type_='unique')
            batch_op.create_unique_constraint('uq_auditevent_chain_seq', ['chain', 'seq'])
    # The one head so far (id 1) is the legacy chain's.
    if legacy != 1:
        op.execute(sa.text("UPDATE audithead SET id = :legacy WHERE id = 1")
                   .bindparams(legacy=legacy))


def downgrade() -> None:
    raise NotImplementedError("the per-office chains cannot be merged back into one")
