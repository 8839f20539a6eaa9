"""The live portfolio computed by the database equals the one computed in Python over
every project (``project_statuses``), on the demo data, at two dates, for the whole
portfolio and for one ministry."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from pilot.api.graphql.types import ratio
from pilot.indicators import service as indicators
from pilot.indicators.aggregates import HealthCounts, Parts, live_portfolio
from pilot.ministries import service as ministries
from tests.api.graphql.conftest import build_demo
from tests.conftest import PANORAMA_DIR


@pytest.mark.parametrize("as_of", [date.today(), date.today() - timedelta(days=400)])
@pytest.mark.parametrize("scope", ["all", "MI"])
def test_sql_portfolio_equals_the_python_one(engine: Engine, as_of: date, scope: str) -> None:
    with Session(engine) as session:
        build_demo(session, PANORAMA_DIR)
        session.commit()
        ministry = ministries.get_by_code(session, "MI") if scope == "MI" else None
        ministry_id = ministry.id if ministry else None
        statuses = indicators.project_statuses(session, as_of=as_of, ministry_id=ministry_id)
        expected = indicators.portfolio_of(statuses)
        found = live_portfolio(session, as_of=as_of, ministry_id=ministry_id)
    assert statuses
    assert found.figures == expected.figures
    assert found.health is not None and found.drift is not None
    assert found.health == HealthCounts(
        expected.red, expected.amber, expected.green, expected.weather_rosier
    )
    for name in expected.drift.__dataclass_fields__:
        assert ratio(getattr(found.drift, name)) == ratio(getattr(expected.drift, name)), name
    costs: Counter[str] = Counter()
    for s in statuses:
        costs[s.ministry_code] += s.row.cost_eur or 0
    assert found.costs["ministry"] == dict(costs)


@pytest.mark.parametrize(
    "parts",
    [
        Parts(frozenset({"ministry"}), baselines=False),
        Parts(frozenset(), baselines=True),
        Parts(frozenset({"phase", "functional_zone"}), baselines=False),
    ],
)
def test_the_parts_asked_for_equal_those_of_the_whole_portfolio(
    engine: Engine, parts: Parts
) -> None:
    with Session(engine) as session:
        build_demo(session, PANORAMA_DIR)
        session.commit()
        whole = live_portfolio(session, as_of=date.today())
        found = live_portfolio(session, as_of=date.today(), parts=parts)
    names = {
        "ministry": "by_ministry",
        "phase": "by_phase",
        "cost_bracket": "by_cost_bracket",
        "functional_zone": "by_functional_zone",
    }
    for part, name in names.items():
        expected = getattr(whole.figures, name) if part in parts.distributions else {}
        assert getattr(found.figures, name) == expected, name
        assert found.costs.get(part) == (whole.costs[part] if part in parts.distributions else None)
    assert (found.figures.projects, found.figures.total_cost_eur) == (
        whole.figures.projects,
        whole.figures.total_cost_eur,
    )
    assert found.figures.interministerial == whole.figures.interministerial
    assert found.figures.costed_projects == whole.figures.costed_projects
    if parts.baselines:
        assert (found.drift, found.health) == (whole.drift, whole.health)
        assert found.figures.mean_duration_years == whole.figures.mean_duration_years
    else:
        assert (found.drift, found.health, found.figures.mean_duration_years) == (None, None, None)
