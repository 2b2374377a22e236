"""a signer's decisions by themselves: the decided box walks only approvals and refusals

The decided box lists the memos a person approved, sent back or rejected, newest first. A
clerk's own decisions are submissions and resubmissions, and PostgreSQL took "this actor"
and "a signer's action" as independent: it expected 80,000 of the clerk's decisions to be
approvals and walked the whole decision table back by its key to find the first page,
488,617 rows for none (187 ms on the bench's 100,000 memos). Statistics of the actions
each actor takes (most common values of the pair, PostgreSQL only) tell it the clerk has
none, and this partial index of the three signer actions finds a signer's in order: the
clerk's tab 0.05 ms, a signer of nothing 0.09 ms, the head's unchanged (0.9 ms).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0023'
down_revision: str | None = '0022'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SIGNER = "action IN ('approve', 'reject', 'send_back')"


def upgrade() -> None:
    op.create_index('ix_decision_signer', 'decision', ['actor_id', 'id'],
                    postgresql_where=sa.text(_SIGNER), sqlite_where=sa.text(_SIGNER))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE STATISTICS st_decision_actor_action (mcv) "
                   "ON actor_id, action FROM decision")
        op.execute("ANALYZE decision")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP STATISTICS IF EXISTS st_decision_actor_action")
    op.drop_index('ix_decision_signer', table_name='decision')
