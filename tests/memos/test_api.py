"""The JSON API under /api/v1: the seed memo up its route, editing, boxes, OpenAPI, tokens."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlmodel import select

from workflow.demo.seed import PEOPLE
from workflow.extensions import db
from workflow.memos import commands
from workflow.models import Decision, MemoCreate

SIGNERS = ("head", "deputy", "permsec", "chief")
FULL_NAMES = {username: full_name for username, full_name, _, _ in PEOPLE}
TITLES = {username: title for username, _, _, title in PEOPLE}
ENDORSEMENTS = {
    "head": "เพื่อโปรดพิจารณา",
    "deputy": "เห็นชอบ เพื่อโปรดพิจารณา",
    "permsec": "เห็นควรนำเรียนนายกเพื่อโปรดทราบ",
    "chief": "ทราบ อนุมัติตามเสนอ",
}
CREATED_KEYS = {"id", "state", "version", "number", "current_step"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    """The JSON body of a response that must have ``status``."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """The JSON error body of a refusal with ``status`` and error ``code``."""
    body = ok(response, status)
    assert body["error"] == code, body
    assert body["message"] and body["message_en"], body
    return body


def without_receipts(memo: dict[str, Any]) -> dict[str, Any]:
    """The memo without its steps' read receipts (opened_at), which reading itself sets."""
    steps = [{k: v for k, v in step.items() if k != "opened_at"} for step in memo["steps"]]
    return {**memo, "steps": steps}


def read(api: Any, memo_id: int, username: str = "clerk") -> dict[str, Any]:
    """GET one memo as ``username`` (without read receipts, so two reads compare equal)."""
    return without_receipts(ok(api.call("GET", f"/memos/{memo_id}", username)))


def act(api: Any, memo_id: int, username: str, action: str, comment: str = "",
        **extra: Any) -> dict[str, Any]:
    """Take an action that must succeed; the memo as a fresh GET by the actor shows it after."""
    ok(api.act(memo_id, username, action, comment, **extra))
    return read(api, memo_id, username)


def patch(api: Any, memo_id: int, username: str, **fields: Any) -> dict[str, Any]:
    """Edit a memo, which must succeed; the memo as a fresh GET shows it after."""
    ok(api.call("PATCH", f"/memos/{memo_id}", username, json=fields))
    return read(api, memo_id, username)


MEMO_FIELDS = {
    "subject": "ขออนุมัติจัดซื้อวัสดุสำนักงาน",
    "addressee": "นายกองค์การบริหารส่วนตำบลท่าตูม",
    "urgency": "normal",
    "body": "<p>ด้วยสำนักปลัดมีความจำเป็นต้องจัดซื้อวัสดุสำนักงาน</p>",
}


def make_memo(app: Any, drafter_id: int, **overrides: Any) -> int:
    """Create a draft through the service (a factory for tests that are not about creating)."""
    with app.app_context():
        memo = commands.create_memo(actor_id=drafter_id,
                                    memo_create=MemoCreate(**{**MEMO_FIELDS, **overrides}))
    assert memo.id is not None
    return memo.id


def approve_all(api: Any, memo_id: int, version: int) -> dict[str, Any]:
    """Each signer in turn approves with an endorsement; returns the memo after the chief."""
    memo: dict[str, Any] = {}
    for step_no, username in enumerate(SIGNERS, start=1):
        before = read(api, memo_id, username)
        assert before["state"] == f"pending_{step_no}"
        assert before["current_step"] == step_no
        assert before["version"] == version
        assert before["allowed_actions"] == ["approve", "send_back", "reject"]
        memo = act(api, memo_id, username, "approve", ENDORSEMENTS[username], version=version)
        version += 1
        assert memo["version"] == version
    return memo


def approvals(decisions: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The approve decisions as (step_no, actor_name, position_title, comment)."""
    return [(d["step_no"], d["actor_name"], d["position_title"], d["comment"])
            for d in decisions if d["action"] == "approve"]


EXPECTED_APPROVALS = [
    (step_no, FULL_NAMES[u], TITLES[u], ENDORSEMENTS[u])
    for step_no, u in enumerate(SIGNERS, start=1)
]


def test_seed_memo_up_the_whole_route_through_the_api(api, demo):
    """Clerk submits the seed memo; head, deputy, permsec and chief approve with endorsements."""
    memo_id = demo["memo_id"]
    draft = read(api, memo_id)
    assert (draft["state"], draft["version"], draft["current_step"]) == ("draft", 1, None)
    assert draft["allowed_actions"] == ["submit"]
    assert draft["decisions"] == []

    submitted = act(api, memo_id, "clerk", "submit", version=1)
    assert (submitted["state"], submitted["version"], submitted["current_step"]) == (
        "pending_1", 2, 1)
    assert submitted["round"] == 1
    assert [s["status"] for s in submitted["steps"]] == ["pending", "waiting", "waiting",
                                                        "waiting"]

    # Only the signer the memo waits for may act, and nobody may skip ahead.
    refused(api.act(memo_id, "deputy", "approve", "เห็นชอบ"), 403, "not_your_turn")
    assert read(api, memo_id)["version"] == 2

    final = approve_all(api, memo_id, version=2)
    assert final["state"] == "approved"
    assert final["state_label"] == "อนุมัติแล้ว"
    assert final["current_step"] is None
    assert final["version"] == 6
    assert final["allowed_actions"] == []

    memo = read(api, memo_id)
    assert memo == final
    assert [s["status"] for s in memo["steps"]] == ["approved"] * 4
    assert [(s["position_title"], s["holder_name"]) for s in memo["steps"]] == [
        (TITLES[u], FULL_NAMES[u]) for u in SIGNERS]
    decisions = memo["decisions"]
    assert [d["action"] for d in decisions] == ["submit", "approve", "approve", "approve",
                                                "approve"]
    assert decisions[0]["actor_name"] == FULL_NAMES["clerk"]
    assert approvals(decisions) == EXPECTED_APPROVALS
    assert [(d["state_before"], d["state_after"]) for d in decisions[1:]] == [
        ("pending_1", "pending_2"), ("pending_2", "pending_3"), ("pending_3", "pending_4"),
        ("pending_4", "approved")]
    assert {d["round"] for d in decisions} == {1}
    assert [d["actor_id"] for d in decisions[1:]] == [demo[f"user_{u}"] for u in SIGNERS]

    # A decided memo takes no more actions.
    refused(api.act(memo_id, "chief", "approve", "อนุมัติ"), 409, "illegal_transition")
    assert read(api, memo_id) == final


def test_send_back_edit_resubmit_and_approve_again(api, demo):
    """Permsec sends back with a reason; the clerk edits and resubmits; all four approve again."""
    memo_id = demo["memo_id"]
    act(api, memo_id, "clerk", "submit")
    act(api, memo_id, "head", "approve", ENDORSEMENTS["head"])
    act(api, memo_id, "deputy", "approve", ENDORSEMENTS["deputy"])
    at_permsec = read(api, memo_id, "permsec")
    assert at_permsec["current_step"] == 3

    body = refused(api.act(memo_id, "permsec", "send_back", "   "), 422, "reason_required")
    assert body["message"] == "กรุณาระบุเหตุผล"
    assert read(api, memo_id, "permsec") == at_permsec

    reason = "ส่งกลับแก้ไข เนื่องจากยังไม่ได้แนบตัวเลขงบประมาณ"
    returned = act(api, memo_id, "permsec", "send_back", reason, version=at_permsec["version"])
    assert returned["state"] == "returned"
    assert returned["current_step"] is None
    assert [s["status"] for s in returned["steps"]] == ["approved", "approved", "sent_back",
                                                       "cancelled"]
    assert read(api, memo_id)["allowed_actions"] == ["resubmit"]
    version = returned["version"]

    # The clerk edits without a version (last write wins) ...
    edited = patch(api, memo_id, "clerk", body="<p>แก้ไขแล้ว ครั้งที่ ๑</p>")
    assert edited["body"] == "<p>แก้ไขแล้ว ครั้งที่ ๑</p>"
    assert edited["version"] == version + 1
    assert edited["state"] == "returned"
    # ... and with the version they started from ...
    edited = patch(api, memo_id, "clerk", subject="เรื่องที่แก้ไขแล้ว", version=version + 1)
    assert edited["subject"] == "เรื่องที่แก้ไขแล้ว"
    assert edited["version"] == version + 2
    # ... but not from a version someone has moved past.
    stale = refused(api.call("PATCH", f"/memos/{memo_id}", "clerk",
                             json={"subject": "ทับของเดิม", "version": version}),
                    409, "stale_version")
    assert stale["details"] == {"version": version + 2}
    assert read(api, memo_id) == edited

    resubmitted = act(api, memo_id, "clerk", "resubmit", version=version + 2)
    assert resubmitted["state"] == "pending_1"
    assert resubmitted["current_step"] == 1
    assert resubmitted["round"] == 2
    assert [s["status"] for s in resubmitted["steps"]] == ["pending", "waiting", "waiting",
                                                          "waiting"]

    final = approve_all(api, memo_id, version=version + 3)
    assert final["state"] == "approved"
    decisions = read(api, memo_id)["decisions"]
    assert [(d["round"], d["action"], d["actor_name"]) for d in decisions] == [
        (1, "submit", FULL_NAMES["clerk"]),
        (1, "approve", FULL_NAMES["head"]),
        (1, "approve", FULL_NAMES["deputy"]),
        (1, "send_back", FULL_NAMES["permsec"]),
        (2, "resubmit", FULL_NAMES["clerk"]),
        (2, "approve", FULL_NAMES["head"]),
        (2, "approve", FULL_NAMES["deputy"]),
        (2, "approve", FULL_NAMES["permsec"]),
        (2, "approve", FULL_NAMES["chief"]),
    ]
    send_back = decisions[3]
    assert (send_back["comment"], send_back["position_title"], send_back["step_no"]) == (
        reason, TITLES["permsec"], 3)
    assert approvals(decisions)[2:] == EXPECTED_APPROVALS



def test_a_withdrawal_is_the_drafters_not_the_signers(app, demo, api):
    """Withdrawing records the drafter acting as drafter, not in the waiting signer's position."""
    memo_id = demo["memo_id"]
    api.act(memo_id, "clerk", "submit")
    api.act(memo_id, "clerk", "withdraw", "ถอนเพื่อแก้ไขใหม่")
    with app.app_context():
        last = db.session.exec(select(Decision).order_by(Decision.id.desc())).first()
    assert (last.action, last.position_title, last.step_no) == ("withdraw", "ผู้ร่าง", None)


def test_create_answers_with_the_new_draft(api, demo):
    """POST /memos creates a draft and answers 201 with id, state, version, number, step."""
    response = api.call("POST", "/memos", "clerk", json={**MEMO_FIELDS, "urgency": "urgent"})
    memo = without_receipts(ok(response, 201))
    assert CREATED_KEYS <= memo.keys()
    assert isinstance(memo["id"], int) and memo["id"] != demo["memo_id"]
    assert (memo["state"], memo["version"], memo["number"], memo["current_step"]) == (
        "draft", 1, None, None)
    assert memo["urgency"] == "urgent"
    assert memo["subject"] == MEMO_FIELDS["subject"]
    assert memo["drafter_id"] == demo["user_clerk"]
    assert memo["drafter_name"] == FULL_NAMES["clerk"]
    assert memo["round"] == 0
    assert [s["position_title"] for s in memo["steps"]] == [TITLES[u] for u in SIGNERS]
    assert read(api, memo["id"]) == memo


def test_create_saves_exactly_one_draft(app, api, demo):
    """Whatever POST /memos answers, it saves one draft in the caller's office, on its route."""
    before = box(api, "clerk", "mine")
    api.call("POST", "/memos", "clerk", json=MEMO_FIELDS)
    after = box(api, "clerk", "mine")
    assert len(after) == len(before) + 1
    memo = read(api, after[0])
    assert (memo["state"], memo["version"], memo["number"], memo["current_step"]) == (
        "draft", 1, None, None)
    assert memo["subject"] == MEMO_FIELDS["subject"]


@pytest.mark.parametrize("write", ["patch", "submit", "approve"])
def test_answer_to_a_write_shows_the_memo_after_it(api, demo, write):
    """The body answering a PATCH or an action is the memo after the change, as GET shows it."""
    memo_id = demo["memo_id"]
    if write == "patch":
        response = api.call("PATCH", f"/memos/{memo_id}", "clerk",
                            json={"subject": "เรื่องใหม่", "version": 1})
    elif write == "submit":
        response = api.act(memo_id, "clerk", "submit", version=1)
    else:
        act(api, memo_id, "clerk", "submit")
        response = api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา", version=2)
    answered = without_receipts(ok(response))
    assert answered == read(api, memo_id, "clerk" if write != "approve" else "head")
    assert answered["version"] == (2 if write != "approve" else 3)


def test_patch_a_draft_by_its_drafter(app, api, demo):
    """The drafter edits a draft; only the fields sent change and the version goes up by one."""
    memo_id = make_memo(app, demo["user_clerk"])
    edited = patch(api, memo_id, "clerk", addressee="ปลัดองค์การบริหารส่วนตำบลท่าตูม", version=1)
    assert edited["addressee"] == "ปลัดองค์การบริหารส่วนตำบลท่าตูม"
    assert edited["subject"] == MEMO_FIELDS["subject"]
    assert edited["version"] == 2
    # Sending what is already there is not a change.
    assert patch(api, memo_id, "clerk", addressee="ปลัดองค์การบริหารส่วนตำบลท่าตูม") == edited


@pytest.mark.parametrize("state", ["pending_1", "approved", "withdrawn"])
def test_patch_refused_outside_draft_and_returned(api, demo, state):
    """PATCH on a memo that is pending, approved or withdrawn is 409 and changes nothing."""
    memo_id = demo["memo_id"]
    act(api, memo_id, "clerk", "submit")
    if state == "approved":
        approve_all(api, memo_id, version=2)
    elif state == "withdrawn":
        act(api, memo_id, "clerk", "withdraw", "ขอถอนเรื่อง")
    before = read(api, memo_id)
    assert before["state"] == state
    body = refused(api.call("PATCH", f"/memos/{memo_id}", "clerk",
                            json={"subject": "แก้ไขหลังเสนอแล้ว", "version": before["version"]}),
                   409, "not_editable")
    assert body["details"] == {"state": state}
    assert read(api, memo_id) == before


@pytest.mark.parametrize(("username", "submitted", "code"), [
    ("admin", False, "not_drafter"),     # sees every memo of the office, drafts none of these
    ("auditor", False, "not_drafter"),
    ("head", False, "memo_forbidden"),   # a draft is not yet the signers' to read
    ("head", True, "not_drafter"),
])
def test_patch_only_by_the_drafter(api, demo, username, submitted, code):
    """Someone other than the drafter may not PATCH (403), whatever they may read."""
    memo_id = demo["memo_id"]
    if submitted:
        act(api, memo_id, "clerk", "submit")
        act(api, memo_id, "head", "approve", "เพื่อโปรดพิจารณา")
        act(api, memo_id, "deputy", "send_back", "โปรดแก้ไขตามที่เกษียนไว้")
    before = read(api, memo_id)
    refused(api.call("PATCH", f"/memos/{memo_id}", username, json={"subject": "ของคนอื่น"}),
            403, code)
    assert read(api, memo_id) == before


def box(api: Any, username: str, name: str | None) -> list[int]:
    """The ids listed in one box of ``username`` (the default box when ``name`` is None)."""
    query = "" if name is None else f"?box={name}"
    body = ok(api.call("GET", f"/memos{query}", username))
    assert body["box"] == (name or "inbox")
    return [item["id"] for item in body["items"]]


def test_boxes_follow_the_memo_up_the_route(app, api, demo):
    """inbox, mine, decided and all list the right memos for each user as the seed memo moves."""
    seed = demo["memo_id"]
    other = make_memo(app, demo["user_clerk"], subject="ร่างที่ยังไม่เสนอ")

    assert box(api, "clerk", "mine") == [other, seed]  # most recently changed first
    assert box(api, "clerk", "inbox") == []
    assert sorted(box(api, "clerk", "all")) == sorted([seed, other])
    assert box(api, "head", "inbox") == []
    assert box(api, "head", "all") == []  # nobody else's drafts
    assert sorted(box(api, "auditor", "all")) == sorted([seed, other])
    assert sorted(box(api, "admin", "all")) == sorted([seed, other])

    act(api, seed, "clerk", "submit")
    assert box(api, "head", "inbox") == [seed]
    assert box(api, "head", None) == [seed]
    assert box(api, "head", "all") == [seed]
    assert box(api, "deputy", "inbox") == []
    assert box(api, "head", "decided") == []

    act(api, seed, "head", "approve", "เพื่อโปรดพิจารณา")
    assert box(api, "head", "inbox") == []
    assert box(api, "head", "decided") == [seed]
    assert box(api, "deputy", "inbox") == [seed]
    assert box(api, "clerk", "decided") == []  # submitting is not deciding

    summary = ok(api.call("GET", "/memos?box=inbox", "deputy"))["items"][0]
    assert summary["state"] == "pending_2"
    assert summary["current_step"] == 2
    assert summary["drafter_name"] == FULL_NAMES["clerk"]
    assert summary["state_label"].startswith("รอพิจารณา ลำดับที่")


@pytest.mark.parametrize("name", ["outbox", "INBOX", "", "inbox;drop"])
def test_unknown_box_is_422(api, demo, name):
    """An unknown box name is refused with 422 and a Thai message."""
    body = refused(api.call("GET", "/memos", "clerk", query_string={"box": name}),
                   422, "unknown_box")
    assert body["message"] == "ไม่รู้จักกล่องนี้"


def _resolve(document: dict[str, Any], ref: str) -> Any:
    """Follow a local JSON pointer such as ``#/components/schemas/MemoPublic``."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"unresolved $ref {ref}"
        node = node[part]
    return node


def _refs(node: Any) -> list[str]:
    """Every ``$ref`` anywhere under ``node``."""
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def test_openapi_document_is_openapi_3_and_every_ref_resolves(client, demo):
    """/api/v1/openapi.json is public, looks like OpenAPI 3, and all its $refs resolve."""
    document = ok(client.get("/api/v1/openapi.json"))
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] and document["info"]["version"]
    paths = document["paths"]
    assert {"/auth/token", "/memos", "/memos/{memo_id}", "/memos/{memo_id}/actions"} <= set(paths)
    assert {"post", "delete"} <= set(paths["/auth/token"])
    assert {"get", "post"} <= set(paths["/memos"])
    assert {"get", "patch"} <= set(paths["/memos/{memo_id}"])
    assert "post" in paths["/memos/{memo_id}/actions"]
    methods = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    for path, item in paths.items():
        for method, operation in item.items():
            if method in methods:
                assert operation["responses"], (path, method)
    schemas = document["components"]["schemas"]
    assert {"MemoCreate", "MemoPublic", "Error"} <= set(schemas)
    assert set(schemas["Error"]["required"]) == {"error", "message", "message_en"}
    assert {"subject", "addressee"} <= set(schemas["MemoCreate"]["required"])
    assert set(schemas["ActionRequest"]["properties"]["action"]["enum"]) == {
        "submit", "approve", "send_back", "resubmit", "reject", "withdraw"}

    refs = _refs(document)
    assert len(refs) > 10
    for ref in refs:
        target = _resolve(document, ref)
        assert isinstance(target, dict) and target, ref
    assert {r.rsplit("/", 1)[-1] for r in refs} >= {"MemoCreate", "MemoPublic", "Error"}


def test_revoked_token_is_refused_on_the_next_call(client, demo):
    """DELETE /auth/token revokes the calling token: the next call is 401; other tokens live."""
    def issue() -> str:
        body = ok(client.post("/api/v1/auth/token",
                              json={"username": "clerk", "password": "demo"}), 201)
        assert body["token_type"] == "bearer"
        assert body["user"]["username"] == "clerk"
        return str(body["token"])

    first, second = issue(), issue()
    assert first != second
    headers = {"Authorization": f"Bearer {first}"}
    assert client.get("/api/v1/memos", headers=headers).status_code == 200

    response = client.delete("/api/v1/auth/token", headers=headers)
    assert response.status_code == 204
    assert response.get_data() == b""

    refused(client.get("/api/v1/memos", headers=headers), 401, "invalid_token")
    refused(client.delete("/api/v1/auth/token", headers=headers), 401, "invalid_token")
    other = {"Authorization": f"Bearer {second}"}
    assert client.get(f"/api/v1/memos/{demo['memo_id']}", headers=other).status_code == 200


def test_every_api_route_is_in_the_generated_document(app, client):
    """Each /api/v1 route declares its operation, so the document has them all: tokens,
    memos, actions, attachments, the PDF and the audit trail, each with its error answers."""
    from workflow.api.contract import undeclared_routes

    assert undeclared_routes(app) == []
    document = ok(client.get("/api/v1/openapi.json"))
    operations = {(method.upper(), path): spec
                  for path, item in document["paths"].items()
                  for method, spec in item.items()
                  if isinstance(spec, dict) and "responses" in spec}
    assert set(operations) == {
        ("POST", "/auth/token"), ("DELETE", "/auth/token"), ("GET", "/memos"),
        ("POST", "/memos"), ("GET", "/memos/{memo_id}"), ("PATCH", "/memos/{memo_id}"),
        ("POST", "/memos/{memo_id}/actions"), ("POST", "/memos/{memo_id}/attachments"),
        ("GET", "/memos/{memo_id}/attachments/{attachment_id}"),
        ("GET", "/memos/{memo_id}/pdf"), ("GET", "/audit"), ("GET", "/memos/{memo_id}/audit"),
        ("GET", "/routes"), ("POST", "/memos/actions"), ("POST", "/verify"),
        ("GET", "/positions"), ("POST", "/positions"), ("PUT", "/positions/{position_id}"),
        ("GET", "/admin/routes"), ("POST", "/routes"), ("PUT", "/routes/{route_id}"),
        ("POST", "/memos/{memo_id}/circulation"), ("GET", "/memos/{memo_id}/circulation"),
        ("POST", "/memos/{memo_id}/acknowledge")}
    for (method, path), spec in operations.items():
        errors = {code for code in spec["responses"] if code.startswith(("4", "5"))}
        assert {"400", "503"} <= errors, (method, path)
        for code in errors:
            body = spec["responses"][code]["content"]["application/json"]["schema"]
            assert body == {"$ref": "#/components/schemas/Error"}, (method, path, code)
        if (path != "/auth/token" or method == "DELETE") and path != "/verify":  # public
            assert "401" in errors, (method, path)
    assert operations[("GET", "/memos/{memo_id}/pdf")]["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    upload = operations[("POST", "/memos/{memo_id}/attachments")]["requestBody"]["content"]
    assert upload["multipart/form-data"]["schema"]["required"] == ["file"]
    limit = next(p for p in operations[("GET", "/memos")]["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 500
    subject = document["components"]["schemas"]["MemoCreate"]["properties"]["subject"]
    assert subject["minLength"] == 1 and subject["maxLength"] == 300


def test_a_limit_past_the_largest_page_is_refused_not_cut(api, demo):
    """limit=501 is a 422 naming the field, as the document's maximum says."""
    body = refused(api.call("GET", "/memos", "clerk", query_string={"limit": "501"}),
                   422, "validation_failed")
    assert "limit" in body["details"]["fields"]
    assert ok(api.call("GET", "/memos", "clerk", query_string={"limit": "500"}))["box"] == "inbox"


def test_the_docs_page_serves_swagger_ui_from_this_server(client):
    """/api/v1/docs is a Thai page that loads Swagger UI and its script from this server."""
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and "คู่มือ API" in page.text
    for asset in re.findall(r'(?:src|href)="(/[^"]+)"', page.text):
        with client.get(asset) as response:
            assert response.status_code == 200, asset
    assert client.get("/api/v1/docs/assets/../../../etc/passwd").status_code == 404
    assert client.get("/api/v1/docs/assets/index.html").status_code == 404


def test_the_routes_a_memo_may_go_up(api, demo):
    """GET /routes lists the office's routes with their steps (the default first): what
    route_id names; a group's members and a step's condition included."""
    routes = ok(api.call("GET", "/routes", "clerk"))["items"]
    assert [r["id"] for r in routes] == [demo["route_id"], demo["procurement_route_id"]]
    first, procurement = routes
    assert first["is_default"] and not first["asks_amount"]
    assert first["steps"][0]["positions"][0]["title"] == "หัวหน้าสำนักปลัด"
    assert len(first["steps"]) == 4
    assert procurement["asks_amount"]
    group = procurement["steps"][1]
    assert ([p["title"] for p in group["positions"]], group["rule"], group["need"]) == (
        ["ผู้อำนวยการกองคลัง", "ผู้อำนวยการกองช่าง"], "all", 2)
    assert procurement["steps"][3]["condition"] == {
        "field": "amount", "op": "gt", "value": "100000",
        "description": "จำนวนเงินเกิน 100,000 บาท"}
