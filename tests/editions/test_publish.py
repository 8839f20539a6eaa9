"""Publishing the current portfolio freezes it as the next edition."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session, select

from importers.panorama import HEADERS, import_panorama_file
from pilot.editions import service as editions
from pilot.guards import HistoryIsImmutable
from pilot.projects.models import Project

ON = date(2026, 11, 2)


@pytest.fixture
def demo(session: Session, panorama_dir: Path) -> Session:
    for path in sorted(panorama_dir.glob("*.csv")):
        import_panorama_file(session, path)
    session.commit()
    return session


def test_historical_headers_are_those_of_dinums_latest_open_data_file(panorama_dir: Path) -> None:
    first_line = (panorama_dir / "panorama-2017-06.csv").read_text("utf-8").splitlines()[0]
    assert first_line.split(",") == editions.HISTORICAL_HEADERS


def test_publishing_freezes_every_project_in_the_panorama(demo: Session) -> None:
    in_panorama = demo.exec(select(Project).where(Project.in_panorama == True)).all()  # noqa: E712
    edition = editions.publish_current(demo, published_on=ON)
    demo.commit()
    assert edition.number == 3
    assert edition.status == "published" and edition.source == "publish"
    rows = editions.edition_rows(demo, edition)
    assert {r.project_id for r in rows} == {p.id for p in in_panorama}
    assert edition.figures["projects"] == len(in_panorama)
    assert all(list(r.data) == HEADERS for r in rows)
    assert edition.figures["previous_edition"] == 2
    diff = editions.diff(demo, editions.get_edition(demo, 2), edition)
    assert edition.figures["entrants"] == [f"PRJ-{p:05d}" for p in diff.entrants]
    assert edition.figures["exits"] == []


def test_a_published_edition_never_changes(demo: Session) -> None:
    edition = editions.publish_current(demo, published_on=ON)
    demo.commit()
    edition.title = "Autre titre"
    with pytest.raises(HistoryIsImmutable):
        demo.flush()


def test_dry_run_writes_nothing(demo: Session) -> None:
    edition = editions.publish_current(demo, published_on=ON, dry_run=True)
    assert edition.number == 3 and edition.id is None
    assert len(editions.list_editions(demo)) == 2


def test_a_confidential_project_keeps_its_figures_withheld(demo: Session) -> None:
    project = demo.exec(select(Project).where(Project.name == "PNR")).one()
    project.confidential = True
    demo.commit()
    edition = editions.publish_current(demo, published_on=ON)
    row = next(r for r in editions.edition_rows(demo, edition) if r.project_id == project.id)
    assert row.data["Coût estimé"] == "NA"
    assert row.data["Durée prévisionnelle en année"] == "NA"
    assert row.values["cost_eur"] is None and row.values["health"] is None
    assert row.values["initial_cost_eur"] is None and row.values["budget_drift_initial"] is None
    assert edition.figures["withheld"] == 1


def test_a_taken_number_is_refused_in_french(demo: Session) -> None:
    with pytest.raises(editions.PublicationError, match="déjà pris"):
        editions.publish_current(demo, published_on=ON, number=2)


def test_nothing_to_publish_is_said_in_french(session: Session) -> None:
    with pytest.raises(editions.PublicationError, match="rien à publier"):
        editions.publish_current(session, published_on=ON)


def test_a_publication_dated_outside_the_accepted_years_is_refused_in_french(
    session: Session,
) -> None:
    for day in (date(1, 1, 1), date(1989, 12, 31), date(9999, 12, 31)):
        with pytest.raises(editions.PublicationError, match="hors de la période admise"):
            editions.publish_current(session, published_on=day, force=True)
