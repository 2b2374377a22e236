"""An audit chain per office: verified alone, and pinned by daily anchors outside the
database, which catch a rewritten tail that a chain alone cannot."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, insert, text
from sqlmodel import col, select

from workflow import routing
from workflow.db import normalise_url
from workflow.demo.seed import seed_demo
from workflow.extensions import db
from workflow.memos.actions import perform
from workflow.models import AuditEvent, AuditHead, Organization
from workflow.platform import offices
from workflow.trail.chain import _HASHED, chain_hash


def _two_offices_with_history(app: Flask) -> dict[str, int]:
    with app.app_context():
        alpha, beta = seed_demo("alpha"), seed_demo("beta")
        for ids in (alpha, beta):
            perform(routing.SUBMIT, memo_id=ids["memo_id"], actor_id=ids["user_clerk"])
            perform(routing.APPROVE, memo_id=ids["memo_id"], actor_id=ids["user_head"],
                    comment="เพื่อโปรดพิจารณา")
        return {"alpha": alpha["org_id"], "beta": beta["org_id"]}


def _as_attacker(app: Flask, *statements: tuple[str, dict[str, Any]]) -> None:
    engine = create_engine(normalise_url(app.config["DATABASE_URL"]))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for sql, params in statements:
            conn.execute(text(sql), params)
    engine.dispose()


def test_each_office_has_its_own_chain_verified_alone(app: Flask, runner: Any) -> None:
    org = _two_offices_with_history(app)
    with app.app_context():
        for org_id in org.values():
            seqs = db.session.exec(select(AuditEvent.seq).where(
                AuditEvent.chain == org_id).order_by(col(AuditEvent.seq))).all()
            assert seqs == list(range(1, len(seqs) + 1)) and seqs  # its own 1, 2, 3 …
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    _as_attacker(app, ("UPDATE auditevent SET text = 'แก้ไขแล้ว' WHERE chain = :chain "
                       "AND seq = 2", {"chain": org["beta"]}))
    alpha = runner.invoke(args=["audit", "verify", "--office", "alpha"])
    beta = runner.invoke(args=["audit", "verify", "--office", "beta"])
    assert alpha.exit_code == 0 and "[office alpha]" in alpha.output
    assert beta.exit_code == 1 and "BROKEN at event #2" in beta.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_an_anchor_catches_a_tail_rewritten_with_valid_hashes(
        app: Flask, runner: Any, tmp_path: Path) -> None:
    org = _two_offices_with_history(app)
    app.config["AUDIT_ANCHOR_DIR"] = str(tmp_path / "anchors")
    anchored = runner.invoke(args=["audit", "anchor"])
    assert anchored.exit_code == 0, anchored.output
    heads = next((tmp_path / "anchors").glob("heads-*.jsonl"))
    assert '"office": "alpha"' in heads.read_text(encoding="utf-8")

    # Someone who can write the database rewrites alpha's last event and recomputes its
    # hash and the head: the chain alone still holds.
    with app.app_context():
        last = db.session.exec(select(AuditEvent).where(AuditEvent.chain == org["alpha"])
                               .order_by(col(AuditEvent.seq).desc())).first()
        assert last is not None
        forged = AuditEvent(**{name: getattr(last, name) for name in _HASHED},
                            chain=last.chain, prev_hash=last.prev_hash, hash="")
        forged.text = "ไม่เห็นชอบ"
        forged.hash = chain_hash(last.prev_hash, forged.model_dump())
        values = forged.model_dump(exclude={"id"})
    engine = create_engine(normalise_url(app.config["DATABASE_URL"]))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM auditevent WHERE id = :id"), {"id": last.id})
        conn.execute(insert(AuditEvent.__table__).values(**values))  # type: ignore[attr-defined]
        conn.execute(text("UPDATE audithead SET hash = :hash WHERE id = :chain"),
                     {"hash": forged.hash, "chain": org["alpha"]})
    engine.dispose()

    assert runner.invoke(args=["audit", "verify", "--office", "alpha"]).exit_code == 0
    caught = runner.invoke(args=["audit", "verify", "--office", "alpha",
                                 "--against", str(heads)])
    assert caught.exit_code == 1
    assert "the tail was rewritten" in caught.output
    untouched = runner.invoke(args=["audit", "verify", "--office", "beta",
                                    "--against", str(heads)])
    assert untouched.exit_code == 0


def test_platform_events_go_on_the_platform_chain(app: Flask) -> None:
    with app.app_context():
        offices.create_platform_admin(username="root1", full_name="นายกลาง ดูแลระบบ",
                                      email="root1@example.com", password="ผู้ดูแลกลาง-2569")
        org = offices.create_office(principal=None, code="gamma", name="อบต.แกมมา",
                                    admin_username="boss", admin_full_name="นายหัวหน้า ดูแล",
                                    admin_email="boss@example.com",
                                    admin_password="ผู้ดูแล-อบต-2569")
        home = db.session.exec(select(Organization).where(
            Organization.is_platform == True)).one()  # noqa: E712
        created = db.session.exec(select(AuditEvent).where(
            AuditEvent.action == "platform_change")).one()
        assert created.chain == home.id and '"office_code":"gamma"' in created.details
        assert db.session.get(AuditHead, home.id) is not None
        assert org.id != home.id
