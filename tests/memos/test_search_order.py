"""The order of a search's pages for a reader who may open many memos but not all.

On PostgreSQL their search sorts the matches in a subquery and probes them in turn
(``lists._search_then_probe``), with no ORDER BY above it: these tests hold PostgreSQL to
keeping the subquery's order, ties on the time included, across pages. On SQLite the same
search is the plain statement (``lists._searched``), and the same pages are expected.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from tests.factories import make_memo
from tests.memos.test_search import walk
from tests.support.statements import statements
from workflow import clock, routing
from workflow.db import PlanHints, per_thread_upto
from workflow.extensions import db
from workflow.memos import lists
from workflow.models import Memo, User

WORD = "ลำดับการค้นหา"


@pytest.fixture
def probing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every reader counts as named by many (the cap at 0), from a fresh count: the head's
    search then walks the office's matches instead of gathering the memos that name them."""
    monkeypatch.setattr(lists, "CANDIDATES_MAX", 0)
    monkeypatch.setattr(lists, "_NAMED_BY_MANY", PlanHints(seconds=300.0, entries=10))


def test_a_head_of_office_pages_through_a_search_newest_first_without_a_gap(
        app: Flask, demo: dict[str, int], api: Any, backend: str, probing: None) -> None:
    with app.app_context(), db.write() as session:
        clerk = session.exec(select(User).where(User.username == "clerk")).one()
        submitted = [make_memo(session, drafter=clerk, state=routing.pending(1),
                               subject=f"{WORD} เรื่องที่ {n}").id for n in range(14)]
        drafts = [make_memo(session, drafter=clerk, subject=f"{WORD} ร่างที่ {n}").id
                  for n in range(4)]
        # Times that run against the ids, with ties (one time for three memos, which the
        # id orders), and the drafts in among them.
        base = clock.now() - timedelta(days=1)
        for n, memo_id in enumerate([*submitted, *drafts]):
            memo = session.get(Memo, memo_id)
            assert memo is not None
            memo.updated_at = base - timedelta(minutes=(n * 7) % 11)
        session.flush()
        rows = session.exec(select(Memo.id, Memo.updated_at)
                            .where(Memo.id.in_(submitted))).all()  # type: ignore[union-attr]
    expected = [memo_id for memo_id, _ in sorted(rows, key=lambda r: (r[1], r[0]),
                                                 reverse=True)]

    with statements(app) as sent:
        pages = walk(api, f"/memos?q={WORD}", "head", limit=4)
    assert [memo_id for page in pages for memo_id in page] == expected  # drafts left out
    assert [len(page) for page in pages] == [4, 4, 4, 2]
    probed = [s for s in sent if "OFFSET" in s and "found" in s]
    assert bool(probed) == (backend == "postgresql"), sent
    # The auditor, who oversees the office, gets the plain statement and the same order.
    auditor = [i for page in walk(api, f"/memos?q={WORD}", "auditor", limit=5) for i in page]
    assert [i for i in auditor if i in set(submitted)] == expected


def test_a_common_word_pages_as_the_list_of_everything(
        app: Flask, demo: dict[str, int], api: Any, probing: None) -> None:
    """A word in every memo: the search's pages are the reader's whole list, in order."""
    with app.app_context(), db.write() as session:
        clerk = session.exec(select(User).where(User.username == "clerk")).one()
        for n in range(9):
            make_memo(session, drafter=clerk, state=routing.pending(1), subject=f"{WORD} {n}")
    searched = walk(api, f"/memos?q={WORD}", "head", limit=3)
    listed = walk(api, "/memos?box=all", "head", limit=3)
    matching = {i["id"] for i in api.call("GET", f"/memos?q={WORD}&limit=100", "auditor")
                .json["items"]}
    assert [i for page in searched for i in page] == [
        i for page in listed for i in page if i in matching]


def test_the_statements_a_user_can_shape_are_kept_to_a_bound() -> None:
    """A search's statement is kept per shape; new shapes push the oldest out."""
    built: list[int] = []

    @per_thread_upto(2)
    def statement(shape: int) -> int:
        built.append(shape)
        return shape

    for shape in (1, 2, 1, 3, 2, 1):
        assert statement(shape) == shape
    # 1 and 2 built; 1 used again, so 3 pushes out 2, the least recently used; 2 comes back
    # and pushes out 1; 1 comes back and pushes out 3.
    assert built == [1, 2, 3, 2, 1]


def test_a_search_of_many_words_and_every_field_is_answered(
        app: Flask, demo: dict[str, int], api: Any, backend: str, probing: None) -> None:
    """The longest search a person can type (200 characters: 100 words) with every other
    field set: a shape of its own, built and run on both paths, an answer and no error."""
    api.act(demo["memo_id"], "clerk", "submit")  # names the head: they have memos to search
    words = " ".join(["ก"] * 100)
    query = (f"q={words}&number=๑/AB&from=1/1/2568&to=31/12/2570&state=pending"
             "&drafter=Clerk&urgency=urgent")
    for username in ("head", "auditor"):  # probed match by match, and the plain statement
        with statements(app) as sent:
            response = api.call("GET", f"/memos?{query}", username)
        assert response.status_code == 200, response.json
        assert response.json["items"] == []
        searched = [s for s in sent if "subject" in s and "LIKE" in s.upper()]
        assert len(searched) == 1 and searched[0].count("LIKE") >= 100, "\n".join(sent)
        assert ("AS found" in searched[0]) == (username == "head" and backend == "postgresql")
