"""DataLoaders: the number of SQL statements does not grow with the number of projects."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, insert
from sqlmodel import Session

from pilot.api.app import create_app
from pilot.ministries import service as ministries
from pilot.projects.models import Milestone, Project, Report, Risk

QUERY = """
query($filter: ProjectFilter) {
  projects(first: 1000, filter: $filter) {
    totalCount
    nodes {
      id name ministry { code } health currentCostEur
      latestReport { reportedOn weather }
      milestones { name late }
      risks { title criticality }
    }
  }
}
"""


def _populate(engine: Engine, count: int) -> None:
    with Session(engine) as session:
        ministry = ministries.create_ministry(session, "MI", "Ministère de l'Intérieur")
        session.commit()
        mid = ministry.id
    rows = [
        {
            "id": i,
            "name": f"Projet {i}",
            "name_key": f"projet {i}",
            "ministry_id": mid,
            "in_panorama": True,
            "confidential": False,
            "interministerial": False,
            "created_at": date(2024, 1, 1),
        }
        for i in range(1, count + 1)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Project), rows)
        conn.execute(
            insert(Report),
            [
                {
                    "project_id": i,
                    "reported_on": date(2024, 1, 1),
                    "current_cost_eur": 10_000_000 + i,
                    "weather": "nuageux",
                    "created_at": date(2024, 1, 1),
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
                    "baseline_date": date(2024, k, 1),
                    "created_at": date(2024, 1, 1),
                }
                for i in range(1, count + 1)
                for k in (1, 2)
            ],
        )
        conn.execute(
            insert(Risk),
            [
                {
                    "project_id": i,
                    "title": f"Risque {k}",
                    "probability": k,
                    "impact": 2,
                    "status": "ouvert",
                    "mitigation": "suivi",
                    "created_at": date(2024, 1, 1),
                }
                for i in range(1, count + 1)
                for k in (1, 2)
            ],
        )


def _dinum_token(engine: Engine) -> str:
    from pilot.auth import service as auth
    from pilot.auth.models import Role

    with Session(engine) as session:
        _, token = auth.create_token(session, actor="test", name="dinum", role=Role.DINUM)
        session.commit()
    return token


def _envelope(statement: str) -> bool:
    """The token's look-up and the failed-login limiter's bookkeeping: both skipped for a
    token this worker checked less than a second ago (``pilot.api.tokens``), so their
    count depends on the time between two requests, not on what is asked."""
    return any(word in statement for word in ("FROM token", "auth_attempt", "advisory"))


def _statements(
    engine: Engine, client: TestClient, variables: dict[str, Any], token: str
) -> tuple[int, int]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", count)
    try:
        body = client.post(
            "/graphql",
            json={"query": QUERY, "variables": variables},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert "errors" not in body, body
    return len([s for s in seen if not _envelope(s)]), len(body["data"]["projects"]["nodes"])


@pytest.mark.slow
@pytest.mark.parametrize(
    "variables",
    [{}, {"filter": {"weather": ["NUAGEUX"], "hasLateMilestones": True}}],
    ids=["sql-keyset", "computed-filter"],
)
def test_statement_count_does_not_grow_with_projects(
    engine: Engine, variables: dict[str, Any]
) -> None:
    from pilot.db import metadata

    counts = []
    for size in (10, 1000):
        with engine.begin() as conn:
            for table in reversed(metadata.sorted_tables):
                conn.execute(table.delete())
        _populate(engine, size)
        token = _dinum_token(engine)
        statements, listed = _statements(engine, TestClient(create_app()), variables, token)
        assert listed == size
        counts.append(statements)
    assert counts[0] == counts[1], counts


def test_aliased_projects_share_their_relation_statements(engine: Engine) -> None:
    """``project(id:)`` loads its relations through the request's DataLoaders: aliased
    project fields are batched, one statement per relation for all of them."""

    _populate(engine, 3)
    token = _dinum_token(engine)
    client = TestClient(create_app())
    fields = (
        "{ id ministry { code } health latestReport { weather } milestones { name } "
        "risks { title } }"
    )

    def statements(ids: list[int]) -> int:
        query = "{ " + " ".join(f'p{i}: project(id: "PRJ-{i:05d}") {fields}' for i in ids) + " }"
        seen: list[str] = []

        def count(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            body = client.post(
                "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
            ).json()
        finally:
            event.remove(engine, "before_cursor_execute", count)
        assert "errors" not in body, body
        assert [body["data"][f"p{i}"]["milestones"][0]["name"] for i in ids] == ["Jalon 1"] * len(
            ids
        )
        return len([s for s in seen if not _envelope(s)])

    one, three = statements([1]), statements([1, 2, 3])
    assert three == one + 2  # one more project lookup per alias, nothing else


def test_statements_select_only_the_columns_asked_for(engine: Engine) -> None:
    """A page asking for names and milestone names reads neither the projects'
    descriptions nor the milestones' other columns."""

    _populate(engine, 3)
    token = _dinum_token(engine)
    client = TestClient(create_app())
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", record)
    try:
        body = client.post(
            "/graphql",
            json={"query": "{ projects(first: 5) { nodes { name milestones { name } } } }"},
            headers={"Authorization": f"Bearer {token}"},
        ).json()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert "errors" not in body, body
    assert body["data"]["projects"]["nodes"][0]["milestones"][0]["name"] == "Jalon 1"
    reads = [s for s in seen if "FROM project " in s or "FROM milestone " in s]
    assert len(reads) == 2, seen
    assert not any("description" in s or "created_at" in s for s in reads), reads
    assert not any("FROM report" in s or "FROM risk" in s for s in seen), seen


def test_audit_trail_reads_only_the_events_asked_for(engine: Engine) -> None:
    """``auditTrail(first:)`` is ranked by the database: a project with 300 events sends
    the most any selection asks for (the default 100 here), newest first, not all 300;
    each alias keeps its own ``first``, for a page and for ``project(id:)`` alike."""
    from datetime import datetime, timedelta

    from pilot.audit.models import AuditEvent

    _populate(engine, 2)
    start = datetime(2024, 1, 1, 12, 0)
    with engine.begin() as conn:
        conn.execute(
            insert(AuditEvent),
            [
                {
                    "at": start + timedelta(minutes=n),
                    "actor": "test",
                    "action": "update",
                    "entity": "project",
                    "entity_id": project,
                    "project_id": project,
                    "field": "name",
                    "new_value": f"{project}-{n}",
                }
                for project, events in ((1, 300), (2, 3))
                for n in range(events)
            ],
        )
    token = _dinum_token(engine)
    client = TestClient(create_app())
    trails = (
        "two: auditTrail(first: 2) { newValue } some: auditTrail(first: $n) { newValue } "
        "all: auditTrail { newValue }"
    )
    fetched: list[int] = []

    def rows(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM audit_event" in statement:
            fetched.append(cursor.rowcount)  # rows of a SELECT (psycopg; -1 on SQLite)

    def newest(project: int, count: int) -> list[dict[str, str]]:
        return [{"newValue": f"{project}-{n}"} for n in range(299 if project == 1 else 2, -1, -1)][
            :count
        ]

    def ask(root: str, n: int) -> dict[str, Any]:
        query = f"query($n: Int!) {{ {root} }}"
        headers = {"Authorization": f"Bearer {token}"}
        body: dict[str, Any] = client.post(
            "/graphql", json={"query": query, "variables": {"n": n}}, headers=headers
        ).json()
        return body

    event.listen(engine, "after_cursor_execute", rows)
    try:
        page = ask(f"projects {{ nodes {{ id {trails} }} }}", 5)
        one = ask(f'project(id: "PRJ-00001") {{ {trails} }}', 150)
    finally:
        event.remove(engine, "after_cursor_execute", rows)
    assert "errors" not in page and "errors" not in one, (page, one)
    nodes = {n["id"]: n for n in page["data"]["projects"]["nodes"]}
    for project, pilot_id in ((1, "PRJ-00001"), (2, "PRJ-00002")):
        node = nodes[pilot_id]
        assert node["two"] == newest(project, 2)
        assert node["some"] == newest(project, 5)
        assert node["all"] == newest(project, 100)
    sheet = one["data"]["project"]
    assert (sheet["two"], sheet["some"], sheet["all"]) == (
        newest(1, 2),
        newest(1, 150),
        newest(1, 100),
    )
    if engine.dialect.name == "postgresql":
        assert fetched == [100 + 3, 150], fetched
