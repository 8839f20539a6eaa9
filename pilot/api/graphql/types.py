"""GraphQL types. Money is exposed as integer euros (``BigInt`` as a string-safe scalar
is avoided: amounts fit in 53 bits) and as formatted French text."""

from __future__ import annotations

from datetime import date

import strawberry

from pilot.indicators.figures import Figures
from pilot.ministries.models import Ministry
from pilot.money import format_mdeur, format_meur
from pilot.projects.models import Project


@strawberry.type
class MinistryType:
    id: strawberry.ID
    code: str
    name: str

    @classmethod
    def from_model(cls, m: Ministry) -> MinistryType:
        return cls(id=strawberry.ID(str(m.id)), code=m.code, name=m.name)


@strawberry.type
class CountType:
    label: str
    count: int


def _counts(d: dict[str, int]) -> list[CountType]:
    return [CountType(label=k, count=v) for k, v in d.items()]


@strawberry.type
class FiguresType:
    projects: int
    interministerial: int
    total_cost_eur: float = strawberry.field(description="Sum of known costs, in euros")
    total_cost_bn: str = strawberry.field(description="Md€, 2 decimals, decimal point")
    total_cost_text: str = strawberry.field(description="French, e.g. « 2,29 Md€ »")
    mean_duration_years: str | None
    by_ministry: list[CountType]
    by_phase: list[CountType]
    by_cost_bracket: list[CountType]
    by_functional_zone: list[CountType]

    @classmethod
    def from_figures(cls, f: Figures) -> FiguresType:
        return cls(
            projects=f.projects,
            interministerial=f.interministerial,
            total_cost_eur=float(f.total_cost_eur),
            total_cost_bn=str(f.total_cost_bn),
            total_cost_text=format_mdeur(f.total_cost_eur),
            mean_duration_years=None
            if f.mean_duration_years is None
            else str(f.mean_duration_years),
            by_ministry=_counts(f.by_ministry),
            by_phase=_counts(f.by_phase),
            by_cost_bracket=_counts(f.by_cost_bracket),
            by_functional_zone=_counts(f.by_functional_zone),
        )


@strawberry.type
class ProjectType:
    id: strawberry.ID
    name: str
    ministry_code: str
    phase: str | None
    interministerial: bool
    functional_zone: str | None
    start_date: date | None
    current_cost_text: str | None

    @classmethod
    def from_model(
        cls, p: Project, ministry_code: str, cost_eur: int | None, withheld: bool
    ) -> ProjectType:
        return cls(
            id=strawberry.ID(p.pilot_id),
            name=p.name,
            ministry_code=ministry_code,
            phase=p.phase,
            interministerial=p.interministerial,
            functional_zone=p.functional_zone_label,
            start_date=p.start_date,
            current_cost_text=None if withheld else format_meur(cost_eur),
        )


@strawberry.type
class EditionType:
    number: int
    published_on: date
    title: str
    figures: FiguresType
