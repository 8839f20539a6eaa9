"""DataLoaders, created per request: wherever a list meets a relation, one statement
for the whole list instead of one per item."""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from datetime import date
from functools import cache
from typing import Any, TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select
from strawberry.dataloader import DataLoader

from pilot.audit.models import AuditEvent
from pilot.editions import service as editions
from pilot.editions.models import Edition, EditionRow
from pilot.editions.service import TrajectoryPoint
from pilot.imports.models import Finding
from pilot.ministries.models import Ministry
from pilot.opinions import service as opinions
from pilot.opinions.models import (
    Opinion,
    OpinionAxis,
    OpinionDocument,
    OpinionEvent,
    Recommendation,
    RecommendationEvent,
)
from pilot.projects import service as projects
from pilot.projects.models import (
    Baseline,
    BudgetLine,
    Milestone,
    Project,
    ProjectName,
    Report,
    Risk,
)

M = TypeVar("M", bound=SQLModel)


@cache
def _row_maker(model: type[SQLModel]) -> Callable[[Iterable[Any]], Any]:
    """Makes a named tuple of ``model``'s columns from a row (one tuple type per model)."""
    keys = [c.key for c in model.__table__.columns]  # type: ignore[attr-defined]
    row_type: Any = namedtuple(f"{model.__name__}Row", keys)  # type: ignore[misc]
    maker: Callable[[Iterable[Any]], Any] = row_type._make
    return maker


def _grouped(
    session: Session, model: type[M], key: Any, order: Sequence[Any], where: Any = None
) -> Callable[[list[int]], Awaitable[list[list[M]]]]:
    """A batch function loading every ``model`` row whose ``key`` is in the batch.

    Rows are read-only named tuples of the columns (attribute access like the model),
    not ORM instances: building 20 000 SQLModel objects costs more than the query
    itself, and reading an attribute of a named tuple is ten times faster than one of a
    SQLAlchemy ``Row``."""

    columns = list(model.__table__.columns)  # type: ignore[attr-defined]
    position = [c.key for c in columns].index(key.key)
    make = _row_maker(model)

    async def load(ids: list[int]) -> list[list[M]]:
        query = sa_select(*columns).where(col(key).in_(ids))
        if where is not None:
            query = query.where(where)
        groups: dict[int, list[M]] = defaultdict(list)
        for row in session.execute(query.order_by(*order)):
            groups[row[position]].append(make(row))
        return [groups.get(i, []) for i in ids]

    return load


def _by_id(session: Session, model: type[M]) -> Callable[[list[int]], Awaitable[list[M | None]]]:
    async def load(ids: list[int]) -> list[M | None]:
        pk: ColumnElement[int] = model.id  # type: ignore[attr-defined]
        found = {r.id: r for r in session.exec(select(model).where(col(pk).in_(ids)))}  # type: ignore[attr-defined]
        return [found.get(i) for i in ids]

    return load


class Loaders:
    def __init__(self, session: Session, *, today: date) -> None:
        self.session = session
        self.today = today
        self._published: list[Edition] | None = None
        # Project relations read for ``project(id:)``, one loader per relation and
        # column set (pilot/api/graphql/projects/build.py)
        self.by_selection: dict[Hashable, DataLoader[int, Any]] = {}
        s = session
        self.ministry = DataLoader(_by_id(s, Ministry))
        self.baselines = DataLoader(
            _grouped(
                s, Baseline, Baseline.project_id, [col(Baseline.approved_on), col(Baseline.id)]
            )
        )
        self.reports = DataLoader(
            _grouped(s, Report, Report.project_id, [col(Report.reported_on), col(Report.id)])
        )
        self.milestones = DataLoader(
            _grouped(
                s,
                Milestone,
                Milestone.project_id,
                [col(Milestone.baseline_date), col(Milestone.id)],
            )
        )
        self.risks = DataLoader(
            _grouped(
                s,
                Risk,
                Risk.project_id,
                [(col(Risk.probability) * col(Risk.impact)).desc(), col(Risk.id)],
            )
        )
        self.budget_lines = DataLoader(
            _grouped(
                s, BudgetLine, BudgetLine.project_id, [col(BudgetLine.year), col(BudgetLine.kind)]
            )
        )
        self.names = DataLoader(
            _grouped(
                s,
                ProjectName,
                ProjectName.project_id,
                [col(ProjectName.recorded_on), col(ProjectName.id)],
                where=ProjectName.kind == "name",
            )
        )
        self.audit = DataLoader(
            _grouped(
                s,
                AuditEvent,
                AuditEvent.project_id,
                [col(AuditEvent.at).desc(), col(AuditEvent.id).desc()],
            )
        )
        self.findings = DataLoader(
            _grouped(
                s,
                Finding,
                Finding.import_id,
                [col(Finding.sheet), col(Finding.row), col(Finding.id)],
            )
        )
        self.edition_rows = DataLoader(
            _grouped(s, EditionRow, EditionRow.edition_id, [col(EditionRow.position)])
        )
        # DINUM's opinions (pilot/api/graphql/opinions.py)
        self.opinion_events = DataLoader(
            _grouped(s, OpinionEvent, OpinionEvent.request_id, [col(OpinionEvent.id)])
        )
        self.opinion_documents = DataLoader(
            _grouped(s, OpinionDocument, OpinionDocument.request_id, [col(OpinionDocument.id)])
        )
        self.opinions = DataLoader(_grouped(s, Opinion, Opinion.request_id, [col(Opinion.id)]))
        self.opinion_axes = DataLoader(
            _grouped(s, OpinionAxis, OpinionAxis.opinion_id, [col(OpinionAxis.id)])
        )
        self.recommendations = DataLoader(
            _grouped(s, Recommendation, Recommendation.opinion_id, [col(Recommendation.number)])
        )
        self.recommendation_events = DataLoader(
            _grouped(
                s,
                RecommendationEvent,
                RecommendationEvent.recommendation_id,
                [col(RecommendationEvent.id)],
            )
        )
        self.projects = DataLoader(_by_id(s, Project))
        self.current_figures = DataLoader(self._current_figures)
        self.latest_report = DataLoader(self._latest_reports)
        self.trajectory = DataLoader(self._trajectories)

    async def _current_figures(self, ids: list[int]) -> list[opinions.Figures]:
        found = opinions.current_figures(self.session, ids)
        return [found[i] for i in ids]

    async def _latest_reports(self, ids: list[int]) -> list[Report | None]:
        found = projects.latest_reports(self.session, ids)
        return [found.get(i) for i in ids]

    async def _trajectories(self, ids: list[int]) -> list[list[TrajectoryPoint]]:
        found = editions.trajectories(self.session, ids)
        return [found.get(i, []) for i in ids]

    def published_editions(self) -> list[Edition]:
        """Published editions, by number (read once per request)."""
        if self._published is None:
            self._published = editions.published_editions(self.session)
        return self._published
