"""The API's OpenAPI document and its interactive docs page (Swagger UI).

The document is generated on each request from the declared operations (``contract.py``):
it is small, and it cannot go stale after a deploy. The docs page is our own template so
that it runs under the site's Content-Security-Policy (no inline script); Swagger UI's files
come from the flask-swagger-ui package rather than a CDN, as the office may be offline.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from flask import current_app, jsonify, render_template, send_file

from ..errors import NotFound
from .blueprint import bp
from .contract import document


def _meta(view: Any) -> Any:
    view._api_meta = True  # about the API, not part of it: left out of the document
    return view


@bp.route("/openapi.json")
@_meta
def openapi() -> Any:
    """The OpenAPI 3 document of this API."""
    return jsonify(document(current_app))


@bp.route("/docs")
@_meta
def docs() -> Any:
    """Swagger UI on the document above: read it, and try calls with a token."""
    return render_template("api/docs.html")


_SWAGGER_UI = files("flask_swagger_ui") / "dist"
_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})


@bp.route("/docs/assets/<name>")
@_meta
def docs_asset(name: str) -> Any:
    """Swagger UI's own files, from the installed package."""
    if name not in _ASSETS:
        raise NotFound("ไม่พบไฟล์นี้", "No such file.", code="not_found")
    return send_file(str(_SWAGGER_UI / name))
