from datetime import date
from pathlib import Path

from sqlmodel import Session, func, select

from importers.panorama import import_panorama_file
from pilot.demo import DEMO_COMMENT, add_demo_follow_up
from pilot.editions import service as editions
from pilot.indicators import service as indicators
from pilot.projects.models import Milestone, Report, Risk

TODAY = date(2026, 11, 22)


def test_demo_follow_up_feeds_every_indicator_and_leaves_editions_as_published(
    session: Session, panorama_dir: Path
) -> None:
    for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
        import_panorama_file(session, panorama_dir / name)
    before = editions.get_edition(session, 2).figures
    added = add_demo_follow_up(session, today=TODAY)
    assert added == len(indicators.project_statuses(session))
    assert session.exec(select(func.count()).select_from(Milestone)).one() == 3 * added
    assert session.exec(select(func.count()).select_from(Risk)).one() >= added
    demo_reports = session.exec(select(Report).where(Report.comment == DEMO_COMMENT)).all()
    assert len(demo_reports) == added and all(r.weather for r in demo_reports)
    portfolio = indicators.portfolio(session)
    assert portfolio.red + portfolio.amber > 0 and portfolio.green > 0
    assert editions.get_edition(session, 2).figures == before
    assert add_demo_follow_up(session, today=TODAY) == 0  # idempotent
