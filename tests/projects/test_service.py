from datetime import date

import pytest
from sqlmodel import Session, select

from pilot.audit.models import AuditEvent
from pilot.guards import HistoryIsImmutable
from pilot.ministries import service as ministries
from pilot.projects import service as projects
from pilot.projects.models import Baseline, Project

M = 1_000_000
ON = date(2020, 1, 1)


def _project(session: Session, name: str = "SIRHEN") -> Project:
    mi = ministries.resolve(session, "MEN")
    return projects.create_project(
        session, ministry=mi, name=name, on=ON, actor="test", start_date=date(2015, 1, 1)
    )


def test_created_project_gets_a_stable_identifier_and_an_audit_event(session: Session) -> None:
    p = _project(session)
    assert p.pilot_id == f"PRJ-{p.id:05d}"
    events = session.exec(select(AuditEvent).where(AuditEvent.project_id == p.id)).all()
    assert [e.action for e in events] == ["create"]


def test_identifiers_are_never_reused_after_a_delete(session: Session) -> None:
    first = _project(session, "A")
    first_id = first.id
    session.commit()
    # Drop the project and everything that refers to it, then create another one.
    from pilot.projects.models import ProjectMinistry, ProjectName

    for model in (AuditEvent, ProjectName, ProjectMinistry):
        for obj in session.exec(select(model).where(model.project_id == first_id)):
            session.delete(obj)
    session.flush()
    session.delete(first)
    session.commit()
    second = _project(session, "B")
    assert second.id != first_id


def test_rename_keeps_former_names_and_matching(session: Session) -> None:
    p = _project(session, "Modernisation de l'INPT (projets FH et IP)")
    projects.rename_project(session, p, "INPT", on=ON, actor="test")
    mi = ministries.resolve(session, "MEN")
    assert projects.find_project(session, mi, "modernisation de l’INPT (projets FH et IP)") == p
    assert projects.find_project(session, mi, "inpt") == p
    assert projects.former_names(session, p) == [
        "Modernisation de l'INPT (projets FH et IP)",
        "INPT",
    ]


def test_duplicate_project_name_in_a_ministry_is_refused(session: Session) -> None:
    _project(session, "Chorus")
    with pytest.raises(projects.DomainError):
        _project(session, "CHORUS ")


def test_initial_baseline_is_set_once(session: Session) -> None:
    p = _project(session)
    projects.set_initial_baseline(
        session,
        p,
        approved_on=ON,
        cost_eur=10 * M,
        start_date=ON,
        end_date=date(2022, 1, 1),
        actor="t",
    )
    with pytest.raises(projects.DomainError):
        projects.set_initial_baseline(
            session, p, approved_on=ON, cost_eur=20 * M, start_date=ON, end_date=None, actor="t"
        )


def test_baselines_cannot_be_rewritten_in_place(session: Session) -> None:
    p = _project(session)
    b = projects.set_initial_baseline(
        session, p, approved_on=ON, cost_eur=10 * M, start_date=ON, end_date=None, actor="t"
    )
    session.commit()
    b.cost_eur = 5 * M
    with pytest.raises(HistoryIsImmutable):
        session.flush()
    session.rollback()
    session.delete(session.get(Baseline, b.id))
    with pytest.raises(HistoryIsImmutable):
        session.flush()


def test_rebaseline_requires_a_reason_and_keeps_the_initial(session: Session) -> None:
    p = _project(session)
    assert p.id is not None
    projects.set_initial_baseline(
        session,
        p,
        approved_on=ON,
        cost_eur=10 * M,
        start_date=ON,
        end_date=date(2022, 1, 1),
        actor="t",
    )
    with pytest.raises(projects.DomainError):
        projects.rebaseline(
            session,
            p,
            reason="  ",
            approved_on=ON,
            cost_eur=15 * M,
            start_date=ON,
            end_date=None,
            actor="t",
        )
    projects.rebaseline(
        session,
        p,
        reason="Extension du périmètre",
        approved_on=date(2021, 1, 1),
        cost_eur=15 * M,
        start_date=ON,
        end_date=date(2023, 1, 1),
        actor="t",
    )
    projects.record_report(
        session,
        p,
        reported_on=date(2021, 6, 1),
        actor="t",
        current_cost_eur=15 * M,
        forecast_end=date(2023, 1, 1),
    )
    drift = projects.project_drift_for(session, p)
    assert drift.budget_initial == pytest.approx(0.5)
    assert drift.budget_latest == 0
    assert len(projects.baselines(session, p.id)) == 2


def test_rebaseline_without_initial_is_refused(session: Session) -> None:
    p = _project(session)
    with pytest.raises(projects.DomainError):
        projects.rebaseline(
            session,
            p,
            reason="x",
            approved_on=ON,
            cost_eur=1,
            start_date=None,
            end_date=None,
            actor="t",
        )


def test_reports_are_history_and_the_latest_wins(session: Session) -> None:
    p = _project(session)
    assert p.id is not None
    projects.record_report(session, p, reported_on=date(2020, 1, 1), actor="t", phase="Cadrage")
    r2 = projects.record_report(
        session, p, reported_on=date(2021, 1, 1), actor="t", phase="Déploiement", weather="nuageux"
    )
    projects.record_report(session, p, reported_on=date(2019, 1, 1), actor="t", phase="Cadrage")
    assert projects.latest_report(session, p.id) == r2
    assert p.phase == "Déploiement"
    assert len(projects.reports(session, p.id)) == 3
    session.commit()
    r2.comment = "rewritten"
    with pytest.raises(HistoryIsImmutable):
        session.flush()


def test_report_with_unknown_weather_or_negative_cost_is_refused(session: Session) -> None:
    p = _project(session)
    with pytest.raises(projects.DomainError):
        projects.record_report(session, p, reported_on=ON, actor="t", weather="pluie")
    with pytest.raises(projects.DomainError):
        projects.record_report(session, p, reported_on=ON, actor="t", current_cost_eur=-1)


def test_old_ministry_codes_resolve_to_the_current_ministry(session: Session) -> None:
    mar = ministries.resolve(session, "MINDEF", "Ministère de la Défense")
    assert mar.code == "MAr"
    assert ministries.resolve(session, "MAr") == mar
    assert ministries.get_by_code(session, "ministere de la defense") == mar
    new = ministries.resolve(session, "MXYZ", "Ministère imaginaire")
    assert new.code == "MXYZ"
