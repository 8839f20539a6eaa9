"""What the server log keeps of GraphQL errors, through the real app: an expected error
(a refusal, a broken rule, a syntax or validation error, a variable its type refuses) is
one DEBUG line without a traceback, however often it is asked for; an incident (here a
database that lacks a column the code reads) is one ERROR record with its traceback,
carrying the request's id, and masked for the client."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from graphql.error import GraphQLError
from sqlalchemy import Engine, exc, text

from pilot import config
from pilot.api.app import create_app
from pilot.api.graphql.errors import MASKED_MESSAGE, StorageFull, log_expected_error
from pilot.api.observability import RequestIdFilter
from tests.api.graphql.conftest import Demo

EXECUTION = "strawberry.execution"
RECORD_REPORT = "mutation($input: RecordReportInput!) { recordReport(input: $input) { id } }"


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Every record, DEBUG included, each with the id of the request it was written for."""
    request_ids = RequestIdFilter()
    caplog.handler.addFilter(request_ids)
    with caplog.at_level(logging.DEBUG):
        yield caplog
    caplog.handler.removeFilter(request_ids)


def _codes(body: dict[str, Any]) -> list[str]:
    return [e["extensions"]["code"] for e in body.get("errors") or []]


def _loud(logs: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """Records at WARNING or above, or carrying a traceback."""
    return [r for r in logs.records if r.levelno >= logging.WARNING or r.exc_info]


def _answered(logs: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in logs.records if r.name == EXECUTION and r.levelno == logging.DEBUG]


def test_fifty_anonymous_queries_needing_a_token_leave_no_error_in_the_log(
    demo: Demo, logs: pytest.LogCaptureFixture
) -> None:
    for _ in range(50):
        body = demo.gql("{ campaign { title } }")
        assert _codes(body) == ["UNAUTHENTICATED"]
        assert body["errors"][0]["message"] == "Authentification requise : fournissez un jeton."
    assert _loud(logs) == []
    answered = _answered(logs)
    assert len(answered) == 50
    assert all("UNAUTHENTICATED" in r.getMessage() for r in answered)
    assert all("\n" not in r.getMessage() for r in answered)


def _variables(demo: Demo) -> dict[str, Any]:
    return {"input": {"projectId": demo.drifting, "reportedOn": "2017-13-01"}}


EXPECTED: dict[str, tuple[str, str | None, Any, str]] = {
    # case: (query, role, variables, code)
    "forbidden": ("mutation { publishEdition { number } }", "ministry", None, "FORBIDDEN"),
    "not found": ('{ project(id: "PRJ-999999") { name } }', "dinum", None, "NOT_FOUND"),
    "broken rule": ("{ projects(first: 100000) { totalCount } }", "dinum", None, "BAD_USER_INPUT"),
    "unknown field": ("{ nothingHere }", None, None, "GRAPHQL_VALIDATION_FAILED"),
    "syntax error": ("{ me { role }", None, None, "GRAPHQL_PARSE_FAILED"),
    "refused variable": (RECORD_REPORT, "ministry", "date", "BAD_USER_INPUT"),
    "amount literal": (
        'mutation { recordReport(input: {projectId: "PRJ-1", reportedOn: "2017-01-01", '
        'currentCostEur: "douze"}) { id } }',
        None,
        None,
        "GRAPHQL_VALIDATION_FAILED",
    ),
    "amount variable": (RECORD_REPORT, "ministry", "amount", "BAD_USER_INPUT"),
}


@pytest.mark.parametrize("case", list(EXPECTED))
def test_expected_errors_are_one_debug_line_without_a_traceback(
    demo: Demo, logs: pytest.LogCaptureFixture, case: str
) -> None:
    query, role, kind, code = EXPECTED[case]
    variables = None
    if kind is not None:
        variables = _variables(demo)
        if kind == "amount":
            variables["input"].update(reportedOn="2017-01-01", currentCostEur="douze")
    for _ in range(5):
        assert _codes(demo.gql(query, variables, role)) == [code]
    assert _loud(logs) == []
    assert [code in r.getMessage() for r in _answered(logs)] == [True] * 5


def test_depth_and_alias_limits_leave_no_error_in_the_log(
    demo: Demo, logs: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOT_GRAPHQL_MAX_DEPTH", "2")
    config.get_settings.cache_clear()
    client = TestClient(create_app())
    deep = {"query": "{ editions { changes { entrants { name } } } }"}
    assert _codes(client.post("/graphql", json=deep).json()) == ["GRAPHQL_VALIDATION_FAILED"]
    aliases = config.get_settings().graphql_max_aliases
    many = "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(aliases + 1)) + " }"
    assert _codes(client.post("/graphql", json={"query": many}).json()) == [
        "GRAPHQL_VALIDATION_FAILED"
    ]
    assert _loud(logs) == []
    assert len(_answered(logs)) == 2


@pytest.fixture
def lost_column(engine: Engine) -> Iterator[None]:
    """The database lacks a column the code reads (a migration not applied): a genuine
    incident, the request is not at fault. Put back afterwards (PostgreSQL's test
    database is shared by the run)."""
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE risk RENAME COLUMN title TO title_lost"))
    try:
        yield
    finally:
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE risk RENAME COLUMN title_lost TO title"))


def test_a_database_error_is_logged_once_at_error_with_its_traceback_and_masked(
    demo: Demo, lost_column: None, logs: pytest.LogCaptureFixture
) -> None:
    query = f'{{ project(id: "{demo.drifting}") {{ risks {{ title }} }} }}'
    response = demo.client.post(
        "/graphql",
        json={"query": query},
        headers={"Authorization": f"Bearer {demo.tokens['dinum']}"},
    )
    assert "title_lost" not in response.text and "SELECT" not in response.text
    if response.status_code == 503:  # SQLite calls it an OperationalError: unavailable
        assert response.headers["Retry-After"] == "30"
    else:  # PostgreSQL: a ProgrammingError, a bug
        assert response.status_code == 200
        body = response.json()
        assert _codes(body) == ["INTERNAL_SERVER_ERROR"]
        assert body["errors"][0]["message"] == MASKED_MESSAGE
    errors = [r for r in logs.records if r.levelno >= logging.ERROR]
    assert [r.name for r in errors] == [EXECUTION]
    (record,) = errors
    assert record.exc_info is not None and isinstance(record.exc_info[1], exc.DBAPIError)
    assert record.exc_info[2] is not None  # the traceback
    assert [r for r in logs.records if r.exc_info] == [record]  # its traceback, once
    assert getattr(record, "request_id", None) == response.headers["x-request-id"]


def test_a_full_disk_is_one_warning_line_without_a_traceback(
    logs: pytest.LogCaptureFixture,
) -> None:
    full = GraphQLError("x", original_error=StorageFull("No space left on device"))
    log_expected_error(full)
    (record,) = logs.records
    assert (record.name, record.levelno, record.exc_info) == (EXECUTION, logging.WARNING, None)
    assert "INSUFFICIENT_STORAGE" in record.getMessage()
