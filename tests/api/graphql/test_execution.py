"""The execution context's fast path for plain fields answers exactly what graphql-core's
full path answers: the same data, the same errors at the same paths."""

from __future__ import annotations

import asyncio
from datetime import date
from enum import Enum
from typing import Any

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from pilot.api.graphql.execution import PilotExecutionContext, plain_field, thin_resolver


@strawberry.enum
class Colour(Enum):
    RED = "rouge"
    GREEN = "vert"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str
    count: int
    ratio: float | None
    on: date | None
    colour: Colour
    flag: bool
    note: str | None


@strawberry.type
class Box:
    label: str
    items: list[Item]
    first: Item | None

    # Resolvers graphql-core calls directly (thin): no info, builtin scalar arguments.
    @strawberry.field
    def size(self) -> int:
        return len(self.items)

    @strawberry.field
    def named(self, prefix: str = "n", at_least: int | None = None) -> list[Item]:
        return [
            i
            for i in self.items
            if i.name and i.name.startswith(prefix) and (at_least is None or i.count >= at_least)
        ]

    @strawberry.field
    def broken(self) -> str | None:
        raise ValueError("cassé")

    @strawberry.field
    def broken_required(self) -> str:
        raise ValueError("cassé aussi")

    # Resolvers that keep Strawberry's wrapper: info, an enum argument.
    @strawberry.field
    def where(self, info: strawberry.Info) -> str:
        return f"{info.field_name}:{self.label}"

    @strawberry.field
    def of_colour(self, colour: Colour) -> list[Item]:
        return [i for i in self.items if i.colour == colour]


def _item(i: int, **changes: Any) -> Item:
    values: dict[str, Any] = {
        "id": strawberry.ID(str(i)),
        "name": f"n{i}",
        "count": i,
        "ratio": i / 3 if i % 2 else None,
        "on": date(2024, 1, 1 + i) if i % 3 else None,
        "colour": Colour.RED if i % 2 else Colour.GREEN,
        "flag": bool(i % 2),
        "note": None,
    }
    values.update(changes)
    return Item(**values)


BOXES: list[Box] = []


@strawberry.type
class Query:
    @strawberry.field
    def boxes(self) -> list[Box]:
        return BOXES


class Tracing(SchemaExtension):
    """Implements ``resolve``: graphql-core must then call it for every field."""

    calls = 0

    def resolve(self, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        Tracing.calls += 1
        return _next(root, info, *args, **kwargs)


QUERY = """query($least: Int) { boxes { label first { id name colour } items {
  id name count ratio on colour flag note alias: name ...F }
  size named(prefix: "n", atLeast: $least) { name } all: named { count } broken
  where ofColour(colour: RED) { id } } }
  fragment F on Item { count }"""
BROKEN = "{ boxes { label brokenRequired } }"


def _run(
    boxes: list[Box], *, fast: bool, extensions: list[Any] | None = None, query: str = QUERY
) -> Any:
    BOXES[:] = boxes
    schema = strawberry.Schema(
        query=Query,
        execution_context_class=PilotExecutionContext if fast else None,
        extensions=extensions or [],
    )
    result = asyncio.run(schema.execute(query, variable_values={"least": 3}))
    errors = [(e.message, e.path) for e in result.errors or []]
    return result.data, errors


@pytest.mark.parametrize(
    "boxes",
    [
        [Box(label="a", items=[_item(i) for i in range(7)], first=_item(9))],
        [Box(label="b", items=[], first=None)],
        # a null in a non-null field, a value an Int cannot hold, a wrong type
        [Box(label="c", items=[_item(1), _item(2, name=None)], first=_item(3))],
        [Box(label="d", items=[_item(1, count=2**40)], first=None)],
        [Box(label="e", items=[_item(1)], first=_item(2, flag="oui"))],
    ],
    ids=["plain", "empty", "null-in-non-null", "int-overflow", "wrong-type"],
)
def test_fast_path_answers_like_graphql_core(boxes: list[Box]) -> None:
    assert _run(boxes, fast=True) == _run(boxes, fast=False)


def test_errors_keep_their_path() -> None:
    data, errors = _run(
        [Box(label="c", items=[], first=_item(2, name=None))],
        fast=True,
        query="{ boxes { label first { id name colour } items { id } } }",
    )
    assert data == {"boxes": [{"label": "c", "first": None, "items": []}]}
    assert errors == [
        ("Cannot return null for non-nullable field Item.name.", ["boxes", 0, "first", "name"])
    ]


def test_resolve_middleware_sees_every_field() -> None:
    boxes = [Box(label="a", items=[_item(i) for i in range(3)], first=None)]
    Tracing.calls = 0
    _run(boxes, fast=True, extensions=[Tracing])
    with_fast_path = Tracing.calls
    Tracing.calls = 0
    _run(boxes, fast=False, extensions=[Tracing])
    assert with_fast_path == Tracing.calls > 3 * 9


def test_thin_resolver_errors_are_located() -> None:
    boxes = [Box(label="a", items=[_item(1)], first=None)]
    data, errors = _run(boxes, fast=True)
    assert data["boxes"][0]["broken"] is None
    assert data["boxes"][0]["named"] == [] and data["boxes"][0]["all"] == [{"count": 1}]
    assert errors == [("cassé", ["boxes", 0, "broken"])]
    assert _run(boxes, fast=True, query=BROKEN) == _run(boxes, fast=False, query=BROKEN)
    assert _run(boxes, fast=True, query=BROKEN)[0] is None


def test_which_fields_take_a_short_path() -> None:
    fields = strawberry.Schema(query=Query)._schema.type_map["Box"].fields  # type: ignore[attr-defined]
    assert {n for n, f in fields.items() if plain_field(f)} == {"label"}
    assert {n for n, f in fields.items() if thin_resolver(f)} == {
        "size",
        "named",
        "broken",
        "brokenRequired",
    }
