"""What PILOT already knows about a ministry's projects, loaded in a few set-based
queries (no query per row): validation compares the workbook with it, apply writes
the differences."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Row
from sqlmodel import Session, col

from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.opinions import service as opinions
from pilot.opinions.service import FollowUp
from pilot.projects.models import (
    Baseline,
    BaselineKind,
    BudgetLine,
    Milestone,
    Project,
    ProjectName,
    Report,
    Risk,
)
from pilot.text import normalize_key

CHUNK = 900  # bound parameters per IN (...) list


@dataclass
class MinistryState:
    ministry_id: int
    projects: dict[int, Row[Any]] = field(default_factory=dict)
    names: dict[str, int] = field(default_factory=dict)  # name key → project id
    latest_baseline: dict[int, Row[Any]] = field(default_factory=dict)
    has_initial: set[int] = field(default_factory=set)
    latest_report: dict[int, Row[Any]] = field(default_factory=dict)
    foreign: dict[int, int] = field(default_factory=dict)  # project id → its ministry id
    milestones: dict[tuple[int, str], Row[Any]] = field(default_factory=dict)
    risks: dict[tuple[int, str], Row[Any]] = field(default_factory=dict)
    budget: dict[tuple[int, int, str], Row[Any]] = field(default_factory=dict)
    recommendations: dict[int, FollowUp] = field(default_factory=dict)  # by id

    @property
    def principal(self) -> Principal:
        """The ministry, as the workbook's changes of recommendations are made (and
        checked): the rules of its space."""
        return Principal(role=Role.MINISTRY, ministry_id=self.ministry_id, name="classeur")


def load_state(session: Session, ministry_id: int, referenced: Iterable[int] = ()) -> MinistryState:
    """The ministry's projects and everything attached to them; ``referenced`` project ids
    that belong to another ministry are listed in ``foreign``."""
    state = MinistryState(ministry_id)
    owned = col(Project.ministry_id) == ministry_id
    project = Project.__table__  # type: ignore[attr-defined]
    for row in session.execute(select(project).where(project.c.ministry_id == ministry_id)):
        state.projects[row.id] = row
    for row in session.execute(
        select(col(ProjectName.name_key), col(ProjectName.project_id)).where(
            col(ProjectName.ministry_id) == ministry_id
        )
    ):
        state.names[row.name_key] = row.project_id
    baseline = Baseline.__table__  # type: ignore[attr-defined]
    for row in session.execute(
        select(baseline)
        .join(Project, col(Project.id) == baseline.c.project_id)
        .where(owned)
        .order_by(baseline.c.project_id, baseline.c.approved_on, baseline.c.id)
    ):
        state.latest_baseline[row.project_id] = row
        if row.kind == BaselineKind.INITIAL.value:
            state.has_initial.add(row.project_id)
    report = Report.__table__  # type: ignore[attr-defined]
    ranked = (
        select(
            report,
            func.row_number()
            .over(
                partition_by=report.c.project_id,
                order_by=(report.c.reported_on.desc(), report.c.id.desc()),
            )
            .label("rank"),
        )
        .join(Project, col(Project.id) == report.c.project_id)
        .where(owned)
        .subquery()
    )
    for row in session.execute(select(ranked).where(ranked.c.rank == 1)):
        state.latest_report[row.project_id] = row
    for model, target in ((Milestone, "milestones"), (Risk, "risks")):
        table: Any = getattr(model, "__table__")  # noqa: B009
        label = table.c.name if model is Milestone else table.c.title
        found: dict[tuple[int, str], Row[Any]] = getattr(state, target)
        for row in session.execute(
            select(table).join(Project, col(Project.id) == table.c.project_id).where(owned)
        ):
            found[(row.project_id, normalize_key(getattr(row, label.name)))] = row
    budget = BudgetLine.__table__  # type: ignore[attr-defined]
    for row in session.execute(
        select(budget).join(Project, col(Project.id) == budget.c.project_id).where(owned)
    ):
        state.budget[(row.project_id, row.year, row.kind)] = row
    for f in opinions.follow_up(session, state.principal, ministry_id=ministry_id):
        assert f.recommendation.id is not None
        state.recommendations[f.recommendation.id] = f
    state.foreign.update(
        foreign_owners(session, ministry_id, {i for i in referenced if i not in state.projects})
    )
    return state


def foreign_owners(session: Session, ministry_id: int, ids: Iterable[int]) -> dict[int, int]:
    """Of ``ids``, the projects of another ministry than ``ministry_id``: id → its ministry.
    (Those of the ministry are never listed, even one this import has just created.)"""
    owners: dict[int, int] = {}
    others = sorted(ids)
    for start in range(0, len(others), CHUNK):
        for row in session.execute(
            select(col(Project.id), col(Project.ministry_id)).where(
                col(Project.id).in_(others[start : start + CHUNK]),
                col(Project.ministry_id) != ministry_id,
            )
        ):
            owners[row.id] = row.ministry_id
    return owners
