"""Ministry workbooks over HTTP: download the template, upload a filled workbook, fetch
an import's report. A ministry token acts for its own ministry; DINUM and admin tokens
name the ministry with ``?ministry=CODE``."""

from __future__ import annotations

from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    File,
    Form,
    HTTPException,
    Path,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from importers.intake import ImportOutcome, submit
from importers.workbook.report import issues_of, report_html, report_workbook, summary
from importers.workbook.template import build_template, template_filename
from pilot.api.deps import PrincipalDep, SessionDep
from pilot.api.turns import RETRY_AFTER_SECONDS as BUSY_RETRY_AFTER
from pilot.api.turns import ImportsBusy, ImportTurns
from pilot.auth.access import AccessDenied, Action, workbook_ministry
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.config import get_settings
from pilot.db import session_scope
from pilot.imports.models import ImportFile
from pilot.keys import MAX_KEY
from pilot.ministries.models import Ministry
from pilot.storage import StorageError

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Problem(BaseModel):
    """Every refusal: a French sentence saying what to do."""

    detail: str


def _refusal(description: str) -> dict[str, Any]:
    return {"model": Problem, "description": description}


# Every status these routes answer, in the OpenAPI contract (checked by tests/api/test_fuzz.py).
router = APIRouter(
    prefix="/workbook",
    tags=["workbook"],
    responses={
        401: _refusal("Jeton absent, inconnu, révoqué ou expiré"),
        403: _refusal("Jeton d'un autre ministère"),
        404: _refusal("Ministère ou import inconnu (ou d'un autre ministère)"),
        413: {"description": "Requête ou fichier au-delà de la limite"},
        429: _refusal("Trop d'authentifications échouées depuis cette adresse (Retry-After)"),
        503: _refusal("Base de données momentanément indisponible (Retry-After)"),
    },
)


_STATUS = {"unauthenticated": 401, "forbidden": 403, "not_found": 404, "bad_input": 404}


def _ministry(session: Session, principal: Principal, code: str | None, action: Action) -> Ministry:
    """The one access check of every channel (``pilot.auth.access``), as HTTP statuses."""
    try:
        return workbook_ministry(session, principal, code, action)
    except AccessDenied as denied:
        raise HTTPException(_STATUS[denied.kind], str(denied)) from denied


def _ministry_code(session: Session, principal: Principal, code: str | None) -> str:
    found = _ministry(session, principal, code, Action.WRITE_PROJECT).code
    session.close()  # the connection goes back to the pool for the import's wait
    return found


def _submit(**kwargs: Any) -> tuple[ImportOutcome, list[dict[str, Any]]]:
    outcome = submit(channel="http", **kwargs)
    with session_scope() as session:
        findings = [
            {
                "severity": i.severity.value,
                "sheet": i.sheet,
                "row": i.row,
                "column": i.column,
                "value": i.value,
                "message": i.message,
            }
            for i in issues_of(session, outcome.import_id)
        ]
    return outcome, findings


@router.get(
    "/template",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "Le classeur prérempli"}},
)
def download_template(
    session: SessionDep, principal: PrincipalDep, ministry: str | None = None
) -> Response:
    found = _ministry(session, principal, ministry, Action.READ_PROJECT)
    data = build_template(session, found)
    name = template_filename(found)
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post(
    "/upload",
    responses={
        400: _refusal("Corps multipart illisible"),
        503: _refusal(
            "Trop d'imports en cours, ou base de données indisponible : renvoyer plus tard "
            "(Retry-After), rien d'enregistré"
        ),
        507: _refusal("Disque plein : le fichier n'a pas pu être archivé, rien d'enregistré"),
    },
)
async def upload(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File()],
    dry_run: Annotated[bool, Form()] = False,
    ministry: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    # Every database call in a worker thread, never on the event loop; the request's
    # connection goes back to the pool before the import waits for its turn.
    code = await run_in_threadpool(_ministry_code, session, principal, ministry)
    limit = get_settings().max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise HTTPException(
            413, f"Le fichier dépasse la limite de {limit / 1e6:.1f} Mo : allégez-le."
        )
    turns: ImportTurns = request.app.state.import_turns
    try:
        async with turns.turn():
            outcome, findings = await run_in_threadpool(
                _submit,
                data=data,
                filename=file.filename or "classeur.xlsx",
                ministry_code=code,
                submitted_by=principal.actor,
                dry_run=dry_run,
            )
    except ImportsBusy as error:  # nothing recorded: the ministry sends it again
        raise HTTPException(
            503, str(error), headers={"Retry-After": str(BUSY_RETRY_AFTER)}
        ) from error
    except StorageError as error:  # disk full: refused cleanly, nothing recorded
        raise HTTPException(507, error.strerror) from error
    return {
        "import_id": outcome.import_id,
        "status": outcome.status,
        "duplicate": outcome.duplicate,
        "errors": outcome.errors,
        "warnings": outcome.warnings,
        "counts": outcome.counts,
        "summary": summary(outcome.counts, outcome.status),
        "findings": findings,
    }


@router.get(
    "/imports/{import_id}/report",
    response_class=Response,
    responses={
        200: {
            "content": {XLSX: {}, "text/html": {}},
            "description": "Le classeur annoté (.xlsx) ou la page HTML (?format=html)",
        }
    },
)
def import_report(
    import_id: Annotated[int, Path(ge=1, le=MAX_KEY)],
    session: SessionDep,
    principal: PrincipalDep,
    format: str = "xlsx",
) -> Response:
    if principal.role == Role.PUBLIC:  # before any look-up: nothing is told to the public
        raise HTTPException(401, "Un jeton est nécessaire.")
    record = session.get(ImportFile, import_id)
    if record is None or (
        principal.role == Role.MINISTRY and record.ministry_id != principal.ministry_id
    ):
        raise HTTPException(404, "Import inconnu.")
    issues = issues_of(session, import_id)
    if format == "html":
        return HTMLResponse(report_html(record, issues))
    stored = FilePath(record.stored_path)
    data = report_workbook(stored.read_bytes() if stored.exists() else None, issues)
    name = f"rapport-import-{import_id}.xlsx"
    return Response(
        data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
