"""Risks and milestones, one at a time: plain services taking a session. They check the
domain's rules, then write through ``pilot.projects.bulk`` (with the audit events);
they never commit."""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from sqlmodel import Session, col, select

from pilot.indicators.steering import CRITICAL_FROM, criticality, risk_is_unmitigated
from pilot.projects import bulk
from pilot.projects.bulk import Stamp
from pilot.projects.models import Milestone, Project, Risk, RiskStatus, RiskTrend
from pilot.projects.service import DomainError
from pilot.text import clean_text

T = TypeVar("T", Risk, Milestone)


def add_risk(
    session: Session,
    project: Project,
    *,
    title: str,
    probability: int,
    impact: int,
    actor: str,
    category: str | None = None,
    owner: str | None = None,
    mitigation: str | None = None,
    trend: str | None = None,
    opened_on: date | None = None,
) -> Risk:
    """An open risk. From criticality 9 (probability × impact) a mitigation is required."""
    title = clean_text(title)
    if not title:
        raise DomainError("L'intitulé du risque est obligatoire.")
    for label, value in (("probabilité", probability), ("impact", impact)):
        if not 1 <= value <= 4:
            raise DomainError(f"La {label} d'un risque va de 1 à 4 (reçu : {value}).")
    mitigation = clean_text(mitigation or "") or None
    if risk_is_unmitigated(probability, impact, mitigation, RiskStatus.OUVERT.value):
        raise DomainError(
            f"Un risque de criticité {criticality(probability, impact)} (à partir de "
            f"{CRITICAL_FROM}) exige une mesure de réduction."
        )
    if trend is not None and trend not in {t.value for t in RiskTrend}:
        raise DomainError(f"Tendance inconnue : « {trend} » (hausse, stable ou baisse).")
    existing = session.exec(
        select(Risk).where(Risk.project_id == project.id, Risk.title == title)
    ).first()
    if existing is not None:
        raise DomainError(f"Le risque « {title} » existe déjà pour ce projet.")
    assert project.id is not None
    row = {
        "project_id": project.id,
        "title": title,
        "category": category,
        "probability": probability,
        "impact": impact,
        "owner": owner,
        "mitigation": mitigation,
        "trend": trend,
        "opened_on": opened_on,
    }
    return _add(session, Risk, row, actor)


def _add(session: Session, model: type[T], row: dict[str, Any], actor: str) -> T:
    """One new risk or milestone (``bulk.add_children``), read back."""
    [new_id] = bulk.add_children(session, model, [row], stamp=Stamp(actor))
    added = session.get(model, new_id)
    assert added is not None
    return added


def close_risk(session: Session, risk: Risk, *, closed_on: date, actor: str) -> Risk:
    if risk.status == RiskStatus.CLOS.value:
        raise DomainError(f"Le risque « {risk.title} » est déjà clos.")
    bulk.update_one(
        session,
        risk,
        {"status": RiskStatus.CLOS.value, "closed_on": closed_on},
        stamp=Stamp(actor),
    )
    return risk


def add_milestone(
    session: Session,
    project: Project,
    *,
    name: str,
    actor: str,
    baseline_date: date | None = None,
    forecast_date: date | None = None,
    actual_date: date | None = None,
) -> Milestone:
    name = clean_text(name)
    if not name:
        raise DomainError("Le nom du jalon est obligatoire.")
    assert project.id is not None
    taken = session.exec(
        select(Milestone).where(Milestone.project_id == project.id, Milestone.name == name)
    ).first()
    if taken is not None:
        raise DomainError(f"Le jalon « {name} » existe déjà pour ce projet.")
    row = {
        "project_id": project.id,
        "name": name,
        "baseline_date": baseline_date,
        "forecast_date": forecast_date,
        "actual_date": actual_date,
    }
    return _add(session, Milestone, row, actor)


def update_milestone(
    session: Session,
    milestone: Milestone,
    *,
    actor: str,
    forecast_date: date | None = None,
    actual_date: date | None = None,
) -> int:
    """Set the forecast and/or actual date (the baseline date is part of the baseline and
    does not change here). Returns the number of fields changed."""
    changes: dict[str, date] = {}
    if forecast_date is not None:
        changes["forecast_date"] = forecast_date
    if actual_date is not None:
        if actual_date > date.today():
            raise DomainError("La date réelle d'un jalon ne peut pas être dans le futur.")
        changes["actual_date"] = actual_date
    if not changes:
        raise DomainError("Indiquez une date prévisionnelle ou une date réelle.")
    return bulk.update_one(session, milestone, changes, stamp=Stamp(actor))


def milestones_of(session: Session, project_id: int) -> list[Milestone]:
    return list(
        session.exec(
            select(Milestone)
            .where(Milestone.project_id == project_id)
            .order_by(col(Milestone.baseline_date), col(Milestone.id))
        )
    )
