"""A ministry's space, ``/espace/``: its projects and their signals, its prefilled workbook,
the upload (checked first, applied on confirmation), the findings and the annotated
workbook, and its import history. A ministry account only ever reaches its own ministry's
data: every look-up below is filtered by the account's ministry, and anything else is
"introuvable" (404), exactly as a page that does not exist."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from importers.intake import ImportOutcome, submit
from importers.workbook.findings import Issue
from importers.workbook.report import issues_of, report_workbook
from importers.workbook.template import build_template, template_filename
from pilot.api.deps import SessionDep
from pilot.api.turns import ImportsBusy, ImportTurns
from pilot.auth.access import Action
from pilot.config import get_settings
from pilot.db import session_scope
from pilot.imports.models import ImportFile, ImportStatus
from pilot.keys import MAX_KEY
from pilot.ministries.models import Ministry
from pilot.money import format_decimal_fr
from pilot.opinions import service as opinions
from pilot.opinions.clock import today_in_paris
from pilot.projects.models import Project, parse_pilot_id
from pilot.storage import StorageError
from pilot.timeutil import today
from pilot.web import data
from pilot.web import opinions as web_opinions
from pilot.web.pages import render
from pilot.web.session import CsrfChecked, MinistryUser, PageError, WebUser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHANNEL = "web"
router = APIRouter(prefix="/espace", include_in_schema=False)
ImportId = Annotated[int, PathParam(ge=1, le=MAX_KEY)]

NOT_FOUND = PageError(404, "Page introuvable", "Cette page n'existe pas, ou plus.")


def own_project(session: Session, user: WebUser, pilot_id: str) -> Project:
    """The project ``pilot_id`` of the user's ministry; any other is "introuvable"."""
    key = parse_pilot_id(pilot_id)
    project = session.get(Project, key) if key is not None else None
    if project is None or project.ministry_id != user.ministry_id:
        raise NOT_FOUND
    return project


def own_import(session: Session, user: WebUser, import_id: int) -> ImportFile:
    record = session.get(ImportFile, import_id)
    if record is None or record.ministry_id != user.ministry_id or record.kind != "workbook":
        raise NOT_FOUND
    return record


def _megabytes(size: int) -> str:
    return format_decimal_fr(Decimal(size) / 2**20, 0 if size % 2**20 == 0 else 1)


@router.get("/", response_class=HTMLResponse)
def space(request: Request, session: SessionDep, user: MinistryUser) -> Response:
    on = today()
    lines = data.project_lines(
        session, ministry_id=user.ministry_id, today=on, in_panorama_only=False
    )
    assert user.ministry_id is not None
    return render(
        request,
        "ministry/space.html.j2",
        user=user,
        lines=lines,
        imports=data.imports_of(session, user.ministry_id, limit=5),
        campaign=data.open_campaign(session, today=on, ministry_id=user.ministry_id),
        max_upload_mb=_megabytes(get_settings().max_upload_bytes),
    )


@router.get("/classeur")
def workbook(session: SessionDep, user: MinistryUser) -> Response:
    ministry = session.get(Ministry, user.ministry_id)
    assert ministry is not None
    name = template_filename(ministry)
    return Response(
        build_template(session, ministry),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


async def _submit(
    request: Request, user: WebUser, data_: bytes, filename: str, *, dry_run: bool
) -> ImportOutcome:
    turns: ImportTurns = request.app.state.import_turns
    try:
        async with turns.turn():
            return await run_in_threadpool(
                submit,
                data=data_,
                filename=filename,
                ministry_code=user.ministry_code or "",
                submitted_by=user.email,
                channel=CHANNEL,
                dry_run=dry_run,
            )
    except ImportsBusy as error:
        raise PageError(
            503,
            "Trop d'imports en cours",
            "Beaucoup de classeurs sont en cours d'import : rien n'a été enregistré. "
            "Renvoyez votre fichier dans quelques minutes.",
        ) from error
    except StorageError as error:
        raise PageError(507, "Fichier non enregistré", error.strerror or str(error)) from error


@router.post("/depot", dependencies=[CsrfChecked])
async def upload(
    request: Request,
    user: MinistryUser,
    session: SessionDep,
    fichier: Annotated[UploadFile | None, File()] = None,
) -> Response:
    """Check the workbook (a dry run: nothing changes); its page then offers to apply it."""
    session.close()  # the connection goes back to the pool while the import waits its turn
    if fichier is None or not fichier.filename:
        raise PageError(
            400, "Aucun fichier", "Choisissez le classeur à envoyer (.xlsx ou .ods), puis validez."
        )
    limit = get_settings().max_upload_bytes
    content = await fichier.read(limit + 1)
    if len(content) > limit:
        raise PageError(
            413,
            "Fichier trop volumineux",
            f"Le fichier dépasse la limite de {_megabytes(limit)} Mo : allégez-le.",
        )
    outcome = await _submit(request, user, content, fichier.filename, dry_run=True)
    return RedirectResponse(f"/espace/imports/{outcome.import_id}", status_code=303)


@router.post("/imports/{import_id}/appliquer", dependencies=[CsrfChecked])
async def apply_checked(
    request: Request, import_id: ImportId, user: MinistryUser, session: SessionDep
) -> Response:
    """Apply a workbook checked without error: the same archived bytes, submitted again."""
    record = await run_in_threadpool(own_import, session, user, import_id)
    session.close()
    if not (record.dry_run and record.status == ImportStatus.VALIDATED.value):
        raise PageError(
            409,
            "Import impossible",
            "Seul un classeur vérifié sans erreur peut être importé. Envoyez-le de nouveau.",
        )
    stored = Path(record.stored_path)
    if not stored.exists():
        raise PageError(
            410, "Fichier introuvable", "Le fichier vérifié n'est plus archivé : renvoyez-le."
        )
    content = await run_in_threadpool(stored.read_bytes)
    outcome = await _submit(request, user, content, record.filename, dry_run=False)
    return RedirectResponse(f"/espace/imports/{outcome.import_id}", status_code=303)


@router.get("/imports/", response_class=HTMLResponse)
def history(request: Request, session: SessionDep, user: MinistryUser) -> Response:
    assert user.ministry_id is not None
    return render(
        request,
        "ministry/imports.html.j2",
        user=user,
        imports=data.imports_of(session, user.ministry_id),
    )


def _sorted_findings(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (not i.is_error, i.sheet or "", i.row or 0))


@router.get("/imports/{import_id}", response_class=HTMLResponse)
def import_page(
    request: Request, import_id: ImportId, session: SessionDep, user: MinistryUser
) -> Response:
    record = own_import(session, user, import_id)
    return render(
        request,
        "ministry/import.html.j2",
        user=user,
        record=record,
        findings=_sorted_findings(issues_of(session, import_id)),
        can_apply=record.dry_run and record.status == ImportStatus.VALIDATED.value,
    )


@router.get("/imports/{import_id}/rapport.xlsx")
def annotated(import_id: ImportId, session: SessionDep, user: MinistryUser) -> Response:
    record = own_import(session, user, import_id)
    issues = issues_of(session, import_id)
    stored = Path(record.stored_path)
    content = report_workbook(stored.read_bytes() if stored.exists() else None, issues)
    name = f"rapport-import-{import_id}.xlsx"
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/projets/{pilot_id}", response_class=HTMLResponse)
def project(request: Request, pilot_id: str, session: SessionDep, user: MinistryUser) -> Response:
    found = own_project(session, user, pilot_id)
    return render(
        request,
        "project.html.j2",
        user=user,
        page=data.project_page(session, found, today=today(), with_audit=True),
        opinions=web_opinions.project_opinions(session, user.principal, found),
        today_paris=today_in_paris(),
        dinum=False,
    )


# DINUM's opinion (docs/opinions.md): the ministry's requests, its file, its recommendations.
RequestId = Annotated[int, PathParam(ge=1, le=MAX_KEY)]
RecommendationId = Annotated[int, PathParam(ge=1, le=MAX_KEY)]
DocumentId = Annotated[int, PathParam(ge=1, le=MAX_KEY)]


@router.get("/avis/", response_class=HTMLResponse)
def opinions_space(request: Request, session: SessionDep, user: MinistryUser) -> Response:
    """The ministry's projects flagged by the threshold watch, its requests with their
    clocks, and its recommendations (each with a form to update its status)."""
    principal = user.principal
    with web_opinions.refusals():
        flags = opinions.threshold_flags(session, principal)
        requests = opinions.list_requests(session, principal)
        recommendations = web_opinions.recommendation_rows(
            opinions.recommendations(session, principal)
        )
    projects = session.exec(
        select(Project).where(Project.ministry_id == user.ministry_id).order_by(Project.name)
    ).all()
    return render(
        request,
        "ministry/opinions.html.j2",
        user=user,
        flags=flags,
        requests=requests,
        recommendations=recommendations,
        projects=projects,
        today=today_in_paris(),
        message=request.query_params.get("fait"),
    )


@router.post("/projets/{pilot_id}/saisine", dependencies=[CsrfChecked])
def open_opinion_request(
    pilot_id: str, user: MinistryUser, objet: Annotated[str, Form()] = ""
) -> Response:
    with session_scope(write=True) as session, web_opinions.refusals():
        found = own_project(session, user, pilot_id)
        opened = opinions.open_request(
            session, user.principal, found, subject=objet, on=today_in_paris()
        )
        request_id = opened.id
    return RedirectResponse(f"/espace/avis/saisines/{request_id}", status_code=303)


@router.get("/avis/saisines/{request_id}", response_class=HTMLResponse)
def opinion_request(
    request: Request, request_id: RequestId, session: SessionDep, user: MinistryUser
) -> Response:
    return render(
        request,
        "opinions/request.html.j2",
        user=user,
        page=web_opinions.request_page(session, user.principal, request_id),
        dinum=False,
        max_document_mb=_megabytes(get_settings().opinion_max_document_bytes),
        message=request.query_params.get("fait"),
    )


@router.post("/avis/saisines/{request_id}/documents", dependencies=[CsrfChecked])
async def add_opinion_document(
    request_id: RequestId,
    user: MinistryUser,
    session: SessionDep,
    fichier: Annotated[UploadFile | None, File()] = None,
) -> Response:
    with web_opinions.refusals():  # another ministry's request is "introuvable", file or not
        await run_in_threadpool(
            opinions.get_request, session, user.principal, request_id, Action.REQUEST_OPINION
        )
    session.close()
    return await upload_opinion_document("/espace", request_id, user, fichier)


@router.post("/avis/saisines/{request_id}/informations", dependencies=[CsrfChecked])
def opinion_information_received(
    request_id: RequestId,
    user: MinistryUser,
    note: Annotated[str, Form()] = "",
    jour: Annotated[str, Form()] = "",
) -> Response:
    with session_scope(write=True) as session, web_opinions.refusals():
        found = opinions.get_request(session, user.principal, request_id)
        opinions.receive_information(
            session, user.principal, found, on=web_opinions.parse_day(jour), note=note or None
        )
    return RedirectResponse(f"/espace/avis/saisines/{request_id}?fait=etape", status_code=303)


@router.get("/avis/documents/{document_id}")
def opinion_document(document_id: DocumentId, session: SessionDep, user: MinistryUser) -> Response:
    return web_opinions.document_response(session, user.principal, document_id)


@router.post("/avis/recommandations/{recommendation_id}", dependencies=[CsrfChecked])
def update_recommendation(
    recommendation_id: RecommendationId,
    user: MinistryUser,
    statut: Annotated[str, Form()] = "",
    commentaire: Annotated[str, Form()] = "",
    retour: Annotated[str, Form()] = "",
) -> Response:
    web_opinions.change_recommendation(user.principal, recommendation_id, statut, commentaire)
    back = retour if retour.startswith("/espace/") and "//" not in retour else "/espace/avis/"
    return RedirectResponse(f"{back}?fait=recommandation", status_code=303)


async def upload_opinion_document(
    space: str, request_id: int, user: WebUser, fichier: UploadFile | None
) -> Response:
    """One document of a request's file, read bounded, archived unchanged by the domain."""
    if fichier is None or not fichier.filename:
        raise PageError(400, "Aucun fichier", "Choisissez le document à joindre, puis validez.")
    limit = get_settings().opinion_max_document_bytes
    content = await fichier.read(limit + 1)
    if len(content) > limit:
        raise PageError(
            413,
            "Fichier trop volumineux",
            f"Le document dépasse la limite de {_megabytes(limit)} Mo : rien n'a été enregistré.",
        )
    await run_in_threadpool(
        web_opinions.store_document, user.principal, request_id, fichier.filename, content
    )
    return RedirectResponse(f"{space}/avis/saisines/{request_id}?fait=document", status_code=303)
