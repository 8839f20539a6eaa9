"""DINUM's space, ``/pilotage/``: the portfolio and its alerts (the alerts recorded on
``/pilotage/alertes``), every project's page (its
history across reports and editions, its audit trail), confidentiality, and publishing an
edition (a preview, then a confirmation). Open to DINUM and admin accounts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from pilot.alerts import service as alerts
from pilot.api.deps import SessionDep
from pilot.config import get_settings
from pilot.db import session_scope
from pilot.editions import service as editions
from pilot.indicators import service as indicators
from pilot.indicators.early_warning import early_warning_scores
from pilot.ministries.models import Ministry
from pilot.projects import confidentiality
from pilot.projects.models import Project, format_pilot_id, parse_pilot_id
from pilot.timeutil import today
from pilot.web import data
from pilot.web.pages import render
from pilot.web.session import CsrfChecked, DinumUser, PageError

router = APIRouter(prefix="/pilotage", include_in_schema=False)


def _project(session: Session, pilot_id: str) -> Project:
    key = parse_pilot_id(pilot_id)
    project = session.get(Project, key) if key is not None else None
    if project is None:
        raise PageError(404, "Projet introuvable", f"Aucun projet n'a l'identifiant {pilot_id}.")
    return project


EARLY_WARNING_SORT = "alerte-precoce"


@router.get("/", response_class=HTMLResponse)
def portfolio(
    request: Request,
    session: SessionDep,
    user: DinumUser,
    ministere: str | None = None,
    tri: str | None = None,
) -> Response:
    settings = get_settings()
    on = today()
    lines = data.project_lines(session, ministry_id=None, today=on)
    shown = [line for line in lines if not ministere or line.status.ministry_code == ministere]
    scores = early_warning_scores(session, [p for p in (s.status.project.id for s in shown) if p])
    by_score = tri == EARLY_WARNING_SORT
    if by_score:  # highest score first; the order by ministry and name breaks ties (stable)
        shown.sort(key=lambda line: -scores.get(line.status.project.id or 0, 0))
    return render(
        request,
        "dinum/portfolio.html.j2",
        user=user,
        lines=shown,
        ministries=sorted({line.status.ministry_code for line in lines}),
        chosen=ministere,
        scores=scores,
        by_score=by_score,
        figures=indicators.portfolio_of([line.status for line in lines]),
        alerts=data.alerts(session, lines, today=on, period_days=settings.reporting_period_days),
        period_days=settings.reporting_period_days,
    )


@router.get("/projets/{pilot_id}", response_class=HTMLResponse)
def project(request: Request, pilot_id: str, session: SessionDep, user: DinumUser) -> Response:
    found = _project(session, pilot_id)
    return render(
        request,
        "project.html.j2",
        user=user,
        page=data.project_page(session, found, today=today(), with_audit=True),
        dinum=True,
        message=request.query_params.get("fait"),
    )


@router.get("/campagne", response_class=HTMLResponse)
def campaign(request: Request, session: SessionDep, user: DinumUser) -> Response:
    """The open campaign: its deadline and each concerned ministry's status."""
    return render(
        request,
        "dinum/campaign.html.j2",
        user=user,
        campaign=data.open_campaign(session, today=today()),
    )


ALERTS_PER_PAGE = 50


@router.get("/alertes", response_class=HTMLResponse)
def recorded_alerts(
    request: Request,
    session: SessionDep,
    user: DinumUser,
    type: str | None = None,
    projet: str | None = None,
    page: int = 1,
) -> Response:
    """The alerts recorded (each event once, as e-mailed to DINUM's subscribers and sent
    to the webhooks), newest first, by kind and project, 50 a page."""
    kind = type if type in alerts.alert_kinds() else None
    wanted = (projet or "").strip()[:20]
    project_id = parse_pilot_id(wanted) if wanted else None
    unknown = bool(wanted) and (project_id is None or session.get(Project, project_id) is None)
    page = max(1, min(page, 10_000))
    found = (
        alerts.AlertPage(alerts=[], total=0, more=False)
        if unknown
        else alerts.list_alerts(
            session,
            kind=kind,
            project_id=project_id,
            offset=(page - 1) * ALERTS_PER_PAGE,
            limit=ALERTS_PER_PAGE,
        )
    )
    ids = {a.project_id for a in found.alerts}
    projects = {
        p.id: (p, code)
        for p, code in session.exec(
            select(Project, Ministry.code).join(Ministry).where(col(Project.id).in_(ids))
        )
    }
    return render(
        request,
        "dinum/alerts.html.j2",
        user=user,
        found=found,
        projects=projects,
        labels=alerts.KIND_LABELS,
        kind=kind,
        wanted=wanted,
        unknown=unknown,
        page=page,
        pages=max(1, -(-found.total // ALERTS_PER_PAGE)),
    )


@router.post("/projets/{pilot_id}/confidentialite", dependencies=[CsrfChecked])
def decide_confidentiality(
    pilot_id: str,
    user: DinumUser,
    confidentiel: Annotated[str, Form()] = "",
    motif: Annotated[str, Form()] = "",
) -> Response:
    wanted = confidentiel == "oui"
    with session_scope(write=True) as session:
        found = _project(session, pilot_id)
        try:
            if wanted:
                confidentiality.mark_confidential(
                    session, found, reason=motif, until=None, actor=user.email, today=today()
                )
            else:
                confidentiality.lift_confidentiality(session, found, actor=user.email)
        except confidentiality.ConfidentialityError as error:
            raise PageError(400, "Motif manquant", str(error)) from error
    done = "confidentiel" if wanted else "public"
    return RedirectResponse(f"/pilotage/projets/{pilot_id}?fait={done}", status_code=303)


@dataclass(frozen=True)
class Named:
    pilot_id: str
    ministry_code: str
    name: str


@dataclass(frozen=True)
class Preview:
    number: int
    published_on: date
    title: str
    figures: dict[str, Any]
    previous: int | None
    entrants: list[Named]
    exits: list[Named]
    withheld: list[Named]


def _named(session: Session, pilot_ids: list[str]) -> list[Named]:
    keys = [k for k in (parse_pilot_id(p) for p in pilot_ids) if k is not None]
    if not keys:
        return []
    rows = session.exec(
        select(Project, Ministry.code)
        .join(Ministry, col(Ministry.id) == col(Project.ministry_id))
        .where(col(Project.id).in_(keys))
    )
    found = [Named(p.pilot_id, code, p.name) for p, code in rows]
    return sorted(found, key=lambda n: (n.ministry_code, n.name.lower()))


def preview(session: Session, on: date) -> Preview:
    """What publishing now would freeze, read in a transaction that writes nothing."""
    edition = editions.publish_current(session, published_on=on, dry_run=True)
    figures = dict(edition.figures)
    confidential = session.exec(
        select(Project.id).where(
            Project.in_panorama == True,  # noqa: E712
            Project.confidential == True,  # noqa: E712
        )
    ).all()
    return Preview(
        number=edition.number,
        published_on=on,
        title=edition.title,
        figures=figures,
        previous=figures.get("previous_edition"),
        entrants=_named(session, list(figures.get("entrants", []))),
        exits=_named(session, list(figures.get("exits", []))),
        withheld=_named(session, [format_pilot_id(i) for i in confidential if i is not None]),
    )


@router.get("/publication", response_class=HTMLResponse)
def publication(request: Request, session: SessionDep, user: DinumUser) -> Response:
    try:
        found = preview(session, today())
    except editions.PublicationError as error:
        raise PageError(409, "Rien à publier", str(error)) from error
    return render(request, "dinum/publication.html.j2", user=user, preview=found)


def _publish(on: date, expected: int, actor: str) -> int:
    """The one publication path (``scorecards.publish.publish_edition``: freeze, commit,
    then write the site outside the write transaction), for the edition the preview
    announced: if another was published meanwhile, the number is taken and it refuses."""
    from scorecards import publish as publisher

    with session_scope() as session:
        upcoming = editions.publish_current(session, published_on=on, dry_run=True)
    if upcoming.number != expected:
        raise PageError(
            409,
            "Aperçu dépassé",
            f"Une autre édition a été publiée entre-temps : l'aperçu annonçait l'édition "
            f"n° {expected}, ce serait la n° {upcoming.number}. Relisez l'aperçu.",
        )
    publication = publisher.publish_edition(
        None, get_settings().site_path, published_on=on, number=expected, actor=actor
    )
    return publication.number


@router.post("/publication", dependencies=[CsrfChecked])
async def publish(
    user: DinumUser,
    numero: Annotated[int, Form()] = 0,
    confirmation: Annotated[str, Form()] = "",
) -> Response:
    if confirmation != "oui":
        raise PageError(
            400,
            "Confirmation manquante",
            "Cochez la case de confirmation pour publier l'édition.",
        )
    try:
        number = await run_in_threadpool(_publish, today(), numero, user.email)
    except editions.PublicationError as error:
        raise PageError(409, "Publication impossible", str(error)) from error
    return RedirectResponse(f"/pilotage/publication/{number}", status_code=303)


@router.get("/publication/{number}", response_class=HTMLResponse)
def published(request: Request, number: int, session: SessionDep, user: DinumUser) -> Response:
    try:
        edition = editions.get_edition(session, number)
    except editions.EditionNotFound as error:
        raise PageError(404, "Édition introuvable", str(error)) from error
    return render(request, "dinum/published.html.j2", user=user, edition=edition)
