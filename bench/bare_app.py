"""The floor under one approval: Flask + SQLAlchemy Core doing the writes of an approval.

``bench/approve.py`` serves this with the same gunicorn settings as the project and
drives it with the same client. It runs on its own database, a second fresh copy of the
project's schema (migrated and seeded by the same commands), so every table, index,
foreign key and trigger the project writes through is there too and the two
measurements never share rows or locks. One request, in one transaction:

1. the bearer token: one SELECT on ``authsession`` (joined to ``user``) by the token's
   SHA-256, as the project looks tokens up;
2. ``SELECT … FROM memo WHERE id = :id FOR UPDATE``;
3. ``UPDATE memo SET state = …, version = version + 1``;
4. ``INSERT INTO auditevent`` (a plain row: ``seq`` from a sequence, no hash chain, so no
   ``audithead`` lock), and ``INSERT INTO notification`` (one outbox row);
5. commit, then ``LPUSH`` the notification id to Redis.

What it leaves out is what the ratio measures: the principal's positions and acting
appointments, record-level access, the route's steps and state machine, the decision
row, the register, the audit chain's head lock and the full memo view in the answer.

It also answers ``GET /api/v1/memos``, the floor under a list page that
``bench/read_scale.py`` measures beside the project's pages (its docstring says what it
does and leaves out).

Environment: ``DATABASE_URL`` (postgresql://…), ``REDIS_URL``, ``BARE_SIGNER_IDS`` (the
user ids of the route's signers in order, comma-separated; only approvals need them).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Flask, jsonify, request
from sqlalchemy import Connection, text

from workflow.db import make_engine

# The project's own engine (workflow.db.make_engine): the same pool and the same policy of
# pinging a connection only after it sat idle, so neither side pays round trips the other
# does not.
engine = make_engine(os.environ["DATABASE_URL"])
broker = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
SIGNERS = [int(part) for part in os.environ.get("BARE_SIGNER_IDS", "").split(",") if part]
OUTBOX_KEY = "bare:outbox"
_PENDING = re.compile(r"^pending_(\d+)$")

app = Flask(__name__)


class Refused(Exception):
    """An answer other than 200; raised inside the transaction so that it rolls back."""

    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.status = status
        self.error = error


@app.errorhandler(Refused)
def _refused(exc: Refused) -> Any:
    """Errors as the project's API shapes them: ``{"error": code}`` and the status."""
    return jsonify({"error": exc.error}), exc.status


def _user_of_token(conn: Connection) -> int:
    """The user id of a live API token in ``Authorization: Bearer``, or 401."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Refused(401, "invalid_token")
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    user_id = conn.execute(text(
        'SELECT a.user_id FROM authsession a JOIN "user" u ON u.id = a.user_id '
        "WHERE a.token_hash = :h AND a.kind = 'api' AND a.revoked_at IS NULL "
        "AND a.expires_at > now() AND u.is_active"), {"h": digest}).scalar()
    if user_id is None:
        raise Refused(401, "invalid_token")
    return int(user_id)


@app.get("/api/v1/memos")
def list_memos() -> Any:
    """The read floor for ``bench/read_scale.py``: the newest memos of the caller's office
    (``limit``, 100 at most), the columns a list shows plus the drafter's name, as JSON. One
    connection: the token, then one SELECT down ``ix_memo_org_updated``; no principal, no
    access rule, no validation of the page."""
    limit = min(max(int(request.args.get("limit", "100") or 100), 1), 100)
    with engine.connect() as conn:
        user_id = _user_of_token(conn)
        rows = conn.execute(text(
            "SELECT m.id, m.number, m.memo_date, m.subject, m.addressee, m.urgency, m.state, "
            "m.version, m.drafter_id, m.updated_at, d.full_name AS drafter_name FROM memo m "
            'JOIN "user" d ON d.id = m.drafter_id WHERE m.org_id = (SELECT org_id FROM "user" '
            "WHERE id = :u) ORDER BY m.updated_at DESC, m.id DESC LIMIT :limit"),
            {"u": user_id, "limit": limit}).mappings().all()
    return jsonify({"box": "all", "items": [
        {**row, "memo_date": row["memo_date"].isoformat(),
         "updated_at": row["updated_at"].isoformat()} for row in rows]})


@app.get("/api/v1/memos/<int:memo_id>")
def get_memo(memo_id: int) -> Any:
    """The memo's state, for the client's final check."""
    with engine.connect() as conn:
        _user_of_token(conn)
        row = conn.execute(text("SELECT state, version FROM memo WHERE id = :id"),
                           {"id": memo_id}).first()
    if row is None:
        raise Refused(404, "memo_not_found")
    return jsonify({"id": memo_id, "state": row.state, "version": row.version})


@app.post("/api/v1/memos/<int:memo_id>/actions")
def act(memo_id: int) -> Any:
    """Approve: token, row lock, update, audit row, outbox row, commit, push to Redis."""
    payload = request.get_json(silent=True) or {}
    comment = str(payload.get("comment", "")).strip()
    if payload.get("action") != "approve":
        raise Refused(422, "unknown_action")
    if not comment:
        raise Refused(422, "endorsement_required")
    now = datetime.now(UTC)
    # One transaction for the token check and the writes: the cheapest honest floor (the
    # project reads the token on its request session and writes on a second one).
    with engine.begin() as conn:
        user_id = _user_of_token(conn)
        memo = conn.execute(text(
            "SELECT id, org_id, drafter_id, state, version FROM memo WHERE id = :id FOR UPDATE"),
            {"id": memo_id}).first()
        if memo is None:
            raise Refused(404, "memo_not_found")
        match = _PENDING.match(memo.state)
        if match is None:
            raise Refused(409, "wrong_state")
        step = int(match.group(1))
        if step > len(SIGNERS) or SIGNERS[step - 1] != user_id:
            raise Refused(403, "not_your_step")
        state_after = f"pending_{step + 1}" if step < len(SIGNERS) else "approved"
        version = memo.version + 1
        conn.execute(text("UPDATE memo SET state = :s, version = version + 1, updated_at = :now "
                          "WHERE id = :id"), {"s": state_after, "now": now, "id": memo_id})
        details = json.dumps({"step": step, "version": memo.version}, sort_keys=True)
        conn.execute(text(
            "INSERT INTO auditevent (chain, seq, created_at, org_id, actor_id, actor_name, "
            "position_title, action, memo_id, state_before, state_after, text, ip, user_agent, "
            "details, prev_hash, memo_prev_hash, hash) VALUES (:org, nextval('bare_audit_seq'), "
            ":now, :org, :actor, '', '', 'memo_approved', :memo, :before, :after, :text, "
            ":ip, :ua, :details, '', '', :hash)"),
            {"now": now, "org": memo.org_id, "actor": user_id, "memo": memo_id,
             "before": memo.state, "after": state_after, "text": comment,
             "ip": (request.remote_addr or "")[:64], "ua": request.user_agent.string[:300],
             "details": details,
             "hash": hashlib.sha256(f"{memo_id}:{version}".encode()).hexdigest()})
        recipient = SIGNERS[step] if step < len(SIGNERS) else memo.drafter_id
        notification_id = conn.execute(text(
            "INSERT INTO notification (org_id, memo_id, recipient_id, email, kind, dedupe_key, "
            "subject, body_text, body_html, status, attempts, last_error, created_at) VALUES "
            "(:org, :memo, :to, :email, :kind, :key, :subject, :body, :html, 'pending', 0, '', "
            ":now) RETURNING id"),
            {"org": memo.org_id, "memo": memo_id, "to": recipient,
             "email": f"user{recipient}@example.com",
             "kind": "arrival" if step < len(SIGNERS) else "approved",
             "key": f"bare:{memo_id}:{version}", "subject": f"บันทึกข้อความ #{memo_id} รอท่านพิจารณา",
             "body": comment, "html": f"<p>{comment}</p>", "now": now}).scalar_one()
    # After commit, as the project hands outbox ids to Celery only once they exist.
    broker.lpush(OUTBOX_KEY, notification_id)
    return jsonify({"id": memo_id, "state": state_after, "version": version})
