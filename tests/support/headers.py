"""The headers every answer carries, and what no answer may contain: asserted on each case
of the form fuzzing, of schemathesis and of the header tests (issue #15, point 5)."""

from __future__ import annotations

from typing import Any

# What a stack trace or a debugger page would show; no answer may contain any of them.
TRACE_MARKS = ("Traceback (most recent call last)", 'File "/', "Werkzeug Debugger",
               "sqlalchemy.exc.", "psycopg.errors.")


def directives(policy: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header as {directive: [sources]}."""
    found: dict[str, list[str]] = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            found[name.lower()] = sources
    return found


def hardening_problems(status: int, headers: Any, body: str, *, static: bool = False,
                       https: bool = False) -> list[str]:
    """What is missing or wrong in one answer's headers and body (empty when all is well):
    CSP with no inline script, no framing and no foreign base or form target; nosniff; a
    Referrer-Policy that keeps paths (memo ids) on the site; no-store on everything but
    static files; HSTS only over HTTPS; no stack trace."""
    problems = []
    csp = directives(headers.get("Content-Security-Policy", ""))
    for name, sources in (("default-src", ["'self'"]), ("script-src", ["'self'"]),
                          ("frame-ancestors", ["'none'"]), ("base-uri", ["'none'"]),
                          ("form-action", ["'self'"])):
        if csp.get(name) != sources:
            problems.append(f"CSP {name} is {csp.get(name)}, not {sources}")
    expected = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin"}
    for name, value in expected.items():
        if headers.get(name) != value:
            problems.append(f"{name} is {headers.get(name)!r}, not {value!r}")
    cache = headers.get("Cache-Control", "")
    if not static and cache != "no-store":
        problems.append(f"Cache-Control is {cache!r}, not 'no-store'")
    if not https and "Strict-Transport-Security" in headers:
        problems.append("HSTS sent over plain HTTP")
    for mark in TRACE_MARKS:
        if mark in body:
            problems.append(f"the body shows {mark!r}: a stack trace")
    if status >= 500 and status != 503:
        problems.append(f"status {status}")
    return problems
