"""GraphQL reads requests, clocks, events, documents, opinions, axes and recommendations
through DataLoaders: the number of SQL statements does not grow with the requests."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from pilot.api.app import create_app
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.db import metadata, session_scope
from pilot.ministries import service as ministries
from pilot.opinions import service as opinions
from pilot.opinions.service import AxisInput, RecommendationInput
from pilot.projects import service as projects
from tests.opinions.conftest import PDF

QUERY = """
{
  opinionRequests(first: 100) {
    id projectId projectName ministry status
    clock { deadline daysLeft observations { observer } }
    events { kind happenedOn }
    documents { filename }
    opinion {
      sense axes { axis rating } driftSince { budget schedule }
      recommendations { number projectName ministry history { status } }
    }
  }
}
"""
AXES = [AxisInput(a, "satisfactory", "Bien.") for a in opinions.AXIS_LABELS]


def _populate(engine: Engine, count: int) -> str:
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
    with session_scope(engine, write=True) as s:
        mi = ministries.create_ministry(s, "MI", "Ministère de l'Intérieur")
        dinum = auth.Principal(role=Role.DINUM, name="test")
        for i in range(count):
            p = projects.create_project(
                s, ministry=mi, name=f"Projet {i}", on=date(2026, 1, 1), actor="test"
            )
            request = opinions.open_request(s, dinum, p, subject="S", on=date(2027, 1, 4))
            opinions.add_document(s, dinum, request, filename="d.pdf", data=PDF)
            opinions.receive_file(s, dinum, request, on=date(2027, 1, 5))
            opinions.record_observations(s, dinum, request, observer="anssi", on=date(2027, 1, 9))
            if i % 2:
                opinions.give_opinion(
                    s,
                    dinum,
                    request,
                    sense="favourable",
                    on=date(2027, 1, 20),
                    axes=AXES,
                    recommendations=[
                        RecommendationInput("A.", "DNUM", date(2027, 6, 1)),
                        RecommendationInput("B.", "DNUM", date(2027, 7, 1)),
                    ],
                )
        _, token = auth.create_token(s, actor="test", name="dinum", role=Role.DINUM)
    return token


def _statements(engine: Engine, token: str) -> tuple[int, list[dict[str, Any]]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    client = TestClient(create_app())
    event.listen(engine, "before_cursor_execute", count)
    try:
        body = client.post(
            "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
        ).json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert "errors" not in body, body
    return len(seen), body["data"]["opinionRequests"]


def test_statement_count_does_not_grow_with_requests(engine: Engine) -> None:
    counts = []
    for size in (2, 8):
        statements, listed = _statements(engine, _populate(engine, size))
        assert len(listed) == size
        assert sum(1 for r in listed if r["opinion"]) == size // 2
        counts.append(statements)
    assert counts[0] == counts[1], counts
