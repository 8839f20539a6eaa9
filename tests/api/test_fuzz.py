"""Schema-driven fuzz of the whole API, in process (ASGI), on the demo database.

Schemathesis generates requests from the OpenAPI contract (every HTTP route) and from
the GraphQL schema (every query and mutation), valid ones and invalid ones, and each is
sent as the public, as a ministry (MI) and as DINUM. Every answer must be a refusal or a
success, never a server error:

- HTTP: no 5xx (``not_a_server_error``), and the status, content type, headers and body
  are the ones the OpenAPI contract documents (``status_code_conformance``,
  ``content_type_conformance``, ``response_headers_conformance``,
  ``response_schema_conformance``); ``/graphql`` as an HTTP route is only held to "no 5xx"
  (GraphiQL answers HTML), its contract is the GraphQL schema;
- GraphQL: no 5xx and no ``INTERNAL_SERVER_ERROR`` (the masked code of an unexpected
  exception), every error carrying one of the documented codes.

``PILOT_FUZZ_EXAMPLES`` (default 10) is the number of examples per operation, generation
mode and role; the counts are printed at the end. What the fuzz found is kept in
``test_fuzz_regressions.py``.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from sqlalchemy import Engine, text
from sqlmodel import Session

from pilot import config, migrations
from pilot.api.app import create_app
from tests.api.graphql.conftest import build_demo

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("PILOT_FUZZ_EXAMPLES", "10"))
ROLES = (None, "ministry", "dinum")  # None: the public (the generated header, if any)
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)
GRAPHQL_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "GRAPHQL_VALIDATION_FAILED",
}
HTTP_CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]
# A file travels as a multipart part, never inline: an inline value must be refused.
schemathesis.graphql.scalar("Upload", st.text(max_size=30).map(schemathesis.graphql.nodes.String))


REQUEST_TIMEOUT = 300  # seconds


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: dict[str, str] = field(default_factory=dict)  # one example per distinct failure


@pytest.fixture
def fuzz(
    engine: Engine, panorama_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Any, dict[str, str]]]:
    # Random bearer values would soon get every request 429 (tested in test_access.py):
    # the fuzz wants the routes behind the limiter.
    monkeypatch.setenv("PILOT_AUTH_MAX_FAILURES", "1000000000")
    config.get_settings.cache_clear()
    with Session(engine) as session:
        built = build_demo(session, panorama_dir)
        session.commit()
    migrations.stamp(engine)  # the tables match the head: /readyz says ready
    # thousands of expected refusals of bad tokens (GraphQL's own are DEBUG lines)
    logging.getLogger("pilot.auth").disabled = True
    try:
        yield create_app(), built["tokens"]
    finally:
        logging.getLogger("pilot.auth").disabled = False
        with engine.begin() as conn:  # other tests share the database, never stamped
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _run(
    schema: Any,
    tokens: dict[str, str],
    check: Callable[[Any, Any], None],
    tally: Tally,
) -> None:
    for result in schema.get_all_operations():
        operation = result.ok()
        tally.operations.add(operation.label)
        for mode in MODES:
            for role in ROLES:
                _fuzz_one(operation, mode, role, tokens, check, tally)


def _fuzz_one(
    operation: Any,
    mode: schemathesis.GenerationMode,
    role: str | None,
    tokens: dict[str, str],
    check: Callable[[Any, Any], None],
    tally: Tally,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        headers = None
        if role is not None:
            for name in list(case.headers or {}):
                if name.lower() == "authorization":
                    del case.headers[name]
            headers = {"Authorization": f"Bearer {tokens[role]}"}
        label = f"{operation.label} [{mode.value}, {role or 'public'}]"
        tally.requests += 1
        try:
            # publishEdition draws a whole edition (a spawned pool, WeasyPrint's booklet):
            # more than schemathesis's default 10 s on two busy cores
            response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
        except Exception as error:  # the app raised: a 500 in production
            tally.failures.setdefault(f"{label}: {type(error).__name__}", repr(case))
            return
        tally.statuses[response.status_code] += 1
        try:
            check(case, response)
        except BaseException as error:  # schemathesis raises a FailureGroup
            if isinstance(error, KeyboardInterrupt):
                raise
            key = f"{label}: {response.status_code} {str(error).splitlines()[0][:120]}"
            tally.failures.setdefault(key, f"{error}"[:2000])

    # Unsatisfiable: no invalid request exists for an operation without input (/healthz).
    with contextlib.suppress(Unsatisfiable):
        run()


def _report(request: pytest.FixtureRequest, name: str, tally: Tally) -> None:
    statuses = ", ".join(f"{s}: {n}" for s, n in sorted(tally.statuses.items()))
    line = (
        f"fuzz {name}: {len(tally.operations)} operations, {tally.requests} requests "
        f"({EXAMPLES} examples × 2 modes × 3 roles each at most), statuses {statuses}, "
        f"{len(tally.failures)} failures"
    )
    with request.getfixturevalue("capsys").disabled():  # shown even when output is captured
        print("\n" + line)


def test_http_api_fuzz(fuzz: tuple[Any, dict[str, str]], request: pytest.FixtureRequest) -> None:
    app, tokens = fuzz
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    tally = Tally()

    def check(case: Any, response: Any) -> None:
        graphql_route = case.operation.path == "/graphql"
        case.validate_response(response, checks=HTTP_CHECKS[:1] if graphql_route else HTTP_CHECKS)

    _run(schema, tokens, check, tally)
    _report(request, "HTTP (OpenAPI)", tally)
    assert len(tally.operations) >= 6  # /healthz, /graphql ×2, /workbook ×3
    assert not tally.failures, "\n\n".join(f"{k}\n{v}" for k, v in tally.failures.items())


def test_graphql_api_fuzz(fuzz: tuple[Any, dict[str, str]], request: pytest.FixtureRequest) -> None:
    app, tokens = fuzz
    schema = schemathesis.graphql.from_asgi("/graphql", app)
    tally = Tally()

    def check(case: Any, response: Any) -> None:
        assert response.status_code < 500, response.text[:500]
        if response.status_code != 200:
            return
        body = response.json()
        assert isinstance(body, dict) and ("data" in body or "errors" in body), body
        codes = {(e.get("extensions") or {}).get("code") for e in body.get("errors") or []}
        assert codes <= GRAPHQL_CODES, f"{codes - GRAPHQL_CODES}: {response.text[:500]}"

    _run(schema, tokens, check, tally)
    _report(request, "GraphQL", tally)
    assert len(tally.operations) >= 20
    assert not tally.failures, "\n\n".join(f"{k}\n{v}" for k, v in tally.failures.items())
