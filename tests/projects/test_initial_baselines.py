"""A project first published "en cadrage" takes its first known cost as its initial
baseline, and gets a computed health; a migration repairs databases loaded before."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from importers.panorama import import_panorama_file
from pilot import migrations
from pilot.db import make_engine
from pilot.indicators.service import project_statuses
from pilot.projects import service as projects
from pilot.projects.models import Project

CADRAGE_FIRST = ("SAPHIR", "CROCUS", "ADAMANT", "SI Paie des EPLE (OPERA)")


def _load(session: Session, panorama_dir: Path) -> dict[str, Project]:
    for name in ("panorama-2016-11.csv", "panorama-2017-06.csv"):
        import_panorama_file(session, panorama_dir / name)
    session.commit()
    chosen = select(Project).where(col(Project.name).in_(CADRAGE_FIRST))
    found = {p.name: p for p in session.exec(chosen)}
    assert set(found) == set(CADRAGE_FIRST)
    return found


def test_projects_first_in_cadrage_get_a_baseline_and_a_health(
    session: Session, panorama_dir: Path
) -> None:
    found = _load(session, panorama_dir)
    statuses = {s.project.id: s for s in project_statuses(session, as_of=date(2017, 7, 1))}
    for name, project in found.items():
        initial = projects.initial_baseline(session, project.id or 0)
        assert initial is not None and initial.cost_eur is not None, name
        assert initial.source == "Panorama du 2017-06-01 (première valeur publiée)", name
        assert statuses[project.id].health is not None, name


def test_the_migration_repairs_cost_less_initial_baselines(
    tmp_path: Path, panorama_dir: Path
) -> None:
    engine: Engine = make_engine(f"sqlite:///{tmp_path}/old.db")
    migrations.upgrade(engine)  # loaded by today's code, then taken back to before 0004
    with Session(engine) as session:
        found = _load(session, panorama_dir)
        expected = {}
        for name, project in found.items():
            initial = projects.initial_baseline(session, project.id or 0)
            assert initial is not None
            expected[name] = (
                initial.cost_eur,
                initial.start_date,
                initial.end_date,
                initial.source,
            )
    ids = [p.id for p in found.values()]
    with engine.begin() as conn:  # what loads did before: a baseline without a cost
        for pid in ids:
            conn.execute(
                text(
                    "UPDATE baseline SET cost_eur = NULL, end_date = NULL, "
                    "source = 'Panorama du 2016-11-01 (première valeur publiée)' "
                    "WHERE project_id = :p"
                ),
                {"p": pid},
            )
    migrations.downgrade(engine, "0003")
    migrations.upgrade(engine)
    with Session(engine) as session:
        for name, project in found.items():
            initial = projects.initial_baseline(session, project.id or 0)
            assert initial is not None
            got = (initial.cost_eur, initial.start_date, initial.end_date, initial.source)
            assert got == expected[name], name
        events = session.exec(
            text("SELECT count(*) FROM audit_event WHERE actor = 'migration 0004'")  # type: ignore[call-overload]
        ).one()
        assert events[0] == len(CADRAGE_FIRST)
    engine.dispose()


@pytest.mark.parametrize("name", ["panorama-2016-11.csv", "panorama-2017-06.csv"])
def test_published_figures_of_real_editions_are_unchanged(
    session: Session, panorama_dir: Path, name: str
) -> None:
    result = import_panorama_file(session, panorama_dir / name)
    f = result.edition.figures
    expected = {
        "panorama-2016-11.csv": (57, 18, "2.29", "6.2"),
        "panorama-2017-06.csv": (61, 20, "2.56", "6.0"),
    }
    assert (
        f["projects"],
        f["interministerial"],
        f["total_cost_bn"],
        f["mean_duration_years"],
    ) == expected[name]
