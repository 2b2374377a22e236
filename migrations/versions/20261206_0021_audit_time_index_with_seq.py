"""the audit trail's time index ends with seq (ix_audit_org_created)

Events may share a time: one whose server's clock was behind takes its predecessor's, and
one append of several events gives them one time. A date search finds the ends of its seq
range by time, ties broken by seq (workflow/audit/search.py), and this index serves that
order directly instead of sorting the tied rows.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_audit_org_created', table_name='auditevent')
    op.create_index('ix_audit_org_created', 'auditevent', ['org_id', 'created_at', 'seq'])


def downgrade() -> None:
    op.drop_index('ix_audit_org_created', table_name='auditevent')
    op.create_index('ix_audit_org_created', 'auditevent', ['org_id', 'created_at'])
