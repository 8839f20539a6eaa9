"""Late milestones: one rule, the same in Python and in SQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, col, select

from pilot.indicators.steering import late_milestone, milestone_is_late
from pilot.ministries.models import Ministry
from pilot.projects.models import Milestone, Project

TODAY = date(2026, 6, 1)
PAST, SOON, LATER = date(2026, 1, 1), date(2026, 9, 1), date(2026, 12, 1)
# (baseline, forecast, actual) → late?
CASES = [
    ((SOON, None, None), False),  # baseline ahead, no forecast: not late
    ((SOON, SOON, None), False),  # baseline ahead, forecast on time: not late
    ((SOON, date(2026, 8, 1), None), False),  # forecast earlier than the baseline
    ((SOON, LATER, None), True),  # the forecast slipped past the baseline
    ((PAST, None, None), True),  # baseline past, not done
    ((PAST, PAST, None), True),  # baseline past, forecast not updated, not done
    ((PAST, LATER, date(2026, 5, 1)), False),  # done: never late
    ((None, LATER, None), False),  # no baseline: nothing to be late against
    ((TODAY, TODAY, None), False),  # due today
]


@pytest.mark.parametrize(("dates", "late"), CASES)
def test_a_milestone_is_late_only_when_done_late_or_slipping(
    dates: tuple[date | None, date | None, date | None], late: bool
) -> None:
    assert milestone_is_late(*dates, TODAY) is late


def test_the_sql_condition_agrees_with_the_rule(session: Session) -> None:
    ministry = Ministry(code="MI", name="Ministère de l'Intérieur")
    session.add(ministry)
    session.flush()
    project = Project(name="P", name_key="p", ministry_id=ministry.id or 0)
    session.add(project)
    session.flush()
    for i, ((baseline, forecast, actual), _) in enumerate(CASES):
        session.add(
            Milestone(
                project_id=project.id or 0,
                name=f"J{i}",
                baseline_date=baseline,
                forecast_date=forecast,
                actual_date=actual,
            )
        )
    session.flush()
    found = set(
        session.exec(
            select(Milestone.name).where(late_milestone(TODAY)).order_by(col(Milestone.name))
        )
    )
    assert found == {f"J{i}" for i, (_, late) in enumerate(CASES) if late}
