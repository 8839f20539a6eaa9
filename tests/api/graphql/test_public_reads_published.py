"""The public reads only what was published: every field anonymous GraphQL can reach is
found by introspection, and none of them changes when live data changes."""

from __future__ import annotations

import io
import json
from typing import Any

import openpyxl
from sqlmodel import Session

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLObjectType,
    GraphQLSchema,
    Undefined,
    build_client_schema,
    get_introspection_query,
    get_named_type,
    is_leaf_type,
    is_non_null_type,
)
from importers.workbook.template import build_template
from pilot.api.graphql.permissions import PUBLIC_MARK
from pilot.ministries import service as ministries
from tests.api.graphql.conftest import Demo
from tests.api.multipart import post_graphql_upload

SECRET_PROJECT = "Plateforme jamais publiée"
SECRET_COMMENT = "Surcoût lié à l'intégration biométrique, jamais publié."
# Values for the required arguments of root fields (the published editions are 1 and 2).
ARGUMENTS = {"editionDiff": "(base: 1, target: 2)", "edition": "(number: 2)"}
DUMMY = {
    "ID": '"1"',
    "String": '"x"',
    "Int": "1",
    "Date": '"2030-01-01"',
    "Boolean": "false",
    "Euros": "1",
}


def _schema(demo: Demo) -> GraphQLSchema:
    body = demo.gql(get_introspection_query())
    assert "errors" not in body, body
    return build_client_schema(body["data"])


def _is_public(field_or_type: GraphQLField | GraphQLObjectType) -> bool:
    return (field_or_type.description or "").startswith(PUBLIC_MARK)


def _public_roots(schema: GraphQLSchema) -> dict[str, GraphQLField]:
    assert schema.query_type is not None
    return {n: f for n, f in schema.query_type.fields.items() if _is_public(f)}


def _selection(field_type: Any, seen: tuple[str, ...] = ()) -> str:
    """Every field reachable under a type (each object type once on a path)."""
    named = get_named_type(field_type)
    if is_leaf_type(named):
        return ""
    assert isinstance(named, GraphQLObjectType)
    parts = []
    for name, field in named.fields.items():
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(name)
        elif inner.name not in seen:
            parts.append(name + _selection(field.type, (*seen, named.name)))
    return " { " + " ".join(parts) + " }"


def _dummy(arg_type: Any) -> str:
    named = get_named_type(arg_type)
    if isinstance(named, GraphQLEnumType):
        return next(iter(named.values))
    if isinstance(named, GraphQLInputObjectType):
        return "{" + _required_arguments(named.fields)[1:-1] + "}"
    return DUMMY[named.name]


def _required_arguments(args: dict[str, Any]) -> str:
    """The required arguments of a field (or fields of an input), with dummy values."""
    required = [
        f"{name}: {_dummy(arg.type)}"
        for name, arg in args.items()
        if is_non_null_type(arg.type) and arg.default_value is Undefined
    ]
    return f"({', '.join(required)})" if required else ""


def _reachable_types(schema: GraphQLSchema) -> set[str]:
    found: set[str] = set()
    todo = [get_named_type(f.type) for f in _public_roots(schema).values()]
    while todo:
        named = todo.pop()
        if named.name in found or not isinstance(named, GraphQLObjectType):
            continue
        found.add(named.name)
        todo.extend(get_named_type(f.type) for f in named.fields.values())
    return found


def _public_answers(demo: Demo, schema: GraphQLSchema) -> dict[str, Any]:
    answers = {}
    for name, field in _public_roots(schema).items():
        query = "{ " + name + ARGUMENTS.get(name, "") + _selection(field.type) + " }"
        body = demo.gql(query)
        assert "errors" not in body, (query, body)
        answers[name] = body["data"][name]
    return answers


def _upload_live_changes(demo: Demo, engine: Any) -> None:
    """A ministry adds a project and comments on another one: live data, never published."""
    with Session(engine) as session:
        mi = ministries.get_by_code(session, "MI")
        assert mi is not None
        book = openpyxl.load_workbook(io.BytesIO(build_template(session, mi)))
    sheet = book["Projets"]
    headers = {c.value: c.column for c in sheet[1]}
    sheet.cell(row=2, column=headers["Commentaire"]).value = SECRET_COMMENT
    new = sheet.max_row + 1
    sheet.cell(row=new, column=headers["Nom du projet"]).value = SECRET_PROJECT
    sheet.cell(row=new, column=headers["Phase"]).value = "Cadrage"
    risks = book["Risques"]
    mitigation = next(c.column for c in risks[1] if c.value == "Mesures de réduction")
    title = next(c.column for c in risks[1] if c.value == "Risque")
    for row in range(2, risks.max_row + 1):
        if risks.cell(row=row, column=title).value:  # not the prepared empty rows
            risks.cell(row=row, column=mitigation).value = "Second prestataire qualifié."
    buffer = io.BytesIO()
    book.save(buffer)
    response = post_graphql_upload(
        demo.client,
        "mutation($file: Upload!) { uploadWorkbook(file: $file) { status errors { message } } }",
        buffer.getvalue(),
        headers={"Authorization": f"Bearer {demo.tokens['ministry']}"},
    )
    outcome = response.json()["data"]["uploadWorkbook"]
    assert outcome["status"] == "applied", outcome
    found = demo.gql(
        '{ projects(filter: {search: "jamais publiée"}) { nodes { name } } }', role="dinum"
    )
    assert found["data"]["projects"]["nodes"] == [{"name": SECRET_PROJECT}]


def test_every_public_field_reads_only_published_editions(demo: Demo, engine: Any) -> None:
    schema = _schema(demo)
    roots = _public_roots(schema)
    assert set(roots) == {"editions", "edition", "editionDiff", "trends", "portfolio", "me"}
    for name in _reachable_types(schema):
        assert _is_public(schema.type_map[name]), f"{name} is reachable by the public"  # type: ignore[arg-type]
    before = _public_answers(demo, schema)
    _upload_live_changes(demo, engine)
    after = _public_answers(demo, schema)
    assert after == before
    text = json.dumps(after, ensure_ascii=False)
    assert SECRET_PROJECT not in text and "biométrique" not in text


# Tested with a file: tests/api/graphql/test_operations.py (test_opinions) and the
# workbook upload tests.
UPLOADS = ("uploadWorkbook", "addOpinionDocument")


def test_every_other_root_field_needs_a_token(demo: Demo) -> None:
    schema = _schema(demo)
    assert schema.query_type is not None and schema.mutation_type is not None
    public = _public_roots(schema)
    for root, fields in (
        ("query", schema.query_type.fields),
        ("mutation", schema.mutation_type.fields),
    ):
        for name, field in fields.items():
            if name in public or name in UPLOADS:  # uploads: tested with a file
                continue
            assert not _is_public(field)
            arguments = _required_arguments(field.args)
            selection = _selection(field.type)
            body = demo.gql(f"{root} {{ {name}{arguments}{selection} }}")
            codes = [e.get("extensions", {}).get("code") for e in body.get("errors", [])]
            assert codes[:1] == ["UNAUTHENTICATED"], (name, body)
    live = demo.gql('{ portfolio(asOf: "2030-01-01") { figures { projects } } }')
    assert live["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
