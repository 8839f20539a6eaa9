"""A bare ASGI application for ``graphql_vs_postgraphile.py``: it reads the request,
decodes its JSON and answers the bytes PILOT answered for that query, nothing else — no
framework, no middleware, no database. Served by Granian as ``pilot serve`` serves
PILOT, it measures what a request costs here before any application work: the least a
Python server answers in, beside PostGraphile.

The answers are read from the JSON file named by ``PILOT_BENCH_ANSWERS``:
``{"<query>\\n<variables as sorted JSON>": "<answer>"}``.

With ``PILOT_BENCH_VERSION_DATABASE`` (a libpq URL), each request first reads the data
version as a cached answer of PILOT must (``pilot.coordination``: one statement, in
autocommit), in a worker thread with a connection of its own, since the event loop must
never wait for the database: the least a server answering from a cache kept by data
version spends."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import anyio.to_thread
import psycopg

from pilot.coordination import READ_VERSION

_ANSWERS: dict[str, bytes] = {}
_THREAD = threading.local()


def _read_version() -> int:
    """The data version, on this worker thread's connection (made once)."""
    connection: psycopg.Connection[Any] | None = getattr(_THREAD, "connection", None)
    if connection is None:
        database = os.environ["PILOT_BENCH_VERSION_DATABASE"]
        connection = _THREAD.connection = psycopg.connect(database, autocommit=True)
    row = connection.execute(READ_VERSION).fetchone()
    return int(row[0]) if row else 0


def key(query: str, variables: dict[str, Any] | None) -> str:
    return query + "\n" + json.dumps(variables or {}, sort_keys=True)


def _answers(request_key: str) -> bytes:
    """The answer to a request (``{}`` for one unknown): the file is read again until it
    holds it (the benchmark writes it once the server is up)."""
    if request_key not in _ANSWERS and os.path.exists(os.environ["PILOT_BENCH_ANSWERS"]):
        with open(os.environ["PILOT_BENCH_ANSWERS"], encoding="utf-8") as file:
            _ANSWERS.update({k: v.encode() for k, v in json.load(file).items()})
    return _ANSWERS.get(request_key, b"{}")


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    request = json.loads(b"".join(chunks) or b"{}")
    if "PILOT_BENCH_VERSION_DATABASE" in os.environ:
        await anyio.to_thread.run_sync(_read_version)
    body = _answers(key(request.get("query", ""), request.get("variables")))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
