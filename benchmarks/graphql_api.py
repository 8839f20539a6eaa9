# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""GraphQL API over HTTP: latency (median, p95) cold and cached beside the floor, and
requests per second under a concurrent load.

1 000 projects × 10 milestones × 10 risks (plus a baseline and a report each) are bulk
inserted into a SQLite file; a real uvicorn server is started on 127.0.0.1 (one with the
edition cache off for the cold figures, one with it on), and stopped at the end.
The floor fetches the same data with plain SQLAlchemy Core and serialises it with json.
The load uses ``wrk`` when installed (Debian package ``wrk``), else a bounded asyncio
httpx generator; loopback only, bounded in time.

    .venv/bin/python benchmarks/graphql_api.py [--projects 1000] [--runs 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, insert, select
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pilot.auth import service as auth  # noqa: E402
from pilot.auth.models import Role  # noqa: E402
from pilot.db import create_all, make_engine  # noqa: E402
from pilot.editions import service as editions  # noqa: E402
from pilot.editions.models import EditionRow  # noqa: E402
from pilot.ministries import service as ministries  # noqa: E402
from pilot.ministries.models import Ministry  # noqa: E402
from pilot.projects.models import Baseline, Milestone, Project, Report, Risk  # noqa: E402

TODAY = date.today()
LIST = """query($after: String) { projects(first: 1000, after: $after) {
  pageInfo { hasNextPage endCursor }
  nodes { id name ministry { code } phase currentCostEur health
    latestReport { reportedOn weather }
    milestones { name baselineDate forecastDate actualDate late }
    risks { title probability impact criticality status } } } }"""
OVERVIEW_EDITION = """{ portfolio { editionNumber figures { projects interministerial
  totalCostEur totalCostText meanDurationYears byMinistry { label count }
  byPhase { label count } byCostBracket { label count } } } }"""
OVERVIEW_LIVE = OVERVIEW_EDITION.replace("{ portfolio {", f'{{ portfolio(asOf: "{TODAY}") {{')
OVERVIEW_LIVE = OVERVIEW_LIVE.replace(
    "editionNumber",
    "source drift { budgetInitial budgetInitialWeighted } health { red amber green }",
)
EDITION_LIST = """{ edition { number projects { projectId name ministryCode phase costEur
  costBracket startDate durationYears withheld } } }"""


def populate(engine: Engine, count: int) -> str:
    with Session(engine) as session:
        codes = list(ministries.REFERENCE_MINISTRIES)
        for code in codes:
            ministries.create_ministry(session, code, ministries.REFERENCE_MINISTRIES[code])
        session.commit()
        ids = [m.id for m in session.exec(select(Ministry).order_by(Ministry.id)).scalars()]
    stamp = TODAY
    with engine.begin() as conn:
        conn.execute(
            insert(Project),
            [
                {
                    "id": i,
                    "name": f"Projet {i}",
                    "name_key": f"projet {i}",
                    "ministry_id": ids[i % len(ids)],
                    "description": f"Description du projet {i}",
                    "in_panorama": True,
                    "confidential": i % 50 == 0,
                    "interministerial": i % 7 == 0,
                    "phase": "Conception / Réalisation",
                    "start_date": date(2018, 1, 1),
                    "functional_zone_label": f"Zone {i % 9}",
                    "created_at": stamp,
                }
                for i in range(1, count + 1)
            ],
        )
        conn.execute(
            insert(Baseline),
            [
                {
                    "project_id": i,
                    "kind": "initial",
                    "approved_on": date(2018, 1, 1),
                    "cost_eur": 10_000_000 + 100_000 * i,
                    "start_date": date(2018, 1, 1),
                    "end_date": date(2024, 1, 1),
                    "created_at": stamp,
                }
                for i in range(1, count + 1)
            ],
        )
        conn.execute(
            insert(Report),
            [
                {
                    "project_id": i,
                    "reported_on": TODAY - timedelta(days=i % 300),
                    "current_cost_eur": 10_000_000 + 130_000 * i,
                    "forecast_end": date(2025, 1, 1),
                    "weather": ("soleil", "nuageux", "orage")[i % 3],
                    "created_at": stamp,
                }
                for i in range(1, count + 1)
            ],
        )
        conn.execute(
            insert(Milestone),
            [
                {
                    "project_id": i,
                    "name": f"Jalon {k}",
                    "baseline_date": date(2020, 1, 1) + timedelta(days=90 * k),
                    "forecast_date": date(2020, 2, 1) + timedelta(days=90 * k),
                    "created_at": stamp,
                }
                for i in range(1, count + 1)
                for k in range(10)
            ],
        )
        conn.execute(
            insert(Risk),
            [
                {
                    "project_id": i,
                    "title": f"Risque {k}",
                    "probability": 1 + k % 4,
                    "impact": 1 + (k // 3) % 4,
                    "status": "ouvert",
                    "mitigation": "Plan de réduction" if k % 2 else None,
                    "created_at": stamp,
                }
                for i in range(1, count + 1)
                for k in range(10)
            ],
        )
    with Session(engine) as session:
        editions.publish_current(session, published_on=TODAY)
        _, token = auth.create_token(session, actor="benchmark", name="bench", role=Role.DINUM)
        session.commit()
    return token


def floor_list(engine: Engine) -> bytes:
    """The same data as the project list, with SQLAlchemy Core and json."""
    with engine.connect() as conn:
        projects = conn.execute(
            select(Project.id, Project.name, Ministry.code, Project.phase)
            .join(Ministry)
            .order_by(Project.id)
        ).all()
        ranked = select(
            Report.id,
            func.row_number()
            .over(
                partition_by=Report.project_id,
                order_by=(Report.reported_on.desc(), Report.id.desc()),
            )
            .label("r"),
        ).subquery()
        reports = {
            r.project_id: r
            for r in conn.execute(
                select(
                    Report.project_id, Report.reported_on, Report.weather, Report.current_cost_eur
                )
                .join(ranked, ranked.c.id == Report.id)
                .where(ranked.c.r == 1)
            )
        }
        milestones: dict[int, list[dict[str, Any]]] = {}
        for m in conn.execute(
            select(
                Milestone.project_id,
                Milestone.name,
                Milestone.baseline_date,
                Milestone.forecast_date,
                Milestone.actual_date,
            )
        ):
            milestones.setdefault(m.project_id, []).append(
                {
                    "name": m.name,
                    "baselineDate": str(m.baseline_date),
                    "forecastDate": str(m.forecast_date),
                    "actualDate": m.actual_date,
                }
            )
        risks: dict[int, list[dict[str, Any]]] = {}
        for r in conn.execute(
            select(Risk.project_id, Risk.title, Risk.probability, Risk.impact, Risk.status)
        ):
            risks.setdefault(r.project_id, []).append(
                {
                    "title": r.title,
                    "probability": r.probability,
                    "impact": r.impact,
                    "criticality": r.probability * r.impact,
                    "status": r.status,
                }
            )
    nodes = []
    for p in projects:
        rep = reports.get(p.id)
        nodes.append(
            {
                "id": f"PRJ-{p.id:05d}",
                "name": p.name,
                "ministry": {"code": p.code},
                "phase": p.phase,
                "currentCostEur": rep.current_cost_eur if rep else None,
                "latestReport": {"reportedOn": str(rep.reported_on), "weather": rep.weather}
                if rep
                else None,
                "milestones": milestones.get(p.id, []),
                "risks": risks.get(p.id, []),
            }
        )
    return json.dumps({"data": {"projects": {"nodes": nodes}}}, default=str).encode()


def floor_edition(engine: Engine) -> bytes:
    with engine.connect() as conn:
        rows = conn.execute(
            select(EditionRow.project_id, EditionRow.values).order_by(EditionRow.position)
        ).all()
    return json.dumps(
        {"data": {"edition": {"projects": [dict(v, projectId=p) for p, v in rows]}}}
    ).encode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "pilot.api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        else:
            raise RuntimeError("the server did not start")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=20)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    fn()  # warm-up
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def post(
    client: httpx.Client, token: str, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    r = client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    r.raise_for_status()
    body: dict[str, Any] = r.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body


def full_list(client: httpx.Client, token: str) -> int:
    after, total = None, 0
    while True:
        page = post(client, token, LIST, {"after": after})["data"]["projects"]
        total += len(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return total
        after = page["pageInfo"]["endCursor"]


def load(url: str, query: str, seconds: int, connections: int) -> tuple[float, int, int]:
    """(requests/s, requests, errors) for public POSTs of ``query``."""
    body = json.dumps({"query": query})
    if shutil.which("wrk"):
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(
                f'wrk.method = "POST"\nwrk.body = {json.dumps(body)}\n'
                'wrk.headers["Content-Type"] = "application/json"\n'
            )
        out = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{seconds}s",
                "-s",
                script.name,
                url + "/graphql",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
        ).stdout
        os.unlink(script.name)
        rps = float(out.split("Requests/sec:")[1].split()[0])
        requests = int(out.split(" requests in ")[0].split()[-1])
        errors = 0
        if "Non-2xx" in out:
            errors += int(out.split("Non-2xx or 3xx responses:")[1].split()[0])
        if "Socket errors" in out:
            errors += sum(
                int(x.strip(","))
                for x in out.split("Socket errors:")[1].split("\n")[0].split()[1::2]
            )
        return rps, requests, errors
    return asyncio.run(_httpx_load(url, body, seconds, connections))


async def _httpx_load(
    url: str, body: str, seconds: int, connections: int
) -> tuple[float, int, int]:
    done = errors = 0
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=url) as client:

        async def worker() -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                r = await client.post(
                    "/graphql", content=body, headers={"Content-Type": "application/json"}
                )
                done += 1
                errors += r.status_code != 200 or "errors" in r.json()

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
    return done / (time.perf_counter() - start), done, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--load-seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        create_all(engine)
        started = time.perf_counter()
        token = populate(engine, args.projects)
        print(
            f"{args.projects} projects × 10 milestones × 10 risks generated in "
            f"{time.perf_counter() - started:.1f} s (SQLite, {tmp})"
        )
        env = {"PILOT_DATABASE_URL": url, "PILOT_VAR_DIR": tmp}
        results: list[tuple[str, float, float]] = []
        results.append(
            ("floor: project list (Core + json)", *timed(lambda: floor_list(engine), args.runs))
        )
        results.append(
            ("floor: edition list (Core + json)", *timed(lambda: floor_edition(engine), args.runs))
        )
        with (
            server({**env, "PILOT_GRAPHQL_CACHE_BYTES": "0"}) as base,
            httpx.Client(base_url=base, timeout=60) as c,
        ):
            assert full_list(c, token) == args.projects
            results.append(
                ("cold: full project list (HTTP)", *timed(lambda: full_list(c, token), args.runs))
            )
            results.append(
                (
                    "cold: portfolio overview, live",
                    *timed(lambda: post(c, token, OVERVIEW_LIVE), args.runs),
                )
            )
            results.append(
                (
                    "cold: portfolio overview, edition",
                    *timed(lambda: post(c, token, OVERVIEW_EDITION), args.runs * 3),
                )
            )
            results.append(
                (
                    "cold: edition project list",
                    *timed(lambda: post(c, token, EDITION_LIST), args.runs),
                )
            )
        with server(env) as base, httpx.Client(base_url=base, timeout=60) as c:
            results.append(
                (
                    "cached: portfolio overview, edition",
                    *timed(lambda: post(c, token, OVERVIEW_EDITION), args.runs * 10),
                )
            )
            results.append(
                (
                    "cached: edition project list",
                    *timed(lambda: post(c, token, EDITION_LIST), args.runs * 3),
                )
            )
            rps, requests, errors = load(
                base, OVERVIEW_EDITION, args.load_seconds, args.connections
            )
            rps_list, req_list, err_list = load(
                base,
                "{ projects(first: 50) { nodes { id name currentCostEur health } } }",
                args.load_seconds,
                args.connections,
            )
        engine.dispose()
    print(f"\n{'measure':<40} {'median ms':>10} {'p95 ms':>10}")
    for name, median, p95 in results:
        print(f"{name:<40} {median:>10.1f} {p95:>10.1f}")
    figures = {n: m for n, m, _ in results}
    ratio = figures["cold: full project list (HTTP)"] / figures["floor: project list (Core + json)"]
    cached = figures["cached: portfolio overview, edition"]
    print(f"\ncold full list / floor: {ratio:.2f}× (target ≤ 4×)")
    print(f"cached overview median: {cached:.2f} ms (target < 5 ms)")
    tool = "wrk" if shutil.which("wrk") else "httpx"
    print(f"\nload ({tool}, {args.connections} connections, {args.load_seconds} s, public):")
    print(f"  cached portfolio overview: {rps:.0f} req/s, {requests} requests, {errors} errors")
    print(
        f"  live project page (50):    {rps_list:.0f} req/s, {req_list} requests, {err_list} errors"
    )


if __name__ == "__main__":
    main()
