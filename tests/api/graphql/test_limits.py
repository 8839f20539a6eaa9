"""What one request may ask for: depth, aliases, cost per role, list lengths, search
length, measured in one pass before execution (pilot/api/graphql/cost.py); every error
coded; unreadable JSON is HTTP 400."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from graphql import GraphQLSchema, get_introspection_query, parse
from graphql import build_schema as build_graphql_schema
from pilot import config
from pilot.api.app import create_app
from pilot.api.graphql.cost import CAP, Analysis, Limits, Measure
from pilot.api.graphql.schema import sdl
from pilot.auth import service as auth
from pilot.auth.models import Role
from pilot.ministries import service as ministries
from tests.api.graphql.conftest import OPERATIONS, Demo

SHEET_FIELDS = (
    (OPERATIONS / "project_sheet.graphql")
    .read_text(encoding="utf-8")
    .split("project(id: $id) {", 1)[1]
    .rsplit("}", 2)[0]
)


@cache
def _schema() -> GraphQLSchema:
    return build_graphql_schema(sdl())  # the served schema, from its SDL


def _limits(**changes: int) -> Limits:
    settings = config.Settings(_env_file=None)
    base = Limits.for_role(settings, Role.DINUM)
    return Limits(**{**base.__dict__, **changes})


def measure(query: str, variables: dict[str, Any] | None = None, **limits: int) -> Measure:
    analysis = Analysis(_schema(), parse(query), variables or {}, _limits(**limits))
    (operation,) = analysis.operations
    return analysis.measure(operation)


def fan_out(levels: int, leaf: str = "me { role }", on: str = "Query") -> str:
    """Fragment F0 spreads F1 twice, F1 spreads F2 twice, … : 2^levels copies of ``leaf``."""
    parts = ["{ ...F0 }"]
    parts += [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on {on} {{ {leaf} }}")
    return " ".join(parts)


def _code(body: dict[str, Any]) -> str:
    code: str = body["errors"][0]["extensions"]["code"]
    return code


@dataclass
class Served:
    """The real app on an empty database with two ministries and a token per role (most
    limits need no data: they refuse before execution)."""

    client: TestClient
    tokens: dict[str, str]

    def post(
        self, query: str, variables: dict[str, Any] | None = None, role: str | None = None
    ) -> dict[str, Any]:
        response = self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=self.auth(role)
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def auth(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


@pytest.fixture
def served(engine: Engine) -> Served:
    with Session(engine) as session:
        mi = ministries.create_ministry(session, "MI", "Ministère de l'Intérieur")
        ministries.create_ministry(session, "MJ", "Ministère de la Justice")
        tokens = {
            role.value: auth.create_token(
                session,
                actor="test",
                name=role.value,
                role=role,
                ministry=mi if role == Role.MINISTRY else None,
            )[1]
            for role in (Role.MINISTRY, Role.DINUM, Role.ADMIN)
        }
        session.commit()
    return Served(TestClient(create_app()), tokens)


def _with_settings(monkeypatch: pytest.MonkeyPatch, served: Served, **settings: int) -> Served:
    for name, value in settings.items():
        monkeypatch.setenv(f"PILOT_{name.upper()}", str(value))
    config.get_settings.cache_clear()
    return Served(TestClient(create_app()), served.tokens)


# --- The measure --------------------------------------------------------------------------


@pytest.mark.parametrize("levels", [1, 5, 10, 22, 60, 200])
def test_a_fan_out_of_fragments_is_measured_once_per_fragment(levels: int) -> None:
    # Walked per path, 200 levels would be 2^200 walks: this finishes only because each
    # fragment is measured once.
    found = measure(fan_out(levels))
    assert found == Measure(depth=1, aliases=0, cost=min(2 ** (levels + 1), CAP))


@pytest.mark.parametrize("levels", [3, 22, 100])
def test_a_fan_out_through_fields_counts_fields_and_aliases_per_spread(levels: int) -> None:
    parts = ['{ project(id: "PRJ-00001") { ...F0 } }']
    parts += [
        f"fragment F{i} on Project {{ a{i}: name ...F{i + 1} ...F{i + 1} }}" for i in range(levels)
    ]
    parts.append(f"fragment F{levels} on Project {{ id }}")
    found = measure(" ".join(parts))
    # level i holds 2^i copies of its alias; the leaf 2^levels copies of ``id``
    copies = sum(2**i for i in range(levels))
    assert found.aliases == min(copies, CAP)
    assert found.cost == min(1 + copies + 2**levels, CAP)
    assert found.depth == 1


@pytest.mark.parametrize(
    "query",
    [
        "{ ...A } fragment A on Query { ...A }",
        "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A me { role } }",
        "{ ...A } fragment A on Query { ...B ...C } fragment B on Query { ...C } "
        "fragment C on Query { ...A ...B }",
        "{ ...Nope }",
        "{ ...A } fragment A on Query { ...Nope me { role } }",
    ],
)
def test_cycles_and_unknown_fragments_end_and_add_nothing(query: str) -> None:
    assert measure(query).cost <= 2


@pytest.mark.parametrize(
    ("query", "variables", "cost"),
    [
        # a connection: its edges and nodes are pages of ``first``; a list item counts
        # one value plus its fields
        ("{ projects(first: 10) { totalCount nodes { id name } } }", {}, 1 + 1 + 10 * 3),
        ("{ projects(first: 10) { edges { node { id } } } }", {}, 1 + 10 * (1 + 2)),
        # ``first`` absent: the default page size (50)
        ("{ projects { nodes { id } } }", {}, 1 + 50 * 2),
        # from a variable, its default, or absent
        ("query($n: Int) { projects(first: $n) { nodes { id } } }", {"n": 7}, 1 + 7 * 2),
        ("query($n: Int = 3) { projects(first: $n) { nodes { id } } }", {}, 1 + 3 * 2),
        ("query($n: Int) { projects(first: $n) { nodes { id } } }", {}, 1 + 50 * 2),
        # above the maximum page size: counted at the maximum (the resolver refuses it)
        ("{ projects(first: 5000) { nodes { id } } }", {}, 1 + 1000 * 2),
        # lists without ``first``: the estimated list size (10), nested lists multiply
        ('{ project(id: "x") { milestones { name } } }', {}, 1 + 10 * 2),
        ("{ projects(first: 2) { nodes { milestones { name late } } } }", {}, 1 + 2 * (1 + 10 * 3)),
        # a list that takes its own ``first``, with its default (100)
        ('{ project(id: "x") { auditTrail { at } } }', {}, 1 + 100 * 2),
        ('{ project(id: "x") { auditTrail(first: 5) { at } } }', {}, 1 + 5 * 2),
        # a root list
        ("{ ministries { code } }", {}, 10 * 2),
    ],
)
def test_the_cost_counts_values_pages_and_lists(
    query: str, variables: dict[str, Any], cost: int
) -> None:
    assert measure(query, variables).cost == cost


def test_depth_counts_nested_fields_but_not_introspection() -> None:
    assert measure("{ me { role } }").depth == 1
    assert measure("{ editions { changes { entrants { name } } } }").depth == 3
    inline = "{ ...F } fragment F on Query { editions { ... on Edition { number } } }"
    assert measure(inline).depth == 1
    introspection = measure(get_introspection_query())
    assert introspection.depth == 0
    assert introspection.cost <= _limits().max_cost


def test_the_standard_introspection_query_fits_the_public_budget() -> None:
    settings = config.Settings(_env_file=None)
    public = Limits.for_role(settings, Role.PUBLIC)
    assert measure(get_introspection_query()).cost <= public.max_cost


def test_every_operation_of_graphql_operations_fits_the_public_budget() -> None:
    settings = config.Settings(_env_file=None)
    public = Limits.for_role(settings, Role.PUBLIC)
    for path in sorted(OPERATIONS.glob("*.graphql")):
        document = parse(path.read_text(encoding="utf-8"))
        analysis = Analysis(_schema(), document, {}, public)
        for operation in analysis.operations:  # a file may hold several (opinions.graphql)
            found = analysis.measure(operation)
            name = f"{path.name} {operation.name.value if operation.name else ''}"
            assert found.cost <= public.max_cost, name
            assert found.depth <= public.max_depth, name


def test_budgets_rise_from_public_to_ministry_to_dinum() -> None:
    settings = config.Settings(_env_file=None)
    budgets = [Limits.for_role(settings, r).max_cost for r in Role]
    public, ministry, dinum, admin = budgets
    assert public < ministry < dinum == admin


# --- Refused before execution -------------------------------------------------------------


def test_a_22_level_fan_out_of_fragments_is_refused_before_execution(served: Served) -> None:
    query = fan_out(22)
    assert len(query.encode()) < 1000
    for role in (None, "ministry", "dinum", "admin"):
        for method in ("GET", "POST"):
            if method == "GET":
                response = served.client.get(
                    "/graphql", params={"query": query}, headers=served.auth(role)
                )
            else:
                response = served.client.post(
                    "/graphql", json={"query": query}, headers=served.auth(role)
                )
            assert response.status_code == 200
            body = response.json()
            assert body["data"] is None
            assert _code(body) == "GRAPHQL_VALIDATION_FAILED"
            assert body["errors"][0]["message"].startswith("Requête trop coûteuse")
            assert body["errors"][0]["extensions"]["found"] == 2**23


def test_a_smaller_fan_out_is_answered_within_the_role_budget(served: Served) -> None:
    cases = [
        (16, None, True),  # 2^17 = 131 072 values; the public budget is 200 000
        (17, None, False),  # 262 144
        (17, "ministry", True),  # the ministry budget is 1 000 000
        (19, "ministry", False),  # 1 048 576
        (19, "dinum", True),  # the DINUM budget is 2 000 000
        (20, "dinum", False),  # 2 097 152
        (19, "admin", True),  # admin: DINUM's budget
        (20, "admin", False),
    ]
    for levels, role, answered in cases:
        body = served.post(fan_out(levels), role=role)
        if answered:
            assert "errors" not in body and body["data"]["me"]["role"], (levels, role)
        else:
            assert body["data"] is None and _code(body) == "GRAPHQL_VALIDATION_FAILED"
            assert body["errors"][0]["extensions"]["found"] == 2 ** (levels + 1)


def _aliased_pages(count: int, first: int) -> str:
    pages = (
        f"a{i}: projects(first: {first}) {{ nodes {{ {SHEET_FIELDS} }} }}" for i in range(count)
    )
    return "{ " + " ".join(pages) + " }"


def test_thirty_aliases_of_a_thousand_full_sheets_are_refused_even_for_dinum(
    served: Served,
) -> None:
    query = _aliased_pages(30, 1000)
    for role in ("dinum", "admin"):
        body = served.post(query, role=role)
        assert body["data"] is None
        assert _code(body) == "GRAPHQL_VALIDATION_FAILED"
        assert "Requête trop coûteuse" in body["errors"][0]["message"]
        assert body["errors"][0]["extensions"]["limit"] == 2_000_000
    # two pages of a thousand full sheets fit DINUM's budget, three do not
    assert "errors" not in served.post(_aliased_pages(2, 1000), role="dinum")
    assert _code(served.post(_aliased_pages(3, 1000), role="dinum")) == "GRAPHQL_VALIDATION_FAILED"


def test_a_page_of_full_sheets_depends_on_the_role_budget(demo: Demo) -> None:
    query = f"{{ projects(first: 400) {{ nodes {{ {SHEET_FIELDS} }} }} }}"
    cost = measure(query).cost
    assert 200_000 < cost <= 1_000_000
    refused = demo.gql(query)
    assert refused["data"] is None
    assert refused["errors"][0]["extensions"] == {
        "code": "GRAPHQL_VALIDATION_FAILED",
        "found": cost,
        "limit": 200_000,
    }
    for role in ("ministry", "dinum", "admin"):
        body = demo.gql(query, role=role)
        codes = {e["extensions"]["code"] for e in body.get("errors", [])}
        assert "GRAPHQL_VALIDATION_FAILED" not in codes, body["errors"][0]
        assert body["data"]["projects"]["nodes"]


def test_budgets_and_list_size_are_settings(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    tight = _with_settings(
        monkeypatch, served, graphql_cost_budget_public=21, graphql_cost_list_size=10
    )
    # the public reads published editions only: its budget is tried on them
    assert "errors" not in tight.post("{ editions { number } }")  # 10 × 2
    assert _code(tight.post("{ editions { number title } }")) == "GRAPHQL_VALIDATION_FAILED"
    assert "errors" not in tight.post("{ editions { number title } }", role="ministry")
    longer = _with_settings(monkeypatch, served, graphql_cost_list_size=20)
    assert _code(longer.post("{ editions { number } }")) == "GRAPHQL_VALIDATION_FAILED"


def test_aliases_up_to_the_limit_are_answered_and_counted_per_spread(served: Served) -> None:
    for count in (1, 29, 30):
        query = "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(count)) + " }"
        body = served.post(query)
        assert "errors" not in body and len(body["data"]) == count
    aliases = " ".join(f"a{i}: me {{ role }}" for i in range(16))
    body = served.post(f"{{ ...F x: me {{ role }} ...F }} fragment F on Query {{ {aliases} }}")
    assert _code(body) == "GRAPHQL_VALIDATION_FAILED"  # 16 + 1 + 16 = 33 > 30
    assert body["errors"][0]["extensions"]["found"] == 33


# --- List arguments and search ------------------------------------------------------------

MINISTRY_FILTER = (
    "query($m: [String!]) { projects(filter: {ministry: $m}, first: 1000) "
    "{ totalCount nodes { ministry { code } } } }"
)


def test_list_arguments_are_bounded(served: Served) -> None:
    for length in (1, 999, 1000):  # in variables, up to the maximum: answered
        body = served.post(MINISTRY_FILTER, {"m": (["MI", "MJ"] * length)[:length]}, role="dinum")
        assert "errors" not in body, body
    for length in (1001, 5000, 100_000):  # longer: refused in French, before execution
        body = served.post(MINISTRY_FILTER, {"m": ["MI"] * length}, role="dinum")
        assert body["data"] is None
        assert _code(body) == "BAD_USER_INPUT"
        message = body["errors"][0]["message"]
        assert message.startswith("Liste trop longue") and "1\u202f000 au maximum" in message
    for length, refused in ((1000, False), (1001, True)):  # written in the query
        codes = ", ".join('"MI"' for _ in range(length))
        body = served.post(
            f"{{ projects(filter: {{ministry: [{codes}]}}) {{ totalCount }} }}", role="dinum"
        )
        assert ("errors" in body) is refused
        if refused:
            assert _code(body) == "BAD_USER_INPUT"
    # nested in another variable, and as a variable's default
    query = "query($f: ProjectFilter) { projects(filter: $f) { totalCount } }"
    body = served.post(
        query, {"f": {"phase": ["CADRAGE"], "functionalZone": ["x"] * 1001}}, role="dinum"
    )
    assert _code(body) == "BAD_USER_INPUT"
    codes = ", ".join('"MI"' for _ in range(1001))
    body = served.post(f"query($m: [String!] = [{codes}]) {{ me {{ role }} }}", role="dinum")
    assert _code(body) == "BAD_USER_INPUT"


def test_the_list_length_is_a_setting(served: Served, monkeypatch: pytest.MonkeyPatch) -> None:
    short = _with_settings(monkeypatch, served, graphql_max_list_length=2)
    assert "errors" not in short.post(MINISTRY_FILTER, {"m": ["MI", "MJ"]}, role="dinum")
    assert _code(short.post(MINISTRY_FILTER, {"m": ["MI"] * 3}, role="dinum")) == "BAD_USER_INPUT"


def test_the_ministry_filter_reads_codes_names_and_former_codes_in_one_go(demo: Demo) -> None:
    def codes(given: list[str]) -> set[str]:
        body = demo.gql(MINISTRY_FILTER, {"m": given}, role="dinum")
        assert "errors" not in body, body
        return {n["ministry"]["code"] for n in body["data"]["projects"]["nodes"]}

    assert codes(["MI"]) == codes(["Ministère de l'Intérieur"]) == {"MI"}
    assert codes(["MI", "MJ", "MI"]) == codes(["MJ"] * 500 + ["MI"] * 500) == {"MI", "MJ"}
    body = demo.gql(MINISTRY_FILTER, {"m": ["MI"] * 500 + ["ZZZ"] + ["MJ"] * 499}, role="dinum")
    assert _code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["message"] == "Ministère inconnu : « ZZZ »."


SEARCH = "query($s: String) { projects(filter: {search: $s}) { totalCount } }"


def test_search_is_bounded_with_a_clear_error_not_a_false_503(served: Served) -> None:
    for length in (1, 199, 200):
        assert "errors" not in served.post(SEARCH, {"s": "a" * length}, role="dinum")
    body = served.post(SEARCH, {"s": "a" * 201}, role="dinum")
    assert _code(body) == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith("Recherche trop longue : 201 caractères")
    for text in ("abc" * 100_000, "%_" * 50_000, "é" * 30_000):
        response = served.client.post(
            "/graphql",
            json={"query": SEARCH, "variables": {"s": text}},
            headers=served.auth("dinum"),
        )
        assert response.status_code == 200  # not 503 « base indisponible »
        assert _code(response.json()) == "BAD_USER_INPUT"


# --- Every error has a code; unreadable JSON is 400 ---------------------------------------

CODED = [
    ("{ me { ", "GRAPHQL_PARSE_FAILED"),
    ("{ me { role } } }", "GRAPHQL_PARSE_FAILED"),
    ("{ " + "__typename " * 5001 + "}", "GRAPHQL_PARSE_FAILED"),  # the token limit
    ("{ " + "me { " * 300 + "role" + " }" * 300 + " }", "GRAPHQL_PARSE_FAILED"),
    ("{ ...Nope }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ me { ...Nope } }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ ...A } fragment A on Query { ...A }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }", None),
    ("{ nope }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ ...F } fragment F on Nope { x }", "GRAPHQL_VALIDATION_FAILED"),
    ("query($x: Int) { me { role } }", "GRAPHQL_VALIDATION_FAILED"),
    ("{ projects(first: 1001) { totalCount } }", "BAD_USER_INPUT"),
]


def test_every_error_carries_a_code(served: Served) -> None:
    for query, code in CODED:
        for method in ("GET", "POST"):
            if method == "GET":
                response = served.client.get(
                    "/graphql", params={"query": query}, headers=served.auth("dinum")
                )
            else:
                response = served.client.post(
                    "/graphql", json={"query": query}, headers=served.auth("dinum")
                )
            assert response.status_code == 200, (query[:40], method)
            body = response.json()
            codes = [e["extensions"]["code"] for e in body["errors"]]
            assert all(codes), (query[:40], method)
            assert codes[0] == code or (
                code is None and set(codes) <= {"GRAPHQL_VALIDATION_FAILED"}
            )


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


UNREADABLE = [
    b"{not json",
    b'{"query": "{ me { role } }"',
    b"\xff\xfe\x00",
    _nested(1000).encode(),
    _nested(100_000).encode(),
    ('{"query": "{ me { role } }", "variables": {"a": ' + _nested(1000) + "}}").encode(),
    ('{"query": ' + '{"a": ' * 1000 + "1" + "}" * 1000 + "}").encode(),
]


def test_unreadable_or_too_deep_json_is_http_400(served: Served) -> None:
    client = TestClient(served.client.app, raise_server_exceptions=False)
    for body in UNREADABLE:
        response = client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 400, (body[:20], response.text[:200])
        assert "Requête illisible" in response.json()["detail"]
    for variables in ("{not json", _nested(1000), '{"a": ' + _nested(5000) + "}"):
        response = client.get(
            "/graphql", params={"query": "{ me { role } }", "variables": variables}
        )
        assert response.status_code == 400, variables[:20]
    # nested within the parser's limit: reaches GraphQL, which ignores unused variables
    answer = served.post("{ me { role } }", {"a": json.loads(_nested(500))})
    assert answer["data"]["me"]["role"] == "PUBLIC"


def test_a_validation_verdict_is_reused_only_for_the_same_document_variables_and_role(
    served: Served,
) -> None:
    """Validation is cached (Strawberry's ValidationCache, keyed by document and rules;
    the limits rule is shared by requests of one role with the same variables)."""
    long, short = {"m": ["MI"] * 1001}, {"m": ["MI"]}
    for _ in range(2):
        assert _code(served.post(MINISTRY_FILTER, long, role="dinum")) == "BAD_USER_INPUT"
        assert "errors" not in served.post(MINISTRY_FILTER, short, role="dinum")
    page = f"{{ projects(first: 400) {{ nodes {{ {SHEET_FIELDS} }} }} }}"
    for _ in range(2):
        assert _code(served.post(page)) == "GRAPHQL_VALIDATION_FAILED"
        body = served.post(page, role="ministry")
        assert "GRAPHQL_VALIDATION_FAILED" not in {
            e["extensions"]["code"] for e in body.get("errors", [])
        }
