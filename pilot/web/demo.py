"""The demo's login without ProConnect (``make demo``): pick an account, no password.

It exists only for a newcomer trying PILOT on their own machine, and cannot be switched on
in production: it answers only when ``PILOT_DEMO_LOGIN=true`` AND the database is SQLite
(the embedded default; production runs on PostgreSQL) AND the request both comes from and
is addressed to the loopback interface (a reverse proxy forwards from elsewhere, and a
served host name is not ``localhost``). Otherwise its pages do not exist (404)."""

from __future__ import annotations

import ipaddress

from fastapi import Request

from pilot.config import Settings
from pilot.db import is_sqlite

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1", "[::1]"}


def _is_loopback_address(value: str | None) -> bool:
    try:
        return value is not None and ipaddress.ip_address(value).is_loopback
    except ValueError:
        return False


def demo_login_allowed(request: Request, settings: Settings) -> bool:
    host = (request.url.hostname or "").lower()
    return (
        settings.demo_login
        and is_sqlite(settings.resolved_database_url())
        and _is_loopback_address(request.client.host if request.client else None)
        and (host in LOOPBACK_NAMES or _is_loopback_address(host))
        and not settings.public_url.startswith("https://")
    )
