"""Imports take turns: at most ``import_max_concurrency`` run at once — in the process on
the embedded SQLite default (``ImportTurns``), across every worker and host on PostgreSQL
(``SharedImportTurns``).

An import reads, validates and writes for up to seconds in a worker thread, with a
database connection. Unbounded, fifty uploads at once would take every pooled connection
(the GraphQL requests, which wait for theirs on the event loop, would then freeze the
whole server) and, on SQLite, queue on the single write lock. The others wait here, on
the event loop, holding neither a thread nor a connection; past ``import_wait_seconds``
they are refused with 503 and ``Retry-After`` (French message), nothing recorded.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import Connection, Engine
from starlette.concurrency import run_in_threadpool

from pilot.coordination import import_slot_key, is_postgresql, try_lock, unlock

BUSY = (
    "Trop d'imports sont en cours : votre fichier n'a pas été pris en compte. "
    "Renvoyez-le dans une minute."
)
RETRY_AFTER_SECONDS = 60


class ImportsBusy(Exception):
    """No turn came within the wait: refuse (503), nothing was recorded."""


class ImportTurns:
    def __init__(self, size: int, wait_seconds: float) -> None:
        self.size = size
        self.wait_seconds = wait_seconds
        self._semaphore: asyncio.Semaphore | None = None  # made on the server's loop

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.size)
        try:
            await asyncio.wait_for(self._semaphore.acquire(), self.wait_seconds)
        except TimeoutError as error:
            raise ImportsBusy(BUSY) from error
        try:
            yield
        finally:
            self._semaphore.release()


POLL_SECONDS = 0.1  # how often a waiting import tries the shared turns again


class SharedImportTurns:
    """The same turns, shared by every worker and host on one PostgreSQL database: a turn
    is one of ``size`` advisory locks (``pilot.coordination.import_slot_key``), held by a
    connection set aside for the import's whole duration. A waiting import tries them
    again every ``POLL_SECONDS`` (each try holds a connection for a moment, never while it
    sleeps) for up to ``wait_seconds``, then is refused like above. A worker that dies
    mid-import (even SIGKILL) closes its connection, which releases its turn."""

    def __init__(self, engine: Engine, size: int, wait_seconds: float) -> None:
        self.engine = engine
        self.size = size
        self.wait_seconds = wait_seconds

    def _try_take(self) -> tuple[Connection, int] | None:
        connection = self.engine.connect()
        try:
            for slot in range(self.size):
                key = import_slot_key(slot)
                if try_lock(connection, key):
                    connection.commit()  # the lock outlives the transaction: session level
                    return connection, key
            connection.rollback()
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        connection.close()
        return None

    @staticmethod
    def _give_back(connection: Connection, key: int) -> None:
        try:
            unlock(connection, key)
            connection.commit()
        except Exception:
            connection.invalidate()  # closing the connection releases the lock
            raise
        finally:
            connection.close()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        deadline = asyncio.get_running_loop().time() + self.wait_seconds
        while True:
            taken = await run_in_threadpool(self._try_take)
            if taken is not None:
                break
            if asyncio.get_running_loop().time() + POLL_SECONDS > deadline:
                raise ImportsBusy(BUSY)
            await asyncio.sleep(POLL_SECONDS)
        try:
            yield
        finally:
            await run_in_threadpool(self._give_back, *taken)


def import_turns(engine: Engine, size: int, wait_seconds: float) -> ImportTurns | SharedImportTurns:
    """Turns shared through PostgreSQL, or kept in this process on SQLite (one process)."""
    if is_postgresql(engine):
        return SharedImportTurns(engine, size, wait_seconds)
    return ImportTurns(size, wait_seconds)


__all__ = [
    "BUSY",
    "RETRY_AFTER_SECONDS",
    "ImportTurns",
    "ImportsBusy",
    "SharedImportTurns",
    "import_turns",
]
