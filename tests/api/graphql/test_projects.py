"""The project list: keyset pagination, sorting, filters; mutations' effects."""

from __future__ import annotations

import pytest

from tests.api.graphql.conftest import Demo
from tests.api.multipart import post_graphql_upload

PAGE = """
query($first: Int, $after: String, $order: ProjectOrder, $filter: ProjectFilter) {
  projects(first: $first, after: $after, orderBy: $order, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name currentCostEur drift { budgetInitial } }
  }
}
"""


def _walk(
    demo: Demo, order: dict, size: int, role: str = "dinum", filter: dict | None = None
) -> list[dict]:
    seen: list[dict] = []
    after = None
    while True:
        body = demo.gql(
            PAGE, {"first": size, "after": after, "order": order, "filter": filter}, role=role
        )
        assert "errors" not in body, body
        page = body["data"]["projects"]
        seen.extend(page["nodes"])
        if not page["pageInfo"]["hasNextPage"]:
            return seen
        after = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("field", ["ID", "NAME", "START_DATE", "CURRENT_COST", "BUDGET_DRIFT"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
def test_keyset_pages_cover_the_list_once_in_order(demo: Demo, field: str, direction: str) -> None:
    order = {"field": field, "direction": direction}
    everything = _walk(demo, order, 1000)
    paged = _walk(demo, order, 7)
    assert [p["id"] for p in paged] == [p["id"] for p in everything]
    assert len({p["id"] for p in paged}) == len(paged) == 72
    if field == "CURRENT_COST":
        costs = [p["currentCostEur"] for p in paged if p["currentCostEur"] is not None]
        assert costs == sorted(costs, reverse=direction == "DESC")
        assert all(p["currentCostEur"] is None for p in paged[len(costs) :])  # unknown last


def test_cursor_of_another_order_is_refused(demo: Demo) -> None:
    body = demo.gql(PAGE, {"first": 2}, role="dinum")
    cursor = body["data"]["projects"]["pageInfo"]["endCursor"]
    other = demo.gql(PAGE, {"first": 2, "after": cursor, "order": {"field": "NAME"}}, role="dinum")
    assert other["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    junk = demo.gql(PAGE, {"first": 2, "after": "%%%"}, role="dinum")
    assert junk["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("filter", "expected"),
    [
        ({"search": "archivage"}, lambda d: {"VITAM"} <= d),
        ({"ministry": ["MI"], "phase": ["DEPLOIEMENT"]}, lambda d: "B015" in d),
        ({"costBracket": ["> 100 M€"]}, lambda d: len(d) > 0),
        ({"weather": ["SOLEIL"]}, lambda d: d == {"B015"}),
        ({"health": ["RED"], "ministry": ["MI"]}, lambda d: "B015" in d),
        ({"riskCriticalityAtLeast": 16}, lambda d: d == {"B015"}),
        ({"stale": False}, lambda d: d == {"B015", "ASTREA"}),
    ],
)
def test_filters(demo: Demo, filter: dict, expected: object) -> None:
    names = {p["name"] for p in _walk(demo, {"field": "ID"}, 100, filter=filter)}
    assert expected(names), names  # type: ignore[operator]


def test_filters_combine_and_count(demo: Demo) -> None:
    body = demo.gql(PAGE, {"first": 1, "filter": {"ministry": ["MI"], "stale": True}}, role="dinum")
    page = body["data"]["projects"]
    assert page["totalCount"] > 1 and len(page["nodes"]) == 1 and page["pageInfo"]["hasNextPage"]


def test_record_report_changes_health_and_is_history(demo: Demo) -> None:
    query = "query($id: ID!) { project(id: $id) { phase health reports { reportedOn } } }"
    before = demo.gql(query, {"id": demo.rebaselined}, role="ministry")["data"]["project"]
    body = demo.gql(
        'mutation($id: ID!) { recordReport(input: {projectId: $id, reportedOn: "2024-03-01", '
        "phase: DEPLOIEMENT, currentCostEur: 500000000, weather: ORAGE}) "
        "{ weather currentCostText } }",
        {"id": demo.rebaselined},
        role="ministry",
    )
    assert body["data"]["recordReport"]["weather"] == "ORAGE"
    after = demo.gql(query, {"id": demo.rebaselined}, role="ministry")["data"]["project"]
    assert len(after["reports"]) == len(before["reports"]) + 1
    assert after["phase"] == "DEPLOIEMENT" and after["health"] == "RED"


def test_risk_and_milestone_mutations(demo: Demo) -> None:
    closed = demo.gql(
        f'mutation {{ closeRisk(riskId: "{demo.risk_id}", closedOn: "2024-03-01") '
        "{ status closedOn } }",
        role="ministry",
    )
    assert closed["data"]["closeRisk"] == {"status": "clos", "closedOn": "2024-03-01"}
    again = demo.gql(
        f'mutation {{ closeRisk(riskId: "{demo.risk_id}") {{ status }} }}', role="ministry"
    )
    assert again["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    other = demo.gql(
        f'mutation {{ closeRisk(riskId: "{demo.risk_id}") {{ status }} }}', role="other"
    )
    assert other["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    done = demo.gql(
        f'mutation {{ updateMilestone(input: {{milestoneId: "{demo.milestone_id}", '
        'actualDate: "2024-03-01"}) { late actualDate } }',
        role="ministry",
    )
    assert done["data"]["updateMilestone"] == {"late": False, "actualDate": "2024-03-01"}
    late = demo.operation("late_milestones", role="dinum")["data"]["projects"]
    assert late["totalCount"] == 0


UPLOAD = (
    "mutation($file: Upload!, $dry: Boolean) { uploadWorkbook(file: $file, dryRun: $dry) "
    "{ status importId errors { message } } }"
)


def _upload(demo: Demo, role: str | None, content: bytes) -> dict:
    headers = {"Authorization": f"Bearer {demo.tokens[role]}"} if role else {}
    response = post_graphql_upload(
        demo.client, UPLOAD, content, headers=headers, variables={"dry": True}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_upload_needs_a_ministry_or_dinum_token(demo: Demo) -> None:
    assert _upload(demo, None, b"x")["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert _upload(demo, "admin", b"x")["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_upload_reaches_the_intake(demo: Demo) -> None:
    body = _upload(demo, "ministry", b"not a workbook")
    outcome = body["data"]["uploadWorkbook"]
    assert outcome["status"] in {"rejected", "failed"}
    assert outcome["errors"]


def _every_project_field() -> list[str]:
    """A selection of every field of ``Project`` (objects with all their scalar fields)."""
    from graphql import GraphQLObjectType, get_named_type, is_leaf_type
    from pilot.api.graphql.schema import build_schema

    project = build_schema()._schema.type_map["Project"]
    assert isinstance(project, GraphQLObjectType)
    parts = []
    for name, field in project.fields.items():
        named = get_named_type(field.type)
        if is_leaf_type(named):
            parts.append(name)
        else:
            assert isinstance(named, GraphQLObjectType)
            leaves = [n for n, f in named.fields.items() if is_leaf_type(get_named_type(f.type))]
            parts.append(f"{name} {{ {' '.join(leaves)} }}")
    return parts


@pytest.mark.parametrize("role", ["dinum", "ministry"])
def test_every_project_field_has_its_relations_loaded(demo: Demo, role: str) -> None:
    """projects and project read up front every relation the selected fields need: every
    field of Project answers, as a list and alone."""
    parts = _every_project_field()
    fields = " ".join(parts)
    listed = demo.gql(f"{{ projects(first: 20) {{ nodes {{ {fields} }} }} }}", role=role)
    assert "errors" not in listed, listed["errors"]
    assert listed["data"]["projects"]["nodes"]
    one = demo.gql(f'{{ project(id: "{demo.drifting}") {{ {fields} }} }}', role=role)
    assert "errors" not in one, one["errors"]
    assert one["data"]["project"]["id"] == demo.drifting


def test_relations_asked_for_in_fragments_are_loaded(demo: Demo) -> None:
    query = """{ projects(first: 5) { edges { node { ...Figures } } }
      project(id: "%s") { ... on Project { risks { title } } } }
      fragment Figures on Project { health ... on Project { milestones { name } } }"""
    body = demo.gql(query % demo.drifting, role="dinum")
    assert "errors" not in body, body["errors"]
    assert all("milestones" in e["node"] for e in body["data"]["projects"]["edges"])
    assert body["data"]["project"]["risks"]


def test_every_project_field_is_built() -> None:
    """Each field of the Project type has its value made by ``build.VALUES`` (a field
    missing there would stay unset)."""
    from graphql import GraphQLObjectType
    from pilot.api.graphql.projects import build
    from pilot.api.graphql.schema import build_schema

    project = build_schema()._schema.type_map["Project"]
    assert isinstance(project, GraphQLObjectType)
    assert set(project.fields) == set(build.VALUES)
