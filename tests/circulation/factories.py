"""An office laid out for circulation: divisions, their posts and holders, and an approved memo.

Built on ``tests/factories.py``; like ``make_memo`` beyond a draft, ``circulation_office``
commits (the memo is approved by the real services), so call it outside other write blocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from tests.factories import make_memo, make_office, make_position, make_route, make_user
from workflow import routing
from workflow.models import Memo, Organization, Position, Role, User

FINANCE = "กองคลัง"
WORKS = "กองช่าง"
PALAD = "สำนักปลัด"


@dataclass
class CirculationOffice:
    """Who is who: ``people`` by a short name; ``positions`` (ids) by the same name."""

    office: Organization
    people: dict[str, User]
    positions: dict[str, int]
    memo: Memo  # approved: drafted by clerk, signed by head, then chief (the final signer)

    def id_of(self, name: str) -> int:
        user_id = self.people[name].id
        assert user_id is not None
        return user_id


def circulation_office(session: Session, **office_overrides: object) -> CirculationOffice:
    """clerk (drafter, สำนักปลัด), head (step 1, สำนักปลัด), chief (step 2, the final signer),
    finance1 and finance2 (กองคลัง), engineer (กองช่าง, beside a vacant post), a deactivated
    user in กองคลัง, an admin without a post; and one approved memo."""
    office = make_office(session, **office_overrides)
    people = {
        "clerk": make_user(session, office=office, username=f"clerk{office.id}"),
        "head": make_user(session, office=office, roles=(Role.SIGNER, Role.CLERK)),
        "chief": make_user(session, office=office, roles=Role.SIGNER),
        "finance1": make_user(session, office=office),
        "finance2": make_user(session, office=office),
        "engineer": make_user(session, office=office),
        "gone": make_user(session, office=office, is_active=False),
        "admin": make_user(session, office=office, roles=Role.ADMIN),
    }
    layout = {"clerk": PALAD, "head": PALAD, "chief": "", "finance1": FINANCE,
              "finance2": FINANCE, "engineer": WORKS, "gone": FINANCE}
    positions = {}
    for name, division in layout.items():
        position = make_position(session, office=office, holder=people[name])
        position.division = division
        positions[name] = position.id or 0
    vacant = make_position(session, office=office)
    vacant.division = WORKS
    positions["vacant"] = vacant.id or 0
    session.flush()
    route = make_route(session, office=office, positions=[
        session.get(Position, positions["head"]), session.get(Position, positions["chief"])])
    memo = make_memo(session, drafter=people["clerk"], route=route, state=routing.APPROVED)
    return CirculationOffice(office, people, positions, memo)
