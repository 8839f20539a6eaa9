"""The demo's fictitious requests for DINUM's opinion: a running clock with something due
this week, and an unfavourable opinion with a recommendation past due."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, func, select

from importers.panorama import import_panorama_file
from pilot import config
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.demo import add_demo_follow_up, add_demo_opinions
from pilot.opinions import service as opinions
from pilot.projects.models import Baseline

TODAY = date(2026, 11, 22)


def test_demo_opinions_show_a_running_clock_and_a_recommendation_past_due(
    engine: Engine, session: Session, panorama_dir: Path, settings: config.Settings
) -> None:
    for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
        import_panorama_file(session, panorama_dir / name)
    add_demo_follow_up(session, today=TODAY)
    baselines = session.exec(select(func.count()).select_from(Baseline)).one()
    assert add_demo_opinions(session, today=TODAY) == 2
    assert add_demo_opinions(session, today=TODAY) == 0  # once
    dinum = Principal(role=Role.DINUM, name="test")
    views, due = opinions.running_clocks(session, dinum, TODAY)
    assert [v.clock.status for v in views] == ["observations_received"]
    assert [(d.what, d.days_left) for d in due] == [("observations", 5)]
    overdue = opinions.overdue_recommendations(session, dinum, TODAY)
    assert [(o.ministry_code, o.days_late) for o in overdue] == [("MI", 10)]
    assert session.exec(select(func.count()).select_from(Baseline)).one() == baselines
