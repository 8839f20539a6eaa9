"""Hostile GraphQL requests, generated (several variants of each class of attack, sizes
around the limits), each with what PILOT must answer. Run by ``test_graphql.py``; the
classes are listed in SECURITY.md ("Hostile GraphQL requests").

Limits are the defaults (pilot/config.py): public budget 200 000 values, DINUM 2 000 000,
30 aliases, 1 000 items per list, 200 characters of search, 5 000 tokens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parents[2]
SHEET_FIELDS = (
    (ROOT / "graphql" / "operations" / "project_sheet.graphql")
    .read_text(encoding="utf-8")
    .split("project(id: $id) {", 1)[1]
    .rsplit("}", 2)[0]
)

Role = Literal["public", "ministry", "dinum"]


@dataclass(frozen=True)
class GraphQLCase:
    """One request: ``query``/``variables`` sent as JSON (``method`` POST) or in the URL
    (GET), or a raw ``body``; the answer must have ``status``, and for 200 a first error
    with ``code`` whose message contains ``fragment`` (``code`` None: answered)."""

    name: str
    what: str
    query: str = ""
    variables: dict[str, Any] = field(default_factory=dict)
    method: Literal["GET", "POST"] = "POST"
    role: Role = "public"
    body: bytes | None = None
    status: int = 200
    code: str | None = None
    fragment: str = ""


def fan_out(levels: int, leaf: str = "me { role }", on: str = "Query", root: str = "") -> str:
    """Fragment F0 spreads F1 twice, F1 spreads F2 twice, …: 2^levels copies of ``leaf``."""
    start = root.replace("…", "...F0") if root else "{ ...F0 }"
    parts = [start]
    parts += [f"fragment F{i} on {on} {{ ...F{i + 1} ...F{i + 1} }}" for i in range(levels)]
    parts.append(f"fragment F{levels} on {on} {{ {leaf} }}")
    return " ".join(parts)


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


COSTLY = "Requête trop coûteuse"
VALIDATION = "GRAPHQL_VALIDATION_FAILED"
MINISTRIES = "query($m: [String!]) { projects(filter: {ministry: $m}) { totalCount } }"
SEARCH = "query($s: String) { projects(filter: {search: $s}) { totalCount } }"


def cases() -> list[GraphQLCase]:
    found: list[GraphQLCase] = []
    # Fragment fan-out: 2^levels paths from a document of a few hundred bytes.
    for levels in (18, 22, 30, 200):
        found.append(
            GraphQLCase(
                f"fan_out_{levels}",
                f"fragment fan-out, {levels} levels (2^{levels} paths), anonymous POST",
                fan_out(levels),
                code=VALIDATION,
                fragment=COSTLY,
            )
        )
    found += [
        GraphQLCase(
            "fan_out_22_get",
            "the 904-byte fan-out (22 levels) as a GET URL",
            fan_out(22),
            method="GET",
            code=VALIDATION,
            fragment=COSTLY,
        ),
        GraphQLCase(
            "fan_out_22_dinum",
            "the 22-level fan-out with a DINUM token (highest budget)",
            fan_out(22),
            role="dinum",
            code=VALIDATION,
            fragment=COSTLY,
        ),
        GraphQLCase(
            "fan_out_fields_in_pages",
            "a 12-level fan-out of project fields inside projects(first: 1000), DINUM",
            fan_out(12, "id name", "Project", "{ projects(first: 1000) { nodes { … } } }"),
            role="dinum",
            code=VALIDATION,
            fragment=COSTLY,
        ),
        GraphQLCase(
            "fragment_cycle",
            "fragments spreading each other (A → B → A)",
            "{ ...A } fragment A on Query { ...B me { role } } fragment B on Query { ...A }",
            code=VALIDATION,
            fragment="Cannot spread fragment",
        ),
        GraphQLCase(
            "fragment_self",
            "a fragment spreading itself",
            "{ ...A } fragment A on Query { ...A }",
            code=VALIDATION,
            fragment="Cannot spread fragment",
        ),
        GraphQLCase(
            "unknown_fragment",
            "a spread of an unknown fragment",
            "{ ...Nope }",
            code=VALIDATION,
            fragment="Unknown fragment",
        ),
    ]
    # Aliases: a DINUM token asking 2, 3 and 30 times for a thousand full sheets.
    for count, code in ((2, None), (3, VALIDATION), (30, VALIDATION)):
        page = f"projects(first: 1000) {{ nodes {{ {SHEET_FIELDS} }} }}"
        found.append(
            GraphQLCase(
                f"aliases_{count}_full_pages",
                f"{count} aliases of projects(first: 1000) with the full sheet, DINUM",
                "{ " + " ".join(f"a{i}: {page}" for i in range(count)) + " }",
                role="dinum",
                code=code,
                fragment=COSTLY if code else "",
            )
        )
    found.append(
        GraphQLCase(
            "aliases_31",
            "31 aliases of a cheap field",
            "{ " + " ".join(f"a{i}: me {{ role }}" for i in range(31)) + " }",
            code=VALIDATION,
            fragment="Trop d'alias",
        )
    )
    # Long lists in arguments.
    for length, code in ((1000, None), (1001, "BAD_USER_INPUT"), (100_000, "BAD_USER_INPUT")):
        found.append(
            GraphQLCase(
                f"ministry_list_{length}",
                f"projects(filter: {{ministry: [{length} codes]}}) (the public reads no live "
                "project: a ministry token)",
                MINISTRIES,
                {"m": ["MI"] * length},
                code=code,
                fragment="Liste trop longue" if code else "",
                role="ministry",
            )
        )
    # Long search strings (the database refused them: a false 503).
    for length, code in ((200, None), (201, "BAD_USER_INPUT"), (300_000, "BAD_USER_INPUT")):
        found.append(
            GraphQLCase(
                f"search_{length}",
                f"a search of {length} characters",
                SEARCH,
                {"s": "abc" * (length // 3) + "a" * (length % 3)},
                code=code,
                fragment="Recherche trop longue" if code else "",
                role="ministry",
            )
        )
    # Documents the parser refuses.
    found += [
        GraphQLCase(
            "tokens_5001",
            "5 001 tokens",
            "{ " + "__typename " * 5001 + "}",
            code="GRAPHQL_PARSE_FAILED",
            fragment="tokens",
        ),
        GraphQLCase(
            "nesting_300",
            "300 nested selection sets",
            "{ " + "me { " * 300 + "role" + " }" * 300 + " }",
            code="GRAPHQL_PARSE_FAILED",
            fragment="nested too deeply",
        ),
    ]
    # Unreadable and too deep JSON: HTTP 400, never 500.
    raw = {
        "json_malformed": ("malformed JSON", b'{"query": "{ me { role } }"'),
        "json_arrays_1000": ("1 000 nested arrays", _nested(1000).encode()),
        "json_arrays_100000": ("100 000 nested arrays", _nested(100_000).encode()),
        "json_objects_in_variables": (
            "1 000 nested objects in variables",
            json.dumps({"query": "{ me { role } }"})[:-1].encode()
            + b', "variables": '
            + b'{"a": ' * 1000
            + b"1"
            + b"}" * 1001,
        ),
    }
    for name, (what, body) in raw.items():
        found.append(GraphQLCase(name, what, body=body, status=400, fragment="Requête illisible"))
    return found
