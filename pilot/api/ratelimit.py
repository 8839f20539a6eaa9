"""Failed authentications, limited per client IP (sliding window, in process).

After ``auth_max_failures`` failed authentications (401) from one address within
``auth_failure_window_seconds``, requests from it carrying an ``Authorization`` header get
429 with ``Retry-After`` before their token is even looked at; anonymous (public) reads go
on. The counts live in this process: behind several workers, each keeps its own, so the
effective limit is multiplied by the number of workers; a shared store (PostgreSQL or
Redis) would be needed to make it exact. The client address is the connection's peer;
behind a reverse proxy, name it in ``PILOT_TRUSTED_PROXIES`` so that the address its
forwarding headers give is used instead (``pilot/api/serving.py``: never from anyone else).
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from threading import Lock

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from pilot.auth.service import TOKEN_PREFIX

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


def token_hint(authorization: str) -> str:
    """What may be logged of a bearer value: its public prefix, never the secret."""
    value = authorization.partition(" ")[2].strip()
    if value.startswith(TOKEN_PREFIX):
        return value[:12] + "…"
    return f"(jeton non PILOT de {len(value)} caractères)"


def failed_auth_middleware(
    limiter: FailureLimiter,
) -> Callable[[Request, Callable[[Request], Awaitable[Response]]], Awaitable[Response]]:
    async def middleware(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        authorization = request.headers.get("authorization")
        client = request.client.host if request.client else "inconnu"
        if authorization:
            wait = limiter.retry_after(client)
            if wait is not None:
                log.warning("authentication refused (rate limited): client=%s", client)
                return JSONResponse(
                    {
                        "detail": "Trop d'authentifications échouées depuis votre adresse. "
                        f"Réessayez dans {wait} secondes."
                    },
                    status_code=429,
                    headers={"Retry-After": str(wait)},
                )
        response = await call_next(request)
        if authorization and response.status_code == 401:
            count = limiter.record_failure(client)
            log.warning(
                "authentication failed: client=%s token=%s path=%s failures=%d",
                client,
                token_hint(authorization),
                request.url.path,
                count,
            )
        return response

    return middleware
