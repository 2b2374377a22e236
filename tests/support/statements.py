"""The SQL a block of code sends, counted with an SQLAlchemy listener.

Counts of statements are deterministic, so what a request asks of the database is a test,
not a timing (issue #11): a change that adds a query to a page or an action shows here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The statements the app's engine sends inside the block, in order, as sent."""
    sent: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    engine = app.extensions["saraban_db"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)
