"""The load driver (``benchmarks/load.py``) run small, so that it cannot rot: a real
uvicorn server, a few clients for a few seconds, every kind of request, then no error and
no lost import (SQLite, and PostgreSQL when ``PILOT_TEST_DATABASE_URL`` is set)."""

from __future__ import annotations

import pytest

from benchmarks.load import run_load
from tests.conftest import BACKENDS, PG_URL

pytestmark = pytest.mark.slow


@pytest.mark.timeout(300)
@pytest.mark.parametrize("backend", BACKENDS)
def test_load_driver_smoke(backend: str) -> None:
    summary = run_load(
        clients=4,
        seconds=4,
        database_url=PG_URL if backend == "postgresql" else None,
        ministries=2,
        weights={"public": 1, "dinum": 1, "upload": 1},
        log=lambda _line: None,
    )
    assert summary["errors"] == 0, summary["error_examples"]
    assert summary["lost_imports"] == 0, summary["lost_examples"]
    assert summary["refused_429_503"] == 0
    assert all(kind["requests"] > 0 for kind in summary["kinds"].values()), summary
    assert summary["uploads_accepted"] == summary["upload_statuses"].get("applied")
    assert summary["uploads_accepted"] >= 1
