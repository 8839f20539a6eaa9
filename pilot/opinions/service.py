"""DINUM's statutory opinion (avis conforme): plain functions taking a session (see
``docs/opinions.md``). They flush, never commit: the caller owns the transaction.

Every function that reads or changes a request, an opinion or a recommendation takes the
``Principal`` asking and checks it against the one access table (``pilot.auth.access``):
it raises ``AccessDenied`` (a ministry asking about another ministry's request is told it
does not exist). A broken rule of the procedure raises ``DomainError`` (French message),
and changes nothing. ``expire_requests`` and ``daily_checks`` are the system's (the
scheduler, ``pilot opinion expire``): they take no principal.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from pilot.alerts import service as alerts
from pilot.alerts.models import Alert
from pilot.audit import service as audit
from pilot.auth.access import AccessDenied, Action, allows, require_action, require_on
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.config import get_settings
from pilot.indicators.drift import BaselineFigures, CurrentFigures, project_drift
from pilot.mail.service import french_date
from pilot.ministries.models import Ministry
from pilot.opinions.clock import (
    TERMINAL,
    Clock,
    ClockEvent,
    EventKind,
    Observer,
    Status,
    compute_clock,
    is_expired,
)
from pilot.opinions.models import (
    OPEN_RECOMMENDATION,
    Axis,
    Opinion,
    OpinionAxis,
    OpinionDocument,
    OpinionEvent,
    OpinionRequest,
    Rating,
    Recommendation,
    RecommendationEvent,
    RecommendationStatus,
    Sense,
)
from pilot.opinions.models import RECOMMENDATION_LABELS as RECOMMENDATION_LABELS
from pilot.projects import service as projects
from pilot.projects.models import Baseline, Phase, Project, format_pilot_id
from pilot.projects.service import DomainError
from pilot.storage import archive_bytes
from pilot.text import clean_text, keep_text

SYSTEM_ACTOR = "pilot"
MAX_SUBJECT = 300
MAX_TEXT = 10_000
MAX_OWNER = 200
MAX_RECOMMENDATIONS = 50
MAX_FILENAME = 255
DUE_SOON_DAYS = 7

# Phases past the framing ("cadrage"): the project is contracting or under contract. A
# project above the threshold in one of them without an opinion is irregular.
UNDER_CONTRACT = (Phase.CONCEPTION.value, Phase.EXPERIMENTATION.value, Phase.DEPLOIEMENT.value)
# Phases no longer watched: nothing to ask an opinion for.
FINISHED = (Phase.TERMINE.value, Phase.ABANDONNE.value)
# Senses that approve the project's figures (its approved baseline).
APPROVING = (Sense.FAVOURABLE, Sense.FAVOURABLE_WITH_RESERVATIONS, Sense.DEEMED_FAVOURABLE)

# The documents a file may hold, by extension: (media type, first bytes, or None for text
# that must be UTF-8). Never parsed: the first bytes only say the type is what it claims.
_ZIP = b"PK\x03\x04"
DOCUMENT_TYPES: dict[str, tuple[str, bytes | None]] = {
    ".pdf": ("application/pdf", b"%PDF-"),
    ".odt": ("application/vnd.oasis.opendocument.text", _ZIP),
    ".ods": ("application/vnd.oasis.opendocument.spreadsheet", _ZIP),
    ".odp": ("application/vnd.oasis.opendocument.presentation", _ZIP),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", _ZIP),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _ZIP),
    ".pptx": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        _ZIP,
    ),
    ".csv": ("text/csv", None),
    ".txt": ("text/plain", None),
}

STATUS_LABELS = {
    Status.DRAFT: "en préparation",
    Status.RECEIVED: "dossier complet reçu",
    Status.INFORMATION_REQUESTED: "informations demandées",
    Status.OBSERVATIONS_RECEIVED: "observations reçues",
    Status.OPINION_GIVEN: "avis rendu",
    Status.DEEMED_FAVOURABLE: "avis réputé favorable",
}
EVENT_LABELS = {
    EventKind.OPENED: "saisine ouverte",
    EventKind.RECEIVED: "dossier complet reçu",
    EventKind.INFORMATION_REQUESTED: "informations complémentaires demandées",
    EventKind.INFORMATION_RECEIVED: "informations complémentaires reçues",
    EventKind.OBSERVATIONS_RECEIVED: "observations reçues",
    EventKind.OPINION_GIVEN: "avis rendu",
    EventKind.DEEMED_FAVOURABLE: "avis réputé favorable",
}
OBSERVER_LABELS = {Observer.ANSSI: "ANSSI", Observer.BUDGET: "direction du budget"}
SENSE_LABELS = {
    Sense.FAVOURABLE: "favorable",
    Sense.FAVOURABLE_WITH_RESERVATIONS: "favorable avec réserves",
    Sense.UNFAVOURABLE: "défavorable",
    Sense.DEEMED_FAVOURABLE: "réputé favorable",
}
AXIS_LABELS = {
    Axis.STRATEGY: "stratégie",
    Axis.FINANCES: "finances",
    Axis.GOVERNANCE: "gouvernance",
    Axis.DELIVERY: "exécution",
    Axis.PLANNING: "planning",
}
RATING_LABELS = {
    Rating.SATISFACTORY: "satisfaisant",
    Rating.TO_IMPROVE: "à améliorer",
    Rating.INSUFFICIENT: "insuffisant",
    Rating.CRITICAL: "critique",
}

NOT_FOUND_REQUEST = "Saisine introuvable."
NOT_FOUND_PROJECT = "Projet introuvable."
NOT_FOUND_RECOMMENDATION = "Recommandation introuvable."
NOT_FOUND_DOCUMENT = "Document introuvable."


# --- What the functions return ----------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """A project's current figures: complete cost (€ TTC), start, planned end."""

    cost_eur: int | None
    start_date: date | None
    end_date: date | None


@dataclass(frozen=True)
class OpinionDrift:
    """A project's drift since an opinion: its figures then (recorded on the opinion)
    and now (``current_figures``); ``budget`` and ``schedule`` as ratios (0.12 = +12 %),
    None when a figure is missing."""

    then: Figures
    now: Figures
    budget: Decimal | None
    schedule: Decimal | None


@dataclass(frozen=True)
class RequestView:
    """A request with its project, its ministry's code and its clock."""

    request: OpinionRequest
    project: Project
    ministry_code: str
    clock: Clock


@dataclass(frozen=True)
class DueItem:
    """What falls due soon on a running clock: ``what`` is ``opinion`` (DINUM's deadline)
    or ``observations`` (ANSSI's and the budget director's window)."""

    view: RequestView
    what: str
    due_on: date
    days_left: int


@dataclass(frozen=True)
class ThresholdFlag:
    """A project at or above the threshold without an opinion. ``irregular``: it is past
    the framing (contracting or under contract) without one. ``request``: its running
    request, if any."""

    project: Project
    ministry_code: str
    cost_eur: int
    phase: str | None
    irregular: bool
    request: OpinionRequest | None


@dataclass(frozen=True)
class OverdueRecommendation:
    recommendation: Recommendation
    project: Project
    ministry_code: str
    days_late: int


@dataclass(frozen=True)
class OpinionSummary:
    """What the public panorama may show of a project's latest opinion."""

    project_id: int
    given_on: date
    sense: str
    open_recommendations: int


@dataclass(frozen=True)
class FollowUp:
    """A recommendation as its ministry follows it: its project, the day of its opinion
    and its latest status change (``last``: its history's last event)."""

    recommendation: Recommendation
    project: Project
    given_on: date
    last: RecommendationEvent | None


@dataclass(frozen=True)
class AxisInput:
    axis: str
    rating: str
    comment: str


@dataclass(frozen=True)
class RecommendationInput:
    text: str
    owner: str
    due_on: date


@dataclass
class DailyResult:
    expired: list[OpinionRequest] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)


# --- Access helpers ---------------------------------------------------------------------


def _ministry_of(session: Session, project_id: int) -> int:
    project = session.get(Project, project_id)
    assert project is not None
    return project.ministry_id


def get_request(
    session: Session, principal: Principal, request_id: int, action: Action = Action.READ_OPINIONS
) -> OpinionRequest:
    """The request ``request_id`` if ``principal`` may perform ``action`` on it (raises
    ``AccessDenied``: not_found for an unknown one or another ministry's)."""
    require_action(principal, action)
    found = session.get(OpinionRequest, request_id)
    if found is None:
        raise AccessDenied("not_found", NOT_FOUND_REQUEST)
    require_on(principal, action, _ministry_of(session, found.project_id), NOT_FOUND_REQUEST)
    return found


def get_recommendation(
    session: Session,
    principal: Principal,
    recommendation_id: int,
    action: Action = Action.READ_OPINIONS,
) -> Recommendation:
    """The recommendation if ``principal`` may perform ``action`` on it (else
    ``AccessDenied``)."""
    require_action(principal, action)
    found = session.get(Recommendation, recommendation_id)
    if found is None:
        raise AccessDenied("not_found", NOT_FOUND_RECOMMENDATION)
    require_on(principal, action, _ministry_of(session, found.project_id), NOT_FOUND_RECOMMENDATION)
    return found


def _scope(principal: Principal, ministry_id: int | None) -> int | None:
    """The ministry a listing is restricted to: a ministry's own, always."""
    require_action(principal, Action.READ_OPINIONS)
    if principal.role == Role.MINISTRY:
        return principal.ministry_id
    return ministry_id


# --- Figures and the threshold watch ----------------------------------------------------


def current_figures(
    session: Session, project_ids: Iterable[int] | None = None
) -> dict[int, Figures]:
    """Each project's current figures: the cost is the latest report's current cost
    ("coût actualisé": the complete forecast cost, build plus the first two years of run),
    else the latest baseline's; the end is the latest report's forecast end, else the
    latest baseline's; the start is the project's, else its initial baseline's."""
    ids = None if project_ids is None else list(project_ids)
    reports = projects.latest_reports(session, ids)
    bases = projects.baselines_by_project(session, ids)
    query = select(Project)
    if ids is not None:
        query = query.where(col(Project.id).in_(ids))
    found: dict[int, Figures] = {}
    for project in session.exec(query):
        assert project.id is not None
        report = reports.get(project.id)
        initial, latest = bases.get(project.id, (None, None))
        cost = report.current_cost_eur if report else None
        if cost is None and latest is not None:
            cost = latest.cost_eur
        end = report.forecast_end if report else None
        if end is None and latest is not None:
            end = latest.end_date
        start = project.start_date or (initial.start_date if initial else None)
        found[project.id] = Figures(cost, start, end)
    return found


def threshold_flags(
    session: Session, principal: Principal, *, ministry_id: int | None = None
) -> list[ThresholdFlag]:
    """Projects whose current cost reaches ``PILOT_OPINION_THRESHOLD_EUR`` without an
    opinion (given or deemed favourable), irregular ones first, then by cost (highest
    first). Projects finished or abandoned are not watched. A ministry sees its own."""
    scope = _scope(principal, ministry_id)
    threshold = get_settings().opinion_threshold_eur
    query = select(Project, Ministry.code).join(Ministry)
    if scope is not None:
        query = query.where(Project.ministry_id == scope)
    pairs = list(session.exec(query))
    ids = [p.id for p, _ in pairs if p.id is not None]
    figures = current_figures(session, ids)
    reports = projects.latest_reports(session, ids)
    with_opinion = set(
        session.exec(select(Opinion.project_id).where(col(Opinion.project_id).in_(ids))).all()
    )
    running = {
        r.project_id: r
        for r in session.exec(
            select(OpinionRequest).where(
                col(OpinionRequest.project_id).in_(ids),
                col(OpinionRequest.status).not_in([s.value for s in TERMINAL]),
            )
        )
    }
    flags = []
    for project, code in pairs:
        assert project.id is not None
        cost = figures[project.id].cost_eur
        report = reports.get(project.id)
        phase = report.phase if report and report.phase else project.phase
        if cost is None or cost < threshold or project.id in with_opinion or phase in FINISHED:
            continue
        flags.append(
            ThresholdFlag(
                project=project,
                ministry_code=code,
                cost_eur=cost,
                phase=phase,
                irregular=phase in UNDER_CONTRACT,
                request=running.get(project.id),
            )
        )
    return sorted(flags, key=lambda f: (not f.irregular, -f.cost_eur, f.project.id or 0))


# --- Requests ---------------------------------------------------------------------------


def open_request(
    session: Session,
    principal: Principal,
    project: Project,
    *,
    subject: str,
    on: date,
    binding: bool = True,
) -> OpinionRequest:
    """Open a request (saisine) for ``project``, as a draft: its file is then put
    together (``add_document``) until DINUM records it complete (``receive_file``). A
    ministry opens one for its own projects; DINUM for any. One running request per
    project at a time."""
    require_on(principal, Action.REQUEST_OPINION, project.ministry_id, NOT_FOUND_PROJECT)
    _in_range(on)
    subject = clean_text(subject or "")
    if not subject:
        raise DomainError("Indiquez l'objet de la saisine.")
    if len(subject) > MAX_SUBJECT:
        raise DomainError(f"L'objet de la saisine dépasse {MAX_SUBJECT} caractères.")
    running = session.exec(
        select(OpinionRequest).where(
            OpinionRequest.project_id == project.id,
            col(OpinionRequest.status).not_in([s.value for s in TERMINAL]),
        )
    ).first()
    if running is not None:
        raise DomainError(
            f"Une saisine est déjà en cours pour ce projet (n° {running.id}, "
            f"{STATUS_LABELS[Status(running.status)]})."
        )
    assert project.id is not None
    request = OpinionRequest(
        project_id=project.id,
        binding=binding,
        subject=subject,
        opened_by=principal.actor,
        opened_on=on,
    )
    session.add(request)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="create",
        obj=request,
        project_id=project.id,
        new=subject,
    )
    _append(session, request, EventKind.OPENED, on=on, actor=principal.actor)
    return request


def events(session: Session, principal: Principal, request: OpinionRequest) -> list[OpinionEvent]:
    """The request's history, oldest first."""
    get_request(session, principal, _id(request))
    return _events_of(session, [_id(request)]).get(_id(request), [])


def clock_of(session: Session, principal: Principal, request: OpinionRequest) -> Clock:
    """The request's statutory clock (``pilot.opinions.clock``)."""
    return compute_clock(clock_events(events(session, principal, request)))


def _id(obj: Any) -> int:
    assert obj.id is not None
    return int(obj.id)


def _events_of(session: Session, request_ids: Sequence[int]) -> dict[int, list[OpinionEvent]]:
    found: dict[int, list[OpinionEvent]] = {}
    rows = session.exec(
        select(OpinionEvent)
        .where(col(OpinionEvent.request_id).in_(list(request_ids)))
        .order_by(col(OpinionEvent.request_id), col(OpinionEvent.id))
    )
    for e in rows:
        found.setdefault(e.request_id, []).append(e)
    return found


def clock_events(rows: Iterable[OpinionEvent]) -> list[ClockEvent]:
    """The clock's view of event rows (ORM rows or named tuples of their columns)."""
    return [
        ClockEvent(EventKind(e.kind), e.happened_on, Observer(e.observer) if e.observer else None)
        for e in rows
    ]


def _append(
    session: Session,
    request: OpinionRequest,
    kind: EventKind,
    *,
    on: date,
    actor: str,
    observer: Observer | None = None,
    note: str | None = None,
) -> OpinionEvent:
    """Append an event, then write the status it leads to (with an audit event)."""
    event = OpinionEvent(
        request_id=_id(request),
        kind=kind.value,
        happened_on=on,
        observer=observer.value if observer else None,
        actor=actor,
        note=note,
    )
    session.add(event)
    session.flush()
    history = _events_of(session, [_id(request)])[_id(request)]
    status = compute_clock(clock_events(history)).status
    audit.record_changes(
        session,
        actor=actor,
        obj=request,
        project_id=request.project_id,
        changes={"status": status.value},
    )
    session.flush()
    return event


def _note(note: str | None, *, required: str | None = None) -> str | None:
    text = keep_text(note or "")
    if not text and required:
        raise DomainError(required)
    if len(text) > MAX_TEXT:
        raise DomainError(f"Le texte dépasse {MAX_TEXT} caractères : raccourcissez-le.")
    return text or None


FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


def _in_range(day: date) -> date:
    """Refuse a day outside 2000–2100 (a typo, or a date no statutory clock can reach)."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DomainError(
            f"Date hors des bornes : « {day.isoformat()} » (de l'an 2000 à l'an 2100)."
        )
    return day


def _check_day(request: OpinionRequest, history: list[OpinionEvent], on: date) -> None:
    _in_range(on)
    last = history[-1].happened_on if history else request.opened_on
    if on < last:
        raise DomainError(
            f"La date ({french_date(on)}) précède la dernière étape de la saisine "
            f"({french_date(last)})."
        )


def _transition(
    session: Session,
    principal: Principal,
    request: OpinionRequest,
    kind: EventKind,
    action: Action,
    allowed: Sequence[Status],
    *,
    on: date,
    observer: Observer | None = None,
    note: str | None = None,
) -> OpinionEvent:
    get_request(session, principal, _id(request), action)
    history = _events_of(session, [_id(request)]).get(_id(request), [])
    clock = compute_clock(clock_events(history))
    if clock.status not in allowed:
        raise DomainError(
            f"Étape impossible : la saisine est « {STATUS_LABELS[clock.status]} » ; "
            f"« {EVENT_LABELS[kind]} » n'est possible que si elle est "
            + " ou ".join(f"« {STATUS_LABELS[s]} »" for s in allowed)
            + "."
        )
    _check_day(request, history, on)
    return _append(
        session, request, kind, on=on, actor=principal.actor, observer=observer, note=note
    )


RUNNING = (Status.RECEIVED, Status.OBSERVATIONS_RECEIVED)


def receive_file(
    session: Session,
    principal: Principal,
    request: OpinionRequest,
    *,
    on: date,
    note: str | None = None,
) -> OpinionEvent:
    """DINUM records the file complete, received ``on``: the month starts (draft →
    received). The file must hold at least one document."""
    get_request(session, principal, _id(request), Action.DECIDE_OPINION)
    if not documents_of(session, request):
        raise DomainError("Le dossier est vide : ajoutez-y au moins un document.")
    return _transition(
        session,
        principal,
        request,
        EventKind.RECEIVED,
        Action.DECIDE_OPINION,
        (Status.DRAFT,),
        on=on,
        note=_note(note),
    )


def request_information(
    session: Session, principal: Principal, request: OpinionRequest, *, on: date, note: str
) -> OpinionEvent:
    """DINUM asks the ministry for more information (what, in ``note``): the month is
    suspended from ``on`` until the information is received."""
    return _transition(
        session,
        principal,
        request,
        EventKind.INFORMATION_REQUESTED,
        Action.DECIDE_OPINION,
        RUNNING,
        on=on,
        note=_note(note, required="Indiquez les informations demandées."),
    )


def receive_information(
    session: Session,
    principal: Principal,
    request: OpinionRequest,
    *,
    on: date,
    note: str | None = None,
) -> OpinionEvent:
    """The information asked for was received ``on`` (recorded by the ministry answering,
    or by DINUM): the month runs again, the deadline moved by the days suspended."""
    return _transition(
        session,
        principal,
        request,
        EventKind.INFORMATION_RECEIVED,
        Action.REQUEST_OPINION,
        (Status.INFORMATION_REQUESTED,),
        on=on,
        note=_note(note),
    )


def record_observations(
    session: Session,
    principal: Principal,
    request: OpinionRequest,
    *,
    observer: str,
    on: date,
    note: str | None = None,
) -> OpinionEvent:
    """DINUM records the observations of ANSSI (``anssi``) or of the budget director
    (``budget``), received ``on``; once per observer."""
    try:
        who = Observer(observer)
    except ValueError as error:
        raise DomainError(f"Observateur inconnu : « {observer} » (anssi ou budget).") from error
    history = _events_of(session, [_id(request)]).get(_id(request), [])
    if who in compute_clock(clock_events(history)).observations:
        raise DomainError(f"Les observations de : {OBSERVER_LABELS[who]} sont déjà enregistrées.")
    return _transition(
        session,
        principal,
        request,
        EventKind.OBSERVATIONS_RECEIVED,
        Action.DECIDE_OPINION,
        (*RUNNING, Status.INFORMATION_REQUESTED),
        on=on,
        observer=who,
        note=_note(note),
    )


# --- Documents --------------------------------------------------------------------------


def _document_type(filename: str, data: bytes) -> str:
    suffix = Path(filename).suffix.lower()
    allowed = ", ".join(sorted(DOCUMENT_TYPES))
    if suffix not in DOCUMENT_TYPES:
        raise DomainError(f"Type de document refusé : « {suffix or filename} » ({allowed}).")
    media_type, magic = DOCUMENT_TYPES[suffix]
    if magic is not None and not data.startswith(magic):
        raise DomainError(f"Le fichier « {filename} » n'est pas un document {suffix} valide.")
    if magic is None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise DomainError(f"Le fichier « {filename} » n'est pas un texte en UTF-8.") from error
        if "\x00" in text:
            raise DomainError(f"Le fichier « {filename} » n'est pas un texte.")
    return media_type


def _size(n: int) -> str:
    """A size in French: « 20,0 Mo », « 512 ko », « 100 octets »."""
    if n >= 1_000_000:
        return f"{n / 1e6:.1f} Mo".replace(".", ",")
    if n >= 1_000:
        return f"{n // 1_000} ko"
    return f"{n} octets"


def add_document(
    session: Session,
    principal: Principal,
    request: OpinionRequest,
    *,
    filename: str,
    data: bytes,
) -> OpinionDocument:
    """Add a document to the request's file, archived unchanged (``pilot.storage``, under
    ``<uploads>/opinions``) and never parsed. Allowed while the request is a draft or
    information is requested; types: ``DOCUMENT_TYPES``; at most
    ``PILOT_OPINION_MAX_DOCUMENTS`` documents of ``PILOT_OPINION_MAX_DOCUMENT_BYTES``
    each. Raises ``DomainError`` (French) on bad input, ``StorageError`` when the disk
    refuses (nothing recorded either way)."""
    get_request(session, principal, _id(request), Action.REQUEST_OPINION)
    settings = get_settings()
    status = Status(request.status)
    if status not in (Status.DRAFT, Status.INFORMATION_REQUESTED):
        raise DomainError(
            "Le dossier ne se complète qu'en préparation ou quand des informations sont "
            f"demandées (la saisine est « {STATUS_LABELS[status]} »)."
        )
    name = clean_text(Path(filename.replace("\\", "/")).name)[:MAX_FILENAME]
    if not name:
        raise DomainError("Le document n'a pas de nom.")
    if len(data) > settings.opinion_max_document_bytes:
        raise DomainError(
            f"Le document « {name} » dépasse la limite de "
            f"{_size(settings.opinion_max_document_bytes)} : allégez-le ou scindez-le."
        )
    if not data:
        raise DomainError(f"Le document « {name} » est vide.")
    if len(documents_of(session, request)) >= settings.opinion_max_documents:
        raise DomainError(
            f"Le dossier compte déjà {settings.opinion_max_documents} documents, le maximum."
        )
    media_type = _document_type(name, data)
    stored = archive_bytes(
        data, settings.uploads_path / "opinions", suffix=Path(name).suffix.lower()
    )
    document = OpinionDocument(
        request_id=_id(request),
        filename=name,
        media_type=media_type,
        sha256=stored.name.split(".")[0],
        size_bytes=len(data),
        stored_path=str(stored),
        uploaded_by=principal.actor,
    )
    session.add(document)
    session.flush()
    audit.record(
        session,
        actor=principal.actor,
        action="create",
        obj=document,
        project_id=request.project_id,
        new=f"{name} ({len(data)} octets)",
    )
    return document


def documents_of(session: Session, request: OpinionRequest) -> list[OpinionDocument]:
    return list(
        session.exec(
            select(OpinionDocument)
            .where(OpinionDocument.request_id == request.id)
            .order_by(col(OpinionDocument.id))
        )
    )


def documents(
    session: Session, principal: Principal, request: OpinionRequest
) -> list[OpinionDocument]:
    """The request's file (metadata), oldest first."""
    get_request(session, principal, _id(request))
    return documents_of(session, request)


def document_content(
    session: Session, principal: Principal, document_id: int
) -> tuple[OpinionDocument, bytes]:
    """A document and its bytes, as archived."""
    require_action(principal, Action.READ_OPINIONS)
    document = session.get(OpinionDocument, document_id)
    if document is None:
        raise AccessDenied("not_found", NOT_FOUND_DOCUMENT)
    request = session.get(OpinionRequest, document.request_id)
    assert request is not None
    require_on(
        principal,
        Action.READ_OPINIONS,
        _ministry_of(session, request.project_id),
        NOT_FOUND_DOCUMENT,
    )
    return document, Path(document.stored_path).read_bytes()


# --- Listings ---------------------------------------------------------------------------


def list_requests(
    session: Session,
    principal: Principal,
    *,
    ministry_id: int | None = None,
    project_id: int | None = None,
    statuses: Sequence[str] | None = None,
) -> list[RequestView]:
    """Requests (newest first) with their project, ministry and clock, in a few
    statements; a ministry sees its own."""
    scope = _scope(principal, ministry_id)
    query = (
        select(OpinionRequest, Project, Ministry.code)
        .join(Project, col(Project.id) == OpinionRequest.project_id)
        .join(Ministry, col(Ministry.id) == Project.ministry_id)
    )
    if scope is not None:
        query = query.where(Project.ministry_id == scope)
    if project_id is not None:
        query = query.where(OpinionRequest.project_id == project_id)
    if statuses is not None:
        query = query.where(col(OpinionRequest.status).in_(list(statuses)))
    rows = list(session.exec(query.order_by(col(OpinionRequest.id).desc())))
    history = _events_of(session, [_id(r) for r, _, _ in rows])
    return [
        RequestView(r, p, code, compute_clock(clock_events(history.get(_id(r), []))))
        for r, p, code in rows
    ]


def running_clocks(
    session: Session,
    principal: Principal,
    today: date,
    *,
    within_days: int = DUE_SOON_DAYS,
    ministry_id: int | None = None,
) -> tuple[list[RequestView], list[DueItem]]:
    """Every running clock (received, suspended or with observations: no opinion yet),
    by deadline (suspended ones last), and what falls due from ``today`` to ``today +
    within_days`` (both included), soonest first."""
    views = list_requests(
        session,
        principal,
        ministry_id=ministry_id,
        statuses=[Status.RECEIVED, Status.INFORMATION_REQUESTED, Status.OBSERVATIONS_RECEIVED],
    )
    views.sort(key=lambda v: (v.clock.deadline is None, v.clock.deadline or today, _id(v.request)))
    due = [
        DueItem(v, what, day, (day - today).days)
        for v in views
        for what, day in v.clock.due_within(today, within_days)
    ]
    due.sort(key=lambda d: (d.due_on, d.what, _id(d.view.request)))
    return views, due


# --- The opinion ------------------------------------------------------------------------


def _axes(given: Sequence[AxisInput]) -> list[OpinionAxis]:
    rows: dict[Axis, OpinionAxis] = {}
    for a in given:
        try:
            axis, rating = Axis(a.axis), Rating(a.rating)
        except ValueError as error:
            raise DomainError(
                f"Axe ou appréciation inconnus : « {a.axis} », « {a.rating} »."
            ) from error
        if axis in rows:
            raise DomainError(f"L'axe « {AXIS_LABELS[axis]} » est donné deux fois.")
        comment = _note(a.comment, required=f"Commentez l'axe « {AXIS_LABELS[axis]} ».")
        assert comment is not None
        rows[axis] = OpinionAxis(
            opinion_id=0, axis=axis.value, rating=rating.value, comment=comment
        )
    missing = [AXIS_LABELS[a] for a in Axis if a not in rows]
    if missing:
        raise DomainError("Il manque l'appréciation des axes : " + ", ".join(missing) + ".")
    return [rows[a] for a in Axis]


def _recommendations(given: Sequence[RecommendationInput], on: date) -> list[Recommendation]:
    if len(given) > MAX_RECOMMENDATIONS:
        raise DomainError(f"Au plus {MAX_RECOMMENDATIONS} recommandations par avis.")
    rows = []
    for number, r in enumerate(given, start=1):
        text = _note(r.text, required=f"La recommandation n° {number} n'a pas de texte.")
        owner = clean_text(r.owner or "")
        if not owner or len(owner) > MAX_OWNER:
            raise DomainError(
                f"La recommandation n° {number} doit avoir un responsable "
                f"({MAX_OWNER} caractères au plus)."
            )
        _in_range(r.due_on)
        if r.due_on < on:
            raise DomainError(
                f"L'échéance de la recommandation n° {number} ({french_date(r.due_on)}) "
                "précède l'avis."
            )
        assert text is not None
        rows.append(
            Recommendation(
                opinion_id=0, project_id=0, number=number, text=text, owner=owner, due_on=r.due_on
            )
        )
    return rows


def give_opinion(
    session: Session,
    principal: Principal,
    request: OpinionRequest,
    *,
    sense: str,
    on: date,
    axes: Sequence[AxisInput],
    recommendations: Sequence[RecommendationInput] = (),
    summary: str | None = None,
) -> Opinion:
    """DINUM gives its opinion ``on`` (favourable, favourable_with_reservations or
    unfavourable), rating each of the five axes with a comment, with its recommendations
    (each open, owned, due). The project's current figures are recorded on the opinion;
    the first approving opinion of a project makes them its approved baseline
    (``approve_baseline``)."""
    try:
        chosen = Sense(sense)
    except ValueError as error:
        raise DomainError(f"Sens d'avis inconnu : « {sense} ».") from error
    if chosen == Sense.DEEMED_FAVOURABLE:
        raise DomainError("Un avis réputé favorable ne se rend pas : il naît du délai écoulé.")
    get_request(session, principal, _id(request), Action.DECIDE_OPINION)
    axis_rows = _axes(axes)
    recommendation_rows = _recommendations(recommendations, on)
    _transition(
        session,
        principal,
        request,
        EventKind.OPINION_GIVEN,
        Action.DECIDE_OPINION,
        (*RUNNING, Status.INFORMATION_REQUESTED),
        on=on,
        note=SENSE_LABELS[chosen],
    )
    opinion = _record_opinion(
        session, request, chosen, on=on, actor=principal.actor, summary=_note(summary)
    )
    for row in axis_rows:
        row.opinion_id = _id(opinion)
        session.add(row)
    for rec in recommendation_rows:
        rec.opinion_id, rec.project_id = _id(opinion), request.project_id
        session.add(rec)
    session.flush()
    for rec in recommendation_rows:
        session.add(
            RecommendationEvent(
                recommendation_id=_id(rec),
                status=RecommendationStatus.OPEN.value,
                changed_on=on,
                actor=principal.actor,
            )
        )
    session.flush()
    return opinion


def _record_opinion(
    session: Session,
    request: OpinionRequest,
    sense: Sense,
    *,
    on: date,
    actor: str,
    summary: str | None,
) -> Opinion:
    figures = current_figures(session, [request.project_id])[request.project_id]
    opinion = Opinion(
        request_id=_id(request),
        project_id=request.project_id,
        sense=sense.value,
        given_on=on,
        given_by=actor,
        summary=summary,
        baseline_cost_eur=figures.cost_eur,
        baseline_start_date=figures.start_date,
        baseline_end_date=figures.end_date,
    )
    session.add(opinion)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="create",
        obj=opinion,
        project_id=request.project_id,
        field="sense",
        new=sense.value,
    )
    if sense in APPROVING:
        opinion.baseline_id = _id(approve_baseline(session, opinion, actor=actor))
        session.flush()
    return opinion


def approve_baseline(session: Session, opinion: Opinion, *, actor: str) -> Baseline:
    """The approved baseline of an approving opinion, through the baseline model: when
    it is the project's first approving opinion, its figures become the project's
    baseline: the initial baseline when the project has none, else a re-baseline whose
    reason names the opinion (the initial one stays, so drift against it stays visible)
    — unless the latest baseline already holds the same figures (then it is that one).
    A later opinion approves nothing new: it returns the project's latest baseline."""
    project = session.get(Project, opinion.project_id)
    assert project is not None
    earlier = session.exec(
        select(Opinion).where(
            Opinion.project_id == opinion.project_id,
            col(Opinion.id) != opinion.id,
            col(Opinion.sense).in_([s.value for s in APPROVING]),
        )
    ).first()
    initial, latest = projects.baselines_by_project(session, [_id(project)]).get(
        _id(project), (None, None)
    )
    if earlier is not None and latest is not None:
        return latest
    label = (
        f"avis {SENSE_LABELS[Sense(opinion.sense)]} de la DINUM du "
        f"{french_date(opinion.given_on)} (saisine n° {opinion.request_id})"
    )
    figures = (opinion.baseline_cost_eur, opinion.baseline_start_date, opinion.baseline_end_date)
    if initial is None:
        return projects.set_initial_baseline(
            session,
            project,
            approved_on=opinion.given_on,
            cost_eur=figures[0],
            start_date=figures[1],
            end_date=figures[2],
            actor=actor,
            source=label[:300],
        )
    assert latest is not None
    if (latest.cost_eur, latest.start_date, latest.end_date) == figures:
        return latest
    return projects.rebaseline(
        session,
        project,
        reason=f"Référence approuvée par l'{label}.",
        approved_on=opinion.given_on,
        cost_eur=figures[0],
        start_date=figures[1],
        end_date=figures[2],
        actor=actor,
    )


def opinion_of(session: Session, principal: Principal, request: OpinionRequest) -> Opinion | None:
    """The request's opinion (given or deemed favourable), if any."""
    get_request(session, principal, _id(request))
    return session.exec(select(Opinion).where(Opinion.request_id == request.id)).first()


def axes_of(session: Session, principal: Principal, opinion: Opinion) -> list[OpinionAxis]:
    """The opinion's five axes, in the order of ``Axis`` (none for a deemed one)."""
    get_request(session, principal, opinion.request_id)
    rows = {
        a.axis: a
        for a in session.exec(select(OpinionAxis).where(OpinionAxis.opinion_id == opinion.id))
    }
    return [rows[a.value] for a in Axis if a.value in rows]


def project_opinions(session: Session, principal: Principal, project: Project) -> list[Opinion]:
    """A project's opinions, newest first."""
    require_on(principal, Action.READ_OPINIONS, project.ministry_id, NOT_FOUND_PROJECT)
    return list(
        session.exec(
            select(Opinion)
            .where(Opinion.project_id == project.id)
            .order_by(col(Opinion.given_on).desc(), col(Opinion.id).desc())
        )
    )


def drift_since_opinion(session: Session, principal: Principal, opinion: Opinion) -> OpinionDrift:
    """How far the project moved since the opinion: budget and schedule drift of its
    current figures against those recorded on the opinion (``opinion_drift``)."""
    get_request(session, principal, opinion.request_id)
    now = current_figures(session, [opinion.project_id])[opinion.project_id]
    return opinion_drift(opinion, now)


def opinion_drift(opinion: Opinion, now: Figures) -> OpinionDrift:
    """The drift of figures ``now`` against those recorded on ``opinion``, computed as
    every drift is (``pilot.indicators.drift``; the schedule from the opinion's start)."""
    then = Figures(
        opinion.baseline_cost_eur, opinion.baseline_start_date, opinion.baseline_end_date
    )
    reference = BaselineFigures(then.cost_eur, then.start_date, then.end_date)
    drift = project_drift(reference, reference, CurrentFigures(now.cost_eur, now.end_date))
    return OpinionDrift(then, now, drift.budget_initial, drift.schedule_initial)


def publish_opinion(
    session: Session, principal: Principal, opinion: Opinion, *, published: bool = True
) -> Opinion:
    """DINUM makes an opinion's content public (or withdraws it); by default the public
    sees only its date, its sense and its number of open recommendations."""
    get_request(session, principal, opinion.request_id, Action.DECIDE_OPINION)
    audit.record_changes(
        session,
        actor=principal.actor,
        obj=opinion,
        project_id=opinion.project_id,
        changes={"published": published},
    )
    session.flush()
    return opinion


def opinion_summaries(
    session: Session, project_ids: Iterable[int] | None = None, *, as_of: date | None = None
) -> dict[int, OpinionSummary]:
    """For publication (no principal: the publishing code withholds confidential
    projects like everything else): each project's latest opinion, its date, its sense
    and its number of open recommendations. With ``as_of`` (an edition's
    ``published_on``), as they were that day: the latest opinion given by then, and
    each recommendation's status by its history (its latest change made by then), not
    as it is when the edition is published."""
    ids = None if project_ids is None else list(project_ids)
    query = select(Opinion).order_by(col(Opinion.given_on), col(Opinion.id))
    if ids is not None:
        query = query.where(col(Opinion.project_id).in_(ids))
    if as_of is not None:
        query = query.where(Opinion.given_on <= as_of)
    latest = {o.project_id: o for o in session.exec(query)}
    counts: dict[int, int] = {}
    if as_of is None:
        open_query = select(Recommendation.project_id).where(
            col(Recommendation.status).in_([s.value for s in OPEN_RECOMMENDATION])
        )
        if ids is not None:
            open_query = open_query.where(col(Recommendation.project_id).in_(list(latest)))
        for pid in session.exec(open_query):
            counts[pid] = counts.get(pid, 0) + 1
    else:
        history = (
            select(
                RecommendationEvent.recommendation_id,
                Recommendation.project_id,
                RecommendationEvent.status,
            )
            .join(Recommendation, col(Recommendation.id) == RecommendationEvent.recommendation_id)
            .join(Opinion, col(Opinion.id) == Recommendation.opinion_id)
            .where(Opinion.given_on <= as_of, RecommendationEvent.changed_on <= as_of)
            .order_by(
                col(RecommendationEvent.recommendation_id),
                col(RecommendationEvent.changed_on),
                col(RecommendationEvent.id),
            )
        )
        if ids is not None:
            history = history.where(col(Recommendation.project_id).in_(list(latest)))
        status_then: dict[int, tuple[int, str]] = {}
        for rid, pid, status in session.exec(history):
            status_then[rid] = (pid, status)  # the latest change by then wins
        open_values = {s.value for s in OPEN_RECOMMENDATION}
        for pid, status in status_then.values():
            if status in open_values:
                counts[pid] = counts.get(pid, 0) + 1
    return {
        pid: OpinionSummary(pid, o.given_on, o.sense, counts.get(pid, 0))
        for pid, o in latest.items()
    }


# --- Recommendations --------------------------------------------------------------------


def recommendations(
    session: Session,
    principal: Principal,
    *,
    opinion_id: int | None = None,
    project_id: int | None = None,
    ministry_id: int | None = None,
    open_only: bool = False,
) -> list[tuple[Recommendation, Project, str]]:
    """Recommendations with their project and ministry code (by due date); a ministry
    sees its own."""
    scope = _scope(principal, ministry_id)
    query = (
        select(Recommendation, Project, Ministry.code)
        .join(Project, col(Project.id) == Recommendation.project_id)
        .join(Ministry, col(Ministry.id) == Project.ministry_id)
    )
    if scope is not None:
        query = query.where(Project.ministry_id == scope)
    if opinion_id is not None:
        query = query.where(Recommendation.opinion_id == opinion_id)
    if project_id is not None:
        query = query.where(Recommendation.project_id == project_id)
    if open_only:
        query = query.where(col(Recommendation.status).in_([s.value for s in OPEN_RECOMMENDATION]))
    rows = session.exec(query.order_by(col(Recommendation.due_on), col(Recommendation.id)))
    return [(r, p, code) for r, p, code in rows]


def check_recommendation_change(
    principal: Principal,
    current: str,
    last_changed_on: date | None,
    *,
    status: str,
    on: date,
    comment: str | None = None,
) -> tuple[RecommendationStatus, str | None]:
    """The rules of a recommendation's change of status, from its ``current`` status and
    the day of its latest change: the new status and the comment as kept. Raises
    ``DomainError`` (French) or ``AccessDenied`` (``dropped`` is DINUM's). Changes
    nothing: ``update_recommendation`` applies these rules, and the ministry workbook
    checks its rows with them before applying any (``importers.workbook``)."""
    try:
        new = RecommendationStatus(status)
    except ValueError as error:
        raise DomainError(
            f"Statut inconnu : « {status} » (open, in_progress, closed ou dropped)."
        ) from error
    if new == RecommendationStatus.DROPPED and not allows(principal, Action.DECIDE_OPINION):
        raise AccessDenied("forbidden", "Seule la DINUM peut abandonner une recommandation.")
    _in_range(on)
    if new.value == current:
        raise DomainError(f"La recommandation est déjà « {RECOMMENDATION_LABELS[new]} ».")
    text = _note(
        comment,
        required="Dites pourquoi la recommandation est abandonnée."
        if new == RecommendationStatus.DROPPED
        else None,
    )
    if last_changed_on is not None and on < last_changed_on:
        raise DomainError(
            f"La date ({french_date(on)}) précède le dernier changement "
            f"({french_date(last_changed_on)})."
        )
    return new, text


def update_recommendation(
    session: Session,
    principal: Principal,
    recommendation: Recommendation,
    *,
    status: str,
    on: date,
    comment: str | None = None,
) -> RecommendationEvent:
    """The ministry (or DINUM) moves a recommendation to ``status`` (open, in_progress,
    closed; ``dropped`` is DINUM's, with a comment) on ``on``; the history is kept. The
    one write of a status, whatever the channel (its page, GraphQL, the workbook)."""
    get_recommendation(session, principal, _id(recommendation), Action.UPDATE_RECOMMENDATION)
    last = session.exec(
        select(RecommendationEvent)
        .where(RecommendationEvent.recommendation_id == recommendation.id)
        .order_by(col(RecommendationEvent.id).desc())
    ).first()
    new, text = check_recommendation_change(
        principal,
        recommendation.status,
        last.changed_on if last is not None else None,
        status=status,
        on=on,
        comment=comment,
    )
    event = RecommendationEvent(
        recommendation_id=_id(recommendation),
        status=new.value,
        changed_on=on,
        actor=principal.actor,
        comment=text,
    )
    session.add(event)
    audit.record_changes(
        session,
        actor=principal.actor,
        obj=recommendation,
        project_id=recommendation.project_id,
        changes={"status": new.value},
    )
    session.flush()
    return event


def follow_up(
    session: Session, principal: Principal, *, ministry_id: int | None = None
) -> list[FollowUp]:
    """Every recommendation with its project, its opinion's day and its latest change
    (a ministry sees its own), by project, opinion and number: the ministry workbook's
    "Recommandations" sheet. Two queries, whatever the number of recommendations."""
    scope = _scope(principal, ministry_id)
    query = (
        select(Recommendation, Project, col(Opinion.given_on))
        .join(Project, col(Project.id) == Recommendation.project_id)
        .join(Opinion, col(Opinion.id) == Recommendation.opinion_id)
    )
    if scope is not None:
        query = query.where(Project.ministry_id == scope)
    rows = list(
        session.exec(
            query.order_by(
                col(Recommendation.project_id),
                col(Opinion.given_on),
                col(Opinion.id),
                col(Recommendation.number),
            )
        )
    )
    latest = (
        select(func.max(RecommendationEvent.id))
        .join(Recommendation, col(Recommendation.id) == RecommendationEvent.recommendation_id)
        .join(Project, col(Project.id) == Recommendation.project_id)
        .group_by(col(RecommendationEvent.recommendation_id))
    )
    if scope is not None:
        latest = latest.where(Project.ministry_id == scope)
    last = {
        e.recommendation_id: e
        for e in session.exec(
            select(RecommendationEvent).where(col(RecommendationEvent.id).in_(latest))
        )
    }
    return [FollowUp(r, p, given_on, last.get(_id(r))) for r, p, given_on in rows]


def recommendation_history(
    session: Session, principal: Principal, recommendation: Recommendation
) -> list[RecommendationEvent]:
    """The recommendation's statuses, oldest first."""
    get_recommendation(session, principal, _id(recommendation))
    return list(
        session.exec(
            select(RecommendationEvent)
            .where(RecommendationEvent.recommendation_id == recommendation.id)
            .order_by(col(RecommendationEvent.id))
        )
    )


def opinion_recommendation_history(
    session: Session, principal: Principal, opinion: Opinion
) -> list[tuple[Recommendation, RecommendationEvent]]:
    """Every status change of the opinion's recommendations, with who, when and why: by
    recommendation number, then oldest first (one query)."""
    get_request(session, principal, opinion.request_id)
    rows = session.exec(
        select(Recommendation, RecommendationEvent)
        .join(
            RecommendationEvent,
            col(RecommendationEvent.recommendation_id) == Recommendation.id,
        )
        .where(Recommendation.opinion_id == opinion.id)
        .order_by(col(Recommendation.number), col(RecommendationEvent.id))
    )
    return [(r, e) for r, e in rows]


def overdue_recommendations(
    session: Session, principal: Principal, today: date, *, ministry_id: int | None = None
) -> list[OverdueRecommendation]:
    """Open (or in progress) recommendations whose due date is before ``today``, by
    ministry code then due date; a ministry sees its own."""
    scope = _scope(principal, ministry_id)
    return _overdue(session, today, scope)


def _overdue(session: Session, today: date, ministry_id: int | None) -> list[OverdueRecommendation]:
    query = (
        select(Recommendation, Project, Ministry.code)
        .join(Project, col(Project.id) == Recommendation.project_id)
        .join(Ministry, col(Ministry.id) == Project.ministry_id)
        .where(
            col(Recommendation.status).in_([s.value for s in OPEN_RECOMMENDATION]),
            Recommendation.due_on < today,
        )
    )
    if ministry_id is not None:
        query = query.where(Project.ministry_id == ministry_id)
    rows = session.exec(query.order_by(col(Ministry.code), col(Recommendation.due_on)))
    return [OverdueRecommendation(r, p, code, (today - r.due_on).days) for r, p, code in rows]


# --- The system's daily work ------------------------------------------------------------


def expire_requests(session: Session, today: date) -> list[OpinionRequest]:
    """Record the deemed-favourable opinion of every request whose deadline passed
    before ``today`` with no opinion and no information pending: an event
    ``deemed_favourable`` dated the day after the deadline (whenever this runs), and an
    opinion of that sense (its approved baseline, if first). Idempotent: a request
    already closed is left alone (a unique index keeps one closing event per request,
    even with two processes at once). Returns the requests expired now."""
    candidates = list(
        session.exec(
            select(OpinionRequest).where(col(OpinionRequest.status).in_([s.value for s in RUNNING]))
        )
    )
    history = _events_of(session, [_id(r) for r in candidates])
    expired = []
    for request in candidates:
        clock = compute_clock(clock_events(history.get(_id(request), [])))
        if not is_expired(clock, today):
            continue
        assert clock.deemed_on is not None
        try:
            with session.begin_nested():
                _append(
                    session,
                    request,
                    EventKind.DEEMED_FAVOURABLE,
                    on=clock.deemed_on,
                    actor=SYSTEM_ACTOR,
                    note=f"Aucun avis au {french_date(clock.deadline or today)}.",
                )
                _record_opinion(
                    session,
                    request,
                    Sense.DEEMED_FAVOURABLE,
                    on=clock.deemed_on,
                    actor=SYSTEM_ACTOR,
                    summary=None,
                )
        except IntegrityError:  # another process closed it meanwhile
            continue
        expired.append(request)
    return expired


def _candidate(
    kind: str, key: str, project: Project, code: str, message: str, data: dict[str, Any]
) -> alerts.Candidate:
    c = alerts.Candidate(key=key, kind=kind, project_id=_id(project), message=message, data=data)
    c.project.update(id=project.pilot_id, name=project.name, ministry=code)
    return c


def alert_candidates(session: Session, today: date) -> list[alerts.Candidate]:
    """The opinions' alert events as of ``today``: each recommendation past due
    (``recommendation_overdue``, keyed on the recommendation: once) and each request
    deemed favourable (``opinion_deemed_favourable``, keyed on the request)."""
    found = []
    for o in _overdue(session, today, None):
        r = o.recommendation
        found.append(
            _candidate(
                "recommendation_overdue",
                f"recommendation_overdue:{_id(r)}",
                o.project,
                o.ministry_code,
                f"La recommandation n° {r.number} de l'avis sur le projet « {o.project.name} » "
                f"({o.ministry_code}), confiée à {r.owner}, devait être close le "
                f"{french_date(r.due_on)} ; elle est encore "
                f"« {RECOMMENDATION_LABELS[RecommendationStatus(r.status)]} ».",
                {"recommendation_id": r.id, "opinion_id": r.opinion_id, "due_on": r.due_on},
            )
        )
    deemed = session.exec(
        select(Opinion, Project, Ministry.code)
        .join(Project, col(Project.id) == Opinion.project_id)
        .join(Ministry, col(Ministry.id) == Project.ministry_id)
        .where(Opinion.sense == Sense.DEEMED_FAVOURABLE.value)
    )
    for opinion, project, code in deemed:
        found.append(
            _candidate(
                "opinion_deemed_favourable",
                f"opinion_deemed_favourable:{opinion.request_id}",
                project,
                code,
                f"La saisine n° {opinion.request_id} sur le projet « {project.name} » ({code}) "
                f"n'a pas reçu d'avis dans le délai : l'avis est réputé favorable depuis le "
                f"{french_date(opinion.given_on)}.",
                {"request_id": opinion.request_id, "deemed_on": opinion.given_on},
            )
        )
    return found


def daily_checks(session: Session, today: date) -> DailyResult:
    """The scheduler's daily work (and ``pilot opinion expire``): expire the requests
    whose month ran out, then record the opinions' alerts (once each; e-mailed and
    posted to webhooks by the outbox)."""
    expired = expire_requests(session, today)
    recorded = alerts.record_alerts(session, alert_candidates(session, today))
    return DailyResult(expired=expired, alerts=recorded)


def project_label(project: Project) -> str:
    return f"{format_pilot_id(_id(project))} « {project.name} »"
