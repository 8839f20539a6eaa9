"""``portfolio(edition | asOf)``: key figures, distributions, drift means, health counts."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import ctx
from pilot.api.graphql.errors import BadUserInput, NotFound
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.selection import selected
from pilot.api.graphql.types import FiguresType, ratio
from pilot.auth.models import Role
from pilot.editions import service as editions
from pilot.indicators.aggregates import Parts, live_portfolio
from pilot.indicators.drift import DriftMeans


@strawberry.type(
    name="DriftMeans", description=permissions.public("Drift means (null in an edition)")
)
class DriftMeansType:
    """Portfolio means of drift (0.1 = +10 %): plain (each project once) and cost-weighted
    (weighted budget mean = Σcurrent / Σbaseline − 1), against the initial baseline and
    since the latest one."""

    budget_initial: float | None
    budget_initial_weighted: float | None
    schedule_initial: float | None
    schedule_initial_weighted: float | None
    budget_latest: float | None
    budget_latest_weighted: float | None
    schedule_latest: float | None
    schedule_latest_weighted: float | None
    projects_measured: int

    @classmethod
    def from_means(cls, d: DriftMeans) -> DriftMeansType:
        return cls(
            budget_initial=ratio(d.budget_initial),
            budget_initial_weighted=ratio(d.budget_initial_weighted),
            schedule_initial=ratio(d.schedule_initial),
            schedule_initial_weighted=ratio(d.schedule_initial_weighted),
            budget_latest=ratio(d.budget_latest),
            budget_latest_weighted=ratio(d.budget_latest_weighted),
            schedule_latest=ratio(d.schedule_latest),
            schedule_latest_weighted=ratio(d.schedule_latest_weighted),
            projects_measured=d.projects_measured,
        )


@strawberry.type(
    name="HealthCounts", description=permissions.public("Health counts (null in an edition)")
)
class HealthCountsType:
    red: int
    amber: int
    green: int
    unknown: int
    weather_rosier: int = strawberry.field(
        description="Projects whose declared météo is rosier than their computed health"
    )


@strawberry.type(
    name="Portfolio",
    description=permissions.public("Key figures: a published edition's, or live (token)"),
)
class PortfolioType:
    source: str = strawberry.field(description="« edition » (published) or « live »")
    edition_number: int | None
    as_of: date
    figures: FiguresType
    drift: DriftMeansType | None = strawberry.field(
        description="Live portfolio only (editions carry no baselines)"
    )
    health: HealthCountsType | None


@strawberry.type
class PortfolioQuery:
    @strawberry.field(
        description=permissions.public(
            "Key figures of a published edition (the latest by default), or of the "
            "live portfolio as of a date (`asOf`, needs a token; a ministry sees its own)."
        )
    )
    def portfolio(
        self, info: Info, edition: int | None = None, as_of: date | None = None
    ) -> PortfolioType:
        c = ctx(info)
        if edition is not None and as_of is not None:
            raise BadUserInput("Indiquez soit une édition, soit une date (asOf), pas les deux.")
        if as_of is None:
            try:
                found = editions.get_edition(
                    c.session, edition if edition is not None else "latest"
                )
            except editions.EditionNotFound as error:
                raise NotFound(str(error)) from error
            if found.status != "published":
                raise NotFound(f"Aucune édition « {edition} ».")
            return PortfolioType(
                source="edition",
                edition_number=found.number,
                as_of=found.published_on,
                figures=FiguresType.from_figures(editions.edition_figures(found)),
                drift=None,
                health=None,
            )
        permissions.require(c.principal, Action.READ_LIVE_PORTFOLIO)
        ministry_id = c.principal.ministry_id if c.principal.role == Role.MINISTRY else None
        live = live_portfolio(c.session, as_of=as_of, ministry_id=ministry_id, parts=_parts(info))
        h = live.health
        return PortfolioType(
            source="live",
            edition_number=None,
            as_of=as_of,
            figures=FiguresType.from_figures(live.figures, live.costs),
            drift=None if live.drift is None else DriftMeansType.from_means(live.drift),
            health=None
            if h is None
            else HealthCountsType(
                red=h.red,
                amber=h.amber,
                green=h.green,
                unknown=live.figures.projects - h.red - h.amber - h.green,
                weather_rosier=h.weather_rosier,
            ),
        )


# The ``Figures`` field of each distribution, and the fields read from the baselines.
_DISTRIBUTIONS = {
    "byMinistry": "ministry",
    "byPhase": "phase",
    "byCostBracket": "cost_bracket",
    "byFunctionalZone": "functional_zone",
}


def _parts(info: Info) -> Parts:
    """The parts of the live portfolio the request selects (``info.selected_fields``):
    its distributions, and the baselines for the drift, the health counts or the mean
    duration."""
    fields = [f for root in info.selected_fields for f in selected(root.selections)]
    names = {f.name for f in fields}
    figures = {g.name for f in fields if f.name == "figures" for g in selected(f.selections)}
    return Parts(
        distributions=frozenset(d for name, d in _DISTRIBUTIONS.items() if name in figures),
        baselines="drift" in names or "health" in names or "meanDurationYears" in figures,
    )
