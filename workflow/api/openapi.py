"""The OpenAPI 3 document, with schemas generated from the same models the API validates with."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from .. import routing
from ..models import ActionRequest, MemoCreate, MemoPublic, MemoSummary, MemoUpdate
from ..services.memos import BOXES
from . import bp

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
                    ],
                    "responses": {"200": {"description": "memos", "content": {
                        "application/json": {"schema": {"type": "object", "properties": {
                            "box": {"type": "string"},
                            "items": {"type": "array",
                                      "items": {"$ref": _REF.format(model="MemoSummary")}},
                        }}}}}, **_errors(401, 422)},
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
        },
    }


@bp.route("/openapi.json")
def openapi() -> Any:
    """The OpenAPI 3 document of this API."""
    return jsonify(document())
