"""The API's contract: each view declares what it takes and answers, and the OpenAPI document
is generated from those declarations and the application's url_map.

The request and reply models are the pydantic models that validate the requests and shape
the replies (``workflow.models`` and ``schemas.py``), so the document cannot say one thing
while the code does another; ``tests/web/test_api_schema.py`` then lets schemathesis hold
the running API to it.

Why this small module rather than flask-openapi3 or spectree: both would take over request
validation and the shape of refusals (flask-openapi3 also replaces the Flask class), while
ours are Thai + English in one body shared with the web pages, raised from the services.
pydantic already writes the JSON schemas; what is left is one decorator and one walk of the
url_map, here. A test fails if an ``/api/v1`` route is not declared.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from flask import Flask, request
from pydantic import BaseModel, ValidationError

from ..validation import ID_MAX, invalid_from
from .schemas import ErrorBody
from .util import json_body

F = TypeVar("F", bound=Callable[..., Any])
Q = TypeVar("Q", bound=BaseModel)

_REF = "#/components/schemas/{model}"
_MARK = "_api_operation"

# Refusals any operation may give, with what they mean there.
_COMMON_ERRORS = {
    400: "the request is malformed: not JSON, or text with a NUL character",
    503: "the database is busy; retry after Retry-After seconds",
}
ERROR_MEANINGS = {
    401: "no bearer token, or it is invalid, expired or revoked",
    403: "the caller may not do this, or the office is suspended",
    404: "no such record in the caller's office, or the caller may not see it",
    409: "the memo has moved on (stale version) or the action does not fit its state",
    413: "the body or file is larger than allowed",
    415: "the file's type is not accepted",
    422: "the values are well formed but not acceptable; details.fields says why, per field",
    429: "too many attempts; retry after Retry-After seconds",
    **_COMMON_ERRORS,
}


@dataclass(frozen=True)
class Link:
    """An OpenAPI link: after this operation, ``operation`` can be called with ``parameters``
    (runtime expressions such as ``$response.body#/id``). schemathesis follows them to test
    create → act → read sequences."""

    operation: str
    parameters: dict[str, str]


@dataclass(frozen=True)
class Operation:
    summary: str
    # What a success answers: a model (JSON), a media type (a file), or None (no content).
    reply: type[BaseModel] | str | None
    status: int = 200
    body: type[BaseModel] | None = None  # a JSON request body
    upload: str = ""  # the multipart field of an uploaded file
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    public: bool = False  # no bearer token needed
    links: dict[str, Link] = field(default_factory=dict)


def operation(summary: str, reply: type[BaseModel] | str | None, **kwargs: Any
              ) -> Callable[[F], F]:
    """Declare a view's part of the contract (see ``Operation``)."""
    declared = Operation(summary, reply, **kwargs)

    def mark(view: F) -> F:
        setattr(view, _MARK, declared)
        return view

    return mark


def parse_query(model: type[Q]) -> Q:
    """The query string as ``model``, or a Thai 422 naming each bad parameter."""
    try:
        return model.model_validate(request.args.to_dict())
    except ValidationError as exc:
        raise invalid_from(exc) from None


def parse_body(model: type[Q]) -> Q:
    """The JSON body as ``model``: 400 if it is no JSON object, 422 per bad field."""
    try:
        return model.model_validate(json_body())
    except ValidationError as exc:
        raise invalid_from(exc) from None


# ---------------------------------------------------------------------------------------
# The document


def _path_and_parameters(rule: Any, prefix: str) -> tuple[str, list[dict[str, Any]]]:
    """``/api/v1/memos/<int:memo_id>`` as ``/memos/{memo_id}`` and its path parameters."""
    path = rule.rule.removeprefix(prefix)
    parameters = []
    for name in sorted(rule.arguments):
        path = path.replace(f"<int:{name}>", f"{{{name}}}").replace(f"<{name}>", f"{{{name}}}")
        parameters.append({"name": name, "in": "path", "required": True,
                           "schema": {"type": "integer", "minimum": 1, "maximum": ID_MAX}})
    return path, parameters


def _query_parameters(model: type[BaseModel], schemas: dict[str, Any]) -> list[dict[str, Any]]:
    schema = _no_nul(model.model_json_schema(ref_template=_REF, mode="validation"))
    schemas.update(schema.pop("$defs", {}))
    required = set(schema.get("required", ()))
    parameters = []
    for name, prop in schema["properties"].items():
        description = prop.pop("description", "")
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def _no_nul(schema: Any) -> Any:
    """Every string a client sends is refused with a NUL character in it (``web.py`` checks
    each request at the door): free strings of a request say so in their pattern."""
    if isinstance(schema, dict):
        if (schema.get("type") == "string" and not {"pattern", "enum", "format"} & set(schema)):
            schema["pattern"] = "^[^\\x00]*$"
        for value in schema.values():
            _no_nul(value)
    elif isinstance(schema, list):
        for item in schema:
            _no_nul(item)
    return schema


def _add_schema(model: type[BaseModel], schemas: dict[str, Any], *,
                mode: Literal["validation", "serialization"] = "serialization") -> dict[str, Any]:
    """A ``$ref`` to ``model``'s JSON schema, put under components with its sub-models.
    Request models are written as they validate, replies as they serialize."""
    schema = model.model_json_schema(ref_template=_REF, mode=mode)
    if mode == "validation":
        _no_nul(schema)
    schemas.update(schema.pop("$defs", {}))
    schemas.setdefault(model.__name__, schema)
    return {"$ref": _REF.format(model=model.__name__)}


def _error(status: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERROR_MEANINGS.get(status, "refused"),
        "content": {"application/json": {"schema": {"$ref": _REF.format(model="Error")}}},
    }
    if status in (429, 503):
        answer["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1},
                                             "description": "seconds"}}
    return answer


def _success(declared: Operation, schemas: dict[str, Any]) -> dict[str, Any]:
    if declared.reply is None:
        return {"description": "done, nothing to send back"}
    if isinstance(declared.reply, str):
        return {"description": "the file", "content": {
            declared.reply: {"schema": {"type": "string", "format": "binary"}}}}
    answer: dict[str, Any] = {
        "description": declared.summary,
        "content": {"application/json": {"schema": _add_schema(declared.reply, schemas)}},
    }
    if declared.links:
        answer["links"] = {name: {"operationId": link.operation,
                                  "parameters": link.parameters}
                           for name, link in declared.links.items()}
    return answer


def _operation(endpoint: str, tag: str, declared: Operation,
               path_parameters: list[dict[str, Any]], schemas: dict[str, Any]) -> dict[str, Any]:
    refusals = set(_COMMON_ERRORS) | set(declared.errors)
    if not declared.public:
        refusals |= {401, 403}
    if path_parameters:
        refusals.add(404)
    if declared.body is not None or declared.upload or declared.query is not None:
        refusals.add(422)
    if declared.body is not None or declared.upload:
        refusals.add(413)
    spec: dict[str, Any] = {
        "operationId": endpoint.removeprefix("api."),
        "tags": [tag],
        "summary": declared.summary,
        "responses": {str(declared.status): _success(declared, schemas),
                      **{str(status): _error(status) for status in sorted(refusals)}},
    }
    parameters = list(path_parameters)
    if declared.query is not None:
        parameters += _query_parameters(declared.query, schemas)
    if parameters:
        spec["parameters"] = parameters
    if declared.body is not None:
        spec["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": _add_schema(declared.body, schemas, mode="validation")}}}
    if declared.upload:
        spec["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": [declared.upload],
            "properties": {declared.upload: {"type": "string", "format": "binary"}}}}}}
    if declared.public:
        spec["security"] = []
    return spec


def undeclared_routes(app: Flask, blueprint: str = "api") -> list[str]:
    """Rules of ``blueprint`` whose views have no declared operation (a test keeps it empty)."""
    return sorted(rule.rule for rule in app.url_map.iter_rules()
                  if rule.endpoint.startswith(f"{blueprint}.")
                  and not hasattr(app.view_functions[rule.endpoint], _MARK)
                  and not getattr(app.view_functions[rule.endpoint], "_api_meta", False))


def document(app: Flask, *, prefix: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI 3.0 document of every declared operation under ``prefix``."""
    schemas: dict[str, Any] = {"Error": ErrorBody.model_json_schema(ref_template=_REF)}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        declared = getattr(view, _MARK, None)
        if declared is None or not rule.rule.startswith(prefix):
            continue
        path, path_parameters = _path_and_parameters(rule, prefix)
        tag = view.__module__.rsplit(".", 1)[-1]  # the API module: memos, audit, tokens
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                rule.endpoint, tag, declared, path_parameters, schemas)
    return _openapi_30({
        "openapi": "3.0.3",
        "info": {
            "title": "Saraban Workflow API",
            "version": "1",
            "description": (
                "Memos (บันทึกข้อความ) and their approval route. Get a token from "
                "`POST /auth/token`, then send `Authorization: Bearer <token>`. Every refusal "
                "is an `Error`: a code, a Thai `message` and an English `message_en`."),
        },
        "servers": [{"url": prefix}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": paths,
    })


def _openapi_30(schemas: dict[str, Any]) -> dict[str, Any]:
    """pydantic writes JSON Schema 2020-12 (``anyOf: [X, {type: null}]``); OpenAPI 3.0 says
    ``nullable: true``. Rewritten here so 3.0 tools read the document right."""

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            node = {key: fix(value) for key, value in node.items()}
            options = node.get("anyOf")
            if isinstance(options, list) and {"type": "null"} in options:
                rest = [o for o in options if o != {"type": "null"}]
                node.pop("anyOf")
                if len(rest) == 1 and "$ref" not in rest[0]:
                    node.update(rest[0])
                elif len(rest) == 1:  # a $ref takes no siblings in 3.0
                    node["allOf"] = rest
                else:
                    node["anyOf"] = rest
                node["nullable"] = True
            if node.get("const") is not None and "enum" not in node:
                node["enum"] = [node.pop("const")]
            return node
        if isinstance(node, list):
            return [fix(item) for item in node]
        return node

    return fix(schemas)
