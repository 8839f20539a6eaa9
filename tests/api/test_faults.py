"""The database unavailable: 503 with a French body, /healthz says so, no 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pilot import config, db
from pilot.api.app import create_app
from pilot.db import make_engine


def _client_on(url: str, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    engine = make_engine(url)
    monkeypatch.setattr(db, "get_engine", lambda: engine)
    return TestClient(create_app(), raise_server_exceptions=False)


@pytest.fixture(
    params=["postgresql-port-1", "sqlite-directory"],
)
def broken(
    request: pytest.FixtureRequest,
    settings: config.Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> TestClient:
    if request.param == "postgresql-port-1":  # nothing listens on port 1: refused at once
        return _client_on("postgresql+psycopg://pilot@127.0.0.1:1/pilot", monkeypatch)
    folder = tmp_path / "not-a-file.db"
    folder.mkdir()  # SQLite cannot open a directory as a database file
    return _client_on(f"sqlite:///{folder}", monkeypatch)


def test_healthz_says_the_database_is_unavailable(broken: TestClient) -> None:
    response = broken.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "injoignable"
    assert "indisponible" in body["detail"]
    assert response.headers["Retry-After"] == "30"


def test_authenticated_request_gets_503_not_500(broken: TestClient) -> None:
    response = broken.post(
        "/graphql",
        json={"query": "{ ministries { code } }"},
        headers={"Authorization": "Bearer pilot_whatever"},
    )
    assert response.status_code == 503
    assert "base de données" in response.json()["detail"]


def test_healthz_is_ok_when_the_database_answers(engine: Engine) -> None:
    response = TestClient(create_app()).get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_anonymous_graphql_query_gets_503_not_an_error_in_a_200(broken: TestClient) -> None:
    response = broken.post("/graphql", json={"query": "{ portfolio { figures { projects } } }"})
    assert response.status_code == 503
    assert "indisponible" in response.json()["detail"]
    assert response.headers["Retry-After"] == "30"
