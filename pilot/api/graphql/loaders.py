"""DataLoaders, created per request: wherever a list meets a relation, one statement
for the whole list instead of one per item."""

from __future__ import annotations

from collections import defaultdict, namedtuple
from collections.abc import Awaitable, Callable, Hashable, Iterable, Sequence
from datetime import date
from functools import cache, cached_property
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
from pilot.opinions import service as opinions_service
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
    """The request's DataLoaders, each made when first used (a request uses a few of
    them: making all twenty, with their statements' ordering, cost more than a cached
    answer)."""

    def __init__(self, session: Session, *, today: date) -> None:
        self.session = session
        self.today = today
        self._published: list[Edition] | None = None
        # Project relations read for ``project(id:)``, one loader per relation and
        # column set (pilot/api/graphql/projects/build.py)
        self.by_selection: dict[Hashable, DataLoader[int, Any]] = {}

    @cached_property
    def ministry(self) -> DataLoader[int, Ministry | None]:
        return DataLoader(_by_id(self.session, Ministry))

    @cached_property
    def baselines(self) -> DataLoader[int, list[Baseline]]:
        return DataLoader(
            _grouped(
                self.session,
                Baseline,
                Baseline.project_id,
                [col(Baseline.approved_on), col(Baseline.id)],
            )
        )

    @cached_property
    def reports(self) -> DataLoader[int, list[Report]]:
        return DataLoader(
            _grouped(
                self.session, Report, Report.project_id, [col(Report.reported_on), col(Report.id)]
            )
        )

    @cached_property
    def milestones(self) -> DataLoader[int, list[Milestone]]:
        return DataLoader(
            _grouped(
                self.session,
                Milestone,
                Milestone.project_id,
                [col(Milestone.baseline_date), col(Milestone.id)],
            )
        )

    @cached_property
    def risks(self) -> DataLoader[int, list[Risk]]:
        return DataLoader(
            _grouped(
                self.session,
                Risk,
                Risk.project_id,
                [(col(Risk.probability) * col(Risk.impact)).desc(), col(Risk.id)],
            )
        )

    @cached_property
    def budget_lines(self) -> DataLoader[int, list[BudgetLine]]:
        return DataLoader(
            _grouped(
                self.session,
                BudgetLine,
                BudgetLine.project_id,
                [col(BudgetLine.year), col(BudgetLine.kind)],
            )
        )

    @cached_property
    def names(self) -> DataLoader[int, list[ProjectName]]:
        return DataLoader(
            _grouped(
                self.session,
                ProjectName,
                ProjectName.project_id,
                [col(ProjectName.recorded_on), col(ProjectName.id)],
                where=ProjectName.kind == "name",
            )
        )

    @cached_property
    def audit(self) -> DataLoader[int, list[AuditEvent]]:
        return DataLoader(
            _grouped(
                self.session,
                AuditEvent,
                AuditEvent.project_id,
                [col(AuditEvent.at).desc(), col(AuditEvent.id).desc()],
            )
        )

    @cached_property
    def findings(self) -> DataLoader[int, list[Finding]]:
        return DataLoader(
            _grouped(
                self.session,
                Finding,
                Finding.import_id,
                [col(Finding.sheet), col(Finding.row), col(Finding.id)],
            )
        )

    @cached_property
    def edition_rows(self) -> DataLoader[int, list[EditionRow]]:
        return DataLoader(
            _grouped(self.session, EditionRow, EditionRow.edition_id, [col(EditionRow.position)])
        )

    # DINUM's opinions (pilot/api/graphql/opinions.py)
    @cached_property
    def opinion_events(self) -> DataLoader[int, list[OpinionEvent]]:
        return DataLoader(
            _grouped(self.session, OpinionEvent, OpinionEvent.request_id, [col(OpinionEvent.id)])
        )

    @cached_property
    def opinion_documents(self) -> DataLoader[int, list[OpinionDocument]]:
        return DataLoader(
            _grouped(
                self.session, OpinionDocument, OpinionDocument.request_id, [col(OpinionDocument.id)]
            )
        )

    @cached_property
    def opinions(self) -> DataLoader[int, list[Opinion]]:
        return DataLoader(_grouped(self.session, Opinion, Opinion.request_id, [col(Opinion.id)]))

    @cached_property
    def opinion_axes(self) -> DataLoader[int, list[OpinionAxis]]:
        return DataLoader(
            _grouped(self.session, OpinionAxis, OpinionAxis.opinion_id, [col(OpinionAxis.id)])
        )

    @cached_property
    def recommendations(self) -> DataLoader[int, list[Recommendation]]:
        return DataLoader(
            _grouped(
                self.session,
                Recommendation,
                Recommendation.opinion_id,
                [col(Recommendation.number)],
            )
        )

    @cached_property
    def recommendation_events(self) -> DataLoader[int, list[RecommendationEvent]]:
        return DataLoader(
            _grouped(
                self.session,
                RecommendationEvent,
                RecommendationEvent.recommendation_id,
                [col(RecommendationEvent.id)],
            )
        )

    @cached_property
    def projects(self) -> DataLoader[int, Project | None]:
        return DataLoader(_by_id(self.session, Project))

    @cached_property
    def current_figures(self) -> DataLoader[int, opinions_service.Figures]:
        return DataLoader(self._current_figures)

    @cached_property
    def latest_report(self) -> DataLoader[int, Report | None]:
        return DataLoader(self._latest_reports)

    @cached_property
    def trajectory(self) -> DataLoader[int, list[TrajectoryPoint]]:
        return DataLoader(self._trajectories)

    async def _current_figures(self, ids: list[int]) -> list[opinions_service.Figures]:
        found = opinions_service.current_figures(self.session, ids)
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
