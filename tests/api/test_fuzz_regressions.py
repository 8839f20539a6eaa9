"""Inputs the schema-driven fuzz (``test_fuzz.py``) found answering 500 or
INTERNAL_SERVER_ERROR, each kept as a regression test (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from pilot.api.app import create_app
from tests.api.graphql.conftest import build_demo

HUGE = "9" * 30  # beyond any database integer
BEYOND_INT32 = str(2**31)  # PostgreSQL INTEGER keys end at 2**31 - 1


@pytest.fixture
def demo(engine: Engine, panorama_dir: Path) -> tuple[TestClient, dict[str, Any]]:
    with Session(engine) as session:
        built = build_demo(session, panorama_dir)
        session.commit()
    return TestClient(create_app(), raise_server_exceptions=False), built


def _codes(client: TestClient, token: str, query: str) -> list[str]:
    response = client.post(
        "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    return [e["extensions"]["code"] for e in response.json().get("errors") or []]


@pytest.mark.parametrize("value", [HUGE, BEYOND_INT32, "-1", "0", "²", "1_0", "١٢"])
def test_import_report_with_any_id_is_not_a_server_error(
    demo: tuple[TestClient, dict[str, Any]], value: str
) -> None:
    client, built = demo
    response = client.get(
        f"/workbook/imports/{value}/report",
        headers={"Authorization": f"Bearer {built['tokens']['dinum']}"},
    )
    assert response.status_code in (404, 422), response.text


@pytest.mark.parametrize(
    "value", [HUGE, BEYOND_INT32, f"PRJ-{HUGE}", f"PRJ-{BEYOND_INT32}", "²", "PRJ-²", "1_0"]
)
def test_graphql_ids_out_of_range_are_not_found(
    demo: tuple[TestClient, dict[str, Any]], value: str
) -> None:
    client, built = demo
    token = built["tokens"]["dinum"]
    assert _codes(client, token, f'{{ project(id: "{value}") {{ name }} }}') == ["NOT_FOUND"]
    assert _codes(client, token, f'{{ import(id: "{value}") {{ filename }} }}') == ["NOT_FOUND"]
    ministry = built["tokens"]["ministry"]
    close = f'mutation {{ closeRisk(riskId: "{value}") {{ id }} }}'
    assert _codes(client, ministry, close) == ["NOT_FOUND"]
    move = (
        f'mutation {{ updateMilestone(input: {{milestoneId: "{value}", '
        'forecastDate: "2030-01-01"}) { id } }'
    )
    assert _codes(client, ministry, move) == ["NOT_FOUND"]


def test_upload_mutation_without_a_multipart_file_is_bad_user_input(
    demo: tuple[TestClient, dict[str, Any]],
) -> None:
    client, built = demo
    query = 'mutation { uploadWorkbook(file: "pas un fichier") { importId } }'
    assert _codes(client, built["tokens"]["ministry"], query) == ["BAD_USER_INPUT"]
