"""What a project shows beyond its own row (ministry, reports, baselines, milestones,
risks…), loaded before its fields are resolved.

``projects`` and ``project`` look at the fields asked for under them and load each
relation they need for the whole page at once, through the request's DataLoaders (one
statement per relation, whatever the number of projects; aliased ``project(id:)`` fields
share the statement). The ``Project`` fields then only read what was loaded: they are
plain functions, so graphql-core completes a page of 1 000 projects on its synchronous
path instead of creating and gathering a coroutine per field.

Relations are loaded only for the projects whose data the reader may see: figures for
projects whose figures are not withheld, risks and the audit trail for the roles that
may read them. The fields still check the access rules themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context
from pilot.api.graphql.permissions import Action
from pilot.audit.models import AuditEvent
from pilot.editions.service import TrajectoryPoint
from pilot.ministries.models import Ministry
from pilot.projects.models import (
    Baseline,
    BudgetLine,
    Milestone,
    Project,
    ProjectName,
    Report,
    Risk,
)

# The GraphQL fields of ``Project`` reading each relation.
FIELDS: dict[str, frozenset[str]] = {
    "ministry": frozenset({"ministry"}),
    "names": frozenset({"formerNames"}),
    "latest_report": frozenset(
        {
            "latestReport",
            "currentCostEur",
            "currentCostText",
            "costBracket",
            "weather",
            "drift",
            "health",
            "weatherRosier",
            "stale",
        }
    ),
    "baselines": frozenset({"baselines", "drift", "health", "weatherRosier"}),
    "reports": frozenset({"reports"}),
    "milestones": frozenset({"milestones"}),
    "risks": frozenset({"risks"}),
    "budget_lines": frozenset({"budgetLines"}),
    "trajectory": frozenset({"trajectory"}),
    "audit": frozenset({"auditTrail"}),
}
_FIGURES = frozenset(
    {"latest_report", "baselines", "reports", "milestones", "budget_lines", "trajectory"}
)


class NotLoaded(AssertionError):
    """A field read a relation its root field did not load (a gap in ``FIELDS``)."""


class Related:
    """The relations loaded for one project, by name."""

    __slots__ = ("_rows",)

    def __init__(self) -> None:
        self._rows: dict[str, Any] = {}

    def _get(self, relation: str) -> Any:
        try:
            return self._rows[relation]
        except KeyError:
            raise NotLoaded(f"relation {relation!r} was not loaded") from None

    def ministry(self) -> Ministry:
        found: Ministry = self._get("ministry")
        return found

    def names(self) -> list[ProjectName]:
        found: list[ProjectName] = self._get("names")
        return found

    def latest_report(self) -> Report | None:
        found: Report | None = self._get("latest_report")
        return found

    def baselines(self) -> list[Baseline]:
        found: list[Baseline] = self._get("baselines")
        return found

    def reports(self) -> list[Report]:
        found: list[Report] = self._get("reports")
        return found

    def milestones(self) -> list[Milestone]:
        found: list[Milestone] = self._get("milestones")
        return found

    def risks(self) -> list[Risk]:
        found: list[Risk] = self._get("risks")
        return found

    def budget_lines(self) -> list[BudgetLine]:
        found: list[BudgetLine] = self._get("budget_lines")
        return found

    def trajectory(self) -> list[TrajectoryPoint]:
        found: list[TrajectoryPoint] = self._get("trajectory")
        return found

    def audit(self) -> list[AuditEvent]:
        found: list[AuditEvent] = self._get("audit")
        return found


def _names(selections: Iterable[Selection], into: set[str]) -> set[str]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            into.add(selection.name)
        if isinstance(selection, SelectedField | FragmentSpread | InlineFragment):
            _names(selection.selections, into)
    return into


def wanted(info: Info) -> set[str]:
    """The relations read by the fields selected anywhere under this root field."""
    names = _names(info.selected_fields, set())
    return {relation for relation, fields in FIELDS.items() if fields & names}


def _allowed(c: Context, relation: str, project: Project) -> bool:
    if relation in _FIGURES:
        return permissions.can_see_figures(c.principal, project)
    if relation == "risks":
        return permissions.allows(c.principal, Action.READ_RISKS, project.ministry_id)
    if relation == "audit":
        return permissions.allows(c.principal, Action.READ_AUDIT, project.ministry_id)
    return True


async def load(c: Context, items: Sequence[tuple[Project, Related]], relations: set[str]) -> None:
    """Load ``relations`` into each project's :class:`Related`."""
    loaders = c.loaders
    jobs: list[tuple[str, list[Related], list[int]]] = []
    for relation in sorted(relations):
        holders: list[Related] = []
        keys: list[int] = []
        for project, holder in items:
            if not _allowed(c, relation, project):
                continue
            key = project.ministry_id if relation == "ministry" else project.id
            assert key is not None
            holders.append(holder)
            keys.append(key)
        if keys:
            jobs.append((relation, holders, keys))
    results = await asyncio.gather(
        *(_load_many(getattr(loaders, relation), keys) for relation, _, keys in jobs)
    )
    for (relation, holders, keys), found in zip(jobs, results, strict=True):
        for holder, key in zip(holders, keys, strict=True):
            holder._rows[relation] = found[key]


async def _load_many(loader: DataLoader[int, Any], keys: list[int]) -> dict[int, Any]:
    """``loader``'s values for ``keys``. One key (``project(id:)``) goes through the
    DataLoader, which batches it with the other aliased ``project`` fields; a page calls
    the loader's batch function directly: one statement all the same, without a future
    and a callback per key."""
    unique = list(dict.fromkeys(keys))
    if len(unique) == 1:
        return {unique[0]: await loader.load(unique[0])}
    found: dict[int, Any] = {}
    for key in unique:  # values the listing already primed (latest reports)
        future = loader.cache_map.get(key)
        if future is not None and future.done() and not future.cancelled():
            found[key] = future.result()
    missing = [key for key in unique if key not in found]
    if missing:
        found.update(zip(missing, await loader.load_fn(missing), strict=True))
    return found
