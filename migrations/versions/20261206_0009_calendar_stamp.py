"""organization.calendar_stamp: lets each process keep an office's calendar in memory

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""
from collections.abc import Sequence
from uuid import uuid4

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_stamp', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=False, server_default=''))
    # Each office its own value: a cache keyed by (office, stamp) must never mistake one
    # office's days, or one database's, for another's.
    connection = op.get_bind()
    organization = sa.table('organization', sa.column('id', sa.Integer),
                            sa.column('calendar_stamp', sa.String))
    for (org_id,) in connection.execute(sa.select(organization.c.id)).all():
        connection.execute(organization.update().where(organization.c.id == org_id)
                           .values(calendar_stamp=uuid4().hex))
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('calendar_stamp', server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_column('calendar_stamp')
