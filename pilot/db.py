"""Database engine and sessions, for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with foreign keys on and a busy timeout. Python's
sqlite3 driver is told to leave transactions to us, so that a write session
starts with ``BEGIN IMMEDIATE``: it takes the write lock up front and can never
deadlock by upgrading a read lock later. Read sessions use a plain ``BEGIN``.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, MetaData, create_engine, event, exc, text
from sqlalchemy.engine import Connection, make_url
from sqlmodel import Session, SQLModel

from pilot.config import get_settings

metadata: MetaData = SQLModel.metadata  # naming convention: see pilot/__init__.py

T = TypeVar("T")
_WRITE = "pilot_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url`` with PILOT's connection settings.

    Importing ``pilot.models`` here registers every table (foreign keys between areas
    resolve) and the history guard, whichever entry point (CLI, API, scheduler) runs.
    """
    import pilot.models  # noqa: F401
    from pilot.coordination import install_versioning

    if is_sqlite(url):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        _configure_sqlite(engine)
        install_versioning(engine)
        return engine
    engine = create_engine(url, **kwargs)
    install_versioning(engine)
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        write = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@lru_cache
def get_engine() -> Engine:
    return make_engine(get_settings().resolved_database_url())


def write_engine(engine: Engine) -> Engine:
    """The same engine, whose transactions take the write lock from the start (SQLite)."""
    return engine.execution_options(**{_WRITE: True})


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """A session in one transaction: committed on success, rolled back on any error."""
    engine = engine or get_engine()
    bind = write_engine(engine) if write else engine
    with Session(bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def read_connection(session: Session) -> Connection:
    """The connection a read session runs its statements on. On PostgreSQL it is in
    autocommit: a request that only reads sends its SELECTs alone, without the ``BEGIN``
    and ``ROLLBACK`` round trips (under READ COMMITTED each statement had its own
    snapshot anyway). The session's bind stays the engine: what a mutation writes goes
    through a write session of its own (``session_scope``), in a transaction."""
    if session.get_bind().dialect.name == "postgresql":
        return session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return session.connection()


def retry_on_disconnect(work: Callable[[], T], reset: Callable[[], None]) -> T:
    """``work`` (a request's first statements), once more on a new connection if the
    connection it took from the pool had been closed by the server (PostgreSQL
    restarted, a connection killed): the engine does not ping each connection before
    use (``pool_pre_ping``, a round trip per request); SQLAlchemy's "optimistic"
    disconnect handling instead invalidates the pool on the first such error
    (``DBAPIError.connection_invalidated``), and the work is retried here. ``reset``
    releases the dead connection (a session's ``rollback``)."""
    try:
        return work()
    except exc.DBAPIError as error:
        if not error.connection_invalidated:
            raise
        reset()
        return work()


def is_unavailable(error: BaseException) -> bool:
    """A database error that means "cannot reach or open the database", not a bug."""
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        return True
    return isinstance(error, exc.DBAPIError) and error.connection_invalidated


def create_all(engine: Engine) -> None:
    """Create every table directly (tests); production goes through Alembic."""
    import pilot.models  # noqa: F401  (registers every table)

    metadata.create_all(engine)


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database ``<prefix>_<random>`` on the server of
    ``server_url``, dropped (its connections closed first) on exit; yields its URL.
    For test runs and benchmarks, which must never collide with each other."""
    server = make_url(server_url)
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
