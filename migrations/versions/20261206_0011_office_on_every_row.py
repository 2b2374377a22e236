"""org_id on route steps, memo steps, decisions, versions and attachments

Every table of an office's data carries its office, so that one rule (``db.scope_to_office``)
limits every query to it without joining back to the memo or the route.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# table -> (parent table, the column pointing at it)
_CHILDREN = {
    'routestep': ('route', 'route_id'),
    'memostep': ('memo', 'memo_id'),
    'decision': ('memo', 'memo_id'),
    'memoversion': ('memo', 'memo_id'),
    'attachment': ('memo', 'memo_id'),
}


def upgrade() -> None:
    for table, (parent, key) in _CHILDREN.items():
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('org_id', sa.Integer(), nullable=True))
        # Correlated, so the same statement serves PostgreSQL and SQLite.
        op.execute(f'UPDATE {table} SET org_id = (SELECT {parent}.org_id FROM {parent} '
                   f'WHERE {parent}.id = {table}.{key})')
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column('org_id', existing_type=sa.Integer(), nullable=False)
            batch_op.create_foreign_key(f'fk_{table}_org_id_organization', 'organization',
                                        ['org_id'], ['id'])


def downgrade() -> None:
    for table in _CHILDREN:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f'fk_{table}_org_id_organization', type_='foreignkey')
            batch_op.drop_column('org_id')
