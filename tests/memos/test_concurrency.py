"""Two signers at once, a double click, twenty tabs: one step is approved exactly once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlmodel import select

from workflow.extensions import db
from workflow.models import Decision, Memo


def _token(base: str, username: str) -> str:
    response = requests.post(f"{base}/api/v1/auth/token",
                             json={"username": username, "password": "demo"}, timeout=30)
    assert response.status_code == 201
    return str(response.json()["token"])


def test_twenty_concurrent_approvals_of_one_step(app, demo, live_server):
    """20 approve requests fired together by the step's signer: exactly one succeeds."""
    memo_id = demo["memo_id"]
    clerk = _token(live_server, "clerk")
    submitted = requests.post(f"{live_server}/api/v1/memos/{memo_id}/actions",
                              json={"action": "submit"},
                              headers={"Authorization": f"Bearer {clerk}"}, timeout=30)
    assert submitted.status_code == 200
    head = _token(live_server, "head")
    start = threading.Barrier(20)

    def approve(_: int) -> int:
        start.wait()
        response = requests.post(
            f"{live_server}/api/v1/memos/{memo_id}/actions",
            json={"action": "approve", "comment": "เพื่อโปรดพิจารณา"},
            headers={"Authorization": f"Bearer {head}"},
            timeout=60,
        )
        return response.status_code

    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(approve, range(20)))

    assert statuses.count(200) == 1, statuses
    assert set(statuses) <= {200, 403, 409}, statuses
    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        approvals = db.session.exec(
            select(Decision).where(Decision.memo_id == memo_id, Decision.action == "approve")
        ).all()
    assert memo is not None and memo.state == "pending_2"
    assert len(approvals) == 1


def test_two_signers_racing_on_a_step(app, demo, live_server):
    """The head approving while the drafter withdraws: one wins, the memo stays consistent."""
    memo_id = demo["memo_id"]
    clerk = _token(live_server, "clerk")
    head = _token(live_server, "head")
    requests.post(f"{live_server}/api/v1/memos/{memo_id}/actions", json={"action": "submit"},
                  headers={"Authorization": f"Bearer {clerk}"}, timeout=30)
    start = threading.Barrier(2)

    def act(token: str, action: str) -> int:
        start.wait()
        return requests.post(f"{live_server}/api/v1/memos/{memo_id}/actions",
                             json={"action": action, "comment": "ทราบ"},
                             headers={"Authorization": f"Bearer {token}"}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        approved = pool.submit(act, head, "approve")
        withdrawn = pool.submit(act, clerk, "withdraw")
        results = {approved.result(), withdrawn.result()}

    with app.app_context():
        memo = db.session.get(Memo, memo_id)
        decisions = db.session.exec(
            select(Decision).where(Decision.memo_id == memo_id).order_by(Decision.id)
        ).all()
    assert memo is not None
    actions = [d.action for d in decisions]
    if memo.state == "withdrawn":
        # Withdraw came last: either it won outright, or it followed the approval legally.
        assert actions[-1] == "withdraw"
    else:
        assert memo.state == "pending_2" and actions == ["submit", "approve"]
    assert 200 in results
