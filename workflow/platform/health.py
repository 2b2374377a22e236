"""Whether this installation can serve, as a load balancer and the host's monitoring ask it
(``GET /healthz``, ``flask --app wsgi health``).

Four checks, each bounded when what it checks is down (Redis 0.5 s, a new database
connection 5 s; a request waits as long for a free pooled connection as any page does),
and a process answers from its last round for ``HEALTH_CACHE_SECONDS`` (5):

- **database**: one ``SELECT``.
- **schema**: the database's Alembic revision against the newest migration this code needs:
  the newest it ships, passing over a contract (a migration marked ``CONTRACT = True``,
  which only drops what the code no longer reads; run last in an upgrade while serving).
  Code started on a database not yet migrated fails where it reads what is not there yet
  (a new index's function, a new column), page by page; here it is said at once.
- **redis**: a PING. Without Redis the app still serves and records every action (the
  outbox's periodic sweep sends what could not be queued), so it only degrades.
- **outbox**: how long the oldest email that is due has waited. With the Celery worker or
  beat stopped nothing is sent and nothing fails; this is how it shows.

The status is ``failing`` (HTTP 503: take this instance out) when the database cannot be
read or its schema is older than the code; ``degraded`` (200: serve, and alert) when Redis
or the outbox is; ``ok`` otherwise.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import redis
from flask import current_app
from sqlalchemy import func, text
from sqlmodel import select

from config import BASE_DIR

from .. import clock
from ..extensions import db
from ..models import Notification, NotificationStatus
from ..outbox.delivery import office_active

_LOGGER = logging.getLogger(__name__)

OK, DEGRADED, FAILING = "ok", "degraded", "failing"
# A failure of these takes the instance out; of the others, it serves on.
_VITAL = ("database", "schema")
# Each migration's file is named YYYYMMDD_NNNN_what.py, NNNN its revision (the history is
# one line: tests/test_health.py checks that Alembic's head is the highest).
_MIGRATION = re.compile(r"\d{8}_(\d{4})_\w+\.py")


@dataclass(frozen=True)
class Check:
    ok: bool
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    checks: dict[str, Check]

    @property
    def status(self) -> str:
        if any(not self.checks[name].ok for name in _VITAL if name in self.checks):
            return FAILING
        return OK if all(check.ok for check in self.checks.values()) else DEGRADED

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status,
                "checks": {name: {"ok": check.ok, **check.facts}
                           for name, check in self.checks.items()}}


_VERSIONS = BASE_DIR / "migrations" / "versions"
# How a migration says it is a contract, at the start of a line of its module.
_CONTRACT = re.compile(r"^CONTRACT = True\b", re.MULTILINE)


def _migrations(versions: Path) -> list[tuple[str, Path]]:
    """(revision, file) of each migration, newest first; read from the file names, as
    importing Alembic took 0.45 s of every process's start."""
    try:
        paths = list(versions.iterdir())
    except OSError:
        return []
    return sorted(((m.group(1), path) for path in paths
                   if (m := _MIGRATION.fullmatch(path.name))), reverse=True)


@lru_cache(maxsize=1)
def code_revision(versions: Path = _VERSIONS) -> str | None:
    """The revision of the newest migration this code ships (Alembic's head); None without
    any."""
    found = _migrations(versions)
    return found[0][0] if found else None


@lru_cache(maxsize=1)
def needed_revision(versions: Path = _VERSIONS) -> str | None:
    """The oldest revision this code serves on: the newest migration it ships that is not a
    contract (``CONTRACT = True``: it only drops what no code since an earlier revision
    reads). None without any."""
    for revision, path in _migrations(versions):
        try:
            if not _CONTRACT.search(path.read_text(encoding="utf-8")):
                return revision
        except OSError:
            return revision
    return None


def recent() -> Health:
    """``check`` of the current app, answered again from the last one for
    ``HEALTH_CACHE_SECONDS``: the endpoint needs no sign-in and each balancer asks every few
    seconds, so that however many ask, a process runs one round of checks per interval."""
    config = current_app.config
    max_age = float(config["HEALTH_CACHE_SECONDS"])
    found = _kept(max_age)
    if found is not None:
        return found
    # One round at a time: while a round waits (a slow database), the others answer from
    # the last one rather than each holding a thread and a pooled connection.
    lock: threading.Lock = current_app.extensions.setdefault("health_lock", threading.Lock())
    if not lock.acquire(blocking=False):
        found = _kept(None)
        if found is not None:
            return found
        lock.acquire()  # the process's first round: nothing to answer from yet
    try:
        found = _kept(max_age)  # a round that ended while this request waited for it
        if found is None:
            started = time.monotonic()
            found = check(config)
            current_app.extensions["health_kept"] = (started, found)
        return found
    finally:
        lock.release()


def _kept(max_age: float | None) -> Health | None:
    """This process's last answer, if it is at most ``max_age`` seconds old (None: any)."""
    kept = current_app.extensions.get("health_kept")
    if kept is None or (max_age is not None and time.monotonic() - kept[0] >= max_age):
        return None
    return kept[1]  # type: ignore[no-any-return]


def check(config: Mapping[str, Any], now: datetime | None = None) -> Health:
    """Every check, each on its own: one that fails does not stop the others. ``config``:
    the app's (``REDIS_URL``, ``HEALTH_OUTBOX_LATE_SECONDS``)."""
    now = now or clock.now()
    redis_url = config.get("REDIS_URL") or ""
    late_after_seconds = float(config["HEALTH_OUTBOX_LATE_SECONDS"])
    checks = {"database": _database()}
    if checks["database"].ok:
        checks["schema"] = _schema()
        checks["outbox"] = _outbox(now, late_after_seconds)
    checks["redis"] = _redis(redis_url)
    return Health(checks)


# How long a check's statement may run, waiting for a lock included (PostgreSQL): a table
# locked by a migration or a VACUUM FULL would otherwise hold the answer for as long.
_STATEMENT_TIMEOUT = text("SELECT set_config('statement_timeout', :ms, true)")
STATEMENT_TIMEOUT_MS = 2000


def _read(statement: Any) -> Any:
    """The first column of the first row, or the exception. In a transaction of its own,
    as the request's reads have none (``db.Database``) and the timeout is set for one;
    on a connection, not the ORM session, so no office's scope narrows what it reads."""
    try:
        with db.engine.connect() as connection, connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(_STATEMENT_TIMEOUT, {"ms": str(STATEMENT_TIMEOUT_MS)})
            return connection.execute(statement).scalar()
    except Exception as exc:  # noqa: BLE001 - reported, whatever it is
        return exc


def _database() -> Check:
    found = _read(text("SELECT 1"))
    if isinstance(found, Exception):
        _LOGGER.warning("health: the database cannot be read: %s", found)
        return Check(False, {"error": type(found).__name__})
    return Check(True)


_REVISION = text("SELECT version_num FROM alembic_version")


def database_revision() -> str | None:
    """The Alembic revision the app's database is at (None: not migrated yet); raises when
    it cannot be read."""
    at = _read(_REVISION)
    if isinstance(at, Exception):
        raise at
    return None if at is None else str(at)


def _schema() -> Check:
    expected = needed_revision()
    if expected is None:
        return Check(False, {"error": "no migrations found with this code"})
    at = _read(_REVISION)
    if isinstance(at, Exception):
        # The database answered a moment ago: most likely there is no such table yet.
        _LOGGER.warning("health: the schema's revision cannot be read: %s", at)
        return Check(False, {"at": None, "expected": expected, "error": type(at).__name__,
                             "message": _BEHIND})
    # "latest" differs from "expected" while a contract migration is still to run.
    facts = {"at": at, "expected": expected, "latest": code_revision()}
    if at is None or str(at) < expected:
        return Check(False, {**facts, "message": _BEHIND})
    # A newer schema than the code is what a rolling upgrade passes through: it serves.
    return Check(True, facts)


_BEHIND = ("ฐานข้อมูลยังไม่เป็นรุ่นที่โปรแกรมนี้ต้องการ: เรียก flask --app wsgi db-upgrade "
           "(the database schema is older than this code: run flask --app wsgi db-upgrade)")


def _outbox(now: datetime, late_after_seconds: float) -> Check:
    """The oldest email that is due and not sent; suspended offices' emails wait by design."""
    due_since = func.coalesce(Notification.next_attempt_at, Notification.created_at)
    # The installation's outbox, whoever asks (``_read`` is not limited to an office).
    oldest = _read(select(func.min(due_since)).where(
        Notification.status == NotificationStatus.PENDING, office_active()))
    if isinstance(oldest, Exception):
        _LOGGER.warning("health: the outbox cannot be read: %s", oldest)
        return Check(False, {"error": type(oldest).__name__})
    if oldest is not None and oldest.tzinfo is None:  # SQLite's min() loses the type
        oldest = oldest.replace(tzinfo=UTC)
    late = max(0, int((now - oldest).total_seconds())) if oldest is not None else 0
    if late > late_after_seconds:
        return Check(False, {"late_seconds": late, "message": (
            f"มีอีเมลค้างส่งนาน {late} วินาที: ตรวจว่า Celery worker และ beat ทำงานอยู่ "
            f"(an email due {late} s ago is not sent: is the Celery worker and beat running?)")})
    return Check(True, {"late_seconds": late})


def _redis(url: str) -> Check:
    if not url:
        return Check(True, {"configured": False})  # in-memory limits, no broker: nothing to ask
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5, socket_timeout=0.5)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # noqa: BLE001 - reported, whatever it is
        _LOGGER.warning("health: Redis does not answer: %s", exc)
        return Check(False, {"error": type(exc).__name__})
    return Check(True)
