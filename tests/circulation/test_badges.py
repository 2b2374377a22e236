"""The navigation's counts (``views.badges``): a signer's waiting memos and their
unacknowledged circulations are shown on the inbox, and read by the list's own statement
when it has a row to carry them, or by one statement of their own when it has none.
Counts of statements are deterministic, so this is a test, not a timing (issue #11)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from tests.circulation.factories import circulation_office
from tests.factories import make_memo
from tests.support.statements import statements
from workflow import routing
from workflow.db import PlanHints
from workflow.extensions import db
from workflow.memos import lists
from workflow.models import Route


def test_both_counts_show_and_ride_on_the_list(app: Flask, client: Any, auth: Any,
                                                 api: Any) -> None:
    with app.app_context():
        office = circulation_office(db.session)
        route = db.session.get(Route, office.memo.route_id)
        make_memo(db.session, drafter=office.people["clerk"], route=route,
                  state=routing.pending(1))
        memo_id, head = office.memo.id, office.people["head"].username
    assert api.call("POST", f"/memos/{memo_id}/circulation", office.people["chief"].username,
                    json={"position_ids": [office.positions["head"]]}).status_code == 201
    auth.login(head)
    client.get("/inbox")  # the session's first page reads what later pages keep
    with statements(app) as sent:
        page = client.get("/inbox?tab=circulated").get_data(as_text=True)
    assert 'data-testid="waiting-count">๑<' in page
    assert 'data-testid="circulated-count">๑<' in page
    counts = [s for s in sent if "circulationrecipient" in s and "count(" in s]
    assert len(counts) == 1 and "memostep" in counts[0], "\n".join(sent)
    assert counts[0].startswith("SELECT memo.id"), counts[0]  # the list's statement
    # Who is signed in, and the list with its counts (SQLite also sends a BEGIN).
    assert len([s for s in sent if s.startswith("SELECT")]) == 2, "\n".join(sent)
    # Only what the page needs is asked: no count twice.
    assert not [s for s in sent if "memostep" in s and "count(" in s and s not in counts]
    # Any other page shows the waiting count only, and asks nothing of circulations.
    with statements(app) as sent:
        page = client.get("/account").get_data(as_text=True)
    assert 'data-testid="waiting-count">๑<' in page
    assert len([s for s in sent if "memostep" in s and "count(" in s]) == 1
    assert not [s for s in sent if "circulationrecipient" in s]


def test_someone_who_signs_nothing_is_asked_no_waiting_count(
        app: Flask, client: Any, auth: Any) -> None:
    with app.app_context():
        office = circulation_office(db.session)
        admin = office.people["admin"].username  # holds no post
    auth.login(admin)
    with statements(app) as sent:
        response = client.get("/inbox")
    assert response.status_code == 200
    assert 'data-testid="waiting-count"' not in response.get_data(as_text=True)
    assert not [s for s in sent if "memostep" in s and "count(" in s]
    # Their list is empty: it carried the count (which PostgreSQL computes only for a row it
    # returns) and one statement of its own read it.
    counts = [s for s in sent if "circulationrecipient" in s and "count(" in s]
    assert len(counts) == 2 and counts[0].startswith("SELECT memo.id"), "\n".join(sent)
    # Outside the inbox there is no count to show them, and none is asked.
    with statements(app) as sent:
        assert client.get("/account").status_code == 200
    assert not [s for s in sent if "count(" in s], "\n".join(sent)


def test_an_approved_memo_page_reads_its_own_facts_with_the_counts(
        app: Flask, client: Any, auth: Any, api: Any) -> None:
    """Whether the memo is sealed and whether it was circulated come with the nav's count;
    the circulations are listed only for a memo that has some."""
    with app.app_context():
        office = circulation_office(db.session)
        memo_id, chief = office.memo.id, office.people["chief"].username
    auth.login(chief)
    client.get("/inbox")
    with statements(app) as sent:
        page = client.get(f"/memos/{memo_id}").get_data(as_text=True)
    assert 'data-testid="sealing"' in page  # no sealed copy in this office: being made
    facts = [s for s in sent if "sealeddocument" in s]
    assert len(facts) == 1 and "memostep" in facts[0] and "FROM circulation" in facts[0]
    assert not [s for s in sent if "circulationrecipient" in s and "count(" in s]
    assert not [s for s in sent if _lists_circulations(s)]

    assert api.call("POST", f"/memos/{memo_id}/circulation", chief,
                    json={"position_ids": [office.positions["head"]]}).status_code == 201
    with statements(app) as sent:
        page = client.get(f"/memos/{memo_id}").get_data(as_text=True)
    assert 'data-testid="circulations"' in page
    assert [s for s in sent if _lists_circulations(s)]


def _lists_circulations(statement: str) -> bool:
    return statement.startswith("SELECT circulation.id")


@pytest.mark.parametrize("named_by", ["few", "many"])
def test_counts_above_one_are_right_on_every_tab_and_on_a_search(
        app: Flask, client: Any, auth: Any, api: Any, named_by: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Three memos wait for the head and two circulations await their ทราบ: each tab, and
    the search's results, show both counts as they are, whether the list's statement
    carried them or (an empty tab) a statement of their own read them. A search by a head
    named by many memos (the cap at 0) takes the path that sorts before it probes."""
    if named_by == "many":
        monkeypatch.setattr(lists, "CANDIDATES_MAX", 0)
        monkeypatch.setattr(lists, "_NAMED_BY_MANY", PlanHints(seconds=300.0, entries=10))
    with app.app_context():
        office = circulation_office(db.session)
        route = db.session.get(Route, office.memo.route_id)
        clerk = office.people["clerk"]
        for n in range(3):
            make_memo(db.session, drafter=clerk, route=route, state=routing.pending(1),
                      subject=f"ขออนุมัติซ่อมถนน สายที่ {n}")
        second = make_memo(db.session, drafter=clerk, route=route, state=routing.APPROVED)
        circulated = [office.memo.id, second.id]
        head, chief = office.people["head"].username, office.people["chief"].username
    for memo_id in circulated:
        assert api.call("POST", f"/memos/{memo_id}/circulation", chief,
                        json={"position_ids": [office.positions["head"]]}).status_code == 201
    auth.login(head)
    for path in ("/inbox", "/inbox?tab=mine", "/inbox?tab=decided", "/inbox?tab=circulated",
                 "/inbox?q=ซ่อมถนน"):
        page = client.get(path).get_data(as_text=True)
        assert 'data-testid="waiting-count">๓<' in page, path
        if "q=" not in path:  # a search's results show no tabs
            assert 'data-testid="circulated-count">๒<' in page, path
