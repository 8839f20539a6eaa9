"""What the opinion pages of both spaces show (docs/opinions.md): a request's page (its
clock, its events, its file, its opinion, axes and recommendations), a project's opinions,
and the refusals of the domain turned into pages. Every read goes through
``pilot.opinions.service`` with the user's principal: the one access table
(``pilot/auth/access.py``) decides, and another ministry's request is "introuvable"."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from urllib.parse import quote

from fastapi.responses import Response
from sqlmodel import Session

from pilot.auth.access import AccessDenied, Action, allows
from pilot.auth.service import Principal
from pilot.db import session_scope
from pilot.indicators.drift import BaselineFigures, CurrentFigures, project_drift
from pilot.opinions import service as opinions
from pilot.opinions.clock import Clock, Status, today_in_paris
from pilot.opinions.models import (
    Opinion,
    OpinionAxis,
    OpinionDocument,
    OpinionEvent,
    OpinionRequest,
    Recommendation,
    RecommendationEvent,
)
from pilot.projects.models import Project
from pilot.projects.service import DomainError
from pilot.storage import StorageError
from pilot.web.session import PageError

# a ministry adds documents while it puts its file together or answers a request for information
DOCUMENTS_OPEN = (Status.DRAFT.value, Status.INFORMATION_REQUESTED.value)
CLOSED = (Status.OPINION_GIVEN.value, Status.DEEMED_FAVOURABLE.value)


@contextmanager
def refusals() -> Iterator[None]:
    """The domain's refusals as pages: another ministry's object is "introuvable" (404),
    a role that may not is 403, bad input is 400 with the domain's French message."""
    try:
        yield
    except AccessDenied as error:
        if error.kind == "not_found":
            raise PageError(404, "Page introuvable", str(error)) from error
        raise PageError(403, "Accès refusé", str(error)) from error
    except DomainError as error:
        raise PageError(400, "Demande refusée", str(error)) from error


def parse_day(text: str, *, required: str | None = None) -> date:
    """A day typed in a form (``AAAA-MM-JJ``, as ``<input type="date">`` sends it); today
    in Paris when empty, unless ``required`` names what it dates."""
    if not text.strip():
        if required:
            raise DomainError(f"Date manquante : {required}.")
        return today_in_paris()
    try:
        return date.fromisoformat(text.strip())
    except ValueError as error:
        raise DomainError(f"Date invalide : « {text[:20]} » (attendu : AAAA-MM-JJ).") from error


@dataclass(frozen=True)
class RecommendationRow:
    recommendation: Recommendation
    project: Project
    ministry_code: str


def recommendation_rows(
    found: list[tuple[Recommendation, Project, str]],
) -> list[RecommendationRow]:
    return [RecommendationRow(r, p, code) for r, p, code in found]


@dataclass(frozen=True)
class OpinionBlock:
    opinion: Opinion
    axes: list[OpinionAxis]
    recommendations: list[RecommendationRow]
    # each status change of its recommendations (number, date, who, comment)
    history: list[tuple[Recommendation, RecommendationEvent]]


@dataclass(frozen=True)
class RequestPage:
    request: OpinionRequest
    project: Project
    ministry_code: str
    clock: Clock
    events: list[OpinionEvent]
    documents: list[OpinionDocument]
    opinion: OpinionBlock | None
    today: date

    @property
    def accepts_documents(self) -> bool:
        return self.request.status in DOCUMENTS_OPEN

    @property
    def observers_done(self) -> set[str]:
        return {str(o) for o in self.clock.observations}


def opinion_block(session: Session, principal: Principal, opinion: Opinion) -> OpinionBlock:
    return OpinionBlock(
        opinion=opinion,
        axes=opinions.axes_of(session, principal, opinion),
        recommendations=recommendation_rows(
            opinions.recommendations(session, principal, opinion_id=opinion.id)
        ),
        history=opinions.opinion_recommendation_history(session, principal, opinion),
    )


def request_page(session: Session, principal: Principal, request_id: int) -> RequestPage:
    with refusals():
        request = opinions.get_request(session, principal, request_id)
        view = next(
            v
            for v in opinions.list_requests(session, principal, project_id=request.project_id)
            if v.request.id == request.id
        )
        opinion = opinions.opinion_of(session, principal, request)
        return RequestPage(
            request=request,
            project=view.project,
            ministry_code=view.ministry_code,
            clock=view.clock,
            events=opinions.events(session, principal, request),
            documents=opinions.documents(session, principal, request),
            opinion=opinion_block(session, principal, opinion) if opinion else None,
            today=today_in_paris(),
        )


@dataclass(frozen=True)
class ProjectOpinions:
    """A project's requests and opinions, newest first, for its page."""

    requests: list[opinions.RequestView]
    opinions: list[OpinionBlock]
    can_open: bool  # no running request: a new one may be opened
    budget_drift: Decimal | None  # since the latest opinion's figures (None: no opinion)
    schedule_drift: Decimal | None


def project_opinions(
    session: Session, principal: Principal, project: Project
) -> ProjectOpinions | None:
    """None for a role that reads no opinion (the administrator)."""
    if not allows(principal, Action.READ_OPINIONS, project.ministry_id):
        return None
    with refusals():
        requests = opinions.list_requests(session, principal, project_id=project.id)
        blocks = [
            opinion_block(session, principal, o)
            for o in opinions.project_opinions(session, principal, project)
        ]
    budget = schedule = None
    if blocks and project.id is not None:
        latest = blocks[0].opinion
        now = opinions.current_figures(session, [project.id]).get(project.id)
        approved = BaselineFigures(
            latest.baseline_cost_eur, latest.baseline_start_date, latest.baseline_end_date
        )
        drift = project_drift(
            approved, approved, CurrentFigures(now.cost_eur, now.end_date) if now else None
        )
        budget, schedule = drift.budget_latest, drift.schedule_latest
    return ProjectOpinions(
        requests=requests,
        opinions=blocks,
        can_open=all(v.request.status in CLOSED for v in requests),
        budget_drift=budget,
        schedule_drift=schedule,
    )


def store_document(principal: Principal, request_id: int, filename: str, content: bytes) -> None:
    """Archive one document of a request's file, in a transaction of its own."""
    with session_scope(write=True) as session, refusals():
        request = opinions.get_request(session, principal, request_id, Action.REQUEST_OPINION)
        try:
            opinions.add_document(session, principal, request, filename=filename, data=content)
        except StorageError as error:
            raise PageError(507, "Fichier non enregistré", error.strerror or str(error)) from error


def document_response(session: Session, principal: Principal, document_id: int) -> Response:
    """A document of the file, as it was sent (an attachment, never shown inline)."""
    with refusals():
        document, content = opinions.document_content(session, principal, document_id)
    name = quote(document.filename)
    return Response(
        content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "X-Content-Type-Options": "nosniff",
        },
    )


def change_recommendation(
    principal: Principal, recommendation_id: int, status: str, comment: str
) -> None:
    with session_scope(write=True) as session, refusals():
        found = opinions.get_recommendation(
            session, principal, recommendation_id, Action.UPDATE_RECOMMENDATION
        )
        opinions.update_recommendation(
            session, principal, found, status=status, on=today_in_paris(), comment=comment or None
        )
