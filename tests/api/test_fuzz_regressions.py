"""Inputs the schema-driven fuzz (``test_fuzz.py``) found answering 500 or
INTERNAL_SERVER_ERROR, each kept as a regression test (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from pilot.api.app import create_app
from pilot.api.turns import BUSY, RETRY_AFTER_SECONDS, ImportsBusy, ImportTurns
from pilot.imports.models import ImportFile
from tests.api.graphql.conftest import build_demo
from tests.api.multipart import post_graphql_upload

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


# Found by the load test (benchmarks/load.py): fifty uploads at once took every pooled
# connection. Imports now take turns; past the wait, 503 and nothing recorded.


def test_import_turns_bound_concurrent_imports() -> None:
    turns = ImportTurns(2, wait_seconds=0.05)
    inside = 0
    most = 0
    refused = 0

    async def one() -> None:
        nonlocal inside, most, refused
        try:
            async with turns.turn():
                inside += 1
                most = max(most, inside)
                await asyncio.sleep(0.2)
                inside -= 1
        except ImportsBusy:
            refused += 1

    async def many() -> None:
        await asyncio.gather(*(one() for _ in range(5)))

    asyncio.run(many())
    assert (most, refused) == (2, 3)


class _NoTurn:
    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        raise ImportsBusy(BUSY)
        yield  # pragma: no cover


def test_upload_without_a_turn_is_503_and_records_nothing(
    demo: tuple[TestClient, dict[str, Any]], engine: Engine
) -> None:
    client, built = demo
    client.app.state.import_turns = _NoTurn()  # type: ignore[attr-defined]
    headers = {"Authorization": f"Bearer {built['tokens']['ministry']}"}
    with Session(engine) as session:
        before = len(session.exec(select(ImportFile)).all())
    response = client.post(
        "/workbook/upload", files={"file": ("mi.xlsx", b"PK\x03\x04")}, headers=headers
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert "Renvoyez-le" in response.json()["detail"]
    query = "mutation($file: Upload!) { uploadWorkbook(file: $file) { importId } }"
    response = post_graphql_upload(
        client, query, b"PK\x03\x04", headers=headers, filename="mi.xlsx"
    )
    assert response.status_code == 503
    assert response.headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
    with Session(engine) as session:
        assert len(session.exec(select(ImportFile)).all()) == before


# Found by the fuzz on PostgreSQL, which refuses NUL in any text ("DataError", then 500).


def test_control_characters_in_a_ministry_code_are_not_a_server_error(
    demo: tuple[TestClient, dict[str, Any]],
) -> None:
    client, built = demo
    for role, expected in (("ministry", 403), ("dinum", 404)):
        headers = {"Authorization": f"Bearer {built['tokens'][role]}"}
        response = client.get("/workbook/template?ministry=%005%02", headers=headers)
        assert response.status_code == expected, response.text
        # Control characters are dropped like invisible ones: "M\x00I" is MI.
        response = client.post(
            "/workbook/upload?ministry=M%00I", files={"file": ("a.xlsx", b"x")}, headers=headers
        )
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "rejected"  # not a workbook, but recorded for MI
    query = '{ imports(ministry: "M\\u0000I") { totalCount } }'
    assert _codes(client, built["tokens"]["dinum"], query) in ([], ["BAD_USER_INPUT"])


def test_nul_in_mutation_text_is_never_an_internal_error(
    demo: tuple[TestClient, dict[str, Any]],
) -> None:
    client, built = demo
    query = (
        f'mutation {{ addRisk(input: {{projectId: "{built["drifting"]}", '
        'title: "Risque\\u0000 NUL", probability: 1, impact: 1}) { title } }'
    )
    assert _codes(client, built["tokens"]["ministry"], query) in ([], ["BAD_USER_INPUT"])


def test_nul_in_an_uploaded_file_name_is_dropped(engine: Engine, settings: Any) -> None:
    from importers.intake import submit
    from pilot.ministries import service as ministries

    with Session(engine) as session:
        ministries.create_ministry(session, "MI", "Ministère de l'Intérieur")
        session.commit()
    outcome = submit(
        data=b"not a workbook",
        filename="mi\x00.xlsx",
        ministry_code="MI",
        submitted_by="test",
        channel="http",
    )
    with Session(engine) as session:
        record = session.get(ImportFile, outcome.import_id)
        assert record is not None and record.filename == "mi.xlsx"


def test_a_value_the_database_refuses_is_bad_user_input_not_internal() -> None:
    from graphql.error import GraphQLError
    from sqlalchemy import exc

    from pilot.api.graphql.errors import REFUSED_VALUE, ErrorPolicy

    refused = exc.DataError("INSERT …", {}, ValueError("NUL (0x00) bytes"))
    error = GraphQLError("x", original_error=refused)
    for policy in (ErrorPolicy(mask=True), ErrorPolicy(mask=False)):
        (shown,) = policy.shown([error])
        assert shown.extensions == {"code": "BAD_USER_INPUT"}
        assert shown.message == REFUSED_VALUE


def test_the_principal_look_up_gives_its_connection_back(
    demo: tuple[TestClient, dict[str, Any]], engine: Engine
) -> None:
    from pilot.api.deps import get_principal

    _, built = demo
    with Session(engine) as session:
        principal = get_principal(session, f"Bearer {built['tokens']['ministry']}")
        assert principal.ministry_id is not None
        assert not session.in_transaction()  # no connection held while the request waits
