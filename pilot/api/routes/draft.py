"""The draft panorama (the live portfolio as the next edition would show it) is DINUM's:
served at ``/panorama/brouillon/`` to an authenticated DINUM user only, from
``settings.draft_path``, which lies outside the public site. Its pages link to the public
site's design-system files (``/panorama/dsfr/``), never to anything of the draft's own."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse

from pilot.api.deps import PrincipalDep
from pilot.auth.models import Role
from pilot.config import get_settings

router = APIRouter(prefix="/panorama/brouillon", tags=["brouillon"])
NOT_FOUND = "Page introuvable."


def _file(path: str) -> Path:
    root = get_settings().draft_path.resolve()
    target = (root / path).resolve()
    if target != root and root not in target.parents:
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        raise HTTPException(status_code=404, detail=NOT_FOUND)
    return target


@router.get(
    "/{path:path}",
    response_class=FileResponse,
    responses={
        401: {"description": "Sans jeton"},
        403: {"description": "Jeton d'un autre rôle que la DINUM"},
        404: {"description": "Fichier introuvable"},
    },
)
def draft_file(path: str, principal: PrincipalDep) -> FileResponse:
    """A file of the draft panorama (DINUM only; bearer token)."""
    if principal.role == Role.PUBLIC:
        raise HTTPException(
            status_code=401,
            detail="Le brouillon du panorama est réservé à la DINUM : authentifiez-vous.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if principal.role != Role.DINUM:
        raise HTTPException(
            status_code=403, detail="Le brouillon du panorama est réservé à la DINUM."
        )
    return FileResponse(_file(path), headers={"Cache-Control": "private, no-store"})
