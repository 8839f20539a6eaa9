"""DINUM's space, ``/pilotage/``: the portfolio and its alerts (the alerts recorded on
``/pilotage/alertes``), every project's page (its
history across reports and editions, its audit trail), confidentiality, and publishing an
edition (a preview, then a confirmation). Open to DINUM and admin accounts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi import Path as PathParam
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
from pilot.keys import MAX_KEY
from pilot.ministries.models import Ministry
from pilot.opinions import service as opinions
from pilot.opinions.clock import today_in_paris
from pilot.opinions.models import Axis, OpinionRequest
from pilot.projects import confidentiality
from pilot.projects.models import Project, format_pilot_id, parse_pilot_id
from pilot.timeutil import today
from pilot.web import data
from pilot.web import opinions as web_opinions
from pilot.web.pages import render
from pilot.web.session import CsrfChecked, DinumUser, PageError, WebUser

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
        opinions=web_opinions.project_opinions(session, user.principal, found),
        today_paris=today_in_paris(),
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


# DINUM's opinion (docs/opinions.md): every request, its steps, the clocks, the follow-up.
Key = Annotated[int, PathParam(ge=1, le=MAX_KEY)]
RECOMMENDATION_ROWS = 5  # blank recommendation lines offered by the opinion form


@router.get("/avis/", response_class=HTMLResponse)
def opinions_board(request: Request, session: SessionDep, user: DinumUser) -> Response:
    """Every running clock and what falls due this week, every request, the open
    recommendations past due per ministry, the threshold flags."""
    principal, on = user.principal, today_in_paris()
    with web_opinions.refusals():
        clocks, due = opinions.running_clocks(session, principal, on)
        requests = opinions.list_requests(session, principal)
        overdue = opinions.overdue_recommendations(session, principal, on)
        flags = opinions.threshold_flags(session, principal)
    return render(
        request,
        "dinum/opinions.html.j2",
        user=user,
        clocks=clocks,
        due=due,
        requests=requests,
        overdue=overdue,
        flags=flags,
        today=on,
    )


@router.post("/projets/{pilot_id}/saisine", dependencies=[CsrfChecked])
def open_opinion_request(
    pilot_id: str, user: DinumUser, objet: Annotated[str, Form()] = ""
) -> Response:
    with session_scope(write=True) as session, web_opinions.refusals():
        found = _project(session, pilot_id)
        opened = opinions.open_request(
            session, user.principal, found, subject=objet, on=today_in_paris()
        )
        request_id = opened.id
    return RedirectResponse(f"/pilotage/avis/saisines/{request_id}", status_code=303)


@router.get("/avis/saisines/{request_id}", response_class=HTMLResponse)
def opinion_request(
    request: Request, request_id: Key, session: SessionDep, user: DinumUser
) -> Response:
    return render(
        request,
        "opinions/request.html.j2",
        user=user,
        page=web_opinions.request_page(session, user.principal, request_id),
        dinum=True,
        recommendation_rows=RECOMMENDATION_ROWS,
        message=request.query_params.get("fait"),
    )


def _step(
    user: WebUser, request_id: int, step: Callable[[Session, OpinionRequest], object]
) -> Response:
    with session_scope(write=True) as session, web_opinions.refusals():
        found = opinions.get_request(session, user.principal, request_id)
        step(session, found)
    return RedirectResponse(f"/pilotage/avis/saisines/{request_id}?fait=etape", status_code=303)


@router.post("/avis/saisines/{request_id}/reception", dependencies=[CsrfChecked])
def receive_file(
    request_id: Key,
    user: DinumUser,
    jour: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    return _step(
        user,
        request_id,
        lambda s, r: opinions.receive_file(
            s, user.principal, r, on=web_opinions.parse_day(jour), note=note or None
        ),
    )


@router.post("/avis/saisines/{request_id}/demande-informations", dependencies=[CsrfChecked])
def request_information(
    request_id: Key,
    user: DinumUser,
    jour: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    return _step(
        user,
        request_id,
        lambda s, r: opinions.request_information(
            s, user.principal, r, on=web_opinions.parse_day(jour), note=note
        ),
    )


@router.post("/avis/saisines/{request_id}/informations", dependencies=[CsrfChecked])
def receive_information(
    request_id: Key,
    user: DinumUser,
    jour: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    return _step(
        user,
        request_id,
        lambda s, r: opinions.receive_information(
            s, user.principal, r, on=web_opinions.parse_day(jour), note=note or None
        ),
    )


@router.post("/avis/saisines/{request_id}/observations", dependencies=[CsrfChecked])
def record_observations(
    request_id: Key,
    user: DinumUser,
    observateur: Annotated[str, Form()] = "",
    jour: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    return _step(
        user,
        request_id,
        lambda s, r: opinions.record_observations(
            s,
            user.principal,
            r,
            observer=observateur,
            on=web_opinions.parse_day(jour),
            note=note or None,
        ),
    )


@router.post("/avis/saisines/{request_id}/avis", dependencies=[CsrfChecked])
async def give_opinion(request_id: Key, request: Request, user: DinumUser) -> Response:
    """The opinion: its sense, the five axes (rating and comment each), a summary, and the
    recommendation lines filled in (blank lines are ignored)."""
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    def decide(s: Session, r: OpinionRequest) -> None:
        axes = [
            opinions.AxisInput(
                axis=axis.value,
                rating=text(f"appreciation_{axis.value}"),
                comment=text(f"commentaire_{axis.value}"),
            )
            for axis in Axis
        ]
        recommendations = [
            opinions.RecommendationInput(
                text=text(f"recommandation_{i}"),
                owner=text(f"responsable_{i}"),
                due_on=web_opinions.parse_day(
                    text(f"echeance_{i}"), required=f"recommandation {i}"
                ),
            )
            for i in range(1, RECOMMENDATION_ROWS + 1)
            if text(f"recommandation_{i}")
        ]
        opinions.give_opinion(
            s,
            user.principal,
            r,
            sense=text("sens"),
            on=web_opinions.parse_day(text("jour")),
            axes=axes,
            recommendations=recommendations,
            summary=text("synthese") or None,
        )

    return await run_in_threadpool(_step, user, request_id, decide)


@router.get("/avis/documents/{document_id}")
def opinion_document(document_id: Key, session: SessionDep, user: DinumUser) -> Response:
    return web_opinions.document_response(session, user.principal, document_id)


@router.post("/avis/recommandations/{recommendation_id}", dependencies=[CsrfChecked])
def update_recommendation(
    recommendation_id: Key,
    user: DinumUser,
    statut: Annotated[str, Form()] = "",
    commentaire: Annotated[str, Form()] = "",
    retour: Annotated[str, Form()] = "",
) -> Response:
    web_opinions.change_recommendation(user.principal, recommendation_id, statut, commentaire)
    back = retour if retour.startswith("/pilotage/") and "//" not in retour else "/pilotage/avis/"
    return RedirectResponse(f"{back}?fait=recommandation", status_code=303)
