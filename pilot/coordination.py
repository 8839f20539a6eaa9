"""What must hold across processes (web workers, hosts, the scheduler), kept in the database.

PILOT in production runs several web workers, on several hosts, and the scheduler as its
own process, all on one PostgreSQL database; whatever they must agree on lives there:

- **advisory locks** (PostgreSQL): a lock named by :func:`advisory_key` is held by one
  connection at a time, across every process and host, and released when its holder
  unlocks it, when its transaction ends (``pg_advisory_xact_lock``) or when its
  connection closes — a worker killed with SIGKILL never leaves one behind. They give
  the scheduler its single instance (``pilot.scheduler``), imports their turns
  (``pilot.api.turns``) and publications their one-at-a-time (``pilot.editions``);
- **the data version** (table ``data_version``, one row): bumped in the same transaction
  as every write (:func:`install_versioning`: engine events, whatever the writer: ORM
  flush, bulk Core ``insert()``, ``text()`` or driver SQL), read by the GraphQL answer
  cache: an answer cached by one worker is never served once any process (another
  worker or host, the CLI, the scheduler) committed a write;
- **failed authentications** (table ``auth_attempt``): the failed-login limiter of every
  worker counts the same rows (``pilot.api.ratelimit``).

On the embedded SQLite default (one process) the same tables exist; the limiter and
import turns keep their in-process versions there, and SQLite serialises every write
transaction anyway (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Delete,
    Engine,
    Index,
    Insert,
    Integer,
    String,
    Table,
    TextClause,
    Update,
    event,
    text,
)
from sqlalchemy.engine import Connection

from pilot.db import metadata

data_version = Table(
    "data_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

auth_attempt = Table(
    "auth_attempt",
    metadata,
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True),
    Column("client", String(64), nullable=False),  # the client's IP address
    Column("digest", String(64), nullable=False),  # SHA-256 of the Authorization value
    Column("at", DateTime(timezone=True), nullable=False),  # the database's clock
    Column("failed", Boolean, nullable=False),  # false: in flight, true: answered 401
    Index("ix_auth_attempt_client_at", "client", "at"),
    Index("ix_auth_attempt_at", "at"),
)


def advisory_key(*parts: str | int) -> int:
    """The 64-bit key of the advisory lock named by ``parts`` (the same in every process)."""
    name = ":".join(["pilot", *(str(p) for p in parts)]).encode()
    return int.from_bytes(hashlib.blake2b(name, digest_size=8).digest(), "big", signed=True)


PUBLICATION_LOCK = advisory_key("publication")
SCHEDULER_LOCK = advisory_key("scheduler")


def import_slot_key(slot: int) -> int:
    """The advisory lock of import turn ``slot`` (0 … import_max_concurrency − 1)."""
    return advisory_key("import-slot", slot)


_BUMP = text(
    "INSERT INTO data_version (id, version) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET version = data_version.version + 1"
)


def is_postgresql(bind: Any) -> bool:
    return bool(bind.dialect.name == "postgresql")


def try_lock(connection: Connection, key: int) -> bool:
    """Take the session-level advisory lock ``key`` on ``connection`` if it is free."""
    return bool(connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())


def unlock(connection: Connection, key: int) -> None:
    connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})


def lock_for_transaction(connection: Connection, key: int) -> None:
    """Wait for the advisory lock ``key``; it is released when the transaction ends."""
    connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})


READ_VERSION = "SELECT version FROM data_version"


def current_data_version(connection: Connection) -> int:
    """The data version (0 before the first bump). Read before every GraphQL request: sent
    as plain SQL (``exec_driver_sql``), without building and compiling a statement."""
    found = connection.exec_driver_sql(READ_VERSION).scalar()
    return int(found or 0)


# Tables whose writes change no answer: the version is not bumped for them.
UNVERSIONED_TABLES = frozenset({"data_version", "auth_attempt", "alembic_version"})
# Execution option of a connection whose writes never bump the version (migrations: the
# table may not exist yet; the processes restart after them anyway).
UNVERSIONED = "pilot_unversioned"
_WROTE = "pilot_wrote"  # key of Connection.info: a write in the current transaction

_WRITE_SQL = re.compile(
    r"\s*(?:insert\s+into|update|delete\s+from|merge\s+into|truncate(?:\s+table)?|copy)"
    r"\s+(?:only\s+)?(?:\w+\.)?\"?(\w+)",
    re.IGNORECASE,
)
_WITH_WRITE = re.compile(r"\s*with\b.*\b(?:insert|update|delete)\b", re.IGNORECASE | re.DOTALL)


def written_table(statement: object) -> str | None:
    """The table a statement writes (``"?"`` when it writes but the table is unknown),
    or None for a statement that writes nothing."""
    if isinstance(statement, Insert | Update | Delete):
        return str(getattr(statement.table, "name", "?"))
    sql = statement.text if isinstance(statement, TextClause) else statement
    if not isinstance(sql, str):
        return None  # SELECT, DDL
    found = _WRITE_SQL.match(sql)
    if found:
        return found.group(1).lower()
    return "?" if _WITH_WRITE.match(sql) else None


def _note_write(
    conn: Connection, statement: object, _multi: Any, _params: Any, options: Any
) -> None:
    if _WROTE in conn.info:
        return
    table = written_table(statement)
    if table is None or table in UNVERSIONED_TABLES:
        return
    if options.get(UNVERSIONED) or conn.get_execution_options().get(UNVERSIONED):
        return
    conn.info[_WROTE] = True


def _bump_after_autocommit_write(
    conn: Connection, _statement: object, _multi: Any, _params: Any, options: Any, _result: Any
) -> None:
    """A write in autocommit mode is already committed: bump at once."""
    if _WROTE in conn.info and (
        options.get("isolation_level") == "AUTOCOMMIT"
        or conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
    ):
        del conn.info[_WROTE]
        conn.execute(_BUMP)


def _bump_before_commit(conn: Connection) -> None:
    """The transaction wrote: bump the version in it, just before it commits (the row
    stays locked only for the time of the commit)."""
    if conn.info.pop(_WROTE, False):
        conn.execute(_BUMP)


def _forget_writes(conn: Connection, *_args: Any) -> None:
    if not conn.invalidated:  # an invalidated connection's info is gone with it
        conn.info.pop(_WROTE, None)


def install_versioning(engine: Engine) -> None:
    """Every transaction of ``engine`` that writes a PILOT table bumps the data version
    in the same transaction, committed or rolled back with it (SQLAlchemy's documented
    ``ConnectionEvents``: ``before_execute`` notes a write, ``commit`` bumps)."""
    event.listen(engine, "before_execute", _note_write)
    event.listen(engine, "after_execute", _bump_after_autocommit_write)
    event.listen(engine, "commit", _bump_before_commit)
    event.listen(engine, "rollback", _forget_writes)
