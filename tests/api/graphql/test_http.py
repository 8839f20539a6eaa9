"""GraphQL over HTTP as clients send it: JSON or multipart POST, GET for queries only,
GraphiQL for a browser, and a French 4xx for what is not a GraphQL request."""

from __future__ import annotations

import json

from tests.api.graphql.conftest import Demo
from tests.api.multipart import post_graphql_upload

EDITIONS = "{ editions { number } }"


def _auth(demo: Demo, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {demo.tokens[role]}"}


def test_a_query_is_answered_by_post_and_by_get_alike(demo: Demo) -> None:
    posted = demo.client.post("/graphql", json={"query": EDITIONS})
    got = demo.client.get("/graphql", params={"query": EDITIONS})
    assert posted.status_code == got.status_code == 200
    assert posted.headers["content-type"].startswith("application/json")
    assert posted.json() == got.json() and posted.json()["data"]["editions"]


def test_get_carries_variables_and_the_operation_name(demo: Demo) -> None:
    query = "query A($n: Int!) { edition(number: $n) { number } } query B { editions { number } }"
    response = demo.client.get(
        "/graphql",
        params={"query": query, "variables": json.dumps({"n": 1}), "operationName": "A"},
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"edition": {"number": 1}}}


def test_a_mutation_by_get_is_refused_with_405(demo: Demo) -> None:
    mutation = "mutation { revokeToken(id: 1) { id } }"
    response = demo.client.get("/graphql", params={"query": mutation}, headers=_auth(demo, "dinum"))
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json()["detail"] == "Une mutation s'envoie en POST, pas en GET."


def test_what_is_not_a_graphql_request_gets_a_french_4xx(demo: Demo) -> None:
    client = demo.client
    cases = [
        (client.post("/graphql", content=b"query=1", headers={"Content-Type": "text/plain"}), 415),
        (client.post("/graphql", json={"variables": {}}), 400),
        (client.post("/graphql", json={"query": "   "}), 400),
        (client.post("/graphql", json=[{"query": EDITIONS}]), 400),  # no batches
        (client.post("/graphql", json={"query": EDITIONS, "variables": [1]}), 400),
        (client.post("/graphql", json={"query": 3}), 400),
        (
            client.post(
                "/graphql", content=b'{"query": ', headers={"Content-Type": "application/json"}
            ),
            400,
        ),
        (client.get("/graphql", headers={"Accept": "application/json"}), 400),
        (client.get("/graphql", params={"query": EDITIONS, "variables": "{"}), 400),
        (client.post("/graphql", json={"query": EDITIONS, "operationName": "Missing"}), 400),
    ]
    for response, status in cases:
        assert response.status_code == status, response.text
        detail = response.json()["detail"]
        assert isinstance(detail, str) and (
            "Requête" in detail or "Opération" in detail or "Type de contenu" in detail
        ), detail


def test_a_multipart_upload_names_its_file_or_is_refused(demo: Demo) -> None:
    query = "mutation($file: Upload!) { uploadWorkbook(file: $file, dryRun: true) { status } }"
    operations = {"query": query, "variables": {"file": None}}
    refused = demo.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.nope.x"]})},
        files={"0": ("classeur.xlsx", b"PK", "application/octet-stream")},
        headers=_auth(demo, "ministry"),
    )
    assert refused.status_code == 400 and "Fichier absent" in refused.json()["detail"]
    missing = demo.client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"1": ["variables.file"]})},
        files={"0": ("classeur.xlsx", b"PK", "application/octet-stream")},
        headers=_auth(demo, "ministry"),
    )
    assert missing.status_code == 400
    placed = post_graphql_upload(
        demo.client, query, b"not a workbook", headers=_auth(demo, "ministry")
    )
    assert placed.status_code == 200
    body = placed.json()
    # the file reached the resolver: refused for what it is, not for being absent
    assert body.get("data") or body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_graphiql_is_served_to_a_browser_in_french(demo: Demo) -> None:
    response = demo.client.get("/graphql", headers={"Accept": "text/html,*/*;q=0.8"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in response.text and "GraphiQL" in response.text
