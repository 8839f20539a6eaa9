"""Nothing a GraphQL request does blocks the event loop: while a mutation waits for the
database's write lock (held by another connection, as during an import), ``/healthz``
and GraphQL reads are answered; the mutation completes once the lock is released.

A real uvicorn server on loopback. The check is functional: the reads must be answered
while the lock is still held and the mutation still waiting. (Before, resolvers ran on
the event loop: the waiting mutation froze every request until SQLite's busy timeout.)
"""

from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from sqlalchemy import Engine, text

from pilot import config
from pilot.api.app import create_app
from tests.api.graphql.conftest import Demo

ADD_RISK = (
    'mutation($id: ID!) { addRisk(input: {projectId: $id, title: "Panne du serveur", '
    "probability: 1, impact: 2}) { id title } }"
)
READ = "{ projects(first: 5) { totalCount nodes { id name } } }"
PUBLIC_READ = "{ editions { number title } }"  # the public reads published editions only
ANSWER_WITHIN = 20  # seconds: generous, a functional bound only (the lock is held longer)


@contextmanager
def serving() -> Iterator[str]:
    """The app, served by uvicorn in a thread on a loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(), log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


@contextmanager
def write_lock_held(engine: Engine, table: str = "risk") -> Iterator[Callable[[], None]]:
    """Another connection holds the write lock (SQLite: ``BEGIN IMMEDIATE`` on the same
    file; PostgreSQL: an EXCLUSIVE lock on ``table``, which lets reads through); yields
    the function that releases it."""
    if engine.dialect.name == "sqlite":
        holder = sqlite3.connect(str(engine.url.database), isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")

        def release() -> None:
            holder.execute("ROLLBACK")

        try:
            yield release
        finally:
            holder.close()
    else:
        with engine.connect() as connection:
            transaction = connection.begin()
            connection.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))
            yield transaction.rollback


def test_a_mutation_waiting_for_the_write_lock_blocks_no_other_request(
    demo: Demo, engine: Engine
) -> None:
    dinum = {"Authorization": f"Bearer {demo.tokens['dinum']}"}
    with (
        serving() as url,
        httpx.Client(base_url=url, timeout=ANSWER_WITHIN) as reader,
        httpx.Client(base_url=url, timeout=120) as writer,
        ThreadPoolExecutor(1) as pool,
        write_lock_held(engine) as release,
    ):
        mutation = pool.submit(
            writer.post,
            "/graphql",
            json={"query": ADD_RISK, "variables": {"id": demo.drifting}},
            headers=dinum,
        )
        time.sleep(0.5)  # lets the mutation reach the lock; the checks below never need it
        assert not mutation.done()

        health = reader.get("/healthz")
        public = reader.post("/graphql", json={"query": PUBLIC_READ})
        as_dinum = reader.post("/graphql", json={"query": READ}, headers=dinum)
        again = reader.get("/healthz")

        assert health.status_code == again.status_code == 200
        assert health.json()["status"] == "ok"
        assert public.status_code == 200 and public.json()["data"]["editions"], public.text
        assert as_dinum.status_code == 200
        body = as_dinum.json()
        assert "errors" not in body and len(body["data"]["projects"]["nodes"]) == 5
        assert not mutation.done(), "the lock is held: the mutation must still be waiting"

        release()
        done = mutation.result(timeout=120)
    assert done.status_code == 200, done.text
    body = done.json()
    assert "errors" not in body, body
    assert body["data"]["addRisk"]["title"] == "Panne du serveur"


@pytest.mark.parametrize("readers", [4])
def test_reads_in_parallel_threads_all_answer_with_their_own_data(demo: Demo, readers: int) -> None:
    # Requests execute in worker threads, each on its own event loop with its own
    # DataLoaders: parallel requests never mix their answers.
    own = "{ me { role ministry { code } } projects(first: 3) { nodes { ministry { code } } } }"
    every = "{ me { role } projects(first: 3) { nodes { id ministry { code } } } }"
    queries = {None: every, "ministry": own, "other": own, "dinum": every}
    with serving() as url, httpx.Client(base_url=url, timeout=60) as client:

        def ask(role: str | None) -> dict[str, object]:
            headers = {"Authorization": f"Bearer {demo.tokens[role]}"} if role else {}
            response = client.post("/graphql", json={"query": queries[role]}, headers=headers)
            assert response.status_code == 200
            body: dict[str, object] = response.json()
            return body

        expected = {role: ask(role) for role in queries}
        with ThreadPoolExecutor(readers) as pool:
            rounds = [(role, pool.submit(ask, role)) for _ in range(5) for role in queries]
            for role, future in rounds:
                assert future.result() == expected[role]
    assert expected["ministry"] != expected["other"]


UPLOAD = "mutation($file: Upload!) { uploadWorkbook(file: $file) { importId status } }"


def test_graphql_uploads_waiting_for_their_turn_all_complete(
    demo: Demo, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One import at a time: while the first waits for the write lock, the others wait for
    # their turn (the turns live on the server's event loop; the requests execute in
    # worker threads on loops of their own, and hand the turn back to it).
    monkeypatch.setenv("PILOT_IMPORT_MAX_CONCURRENCY", "1")
    config.get_settings.cache_clear()
    ministry = {"Authorization": f"Bearer {demo.tokens['ministry']}"}
    operations = json.dumps({"query": UPLOAD, "variables": {"file": None}})

    def upload(client: httpx.Client, n: int) -> httpx.Response:
        return client.post(
            "/graphql",
            data={"operations": operations, "map": json.dumps({"0": ["variables.file"]})},
            files={"0": (f"mi-{n}.xlsx", f"pas un classeur {n}".encode(), "application/zip")},
            headers=ministry,
        )

    with (
        serving() as url,
        httpx.Client(base_url=url, timeout=120) as client,
        httpx.Client(base_url=url, timeout=ANSWER_WITHIN) as reader,
        ThreadPoolExecutor(3) as pool,
        write_lock_held(engine, "import_file") as release,
    ):
        uploads = [pool.submit(upload, client, n) for n in range(3)]
        time.sleep(0.5)  # lets the uploads queue; the checks below never need it
        assert reader.get("/healthz").status_code == 200
        assert not any(u.done() for u in uploads)
        release()
        answers = [u.result(timeout=120) for u in uploads]
    ids = set()
    for answer in answers:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert "errors" not in body, body
        assert body["data"]["uploadWorkbook"]["status"] == "rejected"  # not a workbook
        ids.add(body["data"]["uploadWorkbook"]["importId"])
    assert len(ids) == 3
