"""Published editions: frozen figures and rows, entrants and exits, differences between
two editions, trends, and publishing a new one. Everything here reads only published,
immutable data, so responses are cached (see ``cache.py``)."""

from __future__ import annotations

from datetime import date

import strawberry
from strawberry.types import Info

from pilot.api.graphql import permissions
from pilot.api.graphql.context import Context, ctx
from pilot.api.graphql.errors import NotFound, user_input
from pilot.api.graphql.permissions import Action
from pilot.api.graphql.types import Euros, FiguresType
from pilot.editions import service as editions
from pilot.editions.models import Edition, EditionRow
from pilot.money import format_meur
from pilot.projects import confidentiality
from pilot.projects.models import format_pilot_id


@strawberry.type(
    name="EditionProject",
    description=permissions.public(
        "A project as an edition published it (frozen; a confidential project's figures withheld)"
    ),
)
class EditionProjectType:
    """A project as an edition published it (frozen: it never changes)."""

    position: int
    project_id: strawberry.ID | None = strawberry.field(description="PILOT identifier")
    name: str
    ministry_code: str | None
    interministerial: bool
    phase: str | None
    start_date: date | None
    duration_years: str | None
    cost_eur: Euros | None
    cost_text: str | None
    cost_bracket: str | None
    functional_zone: str | None
    withheld: bool = strawberry.field(description="Figures withheld (confidential project)")

    @classmethod
    def from_row(cls, r: EditionRow) -> EditionProjectType:
        v = confidentiality.public_values(r.values)
        cost = v.get("cost_eur")
        return cls(
            position=r.position,
            project_id=strawberry.ID(format_pilot_id(r.project_id)) if r.project_id else None,
            name=v.get("name") or "",
            ministry_code=v.get("ministry_code"),
            interministerial=bool(v.get("interministerial")),
            phase=v.get("phase"),
            start_date=date.fromisoformat(v["start"]) if v.get("start") else None,
            duration_years=v.get("duration_years"),
            cost_eur=cost,
            cost_text=None if cost is None else format_meur(cost),
            cost_bracket=v.get("cost_bracket"),
            functional_zone=v.get("functional_zone"),
            withheld=bool(v.get("confidential", False)),
        )


@strawberry.type(
    name="EditionChange",
    description=permissions.public("A project whose published cost or phase changed"),
)
class EditionChangeType:
    project_id: strawberry.ID
    name: str
    cost_before: Euros | None
    cost_after: Euros | None
    phase_before: str | None
    phase_after: str | None


async def _rows(c: Context, edition: Edition | None) -> list[EditionRow]:
    if edition is None or edition.id is None:
        return []
    return await c.loaders.edition_rows.load(edition.id)


def _previous(c: Context, edition: Edition) -> Edition | None:
    earlier = [
        e
        for e in c.loaders.published_editions()
        if e.number < edition.number and e.published_on <= edition.published_on
    ]
    return max(earlier, key=lambda e: (e.published_on, e.number), default=None)


@strawberry.type(
    name="EditionDiff",
    description=permissions.public("Entrants, exits and changes between two editions"),
)
class EditionDiffType:
    edition: strawberry.Private[Edition]
    base_edition: strawberry.Private[Edition | None]

    @strawberry.field
    def base(self) -> int | None:
        return None if self.base_edition is None else self.base_edition.number

    @strawberry.field
    def target(self) -> int:
        return self.edition.number

    async def _split(
        self, info: Info
    ) -> tuple[list[EditionRow], list[EditionRow], list[tuple[EditionRow, EditionRow]]]:
        c = ctx(info)
        before = {r.project_id: r for r in await _rows(c, self.base_edition) if r.project_id}
        after = await _rows(c, self.edition)
        after_ids = {r.project_id for r in after if r.project_id}
        entrants = [r for r in after if r.project_id and r.project_id not in before]
        exits = [r for r in before.values() if r.project_id not in after_ids]
        kept = [(before[r.project_id], r) for r in after if r.project_id in before]
        return entrants, exits, kept

    @strawberry.field(description="Projects in the target edition and not in the base one")
    async def entrants(self, info: Info) -> list[EditionProjectType]:
        return [EditionProjectType.from_row(r) for r in (await self._split(info))[0]]

    @strawberry.field(description="Projects of the base edition that left the target one")
    async def exits(self, info: Info) -> list[EditionProjectType]:
        return [EditionProjectType.from_row(r) for r in (await self._split(info))[1]]

    @strawberry.field(description="Projects in both editions")
    async def kept(self, info: Info) -> int:
        return len((await self._split(info))[2])

    @strawberry.field(description="Projects in both whose published cost or phase changed")
    async def changed(self, info: Info) -> list[EditionChangeType]:
        out = []
        for old, new in (await self._split(info))[2]:
            a = confidentiality.public_values(old.values)
            b = confidentiality.public_values(new.values)
            if a.get("cost_eur") != b.get("cost_eur") or a.get("phase") != b.get("phase"):
                assert new.project_id is not None
                out.append(
                    EditionChangeType(
                        project_id=strawberry.ID(format_pilot_id(new.project_id)),
                        name=b.get("name") or "",
                        cost_before=a.get("cost_eur"),
                        cost_after=b.get("cost_eur"),
                        phase_before=a.get("phase"),
                        phase_after=b.get("phase"),
                    )
                )
        return out


@strawberry.type(name="Edition", description=permissions.public("A published edition (frozen)"))
class EditionType:
    edition: strawberry.Private[Edition]

    @strawberry.field
    def number(self) -> int:
        return self.edition.number

    @strawberry.field
    def published_on(self) -> date:
        return self.edition.published_on

    @strawberry.field
    def title(self) -> str:
        return self.edition.title

    @strawberry.field(description="« open-data » (loaded from DINUM's files) or « publish »")
    def source(self) -> str:
        return self.edition.source

    @strawberry.field
    def figures(self) -> FiguresType:
        return FiguresType.from_figures(editions.edition_figures(self.edition))

    @strawberry.field(description="The projects as published, in their published order")
    async def projects(self, info: Info) -> list[EditionProjectType]:
        return [EditionProjectType.from_row(r) for r in await _rows(ctx(info), self.edition)]

    @strawberry.field(description="Entrants and exits versus the previous published edition")
    def changes(self, info: Info) -> EditionDiffType:
        return EditionDiffType(
            edition=self.edition, base_edition=_previous(ctx(info), self.edition)
        )


@strawberry.type(name="TrendPoint", description=permissions.public("An edition's key figures"))
class TrendPointType:
    edition_number: int
    published_on: date
    figures: FiguresType


def _published(c: Context, number: int) -> Edition:
    for e in c.loaders.published_editions():
        if e.number == number:
            return e
    raise NotFound(f"Aucune édition publiée « {number} ».")


@strawberry.type
class EditionQuery:
    @strawberry.field(description=permissions.public("Published editions, oldest first."))
    def editions(self, info: Info) -> list[EditionType]:
        return [EditionType(edition=e) for e in ctx(info).loaders.published_editions()]

    @strawberry.field(
        description=permissions.public("A published edition by number (the latest without one).")
    )
    def edition(self, info: Info, number: int | None = None) -> EditionType:
        c = ctx(info)
        if number is None:
            published = c.loaders.published_editions()
            if not published:
                raise NotFound("Aucune édition publiée.")
            return EditionType(edition=max(published, key=lambda e: (e.published_on, e.number)))
        return EditionType(edition=_published(c, number))

    @strawberry.field(
        description=permissions.public(
            "Entrants, exits and changes from edition `base` to `target`."
        )
    )
    def edition_diff(self, info: Info, base: int, target: int) -> EditionDiffType:
        c = ctx(info)
        return EditionDiffType(edition=_published(c, target), base_edition=_published(c, base))

    @strawberry.field(
        description=permissions.public("Key figures of every published edition, oldest first.")
    )
    def trends(self, info: Info) -> list[TrendPointType]:
        return [
            TrendPointType(
                edition_number=e.number,
                published_on=e.published_on,
                figures=FiguresType.from_figures(editions.edition_figures(e)),
            )
            for e in ctx(info).loaders.published_editions()
        ]


@strawberry.type
class EditionMutation:
    @strawberry.mutation(
        description="Freeze the live portfolio as a new published edition (DINUM), then write "
        "its site, PDF and open data (the same path as `pilot publish`). Confidential "
        "projects' figures stay withheld in it. Refused when another edition is nearer than "
        "PILOT_MIN_DAYS_BETWEEN_EDITIONS days or has the same title, unless `force`."
    )
    def publish_edition(
        self,
        info: Info,
        published_on: date | None = None,
        number: int | None = None,
        force: bool = False,
    ) -> EditionType:
        from scorecards import publish as publisher

        c = ctx(info)
        permissions.require(c.principal, Action.PUBLISH_EDITION)
        c.session.rollback()  # end the read snapshot: the edition is read after its commit
        with user_input():
            publication = publisher.publish_edition(
                c.session.get_bind(),  # type: ignore[arg-type]
                c.settings.site_path,
                published_on=published_on or c.today,
                number=number,
                force=force,
                actor=c.principal.actor,
            )
        c.session.rollback()
        return EditionType(edition=editions.get_edition(c.session, publication.number))
