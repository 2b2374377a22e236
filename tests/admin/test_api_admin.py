"""Positions and routes through the API (``workflow/api/admin_api.py``): an administrator's
token lists, creates, changes, retires and restores them, with groups and conditions; every
refusal is the route service's own Thai message, nothing is half-saved, and each change is
an ``admin_change`` audit event as on the admin pages. On both databases.
"""

from __future__ import annotations

import copy
import os
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from sqlmodel import select

from tests.admin.test_administration import admin_events
from tests.support.clients import ApiClient
from workflow.demo.seed import PEOPLE, PROCUREMENT, seed_demo
from workflow.extensions import db
from workflow.memos.routes import MAX_STEPS
from workflow.models import Position
from workflow.steps import GROUP_MAX

TITLES = {username: title for username, _, _, title in PEOPLE}
NAMES = {username: full_name for username, full_name, _, _ in PEOPLE}
ADMIN_OPERATIONS = {("GET", "/positions"), ("POST", "/positions"),
                    ("PUT", "/positions/{position_id}"), ("GET", "/admin/routes"),
                    ("POST", "/routes"), ("PUT", "/routes/{route_id}")}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    return response.get_json()


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    body = ok(response, status)
    assert body["error"] == code, body
    assert body["message"] and body["message_en"], body
    return body  # type: ignore[no-any-return]


def position_ids(api: ApiClient) -> dict[str, int]:
    """Demo username -> the id of the position they hold, read through the API."""
    by_title = {p["title"]: p["id"] for p in ok(api.call("GET", "/positions", "admin"))["items"]}
    return {u: by_title[t] for u, t in TITLES.items() if t}


def procurement_body(ids: dict[str, int], **changes: Any) -> dict[str, Any]:
    """The issue's route: head, then all of กองคลัง and กองช่าง, then ปลัด, then นายก when
    the amount is over 100,000 baht."""
    return {
        "name": "จัดซื้อจัดจ้างผ่านกองคลังและกองช่าง",
        "memo_type": "จัดซื้อจัดจ้าง",
        "is_default": False,
        "steps": [
            {"positions": [ids["head"]]},
            {"positions": [ids["kongklang"], ids["kongchang"]], "rule": "all"},
            {"positions": [ids["permsec"]], "rule": "all", "need": None, "condition": None},
            {"positions": [ids["chief"]],
             "condition": {"field": "amount", "op": "gt", "value": "100,000"}},
        ],
        **changes,
    }


def admin_routes(api: ApiClient) -> dict[int, dict[str, Any]]:
    return {r["id"]: r for r in ok(api.call("GET", "/admin/routes", "admin"))["items"]}


def as_update(route: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A route as the API shows it, turned back into the body of its PUT."""
    steps = [{"positions": [p["id"] for p in s["positions"]], "rule": s["rule"],
              "need": s["need"], "condition": s["condition"]} for s in route["steps"]]
    return {"name": route["name"], "memo_type": route["memo_type"],
            "is_default": route["is_default"], "is_active": route["is_active"],
            "steps": steps, **changes}


def test_the_procurement_route_is_created_read_back_and_offered(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    ids = position_ids(api)
    created = ok(api.call("POST", "/routes", "admin", json=procurement_body(ids)), 201)
    assert created["name"] == "จัดซื้อจัดจ้างผ่านกองคลังและกองช่าง"
    assert created["memo_type"] == "จัดซื้อจัดจ้าง"
    assert (created["is_default"], created["is_active"], created["asks_amount"]) == (
        False, True, True)
    steps = created["steps"]
    assert [s["step_no"] for s in steps] == [1, 2, 3, 4]
    assert [[p["title"] for p in s["positions"]] for s in steps] == [
        [TITLES["head"]], [TITLES["kongklang"], TITLES["kongchang"]], [TITLES["permsec"]],
        [TITLES["chief"]]]
    assert (steps[1]["rule"], steps[1]["need"]) == ("all", 2)
    assert [s["condition"] for s in steps[:3]] == [None, None, None]
    assert steps[3]["condition"] == {"field": "amount", "op": "gt", "value": "100000",
                                     "description": "จำนวนเงินเกิน 100,000 บาท"}

    # Read back: the administrators' list and the drafters' list show it the same way.
    assert admin_routes(api)[created["id"]] == created
    offered = {r["id"]: r for r in ok(api.call("GET", "/routes", "clerk"))["items"]}
    assert offered[created["id"]] == created

    # Audited as on the admin page, with the steps as stored.
    [event] = admin_events(app, "route_created")
    assert event["before"] is None and event["route_id"] == created["id"]
    assert event["after"]["steps"][3] == {"positions": [ids["chief"]], "need": None,
                                          "when": ["amount", "gt", "10000000"]}

    # A memo goes up it: 50,000 baht ends at ปลัด, the นายก step does not apply.
    memo = ok(api.call("POST", "/memos", "clerk", json={
        "subject": "ขออนุมัติจัดซื้อวัสดุสำนักงาน", "addressee": "ปลัดองค์การบริหารส่วนตำบลท่าตูม",
        "route_id": created["id"], "amount": "50,000"}), 201)
    ok(api.act(memo["id"], "clerk", "submit"))
    laid = ok(api.call("GET", f"/memos/{memo['id']}", "clerk"))["steps"]
    assert [(s["step_no"], s["position_title"]) for s in laid] == [
        (1, TITLES["head"]), (2, TITLES["kongklang"]), (2, TITLES["kongchang"]),
        (3, TITLES["permsec"]), (4, TITLES["chief"])]
    assert laid[0]["status"] == "pending" and laid[-1]["status"] == "skipped"


def test_a_route_is_changed_retired_and_restored(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    ids = position_ids(api)
    route = ok(api.call("POST", "/routes", "admin", json=procurement_body(ids)), 201)
    path = f"/routes/{route['id']}"

    # Any one of the two divisions, and นายก from 500,000.50 baht or when very urgent.
    body = as_update(route, name="จัดซื้อ (กองใดกองหนึ่ง)")
    body["steps"][1].update(rule="any", need=None)
    body["steps"][3]["condition"] = {"field": "amount", "op": "gt", "value": "500,000.50"}
    body["steps"].append({"positions": [ids["deputy"]],
                          "condition": {"field": "urgency", "op": "ge", "value": "very_urgent"}})
    changed = ok(api.call("PUT", path, "admin", json=body))
    assert changed["name"] == "จัดซื้อ (กองใดกองหนึ่ง)"
    assert (changed["steps"][1]["rule"], changed["steps"][1]["need"]) == ("any", 1)
    assert changed["steps"][3]["condition"]["value"] == "500000.50"
    assert changed["steps"][4]["condition"]["description"] == "ชั้นความเร็วตั้งแต่ด่วนมาก ขึ้นไป"
    assert admin_routes(api)[route["id"]] == changed
    [event] = admin_events(app, "route_updated")
    assert event["before"]["name"] == route["name"]
    assert event["after"]["steps"][1]["need"] == 1

    # Two of three: a count.
    body["steps"][1] = {"positions": [ids["kongklang"], ids["kongchang"], ids["permsec"]],
                        "rule": "count", "need": 2}
    del body["steps"][2]
    counted = ok(api.call("PUT", path, "admin", json=body))
    assert (counted["steps"][1]["rule"], counted["steps"][1]["need"]) == ("count", 2)

    # Retired: gone from the drafters' list, still in the administrators'.
    retired = ok(api.call("PUT", path, "admin", json=as_update(counted, is_active=False)))
    assert retired["is_active"] is False and retired["steps"] == counted["steps"]
    assert route["id"] not in {r["id"] for r in ok(api.call("GET", "/routes", "clerk"))["items"]}
    assert admin_routes(api)[route["id"]]["is_active"] is False
    [event] = admin_events(app, "route_retired")
    assert event["before"] == {"is_active": True} and event["after"] == {"is_active": False}
    refused(api.call("POST", "/memos", "clerk", json={
        "subject": "ทดสอบ", "addressee": "ปลัด", "route_id": route["id"], "amount": "1"}),
        422, "unknown_route")

    # Sending it again as it is changes nothing and records nothing.
    assert ok(api.call("PUT", path, "admin", json=as_update(retired))) == retired
    assert len(admin_events(app, "route_updated")) == 2

    restored = ok(api.call("PUT", path, "admin", json=as_update(retired, is_active=True)))
    assert restored["is_active"] is True
    assert route["id"] in {r["id"] for r in ok(api.call("GET", "/routes", "clerk"))["items"]}
    [event] = admin_events(app, "route_activated")
    assert event["after"] == {"is_active": True}


def test_a_route_made_the_default_takes_over_from_the_old_one(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    ids = position_ids(api)
    route = ok(api.call("POST", "/routes", "admin",
                        json=procurement_body(ids, is_default=True)), 201)
    assert route["is_default"] is True
    routes = admin_routes(api)
    assert routes[demo["route_id"]]["is_default"] is False
    assert next(iter(routes)) == route["id"]  # the default first

    # The default cannot be retired, whatever is_default says: refused whole, the name is
    # not changed either.
    path = f"/routes/{route['id']}"
    refused(api.call("PUT", path, "admin", json=as_update(route, name="อื่น", is_active=False)),
            409, "default_route_needed")
    refused(api.call("PUT", path, "admin", json=as_update(route, name="อื่น", is_default=False,
                                                            is_active=False)),
            409, "default_route_needed")
    assert admin_routes(api)[route["id"]] == route
    assert admin_events(app, "route_updated") == admin_events(app, "route_retired") == []

    # Nor does it stop being the default but by another route being made it: false on it is
    # refused, not ignored.
    refused(api.call("PUT", path, "admin", json=as_update(route, name="อื่น", is_default=False)),
            409, "default_route_needed")
    assert admin_routes(api)[route["id"]] == route
    ok(api.call("PUT", f"/routes/{demo['route_id']}", "admin",
                json=as_update(routes[demo["route_id"]], is_default=True)))
    routes = admin_routes(api)
    assert (routes[demo["route_id"]]["is_default"], routes[route["id"]]["is_default"]) == (
        True, False)
    retired = ok(api.call("PUT", path, "admin", json=as_update(routes[route["id"]],
                                                                 is_active=False)))
    assert retired["is_active"] is False


def _too_many(ids: dict[str, int]) -> list[dict[str, Any]]:
    return [{"positions": [ids["head"]]} for _ in range(MAX_STEPS + 1)]


# (what is wrong, the steps, error code, a part of the service's Thai message)
BAD_STEPS = [
    ("n of m with n > m", lambda ids: [{"positions": [ids["kongklang"], ids["kongchang"]],
                                        "rule": "count", "need": 3}],
     "need_out_of_range", "ลำดับที่ 1: จำนวนผู้ที่ต้องเห็นชอบ (n) ต้องอยู่ระหว่าง 1 ถึง 2"),
    ("count with no n", lambda ids: [{"positions": [ids["kongklang"], ids["kongchang"]],
                                      "rule": "count"}],
     "need_out_of_range", "ลำดับที่ 1: จำนวนผู้ที่ต้องเห็นชอบ"),
    ("an empty group", lambda ids: [{"positions": [ids["head"]]}, {"positions": []}],
     "group_empty", "ลำดับที่ 2 ยังไม่มีตำแหน่ง"),
    ("a position twice", lambda ids: [{"positions": [ids["head"]]},
                                      {"positions": [ids["permsec"], ids["head"]]}],
     "route_repeats", "ตำแหน่งเดียวกันอยู่ในสายการเสนอได้ครั้งเดียว"),
    ("a position twice in a group", lambda ids: [{"positions": [ids["head"], ids["head"]]}],
     "route_repeats", "ตำแหน่งเดียวกันอยู่ในสายการเสนอได้ครั้งเดียว"),
    ("an unknown position", lambda ids: [{"positions": [ids["head"], 987654]}],
     "route_unknown_position", "มีตำแหน่งที่ไม่อยู่ในสำนักงานนี้"),
    ("an amount that is no amount", lambda ids: [
        {"positions": [ids["head"]]},
        {"positions": [ids["chief"]], "condition": {"field": "amount", "op": "gt",
                                                    "value": "abc"}}],
     "invalid_amount", "ลำดับที่ 2: จำนวนเงินต้องเป็นตัวเลขบาท"),
    ("a comparison the field has not", lambda ids: [
        {"positions": [ids["chief"]], "condition": {"field": "amount", "op": "eq",
                                                    "value": "100"}}],
     "invalid_condition", "ลำดับที่ 1: เงื่อนไขของลำดับไม่ถูกต้อง"),
    ("an unknown urgency", lambda ids: [
        {"positions": [ids["chief"]], "condition": {"field": "urgency", "op": "ge",
                                                    "value": "soon"}}],
     "invalid_condition", "ลำดับที่ 1: กรุณาเลือกชั้นความเร็วของเงื่อนไข"),
    ("an unknown rule", lambda ids: [{"positions": [ids["head"], ids["deputy"]],
                                      "rule": "most"}],
     "invalid_rule", "ลำดับที่ 1: ไม่รู้จักเงื่อนไขการเห็นชอบของกลุ่ม"),
    ("no step", lambda ids: [], "route_empty", "สายการเสนอต้องมีผู้พิจารณาอย่างน้อยหนึ่งลำดับ"),
    ("too many steps", _too_many, "route_too_long", f"สายการเสนอมีได้ไม่เกิน {MAX_STEPS} ลำดับ"),
    ("too large a group", lambda ids: [{"positions": list(range(1, GROUP_MAX + 30))}],
     "group_too_large", f"ลำดับที่ 1 มีตำแหน่งได้ไม่เกิน {GROUP_MAX} ตำแหน่ง"),
]


@pytest.mark.parametrize("steps, code, thai", [case[1:] for case in BAD_STEPS],
                         ids=[case[0] for case in BAD_STEPS])
def test_bad_steps_are_refused_in_the_services_words_and_nothing_is_saved(
        app: Flask, demo: dict[str, int], api: ApiClient, steps: Any, code: str,
        thai: str) -> None:
    ids = position_ids(api)
    before = admin_routes(api)
    body = refused(api.call("POST", "/routes", "admin",
                            json=procurement_body(ids, steps=steps(ids))), 422, code)
    assert thai in body["message"], body
    assert body["details"]["field"] == "steps"

    # The same steps in a change of the procurement route: refused alike, nothing changed.
    route = before[demo["procurement_route_id"]]
    body = refused(api.call("PUT", f"/routes/{route['id']}", "admin",
                            json=as_update(route, name="เปลี่ยนชื่อ", is_active=False,
                                           steps=steps(ids))), 422, code)
    assert thai in body["message"], body
    assert admin_routes(api) == before
    assert admin_events(app, "route_created") == admin_events(app, "route_updated") == []
    assert admin_events(app, "route_retired") == []


@pytest.mark.parametrize("change", [
    {"is_default": "true"}, {"name": "   "}, {"name": "สาย\nใหม่"}, {"name": "ก" * 201},
    {"steps": "all"}, {"steps": [{"positions": ["1"]}]}, {"steps": [{"positions": [0]}]},
    {"steps": [{"positions": [2**31]}]}, {"steps": [{"positions": [1], "need": 1.5}]},
    {"steps": [{"positions": [1], "condition": {"field": "", "op": "", "value": ""}}]},
    {"steps": [{"positions": [1], "condition": {"field": "amount", "op": "gt",
                                                "value": 100000}}]},
], ids=repr)
def test_malformed_bodies_are_422_with_the_field(
        app: Flask, demo: dict[str, int], api: ApiClient, change: dict[str, Any]) -> None:
    ids = position_ids(api)
    body = refused(api.call("POST", "/routes", "admin", json=procurement_body(ids, **change)),
                   422, "validation_failed")
    assert set(body["details"]["fields"]) == set(change)
    refused(api.call("POST", "/routes", "admin", data="[]", content_type="application/json"),
            400, "invalid_json")
    assert admin_events(app, "route_created") == []


def test_positions_are_listed_created_and_changed(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    listed = {p["title"]: p for p in ok(api.call("GET", "/positions", "admin"))["items"]}
    head = listed[TITLES["head"]]
    assert head["holder_id"] == demo["user_head"]
    assert (head["holder_name"], head["holder_active"]) == (NAMES["head"], True)
    assert head["in_routes"] == 2  # the ordinary route and the procurement route
    assert listed[TITLES["kongklang"]]["in_routes"] == 1

    created = ok(api.call("POST", "/positions", "admin",
                          json={"title": "  ผู้อำนวยการกองการศึกษา ", "division": "กองการศึกษา"}),
                 201)
    assert created == {"id": created["id"], "title": "ผู้อำนวยการกองการศึกษา", "holder_id": None,
                       "holder_name": "", "holder_active": False, "division": "กองการศึกษา",
                       "is_active": True, "in_routes": 0}
    [event] = admin_events(app, "position_created")
    assert event["after"] == {"title": "ผู้อำนวยการกองการศึกษา", "holder_id": None,
                              "division": "กองการศึกษา"}

    path = f"/positions/{created['id']}"
    held = ok(api.call("PUT", path, "admin", json={"title": "ผู้อำนวยการกองการศึกษา ศาสนาและวัฒนธรรม",
                                                   "holder_id": demo["user_deputy"]}))
    assert (held["holder_id"], held["holder_name"]) == (demo["user_deputy"], NAMES["deputy"])
    assert held["division"] == "กองการศึกษา"  # left out of the PUT: unchanged
    [event] = admin_events(app, "position_updated")
    assert event["before"] == {"title": "ผู้อำนวยการกองการศึกษา", "holder_id": None,
                               "division": "กองการศึกษา"}
    assert event["after"]["holder_id"] == demo["user_deputy"]

    # The administrator holds it, and renames it: the reply is the post as saved, not as
    # the token's principal read it before the change.
    mine = ok(api.call("PUT", path, "admin", json={"title": held["title"],
                                                  "holder_id": demo["user_admin"]}))
    assert mine["holder_name"] == NAMES["admin"]
    renamed = ok(api.call("PUT", path, "admin", json={"title": "ผู้อำนวยการกองการศึกษา",
                                                     "holder_id": demo["user_admin"]}))
    assert renamed["title"] == "ผู้อำนวยการกองการศึกษา"
    held = ok(api.call("PUT", path, "admin", json={"title": held["title"],
                                                  "holder_id": demo["user_deputy"]}))

    # The new post goes into a route, and then counts it.
    ids = position_ids(api)
    ok(api.call("POST", "/routes", "admin", json={"name": "การศึกษา", "steps": [
        {"positions": [created["id"]]}, {"positions": [ids["permsec"]]}]}), 201)
    vacated = ok(api.call("PUT", path, "admin", json={"title": held["title"], "holder_id": None}))
    assert (vacated["holder_id"], vacated["holder_name"], vacated["in_routes"]) == (None, "", 1)

    # A title the office has is 409; a holder not in the office 404; both fields are needed.
    refused(api.call("POST", "/positions", "admin", json={"title": TITLES["head"]}),
            409, "title_taken")
    refused(api.call("PUT", path, "admin", json={"title": TITLES["head"], "holder_id": None}),
            409, "title_taken")
    refused(api.call("POST", "/positions", "admin", json={"title": "ใหม่", "holder_id": 987654}),
            404, "user_not_found")
    body = refused(api.call("PUT", path, "admin", json={"title": "ชื่อใหม่"}),
                   422, "validation_failed")
    assert set(body["details"]["fields"]) == {"holder_id"}
    body = refused(api.call("POST", "/positions", "admin", json={"title": ""}),
                   422, "validation_failed")
    assert "ชื่อตำแหน่ง: ต้องกรอก" in body["message"]
    assert len(admin_events(app, "position_updated")) == 5
    assert len(admin_events(app, "position_created")) == 1


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/positions", None),
    ("POST", "/positions", {"title": "ตำแหน่งใหม่"}),
    ("POST", "/positions", {"title": 5}),
    ("PUT", "/positions/{position}", {"title": "ชื่อใหม่", "holder_id": None}),
    ("PUT", "/positions/{position}", {}),
    ("GET", "/admin/routes", None),
    ("POST", "/routes", "procurement"),
    ("POST", "/routes", {"steps": []}),
    ("PUT", "/routes/{route}", "procurement"),
    ("PUT", "/routes/{route}", {}),
])
@pytest.mark.parametrize("user", ["clerk", "auditor"])
def test_only_administrators_may(app: Flask, demo: dict[str, int], api: ApiClient,
                                 user: str, method: str, path: str, body: Any) -> None:
    ids = position_ids(api)
    if body == "procurement":
        body = procurement_body(ids, is_active=True)
    path = path.format(position=ids["head"], route=demo["procurement_route_id"])
    response = api.call(method, path, user, **({} if body is None else {"json": body}))
    refused(response, 403, "admin_only")
    assert [r["is_active"] for r in admin_routes(api).values()] == [True, True]


def test_another_offices_positions_and_routes_are_not_found(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    ids = position_ids(api)  # the token is issued while the demo office is the only one
    with app.app_context():
        other = seed_demo("other")
    theirs = {"route": other["route_id"], "user": other["user_head"]}
    with app.app_context():
        theirs["position"] = db.session.exec(select(Position.id).where(
            Position.org_id == other["org_id"])).first()
    route = admin_routes(api)[demo["procurement_route_id"]]

    refused(api.call("PUT", f"/routes/{theirs['route']}", "admin", json=as_update(route)),
            404, "route_not_found")
    refused(api.call("PUT", f"/routes/{theirs['route']}", "admin", json={"name": 1}),
            404, "route_not_found")
    refused(api.call("PUT", f"/routes/{theirs['route']}", "admin",
                     json=as_update(route, is_default=True, is_active=False)),
            404, "route_not_found")
    refused(api.call("PUT", f"/positions/{theirs['position']}", "admin",
                     json={"title": "ของเรา", "holder_id": None}), 404, "position_not_found")
    refused(api.call("PUT", f"/positions/{theirs['position']}", "admin", json={}),
            404, "position_not_found")
    refused(api.call("POST", "/positions", "admin",
                     json={"title": "ใหม่", "holder_id": theirs["user"]}), 404, "user_not_found")
    refused(api.call("POST", "/routes", "admin", json={"name": "ปน", "steps": [
        {"positions": [ids["head"], theirs["position"]]}]}), 422, "route_unknown_position")
    # Their routes are not in our list, ours not in theirs.
    assert theirs["route"] not in admin_routes(api)
    assert other["procurement_route_id"] not in admin_routes(api)
    assert {PROCUREMENT} <= {r["name"] for r in admin_routes(api).values()}


def test_the_openapi_document_declares_the_administration_operations(
        client: Any, demo: dict[str, int]) -> None:
    document = ok(client.get("/api/v1/openapi.json"))
    operations = {(method.upper(), path): spec for path, item in document["paths"].items()
                  for method, spec in item.items()}
    assert ADMIN_OPERATIONS <= set(operations)
    assert ("GET", "/routes") in operations  # the drafters' list stays as it was
    for key in ADMIN_OPERATIONS:
        spec = operations[key]
        assert spec["tags"] == ["admin_api"] and "administrators" in spec["summary"], key
        assert {"401", "403"} <= set(spec["responses"]), key
    assert "201" in operations[("POST", "/routes")]["responses"]
    assert "201" in operations[("POST", "/positions")]["responses"]
    assert {"404", "409", "422"} <= set(operations[("PUT", "/routes/{route_id}")]["responses"])
    assert "retire or restore it" in operations[("PUT", "/positions/{position_id}")]["summary"]
    schemas = document["components"]["schemas"]
    assert set(schemas["RouteUpdate"]["required"]) == {
        "name", "memo_type", "is_default", "is_active", "steps"}
    steps = schemas["RouteCreate"]["properties"]["steps"]
    assert (steps["minItems"], steps["maxItems"]) == (1, MAX_STEPS)
    positions = schemas["RouteStepWrite"]["properties"]["positions"]
    assert (positions["minItems"], positions["maxItems"]) == (1, GROUP_MAX)
    assert schemas["RouteStepWrite"]["properties"]["rule"]["enum"] == ["all", "any", "count"]
    assert set(schemas["ConditionWrite"]["properties"]["field"]["enum"]) == {
        "amount", "urgency", "memo_type"}
    reply = operations[("POST", "/routes")]["responses"]["201"]
    assert reply["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RoutePublic"}
    assert reply["links"]["change"]["operationId"] == "update_route"


# -- schemathesis, as an administrator ------------------------------------------------------
# tests/web/test_api_schema.py holds every operation to the document as a clerk and a signer,
# who are refused here (403); this holds the administration operations to it as the admin.

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))


def _admin_schema() -> Any:
    from tests.web import test_api_schema as api_schema

    schema = schemathesis.openapi.from_dict(copy.deepcopy(api_schema._document()),
                                            config=api_schema.CONFIG)
    schema.config.update(base_url="http://localhost/api/v1")
    return schema.include(tag="admin_api"), api_schema.hardened


admin_schema, hardened = _admin_schema()


@pytest.fixture
def admin_bearer(app: Flask, demo: dict[str, int], client: Any,
                 backend: str) -> dict[str, str]:
    if backend != "postgresql":
        pytest.skip("schemathesis runs against PostgreSQL, as tests/web/test_api_schema.py")
    return {"Authorization": f"Bearer {ApiClient(client).token('admin')}"}


@admin_schema.parametrize()
@settings(max_examples=EXAMPLES, suppress_health_check=list(HealthCheck), deadline=None)
def test_administration_keeps_to_the_document(case: Any, app: Flask,
                                              admin_bearer: dict[str, str]) -> None:
    case.operation.app = case.operation.schema.app = app
    case.call_and_validate(headers=admin_bearer, additional_checks=[hardened])


def test_a_position_is_retired_only_when_nothing_depends_on_it(
        app: Flask, demo: dict[str, int], api: ApiClient) -> None:
    """Retiring กองช่าง's post is refused while the procurement route names it, and while a
    memo waits at it; once free it is retired (audited), refused in a new route and in
    appointments, and restored."""
    ids = position_ids(api)
    path = f"/positions/{ids['kongchang']}"
    body = {"title": TITLES["kongchang"], "holder_id": demo["user_kongchang"]}
    refusal = refused(api.call("PUT", path, "admin", json={**body, "is_active": False}), 409,
                      "position_in_route")
    assert PROCUREMENT in refusal["message"]

    # The procurement route without กองช่าง: a memo on its way still waits there.
    created = api.call("POST", "/memos", "clerk", json={
        "subject": "ขออนุมัติซ่อมถนน", "addressee": "นายก",
        "route_id": demo["procurement_route_id"], "amount": "5000"})
    memo_id = created.get_json()["id"]
    ok(api.act(memo_id, "clerk", "submit"))
    ok(api.act(memo_id, "head", "approve", "เพื่อโปรดพิจารณา"))
    ok(api.call("PUT", f"/routes/{demo['procurement_route_id']}", "admin", json={
        "name": PROCUREMENT, "memo_type": "จัดซื้อจัดจ้าง", "is_default": False,
        "is_active": True, "steps": [{"positions": [ids["head"]]},
                                     {"positions": [ids["kongklang"]]},
                                     {"positions": [ids["permsec"]]}]}))
    refused(api.call("PUT", path, "admin", json={**body, "is_active": False}), 409,
            "position_has_waiting")
    ok(api.act(memo_id, "kongchang", "approve", "เห็นชอบ"))

    retired = ok(api.call("PUT", path, "admin", json={**body, "is_active": False}))
    assert retired["is_active"] is False
    assert [e["after"] for e in admin_events(app, "position_retired")] == [{"is_active": False}]
    refused(api.call("POST", "/routes", "admin", json={
        "name": "สายใหม่", "memo_type": "", "is_default": False,
        "steps": [{"positions": [ids["kongchang"]]}]}), 422, "route_retired_position")
    restored = ok(api.call("PUT", path, "admin", json={**body, "is_active": True}))
    assert restored["is_active"] is True
