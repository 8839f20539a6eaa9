"""Loading editions over time: identity, aliases, entrants and exits, trajectories,
who is in the panorama, idempotence across formats."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

from importers.panorama import (
    LoadResult,
    PanoramaError,
    import_panorama_file,
    load_panorama,
    read_panorama,
)
from pilot.audit.models import AuditEvent
from pilot.editions import service as editions
from pilot.editions.models import Edition
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects.models import Project
from tests.importers.panorama_files import csv_file_to_xlsx, csv_text, row, xlsx_bytes

ON_1, ON_2 = "2016-11-03", "2017-06-01"


def load(session: Session, rows: list[dict[str, Any]], **kw: Any) -> LoadResult:
    data = csv_text(rows).encode()
    result = load_panorama(session, read_panorama(data, "test.csv"), **kw)
    session.flush()
    return result


def project_named(session: Session, name: str) -> Project:
    found = session.exec(select(Project).where(Project.name == name)).one()
    return found


def count(session: Session, model: type) -> int:
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_renamed_project_is_matched_once_its_alias_is_declared(session: Session) -> None:
    load(
        session, [row(name="Modernisation de l'INPT (projets FH et IP)", cost="40", published=ON_1)]
    )
    inpt = project_named(session, "Modernisation de l'INPT (projets FH et IP)")
    projects.add_alias(session, inpt, "INPT", on=date(2017, 5, 1), actor="test")

    result = load(session, [row(name="INPT", cost="44", published=ON_2)])

    assert result.created_projects == [] and result.matched_projects == 1
    assert count(session, Project) == 1
    assert inpt.name == "INPT"  # the latest name; the former one stays known
    assert projects.former_names(session, inpt) == [
        "Modernisation de l'INPT (projets FH et IP)",
        "INPT",
    ]
    first, second = editions.list_editions(session)
    diff = editions.diff(session, first, second)
    assert (diff.entrants, diff.exits, diff.kept) == ([], [], [inpt.id])
    assert [p.cost_eur for p in editions.trajectory(session, inpt.id or 0)] == [
        40_000_000,
        44_000_000,
    ]


def test_without_an_alias_a_renamed_project_is_reported_not_merged(session: Session) -> None:
    load(session, [row(name="CASSIOPEE", start="2014-01-01", published=ON_1)])
    result = load(session, [row(name="CASSIOPEE V2", start="2014-01-01", published=ON_2)])

    assert count(session, Project) == 2  # two identities: nothing merged silently
    [unmatched] = result.unmatched
    assert unmatched.name == "CASSIOPEE V2" and unmatched.ministry == "MJ"
    old = project_named(session, "CASSIOPEE")
    assert unmatched.candidates == [f"{old.pilot_id} « CASSIOPEE »"]


def test_new_projects_of_the_first_edition_are_not_called_unmatched(session: Session) -> None:
    result = load(session, [row(name="A", published=ON_1), row(name="B", published=ON_1)])
    assert len(result.created_projects) == 2
    assert result.first_edition and result.unmatched == []


def test_an_alias_declared_after_the_renamed_edition_was_loaded_is_refused(
    session: Session,
) -> None:
    load(session, [row(name="GENESIS", published=ON_1)])
    load(session, [row(name="GENESIS V2", published=ON_2)])
    genesis = project_named(session, "GENESIS")
    with pytest.raises(projects.DomainError, match="désigne déjà le projet PRJ-"):
        projects.add_alias(session, genesis, "GENESIS V2", on=date(2017, 7, 1), actor="test")


def test_an_alias_applies_to_later_loads_only(session: Session) -> None:
    load(session, [row(name="SIRHIUS", published=ON_1)])
    sirhius = project_named(session, "SIRHIUS")
    assert projects.add_alias(session, sirhius, "SIRHIUS 2", on=date(2017, 1, 1), actor="t")
    assert not projects.add_alias(session, sirhius, "sirhius  2", on=date(2017, 1, 1), actor="t")
    first = editions.list_editions(session)[0]
    assert [r.values["name"] for r in editions.edition_rows(session, first)] == ["SIRHIUS"]
    load(session, [row(name="SIRHIUS 2", published=ON_2)])
    assert count(session, Project) == 1


def test_an_alias_under_another_ministry_follows_a_project_that_moved(session: Session) -> None:
    load(session, [row(code="MEF", ministry="", name="RenoiRH", published=ON_1)])
    renoirh = project_named(session, "RenoiRH")
    mcas = ministries.resolve(session, "MCAS")
    projects.add_alias(session, renoirh, "RenoiRH", on=date(2017, 1, 1), actor="t", ministry=mcas)

    load(session, [row(code="MCAS", ministry="", name="RenoiRH", published=ON_2)])

    assert count(session, Project) == 1
    assert renoirh.ministry_id == mcas.id


def test_the_latest_edition_decides_who_is_in_the_panorama(session: Session) -> None:
    load(session, [row(name="A", published=ON_1), row(name="B", published=ON_1)])
    result = load(session, [row(name="A", published=ON_2), row(name="C", published=ON_2)])

    a, b, c = (project_named(session, n) for n in "ABC")
    assert (a.in_panorama, b.in_panorama, c.in_panorama) == (True, False, True)
    assert result.left_panorama == [b.id]
    event = session.exec(
        select(AuditEvent).where(AuditEvent.project_id == b.id, AuditEvent.field == "in_panorama")
    ).one()
    assert (event.old_value, event.new_value, event.actor) == ("True", "False", "import-panorama")


def test_an_older_edition_loaded_afterwards_does_not_change_the_panorama(
    session: Session,
) -> None:
    load(session, [row(name="A", published=ON_2), row(name="C", published=ON_2)])
    load(session, [row(name="A", published=ON_1), row(name="B", published=ON_1)])

    a, b, c = (project_named(session, n) for n in "ABC")
    assert (a.in_panorama, b.in_panorama, c.in_panorama) == (True, False, True)
    assert [e.published_on.isoformat() for e in editions.list_editions(session)] == [ON_1, ON_2]


def test_a_project_back_in_the_latest_edition_is_back_in_the_panorama(session: Session) -> None:
    load(session, [row(name="A", published=ON_1), row(name="B", published=ON_1)])
    load(session, [row(name="A", published=ON_2)])
    load(session, [row(name="A", published="2018-01-01"), row(name="B", published="2018-01-01")])
    assert project_named(session, "B").in_panorama


def test_the_same_edition_in_xlsx_after_csv_creates_nothing(
    session: Session, panorama_dir: Path, tmp_path: Path
) -> None:
    import_panorama_file(session, panorama_dir / "panorama-2017-06.csv")
    before = (count(session, Project), count(session, Edition), count(session, AuditEvent))
    xlsx = csv_file_to_xlsx(panorama_dir / "panorama-2017-06.csv", tmp_path / "p.xlsx")

    again = import_panorama_file(session, xlsx)

    assert not again.created and again.same_content_as == "panorama-2017-06.csv"
    assert (count(session, Project), count(session, Edition), count(session, AuditEvent)) == before


def test_a_different_content_for_a_loaded_date_is_refused(session: Session) -> None:
    load(session, [row(name="A", published=ON_1)])
    with pytest.raises(PanoramaError, match="contenu différent"):
        load(session, [row(name="A", cost="99", published=ON_1)])


def test_the_publication_date_can_be_given_when_the_file_has_none(session: Session) -> None:
    with pytest.raises(PanoramaError, match="--published-on"):
        load(session, [row(published="")])
    result = load(session, [row(published="")], published_on=date(2018, 3, 1))
    assert result.edition.published_on == date(2018, 3, 1)


def test_the_2017_edition_as_xlsx_gives_the_published_figures(
    session: Session, panorama_dir: Path, tmp_path: Path
) -> None:
    xlsx = csv_file_to_xlsx(panorama_dir / "panorama-2017-06.csv", tmp_path / "2017.xlsx")
    result = import_panorama_file(session, xlsx)
    figures = editions.edition_figures(result.edition)
    assert (
        figures.projects,
        figures.interministerial,
        figures.total_cost_bn,
        figures.mean_duration_years,
    ) == (61, 20, Decimal("2.56"), Decimal("6.0"))
    assert result.edition.published_on == date(2017, 6, 1)
    csv_figures = read_panorama((panorama_dir / "panorama-2017-06.csv").read_bytes())
    assert len(csv_figures.rows) == 61


def test_xlsx_with_real_date_cells_loads_like_csv(session: Session) -> None:
    rows = [row(name="A", start="2015-02-01", published=ON_2)]
    result = load_panorama(session, read_panorama(xlsx_bytes(rows, real_dates=True), "a.xlsx"))
    assert result.edition.published_on == date(2017, 6, 1)
    assert project_named(session, "A").start_date == date(2015, 2, 1)


def test_functional_zones_differing_by_case_are_one_zone_in_the_database(
    session: Session,
) -> None:
    load(session, [row(name="A", zone="Ressources Humaines", published=ON_1)])
    result = load(
        session,
        [
            row(name="A", zone="Ressources Humaines", published=ON_2),
            row(name="B", zone="ressources humaines", published=ON_2),
        ],
    )
    a, b = project_named(session, "A"), project_named(session, "B")
    assert a.functional_zone == b.functional_zone == "ressources humaines"
    assert b.functional_zone_label == "Ressources Humaines"
    assert editions.edition_figures(result.edition).by_functional_zone == {"Ressources Humaines": 2}
    second = editions.list_editions(session)[1]
    assert editions.edition_rows(session, second)[1].data["Zone fonctionnelle"] == (
        "ressources humaines"
    )


def test_programmes_are_stored_with_their_original_text(session: Session) -> None:
    load(session, [row(financing="Programmes 156/349/218", published=ON_1)])
    project = project_named(session, "PORTALIS")
    assert (project.programmes, project.financing_label) == (
        "156,349,218",
        "Programmes 156/349/218",
    )
