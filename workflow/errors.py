"""Errors the domain raises, each carrying its HTTP status and a message in Thai and English.

Pure Python: the state machine and the services raise these; the web layer
turns them into a Thai error page and the API into a JSON error body.
"""

from __future__ import annotations

from typing import Any


class WorkflowError(Exception):
    """Base class: a refusal the user can understand and act on."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        message_en: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en
        if code:
            self.code = code
        self.details = details or {}

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body of the API."""
        body: dict[str, Any] = {
            "error": self.code,
            "message": self.message,
            "message_en": self.message_en,
        }
        if self.details:
            body["details"] = self.details
        return body


class BadRequest(WorkflowError):
    status = 400
    code = "bad_request"


class Unauthorized(WorkflowError):
    status = 401
    code = "unauthorized"


class Forbidden(WorkflowError):
    status = 403
    code = "forbidden"


class NotFound(WorkflowError):
    status = 404
    code = "not_found"


class Conflict(WorkflowError):
    status = 409
    code = "conflict"


class Invalid(WorkflowError):
    status = 422
    code = "invalid"


class Unavailable(WorkflowError):
    """Not now, but the request was fine: try again later."""

    status = 503
    code = "unavailable"
