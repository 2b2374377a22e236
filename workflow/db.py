"""The database engine and the two kinds of session the app uses.

``db.session`` is the request's read session, closed when the app context
ends. ``db.write()`` opens a fresh unit of work for a service: on SQLite it
starts with ``BEGIN IMMEDIATE`` so that two writers queue up instead of one
failing half-way; on PostgreSQL services lock rows with ``FOR UPDATE``.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache, lru_cache, wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Engine, bindparam, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria
from sqlmodel import Session

from .models import OfficeScoped

# Execution option of the rare query that must read every office while a request acts for
# one (checking the installation-wide audit chain): ``.execution_options(all_offices=True)``.
ALL_OFFICES = "all_offices"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for any PostgreSQL URL."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


# A pooled connection unused for this long is checked before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 10.0


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle, not on every checkout.

    ``pool_pre_ping`` pings on every checkout, and a request checks out up to three times
    (sign-in read, the write, the reply's read): three extra round trips on each approval.
    A connection that was in use a moment ago is alive; one that sat idle may have been cut
    by a database restart or a firewall, and is pinged. A failed ping raises
    DisconnectionError, on which the pool throws it away and connects afresh (SQLAlchemy's
    documented pessimistic-disconnect pattern)."""

    @event.listens_for(engine, "checkin")
    def _note_return(_dbapi_connection: Any, record: Any) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned = record.info.get("returned_at")
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # new, or busy a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means: not usable
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


# psycopg prepares a statement on a connection after this many runs of it.
WRITE_PREPARE_THRESHOLD = 5


def _prepare_only_writes(engine: Engine) -> None:
    """Reads are planned for their own values on every run; writes reuse a prepared plan.

    A prepared statement lets PostgreSQL keep one generic plan for every value, and for a
    read that can be far off: a signer's word search at 100,000 memos planned once for any
    word scanned every trigram match before sorting (181 ms p50 generic, 51 ms planned for
    the word), and a list whose filter matches all or none of the memos (the clerk's
    drafts, the head's) wants a different plan for each. So connections prepare nothing
    while they read. A write transaction looks rows up by their keys (the memo, its steps,
    the audit head), where the generic plan is the right one and planning again was most
    of PostgreSQL's time for an approval (0.5 ms to plan the memo's locked read, 0.13 ms to
    run it): ``Database.write`` turns preparing on for its connection, and the pool turns
    it off again when the connection comes back. (PostgreSQL still plans a prepared
    statement's first five runs for their values before it settles on a generic plan.)"""

    @event.listens_for(engine, "connect")
    def _reads_unprepared(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.prepare_threshold = None

    @event.listens_for(engine, "checkin")
    def _back_to_reading(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.prepare_threshold = None


def _prepares(session: Session) -> Any:
    """The psycopg connection of ``session``, or None on SQLite (which prepares nothing)."""
    dbapi_connection = session.connection().connection.dbapi_connection
    return dbapi_connection if hasattr(dbapi_connection, "prepare_threshold") else None


def prepare_writes(session: Session) -> None:
    """Let the write transaction of ``session`` reuse prepared plans (PostgreSQL)."""
    connection = _prepares(session)
    if connection is not None:
        connection.prepare_threshold = WRITE_PREPARE_THRESHOLD


@contextmanager
def prepared_plans(session: Session) -> Iterator[None]:
    """Within the block, the read session's statements may be prepared: a lookup by key
    that runs on every request (the principal by its token), whose generic plan is the
    right one, and which PostgreSQL took 0.4 ms to plan for a 0.04 ms run."""
    connection = _prepares(session)
    if connection is None:
        yield
        return
    connection.prepare_threshold = WRITE_PREPARE_THRESHOLD
    try:
        yield
    finally:
        connection.prepare_threshold = None


class PlanHints:
    """What a query learnt about the data that chooses only its plan, never its answer,
    kept a while in this process: a reader whom many rows name, a word in many subjects.
    Asking again would cost a statement on every search; since the answer does not ride on
    a hint, a stale one can only cost time. At most ``entries`` keys: past that, every hint
    is forgotten at once (a bound, not an eviction policy)."""

    def __init__(self, seconds: float, entries: int) -> None:
        self.seconds = seconds
        self.entries = entries
        self._until: dict[Any, float] = {}  # key -> monotonic time it is kept until

    def __contains__(self, key: Any) -> bool:
        return self._until.get(key, 0.0) > time.monotonic()

    def __len__(self) -> int:
        return len(self._until)

    def add(self, key: Any) -> None:
        if len(self._until) >= self.entries:
            self._until.clear()
        self._until[key] = time.monotonic() + self.seconds

    def clear(self) -> None:
        self._until.clear()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with the SQLite pragmas and transaction mode this app relies on."""
    url = normalise_url(url)
    if not url.startswith("sqlite"):
        # Settings for short statements under many concurrent requests, as this app sends.
        # No JIT: PostgreSQL compiles a plan that costs over 100,000, and a list's LIMIT over
        # an office's memos is costed as if it read them all; a head's search for two common
        # characters ran in 1.6 ms and spent 14 ms more compiling (200 offices x 5,000
        # memos). No parallel workers: for a word in 1,657 of an office's subjects one was
        # started, 6.8 ms against 3.7 without it, and on a busy server it takes another
        # request's core. (EXPLAIN ANALYZE, bench/offices_scale.py's database.)
        # A database host that does not answer fails a connection after 5 s, not after the
        # system's TCP timeout (minutes), so a request or /healthz says so in time.
        connect_args = {"options": "-c jit=off -c max_parallel_workers_per_gather=0",
                        "connect_timeout": 5, **kwargs.pop("connect_args", {})}
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        _ping_when_idle(engine)
        _prepare_only_writes(engine)
        return engine
    path = url.split("///", 1)[-1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide how each transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def scope_to_office(org_id: int | None) -> None:
    """Until the app context ends, every ORM query of office data (``OfficeScoped`` tables)
    sees only office ``org_id``'s rows; None lifts it (the installation's own people)."""
    g.office_scope = org_id


def office_scope() -> int | None:
    """The office this app context is limited to, if any (none in tasks and commands)."""
    return g.get("office_scope") if has_app_context() else None


# The bound parameter the office criteria compare org_id with; its value is the request's
# office, given at each execution.
OFFICE_PARAM = "office_scope_org_id"


@event.listens_for(Session, "do_orm_execute")
def _limit_to_office(state: ORMExecuteState) -> None:
    """The one place office isolation is enforced: add "this office's rows only" to every
    SELECT, UPDATE and DELETE of office data, joins and subqueries included, so that a
    query written tomorrow cannot leak another office's records by forgetting a filter."""
    org_id = office_scope()
    if (org_id is None or state.is_column_load or state.is_relationship_load
            or state.execution_options.get(ALL_OFFICES)):
        return
    if state.is_select:
        state.statement = _scoped(state.statement)
        parameters: Any = state.parameters
        if isinstance(parameters, (list, tuple)):  # executemany: each row is in the office
            state.parameters = [{**row, OFFICE_PARAM: org_id} for row in parameters]
        else:
            state.parameters = {**(parameters or {}), OFFICE_PARAM: org_id}
    elif state.is_update or state.is_delete:
        # With the office's id as a value: an ORM UPDATE or DELETE also applies its criteria
        # in Python to the objects the session holds (synchronize_session="evaluate"), and
        # a bound parameter there has no value. They are few, and not on a hot path.
        state.statement = state.statement.options(*_office_criteria_of(org_id))


# Each statement's "office only" copy, kept while the statement lives: a single copy serves
# every office, since the office is a bound parameter. A statement built once
# (``per_thread``) so gets the same scoped copy on every run, and SQLAlchemy keeps the cache
# key it computed for it (building the key of a statement with these options anew took a
# tenth of an approval's time); a statement built per call is collected with its copy.
_SCOPED: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _scoped(statement: Any) -> Any:
    scoped = _SCOPED.get(statement)
    if scoped is None:
        scoped = _SCOPED[statement] = statement.options(*_office_criteria())
    return scoped


@lru_cache(maxsize=1024)
def _office_criteria_of(org_id: int) -> tuple[Any, ...]:
    """The "office ``org_id`` only" options for an UPDATE or DELETE, built once per office."""
    return tuple(
        with_loader_criteria(table, lambda cls: cls.org_id == org_id, include_aliases=True)
        for table in _scoped_tables())


@cache
def _office_criteria() -> tuple[Any, ...]:
    """The "this office only" options, one per office table, built once. The office is a
    bound parameter, not a value the lambda closes over: a closed-over value is extracted
    from every statement's cache key and matched to the cached statement's parameters at
    each execution, twenty of them (one per office table) even for a query of one table,
    which took about a tenth of an approval's CPU."""
    return tuple(
        # The name is written out: SQLAlchemy tracks a name the lambda reads from outside.
        with_loader_criteria(table, lambda cls: cls.org_id == bindparam("office_scope_org_id"),
                             include_aliases=True)
        for table in _scoped_tables())


@cache
def _scoped_tables() -> tuple[type, ...]:
    """Every mapped table marked ``OfficeScoped``, found once."""
    found, todo = [], list(OfficeScoped.__subclasses__())
    while todo:
        table = todo.pop()
        todo.extend(table.__subclasses__())
        if hasattr(table, "__table__"):
            found.append(table)
    return tuple(sorted(set(found), key=lambda t: t.__name__))


P = ParamSpec("P")
T = TypeVar("T")


def per_thread(build: Callable[P, T]) -> Callable[P, T]:
    """Build a statement the first time each thread asks for it (for each set of arguments,
    which say its shape: locked or not, with or without a part), then hand back the same
    one, its values passed as bound parameters when it runs.

    Building a statement (its joins, its comparisons, each alias's copy of its table's
    columns) and then its cache key cost about a third of an approval's time when done on
    every call. Per thread rather than per process: an alias adapts its columns lazily into
    caches that are not safe to fill from two threads at once (loading whole rows of one
    shared alias failed now and then with NoSuchColumnError under 8 concurrent clients)."""
    return _per_thread(build, None)


def per_thread_upto(count: int) -> Callable[[Callable[P, T]], Callable[P, T]]:
    """``per_thread`` for statements whose shapes the user chooses (a search: which fields,
    how many words): each thread keeps the ``count`` used last, so that a stream of new
    shapes costs their building, not memory without end."""
    if count < 1:
        raise ValueError("per_thread_upto keeps at least one statement")
    return lambda build: _per_thread(build, count)


def _per_thread(build: Callable[P, T], count: int | None) -> Callable[P, T]:
    local = threading.local()

    @wraps(build)
    def built(*args: P.args, **kwargs: P.kwargs) -> T:
        cache_: dict[Any, T] = local.__dict__.setdefault("built", {})
        key = (args, tuple(sorted(kwargs.items())))
        if key in cache_:
            if count is not None:  # used now: to the end, where the last to go wait
                cache_[key] = cache_.pop(key)
            return cache_[key]
        if count is not None and len(cache_) >= count:
            del cache_[next(iter(cache_))]  # the least recently used: dicts keep their order
        cache_[key] = built_now = build(*args, **kwargs)
        return built_now

    return built


class Database:
    """Holds the engine of one app; created once, bound in ``init_app``."""

    def init_app(self, app: Flask) -> None:
        engine = make_engine(app.config["DATABASE_URL"])
        app.extensions["saraban_db"] = engine
        # PostgreSQL reads outside a transaction: no BEGIN and COMMIT round trips around the
        # few SELECTs of a request, and no transaction held open while it renders. Each
        # SELECT sees committed data as of its start, which is all a page needs; everything
        # that must be consistent (checks, then writes) runs in ``write()``. SQLite keeps a
        # transaction, so a page reads one WAL snapshot.
        app.extensions["saraban_db_reader"] = (
            engine if engine.dialect.name == "sqlite"
            else engine.execution_options(isolation_level="AUTOCOMMIT"))
        app.teardown_appcontext(self._close_session)

    @property
    def engine(self) -> Engine:
        return current_app.extensions["saraban_db"]  # type: ignore[no-any-return]

    @property
    def session(self) -> Session:
        """The read session of the current request (or app context)."""
        if "db_session" not in g:
            g.db_session = Session(current_app.extensions["saraban_db_reader"],
                                   expire_on_commit=False)
        return g.db_session  # type: ignore[no-any-return]

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: commits if the block ends normally, rolls back if it raises."""
        engine = self.engine
        if engine.dialect.name == "sqlite":
            engine = engine.execution_options(sqlite_begin="IMMEDIATE")
        # Hand the read session's connection back to the pool before taking one to write
        # with: a request must never hold one connection while it waits for another, or
        # enough concurrent requests (20 signers clicking at once) exhaust the pool and all
        # wait on each other. It only read, so committing it changes nothing, and with
        # expire_on_commit=False the rows it loaded stay usable.
        reader = g.get("db_session")
        if reader is not None:
            reader.commit()
        with Session(engine, expire_on_commit=False) as session:
            try:
                prepare_writes(session)
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
        # The request's read session may hold a snapshot (SQLite) or cached rows from
        # before this write; end its transaction so the page shows what was just saved.
        reader = g.get("db_session")
        if reader is not None:
            reader.rollback()

    @staticmethod
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
