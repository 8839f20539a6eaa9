# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""The four reads of issue 22, cold (the answer cache off), in process: milliseconds and
SQL statements per request, and where the time goes (cProfile).

1 000 projects × 10 milestones × 10 risks (``graphql_api.populate``) in a scratch
database: PostgreSQL when ``--database`` names a server (a database ``pilot_bench_<pid>``
is created there and dropped at the end), else a SQLite file.

    .venv/bin/python -m benchmarks.graphql_sql \
        --database postgresql+psycopg://postgres@127.0.0.1:5432/postgres [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import logging
import os
import pstats
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.engine import make_url

from benchmarks.graphql_api import populate
from pilot import db
from pilot.db import create_all, make_engine

PAGE = """{ projects(first: 50) { totalCount pageInfo { hasNextPage endCursor }
  nodes { id name ministry { code } phase currentCostEur health
    latestReport { reportedOn weather } } } }"""
FULL = """query($after: String) { projects(first: 1000, after: $after) {
  pageInfo { hasNextPage endCursor }
  nodes { id name ministry { code } phase currentCostEur health
    latestReport { reportedOn weather }
    milestones { name baselineDate forecastDate actualDate late }
    risks { title probability impact criticality status } } } }"""
SHEET = """{ project(id: "PRJ-00042") { id name formerNames description ministry { code name }
  phase interministerial functionalZone startDate inPanorama confidential currentCostEur
  currentCostText costBracket weather health weatherRosier stale
  drift { budgetInitial scheduleInitial budgetLatest scheduleLatest initialCostEur latestCostEur }
  baselines { kind approvedOn costEur startDate endDate reason source }
  reports { reportedOn phase currentCostEur forecastEnd weather comment }
  milestones { id name baselineDate forecastDate actualDate late }
  risks { id title criticality mitigation status unmitigated }
  budgetLines { year kind plannedEur consumedEur } } }"""
MINISTRIES = """query($asOf: Date!) { portfolio(asOf: $asOf) { figures { projects totalCostEur
  byMinistry { label count totalCostEur } byPhase { label count } }
  health { red amber green unknown } } }"""

QUERIES = {
    "page of 50": (PAGE, {}),
    "project sheet": (SHEET, {}),
    "per-ministry totals": (MINISTRIES, {"asOf": "TODAY"}),
    "full list of 1 000": (FULL, {}),
}


@contextmanager
def scratch_database(server: str | None) -> Iterator[str]:
    """A scratch PostgreSQL database on ``server`` (``pilot.db.scratch_database``), or a
    SQLite file in a temporary folder."""
    if server:
        with db.scratch_database(server, "pilot_bench") as url:
            yield url
        return
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{tmp}/bench.db"


class Statements:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *args: Any) -> None:
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", default=None, help="a PostgreSQL server URL")
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--counts-only", action="store_true", help="byMinistry without costs")
    args = parser.parse_args()
    if args.counts_only:
        query, variables = QUERIES["per-ministry totals"]
        QUERIES["per-ministry totals"] = (query.replace(" totalCostEur }", " }"), variables)
    with scratch_database(args.database) as url, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(PILOT_DATABASE_URL=url, PILOT_VAR_DIR=tmp, PILOT_GRAPHQL_CACHE_BYTES="0")
        engine: Engine = make_engine(url)
        create_all(engine)
        token = populate(engine, args.projects)
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:  # statistics, as autovacuum would gather them
                conn.execute(text("ANALYZE"))
                conn.commit()
        engine.dispose()
        from datetime import date

        from fastapi.testclient import TestClient

        from pilot.api.app import create_app

        client = TestClient(create_app())
        logging.disable(logging.INFO)
        headers = {"Authorization": f"Bearer {token}"}
        counter = Statements()
        event.listen(Engine, "before_cursor_execute", counter)

        def post(query: str, variables: dict[str, Any]) -> None:
            variables = {
                k: (str(date.today()) if v == "TODAY" else v) for k, v in variables.items()
            }
            r = client.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            )
            body = r.json()
            assert r.status_code == 200 and "errors" not in body, body

        import asyncio

        from sqlmodel import Session

        from pilot.api.graphql.context import Context
        from pilot.api.graphql.schema import build_schema
        from pilot.auth.service import authenticate
        from pilot.db import get_engine

        schema = build_schema()

        def direct(query: str, variables: dict[str, Any]) -> None:
            """The schema executed in this thread (no HTTP, no answer cache)."""
            variables = {
                k: (str(date.today()) if v == "TODAY" else v) for k, v in variables.items()
            }
            with Session(get_engine(), expire_on_commit=False) as session:
                principal = authenticate(session, token)
                result = asyncio.run(
                    schema.execute(
                        query,
                        variable_values=variables,
                        context_value=Context(session=session, principal=principal),
                    )
                )
            assert not result.errors, result.errors

        print(
            f"{args.projects} projects × 10 milestones × 10 risks, "
            f"{make_url(url).get_backend_name()}"
        )
        print(f"{'read':<22} {'HTTP ms':>8} {'executed ms':>12} {'CPU ms':>7} {'statements':>11}")
        for name, (query, variables) in QUERIES.items():
            post(query, variables)
            counter.count = 0
            post(query, variables)
            statements = counter.count
            http, wall, cpu = [], [], []
            for _ in range(args.runs):
                start = time.perf_counter()
                post(query, variables)
                http.append((time.perf_counter() - start) * 1000)
                start, start_cpu = time.perf_counter(), time.process_time()
                direct(query, variables)
                wall.append((time.perf_counter() - start) * 1000)
                cpu.append((time.process_time() - start_cpu) * 1000)
            print(
                f"{name:<22} {statistics.median(http):>8.1f} {statistics.median(wall):>12.1f}"
                f" {statistics.median(cpu):>7.1f} {statements:>11}"
            )
        if args.profile:
            for name, (query, variables) in QUERIES.items():
                profile = cProfile.Profile()
                profile.enable()
                for _ in range(5):
                    direct(query, variables)
                profile.disable()
                out = io.StringIO()
                pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
                print(f"\n--- {name}: 5 executions, top functions by own time")
                lines = out.getvalue().splitlines()
                start = next(i for i, line in enumerate(lines) if "ncalls" in line)
                print("\n".join(lines[start - 4 : start + 16]))
        client.close()
        get_engine().dispose()


if __name__ == "__main__":
    main()
