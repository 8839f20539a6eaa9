"""The access matrix: role × query/mutation × own/other ministry."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.graphql.conftest import Demo

ROLES = [None, "ministry", "dinum", "admin"]  # None = public (no token)


def _code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


# (what, expected code by role: public, ministry MI, dinum, admin); "ok" = no error.
READS = {
    "own project": (
        "{ project(id: $id) { id name } }",
        "drifting",
        ["UNAUTHENTICATED", "ok", "ok", "ok"],
    ),
    "other ministry's project": (
        "{ project(id: $id) { id } }",
        "other_ministry",
        ["UNAUTHENTICATED", "NOT_FOUND", "ok", "ok"],
    ),
    "live projects": ("{ projects { totalCount } }", None, ["UNAUTHENTICATED", "ok", "ok", "ok"]),
    "ministries": ("{ ministries { code } }", None, ["UNAUTHENTICATED", "ok", "ok", "ok"]),
    "published edition": ("{ edition { number } }", None, ["ok"] * 4),
    "audit trail, own": (
        "{ project(id: $id) { auditTrail { action } } }",
        "drifting",
        ["UNAUTHENTICATED", "ok", "ok", "ok"],
    ),
    "audit trail, other": (
        "{ project(id: $id) { auditTrail { action } } }",
        "other_ministry",
        ["UNAUTHENTICATED", "NOT_FOUND", "ok", "ok"],
    ),
    "imports": ("{ imports { totalCount } }", None, ["UNAUTHENTICATED", "ok", "ok", "ok"]),
    "live portfolio": (
        '{ portfolio(asOf: "2030-01-01") { figures { projects } } }',
        None,
        ["UNAUTHENTICATED", "ok", "ok", "ok"],
    ),
    "published portfolio": ("{ portfolio { figures { projects } } }", None, ["ok"] * 4),
    "tokens": ("{ tokens { id } }", None, ["UNAUTHENTICATED", "FORBIDDEN", "FORBIDDEN", "ok"]),
    "risk filter": (
        "{ projects(filter: {riskCriticalityAtLeast: 9}) { totalCount } }",
        None,
        ["UNAUTHENTICATED", "ok", "ok", "ok"],
    ),
}


@pytest.mark.parametrize("role_index", range(4), ids=["public", "ministry", "dinum", "admin"])
@pytest.mark.parametrize("case", list(READS))
def test_read_matrix(demo: Demo, case: str, role_index: int) -> None:
    query, project, expected = READS[case]
    variables = {"id": getattr(demo, project)} if project else {}
    if project:
        query = query.replace("{ project(id: $id)", "query($id: ID!) { project(id: $id)", 1)
    body = demo.gql(query, variables, role=ROLES[role_index])
    assert (_code(body) or "ok") == expected[role_index], body


MUTATIONS = {
    "record a report": (
        'mutation($id: ID!) { recordReport(input: {projectId: $id, reportedOn: "2024-01-15", '
        "weather: NUAGEUX}) { id } }"
    ),
    "re-baseline": (
        'mutation($id: ID!) { rebaseline(input: {projectId: $id, reason: "Nouveau périmètre", '
        'approvedOn: "2024-01-15", costEur: 90000000}) { id kind } }'
    ),
    "add a risk": (
        'mutation($id: ID!) { addRisk(input: {projectId: $id, title: "Recrutement", '
        "probability: 2, impact: 3}) { criticality } }"
    ),
}
# Writes: public → UNAUTHENTICATED; ministry → own ok, other NOT_FOUND; dinum → ok;
# admin → FORBIDDEN.
WRITE_EXPECTED = {
    (None, "own"): "UNAUTHENTICATED",
    (None, "other"): "UNAUTHENTICATED",
    ("ministry", "own"): "ok",
    ("ministry", "other"): "NOT_FOUND",
    ("dinum", "own"): "ok",
    ("dinum", "other"): "ok",
    ("admin", "own"): "FORBIDDEN",
    ("admin", "other"): "FORBIDDEN",
}


@pytest.mark.parametrize("target", ["own", "other"])
@pytest.mark.parametrize("role_index", range(4), ids=["public", "ministry", "dinum", "admin"])
@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_write_matrix(demo: Demo, mutation: str, role_index: int, target: str) -> None:
    role = ROLES[role_index]
    project = demo.drifting if target == "own" else demo.other_ministry
    if mutation == "re-baseline" and target == "own":
        project = demo.rebaselined
    body = demo.gql(MUTATIONS[mutation], {"id": project}, role=role)
    assert (_code(body) or "ok") == WRITE_EXPECTED[(role, target)], body
    if _code(body) is None:
        audit = demo.gql(
            "query($id: ID!) { project(id: $id) { auditTrail(first: 5) { actor } } }",
            {"id": project},
            role="dinum",
        )
        assert audit["data"]["project"]["auditTrail"][0]["actor"].startswith("token:")


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, "UNAUTHENTICATED"), ("ministry", "FORBIDDEN"), ("dinum", "ok"), ("admin", "FORBIDDEN")],
)
def test_only_dinum_publishes(demo: Demo, role: str | None, expected: str) -> None:
    body = demo.gql('mutation { publishEdition(publishedOn: "2024-02-01") { number } }', role=role)
    assert (_code(body) or "ok") == expected, body
    if expected == "ok":
        assert body["data"]["publishEdition"]["number"] == 3


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, "UNAUTHENTICATED"), ("ministry", "FORBIDDEN"), ("dinum", "FORBIDDEN"), ("admin", "ok")],
)
def test_only_admin_manages_tokens(demo: Demo, role: str | None, expected: str) -> None:
    body = demo.gql(
        'mutation { createToken(name: "nouveau", role: MINISTRY, ministry: "MJ") '
        "{ plaintext token { id role } } }",
        role=role,
    )
    assert (_code(body) or "ok") == expected, body
    if expected == "ok":
        created = body["data"]["createToken"]
        me = demo.client.post(
            "/graphql",
            json={"query": "{ me { role ministry { code } } }"},
            headers={"Authorization": f"Bearer {created['plaintext']}"},
        ).json()
        assert me["data"]["me"] == {"role": "MINISTRY", "ministry": {"code": "MJ"}}
        revoked = demo.gql(
            f"mutation {{ revokeToken(id: {created['token']['id']}) {{ revokedAt }} }}",
            role="admin",
        )
        assert revoked["data"]["revokeToken"]["revokedAt"]
        again = demo.client.post(
            "/graphql",
            json={"query": "{ me { role } }"},
            headers={"Authorization": f"Bearer {created['plaintext']}"},
        )
        assert again.status_code == 401


def test_public_reads_no_live_project_even_by_filtering(demo: Demo) -> None:
    query = (
        "query($id: ID!) { project(id: $id) { name figuresWithheld currentCostEur drift "
        "{ budgetInitial } health risks { title } } }"
    )
    public = demo.gql(query, {"id": demo.confidential})
    assert _code(public) == "UNAUTHENTICATED" and public["data"] is None
    dinum = demo.gql(query, {"id": demo.confidential}, role="dinum")["data"]["project"]
    assert dinum["figuresWithheld"] is False and dinum["health"] == "RED"
    listed = demo.gql("{ projects(filter: {driftAbove: 0.3}, first: 100) { nodes { id } } }")
    assert _code(listed) == "UNAUTHENTICATED" and listed["data"] is None


def test_ministry_list_is_its_own_even_when_asking_for_another(demo: Demo) -> None:
    body = demo.gql('{ projects(filter: {ministry: ["MJ"]}) { totalCount } }', role="ministry")
    assert body["data"]["projects"]["totalCount"] == 0


def test_published_edition_withholds_confidential_figures(demo: Demo) -> None:
    body = demo.gql(
        'mutation { publishEdition(publishedOn: "2024-02-01") { number } }', role="dinum"
    )
    number = body["data"]["publishEdition"]["number"]
    edition = demo.gql(
        "query($n: Int!) { edition(number: $n) "
        "{ projects { projectId costEur withheld costBracket } } }",
        {"n": number},
    )["data"]["edition"]
    row = next(p for p in edition["projects"] if p["projectId"] == demo.confidential)
    assert row == {
        "projectId": demo.confidential,
        "costEur": None,
        "withheld": True,
        "costBracket": "Non communiqué",
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [(None, "UNAUTHENTICATED"), ("ministry", "FORBIDDEN"), ("dinum", "ok"), ("admin", "FORBIDDEN")],
)
def test_only_dinum_decides_confidentiality(demo: Demo, role: str | None, expected: str) -> None:
    mark = (
        'mutation($id: ID!) { markConfidential(projectId: $id, reason: "Appel d\'offres", '
        'until: "2099-12-31") { projectId confidential reason until } }'
    )
    body = demo.gql(mark, {"id": demo.drifting}, role=role)
    assert (_code(body) or "ok") == expected, body
    if expected != "ok":
        return
    assert body["data"]["markConfidential"] == {
        "projectId": demo.drifting,
        "confidential": True,
        "reason": "Appel d'offres",
        "until": "2099-12-31",
    }
    lifted = demo.gql(
        "mutation($id: ID!) { liftConfidentiality(projectId: $id) { confidential reason } }",
        {"id": demo.drifting},
        role="dinum",
    )
    assert lifted["data"]["liftConfidentiality"] == {"confidential": False, "reason": None}
    trail = demo.gql(
        "query($id: ID!) { project(id: $id) { auditTrail(first: 6) { field newValue } } }",
        {"id": demo.drifting},
        role="dinum",
    )["data"]["project"]["auditTrail"]
    assert {"field": "confidential_reason", "newValue": "Appel d'offres"} in trail
    blank = demo.gql(
        'mutation($id: ID!) { markConfidential(projectId: $id, reason: " ") { confidential } }',
        {"id": demo.drifting},
        role="dinum",
    )
    assert _code(blank) == "BAD_USER_INPUT"
