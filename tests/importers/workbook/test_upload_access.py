"""One access check for every upload channel (``pilot.auth.access``): the HTTP route and
the GraphQL mutation give each role the same decision, from the one access table (an
admin token manages tokens; it never uploads a workbook)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.db import session_scope
from pilot.ministries import service as ministries
from tests.api.multipart import post_graphql_upload
from tests.importers.workbook.conftest import Seed, template_for, to_bytes

QUERY = (
    "mutation($file: Upload!, $m: String) { uploadWorkbook(file: $file, ministry: $m) { status } }"
)
# who, ministry asked → (HTTP status, GraphQL error code or None when accepted)
MATRIX = [
    (None, "MI", 401, "UNAUTHENTICATED"),
    ("admin", "MI", 403, "FORBIDDEN"),
    ("ministry", None, 200, None),
    ("ministry", "MI", 200, None),
    ("ministry", "MJ", 403, "FORBIDDEN"),
    ("dinum", "MI", 200, None),
    ("dinum", None, 404, "BAD_USER_INPUT"),
    ("dinum", "XX", 404, "NOT_FOUND"),
]


@pytest.mark.parametrize(("who", "ministry", "status", "code"), MATRIX)
def test_every_upload_channel_gives_a_role_the_same_answer(
    engine: Engine, seed: Seed, who: str | None, ministry: str | None, status: int, code: str | None
) -> None:
    with session_scope(engine, write=True) as s:
        mi = ministries.get_by_code(s, "MI")
        roles = {"ministry": (Role.MINISTRY, mi), "dinum": (Role.DINUM, None)}
        roles["admin"] = (Role.ADMIN, None)
        token = None
        if who is not None:
            role, own = roles[who]
            token = auth.create_token(s, actor="test", name=who, role=role, ministry=own)[1]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = to_bytes(template_for(engine, "MI"))
    client = TestClient(create_app())
    params = {"ministry": ministry, "dry_run": "true"} if ministry else {}
    response = client.post(
        "/workbook/upload",
        params={"ministry": ministry} if ministry else {},
        data={"dry_run": "true"},
        headers=headers,
        files={"file": ("mi.xlsx", data)},
    )
    assert response.status_code == status, (params, response.text)
    body = post_graphql_upload(
        client, QUERY, data, headers=headers, variables={"m": ministry}, filename="mi.xlsx"
    ).json()
    if code is None:
        assert body["data"]["uploadWorkbook"]["status"], body
    else:
        assert body["errors"][0]["extensions"]["code"] == code, body
