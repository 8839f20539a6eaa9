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
from pilot.indicators.aggregates import live_portfolio
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
    got = found.portfolio
    assert got.figures == expected.figures
    assert (got.red, got.amber, got.green, got.weather_rosier) == (
        expected.red,
        expected.amber,
        expected.green,
        expected.weather_rosier,
    )
    for name in expected.drift.__dataclass_fields__:
        assert ratio(getattr(got.drift, name)) == ratio(getattr(expected.drift, name)), name
    costs: Counter[str] = Counter()
    for s in statuses:
        costs[s.ministry_code] += s.row.cost_eur or 0
    assert found.costs["ministry"] == dict(costs)
