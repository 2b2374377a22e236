"""The running API held to its generated OpenAPI document by schemathesis (issue #15).

Every check schemathesis has (server errors, status codes, content types, response schemas
and headers, acceptance of valid data and refusal of invalid data, ignored auth, unsupported
methods …), on the real app on PostgreSQL with the demo office, as a clerk and as a signer:

- each operation on its own, with positive and negative cases;
- stateful runs that follow the document's links: create a memo, then edit, submit, attach,
  read, print and audit it, in orders that hypothesis draws.

The example counts are bounded so that CI stays fast; ``SCHEMATHESIS_EXAMPLES`` raises them
for a hunt. One rule is stated here rather than in the document: a 422 may answer data that
the schema accepts, when a rule the schema cannot express refuses it (a route of another
office, a date that is not in the calendar, an action that does not fit the memo's state is
a 409). Each such refusal is still a Thai message in the documented error body.
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis.stateful import run_state_machine_as_test
from requests.structures import CaseInsensitiveDict
from schemathesis.config import SchemathesisConfig

from tests.support.clients import ApiClient
from tests.support.headers import hardening_problems
from tests.support.paths import ARTIFACTS

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "12"))
STEPS = int(os.environ.get("SCHEMATHESIS_STEPS", "8"))

CONFIG = SchemathesisConfig.from_dict({
    # The tests send a real token; schemathesis's own made-up ones would be replaced by it.
    # No NUL in valid data: the server refuses a NUL anywhere in a request (400, documented
    # on every operation), even in a JSON field it would ignore, which OpenAPI 3.0 has no way
    # to say of property names. Its refusal is tested in tests/web/test_bad_input.py, and
    # negative cases still send it where a pattern forbids it.
    "generation": {"mode": "all", "max-examples": EXAMPLES, "deterministic": True,
                   "database": "none", "with-security-parameters": False,
                   "allow-x00": False},
    "checks": {"positive_data_acceptance": {
        "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"]}},
})


SUMMARY = ARTIFACTS / "schemathesis-summary.json"
# "per operation" or "stateful", as which user -> "METHOD /path" -> status -> cases
TRIED: dict[str, Counter[str]] = defaultdict(Counter)


def _count(run: str, user: str, case: Any, response: Any) -> None:
    TRIED[f"{run} as {user}"][f"{case.operation.label} {response.status_code}"] += 1


@pytest.fixture(scope="module", autouse=True)
def summary(pytestconfig: pytest.Config) -> Iterator[None]:
    """The cases sent, per run, operation and status: to tests/artifacts and the terminal."""
    yield
    if not TRIED:
        return
    SUMMARY.parent.mkdir(parents=True, exist_ok=True)
    SUMMARY.write_text(json.dumps({run: dict(sorted(c.items())) for run, c in TRIED.items()},
                                  ensure_ascii=False, indent=2), encoding="utf-8")
    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        total = sum(sum(c.values()) for c in TRIED.values())
        reporter.write_line(f"\nschemathesis: {total} cases, every check, no failure "
                            f"({SUMMARY.name} in tests/artifacts)")
        for run, counts in sorted(TRIED.items()):
            reporter.write_line(f"  {sum(counts.values()):5d}  {run}")


def hardened(ctx: Any, response: Any, case: Any) -> bool:
    """Our own check, beside schemathesis's: every answer carries the security headers and
    no stack trace (tests/support/headers.py)."""
    headers = CaseInsensitiveDict({name: values[0] if isinstance(values, list) else values
                                   for name, values in response.headers.items()})
    textual = headers.get("Content-Type", "").startswith(("application/json", "text/"))
    body = response.content.decode("utf-8", "replace") if textual else ""  # not a PDF's bytes
    problems = hardening_problems(response.status_code, headers, body)
    if problems:
        raise AssertionError(f"{case.operation.label} -> {response.status_code}: {problems}")
    return True


@pytest.fixture(params=["clerk", "head"])
def api_user(request: pytest.FixtureRequest) -> str:
    """A clerk, who drafts, and a signer at the route's first step."""
    return str(request.param)


@pytest.fixture
def bearer(app: Flask, demo: dict[str, int], client: Any, api_user: str,
           backend: str) -> dict[str, str]:
    if backend != "postgresql":
        pytest.skip("schemathesis runs against PostgreSQL, as the issue asks")
    return {"Authorization": f"Bearer {ApiClient(client).token(api_user)}"}


def _document() -> dict[str, Any]:
    """The document as /api/v1/openapi.json serves it. It depends only on the routes, so an
    app with no database writes it; the tests then call the app of each test's database.
    (schemathesis's lazy ``from_fixture`` would load it per test, but does not run on
    pytest 9.)"""
    from workflow import create_app
    from workflow.api.contract import document

    app = create_app({"SECRET_KEY": "schema only", "DATABASE_URL": "sqlite://",
                      "TESTING": True})
    return document(app)


schema = schemathesis.openapi.from_dict(_document(), config=CONFIG)
schema.config.update(base_url="http://localhost/api/v1")


@schema.parametrize()
@settings(suppress_health_check=list(HealthCheck), deadline=None)
def test_each_operation_keeps_to_the_document(case: Any, app: Flask, api_user: str,
                                              bearer: dict[str, str]) -> None:
    # This test's app and database: the schema was loaded at import, before any app.
    case.operation.app = case.operation.schema.app = app
    response = case.call_and_validate(headers=bearer, additional_checks=[hardened])
    _count("per operation", api_user, case, response)


# schemathesis's WSGI transport reads a response without closing it, so a downloaded
# attachment's file (send_file) is closed by the garbage collector instead; a WSGI server
# closes it (PEP 3333), and tests/memos/test_attachments.py downloads through one.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_create_act_read_sequences_keep_to_the_document(app: Flask, api_user: str,
                                                        bearer: dict[str, str]) -> None:
    schema.app = app
    workflow = schema.as_state_machine()

    class Workflow(workflow):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": bearer}

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            _count("stateful", api_user, case, response)

        def validate_response(self, response: Any, case: Any,
                              additional_checks: Any = None, **kwargs: Any) -> None:
            # Named as the caller's own headers, so that the auth checks know the token is
            # the real one and probe with it removed.
            case.validate_response(response, additional_checks=[hardened],
                                   headers=bearer, transport_kwargs=kwargs or None,
                                   recorder=self.recorder)

    run_state_machine_as_test(Workflow, settings=settings(
        max_examples=2 * EXAMPLES, stateful_step_count=STEPS, deadline=None, derandomize=True,
        database=None, suppress_health_check=list(HealthCheck)))
