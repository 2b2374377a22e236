"""route steps as groups with a rule and a condition; a memo's type and amount

Each route step's one position becomes a group of one (``routemember``), so every route
reads as before. A memo's steps get a row per member (the unique key gains position_id),
the approvals that complete their step (``need``, 1 for every step laid so far) and the
condition they were laid under. Memos in flight keep their rows and carry on unchanged.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s",
           "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    op.create_table(
        'routemember',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('route_step_id', sa.Integer(), nullable=False),
        sa.Column('position_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organization.id']),
        sa.ForeignKeyConstraint(['position_id'], ['position.id']),
        sa.ForeignKeyConstraint(['route_step_id'], ['routestep.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('route_step_id', 'position_id'),
    )
    op.create_index(op.f('ix_routemember_route_step_id'), 'routemember', ['route_step_id'])
    op.execute("INSERT INTO routemember (org_id, route_step_id, position_id) "
               "SELECT org_id, id, position_id FROM routestep ORDER BY id")

    with op.batch_alter_table('routestep', schema=None, naming_convention=_NAMING,
                              recreate='always' if not postgresql else 'auto') as batch_op:
        batch_op.add_column(sa.Column('need', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('when_field', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('when_op', sqlmodel.sql.sqltypes.AutoString(length=10),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('when_value',
                                      sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=''))
        if postgresql:
            batch_op.drop_constraint('routestep_position_id_fkey', type_='foreignkey')
        batch_op.drop_column('position_id')

    with op.batch_alter_table('memo', schema=None) as batch_op:
        batch_op.add_column(sa.Column('memo_type', sqlmodel.sql.sqltypes.AutoString(length=200),
                                      nullable=False, server_default=''))
        batch_op.add_column(sa.Column('amount_satang', sa.BigInteger(), nullable=True))

    if postgresql:
        op.drop_constraint('memostep_memo_id_round_step_no_key', 'memostep', type_='unique')
        op.add_column('memostep', sa.Column('need', sa.Integer(), nullable=False,
                                            server_default='1'))
        op.add_column('memostep', sa.Column('condition',
                                            sqlmodel.sql.sqltypes.AutoString(length=300),
                                            nullable=False, server_default=''))
        op.add_column('memostep', sa.Column('pass_no', sa.Integer(), nullable=False,
                                            server_default='1'))
        op.create_unique_constraint('uq_memostep_memo_round_step_position', 'memostep',
                                    ['memo_id', 'round', 'step_no', 'position_id'])
    else:
        with op.batch_alter_table('memostep', schema=None, naming_convention=_NAMING,
                                  recreate='always') as batch_op:
            batch_op.drop_constraint('uq_memostep_memo_id', type_='unique')
            batch_op.add_column(sa.Column('need', sa.Integer(), nullable=False,
                                          server_default='1'))
            batch_op.add_column(sa.Column('condition',
                                          sqlmodel.sql.sqltypes.AutoString(length=300),
                                          nullable=False, server_default=''))
            batch_op.add_column(sa.Column('pass_no', sa.Integer(), nullable=False,
                                          server_default='1'))
            batch_op.create_unique_constraint('uq_memostep_memo_round_step_position',
                                              ['memo_id', 'round', 'step_no', 'position_id'])


def downgrade() -> None:
    raise NotImplementedError("a route of groups cannot be folded back into single positions")
