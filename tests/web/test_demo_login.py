"""The demo's login (no ProConnect, no password) exists only on a demo machine: the setting,
AND SQLite, AND a request from and to the loopback address; never otherwise."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from pilot.config import Settings
from pilot.web.demo import demo_login_allowed

SQLITE = "sqlite:///var/pilot.db"
POSTGRES = "postgresql+psycopg://pilot@db.interne/pilot"


def _request(client: str, host: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "scheme": "http",
            "path": "/connexion/demo",
            "query_string": b"",
            "headers": [(b"host", host.encode())],
            "client": (client, 50000),
            "server": ("127.0.0.1", 8000),
        }
    )


@pytest.mark.parametrize(
    ("enabled", "url", "client", "host", "public_url", "allowed"),
    [
        (True, SQLITE, "127.0.0.1", "127.0.0.1:8000", "", True),
        (True, SQLITE, "::1", "localhost:8000", "", True),
        (False, SQLITE, "127.0.0.1", "127.0.0.1:8000", "", False),  # not switched on
        (True, POSTGRES, "127.0.0.1", "127.0.0.1:8000", "", False),  # production database
        (True, SQLITE, "192.0.2.10", "127.0.0.1:8000", "", False),  # from another machine
        (True, SQLITE, "127.0.0.1", "pilot.numerique.gouv.fr", "", False),  # behind a proxy
        (True, SQLITE, "127.0.0.1", "127.0.0.1:8000", "https://pilot.gouv.fr", False),
    ],
)
def test_the_demo_login_is_only_possible_on_a_demo_machine(
    enabled: bool, url: str, client: str, host: str, public_url: str, allowed: bool
) -> None:
    settings = Settings(demo_login=enabled, database_url=url, public_url=public_url)
    assert demo_login_allowed(_request(client, host), settings) is allowed
