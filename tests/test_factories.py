"""The test-data factories, on both backends: each makes what it says, several coexist, and a
memo past draft carries what production writes (steps, decisions, audit events, outbox rows)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from sqlmodel import col, select

from tests.conftest import AuthActions
from tests.factories import make_memo, make_office, make_position, make_route, make_user
from workflow import routing
from workflow.extensions import db
from workflow.identity.principal import principal_for
from workflow.memos import commands, lists, queries
from workflow.models import (
    AuditEvent,
    Decision,
    Memo,
    MemoStep,
    Notification,
    NotificationKind,
    Organization,
    Position,
    RegisterEntry,
    Role,
    Route,
    RouteMember,
    RouteStep,
    StepStatus,
    Urgency,
    User,
)
from workflow.trail.verify import verify_memo


@dataclass
class Office:
    """An office with a clerk and a four-step route, one signer holding each step."""

    office: Organization
    clerk: User
    signers: list[User]
    positions: list[Position]
    route: Route


@pytest.fixture
def office(app: Flask) -> Office:
    with app.app_context(), db.write() as session:
        org = make_office(session)
        clerk = make_user(session, office=org)
        signers = [make_user(session, office=org, roles=[Role.SIGNER]) for _ in range(4)]
        positions = [make_position(session, office=org, holder=s) for s in signers]
        route = make_route(session, office=org, positions=positions)
        return Office(org, clerk, signers, positions, route)


def inbox(user: User) -> list[int]:
    """The ids of the memos waiting for ``user``, as their inbox lists them."""
    return [item.memo.id or 0 for item in lists.page_memos(principal_for(db.session, user),
                                                             "inbox").items]


def steps_of(memo: Memo) -> list[str]:
    """The statuses of the memo's steps in its current round, in order."""
    return [s.status for s in db.session.exec(
        select(MemoStep).where(MemoStep.memo_id == memo.id, MemoStep.round == memo.round)
        .order_by(col(MemoStep.step_no))).all()]


def test_offices_people_positions_and_routes_coexist(app: Flask, auth: AuthActions) -> None:
    with app.app_context(), db.write() as session:
        first, second = make_office(session), make_office(session, phone="๐๒")
        alice = make_user(session, office=first, roles="signer clerk")
        bob = make_user(session, office=second, password="another-one", full_name="นายบุญมี ดี")
        vacant = make_position(session, office=first)
        held = make_position(session, office=first, holder=alice, title="หัวหน้าสำนักปลัด")
        old = make_route(session, office=first, positions=[held, vacant])
        new = make_route(session, office=first, positions=[vacant], name="สายสั้น")
        other = make_route(session, office=second,
                           positions=[make_position(session, office=second, holder=bob)])

    assert first.name != second.name and first.doc_prefix != second.doc_prefix
    assert second.phone == "๐๒"
    assert alice.username != bob.username and alice.email == f"{alice.username}@example.com"
    assert alice.role_set() == {"signer", "clerk"} and bob.role_set() == {"clerk"}
    assert (alice.org_id, bob.org_id, bob.full_name) == (first.id, second.id, "นายบุญมี ดี")
    assert vacant.holder_id is None and held.holder_id == alice.id
    assert held.title == "หัวหน้าสำนักปลัด" and vacant.title != held.title
    with app.app_context():
        def step_positions(route: Route) -> list[int]:
            return list(db.session.exec(
                select(RouteMember.position_id)
                .join(RouteStep, col(RouteStep.id) == col(RouteMember.route_step_id))
                .where(RouteStep.route_id == route.id).order_by(col(RouteStep.step_no))).all())

        assert step_positions(old) == [held.id, vacant.id]
        assert step_positions(new) == [vacant.id]
        # One default per office: the newer default took over in its own office only.
        defaults = db.session.exec(select(Route.id).where(Route.is_default == True)).all()  # noqa: E712
        assert sorted(defaults) == sorted([new.id, other.id])
        assert new.name == "สายสั้น"

    assert auth.login(alice.username).status_code == 302
    assert auth.login(bob.username).status_code == 401
    assert auth.login(bob.username, "another-one").status_code == 302


def test_factories_refuse_a_field_the_table_does_not_have(app: Flask) -> None:
    with app.app_context(), db.write() as session:
        org = make_office(session)
        with pytest.raises(TypeError, match="nickname"):
            make_user(session, office=org, nickname="ต้อม")
        with pytest.raises(TypeError, match="colour"):
            make_office(session, colour="red")


def test_a_draft_lives_and_dies_with_the_callers_unit_of_work(app: Flask, office: Office) -> None:
    with app.app_context(), db.write() as session:
        draft = make_memo(session, drafter=office.clerk, subject="เรื่องทดสอบ",
                          urgency=Urgency.URGENT)
        other = make_memo(session, drafter=office.clerk)
        assert (draft.state, draft.round, draft.number) == (routing.DRAFT, 0, None)
        assert draft.route_id == office.route.id and draft.org_id == office.office.id
        assert (draft.subject, draft.urgency) == ("เรื่องทดสอบ", Urgency.URGENT)
        assert draft.addressee == f"นายก{office.office.name}" and other.subject != draft.subject
    with pytest.raises(RuntimeError), app.app_context(), db.write() as session:
        make_memo(session, drafter=office.clerk, subject="ไม่ถูกบันทึก")
        raise RuntimeError("the block fails")
    with app.app_context():
        subjects = db.session.exec(select(Memo.subject).order_by(col(Memo.id))).all()
        assert subjects == ["เรื่องทดสอบ", other.subject]
        assert not db.session.exec(select(Decision)).all()
        assert not db.session.exec(select(MemoStep)).all()


def test_an_approved_memo_went_up_the_whole_route(app: Flask, office: Office) -> None:
    with app.app_context(), db.write() as session:
        memo = make_memo(session, drafter=office.clerk, state=routing.APPROVED)
        assert memo.state == routing.APPROVED  # refreshed in the caller's session

    with app.app_context():
        assert memo.number == f"{office.office.doc_prefix}/๑"
        decisions = db.session.exec(select(Decision).where(Decision.memo_id == memo.id)
                                    .order_by(col(Decision.id))).all()
        assert [d.action for d in decisions] == ["submit", "approve", "approve", "approve",
                                                 "approve"]
        approvals = decisions[1:]
        assert [d.actor_id for d in approvals] == [s.id for s in office.signers]
        assert [d.step_no for d in approvals] == [1, 2, 3, 4]
        assert all(d.comment for d in approvals)  # the office requires an endorsement
        assert steps_of(memo) == [StepStatus.APPROVED] * 4
        assert db.session.exec(select(RegisterEntry.document_number).where(
            RegisterEntry.memo_id == memo.id)).one() == memo.number
        events = db.session.exec(select(AuditEvent.action).where(AuditEvent.memo_id == memo.id)
                                 .order_by(col(AuditEvent.seq))).all()
        assert events == ["memo_submitted"] + ["memo_approved"] * 4
        assert verify_memo(db.session, memo.id or 0).ok
        outbox = db.session.exec(select(Notification.kind, Notification.recipient_id).where(
            Notification.memo_id == memo.id).order_by(col(Notification.id))).all()
        assert outbox == [*((NotificationKind.ARRIVAL, s.id) for s in office.signers),
                          (NotificationKind.APPROVED, office.clerk.id)]
        assert all(not inbox(s) for s in office.signers)


def test_a_memo_waiting_at_step_2_is_in_that_signers_inbox(app: Flask, office: Office) -> None:
    with app.app_context(), db.write() as session:
        memo = make_memo(session, drafter=office.clerk, state=routing.pending(2))
        first = make_memo(session, drafter=office.clerk, state=routing.pending(1))

    with app.app_context():
        assert memo.state == "pending_2" and first.state == "pending_1"
        assert steps_of(memo) == [StepStatus.APPROVED, StepStatus.PENDING, StepStatus.WAITING,
                                  StepStatus.WAITING]
        assert inbox(office.signers[1]) == [memo.id]
        assert inbox(office.signers[0]) == [first.id]
        assert inbox(office.signers[2]) == inbox(office.signers[3]) == []
        view = queries.get_memo(principal_for(db.session, office.signers[1]), memo.id or 0)
        assert set(view.allowed) == {"approve", "send_back", "reject"}


@pytest.mark.parametrize(("state", "action", "step_statuses"), [
    (routing.RETURNED, "send_back",
     [StepStatus.APPROVED, StepStatus.APPROVED, StepStatus.SENT_BACK, StepStatus.CANCELLED]),
    (routing.REJECTED, "reject",
     [StepStatus.APPROVED, StepStatus.APPROVED, StepStatus.REJECTED, StepStatus.CANCELLED]),
    (routing.WITHDRAWN, "withdraw",
     [StepStatus.APPROVED, StepStatus.APPROVED, StepStatus.CANCELLED, StepStatus.CANCELLED]),
])
def test_a_memo_ends_its_round_at_the_step_asked_for(
        app: Flask, office: Office, state: str, action: str, step_statuses: list[str]) -> None:
    with app.app_context(), db.write() as session:
        memo = make_memo(session, drafter=office.clerk, state=state, at_step=3)

    with app.app_context():
        assert memo.state == state
        assert steps_of(memo) == step_statuses
        last = db.session.exec(select(Decision).where(Decision.memo_id == memo.id)
                               .order_by(col(Decision.id).desc())).first()
        assert last is not None and last.action == action
        if action == "withdraw":
            assert last.actor_id == office.clerk.id
        else:
            assert (last.actor_id, last.step_no) == (office.signers[2].id, 3)
            assert last.comment  # a reason, as the machine requires
        assert all(not inbox(s) for s in office.signers)


def test_a_returned_memo_can_be_sent_up_again(app: Flask, office: Office) -> None:
    with app.app_context(), db.write() as session:
        memo = make_memo(session, drafter=office.clerk, state=routing.RETURNED)

    with app.app_context():
        mine = lists.page_memos(principal_for(db.session, office.clerk), "mine").items
        assert [item.memo.id for item in mine] == [memo.id]
        again = commands.send_up(memo_id=memo.id or 0, actor_id=office.clerk.id or 0)
        assert (again.state, again.round) == ("pending_1", 2)
        assert inbox(office.signers[0]) == [memo.id]


def test_make_memo_refuses_a_state_it_cannot_reach(app: Flask, office: Office) -> None:
    with app.app_context(), db.write() as session:
        with pytest.raises(ValueError, match="archived"):
            make_memo(session, drafter=office.clerk, state="archived")
        with pytest.raises(ValueError, match="before step 5"):
            make_memo(session, drafter=office.clerk, state=routing.pending(5))
