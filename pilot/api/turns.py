"""Imports take turns: at most ``import_max_concurrency`` run at once in a process.

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


__all__ = ["BUSY", "RETRY_AFTER_SECONDS", "ImportTurns", "ImportsBusy"]
