"""The office scope's cache of scoped statements (``db._scoped``): one copy per statement,
whatever the office, because the office is a bound parameter given at each execution."""

from __future__ import annotations

from typing import Any

from sqlmodel import select

from workflow import db
from workflow.models import Memo


def test_a_statement_has_one_scoped_copy_for_every_office() -> None:
    statement = select(Memo.id)
    first = db._scoped(statement)  # noqa: SLF001 - the cache is what is tested
    assert db._scoped(statement) is first  # the same copy again: its cache key is kept
    assert db._SCOPED[statement] is first  # noqa: SLF001
    # Its cache key carries no office: no value is extracted from it at each execution.
    key = first._generate_cache_key()  # noqa: SLF001
    assert key is not None and not key.bindparams


def test_the_criteria_compare_with_the_parameter_the_listener_gives() -> None:
    sql = str(db._scoped(select(Memo.id)).compile())  # noqa: SLF001
    assert f"memo.org_id = :{db.OFFICE_PARAM}" in sql


def test_an_orm_update_in_an_office_still_updates_the_objects_the_session_holds(
        app: Any, demo: dict[str, int]) -> None:
    """An ORM UPDATE applies the office's criteria in Python to the objects already loaded
    (synchronize_session="evaluate"): the office's id must be a value there, not a bound
    parameter without one, or the loaded object keeps its old title."""
    from sqlmodel import update

    from workflow.extensions import db as database
    from workflow.models import Position

    with app.test_request_context():
        position = database.session.exec(select(Position)).first()
        assert position is not None
        db.scope_to_office(position.org_id)
        database.session.exec(update(Position).where(Position.id == position.id)  # type: ignore[call-overload]
                              .values(title="ตำแหน่งใหม่"))
        assert position.title == "ตำแหน่งใหม่"
        database.session.rollback()
