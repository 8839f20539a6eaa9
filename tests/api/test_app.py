from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from importers.panorama import import_panorama_file
from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role


@pytest.fixture
def client(engine: Engine, panorama_dir: Path) -> TestClient:
    with Session(engine) as session:
        for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
            import_panorama_file(session, panorama_dir / name)
        session.commit()
    return TestClient(create_app())


def test_healthz_answers_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_graphql_serves_real_projects_and_published_figures(
    client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        _, token = auth.create_token(session, actor="test", name="dinum", role=Role.DINUM)
        session.commit()
    query = (
        "{ projects(first: 100, filter: {inPanorama: true}) { nodes { id name ministry { code } } }"
        " portfolio { figures { projects totalCostBn totalCostText } } }"
    )
    response = client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    data = response.json()["data"]
    names = {p["name"] for p in data["projects"]["nodes"]}
    assert "FRANCECONNECT PHASE II" in names
    assert "FRANCE CONNECT" not in names  # in 2016 only: it left the panorama in 2017
    figures = data["portfolio"]["figures"]
    assert figures["projects"] == 61
    assert figures["totalCostBn"] == "2.56"
    assert figures["totalCostText"] == "2,56\u00a0Md€"


def test_graphiql_is_served(client: TestClient) -> None:
    response = client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


def test_unknown_bearer_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/graphql",
        json={"query": "{ ministries { code } }"},
        headers={"Authorization": "Bearer nope"},
    )
    assert response.status_code == 401


def test_valid_token_is_accepted(client: TestClient, engine: Engine) -> None:
    with Session(engine) as session:
        _, plaintext = auth.create_token(session, actor="test", name="dinum", role=Role.DINUM)
        session.commit()
    response = client.post(
        "/graphql",
        json={"query": "{ ministries { code } }"},
        headers={"Authorization": f"Bearer {plaintext}"},
    )
    assert response.status_code == 200
    assert {"code": "MAr"} in response.json()["data"]["ministries"]
