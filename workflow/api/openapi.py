"""The OpenAPI 3 document, with schemas generated from the same models the API validates with."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from .. import routing
from ..memos.queries import BOXES
from ..models import ActionRequest, MemoCreate, MemoPublic, MemoSummary, MemoUpdate
from .blueprint import bp

_REF = "#/components/schemas/{model}"


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for model in (MemoCreate, MemoUpdate, ActionRequest, MemoSummary, MemoPublic):
        schema = model.model_json_schema(ref_template=_REF)
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    schemas["ActionRequest"]["properties"]["action"]["enum"] = list(routing.TRIGGERS)
    schemas["Error"] = {
        "type": "object",
        "required": ["error", "message", "message_en"],
        "properties": {
            "error": {"type": "string", "description": "machine-readable code"},
            "message": {"type": "string", "description": "Thai, for the user"},
            "message_en": {"type": "string"},
            "details": {"type": "object"},
        },
    }
    schemas["AuditEvent"] = {
        "type": "object",
        "properties": {
            "seq": {"type": "integer"}, "time_utc": {"type": "string", "format": "date-time"},
            "time_local": {"type": "string", "format": "date-time"},
            "action": {"type": "string"}, "actor_id": {"type": "integer", "nullable": True},
            "actor_name": {"type": "string"}, "position": {"type": "string"},
            "memo_id": {"type": "integer", "nullable": True},
            "state_before": {"type": "string"}, "state_after": {"type": "string"},
            "text": {"type": "string"}, "ip": {"type": "string"},
            "user_agent": {"type": "string"}, "details": {"type": "object"},
            "prev_hash": {"type": "string"}, "hash": {"type": "string"},
        },
    }
    schemas["TokenRequest"] = {
        "type": "object",
        "required": ["username", "password"],
        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
    }
    schemas["Token"] = {
        "type": "object",
        "properties": {
            "token": {"type": "string"},
            "token_type": {"type": "string", "enum": ["bearer"]},
            "expires_at": {"type": "string", "format": "date-time"},
            "user": {"type": "object"},
        },
    }
    return schemas


def _json(schema: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": _REF.format(model=schema)}}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"description": "error", **_json("Error")} for c in codes}


MEMO_ID = {"name": "memo_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def document() -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Saraban Workflow API",
            "version": "1",
            "description": "Memos (บันทึกข้อความ) and their approval route. Errors carry a Thai "
                           "`message` and an English `message_en`.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/auth/token": {
                "post": {
                    "summary": "Exchange username and password for a bearer token",
                    "security": [],
                    "requestBody": {"required": True, **_json("TokenRequest")},
                    "responses": {"201": {"description": "token", **_json("Token")},
                                  **_errors(400, 401, 422, 429)},
                },
                "delete": {"summary": "Revoke the calling token",
                           "responses": {"204": {"description": "revoked"}, **_errors(401)}},
            },
            "/memos": {
                "get": {
                    "summary": "List the memos of one box",
                    "parameters": [
                        {"name": "box", "in": "query", "schema": {"type": "string",
                                                                  "enum": list(BOXES)}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer",
                                                                    "maximum": 500}},
                        {"name": "before", "in": "query", "schema": {"type": "string"},
                         "description": "keyset cursor: next_before of the previous page"},
                        *({"name": name, "in": "query", "schema": {"type": "string"},
                           "description": text} for name, text in (
                            ("q", "words of the subject; searches every memo you may open"),
                            ("number", "document number (ที่), Thai or Arabic digits"),
                            ("from", "memo date from: d/m/yyyy (Buddhist era) or yyyy-mm-dd"),
                            ("to", "memo date to, inclusive"),
                            ("state", "draft, pending, returned, approved, rejected, withdrawn"),
                            ("drafter", "part of the drafter's name, or their username"),
                            ("urgency", "normal, urgent, very_urgent, most_urgent"))),
                    ],
                    "responses": {"200": {"description": "memos", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "box": {"type": "string"},
                            "items": {"type": "array",
                                      "items": {"$ref": _REF.format(model="MemoSummary")}},
                            "next_before": {"type": "string", "nullable": True},
                        }}}}}, **_errors(400, 401, 422)},
                },
                "post": {
                    "summary": "Create a draft memo",
                    "requestBody": {"required": True, **_json("MemoCreate")},
                    "responses": {"201": {"description": "created", **_json("MemoPublic")},
                                  **_errors(400, 401, 403, 413, 422)},
                },
            },
            "/memos/{memo_id}": {
                "parameters": [MEMO_ID],
                "get": {"summary": "One memo",
                        "responses": {"200": {"description": "memo", **_json("MemoPublic")},
                                      **_errors(401, 403, 404)}},
                "patch": {
                    "summary": "Edit a draft or returned memo (drafter only)",
                    "requestBody": {"required": True, **_json("MemoUpdate")},
                    "responses": {"200": {"description": "memo", **_json("MemoPublic")},
                                  **_errors(400, 401, 403, 404, 409, 413, 422)},
                },
            },
            "/audit": {
                "get": {
                    "summary": "Search the audit trail (auditors and admins; others with memo_id)",
                    "parameters": [
                        {"name": n, "in": "query", "schema": {"type": t}, "description": d}
                        for n, t, d in (
                            ("memo", "string", "ที่ (document number) or words of the subject"),
                            ("memo_id", "integer", "one memo"),
                            ("actor", "string", "username or part of the name"),
                            ("action", "string", "event type, e.g. memo_approved"),
                            ("state", "string", "state after the event"),
                            ("from", "string", "first day, d/m/yyyy Buddhist era or ISO"),
                            ("to", "string", "last day, inclusive"),
                            ("before", "integer", "keyset cursor: next_before of the last page"),
                            ("limit", "integer", "page size, at most 500"),
                        )
                    ],
                    "responses": {"200": {"description": "events, newest first", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "items": {"type": "array",
                                      "items": {"$ref": _REF.format(model="AuditEvent")}},
                            "next_before": {"type": "integer", "nullable": True},
                        }}}}}, **_errors(401, 403, 422)},
                },
            },
            "/memos/{memo_id}/audit": {
                "parameters": [MEMO_ID],
                "get": {
                    "summary": "One memo's audit trail and whether it verifies",
                    "responses": {"200": {"description": "trail", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "verified": {"type": "boolean"},
                            "broken_at": {"type": "integer", "nullable": True},
                            "reason": {"type": "string"},
                            "events": {"type": "array",
                                       "items": {"$ref": _REF.format(model="AuditEvent")}},
                        }}}}}, **_errors(401, 403, 404)},
                },
            },
            "/memos/{memo_id}/actions": {
                "parameters": [MEMO_ID],
                "post": {
                    "summary": "Take an action on the memo's route",
                    "requestBody": {"required": True, **_json("ActionRequest")},
                    "responses": {"200": {"description": "memo after the action",
                                          **_json("MemoPublic")},
                                  **_errors(400, 401, 403, 404, 409, 422)},
                },
            },
            "/verify": {
                "post": {
                    "summary": "Check an uploaded PDF: an office's sealed copy, unchanged?",
                    "security": [],
                    "requestBody": {"required": True, "content": {"multipart/form-data": {
                        "schema": {"type": "object", "required": ["file"], "properties": {
                            "file": {"type": "string", "format": "binary"}}}}}},
                    "responses": {"200": {"description": (
                        "verdict: valid, altered, appended, not_ours or unsigned; message in "
                        "Thai, message_en in English; office, number, signers when valid"),
                        "content": {"application/json": {"schema": {"type": "object"}}}},
                        **_errors(413, 422, 429)},
                },
            },
        },
    }


@bp.route("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 document of this API."""
    return jsonify(document())
