"""Bearer tokens already checked by this worker, remembered for at most one second.

Looking a token up costs a statement per request; a client sending many requests with
the same token pays it at most once a second per worker. An entry is used only while

- it is less than ``seconds`` old (1 s): a token revoked or expired in another process is
  refused by every worker within one second at most;
- and the data version (``pilot.coordination``) is the one read when it was checked,
  where the caller knows it (GraphQL reads it for every request): revoking a token is a
  write, which bumps the version, so a GraphQL request is refused at once after it.

Only tokens that authenticated are remembered (never a refusal), keyed by the SHA-256 of
the ``Authorization`` value, never the secret itself. The failed-login limiter
(``pilot.api.ratelimit``) takes a token remembered here for no guess: it only asks
whether the client is blocked (a client blocked for its failures is refused even with a
valid token).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from pilot.auth.service import Principal

CHECK_SECONDS = 1.0
MAX_ENTRIES = 4096


class _Checked(NamedTuple):
    principal: Principal
    at: float  # monotonic clock
    version: int | None


def digest(authorization: str) -> str:
    return hashlib.sha256(authorization.encode("utf-8", "surrogateescape")).hexdigest()


class PrincipalCache:
    def __init__(
        self,
        seconds: float = CHECK_SECONDS,
        size: int = MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = seconds
        self.size = size
        self.clock = clock
        self._entries: OrderedDict[str, _Checked] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, authorization: str, version: int | None = None) -> Principal | None:
        """The principal checked less than a second ago (at ``version`` when given)."""
        key = digest(authorization)
        with self._lock:
            found = self._entries.get(key)
        if found is None or self.clock() - found.at >= self.seconds:
            return None
        if version is not None and found.version != version:
            return None
        return found.principal

    def put(self, authorization: str, principal: Principal, version: int | None = None) -> None:
        key = digest(authorization)
        with self._lock:
            self._entries[key] = _Checked(principal, self.clock(), version)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
