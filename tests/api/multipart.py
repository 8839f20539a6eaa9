"""A GraphQL upload as clients send it: the multipart request spec (operations, map, the
file as variable ``file``)."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi.testclient import TestClient


def post_graphql_upload(
    client: TestClient,
    query: str,
    content: bytes,
    *,
    headers: dict[str, str],
    variables: dict[str, Any] | None = None,
    filename: str = "classeur.xlsx",
) -> httpx.Response:
    operations = {"query": query, "variables": {**(variables or {}), "file": None}}
    return client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, "application/octet-stream")},
        headers=headers,
    )
