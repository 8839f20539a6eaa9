# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""Load test on loopback: N concurrent clients for S seconds mixing public reads, DINUM
queries and ministry workbook uploads, against a real uvicorn server; then checks that
nothing failed and no import was lost, and prints latencies.

The database (SQLite file by default; ``--database-url`` names a PostgreSQL server, on
which a fresh ``pilot_load_<hex>`` database is created and dropped afterwards) is seeded
like ``pilot demo``: the two real panorama editions, fictitious follow-up data, tokens
for DINUM and for several ministries. ``--site`` also publishes the public panorama
(``pilot publish``) so that public reads include its pages.

Each client loops until the deadline, drawing a kind of request by weight:

- ``public``: published edition, trends, edition comparison (GraphQL, no token), and the
  panorama's pages with ``--site``;
- ``dinum``: the operations of ``graphql/operations/`` with a DINUM token;
- ``upload``: ``POST /workbook/upload`` of a freshly generated workbook (3 new projects,
  names unique to the upload, so each one applies) with the token of one of the
  ministries.

Afterwards: errors (5xx, transport errors, GraphQL errors, unexpected statuses; 429 and
503 counted apart), lost imports (an accepted upload whose ``import_file`` row is
missing, unfinished or failed, whose archived file is missing or differs, or whose
projects are not all there), and per kind the median, p95 and max latency and the
requests per second.

With ``--proxy`` (PostgreSQL only) the requests go through nginx, configured from
``deploy/nginx/pilot.conf``, to two ``pilot serve`` workers, with ``pilot scheduler``
running beside them; ``--kill-worker-at S`` then kills one worker with SIGKILL S seconds
into the load (its server starts another). An upload answered 502/503/504 or cut is sent
again (the same bytes, up to 5 times, as a ministry would); one never accepted counts as
lost, and so does an accepted one missing in the database. Imports cut by the kill stay
``received`` (``intake`` marks them failed after 15 minutes): counted as interrupted.

    .venv/bin/python -m benchmarks.load [--clients 50] [--seconds 60]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--site]
        [--proxy [--kill-worker-at 20]] [--json result.json]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import os
import random
import secrets
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import make_url
from sqlmodel import Session, col, func, select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.graphql_api import server  # noqa: E402
from importers.generate import generate_workbook  # noqa: E402
from importers.panorama import import_panorama_file  # noqa: E402
from pilot.auth import service as auth  # noqa: E402
from pilot.auth.models import Role  # noqa: E402
from pilot.db import create_all, is_sqlite, make_engine, scratch_database  # noqa: E402
from pilot.demo import add_demo_follow_up  # noqa: E402
from pilot.imports.models import ImportFile  # noqa: E402
from pilot.ministries.models import Ministry  # noqa: E402
from pilot.projects.models import Project, format_pilot_id  # noqa: E402

OPERATIONS = ROOT / "graphql" / "operations"
PANORAMAS = ("panorama-2016-11.csv", "panorama-2017-06.csv")
PROJECTS_PER_WORKBOOK = 3
KINDS = ("public", "dinum", "upload")
FINISHED = {"applied", "duplicate", "rejected", "validated"}  # "received"/"failed": lost


def _p95(ordered: list[float]) -> float:
    """Nearest rank: the smallest value at or above 95 % of the samples."""
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def _operation(name: str) -> str:
    return (OPERATIONS / f"{name}.graphql").read_text(encoding="utf-8")


@dataclass
class Seeded:
    dinum: str
    ministries: dict[str, str]  # code → ministry token
    projects: list[str]  # PILOT identifiers, for project_sheet
    editions: int


@dataclass
class Sample:
    kind: str
    label: str
    status: int  # 0: transport error
    seconds: float
    error: str | None = None


@dataclass
class Upload:
    ministry: str
    prefix: str
    sha256: str
    import_id: int
    status: str


@dataclass
class Result:
    clients: int
    seconds: float
    database: str
    samples: list[Sample] = field(default_factory=list)
    uploads: list[Upload] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    interrupted: int = 0
    killed: str | None = None

    def summary(self) -> dict[str, Any]:
        kinds: dict[str, Any] = {}
        for kind in KINDS:
            done = [s for s in self.samples if s.kind == kind]
            ok = sorted(s.seconds * 1000 for s in done if s.error is None)
            kinds[kind] = {
                "requests": len(done),
                "per_second": round(len(done) / self.seconds, 1),
                "errors": sum(
                    1 for s in done if s.error is not None and s.status not in (429, 503)
                ),
                "refused_429_503": sum(1 for s in done if s.status in (429, 503)),
                "median_ms": round(statistics.median(ok), 1) if ok else None,
                "p95_ms": round(_p95(ok), 1) if ok else None,
                "max_ms": round(ok[-1], 1) if ok else None,
            }
        labels: dict[str, Any] = {}
        for label in sorted({(s.kind, s.label) for s in self.samples}):
            ok = sorted(s.seconds * 1000 for s in self.samples if (s.kind, s.label) == label)
            labels[" ".join(label)] = {
                "requests": len(ok),
                "median_ms": round(statistics.median(ok), 1),
                "p95_ms": round(_p95(ok), 1),
            }
        statuses: dict[str, int] = {}
        for upload in self.uploads:
            statuses[upload.status] = statuses.get(upload.status, 0) + 1
        return {
            "clients": self.clients,
            "seconds": round(self.seconds, 1),
            "database": self.database,
            "requests": len(self.samples),
            "per_second": round(len(self.samples) / self.seconds, 1),
            "errors": sum(k["errors"] for k in kinds.values()),
            "refused_429_503": sum(k["refused_429_503"] for k in kinds.values()),
            "kinds": kinds,
            "labels": labels,
            "uploads_accepted": len(self.uploads),
            "upload_statuses": statuses,
            "lost_imports": len(self.lost),
            "interrupted_imports": self.interrupted,
            "killed": self.killed,
            "error_examples": sorted({f"{s.label}: {s.error}" for s in self.samples if s.error})[
                :10
            ],
            "lost_examples": self.lost[:10],
        }


def seed(url: str, ministries: int) -> Seeded:
    engine = make_engine(url)
    create_all(engine)
    with Session(engine) as session:
        for name in PANORAMAS:
            import_panorama_file(session, ROOT / "data" / "panorama" / name)
        session.commit()
    with Session(engine) as session:
        add_demo_follow_up(session, today=date.today())
        codes = list(
            session.exec(
                select(Ministry.code)
                .join(Project, col(Project.ministry_id) == col(Ministry.id))
                .group_by(Ministry.code)
                .order_by(func.count().desc(), Ministry.code)
                .limit(ministries)
            )
        )
        tokens = {}
        for code in codes:
            ministry = session.exec(select(Ministry).where(Ministry.code == code)).one()
            tokens[code] = auth.create_token(
                session,
                actor="benchmark",
                name=f"charge {code}",
                role=Role.MINISTRY,
                ministry=ministry,
            )[1]
        dinum = auth.create_token(session, actor="benchmark", name="charge DINUM", role=Role.DINUM)[
            1
        ]
        ids = [
            format_pilot_id(i)
            for i in session.exec(
                select(Project.id).where(col(Project.in_panorama).is_(True)).order_by(Project.id)
            )
        ]
        session.commit()
    engine.dispose()
    return Seeded(dinum=dinum, ministries=tokens, projects=ids, editions=len(PANORAMAS))


def publish_site(url: str, var_dir: Path) -> int:
    """The public panorama, as ``pilot publish`` writes it (one more edition)."""
    from scorecards import publish as publisher

    engine = make_engine(url)
    number = publisher.publish_edition(
        engine, var_dir / "site", published_on=date.today(), force=True, workers=1
    ).number
    engine.dispose()
    return number


class Driver:
    def __init__(
        self, base: str, seeded: Seeded, weights: dict[str, float], site: bool, seed: int
    ) -> None:
        self.base = base
        self.seeded = seeded
        self.weights = weights
        self.site = site
        self.rng = random.Random(seed)
        self.run_tag = secrets.token_hex(3)
        self.counter = 0
        self.samples: list[Sample] = []
        self.uploads: list[Upload] = []
        self.given_up: list[str] = []  # uploads never accepted after every resend
        self.kill: tuple[float, Callable[[], str]] | None = None
        self.killed: str | None = None
        last = seeded.editions
        self.public: list[tuple[str, str, dict[str, Any]]] = [
            ("published_edition", _operation("published_edition"), {"number": last}),
            ("published_edition", _operation("published_edition"), {}),
            ("trends", _operation("trends"), {}),
            ("edition_comparison", _operation("edition_comparison"), {"base": 1, "target": 2}),
        ]
        today = date.today().isoformat()
        self.dinum: list[tuple[str, str, dict[str, Any]]] = [
            ("portfolio_overview", _operation("portfolio_overview"), {"asOf": today}),
            ("projects_drifting", _operation("projects_drifting"), {}),
            ("late_milestones", _operation("late_milestones"), {}),
            ("critical_risks", _operation("critical_risks_without_mitigation"), {}),
            ("stale_submissions", _operation("stale_submissions"), {}),
            ("imports_with_findings", _operation("imports_with_findings"), {}),
            ("project_sheet", _operation("project_sheet"), {}),
        ]
        self.pages = ["/panorama/", "/panorama/archives.html"]

    async def run(self, clients: int, seconds: float) -> float:
        limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
        timeout = httpx.Timeout(120.0)
        async with httpx.AsyncClient(base_url=self.base, limits=limits, timeout=timeout) as c:
            if self.site:
                home = await c.get("/panorama/")
                self.pages += sorted(
                    {
                        "/panorama/" + href.split('"')[0]
                        for href in home.text.split('href="')[1:]
                        if "/projets/PRJ-" in href.split('"')[0]
                    }
                )[:50]
            started = time.perf_counter()
            deadline = started + seconds
            await asyncio.gather(
                self._killer(),
                *(
                    self._client(c, random.Random(self.rng.random()), deadline)
                    for _ in range(clients)
                ),
            )
            return time.perf_counter() - started

    async def _killer(self) -> None:
        if self.kill is not None:
            await asyncio.sleep(self.kill[0])
            self.killed = self.kill[1]()

    async def _client(self, c: httpx.AsyncClient, rng: random.Random, deadline: float) -> None:
        kinds = list(self.weights)
        weights = [self.weights[k] for k in kinds]
        while time.perf_counter() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind == "public":
                await self._public(c, rng)
            elif kind == "dinum":
                await self._dinum(c, rng)
            else:
                await self._upload(c, rng)

    async def _timed(
        self, kind: str, label: str, send: Any, check: Any = None
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await send()
        except httpx.HTTPError as failure:
            self.samples.append(
                Sample(kind, label, 0, time.perf_counter() - started, type(failure).__name__)
            )
            return None
        seconds = time.perf_counter() - started
        error: str | None = None
        if response.status_code != 200:
            error = f"HTTP {response.status_code} {response.text[:200]}"
        elif check is not None:
            error = check(response)
        self.samples.append(Sample(kind, label, response.status_code, seconds, error))
        return response

    @staticmethod
    def _graphql_check(response: httpx.Response) -> str | None:
        body = response.json()
        if body.get("errors") or not body.get("data"):
            return f"GraphQL {json.dumps(body.get('errors'), ensure_ascii=False)[:200]}"
        return None

    async def _public(self, c: httpx.AsyncClient, rng: random.Random) -> None:
        if self.site and rng.random() < 0.5:
            page = rng.choice(self.pages)
            await self._timed("public", "page", lambda: c.get(page))
            return
        name, query, variables = rng.choice(self.public)
        await self._timed(
            "public",
            name,
            lambda: c.post("/graphql", json={"query": query, "variables": variables}),
            self._graphql_check,
        )

    async def _dinum(self, c: httpx.AsyncClient, rng: random.Random) -> None:
        name, query, variables = rng.choice(self.dinum)
        if name == "project_sheet":
            variables = {"id": rng.choice(self.seeded.projects)}
        headers = {"Authorization": f"Bearer {self.seeded.dinum}"}
        await self._timed(
            "dinum",
            name,
            lambda: c.post(
                "/graphql", json={"query": query, "variables": variables}, headers=headers
            ),
            self._graphql_check,
        )

    async def _upload(self, c: httpx.AsyncClient, rng: random.Random) -> None:
        code = rng.choice(sorted(self.seeded.ministries))
        self.counter += 1
        prefix = f"Projet charge {self.run_tag} {code} {self.counter}"
        data = await asyncio.to_thread(
            generate_workbook, PROJECTS_PER_WORKBOOK, rng.randrange(1 << 30), prefix
        )
        headers = {"Authorization": f"Bearer {self.seeded.ministries[code]}"}
        files = {"file": (f"pilot-{code}-{self.counter}.xlsx", data)}

        def check(response: httpx.Response) -> str | None:
            body = response.json()
            self.uploads.append(
                Upload(
                    code,
                    prefix,
                    hashlib.sha256(data).hexdigest(),
                    body["import_id"],
                    body["status"],
                )
            )
            if body["status"] != "applied":
                return f"import {body['status']}: {json.dumps(body['findings'][:2])[:200]}"
            return None

        for _ in range(5):
            response = await self._timed(
                "upload",
                "upload",
                lambda: c.post("/workbook/upload", files=files, headers=headers),
                check,
            )
            if response is not None and response.status_code not in (502, 503, 504):
                return
            await asyncio.sleep(1)  # cut, or no worker at hand: send it again
        self.given_up.append(f"{prefix}: never accepted after 5 sends")


def verify(url: str, uploads: list[Upload]) -> tuple[list[str], int]:
    """Every accepted upload: its import row, finished, its archived file, its projects
    (exactly once, even when sent again); and the imports left ``received`` (cut)."""
    lost: list[str] = []
    engine = make_engine(url)
    with Session(engine) as session:
        for upload in uploads:
            record = session.get(ImportFile, upload.import_id)
            if record is None:
                lost.append(f"import {upload.import_id}: no import_file row")
                continue
            if record.status not in FINISHED or record.status != upload.status:
                lost.append(f"import {upload.import_id}: status {record.status}")
            if record.sha256 != upload.sha256:
                lost.append(f"import {upload.import_id}: another file recorded")
            stored = Path(record.stored_path)
            if not stored.exists() or hashlib.sha256(stored.read_bytes()).hexdigest() != (
                upload.sha256
            ):
                lost.append(f"import {upload.import_id}: archived file missing or different")
            if upload.status == "applied":
                found = session.exec(
                    select(func.count())
                    .select_from(Project)
                    .where(col(Project.name).startswith(upload.prefix + " "))
                ).one()
                if found != PROJECTS_PER_WORKBOOK:
                    lost.append(f"import {upload.import_id}: {found} projects")
        accepted = {u.import_id for u in uploads}
        others = session.exec(
            select(ImportFile.id, ImportFile.status).where(ImportFile.channel == "http")
        ).all()
        interrupted = [i for i, status in others if i not in accepted and status == "received"]
        unexplained = [i for i, status in others if i not in accepted and status != "received"]
        if unexplained:
            lost.append(f"imports {unexplained[:5]} recorded but never answered")
    engine.dispose()
    return lost, len(interrupted)


def _kill_a_worker(server_pid: int) -> str:
    """SIGKILL one worker process of the ``pilot serve`` whose pid is given."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    for child in children:
        cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        if "resource_tracker" not in cmdline:
            os.kill(int(child), signal.SIGKILL)
            return f"worker {child} of pilot serve {server_pid} killed (SIGKILL)"
    return "no worker found to kill"


@contextmanager
def proxied(url: str, tmp: Path) -> Iterator[tuple[str, Callable[[], str]]]:
    """nginx (deploy/nginx/pilot.conf) in front of two ``pilot serve`` and a scheduler."""
    from tests.production import nginx, pilot, pilot_env, serve

    site = tmp / "site"
    site.mkdir(exist_ok=True)
    settings: dict[str, Any] = {"trusted_proxies": "127.0.0.1", "site_dir": site}
    with (
        serve(tmp, url, name="w1", ready="/healthz", **settings) as first,
        serve(tmp, url, name="w2", ready="/healthz", **settings) as second,
        pilot(["scheduler"], pilot_env(tmp, url), tmp / "scheduler.log"),
        nginx(tmp, [first.port, second.port], site) as base,
    ):
        yield base, lambda: _kill_a_worker(first.process.pid)


@contextmanager
def database(url: str | None, tmp: Path) -> Iterator[str]:
    """The SQLite file in ``tmp``, or a fresh database on the PostgreSQL server of ``url``."""
    if not url or is_sqlite(url):
        yield url or f"sqlite:///{tmp}/load.db"
        return
    with scratch_database(url, "pilot_load") as scratch:
        yield scratch


def run_load(
    *,
    clients: int = 50,
    seconds: float = 60,
    database_url: str | None = None,
    ministries: int = 6,
    weights: dict[str, float] | None = None,
    site: bool = False,
    seed_value: int = 1,
    log: Any = print,
    proxy: bool = False,
    kill_at: float | None = None,
) -> dict[str, Any]:
    weights = weights or {"public": 0.5, "dinum": 0.35, "upload": 0.15}
    with tempfile.TemporaryDirectory() as tmp_name, database(database_url, Path(tmp_name)) as url:
        tmp = Path(tmp_name)
        started = time.perf_counter()
        seeded = seed(url, ministries)
        if site:
            publish_site(url, tmp)
            seeded.editions += 1
        log(
            f"seeded {make_url(url).get_backend_name()} in {time.perf_counter() - started:.1f} s: "
            f"{len(seeded.projects)} projects, {seeded.editions} editions, uploads for "
            f"{', '.join(sorted(seeded.ministries))}"
        )
        env = {
            "PILOT_DATABASE_URL": url,
            "PILOT_VAR_DIR": str(tmp),
            "PILOT_SCHEDULER_IN_SERVE": "false",
        }
        servers: Any = proxied(url, tmp) if proxy else server(env)
        with servers as served:
            base, kill = served if proxy else (served, None)
            driver = Driver(base, seeded, weights, site, seed_value)
            if kill is not None and kill_at is not None:
                driver.kill = (kill_at, kill)
            via = "nginx → 2 workers" if proxy else "one server"
            log(f"{clients} clients for {seconds:g} s on {base} ({via}) …")
            elapsed = asyncio.run(driver.run(clients, seconds))
        result = Result(clients, elapsed, make_url(url).get_backend_name())
        result.samples = driver.samples
        result.uploads = driver.uploads
        result.lost, result.interrupted = verify(url, driver.uploads)
        result.lost += driver.given_up
        result.killed = driver.killed
    return result.summary()


def print_summary(summary: dict[str, Any]) -> None:
    print(
        f"\n{summary['clients']} clients, {summary['seconds']} s, {summary['database']}: "
        f"{summary['requests']} requests, {summary['per_second']} req/s, "
        f"{summary['errors']} errors, {summary['refused_429_503']} refused (429/503), "
        f"{summary['uploads_accepted']} uploads accepted {summary['upload_statuses']}, "
        f"{summary['lost_imports']} lost imports, "
        f"{summary['interrupted_imports']} interrupted (left received)"
    )
    if summary["killed"]:
        print(summary["killed"])
    print(
        f"\n{'kind':<8} {'requests':>9} {'req/s':>7} {'errors':>7} {'median ms':>10} "
        f"{'p95 ms':>9} {'max ms':>9}"
    )
    for kind, k in summary["kinds"].items():
        print(
            f"{kind:<8} {k['requests']:>9} {k['per_second']:>7} {k['errors']:>7} "
            f"{k['median_ms'] or '-':>10} {k['p95_ms'] or '-':>9} {k['max_ms'] or '-':>9}"
        )
    print(f"\n{'request':<32} {'requests':>9} {'median ms':>10} {'p95 ms':>9}")
    for label, k in summary["labels"].items():
        print(f"{label:<32} {k['requests']:>9} {k['median_ms']:>10} {k['p95_ms']:>9}")
    for line in summary["error_examples"] + summary["lost_examples"]:
        print("  " + line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--database-url", help="PostgreSQL server (a fresh database is made)")
    parser.add_argument("--ministries", type=int, default=6, help="ministries uploading")
    parser.add_argument("--public", type=float, default=0.5, help="weight of public reads")
    parser.add_argument("--dinum", type=float, default=0.35, help="weight of DINUM queries")
    parser.add_argument("--upload", type=float, default=0.15, help="weight of uploads")
    parser.add_argument("--site", action="store_true", help="publish and read the panorama")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--proxy", action="store_true", help="nginx in front of 2 workers")
    parser.add_argument("--kill-worker-at", type=float, help="SIGKILL a worker after S s")
    args = parser.parse_args(argv)
    if args.proxy and not (args.database_url and not is_sqlite(args.database_url)):
        parser.error("--proxy needs --database-url on PostgreSQL (several workers)")
    summary = run_load(
        clients=args.clients,
        seconds=args.seconds,
        database_url=args.database_url,
        ministries=args.ministries,
        weights={"public": args.public, "dinum": args.dinum, "upload": args.upload},
        site=args.site,
        proxy=args.proxy,
        kill_at=args.kill_worker_at,
    )
    print_summary(summary)
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return 0 if summary["errors"] == 0 and summary["lost_imports"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
