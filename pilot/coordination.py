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
  as every write to editions (a session event, :func:`_bump_on_edition_writes`), read by
  the GraphQL answer cache: an answer cached by one worker is never served once another
  process published or loaded an edition;
- **failed authentications** (table ``auth_attempt``): the failed-login limiter of every
  worker counts the same rows (``pilot.api.ratelimit``).

On the embedded SQLite default (one process) the same tables exist; the limiter and
import turns keep their in-process versions there, and SQLite serialises every write
transaction anyway (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    event,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session as OrmSession

from pilot.db import metadata
from pilot.editions.models import Edition, EditionRow

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


# Tables whose writes change what the GraphQL answer cache may have kept.
VERSIONED = (Edition, EditionRow)

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


def current_data_version(connection: Connection) -> int:
    """The data version (0 before the first bump)."""
    found = connection.execute(select(data_version.c.version)).scalar()
    return int(found or 0)


@event.listens_for(OrmSession, "before_flush")
def _bump_on_edition_writes(session: OrmSession, _context: Any, _instances: Any) -> None:
    """A flush that writes an edition or an edition row bumps the data version in the same
    transaction: committed with it, rolled back with it. The row update also makes
    concurrent publications take turns on it until commit (they do anyway: the
    publication lock)."""
    touched = (*session.new, *session.dirty, *session.deleted)
    if any(isinstance(obj, VERSIONED) for obj in touched):
        session.connection().execute(_BUMP)
