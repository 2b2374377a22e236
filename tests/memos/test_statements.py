"""How many SQL statements one approval costs, counted with an SQLAlchemy listener.

Counts are deterministic, so this is a test rather than a timing: a change that adds a
query to the approve path shows here. One approval through the API on PostgreSQL (auth,
the action and the memo JSON that answers it) took 48–52 statements before #11's work,
23 midway, 12 until December 6; the issue's goal is 12.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.support.statements import statements

# Where the statements go (10): the bearer token with its user, their posts and the
# appointments that concern them (1); the memo locked with its office, latest version,
# drafter, this round's steps, whether a file is attached and whether the actor is still
# active (1; read again only when another action committed while this one waited for the
# lock, see loaded.load_memo); who answers for the steps (1); the decision, the memo, both
# steps in one executemany, the arrival email (4); the audit head with the memo's last
# event, then the event with the head's move in one WITH (2); the reply's decisions (1; its
# attachments only when the memo has any). The office's days come from a cache keyed by its
# calendar stamp.
APPROVAL_STATEMENTS = 10


@pytest.mark.postgres_only
def test_one_approval_through_the_api_costs_a_bounded_number_of_statements(
        app: Flask, demo: dict[str, int], api: Any, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the count is for PostgreSQL, where FOR UPDATE locks rows")
    memo_id = demo["memo_id"]
    assert api.act(memo_id, "clerk", "submit").status_code == 200
    api.token("head")  # sign in before counting: a token is issued once, not per approval
    with statements(app) as sent:
        response = api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
    assert response.status_code == 200 and response.json["current_step"] == 2
    assert len(sent) <= APPROVAL_STATEMENTS, "\n".join(sent)
