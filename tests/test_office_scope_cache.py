"""The office scope's cache of scoped statements (``db._scoped``) stays bounded: a statement
built once per thread keeps a scoped copy for each office it serves, and a worker of an
installation with thousands of offices must not keep one for every office it ever saw."""

from __future__ import annotations

from sqlmodel import select

from workflow import db
from workflow.models import Memo


def test_a_statement_keeps_a_bounded_number_of_office_copies() -> None:
    statement = select(Memo.id)
    first = db._scoped(statement, 1)  # noqa: SLF001 - the cache is what is tested
    assert db._scoped(statement, 1) is first  # the same copy again: its cache key is kept
    for org_id in range(2, db._SCOPED_OFFICES + 50):  # noqa: SLF001
        db._scoped(statement, org_id)  # noqa: SLF001
    copies = db._SCOPED[statement]  # noqa: SLF001
    assert len(copies) == db._SCOPED_OFFICES  # noqa: SLF001
    assert 1 not in copies  # the oldest went first
    assert db._scoped(statement, 1) is not first  # noqa: SLF001 - made again when asked
