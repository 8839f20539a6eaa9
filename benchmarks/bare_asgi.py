"""A bare ASGI application for ``graphql_vs_postgraphile.py``: it reads the request,
decodes its JSON and answers the bytes PILOT answered for that query, nothing else — no
framework, no middleware, no database. Served by Granian as ``pilot serve`` serves
PILOT, it measures what a request costs here before any application work: the least a
Python server answers in, beside PostGraphile.

The answers are read from the JSON file named by ``PILOT_BENCH_ANSWERS``:
``{"<query>\\n<variables as sorted JSON>": "<answer>"}``."""

from __future__ import annotations

import json
import os
from typing import Any

_ANSWERS: dict[str, bytes] = {}


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
    body = _answers(key(request.get("query", ""), request.get("variables")))
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
