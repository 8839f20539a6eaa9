"""Editions: numbering, look-up, entrants and exits, trajectories across editions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from pilot.audit import service as audit
from pilot.coordination import PUBLICATION_LOCK, lock_for_transaction
from pilot.demo import DEMO_COMMENT
from pilot.editions.models import Edition, EditionRow
from pilot.indicators.drift import DriftMeans, drift_means, duration_years
from pilot.indicators.figures import (
    Figures,
    PortfolioRow,
    compute_figures,
    cost_bracket,
)
from pilot.indicators.health import Health
from pilot.indicators.service import ProjectStatus, project_statuses
from pilot.ministries.models import Ministry
from pilot.money import eur_to_meur, round_half_up
from pilot.opinions.service import OpinionSummary, opinion_summaries
from pilot.projects import bulk, confidentiality
from pilot.projects import service as projects_service
from pilot.projects.bulk import Stamp
from pilot.projects.forecasts import frozen_trends
from pilot.projects.models import (
    Baseline,
    Milestone,
    Project,
    Risk,
    RiskStatus,
    format_pilot_id,
)
from pilot.timeutil import MAX_YEAR, MIN_YEAR


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
    extra: dict[str, Any] | None = None,
) -> Edition:
    """Freeze an edition with its rows ``(project_id, published columns, parsed values)``.

    Without ``number`` the edition takes its place in date order among the editions
    whose number was not given explicitly. ``extra`` is frozen beside the key figures
    (drift means, health counts, entrants and exits of a publication).
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
        figures={**figures.to_json(), **(extra or {})},
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
    found = session.exec(select(Project).where(col(Project.id).in_(list(wanted))))
    changes = [
        (project, {"in_panorama": wanted[project.id or 0]})
        for project in sorted(found, key=lambda p: p.id or 0)
    ]
    done = bulk.update_rows(session, Project, changes, stamp=Stamp(actor))
    return [(pid, values["in_panorama"]) for pid, values in done]


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


# --- Publishing the current portfolio -----------------------------------------------------

# The 15 historical columns of DINUM's open data, in order (the importer reads the same).
HISTORICAL_HEADERS = [
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
]
WITHHELD = confidentiality.WITHHELD_CELL  # what DINUM printed for a figure it did not publish
PUBLISH_SOURCE = "publish"


class PublicationError(ValueError):
    """The current portfolio cannot be published (French message)."""


@dataclass(frozen=True)
class PreparedEdition:
    """What publishing now would freeze: rows ``(project_id, published columns, values)``,
    the key figures computed from the published rows, and the rest of the frozen figures."""

    published_on: date
    title: str
    figures: Figures
    extra: dict[str, Any]
    rows: list[tuple[int | None, dict[str, Any], dict[str, Any]]]


def edition_title(published_on: date) -> str:
    return f"Panorama des grands projets numériques de l'État — {published_on.strftime('%m/%Y')}"


def _dec(value: Decimal | None, places: int | None = None) -> str | None:
    if value is None:
        return None
    if places is not None:
        value = round_half_up(value, places)
    return str(value)


def _meur_text(cost_eur: int | None) -> str:
    """Integer euros → M€ as DINUM's files print it ("52.0", "12.345678"): exact."""
    if cost_eur is None:
        return WITHHELD
    text = format(eur_to_meur(cost_eur).normalize(), "f")
    return text if "." in text else text + ".0"


def prepare_publication(session: Session, *, published_on: date) -> PreparedEdition:
    """The current portfolio as the next edition would freeze it, without writing anything.

    Rows are the projects in the panorama with their latest report (as of
    ``published_on``); a confidential project keeps its identity, phase and
    description but its figures (cost, duration, drift, health, milestones, risks)
    are withheld. Key figures are computed from the rows as published, so that
    re-reading the published file gives them back.
    """
    statuses = project_statuses(session, as_of=published_on)
    if not statuses:
        raise PublicationError("Aucun projet n'est au panorama : il n'y a rien à publier.")
    ids = [s.project.id for s in statuses if s.project.id is not None]
    names = dict(session.exec(select(Ministry.code, Ministry.name)).all())
    milestones: dict[int, list[dict[str, Any]]] = {}
    for m in session.exec(
        select(Milestone)
        .where(col(Milestone.project_id).in_(ids))
        .order_by(col(Milestone.baseline_date), col(Milestone.id))
    ):
        milestones.setdefault(m.project_id, []).append(
            {
                "name": m.name,
                "baseline": _iso(m.baseline_date),
                "forecast": _iso(m.forecast_date),
                "actual": _iso(m.actual_date),
            }
        )
    risks: dict[int, list[dict[str, Any]]] = {}
    for r in session.exec(
        select(Risk)
        .where(col(Risk.project_id).in_(ids), Risk.status == RiskStatus.OUVERT.value)
        .order_by(col(Risk.id))
    ):
        risks.setdefault(r.project_id, []).append(
            {
                "title": r.title,
                "probability": r.probability,
                "impact": r.impact,
                "mitigated": bool(r.mitigation and r.mitigation.strip()),
            }
        )
    trends = frozen_trends(session, ids, published_on)
    baselines = projects_service.baselines_by_project(session, ids)
    opinions = opinion_summaries(session, ids, as_of=published_on)
    previous = _latest_published(session, published_on)
    before = {
        r.project_id for r in (edition_rows(session, previous) if previous else []) if r.project_id
    }
    rows: list[tuple[int | None, dict[str, Any], dict[str, Any]]] = []
    portfolio: list[PortfolioRow] = []
    for status in statuses:
        project = status.project
        assert project.id is not None
        values = _public_values(
            status,
            ministry_name=names.get(status.ministry_code, status.ministry_code),
            baselines=baselines.get(project.id, (None, None)),
            milestones=milestones.get(project.id, []),
            trend=trends.get(project.id, []),
            risks=risks.get(project.id, []),
            entrant=previous is not None and project.id not in before,
            opinion=opinions.get(project.id),
            confidential=confidentiality.in_force(
                project.confidential, project.confidential_until, published_on
            ),
        )
        duration = None if values["duration_years"] is None else Decimal(values["duration_years"])
        portfolio.append(
            PortfolioRow(
                ministry=status.ministry_code,
                interministerial=project.interministerial,
                phase=values["phase"],
                cost_eur=values["cost_eur"],
                duration_years=duration,
                functional_zone=values["functional_zone"],
                cost_bracket=values["cost_bracket"],
            )
        )
        columns = _historical_columns(values, published_on)
        rows.append(
            (project.id, confidentiality.public_columns(columns, values["confidential"]), values)
        )
    figures = compute_figures(portfolio)
    after = {pid for pid, _, _ in rows}
    extra = {
        "drift": _drift_json(
            drift_means(
                s.drift
                for s, (_, _, v) in zip(statuses, rows, strict=True)
                if not v["confidential"]
            )
        ),
        "health": {h.value: sum(1 for _, _, v in rows if v["health"] == h.value) for h in Health},
        "weather_rosier": sum(1 for _, _, v in rows if v["weather_rosier"]),
        "withheld": sum(1 for _, _, v in rows if v["confidential"]),
        # An edition with demo data (``pilot demo``) is fictitious: said on every page,
        # in the open data and the PDF, and never drawn in DINUM's real series.
        "demo": any(v["fictitious"] for _, _, v in rows),
        "no_health": no_health_reasons([v for _, _, v in rows]),
        "previous_edition": previous.number if previous else None,
        "entrants": [v["pilot_id"] for _, _, v in rows if v["entrant"]],
        "exits": [format_pilot_id(p) for p in sorted(before - after)] if previous else [],
    }
    return PreparedEdition(
        published_on=published_on,
        title=edition_title(published_on),
        figures=figures,
        extra=extra,
        rows=rows,
    )


NO_HEALTH_REASONS = {
    "confidential": "non communiqué (confidentiel)",
    "no_cost": "pas encore chiffré",
    "no_baseline": "référence initiale inconnue",
    "no_drift": "dérive non calculable (durée ou coût de référence manquant)",
}


def no_health_reasons(values: list[dict[str, Any]]) -> dict[str, int]:
    """How many published projects have no computed health, by reason (keys of
    ``NO_HEALTH_REASONS``), from the values an edition froze."""
    counts = dict.fromkeys(NO_HEALTH_REASONS, 0)
    for v in values:
        if v.get("health") is not None:
            continue
        if v.get("confidential"):
            counts["confidential"] += 1
        elif v.get("cost_eur") is None:
            counts["no_cost"] += 1
        elif v.get("initial_cost_eur") is None:
            counts["no_baseline"] += 1
        else:
            counts["no_drift"] += 1
    return counts


FROZEN_TABLES = ("project", "baseline", "report", "milestone", "risk", "budget_line")


def freeze_portfolio(session: Session) -> None:
    """Hold the portfolio still until the transaction ends, so that an edition never shows
    half an import. On PostgreSQL: the publication lock (an advisory lock held until the
    transaction ends, ``pilot.coordination``) makes publications from any process or host
    take turns, then a SHARE lock on the project tables waits for imports in flight to
    commit and makes new ones wait for the publication. On SQLite, write transactions are
    already serialised (``BEGIN IMMEDIATE``)."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        lock_for_transaction(session.connection(), PUBLICATION_LOCK)
        session.execute(text(f"LOCK TABLE {', '.join(FROZEN_TABLES)} IN SHARE MODE"))


def publish_current(
    session: Session,
    *,
    published_on: date,
    number: int | None = None,
    dry_run: bool = False,
    force: bool = False,
    actor: str = "publish",
) -> Edition:
    """Freeze the current portfolio as the next published edition (flushes, never commits).

    Refused, unless ``force``, when a published edition is nearer in time than
    ``PILOT_MIN_DAYS_BETWEEN_EDITIONS`` days or bears the same title (see
    ``publication_warnings``). With ``dry_run`` nothing is written: the returned edition
    is transient (not in the session), numbered as it would be, with its figures.
    """
    if number is not None and number < 1:
        raise PublicationError("Le numéro d'édition doit être un entier positif.")
    if not MIN_YEAR <= published_on.year <= MAX_YEAR:
        raise PublicationError(
            f"La date de publication {published_on.day:02d}/{published_on.month:02d}/"
            f"{published_on.year:04d} est hors de la période admise ({MIN_YEAR}–{MAX_YEAR})."
        )
    freeze_portfolio(session)
    warnings = publication_warnings(session, published_on)
    if warnings and not force:
        raise PublicationError(
            " ".join(warnings)
            + " Pour publier quand même, relancez avec l'option --force"
            + " (ou l'argument force: true de la mutation publishEdition)."
        )
    if (
        number is not None
        and session.exec(select(Edition).where(Edition.number == number)).first() is not None
    ):
        raise PublicationError(f"Le numéro d'édition {number} est déjà pris.")
    prepared = prepare_publication(session, published_on=published_on)
    if dry_run:
        return Edition(
            number=number if number is not None else _next_number(session, published_on),
            number_pinned=number is not None,
            published_on=published_on,
            title=prepared.title,
            status="draft",
            source=PUBLISH_SOURCE,
            figures={**prepared.figures.to_json(), **prepared.extra},
        )
    edition = create_edition(
        session,
        published_on=published_on,
        title=prepared.title,
        source=PUBLISH_SOURCE,
        figures=prepared.figures,
        rows=prepared.rows,
        number=number,
        extra=prepared.extra,
    )
    audit.record(
        session,
        actor=actor,
        action="publish",
        obj=edition,
        project_id=None,
        new=f"édition {edition.number} ({len(prepared.rows)} projets)",
    )
    session.flush()
    return edition


def publication_warnings(session: Session, published_on: date) -> list[str]:
    """Why publishing an edition on ``published_on`` needs to be forced (French; empty
    when it does not): a published edition less than ``PILOT_MIN_DAYS_BETWEEN_EDITIONS``
    days away, before or after; a published edition with the same title."""
    from pilot.config import get_settings

    min_days = get_settings().min_days_between_editions
    title = edition_title(published_on)
    warnings: list[str] = []
    published = published_editions(session)
    near = [e for e in published if abs((published_on - e.published_on).days) < min_days]
    if near:
        e = min(near, key=lambda e: (abs((published_on - e.published_on).days), -e.number))
        days = abs((published_on - e.published_on).days)
        when = "le même jour" if days == 0 else f"à {days} jour{'s' if days > 1 else ''} d'écart"
        warnings.append(
            f"L'édition n° {e.number} a été publiée le {e.published_on:%d/%m/%Y}, {when} : "
            f"deux éditions doivent être séparées d'au moins {min_days} jours."
        )
    same = [e.number for e in published if e.title == title]
    if same:
        numbers = ", ".join(f"n° {n}" for n in same)
        whose = "de l'édition" if len(same) == 1 else "des éditions"
        warnings.append(f"Le titre « {title} » est déjà celui {whose} {numbers}.")
    return warnings


def _next_number(session: Session, published_on: date) -> int:
    """The number an unpinned edition published on ``published_on`` would take."""
    editions = list_editions(session)
    pinned = {e.number for e in editions if e.number_pinned}
    n = 0
    for _ in [e for e in editions if not e.number_pinned and e.published_on <= published_on]:
        n += 1
        while n in pinned:
            n += 1
    n += 1
    while n in pinned:
        n += 1
    return n


def _latest_published(session: Session, on: date) -> Edition | None:
    return session.exec(
        select(Edition)
        .where(Edition.status == "published", Edition.published_on <= on)
        .order_by(col(Edition.published_on).desc(), col(Edition.number).desc())
    ).first()


def _duration(baseline: Baseline | None) -> Decimal | None:
    return None if baseline is None else duration_years(baseline.start_date, baseline.end_date)


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _drift_json(means: DriftMeans) -> dict[str, Any]:
    return {
        "budget_initial": _dec(means.budget_initial, 4),
        "budget_initial_weighted": _dec(means.budget_initial_weighted, 4),
        "schedule_initial": _dec(means.schedule_initial, 4),
        "schedule_initial_weighted": _dec(means.schedule_initial_weighted, 4),
        "budget_latest": _dec(means.budget_latest, 4),
        "budget_latest_weighted": _dec(means.budget_latest_weighted, 4),
        "schedule_latest": _dec(means.schedule_latest, 4),
        "schedule_latest_weighted": _dec(means.schedule_latest_weighted, 4),
        "projects_measured": means.projects_measured,
    }


def _public_values(
    status: ProjectStatus,
    *,
    ministry_name: str,
    baselines: tuple[Baseline | None, Baseline | None],
    milestones: list[dict[str, Any]],
    trend: list[dict[str, Any]],
    risks: list[dict[str, Any]],
    entrant: bool,
    opinion: OpinionSummary | None,
    confidential: bool,
) -> dict[str, Any]:
    """One project as an edition freezes it (JSON-ready: decimals as strings), the
    confidentiality rule applied."""
    project, report, drift = status.project, status.report, status.drift
    initial, latest = baselines
    start = project.start_date or (initial.start_date if initial else None)
    duration = status.row.duration_years
    values: dict[str, Any] = {
        "pilot_id": project.pilot_id,
        "ministry_code": status.ministry_code,
        "ministry_name": ministry_name,
        "name": project.name,
        "interministerial": project.interministerial,
        "description": project.description,
        "link": project.link,
        "start": _iso(start),
        "phase": status.row.phase,
        "functional_zone": project.functional_zone_label,
        "programmes": [int(p) for p in (project.programmes or "").split(",") if p.isdigit()],
        "financing": project.financing_label,
        "pap_link": project.pap_link,
        "confidential": confidential,
        "entrant": entrant,
        "reported_on": _iso(report.reported_on) if report else None,
        "weather": report.weather if report else None,
        "rebaselined": latest is not None and initial is not None and latest.id != initial.id,
        # Figures (withheld by the confidentiality rule for a confidential project)
        "cost_eur": status.row.cost_eur,
        "end": _iso(report.forecast_end) if report else None,
        "duration_years": _dec(duration, 1),
        "initial_cost_eur": initial.cost_eur if initial else None,
        "latest_cost_eur": latest.cost_eur if latest else None,
        "initial_start": _iso(initial.start_date) if initial else None,
        "initial_end": _iso(initial.end_date) if initial else None,
        "latest_end": _iso(latest.end_date) if latest else None,
        "initial_duration_years": _dec(_duration(initial), 1),
        "latest_duration_years": _dec(_duration(latest), 1),
        "budget_drift_initial": _dec(drift.budget_initial, 4),
        "schedule_drift_initial": _dec(drift.schedule_initial, 4),
        "budget_drift_latest": _dec(drift.budget_latest, 4),
        "schedule_drift_latest": _dec(drift.schedule_latest, 4),
        "health": status.health.value if status.health else None,
        "weather_rosier": status.weather_rosier,
        # Follow-up invented by ``pilot demo`` (its reports say so in their comment)
        "fictitious": report is not None and report.comment == DEMO_COMMENT,
        "milestones": milestones,
        # the milestone trend (forecast at each report up to the publication), frozen
        "milestone_trend": trend,
        "risks": risks,
        # DINUM's latest opinion: its date, its sense and the open recommendations (the
        # content of an opinion stays internal; docs/opinions.md)
        "opinion": None
        if opinion is None
        else {
            "given_on": _iso(opinion.given_on),
            "sense": opinion.sense,
            "open_recommendations": opinion.open_recommendations,
        },
    }
    values["cost_bracket"] = cost_bracket(values["cost_eur"], values["phase"])
    return confidentiality.public_values(values)


def _historical_columns(values: dict[str, Any], published_on: date) -> dict[str, str]:
    """The 15 columns DINUM published, as text (ISO dates, M€ with a decimal point)."""
    cells = [
        values["ministry_code"],
        values["ministry_name"],
        values["name"],
        "Oui" if values["interministerial"] else "Non",
        values["description"] or "",
        values["link"] or "",
        values["start"] or "",
        values["duration_years"] or WITHHELD,
        values["phase"] or "",
        _meur_text(values["cost_eur"]),
        values["cost_bracket"],
        values["functional_zone"] or "",
        values["financing"] or "",
        values["pap_link"] or "",
        published_on.isoformat(),
    ]
    return dict(zip(HISTORICAL_HEADERS, cells, strict=True))


def published_editions(session: Session) -> list[Edition]:
    return list(
        session.exec(
            select(Edition).where(Edition.status == "published").order_by(col(Edition.number))
        )
    )
