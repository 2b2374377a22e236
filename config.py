"""Configuration read from the environment.

Every setting has one name, the one Flask users already know where there is
one (``SECRET_KEY``, ``MAIL_SERVER`` …). ``create_app`` loads ``Config`` and then
lets a test override any key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("SARABAN_INSTANCE", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


class Config:
    """Settings for one running instance, taken from the environment."""

    # "development" relaxes what only makes sense behind HTTPS on a real server.
    ENV_NAME = os.environ.get("SARABAN_ENV", "production")
    DEVELOPMENT = ENV_NAME == "development"

    SECRET_KEY = os.environ.get("SECRET_KEY")
    DATABASE_URL = os.environ.get(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'saraban.sqlite3'}"
    )
    REDIS_URL = os.environ.get("REDIS_URL", "")
    # Handing an email to the worker must not hold up a signer's click when Redis is down:
    # give up connecting after this long, then skip the broker for BROKER_CIRCUIT_SECONDS
    # (the beat sweep sends what was not handed over).
    BROKER_CONNECT_TIMEOUT = float(os.environ.get("BROKER_CONNECT_TIMEOUT", "0.05"))
    BROKER_CIRCUIT_SECONDS = float(os.environ.get("BROKER_CIRCUIT_SECONDS", "30"))
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")
    TIMEZONE = os.environ.get("TIMEZONE", "Asia/Bangkok")
    INSTANCE_DIR = str(INSTANCE_DIR)

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "")
    MAIL_PORT = _int("MAIL_PORT", 25)
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME", "")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD", "")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "saraban@localhost")
    MAIL_TIMEOUT = _int("MAIL_TIMEOUT", 30)
    # Failed sends wait base * 2^(attempt-1) seconds (capped), then give up and show in the outbox.
    MAIL_MAX_ATTEMPTS = _int("MAIL_MAX_ATTEMPTS", 8)
    MAIL_RETRY_BASE_SECONDS = _int("MAIL_RETRY_BASE_SECONDS", 30)
    MAIL_RETRY_MAX_SECONDS = _int("MAIL_RETRY_MAX_SECONDS", 3600)
    # A row claimed this long ago by a worker that never finished is handed out again.
    NOTIFICATION_LEASE_SECONDS = _int("NOTIFICATION_LEASE_SECONDS", 300)
    OUTBOX_SWEEP_SECONDS = _int("OUTBOX_SWEEP_SECONDS", 30)
    # /healthz says "degraded" when an email due this long ago is still not sent: the sweep
    # runs every OUTBOX_SWEEP_SECONDS, so only a stopped worker or beat leaves one this late.
    HEALTH_OUTBOX_LATE_SECONDS = _int("HEALTH_OUTBOX_LATE_SECONDS", 600)
    # How long a process answers /healthz with its last round of checks.
    HEALTH_CACHE_SECONDS = _int("HEALTH_CACHE_SECONDS", 5)
    REMINDER_SWEEP_SECONDS = _int("REMINDER_SWEEP_SECONDS", 180)

    # Office time: reminders count only these hours, on working days.
    OFFICE_OPENS = os.environ.get("OFFICE_OPENS", "08:30")
    OFFICE_CLOSES = os.environ.get("OFFICE_CLOSES", "16:30")
    # First reminder and repeat interval per urgency, in office time (h, m, or d = office day).
    REMINDER_POLICY = json.loads(os.environ["REMINDER_POLICY"]) if os.environ.get(
        "REMINDER_POLICY") else {
        "most_urgent": {"first": "2h", "repeat": "2h"},
        "very_urgent": {"first": "4h", "repeat": "4h"},
        "urgent": {"first": "1d", "repeat": "1d"},
        "normal": {"first": "2d", "repeat": "2d"},
    }
    # After this many reminders of one step the drafter is told the memo has stalled.
    ESCALATE_AFTER = _int("ESCALATE_AFTER", 3)

    # Cookies: Secure everywhere except plain-HTTP development on localhost.
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", not DEVELOPMENT)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = _int("SESSION_HOURS", 12) * 3600

    # Bodies above this are refused with 413 before a view runs.
    MAX_CONTENT_LENGTH = _int("MAX_CONTENT_MB", 25) * 1024 * 1024

    # argon2id cost; the defaults are argon2-cffi's recommendation (RFC 9106 low-memory).
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_KIB = _int("ARGON2_MEMORY_KIB", 65536)
    PASSWORD_MIN_LENGTH = _int("PASSWORD_MIN_LENGTH", 10)

    # Attachments (สิ่งที่ส่งมาด้วย): stored outside the web root, each at most this size.
    ATTACHMENT_MAX_MB = _int("ATTACHMENT_MAX_MB", 20)
    # An office may lower or raise these two in its settings.
    ATTACHMENTS_PER_MEMO = _int("ATTACHMENTS_PER_MEMO", 20)
    OFFICE_STORAGE_MB = _int("OFFICE_STORAGE_MB", 5120)
    # Days a removed attachment's file is kept (for an undo by the drafter) before it is
    # deleted, unless a submitted version of the memo names it.
    ATTACHMENT_RETENTION_DAYS = _int("ATTACHMENT_RETENTION_DAYS", 30)
    ATTACHMENT_DIR = os.environ.get("ATTACHMENT_DIR", "")  # default: instance/attachments
    # Where each audit chain's head is appended once a day (default: instance/anchors).
    AUDIT_ANCHOR_DIR = os.environ.get("AUDIT_ANCHOR_DIR", "")

    # PDF rendering runs in a child process held to these limits (workflow/pdf.py): a memo
    # body that needs more gets a Thai message and stays as it is.
    PDF_MEMORY_MB = _int("PDF_MEMORY_MB", 768)
    PDF_TIMEOUT_SECONDS = _int("PDF_TIMEOUT_SECONDS", 20)
    PDF_CONCURRENT = _int("PDF_CONCURRENT", 2)  # renders at once per web process

    # The office seal (workflow/seal/): its private keys are encrypted with a key derived from
    # SEAL_KEY (default: SECRET_KEY; set its own so rotating SECRET_KEY keeps the seals). A
    # timestamp from SEAL_TSA_URL (RFC 3161) makes the final PDF PAdES B-T; none, B-B.
    SEAL_KEY = os.environ.get("SEAL_KEY", "")
    SEAL_TSA_URL = os.environ.get("SEAL_TSA_URL", "")
    SEAL_TSA_TIMEOUT = _int("SEAL_TSA_TIMEOUT", 10)
    # How often the beat seals approved memos whose task was lost or failed.
    SEAL_SWEEP_SECONDS = _int("SEAL_SWEEP_SECONDS", 300)
    # PEM file of the roots the verifier trusts for timestamps (the TSA's CA).
    SEAL_TSA_ROOTS = os.environ.get("SEAL_TSA_ROOTS", "")
    # Verify by upload: the largest PDF read (while streaming) and how often one address may.
    VERIFY_MAX_MB = _int("VERIFY_MAX_MB", 20)
    VERIFY_LIMIT = os.environ.get("VERIFY_LIMIT", "20 per minute")
    # The sandbox pyHanko reads an upload in (per check; checks at once per web process).
    VERIFY_MEMORY_MB = _int("VERIFY_MEMORY_MB", 768)
    VERIFY_TIMEOUT_SECONDS = _int("VERIFY_TIMEOUT_SECONDS", 10)
    VERIFY_CONCURRENT = _int("VERIFY_CONCURRENT", 2)

    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    API_TOKEN_HOURS = _int("API_TOKEN_HOURS", 12)

    # How many reverse proxies stand in front (0: none); their X-Forwarded-* are trusted.
    PROXY_HOPS = _int("PROXY_HOPS", 0)

    # Strict-Transport-Security on HTTPS answers, so a browser that has been here once never
    # again tries plain HTTP (where a network attacker could strip TLS). 0 turns it off, e.g.
    # while trying HTTPS out; sub-domains only when every one of them serves HTTPS.
    HSTS_SECONDS = _int("HSTS_SECONDS", 31536000)
    HSTS_INCLUDE_SUBDOMAINS = _bool("HSTS_INCLUDE_SUBDOMAINS", False)

    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "") or None
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "30 per minute")
    LOGIN_LIMIT_PER_USERNAME = os.environ.get("LOGIN_LIMIT_PER_USERNAME", "10 per 5 minutes")
