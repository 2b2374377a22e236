"""a document number's two-character pieces are indexed, so a search by two digits reads an
index, not every memo of the office

pg_trgm finds a piece of three characters or more. A search for "๑๒" gives it none, and
PostgreSQL read each of the office's memos to try the pattern on its number: at 200 offices
x 5,000 memos, 4.7 ms of the head's number search for 150 matches (EXPLAIN ANALYZE), and
28-35 ms p95 over HTTP in bench/offices_scale.py, past its goal of 25. Here each number is
also indexed by the pairs of characters it contains (``memo_number_pairs``), as written: a
search of two characters without case (digits, Thai, punctuation) asks for its pairs, and
the LIKE is still applied to the rows found (``workflow/memos/search.py``). Nothing is
lowercased, so the index means the same under any collation and needs no REINDEX when
the locale's case rules change; two Latin letters are rare in a Thai document number and
keep the plain LIKE. A number is written once, when the memo is approved, so the index
costs the approve path little. The index is built without blocking writes (CONCURRENTLY).
PostgreSQL only: SQLite keeps the plain LIKE.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0025'
down_revision: str | None = '0024'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# IMMUTABLE, so an index may be built on it: it reads nothing but its argument, and depends
# on no collation. The search_path is fixed so that the index cannot change meaning with the
# caller's.
_FUNCTION = """
CREATE OR REPLACE FUNCTION memo_number_pairs(number text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
    SELECT coalesce(array_agg(DISTINCT substr(number, i, 2)), '{}')
    FROM generate_series(1, char_length(number) - 1) AS i
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(_FUNCTION)
    # CONCURRENTLY, outside the migration's transaction: at 200 offices x 5,000 memos the
    # build takes about 13 s, during which a plain CREATE INDEX would hold every approval
    # (it blocks writes to memo); this one lets them through. A build that failed leaves an
    # invalid index under the name, dropped first when the upgrade is run again.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_memo_number_pairs")
        # Led by the office, as the trigram indexes are (migration 0017, btree_gin).
        op.execute("CREATE INDEX CONCURRENTLY ix_memo_number_pairs ON memo "
                   "USING gin (org_id, memo_number_pairs(number))")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_memo_number_pairs")
    op.execute("DROP FUNCTION IF EXISTS memo_number_pairs(text)")
