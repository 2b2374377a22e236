"""a document number's single characters are indexed too, and a search of one or two Latin
letters asks the index in every case

Migration 0025 indexed each number by its pairs of characters, for a search of two
characters that pg_trgm cannot serve; a search of one character, or of two Latin letters
(which are matched in any case), still read every memo of the office: at 100,000 memos a
search for "a" or "ab" that finds nothing took 150 ms (``bench/profile_reads.py --path``).
``memo_number_grams`` gives the distinct pieces of one and of two characters, as written,
and ``ix_memo_number_grams`` indexes them. The search asks it for every way of writing what
was typed: Thai or Arabic digits, and for Latin letters each case (``workflow/memos/
search.py``); the LIKE or ILIKE still decides. Nothing is lowercased in the index, so it
means the same under any collation. Built without blocking writes (CONCURRENTLY).

0025's ``memo_number_pairs`` and its index stay: the code of before this migration asks
for them, and it is still serving while the migration runs (migrations run before the new
code starts). A later migration drops them, once no such code can be running. PostgreSQL
only: SQLite keeps the plain LIKE.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0026'
down_revision: str | None = '0025'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# IMMUTABLE, so an index may be built on it: it reads nothing but its argument and depends
# on no collation; the search_path is fixed so that the index cannot change meaning with
# the caller's. PL/pgSQL, not SQL as migration 0025's memo_number_pairs was: the search
# computes it for each row it keeps when PostgreSQL reads the office's memos in order (a
# piece found in most numbers, as "1" is), and a loop took 2.9 µs a number against 7.4 µs
# for array_agg(DISTINCT …) over generate_series (at 100,000 memos, the search for "1" 1.9
# ms against 3.3). The array may hold a piece twice; the index keeps each once.
_GRAMS = """
CREATE OR REPLACE FUNCTION memo_number_grams(number text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog
AS $$
DECLARE
    pieces text[] := '{}';
    size integer := char_length(number);
BEGIN
    FOR i IN 1..size LOOP
        pieces := pieces || substr(number, i, 1);
        IF i < size THEN
            pieces := pieces || substr(number, i, 2);
        END IF;
    END LOOP;
    RETURN pieces;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute(_GRAMS)
    # CONCURRENTLY, outside the migration's transaction, so that approvals go on meanwhile
    # (1.6 s at 100,000 memos). A build that failed leaves an invalid index under the name,
    # dropped first when the upgrade is run again.
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_memo_number_grams")
        # Led by the office, as the trigram indexes are (migration 0017, btree_gin).
        op.execute("CREATE INDEX CONCURRENTLY ix_memo_number_grams ON memo "
                   "USING gin (org_id, memo_number_grams(number))")


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_memo_number_grams")
    op.execute("DROP FUNCTION IF EXISTS memo_number_grams(text)")
