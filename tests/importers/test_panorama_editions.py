"""The two real editions load and give exactly the figures DINUM printed."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from importers.panorama import import_panorama_file
from pilot.editions import service as editions
from pilot.projects.models import Project

PUBLISHED = {
    "panorama-2016-11.csv": (57, 18, Decimal("2.29"), Decimal("6.2")),
    "panorama-2017-06.csv": (61, 20, Decimal("2.56"), Decimal("6.0")),
}


@pytest.fixture
def loaded(session: Session, panorama_dir: Path) -> Session:
    for name in PUBLISHED:
        import_panorama_file(session, panorama_dir / name)
    session.commit()
    return session


def test_each_edition_reproduces_the_published_key_figures(loaded: Session) -> None:
    for number, name in enumerate(PUBLISHED, start=1):
        figures = editions.edition_figures(editions.get_edition(loaded, number))
        assert (
            figures.projects,
            figures.interministerial,
            figures.total_cost_bn,
            figures.mean_duration_years,
        ) == PUBLISHED[name]


def test_loading_the_same_file_twice_creates_nothing(loaded: Session, panorama_dir: Path) -> None:
    count = loaded.exec(select(func.count()).select_from(Project)).one()
    again = import_panorama_file(loaded, panorama_dir / "panorama-2017-06.csv")
    assert not again.created
    assert loaded.exec(select(func.count()).select_from(Project)).one() == count


def test_projects_in_both_editions_keep_one_identity(loaded: Session) -> None:
    first, second = editions.get_edition(loaded, 1), editions.get_edition(loaded, 2)
    diff = editions.diff(loaded, first, second)
    assert len(diff.kept) + len(diff.entrants) == 61
    assert len(diff.kept) + len(diff.exits) == 57
    count = loaded.exec(select(func.count()).select_from(Project)).one()
    assert count == 57 + len(diff.entrants)


def test_latest_edition_is_the_most_recent_by_date(loaded: Session) -> None:
    assert editions.get_edition(loaded, "latest").published_on.isoformat() == "2017-06-01"
