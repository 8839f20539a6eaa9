"""Does the server stay responsive while it works hard (issue 15)? A real ``pilot serve``
on loopback (SQLite, the embedded default) imports a 10 000-project workbook over HTTP
while a GraphQL mutation waits for the write lock behind it; meanwhile ``/healthz`` and
an anonymous GraphQL read are polled every 50 ms. Prints the latencies seen during the
import (target: ``/healthz`` under 200 ms throughout).

    .venv/bin/python -m benchmarks.responsiveness [--projects 10000]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PILOT = str(Path(sys.executable).with_name("pilot"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _pilot(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [PILOT, *args], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout


def _token(env: dict[str, str], *args: str) -> str:
    out = _pilot(env, "token", "create", *args)
    return next(w for w in out.split() if len(w) > 30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--projects", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "PILOT_VAR_DIR": folder, "PILOT_SCHEDULER_IN_SERVE": "false"}
        env.pop("PILOT_DATABASE_URL", None)
        _pilot(env, "db", "upgrade")
        _pilot(env, "import-panorama", str(ROOT / "data/panorama/panorama-2016-11.csv"))
        ministry = _token(env, "--name", "mi", "--role", "ministry", "--ministry", "MI")
        dinum = _token(env, "--name", "dinum", "--role", "dinum")
        workbook = Path(folder) / "big.xlsx"
        _pilot(env, "generate", "--projects", str(args.projects), str(workbook))
        port = _free_port()
        server = subprocess.Popen(
            [PILOT, "serve", "--port", str(port)],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _run(base, ministry, dinum, workbook.read_bytes())
        finally:
            server.terminate()
            server.wait(10)


def _run(base: str, ministry: str, dinum: str, data: bytes) -> None:
    with httpx.Client(base_url=base, timeout=600) as client:
        for _ in range(200):
            try:
                if client.get("/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        project = client.post(
            "/graphql",
            json={"query": "{ projects(first: 1) { nodes { id } } }"},
            headers={"Authorization": f"Bearer {dinum}"},
        ).json()["data"]["projects"]["nodes"][0]["id"]
    done = threading.Event()
    outcome: dict[str, object] = {}

    def upload() -> None:
        started = time.perf_counter()
        with httpx.Client(base_url=base, timeout=900) as c:
            r = c.post(
                "/workbook/upload",
                headers={"Authorization": f"Bearer {ministry}"},
                files={"file": ("big.xlsx", data)},
            )
        outcome["upload"] = (r.status_code, r.json().get("status"), time.perf_counter() - started)
        done.set()

    def mutation() -> None:
        time.sleep(1.0)
        started = time.perf_counter()
        query = (
            'mutation($p: ID!) { addRisk(input: {projectId: $p, title: "Attente", '
            "probability: 1, impact: 1}) { id } }"
        )
        with httpx.Client(base_url=base, timeout=900) as c:
            r = c.post(
                "/graphql",
                json={"query": query, "variables": {"p": project}},
                headers={"Authorization": f"Bearer {dinum}"},
            )
        outcome["mutation"] = (r.status_code, time.perf_counter() - started)

    threads = [threading.Thread(target=upload), threading.Thread(target=mutation)]
    for t in threads:
        t.start()
    health: list[float] = []
    reads: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        while not done.is_set():
            started = time.perf_counter()
            client.get("/healthz")
            health.append(time.perf_counter() - started)
            started = time.perf_counter()
            client.post("/graphql", json={"query": "{ editions { number title } }"})
            reads.append(time.perf_counter() - started)
            time.sleep(0.05)
    for t in threads:
        t.join()
    print(f"upload (status, import status, seconds): {outcome['upload']}")
    print(f"mutation waiting behind it (status, seconds): {outcome.get('mutation')}")
    for name, values in (("/healthz", health), ("anonymous GraphQL read", reads)):
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(
            f"{name}: {len(values)} requests, median {statistics.median(values) * 1000:.0f} ms, "
            f"p99 {p99 * 1000:.0f} ms, max {values[-1] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
