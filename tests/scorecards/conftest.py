from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from importers.panorama import import_panorama_file
from pilot.projects.models import Milestone, Project, Risk

PUBLISHED_ON = date(2026, 11, 2)


@pytest.fixture
def demo(session: Session, panorama_dir: Path) -> Session:
    """The two real editions, one confidential project, and one project with milestones
    and risks (the open data carries none)."""
    for path in sorted(panorama_dir.glob("*.csv")):
        import_panorama_file(session, path)
    confidential = session.exec(select(Project).where(Project.name == "VITAM")).one()
    confidential.confidential = True
    pnr = session.exec(select(Project).where(Project.name == "PNR")).one()
    assert pnr.id is not None
    session.add_all(
        [
            Milestone(
                project_id=pnr.id,
                name="Mise en service",
                baseline_date=date(2017, 1, 1),
                forecast_date=date(2018, 6, 1),
            ),
            Milestone(
                project_id=pnr.id,
                name="Recette",
                baseline_date=date(2016, 1, 1),
                forecast_date=date(2016, 3, 1),
                actual_date=date(2016, 4, 1),
            ),
            Risk(project_id=pnr.id, title='=HYPERLINK("x")', probability=3, impact=4),
            Risk(
                project_id=pnr.id,
                title="Retard du prestataire",
                probability=2,
                impact=2,
                mitigation="Pénalités",
            ),
        ]
    )
    session.commit()
    return session
