"""Editions: numbering, look-up, entrants and exits, trajectories across editions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from pilot.audit import service as audit
from pilot.editions.models import Edition, EditionRow
from pilot.indicators.figures import (
    BRACKET_UNKNOWN,
    Figures,
    PortfolioRow,
    compute_figures,
    cost_bracket,
)
from pilot.indicators.service import project_statuses
from pilot.ministries.models import Ministry
from pilot.money import MILLION, round_half_up
from pilot.projects.models import Project


class EditionNotFound(LookupError):
    pass


def list_editions(session: Session) -> list[Edition]:
    return list(session.exec(select(Edition).order_by(col(Edition.number))))


def get_edition(session: Session, number: int | str) -> Edition:
    """Edition ``number``, or the latest published one for ``"latest"``."""
    if number == "latest":
        edition = session.exec(
            select(Edition)
            .where(Edition.status == "published")
            .order_by(col(Edition.published_on).desc(), col(Edition.number).desc())
        ).first()
    else:
        edition = session.exec(select(Edition).where(Edition.number == int(number))).first()
    if edition is None:
        raise EditionNotFound(f"Aucune édition « {number} ».")
    return edition


def create_edition(
    session: Session,
    *,
    published_on: date,
    title: str,
    source: str,
    figures: Figures,
    rows: list[tuple[int | None, dict[str, Any], dict[str, Any]]],
    number: int | None = None,
    source_filename: str | None = None,
    source_sha256: str | None = None,
    status: str = "published",
) -> Edition:
    """Freeze an edition with its rows ``(project_id, published columns, parsed values)``.

    Without ``number`` the edition takes its place in date order among the editions
    whose number was not given explicitly.
    """
    if (
        number is not None
        and session.exec(select(Edition).where(Edition.number == number)).first() is not None
    ):
        raise ValueError(f"Le numéro d'édition {number} est déjà pris.")
    edition = Edition(
        number=number if number is not None else _temporary_number(session),
        number_pinned=number is not None,
        published_on=published_on,
        title=title,
        status=status,
        source=source,
        source_filename=source_filename,
        source_sha256=source_sha256,
        figures=figures.to_json(),
    )
    session.add(edition)
    session.flush()
    assert edition.id is not None
    for position, (project_id, data, values) in enumerate(rows, start=1):
        session.add(
            EditionRow(
                edition_id=edition.id,
                project_id=project_id,
                position=position,
                data=data,
                values=values,
            )
        )
    session.flush()
    renumber(session)
    return edition


def _temporary_number(session: Session) -> int:
    highest = session.exec(select(Edition.number).order_by(col(Edition.number).desc())).first()
    return max(highest or 0, 0) + 1_000_000


def renumber(session: Session) -> None:
    """Number unpinned editions 1, 2, … by date, skipping numbers pinned explicitly."""
    editions = list_editions(session)
    pinned = {e.number for e in editions if e.number_pinned}
    unpinned = sorted(
        (e for e in editions if not e.number_pinned), key=lambda e: (e.published_on, e.id or 0)
    )
    # Move out of the way first, so the unique constraint holds at every flush.
    for e in unpinned:
        e.number = -(e.id or 0)
    session.flush()
    n = 0
    for e in unpinned:
        n += 1
        while n in pinned:
            n += 1
        e.number = n
    session.flush()


def edition_rows(session: Session, edition: Edition) -> list[EditionRow]:
    return list(
        session.exec(
            select(EditionRow)
            .where(EditionRow.edition_id == edition.id)
            .order_by(col(EditionRow.position))
        )
    )


def edition_figures(edition: Edition) -> Figures:
    return Figures.from_json(edition.figures)


def previous_edition(session: Session, edition: Edition) -> Edition | None:
    return session.exec(
        select(Edition)
        .where(
            Edition.status == "published",
            Edition.id != edition.id,
            Edition.published_on <= edition.published_on,
            Edition.number < edition.number,
        )
        .order_by(col(Edition.published_on).desc(), col(Edition.number).desc())
    ).first()


@dataclass(frozen=True)
class EditionDiff:
    base: Edition | None
    target: Edition
    entrants: list[int]  # project ids
    exits: list[int]
    kept: list[int]


def diff(session: Session, base: Edition | None, target: Edition) -> EditionDiff:
    """Entrants and exits between two editions, matched by project identity."""

    def ids(e: Edition | None) -> list[int]:
        if e is None:
            return []
        return [r.project_id for r in edition_rows(session, e) if r.project_id is not None]

    before, after = ids(base), ids(target)
    before_set, after_set = set(before), set(after)
    return EditionDiff(
        base=base,
        target=target,
        entrants=[p for p in after if p not in before_set],
        exits=[p for p in before if p not in after_set],
        kept=[p for p in after if p in before_set],
    )


@dataclass(frozen=True)
class TrajectoryPoint:
    edition_number: int
    published_on: date
    cost_eur: int | None
    duration_years: Decimal | None
    phase: str | None


def trajectory(session: Session, project_id: int) -> list[TrajectoryPoint]:
    """A project's cost and duration in each edition it appears in."""
    return trajectories(session, [project_id]).get(project_id, [])


def trajectories(session: Session, project_ids: Iterable[int]) -> dict[int, list[TrajectoryPoint]]:
    """The trajectory of each project across published editions, in one statement."""
    rows = session.exec(
        select(EditionRow, Edition)
        .join(Edition)
        .where(col(EditionRow.project_id).in_(list(project_ids)), Edition.status == "published")
        .order_by(col(Edition.published_on), col(Edition.number))
    )
    points: dict[int, list[TrajectoryPoint]] = {}
    for row, edition in rows:
        v = row.values
        assert row.project_id is not None
        points.setdefault(row.project_id, []).append(
            TrajectoryPoint(
                edition_number=edition.number,
                published_on=edition.published_on,
                cost_eur=v.get("cost_eur"),
                duration_years=None
                if v.get("duration_years") is None
                else Decimal(v["duration_years"]),
                phase=v.get("phase"),
            )
        )
    return points


# --- Who is in the panorama --------------------------------------------------------------


def set_in_panorama(
    session: Session, wanted: dict[int, bool], *, actor: str
) -> list[tuple[int, bool]]:
    """Set ``in_panorama`` of the given projects (one audit event per real change);
    returns ``(project id, new value)`` for the projects that changed."""
    if not wanted:
        return []
    changed: list[tuple[int, bool]] = []
    found = session.exec(select(Project).where(col(Project.id).in_(list(wanted))))
    for project in sorted(found, key=lambda p: p.id or 0):
        assert project.id is not None
        value = wanted[project.id]
        if audit.record_changes(
            session, actor=actor, obj=project, project_id=project.id, changes={"in_panorama": value}
        ):
            changed.append((project.id, value))
    session.flush()
    return changed


def sync_in_panorama(session: Session, *, actor: str) -> list[tuple[int, bool]]:
    """The projects of the latest published edition (by date) are in the panorama; the
    projects that appeared in an open-data edition but not in it are not. Projects that
    were never in an edition (declared by workbook only) are left as they are."""
    try:
        latest = get_edition(session, "latest")
    except EditionNotFound:
        return []
    present = {r.project_id for r in edition_rows(session, latest) if r.project_id is not None}
    published = session.exec(
        select(EditionRow.project_id)
        .join(Edition)
        .where(Edition.source == "open-data", col(EditionRow.project_id).is_not(None))
        .distinct()
    ).all()
    wanted = {pid: pid in present for pid in published if pid is not None}
    wanted.update(dict.fromkeys(present, True))
    return set_in_panorama(session, wanted, actor=actor)


# --- Publishing the live portfolio -------------------------------------------------------

# The historical open-data columns, in DINUM's order (the same headers the panorama
# files carry), so that a published edition reads like the open-data ones.
PUBLISHED_HEADERS = (
    "Ministère porteur",
    "Ministère nom complet",
    "Nom du projet",
    "Projet interministériel",
    "Description et objectifs du projet",
    "En savoir plus sur le projet",
    "Début",
    "Durée prévisionnelle en année",
    "Phase du projet en cours",
    "Coût estimé",
    "Coût estimé par tranche",
    "Zone fonctionnelle",
    "Financement [programme(s)]",
    "Lien vers les Projets Annuels de Performances",
    "Date de publication",
)
WITHHELD = "Non communiqué"


def publish_current(
    session: Session,
    *,
    published_on: date,
    number: int | None = None,
    title: str | None = None,
    actor: str = "publish",
) -> Edition:
    """Freeze the live portfolio (projects in the panorama, figures as of
    ``published_on``) as a new published edition, and audit it.

    A confidential project appears with its figures withheld ("Non communiqué"): they
    stay withheld in the edition for ever, and the key figures leave them out.
    """
    statuses = project_statuses(session, as_of=published_on)
    names = dict(session.exec(select(Ministry.code, Ministry.name)).all())
    rows: list[tuple[int | None, dict[str, Any], dict[str, Any]]] = []
    figure_rows: list[PortfolioRow] = []
    for s in statuses:
        p = s.project
        withheld = p.confidential
        cost = None if withheld else s.row.cost_eur
        duration = None if withheld else s.row.duration_years
        bracket = BRACKET_UNKNOWN if withheld else None
        row = PortfolioRow(
            ministry=s.ministry_code,
            interministerial=p.interministerial,
            phase=s.row.phase,
            cost_eur=cost,
            duration_years=duration,
            functional_zone=p.functional_zone_label,
            cost_bracket=bracket,
        )
        figure_rows.append(row)
        bracket = bracket or cost_bracket(cost, row.phase)
        start = None if withheld else p.start_date
        data = dict.fromkeys(PUBLISHED_HEADERS, "")
        data.update(
            {
                "Ministère porteur": s.ministry_code,
                "Ministère nom complet": names.get(s.ministry_code, ""),
                "Nom du projet": p.name,
                "Projet interministériel": "Oui" if p.interministerial else "Non",
                "Description et objectifs du projet": p.description or "",
                "En savoir plus sur le projet": p.link or "",
                "Début": start.isoformat() if start else "",
                "Durée prévisionnelle en année": (WITHHELD if withheld else _plain(duration, 1)),
                "Phase du projet en cours": row.phase or "",
                "Coût estimé": (
                    WITHHELD
                    if withheld
                    else _plain(None if cost is None else Decimal(cost) / MILLION, 2)
                ),
                "Coût estimé par tranche": bracket,
                "Zone fonctionnelle": p.functional_zone_label or "",
                "Financement [programme(s)]": p.financing_label or "",
                "Lien vers les Projets Annuels de Performances": p.pap_link or "",
                "Date de publication": published_on.isoformat(),
            }
        )
        values = {
            "ministry_code": s.ministry_code,
            "name": p.name,
            "interministerial": p.interministerial,
            "start": start.isoformat() if start else None,
            "duration_years": None if duration is None else str(duration),
            "phase": row.phase,
            "cost_eur": cost,
            "cost_bracket": bracket,
            "functional_zone": p.functional_zone_label,
            "programmes": [int(x) for x in (p.programmes or "").split(",") if x.strip()],
            "withheld": withheld,
        }
        rows.append((p.id, data, values))
    edition = create_edition(
        session,
        published_on=published_on,
        title=title or f"Panorama des grands projets numériques de l'État — {published_on:%m/%Y}",
        source="publish",
        figures=compute_figures(figure_rows),
        rows=rows,
        number=number,
    )
    audit.record(
        session,
        actor=actor,
        action="publish",
        obj=edition,
        project_id=None,
        new=f"édition {edition.number} ({len(rows)} projets)",
    )
    session.flush()
    return edition


def _plain(value: Decimal | None, places: int) -> str:
    return "" if value is None else str(round_half_up(value, places))


def published_editions(session: Session) -> list[Edition]:
    return list(
        session.exec(
            select(Edition).where(Edition.status == "published").order_by(col(Edition.number))
        )
    )
