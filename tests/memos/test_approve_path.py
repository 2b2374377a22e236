"""The approve path's shortcuts keep its guarantees.

An action answers with the memo built from what it loaded under the lock, and takes the
request's principal instead of loading the actor again; these tests hold both to what a
fresh read and a fresh load would say.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from flask import Flask
from sqlmodel import select

from workflow import routing
from workflow.errors import Forbidden
from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.memos import actions
from workflow.models import Decision, Memo, User

if TYPE_CHECKING:
    from tests.conftest import ApiClient

ENDORSEMENT = "เพื่อโปรดพิจารณา"

# A memo's life that passes every kind of reply: a new round, an approval, a return, a
# resubmission (another new round), approvals again, and a rejection at the top.
STEPS = [
    ("clerk", routing.SUBMIT), ("head", routing.APPROVE), ("deputy", routing.SEND_BACK),
    ("clerk", routing.RESUBMIT), ("head", routing.APPROVE), ("deputy", routing.APPROVE),
    ("permsec", routing.APPROVE), ("chief", routing.REJECT),
]


def test_the_reply_to_each_action_is_what_reading_the_memo_afterwards_shows(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    memo_id = demo["memo_id"]
    for username, trigger in STEPS:
        reply = api.act(memo_id, username, trigger, ENDORSEMENT)
        assert reply.status_code == 200, (trigger, reply.json)
        fresh = api.call("GET", f"/memos/{memo_id}", username)
        assert fresh.status_code == 200
        assert reply.json == fresh.json, trigger
    assert reply.json["state"] == routing.REJECTED


def test_a_principal_deactivated_after_the_request_began_is_refused_under_the_lock(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    memo_id = demo["memo_id"]
    assert api.act(memo_id, "clerk", routing.SUBMIT).status_code == 200
    with app.app_context():
        head = db.session.get(User, demo["user_head"])
        assert head is not None
        principal = principal_for(db.session, head)  # as the request began
        with db.write() as session:  # an administrator deactivates them meanwhile
            row = session.get(User, demo["user_head"])
            assert row is not None
            row.is_active = False
        with pytest.raises(Forbidden) as refused:
            actions.perform(routing.APPROVE, memo_id=memo_id, actor_id=principal.user_id,
                            principal=principal, comment=ENDORSEMENT)
        assert refused.value.code == "inactive"
        db.session.expire_all()
        memo = db.session.get(Memo, memo_id)
        assert memo is not None and memo.state == routing.pending(1)
        assert db.session.exec(select(Decision).where(
            Decision.memo_id == memo_id, Decision.actor_id == demo["user_head"])).first() is None


def test_a_principal_of_someone_else_is_not_taken_for_the_actor(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    """The shortcut applies only to the actor's own principal: a mismatch loads the actor."""
    memo_id = demo["memo_id"]
    assert api.act(memo_id, "clerk", routing.SUBMIT).status_code == 200
    with app.app_context():
        chief = db.session.get(User, demo["user_chief"])
        assert chief is not None
        with pytest.raises(Forbidden):
            # The clerk cannot approve, whatever principal is handed along.
            actions.perform(routing.APPROVE, memo_id=memo_id, actor_id=demo["user_clerk"],
                            principal=principal_for(db.session, chief), comment=ENDORSEMENT)
