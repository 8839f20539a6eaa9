"""Every hostile GraphQL request of ``graphql_corpus.py`` gets the answer it must get
(refused before execution, with a code and a French message, or HTTP 400), nothing is
written, and the server answers ``/healthz`` right after (SQLite, and PostgreSQL when
``PILOT_TEST_DATABASE_URL`` is set)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.ministries import service as ministries
from tests.hostile.graphql_corpus import GraphQLCase, cases
from tests.hostile.support import table_counts

CASES = cases()


@pytest.fixture
def served(engine: Engine) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Session(engine) as session:
        mi = ministries.create_ministry(session, "MI", "Ministère de l'Intérieur")
        tokens = {
            "ministry": auth.create_token(
                session, actor="test", name="mi", role=Role.MINISTRY, ministry=mi
            )[1],
            "dinum": auth.create_token(session, actor="test", name="dinum", role=Role.DINUM)[1],
        }
        session.commit()
    yield TestClient(create_app(), raise_server_exceptions=False), tokens


def test_case_names_are_unique_and_each_says_what_it_is() -> None:
    assert len({c.name for c in CASES}) == len(CASES)
    assert all(c.what and (c.status != 200 or c.code is None or c.fragment) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hostile_graphql_request_gets_its_answer(
    served: tuple[TestClient, dict[str, str]], engine: Engine, case: GraphQLCase
) -> None:
    client, tokens = served
    headers = {} if case.role == "public" else {"Authorization": f"Bearer {tokens[case.role]}"}
    before = table_counts(engine)
    if case.body is not None:
        headers["Content-Type"] = "application/json"
        response = client.post("/graphql", content=case.body, headers=headers)
    elif case.method == "GET":
        response = client.get("/graphql", params={"query": case.query}, headers=headers)
    else:
        payload = {"query": case.query, "variables": case.variables}
        response = client.post("/graphql", json=payload, headers=headers)
    assert response.status_code == case.status, response.text[:300]
    if case.status != 200:
        assert case.fragment in response.json()["detail"]
    else:
        body = response.json()
        errors = body.get("errors") or []
        assert all(e.get("extensions", {}).get("code") for e in errors)
        if case.code is None:
            assert not errors, errors[0]
        else:
            assert errors and errors[0]["extensions"]["code"] == case.code, errors[:1]
            assert case.fragment in errors[0]["message"]
            assert body.get("data") is None  # refused before execution
    assert table_counts(engine) == before
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "ok"
