"""DINUM's decision to withhold a project's figures from the public, or to lift it.

The web's confidentiality switch. The decision and its reason are audited (who, when,
why); the reason is mandatory both ways. (The trust work, on its own branch, adds the
reason and an end date as project columns and a CLI and GraphQL mutation: this function
is the one to replace by theirs when both are merged.)"""

from __future__ import annotations

from sqlmodel import Session

from pilot.audit import service as audit
from pilot.projects.models import Project
from pilot.projects.service import DomainError
from pilot.text import clean_text

REASON_MAX = 1000


def set_confidential(
    session: Session, project: Project, *, confidential: bool, reason: str, actor: str
) -> bool:
    """Mark ``project`` confidential (or lift it) with a reason; returns whether it changed.
    Flushes, never commits."""
    reason = clean_text(reason or "")
    if not reason:
        raise DomainError("Indiquez le motif de cette décision.")
    if len(reason) > REASON_MAX:
        raise DomainError(f"Le motif dépasse {REASON_MAX} caractères : résumez-le.")
    if project.confidential == confidential:
        return False
    audit.record(
        session,
        actor=actor,
        action="update",
        obj=project,
        project_id=project.id,
        field="confidential",
        old="oui" if project.confidential else "non",
        new=f"{'oui' if confidential else 'non'} — motif : {reason}",
    )
    project.confidential = confidential
    session.add(project)
    session.flush()
    return True
