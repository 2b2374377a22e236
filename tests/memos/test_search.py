"""Keyset paging of every list, and the memo search over what each reader may open (#11)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlmodel import select

from tests.factories import make_position, make_user
from tests.support.statements import statements
from workflow import clock
from workflow.db import PlanHints
from workflow.extensions import db
from workflow.models import Appointment, Organization, User
from workflow.office.calendar import office_today

PHRASE = "เพื่อโปรดพิจารณา"


def create(api: Any, subject: str, username: str = "clerk") -> int:
    response = api.call("POST", "/memos", username,
                        json={"subject": subject, "addressee": "นายก", "body": "<p>x</p>"})
    assert response.status_code == 201, response.json
    return int(response.json["id"])


def walk(api: Any, path: str, username: str, limit: int, before: str = "") -> list[list[int]]:
    """Every page of a list from the cursor ``before``, following next_before (at most 50)."""
    pages: list[list[int]] = []
    for _ in range(50):
        response = api.call("GET", f"{path}&limit={limit}" + (f"&before={before}" if before else
                                                               ""), username)
        assert response.status_code == 200, response.json
        pages.append([item["id"] for item in response.json["items"]])
        before = response.json["next_before"]
        if not before:
            return pages
    raise AssertionError(f"the pages never end: {pages[:5]}")


def test_pages_neither_skip_nor_repeat_while_new_memos_arrive(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    first = [create(api, f"บันทึกที่ {n}") for n in range(7)]
    page1 = api.call("GET", "/memos?box=mine&limit=3", "clerk").json
    later = [create(api, f"บันทึกใหม่ {n}") for n in range(2)]  # arrive between pages
    seen = page1["items"]
    before = page1["next_before"]
    while before:
        page = api.call("GET", f"/memos?box=mine&limit=3&before={before}", "clerk").json
        seen += page["items"]
        before = page["next_before"]
    ids = [item["id"] for item in seen]
    assert len(ids) == len(set(ids)), "a memo was shown twice"
    assert set(first) | {demo["memo_id"]} == set(ids), "a memo was skipped"
    assert not set(later) & set(ids)  # the newer ones head a fresh first page instead
    assert set(later) <= {i["id"] for i in api.call("GET", "/memos?box=mine", "clerk")
                          .json["items"]}


def test_the_inbox_pages_oldest_first_and_new_arrivals_come_last(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    memos = [create(api, f"รอหัวหน้า {n}") for n in range(5)]
    for memo_id in memos:
        assert api.act(memo_id, "clerk", "submit").status_code == 200
    page1 = api.call("GET", "/memos?box=inbox&limit=2", "head").json
    late = create(api, "มาทีหลัง")
    api.act(late, "clerk", "submit")
    rest = walk(api, "/memos?box=inbox", "head", 2, before=page1["next_before"])
    shown = [item["id"] for item in page1["items"]] + [i for page in rest for i in page]
    assert shown == memos + [late]


def test_the_web_inbox_has_a_next_link_that_keeps_the_tab(
        app: Flask, demo: dict[str, int], api: Any, auth: Any, client: Any) -> None:
    for n in range(55):
        create(api, f"หน้าสอง {n}")
    auth.login("clerk")
    page = client.get("/inbox?tab=mine").get_data(as_text=True)
    assert 'rel="next"' in page and "tab=mine" in page
    link = page.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = client.get(link).get_data(as_text=True)
    assert second.count('class="memo-item"') == 56 - 50


def search(api: Any, username: str, query: str) -> Any:
    return api.call("GET", f"/memos?{query}", username)


def found(api: Any, username: str, query: str) -> set[int]:
    response = search(api, username, query)
    assert response.status_code == 200, response.json
    return {item["id"] for item in response.json["items"]}


def test_search_by_words_number_date_state_drafter_and_urgency(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    seed = demo["memo_id"]
    budget = create(api, "ขออนุมัติงบประมาณซ่อมถนน")
    assert found(api, "clerk", "q=ความก้าวหน้า") == {seed}
    assert found(api, "clerk", "q=งบประมาณ ถนน") == {budget}
    assert found(api, "clerk", "q=100%25") == set()  # % is a character, not a wildcard
    assert found(api, "clerk", "drafter=พิมพ์ชนก") == {seed, budget}
    assert found(api, "clerk", "drafter=clerk&state=draft") == {seed, budget}
    assert found(api, "clerk", "urgency=most_urgent") == set()
    with app.app_context():
        today = office_today()
    be = f"{today.day}/{today.month}/{today.year + 543}"
    assert budget in found(api, "clerk", f"from={be}&to={be}")
    # The seed memo's number, once issued at final approval, is found in either digits.
    api.act(seed, "clerk", "submit")
    for username in ("head", "deputy", "permsec", "chief"):
        assert api.act(seed, username, "approve", PHRASE).status_code == 200
    number = api.call("GET", f"/memos/{seed}", "clerk").json["number"]
    digits = number.split(" ")[-1]  # ๓๔๕๐๑/๑
    assert found(api, "clerk", f"number={digits}") == {seed}
    arabic = digits.translate(str.maketrans("๐๑๒๓๔๕๖๗๘๙", "0123456789"))
    assert found(api, "clerk", f"number={arabic}") == {seed}
    mixed = arabic[:2] + digits[2:]  # "34๕๐๑/๑"
    assert found(api, "clerk", f"number={mixed}") == {seed}
    assert found(api, "clerk", "state=approved") == {seed}


@pytest.mark.parametrize("cap", ["walk", "candidates"])
def test_search_never_returns_a_memo_the_reader_could_not_open(
        app: Flask, demo: dict[str, int], api: Any, cap: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Both ways a search finds a reader's memos: walking the office's memos (a reader named
    by more than CANDIDATES_MAX rows; here, with the cap at 0, everyone but who is named by
    none) and from the memos that name them (everyone, with the cap as it ships)."""
    from workflow.memos import lists

    # Each way from a fresh count.
    monkeypatch.setattr(lists, "_NAMED_BY_MANY", PlanHints(seconds=300.0, entries=10))
    if cap == "walk":
        monkeypatch.setattr(lists, "CANDIDATES_MAX", 0)
    seed = demo["memo_id"]
    draft = create(api, "ร่างลับของผู้ร่าง ความก้าวหน้า")
    with app.app_context(), db.write() as session:
        office = session.exec(select(Organization)).first()
        assert office is not None
        outsider = make_user(session, office=office, username="finance", roles="signer")
        make_position(session, office=office, holder=outsider, title="ผู้อำนวยการกองการศึกษา")
    query = "q=ความก้าวหน้า"
    assert found(api, "clerk", query) == {seed, draft}  # the drafter
    assert found(api, "auditor", query) == {seed, draft}  # oversees the office
    assert found(api, "head", query) == set()  # a draft is not the signers' yet
    api.act(seed, "clerk", "submit")
    assert found(api, "head", query) == {seed}  # on the route now
    assert found(api, "finance", query) == set()  # a signer of no step of it

    # An acting officer for the deputy reads what waits at the post while appointed.
    api.act(seed, "head", "approve", PHRASE)
    with app.app_context(), db.write() as session:
        finance = session.exec(select(User).where(User.username == "finance")).one()
        deputy_post = session.exec(select(User).where(User.username == "deputy")).one()
        from workflow.models import Position

        post = session.exec(select(Position).where(Position.holder_id == deputy_post.id)).one()
        appointment = Appointment(org_id=post.org_id, position_id=post.id or 0,
                                  acting_user_id=finance.id or 0, starts_on=office_today(),
                                  ends_on=office_today() + timedelta(days=3), order_no="๑/๒๕๖๙",
                                  created_by_id=deputy_post.id or 0)
        session.add(appointment)
    assert found(api, "finance", query) == {seed}
    with app.app_context(), db.write() as session:
        row = session.get(Appointment, appointment.id)
        assert row is not None
        row.ended_at = clock.now()
        row.ends_on = office_today() - timedelta(days=1)
    assert found(api, "finance", query) == set()


@pytest.mark.parametrize(("query", "status"), [
    ("from=1/1/99999", 422), ("to=31/2/2569", 422), ("q=" + "ก" * 10_000, 422),
    ("number=" + "๑" * 300, 422), ("state=nonsense", 422), ("urgency=fast", 422),
    ("q=%00", 400), ("number=%00a", 400), ("before=not-a-cursor", 422),
    ("before=1700000000000000.x", 422), ("from=1/6/2569&to=1/1/2569", 422),
])
def test_bad_search_input_is_refused_in_thai(app: Flask, demo: dict[str, int], api: Any,
                                             auth: Any, client: Any, query: str,
                                             status: int) -> None:
    response = search(api, "clerk", query)
    assert response.status_code == status, response.json
    assert response.json["message"] and response.json["message_en"]
    auth.login("clerk")
    page = client.get(f"/inbox?{query}")
    assert page.status_code == status
    assert "Traceback" not in page.get_data(as_text=True)


def test_a_number_is_found_as_printed_even_in_mixed_digits(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """An office numbering in Arabic digits under a Thai-digit prefix prints "สป ๓๔๕๐๑/1"."""
    from workflow.models import Memo

    with app.app_context(), db.write() as session:
        memo = session.get(Memo, demo["memo_id"])
        assert memo is not None
        memo.number = "สป ๓๔๕๐๑/1"
    assert found(api, "clerk", "number=สป ๓๔๕๐๑/1") == {demo["memo_id"]}


def test_a_whole_number_is_found_by_its_running_part_and_still_matched_whole(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """The index is asked for the part after the slash (``search._number_contains``); the
    whole text typed must still be in the number, prefix and all, in either digits."""
    from workflow.models import Memo

    numbers = {"สป ๓๔๕๐๑/๑๒๓": demo["memo_id"]}
    with app.app_context(), db.write() as session:
        seed = session.get(Memo, demo["memo_id"])
        assert seed is not None
        seed.number = "สป ๓๔๕๐๑/๑๒๓"
    for number in ("สป ๓๔๕๐๑/๑๒๓๔", "สป ๓๔๕๐๒/๑๒๓", "สป ๓๔๕๐๑/๙๑๒๓"):
        memo_id = create(api, f"บันทึกเลขที่ {number}")
        with app.app_context(), db.write() as session:
            memo = session.get(Memo, memo_id)
            assert memo is not None
            memo.number = number
        numbers[number] = memo_id
    assert found(api, "clerk", "number=สป ๓๔๕๐๑/๑๒๓") == {
        numbers["สป ๓๔๕๐๑/๑๒๓"], numbers["สป ๓๔๕๐๑/๑๒๓๔"]}
    assert found(api, "clerk", "number=34501/9123") == {numbers["สป ๓๔๕๐๑/๙๑๒๓"]}
    assert found(api, "clerk", "number=๓๔๕๐๒/๑๒๓") == {numbers["สป ๓๔๕๐๒/๑๒๓"]}
    assert found(api, "clerk", "number=/๑๒๓") == set(numbers.values()) - {
        numbers["สป ๓๔๕๐๑/๙๑๒๓"]}  # the slash too must be in the number
    assert found(api, "clerk", "number=๓๔๕๐๙/๑๒๓") == set()
    # Latin letters ignore case on both parts; % and _ are characters, not wildcards.
    with app.app_context(), db.write() as session:
        memo = session.get(Memo, numbers["สป ๓๔๕๐๒/๑๒๓"])
        assert memo is not None
        memo.number = "AB_1/100%"
    assert found(api, "clerk", "number=ab_1/100%25") == {numbers["สป ๓๔๕๐๒/๑๒๓"]}
    assert found(api, "clerk", "number=abx1/100%25") == set()  # _ is not any character
    assert found(api, "clerk", "number=ab_1/1000") == set()  # % is not any characters
    assert found(api, "clerk", "number=B_1/1") == {numbers["สป ๓๔๕๐๒/๑๒๓"]}  # a short tail


def test_one_or_two_characters_of_a_number_are_found_wherever_they_are(
        app: Flask, demo: dict[str, int], api: Any, backend: str) -> None:
    """One or two characters give the trigram index nothing; on PostgreSQL the number's
    pieces are asked instead (migration 0026), for Latin letters in every case. The memos
    found are those whose number contains them, in either digits, any case for Latin
    letters, % and _ as characters."""
    from workflow.models import Memo

    numbers = {"สป ๓๔๕๐๑/๑๒": demo["memo_id"]}
    for number in ("สป ๓๔๕๐๑/๑๑๒", "สป ๓๔๕๐๑/๒๑", "AB_1/5", "Ab%1/6", "ok\u212a/7"):
        numbers[number] = create(api, f"บันทึกเลขที่ {number}")
    with app.app_context(), db.write() as session:
        for number, memo_id in numbers.items():
            memo = session.get(Memo, memo_id)
            assert memo is not None
            memo.number = number
    thai = set(numbers.values()) - {numbers["AB_1/5"], numbers["Ab%1/6"], numbers["ok\u212a/7"]}
    twelve = {numbers["สป ๓๔๕๐๑/๑๒"], numbers["สป ๓๔๕๐๑/๑๑๒"]}
    for query in ("number=๑๒", "number=ab", "number=a", "number=๕"):
        with statements(app) as sent:
            found(api, "clerk", query)
        assert any("memo_number_grams" in s for s in sent) == (backend == "postgresql"), query
    assert found(api, "clerk", "number=๑๒") == twelve
    assert found(api, "clerk", "number=12") == twelve
    assert found(api, "clerk", "number= ๒๑ ") == {numbers["สป ๓๔๕๐๑/๒๑"]}
    assert found(api, "clerk", "number=๒๒") == set()
    assert found(api, "clerk", "number=b_") == {numbers["AB_1/5"]}
    assert found(api, "clerk", "number=B%25") == {numbers["Ab%1/6"]}
    assert found(api, "clerk", "number=bx") == set()  # _ is not any character
    assert found(api, "clerk", "number=๓๔") == thai
    # One character: as typed, in the other digits, in the other case.
    assert found(api, "clerk", "number=๕") == thai | {numbers["AB_1/5"]}
    assert found(api, "clerk", "number=6") == {numbers["Ab%1/6"]}
    assert found(api, "clerk", "number=a") == {numbers["AB_1/5"], numbers["Ab%1/6"]}
    assert found(api, "clerk", "number=%25") == {numbers["Ab%1/6"]}
    assert found(api, "clerk", "number=_") == {numbers["AB_1/5"]}
    assert found(api, "clerk", "number=ข") == set()
    # Whatever the database's ILIKE takes for "ok" (the Kelvin sign is lowered to k by
    # PostgreSQL, not by SQLite), the index is asked for it too and finds the same memos.
    with app.app_context(), db.write() as session:
        expected = set(session.exec(select(Memo.id).where(
            Memo.number.ilike("%ok%"))).all())  # type: ignore[union-attr]
        assert numbers["ok\u212a/7"] in expected
    assert found(api, "clerk", "number=OK") == expected
    # Letters with a case outside Latin's 26 are matched in any case by ILIKE alone, as the
    # database folds them (which depends on its locale): the pieces are not asked.
    with app.app_context(), db.write() as session:
        memo = session.get(Memo, numbers["AB_1/5"])
        assert memo is not None
        memo.number = "ΣX/7"
        session.flush()
        expected = set(session.exec(select(Memo.id).where(
            Memo.number.ilike("%σx%"))).all())  # type: ignore[union-attr]
    with statements(app) as sent:
        assert found(api, "clerk", "number=σx") == expected
    assert not any("memo_number_grams" in s for s in sent)


@pytest.mark.postgres_only
@pytest.mark.parametrize("number", ["๑๒", "a", "Ok"])
def test_a_short_number_search_reads_the_grams_index(
        app: Flask, demo: dict[str, int], api: Any, backend: str, number: str) -> None:
    """The search's expression is the index's: were they to drift apart, PostgreSQL would
    read every memo of the office again, and only the timing would tell."""
    if backend != "postgresql":
        pytest.skip("the grams index is PostgreSQL's")
    from sqlalchemy import text

    from workflow.memos.search import MemoSearch, bound, conditions
    from workflow.models import Memo

    shape, params = bound(MemoSearch(number=number), grams=True)
    # Without the office, so that the grams index is the only one that can serve the query.
    query = select(Memo.id).where(*conditions(shape))
    with app.app_context(), db.write() as session:
        # Too few memos here for an index to win on cost: the planner is told to use one.
        session.execute(text("SET LOCAL enable_seqscan = off"))
        compiled = query.compile(dialect=session.get_bind().dialect)
        connection = session.connection()
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(
            f"EXPLAIN {compiled}", compiled.construct_params(params)))
        assert "ix_memo_number_grams" in plan, plan


@pytest.mark.postgres_only
def test_the_grams_of_a_number_are_its_pieces_of_one_and_two_characters_as_written(
        app: Flask, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the grams function is PostgreSQL's")
    from sqlalchemy import text

    with app.app_context(), db.write() as session:
        def grams(number: str) -> set[str]:
            return set(session.execute(text("SELECT memo_number_grams(:n)"),
                                       {"n": number}).scalar_one())

        assert grams("Ab/๑๒๑๒") == {"A", "b", "/", "๑", "๒",
                                    "Ab", "b/", "/๑", "๑๒", "๒๑"}
        assert grams("7") == {"7"}
        assert grams("") == set()


def test_the_ways_of_a_short_search_are_every_case_and_both_digits() -> None:
    from workflow.memos.search import MemoSearch, bound

    def ways(number: str) -> list[str] | None:
        return bound(MemoSearch(number=number), grams=True)[1].get("search_number_grams")

    assert ways("๑2") == ["12", "๑2", "๑๒"]  # as typed, and all in one script or the other
    assert ways("k") == ["K", "k", "\u212a"]
    assert ways("i/") == ["I/", "i/", "\u0130/"]
    assert ways("σ") is None  # ILIKE alone
    # A letter with a case beside a character that is neither ASCII nor Thai: an ICU
    # collation may lower İ to i and a combining dot, which these pieces would miss.
    assert ways("i\u0307") is None
    assert ways("ก1") == ["ก1", "ก๑"]  # Thai has no case
    assert ways("\u0307") == ["\u0307"]  # no case: LIKE, as written
    assert ways("abc") is None  # three characters: the trigram index
    assert bound(MemoSearch(number="ab"))[1].get("search_number_grams") is None  # SQLite


def test_a_reader_found_named_by_many_is_not_counted_again(
        app: Flask, demo: dict[str, int], api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Once a reader is counted over CANDIDATES_MAX, their next searches skip the count for a
    while (one statement fewer)."""
    from workflow.memos import lists

    monkeypatch.setattr(lists, "_NAMED_BY_MANY", PlanHints(seconds=300.0, entries=10))
    monkeypatch.setattr(lists, "CANDIDATES_MAX", 0)
    api.act(demo["memo_id"], "clerk", "submit")
    found(api, "head", "q=ความก้าวหน้า")  # signed in, and the statements built
    lists._NAMED_BY_MANY.clear()
    counts: list[int] = []
    for _ in range(2):
        with statements(app) as sent:
            assert found(api, "head", "q=ความก้าวหน้า") == {demo["memo_id"]}
        counts.append(len(sent))
    assert counts[1] == counts[0] - 1, counts
    assert len(lists._NAMED_BY_MANY) == 1


def test_a_stale_entry_of_the_named_by_many_changes_no_answer(
        app: Flask, demo: dict[str, int], api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader whom few rows name, wrongly remembered as named by many, is walked rather
    than served from their candidates: slower, but ``_may_open`` finds the same memos."""
    from workflow.memos import lists

    monkeypatch.setattr(lists, "_NAMED_BY_MANY", PlanHints(seconds=300.0, entries=10))
    draft = create(api, "ร่างของผู้ร่าง ความก้าวหน้า")
    api.act(demo["memo_id"], "clerk", "submit")
    queries = ["q=ความก้าวหน้า", "box=all", "state=draft"]
    users = ["clerk", "head", "deputy", "kongklang"]
    fresh = {(user, query): found(api, user, query) for user in users for query in queries}
    assert fresh[("clerk", "q=ความก้าวหน้า")] == {demo["memo_id"], draft}
    assert fresh[("head", "q=ความก้าวหน้า")] == {demo["memo_id"]}
    assert not lists._NAMED_BY_MANY  # each is named by a handful of rows: candidates
    from workflow.identity.principal import principal_for

    with app.app_context():
        readers = {u.username: u for u in db.session.exec(select(User)).all()}
        for user in users:
            principal = principal_for(db.session, readers[user])
            positions = tuple(sorted({*principal.position_ids,
                                      *(a.position_id for a in principal.acting)}))
            lists._NAMED_BY_MANY.add((principal.org_id, principal.user_id, positions))

    def never(*_: Any) -> None:
        raise AssertionError("counted: the remembered entry was not used")

    monkeypatch.setattr(lists, "_naming_count", never)
    assert {(user, query): found(api, user, query)
            for user in users for query in queries} == fresh


def test_latin_letters_are_found_in_any_case_and_thai_words_as_written(
        app: Flask, demo: dict[str, int], api: Any) -> None:
    """A word with Latin letters ignores case (ILIKE); a Thai word has no case, so the search
    compares it as written (LIKE, which PostgreSQL runs faster): both find the same memos."""
    computers = create(api, "ขออนุมัติซ่อมแซมเครื่อง Computer และ UPS")
    road = create(api, "ขออนุมัติซ่อมแซมถนน ม.๓")
    assert found(api, "clerk", "q=computer") == {computers}
    assert found(api, "clerk", "q=COMPUTER ups") == {computers}
    assert found(api, "clerk", "q=ซ่อมแซม") == {computers, road}
    assert found(api, "clerk", "q=ม.๓") == {road}
    assert found(api, "clerk", "q=ซ่อมแซม cOmPuTeR") == {computers}
    assert found(api, "clerk", "drafter=พิมพ์ชนก&q=ถนน") == {road}
