"""``GET /healthz``: whether this instance can serve, for a load balancer and monitoring
(``platform.health`` says what is checked). No sign-in: it tells nothing about any office."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from ..extensions import limiter
from ..platform import health

bp = Blueprint("health", __name__)


@bp.route("/healthz")
@limiter.exempt  # asked every few seconds by every balancer
def healthz() -> tuple[Response, int]:
    found = health.recent()
    return jsonify(found.as_json()), 503 if found.status == health.FAILING else 200
