from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, TypeVar

from sqlmodel import Session
from starlette.requests import Request
from strawberry.types import Info

from pilot import db
from pilot.api.graphql.cache import AnswerCache
from pilot.api.graphql.loaders import Loaders
from pilot.auth.service import Principal
from pilot.config import Settings, get_settings
from pilot.opinions.clock import today_in_paris

T = TypeVar("T")


@dataclass
class Context:
    """One per request: the read session, who is asking, and the request's DataLoaders."""

    session: Session
    principal: Principal
    settings: Settings = field(default_factory=get_settings)
    today: date = field(default_factory=date.today)
    # The server's event loop: requests execute in worker threads (router.py), on loops
    # of their own; what must run on the server's loop is handed to it.
    loop: asyncio.AbstractEventLoop | None = None
    # The answer cache (cache.py): the data version read for this request, and the key
    # the answer of a query that executed is stored under.
    answers: AnswerCache | None = None
    authorization: str | None = None  # the header, identified in the worker thread
    data_version: int | None = None
    answer_key: Hashable | None = None
    cached: bytes | None = None  # the answer found by the extension, sent as it is
    request: Request | None = None  # the HTTP request (the app's state: import turns)

    @cached_property
    def dates(self) -> tuple[date, ...]:
        """The days answers may depend on (late milestones, opinion clocks)."""
        return (self.today, today_in_paris())

    @cached_property
    def loaders(self) -> Loaders:
        return Loaders(self.session, today=self.today)

    async def on_server_loop(self, work: Coroutine[Any, Any, T]) -> T:
        """Runs ``work`` on the server's event loop, waiting here for its result (for
        what lives on that loop: the import turns' semaphore, its thread pool)."""
        if self.loop is None or self.loop is asyncio.get_running_loop():
            return await work
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction of its own (``BEGIN IMMEDIATE`` on SQLite), committed on
        success. The read session's snapshot is refreshed around it, so that what the
        mutation returns is read after the commit."""
        self.session.rollback()
        engine = self.session.get_bind()
        with db.session_scope(engine, write=True) as session:  # type: ignore[arg-type]
            yield session
        self.session.rollback()
        self.__dict__.pop("loaders", None)


def ctx(info: Info) -> Context:
    context: Context = info.context
    return context
