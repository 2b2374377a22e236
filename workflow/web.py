"""What every page shares: the signed-in user, Thai date filters, error pages, security headers."""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from flask import (
    Flask,
    current_app,
    g,
    has_request_context,
    jsonify,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import Markup
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.security import safe_join
from werkzeug.wrappers import Response

from . import routing, steps, thai
from .admin.describe import describe_change
from .errors import BadRequest, NotFound, WorkflowError
from .extensions import limiter, login_manager
from .identity.principal import WEB, Principal, load_principal
from .models import ROLE_LABELS, URGENCY_LABELS, Role, Urgency
from .outbox.queue import KIND_LABELS, STATUS_LABELS
from .trail.chain import RequestInfo
from .views.badges import badges

_LOGGER = logging.getLogger(__name__)

# Thai text for the HTTP errors that werkzeug raises before a view runs.
HTTP_MESSAGES = {
    400: ("คำขอไม่ถูกต้อง", "Bad request."),
    401: ("กรุณาเข้าสู่ระบบ", "Authentication required."),
    403: ("ท่านไม่มีสิทธิ์เข้าถึงหน้านี้", "Forbidden."),
    404: ("ไม่พบหน้าที่ต้องการ", "Not found."),
    405: ("ไม่รองรับวิธีการเรียกนี้", "Method not allowed."),
    409: ("ข้อมูลขัดแย้งกับสถานะปัจจุบัน", "Conflict."),
    413: ("ข้อมูลหรือไฟล์มีขนาดใหญ่เกินกำหนด", "Request too large."),
    422: ("ข้อมูลไม่ถูกต้อง", "Unprocessable input."),
    429: ("ทำรายการบ่อยเกินไป กรุณารอสักครู่แล้วลองใหม่", "Too many requests; wait and retry."),
    500: ("ระบบขัดข้อง กรุณาลองใหม่อีกครั้ง", "Internal error."),
}
ERROR_TITLES = {400: "คำขอไม่ถูกต้อง", 401: "กรุณาเข้าสู่ระบบ", 403: "ไม่มีสิทธิ์เข้าถึง",
                404: "ไม่พบหน้าที่ต้องการ", 409: "ทำรายการไม่ได้ในขณะนี้",
                413: "ข้อมูลใหญ่เกินไป", 422: "ข้อมูลไม่ถูกต้อง", 429: "ทำรายการบ่อยเกินไป",
                500: "ระบบขัดข้อง", 503: "ระบบไม่ว่างชั่วคราว"}


def request_info() -> RequestInfo:
    """Where the current request came from, for the record."""
    return RequestInfo(ip=request.remote_addr or "", user_agent=request.user_agent.string[:300])


# Private answers (pages, JSON, attachments, PDFs behind a login) must not be kept by the
# browser or any shared cache: "no-cache" still stores them, and a shared office computer or
# a proxy would hand them to the next person.
NO_STORE = "no-store"


def send_attachment(download: Any) -> Response:
    """A stored attachment as a download: never inline, a safe (RFC 5987) file name."""
    if not download.path.is_file():

        raise NotFound("ไม่พบไฟล์แนบในที่เก็บ", "The attachment's file is missing.",
                       code="file_missing")
    response = send_file(download.path, mimetype=download.content_type, as_attachment=True,
                         download_name=download.filename)
    # send_file says "no-cache", which lets the browser keep a copy on disk.
    response.headers["Cache-Control"] = NO_STORE
    return response


def send_pdf(body: bytes, memo_id: int) -> Response:
    """A rendered memo, shown in the browser's PDF viewer, never cached."""
    return Response(body, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="memo-{memo_id}.pdf"',
                             "Cache-Control": NO_STORE})


def wants_json() -> bool:
    """API paths answer in JSON; everything else gets a Thai page."""
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, message_en: str,
                   details: dict[str, Any] | None = None) -> tuple[Any, int]:
    """The same refusal, as JSON for the API or as a Thai page for a person."""
    if wants_json():
        body: dict[str, Any] = {"error": code, "message": message, "message_en": message_en}
        if details:
            body["details"] = details
        return jsonify(body), status
    title = ERROR_TITLES.get(status, "ทำรายการไม่สำเร็จ")
    return render_template("error.html", status=status, title=title, message=message), status


def _on_workflow_error(exc: WorkflowError) -> Any:
    body, status = error_response(exc.status, exc.code, exc.message, exc.message_en, exc.details)
    if status == 503:  # busy, not broken: say when to come back
        return body, status, {"Retry-After": "10"}
    return body, status


def _on_csrf_error(exc: CSRFError) -> tuple[Any, int]:
    return error_response(
        400, "csrf_failed",
        "แบบฟอร์มหมดอายุหรือไม่ถูกต้อง กรุณาเปิดหน้าใหม่แล้วลองอีกครั้ง (ข้อมูลที่บันทึกไว้แล้วไม่สูญหาย)",
        f"The form's security token was missing or invalid: {exc.description}",
    )


def _retry_after(exc: RateLimitExceeded) -> int:
    """Seconds until the breached limit's window lets the client in again (at least 1)."""
    try:
        breached = limiter.current_limit
        if breached is not None:
            return max(1, int(breached.reset_at - time.time()))
    except Exception:  # noqa: BLE001 - storage unreachable: the window's length is a safe bound
        _LOGGER.warning("could not read the rate limit's window", exc_info=True)
    return max(1, int(exc.limit.limit.get_expiry()))


def _on_rate_limit(exc: RateLimitExceeded) -> tuple[Any, int, dict[str, str]]:
    thai_text, english = HTTP_MESSAGES[429]
    body, status = error_response(429, "rate_limited", thai_text, english)
    # Clients and scripts need to know when to try again rather than hammer on (RFC 9110).
    return body, status, {"Retry-After": str(_retry_after(exc))}


def _on_http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    if status < 400:
        return exc
    thai_text, english = HTTP_MESSAGES.get(status, (exc.name, exc.name))
    body, status = error_response(status, exc.name.lower().replace(" ", "_"), thai_text, english)
    # Keep what werkzeug says in headers, such as Allow on a 405.
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    if status == 429 and not any(k.lower() == "retry-after" for k, _ in headers):
        headers.append(("Retry-After", "60"))  # every 429 says when to come back
    return body, status, headers


def _on_unexpected(exc: Exception) -> tuple[Any, int]:
    # Logged with its traceback for us; the user sees a Thai sentence, never the trace.
    _LOGGER.exception("unhandled error on %s %s", request.method, request.path)
    # A failed statement leaves the read session unusable (PostgreSQL aborts the
    # transaction); drop it so the error page itself can still query.
    reader = g.pop("db_session", None)
    if reader is not None:
        reader.close()
    thai_text, english = HTTP_MESSAGES[500]
    return error_response(500, "internal_error", thai_text, english)


def _refuse_nul_bytes() -> None:
    """No text anyone types contains a NUL character, and PostgreSQL cannot store one: refuse
    it at the door (400, in Thai) rather than fail deep inside a service. Uploaded files are
    not form fields and are left alone."""
    values = [*request.args.values(), *request.form.values()]
    if any("\x00" in value for value in values) or (
            request.is_json and b"\\u0000" in request.get_data(cache=True)):
        raise BadRequest("ข้อมูลที่ส่งมามีอักขระที่ใช้ไม่ได้ (NUL)",
                         "The request contains a NUL character.", code="nul_character")


# Pages name each static file with a hash of its content (/static/app.css?v=…), and an
# answer to a URL that carries the current hash may be kept for a year: a phone on a slow
# line then opens the next page without asking for the stylesheet and script again, and a
# release that changes a file changes its URL. A URL without it, or with an old hash, is
# still served, revalidated each time as before.
STATIC_FOREVER = "public, max-age=31536000, immutable"

# The largest id a route takes (BoundedIntConverter): what an INTEGER column holds.
MAX_ID = 2**31 - 1


def static_version(folder: str, filename: str) -> str:
    """The first 12 hex digits of the SHA-256 of a static file, "" if there is no such file."""
    path = safe_join(folder, filename)
    try:
        found = os.stat(path) if path else None
    except OSError:
        found = None
    if path is None or found is None or not stat.S_ISREG(found.st_mode):
        return ""
    return _content_hash(path, found.st_mtime_ns, found.st_size)


@lru_cache(maxsize=256)
def _content_hash(path: str, _mtime_ns: int, _size: int) -> str:
    """Hashed once per file and version of it (the time and size are the cache's key)."""
    with open(path, "rb") as file:
        return hashlib.sha256(file.read()).hexdigest()[:12]


def _versioned_static(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = static_version(current_app.static_folder or "", values["filename"])
        if version:
            values["v"] = version


def _security_headers(response: Response) -> Response:
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        # Memo bodies keep a few inline styles (indent, alignment) that the sanitiser allows.
        "style-src-attr 'unsafe-inline'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if not (request.endpoint or "").startswith("static"):
        # Set, not setdefault: send_file and others put a weaker "no-cache" here first.
        response.headers["Cache-Control"] = NO_STORE
    elif response.status_code in (200, 304) and request.args.get("v") and request.args["v"] == (
            static_version(current_app.static_folder or "",
                           (request.view_args or {}).get("filename", ""))):
        response.headers["Cache-Control"] = STATIC_FOREVER
    hsts_seconds = int(current_app.config.get("HSTS_SECONDS", 0))
    # Only over HTTPS (browsers ignore it on plain HTTP, and it must not pin a dev server);
    # behind a proxy, is_secure follows X-Forwarded-Proto once PROXY_HOPS trusts it.
    if request.is_secure and hsts_seconds > 0:
        hsts = f"max-age={hsts_seconds}"
        if current_app.config.get("HSTS_INCLUDE_SUBDOMAINS"):
            hsts += "; includeSubDomains"
        response.headers["Strict-Transport-Security"] = hsts
    return response


def _template_globals() -> dict[str, Any]:
    # Emails are rendered by the worker with no request, and so no signed-in user.
    waiting = badges().waiting if has_request_context() else 0
    return {
        "waiting_count": waiting,
        "URGENCY_LABELS": URGENCY_LABELS,
        "ROLE_LABELS": ROLE_LABELS,
        "TRIGGER_LABELS": routing.TRIGGER_LABELS,
        "Urgency": Urgency,
        "Role": Role,
        "state_label": routing.state_label,
        "NOTIFICATION_KIND_LABELS": KIND_LABELS,
        "NOTIFICATION_STATUS_LABELS": STATUS_LABELS,
    }


def url_for_each(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """``url_for(endpoint, key=id, **values)`` for the many ids of a list, built once.

    A list page links each of its lines (50 memos, 50 audit events). Werkzeug's URL build
    took 8.4 µs a call, about 0.4 ms of a page's 5-6 ms of CPU; joining the built URL's two
    halves around the id takes well under one. The URL still comes from the route, once per
    page: ``{% set memo_url = url_for_each('memos.show', 'memo_id') %}`` then
    ``{{ memo_url(m.id) }}``.
    """
    values[key] = MAX_ID
    head, _, tail = url_for(endpoint, **values).partition(str(MAX_ID))
    return lambda id_: f"{head}{int(id_)}{tail}"


# A few states recur on every line of a list (50 a page): each is named, and its badge
# written, once per process. In the template an inbox line's badge took 7 µs (splitting the
# state for its class, naming it, Thai digits), 0.36 ms of the page's 1.4 ms of rendering.
@lru_cache(maxsize=256)
def state_name(state: str) -> str:
    """A state's Thai name in Thai digits: รอพิจารณา ลำดับที่ ๒."""
    return thai.thai_digits(routing.state_label(state))


@lru_cache(maxsize=256)
def state_badge(state: str) -> Markup:
    """A memo's state as a list line shows it: ``<span class="state state-pending">…</span>``."""
    return Markup('<span class="state state-{}">{}</span>').format(
        state.split("_")[0], state_name(state))


def digits_up_to(limit: int) -> str:
    """A regular expression of the ASCII numbers from 0 to ``limit``: for 2147483647, the
    numbers of up to 9 digits, or 1 and 9 more, or 20 and 8 more, … or 2147483647 itself."""
    top = str(limit)
    options = [f"[0-9]{{1,{len(top) - 1}}}"] if len(top) > 1 else []
    for i, digit in enumerate(top):
        if digit != "0":
            rest = len(top) - i - 1
            options.append(f"{top[:i]}[0-{int(digit) - 1}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(top)
    return "(?:" + "|".join(options) + ")"


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` limited to what an INTEGER column holds: a larger id is a 404, not a 500.
    ASCII digits only, as ``validation.parse_id`` rules for forms: werkzeug's ``\\d`` would
    also take "๑" or "²" as a path id.

    The bound is in the pattern, not only in ``max``: werkzeug checks the method before it
    converts, so a PATCH to an id past the bound would otherwise be a 405 (the GET of the
    same path "matched"), not the 404 the API documents."""

    regex = digits_up_to(MAX_ID)

    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def init_app(app: Flask) -> None:
    """Wire the login loader, filters, error handlers and headers into ``app``."""
    app.url_map.converters["int"] = BoundedIntConverter
    hops = int(app.config.get("PROXY_HOPS", 0))
    if hops:
        # Behind a reverse proxy the client's address is in X-Forwarded-For; trust only
        # as many hops as there are proxies, so rate limits and the audit see real IPs.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "กรุณาเข้าสู่ระบบก่อนใช้งาน"
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def _load_user(token: str) -> Principal | None:
        return load_principal(token, WEB)

    tz = app.config["TIMEZONE"]
    app.jinja_env.filters["thai_date"] = lambda v, thai_digits=True: thai.format_date(
        v, thai=thai_digits)
    app.jinja_env.filters["thai_datetime"] = lambda v, thai_digits=True: thai.format_datetime(
        v, tz=tz, thai=thai_digits)
    app.jinja_env.filters["thai_digits"] = thai.thai_digits
    app.jinja_env.globals["baht"] = steps.baht_text
    app.jinja_env.globals["url_for_each"] = url_for_each
    app.jinja_env.globals["state_badge"] = state_badge
    app.jinja_env.globals["state_name"] = state_name
    app.jinja_env.filters["thai_date_of"] = lambda v, thai_digits=True: thai.format_date(
        thai.to_local(v, tz).date() if v else None, thai=thai_digits)
    app.jinja_env.filters["admin_change"] = describe_change
    app.context_processor(_template_globals)

    app.register_error_handler(WorkflowError, _on_workflow_error)
    app.register_error_handler(CSRFError, _on_csrf_error)
    app.register_error_handler(RateLimitExceeded, _on_rate_limit)
    app.register_error_handler(HTTPException, _on_http_error)
    app.register_error_handler(Exception, _on_unexpected)
    app.before_request(_refuse_nul_bytes)
    app.after_request(_security_headers)
    app.url_defaults(_versioned_static)
