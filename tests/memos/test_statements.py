"""How many SQL statements one approval costs, counted with an SQLAlchemy listener.

Counts are deterministic, so this is a test rather than a timing: a change that adds a
query to the approve path shows here. One approval through the API on PostgreSQL (auth,
the action and the memo JSON that answers it) took 48–52 statements before #11's work;
the issue's goal is 12.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

# Where the statements go today (23): the bearer token with its user and positions, and the
# appointments in force (2); the memo locked with its office and version, the actor reloaded
# under the lock (user, positions, appointments: a deactivation between sign-in and the
# click counts), this round's steps, the office days, who answers for the next step (7); the
# decision, the memo, the two steps, the arrival email (5); the audit head, the memo's last
# event, the event, the head (4); the memo JSON: the memo with its office and drafter,
# steps, who answers, decisions, attachments (5).
APPROVAL_STATEMENTS = 23


@pytest.mark.postgres_only
def test_one_approval_through_the_api_costs_a_bounded_number_of_statements(
        app: Flask, demo: dict[str, int], api: Any, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the count is for PostgreSQL, where FOR UPDATE locks rows")
    memo_id = demo["memo_id"]
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    api.token("head")  # sign in before counting: a token is issued once, not per approval
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    engine = app.extensions["saraban_db"].engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        response = api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert response.status_code == 200 and response.json["current_step"] == 2
    assert len(statements) <= APPROVAL_STATEMENTS, "\n".join(statements)
