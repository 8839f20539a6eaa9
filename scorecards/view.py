"""What the publishers read: an edition (or the draft) as plain, picklable values.

The site, the charts, the PDF and the open data never touch the database: they are
given an :class:`EditionView`, built here from a frozen edition or from the live
portfolio (the draft). Worker processes receive these values as they are.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session

from pilot.editions import service as editions
from pilot.editions.models import Edition
from pilot.projects import confidentiality
from pilot.projects.models import format_pilot_id

DRAFT_SLUG = "brouillon"
DRAFT_TITLE = "Brouillon du prochain panorama"
PUBLICATION_DATE = "Date de publication"


@dataclass(frozen=True)
class ProjectView:
    """One row of an edition: the 15 historical columns as published (``data``) and the
    figures PILOT froze with them (``values``, decimals as strings)."""

    pilot_id: str
    data: dict[str, str]
    values: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.values.get("name") or self.data.get("Nom du projet") or self.pilot_id)

    @property
    def ministry(self) -> str:
        return str(self.values.get("ministry_code") or self.data.get("Ministère porteur") or "")

    @property
    def confidential(self) -> bool:
        return bool(self.values.get("confidential"))

    def get(self, key: str) -> Any:
        return self.values.get(key)

    def decimal(self, key: str) -> Decimal | None:
        value = self.values.get(key)
        return None if value is None else Decimal(str(value))

    def content_hash(self) -> str:
        """Changes when anything this project's scorecard or page shows changes (the
        edition's publication date, repeated on every row, is left out)."""
        data = {k: v for k, v in self.data.items() if k != PUBLICATION_DATE}
        payload = json.dumps([self.pilot_id, data, self.values], sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()


@dataclass(frozen=True)
class EditionSummary:
    number: int
    published_on: date
    title: str
    figures: dict[str, Any]

    @property
    def demo(self) -> bool:
        """The edition holds fictitious demo data (``pilot demo``)."""
        return bool(self.figures.get("demo"))


@dataclass(frozen=True)
class Moved:
    """A project that entered or left the panorama between two editions."""

    pilot_id: str
    name: str
    ministry: str
    ministry_name: str
    reason: str | None = None  # why it left, when the edition says (its last phase)


@dataclass(frozen=True)
class Movements:
    """Entrants and exits versus the previous published edition, by project identity."""

    previous: int
    entrants: list[Moved]
    exits: list[Moved]


EXIT_REASONS = {"Terminé": "projet terminé", "Abandonné": "projet abandonné"}
NO_EXIT_REASON = "raison non publiée"


def _moved(row: ProjectView, reason: str | None = None) -> Moved:
    name = str(row.values.get("ministry_name") or row.ministry)
    return Moved(row.pilot_id, row.name, row.ministry, name, reason)


def movements(previous: int, before: list[ProjectView], after: list[ProjectView]) -> Movements:
    """Who entered and who left, matched by PILOT identifier (not by name); an exit's reason
    is its last published phase when that says it ended."""
    before_ids = {r.pilot_id for r in before}
    after_ids = {r.pilot_id for r in after}
    return Movements(
        previous=previous,
        entrants=[_moved(r) for r in after if r.pilot_id not in before_ids],
        exits=[
            _moved(r, EXIT_REASONS.get(str(r.get("phase")), NO_EXIT_REASON))
            for r in before
            if r.pilot_id not in after_ids
        ],
    )


@dataclass(frozen=True)
class EditionView:
    slug: str  # folder name: the edition number, or "brouillon"
    number: int | None
    published_on: date
    title: str
    draft: bool
    figures: dict[str, Any]
    rows: list[ProjectView]
    history: list[EditionSummary] = field(default_factory=list)  # published, oldest first
    movements: Movements | None = None  # versus the previous published edition

    @property
    def demo(self) -> bool:
        """The edition holds fictitious demo data (``pilot demo``): every page says so."""
        return bool(self.figures.get("demo"))

    def summary(self) -> EditionSummary:
        return EditionSummary(self.number or 0, self.published_on, self.title, self.figures)

    def content_hash(self) -> str:
        """Changes when the data changed (not when only the date did)."""
        payload = json.dumps(
            [self.slug, self.title, self.figures, [r.content_hash() for r in self.rows]],
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(payload.encode()).hexdigest()


def public_row(pilot_id: str, data: dict[str, Any], values: dict[str, Any]) -> ProjectView:
    """A frozen row as every publisher reads it: the confidentiality rule applied (again:
    rows frozen before the rule withheld fewer values)."""
    confidential = confidentiality.is_confidential(values)
    return ProjectView(
        pilot_id=pilot_id,
        data=confidentiality.public_columns(data, confidential),
        values=confidentiality.public_values(values),
    )


def _history(session: Session, until: date | None = None) -> list[EditionSummary]:
    found = [
        EditionSummary(e.number, e.published_on, e.title, dict(e.figures))
        for e in editions.list_editions(session)
        if e.status == "published" and (until is None or e.published_on <= until)
    ]
    return sorted(found, key=lambda s: (s.published_on, s.number))


def _values_of_open_data_row(data: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Rows loaded from DINUM's files carry fewer values: fill what pages need."""
    filled = dict(values)
    filled.setdefault("ministry_name", data.get("Ministère nom complet"))
    filled.setdefault("description", data.get("Description et objectifs du projet") or None)
    filled.setdefault("link", data.get("En savoir plus sur le projet") or None)
    filled.setdefault("financing", data.get("Financement [programme(s)]") or None)
    filled.setdefault("pap_link", data.get("Lien vers les Projets Annuels de Performances") or None)
    return filled


def _public_rows(session: Session, edition: Edition) -> list[ProjectView]:
    """The edition's frozen rows as the public reads them."""
    rows = []
    for row in editions.edition_rows(session, edition):
        values = row.values
        if "pilot_id" not in values:
            values = _values_of_open_data_row(row.data, values)
        pilot_id = values.get("pilot_id") or (
            format_pilot_id(row.project_id) if row.project_id else f"L{row.position:05d}"
        )
        rows.append(public_row(pilot_id, row.data, values))
    return rows


def edition_view(session: Session, edition: Edition) -> EditionView:
    rows = _public_rows(session, edition)
    previous = editions.previous_edition(session, edition)
    return EditionView(
        slug=str(edition.number),
        number=edition.number,
        published_on=edition.published_on,
        title=edition.title,
        draft=edition.status != "published",
        figures=dict(edition.figures),
        rows=rows,
        history=_history(session, edition.published_on),
        movements=None
        if previous is None
        else movements(previous.number, _public_rows(session, previous), rows),
    )


def draft_view(session: Session, *, today: date) -> EditionView:
    """The live portfolio as the next edition would show it (nothing is written)."""
    prepared = editions.prepare_publication(session, published_on=today)
    rows = [public_row(v["pilot_id"], data, v) for _, data, v in prepared.rows]
    history = _history(session, today)
    previous = editions.get_edition(session, history[-1].number) if history else None
    return EditionView(
        slug=DRAFT_SLUG,
        number=None,
        published_on=today,
        title=DRAFT_TITLE,
        draft=True,
        figures={**prepared.figures.to_json(), **prepared.extra},
        rows=rows,
        history=history,
        movements=None
        if previous is None
        else movements(previous.number, _public_rows(session, previous), rows),
    )
