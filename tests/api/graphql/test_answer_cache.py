"""Answers cached by (query, variables, operation, caller's scope, data version, day):
served again while no write happened, never across scopes, never for a mutation or an
answer with an error; tokens checked at most a second ago; a dropped connection retried."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool
from sqlmodel import Session
from strawberry import Schema

from pilot.api.app import create_app
from pilot.api.graphql import cache as cache_module
from pilot.api.graphql import router as router_module
from pilot.api.graphql.cache import AnswerCache
from pilot.api.tokens import PrincipalCache
from pilot.auth import service as auth
from pilot.db import session_scope
from pilot.projects.models import Project
from tests.api.graphql.conftest import Demo


@pytest.fixture
def executions(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """The keys of the answers stored, one per query that executed."""
    stored: list[object] = []
    real = AnswerCache.put

    def spy(self: AnswerCache, key: object, encoded: bytes) -> None:
        stored.append(key)
        real(self, key, encoded)

    monkeypatch.setattr(AnswerCache, "put", spy)
    yield stored


PROJECTS = "{ projects(first: 500) { totalCount nodes { id name currentCostEur } } }"


def test_a_repeated_query_is_answered_from_the_cache(demo: Demo, executions: list[object]) -> None:
    first = demo.client.post(
        "/graphql",
        json={"query": PROJECTS},
        headers={"Authorization": f"Bearer {demo.tokens['dinum']}"},
    )
    second = demo.client.post(
        "/graphql",
        json={"query": "  " + PROJECTS.replace(" ", "  ")},  # the same, normalised
        headers={"Authorization": f"Bearer {demo.tokens['dinum']}"},
    )
    assert first.status_code == second.status_code == 200
    assert second.content == first.content and len(executions) == 1
    assert first.json()["data"]["projects"]["totalCount"] > 50


def test_a_hit_sends_the_body_encoded_when_cached(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    query = "{ edition(number: 1) { number projects { name ministryCode } } }"
    first = demo.client.post("/graphql", json={"query": query})
    assert first.status_code == 200 and "errors" not in first.json()

    def not_again(*args: object, **kwargs: object) -> None:
        raise AssertionError("a cache hit is neither parsed, executed nor encoded again")

    monkeypatch.setattr(router_module, "_encoded", not_again)
    monkeypatch.setattr(Schema, "execute", not_again)
    second = demo.client.post("/graphql", json={"query": query})
    assert second.status_code == 200 and second.content == first.content


def test_ministries_never_get_each_others_answers(demo: Demo, executions: list[object]) -> None:
    mine = demo.gql(PROJECTS, role="ministry")["data"]["projects"]
    theirs = demo.gql(PROJECTS, role="other")["data"]["projects"]
    everyone = demo.gql(PROJECTS, role="dinum")["data"]["projects"]
    assert len(executions) == 3  # three scopes, three executions
    mine_ids = {n["id"] for n in mine["nodes"]}
    theirs_ids = {n["id"] for n in theirs["nodes"]}
    assert mine_ids and theirs_ids and not mine_ids & theirs_ids
    assert mine_ids | theirs_ids <= {n["id"] for n in everyone["nodes"]}
    assert demo.gql(PROJECTS, role="ministry")["data"]["projects"] == mine
    assert demo.gql(PROJECTS, role="other")["data"]["projects"] == theirs
    assert len(executions) == 3


def test_a_confidential_project_cached_for_dinum_is_not_served_to_another_scope(
    demo: Demo, executions: list[object]
) -> None:
    query = "query($id: ID!) { project(id: $id) { name confidential currentCostEur } }"
    variables = {"id": demo.confidential}
    seen = demo.gql(query, variables, role="dinum")
    assert seen["data"]["project"]["confidential"] is True
    assert seen["data"]["project"]["currentCostEur"] is not None
    refused = demo.gql(query, variables, role="ministry")  # another ministry's project
    assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert demo.gql(query, variables)["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert len(executions) == 1  # errors are never cached
    assert demo.gql(query, variables, role="ministry") == refused


def test_me_is_cached_per_token(demo: Demo, engine: Engine) -> None:
    with session_scope(engine, write=True) as session:
        _, second = auth.create_token(
            session, actor="test", name="Autre agent DINUM", role=auth.Role.DINUM
        )
    query = "{ me { name role } }"
    first = demo.gql(query, role="dinum")["data"]["me"]
    demo.tokens["second"] = second
    other = demo.gql(query, role="second")["data"]["me"]
    assert other == {"name": "Autre agent DINUM", "role": "DINUM"} != first


def test_a_write_by_another_process_invalidates(
    demo: Demo, engine: Engine, executions: list[object]
) -> None:
    query = "query($id: ID!) { project(id: $id) { name } }"
    variables = {"id": demo.drifting}
    before = demo.gql(query, variables, role="dinum")["data"]["project"]["name"]
    with session_scope(engine, write=True) as session:
        project = session.get(Project, int(demo.drifting.split("-")[-1]))
        assert project is not None and project.name == before
        project.name = "Nouveau nom"
    assert demo.gql(query, variables, role="dinum")["data"]["project"]["name"] == "Nouveau nom"
    assert len(executions) == 2


def test_mutations_are_never_cached(demo: Demo, executions: list[object]) -> None:
    mutation = (
        "mutation($i: AddRiskInput!) { addRisk(input: $i) { title } }",
        {"i": {"projectId": demo.drifting, "title": "Risque", "probability": 1, "impact": 1}},
    )
    assert "errors" not in demo.gql(*mutation, role="ministry")
    again = demo.gql(*mutation, role="ministry")  # executed again: the risk now exists
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert executions == []


def test_the_cache_is_bounded_in_bytes() -> None:
    cache = AnswerCache(max_bytes=1000)
    for i in range(10):
        cache.put(i, b"x" * 200)
    assert cache.size_bytes <= 1000 and len(cache) == 2
    assert cache.get(9) is not None and cache.get(0) is None
    cache.put("huge", b"x" * 2000)  # larger than the whole cache: not kept
    assert cache.get("huge") is None


def test_a_revoked_token_is_refused_at_once(demo: Demo, engine: Engine) -> None:
    query = "{ me { role } }"
    assert demo.gql(query, role="dinum")["data"]["me"]["role"] == "DINUM"
    with Session(engine) as session:
        found = auth.authenticate(session, demo.tokens["dinum"])
    assert found is not None and found.token_id is not None
    with session_scope(engine, write=True) as session:  # as `pilot token revoke` does
        auth.revoke_token(session, found.token_id, actor="test")
    response = demo.client.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {demo.tokens['dinum']}"},
    )
    assert response.status_code == 401


def test_a_checked_token_is_remembered_one_second_at_most() -> None:
    now = [100.0]
    cache = PrincipalCache(clock=lambda: now[0])
    cache.put("Bearer x", auth.PUBLIC, version=3)
    assert cache.get("Bearer x", 3) is auth.PUBLIC
    assert cache.get("Bearer x", 4) is None  # something was written since: check again
    now[0] += 1.0
    assert cache.get("Bearer x", 3) is None


def test_a_connection_closed_by_the_server_is_retried(demo: Demo, engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL closes connections; SQLite has none to lose")
    query = "{ editions { number } }"
    assert "errors" not in demo.gql(query, role="dinum")
    admin = create_engine(engine.url, poolclass=NullPool)
    with admin.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    admin.dispose()
    assert killed
    response = demo.client.post(
        "/graphql",
        json={"query": "{ editions { number } projects(first: 1) { totalCount } }"},
        headers={"Authorization": f"Bearer {demo.tokens['dinum']}"},
    )
    assert response.status_code == 200 and "errors" not in response.json()
    assert "errors" not in demo.gql(query, role="dinum")


def test_the_cache_can_be_switched_off(monkeypatch: pytest.MonkeyPatch, demo: Demo) -> None:
    from pilot import config

    monkeypatch.setenv("PILOT_GRAPHQL_CACHE_BYTES", "0")
    config.get_settings.cache_clear()
    client = TestClient(create_app())
    stored: list[object] = []
    monkeypatch.setattr(AnswerCache, "put", lambda self, k, e: stored.append(k))
    for _ in range(2):
        assert client.post("/graphql", json={"query": "{ editions { number } }"}).status_code == 200
    assert stored == [] and cache_module.AnswerCache(0).enabled is False
