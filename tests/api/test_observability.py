"""Health, readiness, request ids, JSON logs and metrics (pilot/api/observability.py)."""

from __future__ import annotations

import json
import logging
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pilot import migrations
from pilot.api.app import create_app
from pilot.api.observability import REQUEST_ID, JsonFormatter, RequestIdFilter
from pilot.config import get_settings


def test_readyz_says_not_ready_until_the_schema_is_migrated(engine: Engine) -> None:
    client = TestClient(create_app())
    assert client.get("/healthz").status_code == 200  # alive all the same
    response = client.get("/readyz")  # tables made without Alembic: no version recorded
    assert response.status_code == 503
    assert response.json()["schema"] == "à migrer (pilot db upgrade)"
    assert response.headers["Retry-After"]


def test_readyz_is_ready_at_the_migrations_head(
    engine: Engine, tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilot import db

    migrated = db.make_engine(f"sqlite:///{tmp_path}/migrated.db")
    migrations.upgrade(migrated)
    monkeypatch.setattr(db, "get_engine", lambda: migrated)
    response = TestClient(create_app()).get("/readyz")
    assert response.status_code == 200
    assert response.json()["schema"] == "ok"
    migrations.downgrade(migrated, "0002")
    assert TestClient(create_app()).get("/readyz").status_code == 503
    migrated.dispose()


def test_a_request_id_is_generated_unless_a_trusted_proxy_gives_one(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    direct = TestClient(create_app(), client=("192.0.2.10", 5000))
    response = direct.get("/healthz", headers={"X-Request-Id": "forged-id"})
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])
    monkeypatch.setenv("PILOT_TRUSTED_PROXIES", "192.0.2.10")
    get_settings.cache_clear()
    proxied = TestClient(create_app(), client=("192.0.2.10", 5000))
    assert proxied.get("/healthz", headers={"X-Request-Id": "abc-123"}).headers["x-request-id"] == (
        "abc-123"
    )
    refused = proxied.get("/healthz", headers={"X-Request-Id": "bad id;" + "x" * 10})
    assert re.fullmatch(r"[0-9a-f]{32}", refused.headers["x-request-id"])


def test_access_lines_carry_the_request_id_and_format_as_json(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    client = TestClient(create_app())
    with caplog.at_level(logging.INFO, logger="pilot.access"):
        response = client.get("/healthz")
    record = next(r for r in caplog.records if r.name == "pilot.access")
    token = REQUEST_ID.set(response.headers["x-request-id"])
    try:
        RequestIdFilter().filter(record)
    finally:
        REQUEST_ID.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == response.headers["x-request-id"]
    assert (line["logger"], line["method"], line["path"], line["status"]) == (
        "pilot.access",
        "GET",
        "/healthz",
        200,
    )


def test_metrics_answer_only_the_allowed_addresses(engine: Engine) -> None:
    outside = TestClient(create_app(), client=("192.0.2.20", 5000))
    assert outside.get("/metrics").status_code == 404
    local = TestClient(create_app(), client=("127.0.0.1", 5000))
    local.post("/graphql", json={"query": "{ ministries { code } }"})
    local.post("/graphql", json={"query": "{ nothingHere }"})
    text = local.get("/metrics").text
    assert "pilot_graphql_request_seconds_count" in text
    assert "pilot_graphql_error_responses_total" in text
    assert 'pilot_imports_total{status="applied"}' not in text  # none yet
    assert "pilot_publications_total 0.0" in text
