"""Limits, masking, switches and error codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pilot import config
from pilot.api.app import create_app
from pilot.api.graphql.schema import sdl
from pilot.cli import app as cli
from tests.api.graphql.conftest import Demo

ROOT = Path(__file__).resolve().parents[3]


def _code(body: dict) -> str:
    return body["errors"][0]["extensions"]["code"]


def test_depth_limit_refuses_deeper_queries(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOT_GRAPHQL_MAX_DEPTH", "2")
    config.get_settings.cache_clear()
    client = TestClient(create_app())
    assert (
        "errors"
        not in client.post("/graphql", json={"query": "{ editions { changes { base } } }"}).json()
    )
    body = client.post(
        "/graphql", json={"query": "{ editions { changes { entrants { name } } } }"}
    ).json()
    assert _code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "trop imbriquée : profondeur 3, 2 au maximum" in body["errors"][0]["message"]


def test_alias_limit(demo: Demo) -> None:
    limit = config.get_settings().graphql_max_aliases
    query = "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(limit + 1)) + " }"
    body = demo.gql(query)
    assert _code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert "Trop d'alias" in body["errors"][0]["message"]


def test_token_limit(demo: Demo) -> None:
    limit = config.get_settings().graphql_max_tokens
    query = "{ " + " ".join("__typename" for _ in range(limit + 1)) + " }"
    body = demo.gql(query)
    assert "errors" in body and "token" in body["errors"][0]["message"].lower()


def test_page_size_is_capped(demo: Demo) -> None:
    limit = config.get_settings().graphql_max_page_size
    body = demo.gql(f"{{ projects(first: {limit + 1}) {{ totalCount }} }}", role="dinum")
    assert _code(body) == "BAD_USER_INPUT"
    assert str(limit) in body["errors"][0]["message"]


def test_unexpected_errors_are_masked(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    from pilot.editions import service as editions

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("secret: connection string postgres://user:pw@host")

    monkeypatch.setattr(editions, "published_editions", broken)
    body = demo.gql("{ trends { editionNumber } }")
    assert _code(body) == "INTERNAL_SERVER_ERROR"
    assert "secret" not in str(body)


def test_debug_shows_unexpected_errors(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    from pilot.editions import service as editions

    monkeypatch.setenv("PILOT_DEBUG", "true")
    config.get_settings.cache_clear()

    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("détail visible en debug")

    monkeypatch.setattr(editions, "published_editions", broken)
    body = (
        TestClient(create_app())
        .post("/graphql", json={"query": "{ trends { editionNumber } }"})
        .json()
    )
    assert body["errors"][0]["message"] == "détail visible en debug"


def test_domain_errors_are_shown_with_their_code(demo: Demo) -> None:
    body = demo.gql(
        'mutation($id: ID!) { rebaseline(input: {projectId: $id, reason: "  ", '
        'approvedOn: "2024-01-01"}) { id } }',
        {"id": demo.drifting},
        role="dinum",
    )
    assert _code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "Un rebasage exige un motif."
    risky = demo.gql(
        'mutation($id: ID!) { addRisk(input: {projectId: $id, title: "Panne", probability: 3, '
        "impact: 3}) { id } }",
        {"id": demo.drifting},
        role="dinum",
    )
    assert (
        _code(risky) == "BAD_USER_INPUT" and "mesure de réduction" in risky["errors"][0]["message"]
    )


def test_unknown_project_is_not_found(demo: Demo) -> None:
    body = demo.gql('{ project(id: "PRJ-99999") { id } }', role="dinum")
    assert _code(body) == "NOT_FOUND"
    assert body["errors"][0]["message"] == "Projet introuvable : « PRJ-99999 »."


def test_request_body_limit(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PILOT_MAX_REQUEST_BYTES", "1000")
    config.get_settings.cache_clear()
    client = TestClient(create_app())
    big = "{ me { role } }" + " " * 2000
    response = client.post("/graphql", json={"query": big})
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert client.post("/graphql", json={"query": "{ me { role } }"}).status_code == 200


def test_introspection_and_graphiql_can_be_switched_off(
    demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "errors" not in demo.gql("{ __schema { queryType { name } } }")
    monkeypatch.setenv("PILOT_INTROSPECTION", "false")
    monkeypatch.setenv("PILOT_GRAPHIQL", "false")
    config.get_settings.cache_clear()
    client = TestClient(create_app())
    body = client.post("/graphql", json={"query": "{ __schema { queryType { name } } }"}).json()
    assert _code(body) == "GRAPHQL_VALIDATION_FAILED"
    assert client.get("/graphql", headers={"Accept": "text/html"}).status_code == 404


def test_schema_file_is_the_exported_schema() -> None:
    checked_in = (ROOT / "graphql" / "schema.graphql").read_text(encoding="utf-8")
    assert checked_in == sdl(), "graphql/schema.graphql is stale: run `pilot graphql-schema`"


def test_schema_check_command_fails_on_a_stale_file(tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: Int }\n", encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(cli, ["graphql-schema", "--check", "--output", str(stale)]).exit_code == 1
    assert runner.invoke(cli, ["graphql-schema", "--output", str(stale)]).exit_code == 0
    assert runner.invoke(cli, ["graphql-schema", "--check", "--output", str(stale)]).exit_code == 0


def test_no_python_package_named_graphql() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists()
