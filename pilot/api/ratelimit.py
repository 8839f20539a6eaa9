"""Failed authentications, limited per client IP (sliding window).

After ``auth_max_failures`` failed authentications (401) from one address within
``auth_failure_window_seconds``, requests from it carrying an ``Authorization`` header get
429 with ``Retry-After`` before their token is even looked at; anonymous (public) reads go
on. On the embedded SQLite default (one process) the counts live in this process
(``FailureLimiter``). On PostgreSQL they live in the table ``auth_attempt``, shared by every
worker and host (``SharedFailureLimiter``), and the limit is exact: a request is admitted
only if the failures in the window plus the distinct credentials already being checked for
that client stay within the limit, decided under a per-client advisory lock, so concurrent
wrong guesses sent to several workers at once cannot exceed it either. A token this worker
authenticated less than a second ago (``pilot.api.tokens``) is not a guess: its request
only asks whether the client is blocked (one SELECT, no lock, nothing written; at most
once a second per client and worker, like the token look-up itself), so a blocked client
is still refused with a valid token — at once when the failures were counted by this
worker, within one second when by another; should it get a 401 all the same (the token
revoked meanwhile), that failure is counted like any other. The client address
is the connection's peer; behind a reverse proxy, name it in ``PILOT_TRUSTED_PROXIES`` so
that the address its forwarding headers give is used instead (``pilot/api/serving.py``:
never from anyone else).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from hashlib import sha256
from threading import Lock
from typing import Protocol

from fastapi import Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pilot.api.tokens import CHECK_SECONDS
from pilot.auth.service import TOKEN_PREFIX
from pilot.coordination import advisory_key, auth_attempt, is_postgresql, lock_for_transaction
from pilot.db import is_unavailable, retry_on_disconnect

log = logging.getLogger("pilot.auth")
MAX_TRACKED_CLIENTS = 10_000  # memory bound: the oldest client is forgotten first


class FailureLimiter:
    def __init__(
        self,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.clock = clock
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        failures = self._failures.get(key, deque())
        while failures and failures[0] <= now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, key: str) -> int | None:
        """Seconds the client must wait, or None when it may try."""
        with self._lock:
            now = self.clock()
            failures = self._recent(key, now)
            if not failures:
                self._failures.pop(key, None)
            if len(failures) < self.max_failures:
                return None
            return max(1, math.ceil(failures[0] + self.window - now))

    def record_failure(self, key: str) -> int:
        """Count a failure; returns the failures in the window."""
        with self._lock:
            now = self.clock()
            failures = self._recent(key, now)
            failures.append(now)
            self._failures[key] = failures
            self._failures.move_to_end(key)
            while len(self._failures) > MAX_TRACKED_CLIENTS:
                self._failures.popitem(last=False)
            return len(failures)

    async def admit(self, client: str, authorization: str) -> Admission:
        return Admission(self.retry_after(client), None)

    async def blocked(self, client: str) -> int | None:
        return self.retry_after(client)

    async def settle(self, client: str, admission: Admission, failed: bool) -> int:
        return self.record_failure(client) if failed else 0


@dataclass(frozen=True)
class Admission:
    """Whether a request carrying credentials may be checked: ``wait`` is None when it
    may (else the seconds to wait), ``attempt`` what the limiter needs to settle it."""

    wait: int | None
    attempt: int | None


class Limiter(Protocol):
    async def admit(self, client: str, authorization: str) -> Admission: ...

    async def blocked(self, client: str) -> int | None: ...

    async def settle(self, client: str, admission: Admission, failed: bool) -> int: ...


class SharedFailureLimiter:
    """The limiter of every worker and host on one PostgreSQL database (table
    ``auth_attempt``, the database's clock). Each request carrying credentials is
    admitted, or not, under the client's advisory lock (held until that short transaction
    ends): admitted if the failures in the window plus the distinct credentials in flight,
    its own included, stay within ``max_failures``; it is then recorded in flight, and
    settled after the response: a 401 turns it into a failure, anything else deletes it.
    The same credential sent many times at once counts once while in flight (its answers
    will be the same), so a client's parallel requests with one valid token are never
    refused. An attempt left in flight by a killed worker ages out with the window."""

    def __init__(
        self,
        engine: Engine,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self.max_failures = max_failures
        self.window = timedelta(seconds=window_seconds)
        self.clock = clock
        # clients found not blocked, and when (this worker's clock): a vouched token's
        # request asks the database again only once that is a second old
        self._clear: OrderedDict[str, float] = OrderedDict()

    def _admit(self, client: str, digest: str) -> Admission:
        now = func.clock_timestamp()
        recent = and_(auth_attempt.c.client == client, auth_attempt.c.at > now - self.window)
        with self.engine.begin() as conn:
            lock_for_transaction(conn, advisory_key("auth", client))
            conn.execute(
                delete(auth_attempt).where(
                    auth_attempt.c.client == client, auth_attempt.c.at <= now - self.window
                )
            )
            # One statement, so one snapshot: read apart, an attempt settled as a failure
            # between the two reads was seen neither as a failure nor in flight, and one
            # guess too many was admitted (seen under load, two workers).
            recent_rows = conn.execute(
                select(
                    auth_attempt.c.digest,
                    auth_attempt.c.failed,
                    func.extract("epoch", auth_attempt.c.at + self.window - now),
                ).where(recent)
            ).all()
            failures = [float(left) for _, failed, left in recent_rows if failed]
            in_flight = {found for found, failed, _ in recent_rows if not failed}
            if len(failures) + len(in_flight | {digest}) > self.max_failures:
                if len(failures) < self.max_failures:  # only checks in flight stand in the way
                    return Admission(1, None)
                return Admission(max(1, math.ceil(min(failures))), None)
            attempt = conn.execute(
                insert(auth_attempt)
                .values(client=client, digest=digest, at=now, failed=False)
                .returning(auth_attempt.c.id)
            ).scalar_one()
            return Admission(None, int(attempt))

    def _blocked(self, client: str) -> int | None:
        now = func.clock_timestamp()
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            failures, seconds = conn.execute(
                select(
                    func.count(),
                    func.extract("epoch", func.min(auth_attempt.c.at) + self.window - now),
                ).where(
                    auth_attempt.c.client == client,
                    auth_attempt.c.at > now - self.window,
                    auth_attempt.c.failed,
                )
            ).one()
        return max(1, math.ceil(seconds)) if failures >= self.max_failures else None

    def _settle(self, client: str, attempt: int | None, failed: bool) -> int:
        with self.engine.begin() as conn:
            if not failed:
                if attempt is not None:
                    conn.execute(delete(auth_attempt).where(auth_attempt.c.id == attempt))
                return 0
            if attempt is None:  # a vouched token refused all the same (revoked meanwhile)
                conn.execute(
                    insert(auth_attempt).values(
                        client=client, digest="", at=func.clock_timestamp(), failed=True
                    )
                )
            else:
                conn.execute(
                    update(auth_attempt)
                    .where(auth_attempt.c.id == attempt)
                    .values(failed=True, at=func.clock_timestamp())
                )
            # every client's expired rows (clients that never came back)
            conn.execute(
                delete(auth_attempt).where(
                    auth_attempt.c.at <= func.clock_timestamp() - self.window
                )
            )
            return int(
                conn.execute(
                    select(func.count()).where(
                        auth_attempt.c.client == client,
                        auth_attempt.c.failed,
                        auth_attempt.c.at > func.clock_timestamp() - self.window,
                    )
                ).scalar_one()
            )

    async def admit(self, client: str, authorization: str) -> Admission:
        digest = sha256(authorization.encode("utf-8", "surrogateescape")).hexdigest()
        # the request's first statement: a connection the server closed is retried
        return await run_in_threadpool(
            retry_on_disconnect, lambda: self._admit(client, digest), lambda: None
        )

    async def blocked(self, client: str) -> int | None:
        seen = self._clear.get(client)
        if seen is not None and self.clock() - seen < CHECK_SECONDS:
            return None
        wait = await run_in_threadpool(
            retry_on_disconnect, lambda: self._blocked(client), lambda: None
        )
        if wait is None:
            self._clear[client] = self.clock()
            self._clear.move_to_end(client)
            while len(self._clear) > MAX_TRACKED_CLIENTS:
                self._clear.popitem(last=False)
        return wait

    async def settle(self, client: str, admission: Admission, failed: bool) -> int:
        if failed:
            self._clear.pop(client, None)  # this worker asks the database again
        if admission.attempt is None and not failed:
            return 0  # a vouched token's request: nothing was recorded in flight
        return await run_in_threadpool(self._settle, client, admission.attempt, failed)


def failure_limiter(
    engine: Engine, max_failures: int, window_seconds: float
) -> FailureLimiter | SharedFailureLimiter:
    """Shared through PostgreSQL, or kept in this process on SQLite (one process)."""
    if is_postgresql(engine):
        return SharedFailureLimiter(engine, max_failures, window_seconds)
    return FailureLimiter(max_failures, window_seconds)


def token_hint(authorization: str) -> str:
    """What may be logged of a bearer value: its public prefix, never the secret."""
    value = authorization.partition(" ")[2].strip()
    if value.startswith(TOKEN_PREFIX):
        return value[:12] + "…"
    return f"(jeton non PILOT de {len(value)} caractères)"


class FailedAuthLimit:
    """The limiter in front of the application, as plain ASGI middleware (Starlette's
    documented alternative to ``BaseHTTPMiddleware``, which runs the rest of the request
    in a task of its own and copies the response through a stream). ``unavailable``
    answers when the shared limiter's database cannot be reached (the request could not
    be authenticated either); ``vouched``: whether this worker authenticated that
    ``Authorization`` value less than a second ago. A request is settled when its
    response starts, before the client gets it (a 401 counts as a failure)."""

    def __init__(
        self,
        app: ASGIApp,
        limiter: Limiter,
        unavailable: Callable[[], Response],
        vouched: Callable[[str], bool] = lambda authorization: False,
    ) -> None:
        self.app = app
        self.limiter = limiter
        self.unavailable = unavailable
        self.vouched = vouched

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        authorization = Headers(scope=scope).get("authorization")
        if not authorization:
            await self.app(scope, receive, send)
            return
        client = scope["client"][0] if scope.get("client") else "inconnu"
        limiter = self.limiter
        try:
            if self.vouched(authorization):
                admission = Admission(await limiter.blocked(client), None)
            else:
                admission = await limiter.admit(client, authorization)
        except DBAPIError as error:
            if not is_unavailable(error):
                raise
            await self.unavailable()(scope, receive, send)
            return
        if admission.wait is not None:
            log.warning("authentication refused (rate limited): client=%s", client)
            refusal = JSONResponse(
                {
                    "detail": "Trop d'authentifications échouées depuis votre adresse. "
                    f"Réessayez dans {admission.wait} secondes."
                },
                status_code=429,
                headers={"Retry-After": str(admission.wait)},
            )
            await refusal(scope, receive, send)
            return
        settled: list[int] = []  # the failures counted, once settled

        async def settle(status: int) -> None:
            try:
                settled.append(await limiter.settle(client, admission, status == 401))
            except DBAPIError as error:  # the answer stands; the attempt ages out
                if not is_unavailable(error):
                    raise
                log.warning("failed-login limiter: database unreachable, attempt not settled")
                settled.append(0)

        async def send_once_settled(message: Message) -> None:
            if message["type"] == "http.response.start":
                await settle(message["status"])  # before the client can send another
                if message["status"] == 401:
                    log.warning(
                        "authentication failed: client=%s token=%s path=%s failures=%d",
                        client,
                        token_hint(authorization),
                        scope["path"],
                        settled[0],
                    )
            await send(message)

        try:
            await self.app(scope, receive, send_once_settled)
        finally:
            if not settled:  # no response started (an error)
                await settle(0)
