"""offices as tenants: organization.code, is_platform, suspended_at; usernames unique per office

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import workflow.dbtypes

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# SQLite keeps the old UNIQUE(username) unnamed; this convention gives it a name to drop.
_NAMING = {"uq": "uq_%(table_name)s_%(column_0_name)s"}


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))
        batch_op.add_column(sa.Column('is_platform', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('suspended_at',
                                      workflow.dbtypes.UTCDateTime(timezone=True),
                                      nullable=True))
    # Every office that exists gets a code; while it is the only one, its people may sign
    # in without typing it, exactly as before.
    connection = op.get_bind()
    organization = sa.table('organization', sa.column('id', sa.Integer),
                            sa.column('code', sa.String))
    for (org_id,) in connection.execute(sa.select(organization.c.id)).all():
        connection.execute(organization.update().where(organization.c.id == org_id)
                           .values(code=f"office{org_id}"))
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('code', existing_type=sqlmodel.sql.sqltypes.AutoString(length=32),
                              nullable=False)
        batch_op.create_unique_constraint('uq_organization_code', ['code'])
        batch_op.alter_column('is_platform', server_default=None)

    if connection.dialect.name == 'sqlite':
        with op.batch_alter_table('user', schema=None, naming_convention=_NAMING,
                                  recreate='always') as batch_op:
            batch_op.drop_constraint('uq_user_username', type_='unique')
            batch_op.create_unique_constraint('uq_user_org_username', ['org_id', 'username'])
    else:
        op.drop_constraint('user_username_key', 'user', type_='unique')
        op.create_unique_constraint('uq_user_org_username', 'user', ['org_id', 'username'])


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_user_org_username', type_='unique')
        batch_op.create_unique_constraint('user_username_key', ['username'])
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint('uq_organization_code', type_='unique')
        batch_op.drop_column('suspended_at')
        batch_op.drop_column('is_platform')
        batch_op.drop_column('code')
