"""The live portfolio computes only what a request selects (``aggregates.Parts``): a
figure asked alone, through an alias or a fragment, is the one asked with all the others."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.api.graphql.conftest import Demo

AS_OF = (date.today() + timedelta(days=1)).isoformat()
COUNTS = "{ label count totalCostEur }"
WHOLE = f"""{{ portfolio(asOf: "{AS_OF}") {{
  figures {{ projects interministerial totalCostEur costedProjects meanDurationYears
    byMinistry {COUNTS} byPhase {COUNTS} byCostBracket {COUNTS} byFunctionalZone {COUNTS} }}
  drift {{ budgetInitial budgetInitialWeighted scheduleLatest projectsMeasured }}
  health {{ red amber green unknown weatherRosier }} }} }}"""


def _live(demo: Demo, query: str, role: str = "dinum") -> dict[str, Any]:
    body = demo.gql(query, role=role)
    assert "errors" not in body, body
    return body["data"]


def test_each_part_asked_alone_equals_the_whole(demo: Demo) -> None:
    for role in ("dinum", "ministry"):
        whole = _live(demo, WHOLE, role)["portfolio"]
        figures = whole["figures"]
        for field in ("byMinistry", "byPhase", "byCostBracket", "byFunctionalZone"):
            alone = _live(
                demo, f'{{ portfolio(asOf: "{AS_OF}") {{ figures {{ {field} {COUNTS} }} }} }}', role
            )
            assert alone["portfolio"]["figures"][field] == figures[field], field
        for part in ("drift", "health"):
            fields = " ".join(whole[part])
            alone = _live(
                demo, f'{{ portfolio(asOf: "{AS_OF}") {{ {part} {{ {fields} }} }} }}', role
            )
            assert alone["portfolio"][part] == whole[part], part
        duration = _live(
            demo, f'{{ portfolio(asOf: "{AS_OF}") {{ figures {{ meanDurationYears }} }} }}', role
        )
        assert duration["portfolio"]["figures"]["meanDurationYears"] == figures["meanDurationYears"]


def test_parts_asked_through_aliases_and_fragments_are_computed(demo: Demo) -> None:
    whole = _live(demo, WHOLE)["portfolio"]
    query = f"""{{
      a: portfolio(asOf: "{AS_OF}") {{ ...Counts }}
      b: portfolio(asOf: "{AS_OF}") {{ ... on Portfolio {{ health {{ red }} }}
        figures {{ ... on Figures {{ byPhase {{ label count }} }} }} }} }}
    fragment Counts on Portfolio {{ figures {{ projects byMinistry {{ label count }} }} }}"""
    data = _live(demo, query)
    assert data["a"]["figures"]["projects"] == whole["figures"]["projects"]
    assert data["a"]["figures"]["byMinistry"] == [
        {"label": c["label"], "count": c["count"]} for c in whole["figures"]["byMinistry"]
    ]
    assert data["b"]["health"]["red"] == whole["health"]["red"]
    assert data["b"]["figures"]["byPhase"] == [
        {"label": c["label"], "count": c["count"]} for c in whole["figures"]["byPhase"]
    ]
