"""DINUM's statutory opinions (docs/opinions.md): requests, their events, clocks and
documents, opinions with their axes and recommendations, the threshold watch, what falls
due this week; a mutation for each step. Access is the service's (``pilot.auth.access``):
its refusals become GraphQL errors here, its French ``DomainError`` BAD_USER_INPUT."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, TypeVar

import strawberry
from strawberry.file_uploads import Upload
from strawberry.types import Info

from pilot.api.graphql.context import Context, ctx
from pilot.api.graphql.errors import ACCESS_ERRORS, BadUserInput, NotFound, StorageFull, user_input
from pilot.api.graphql.types import Euros, page_size, ratio
from pilot.auth.access import AccessDenied, Action, require_action
from pilot.keys import parse_key
from pilot.ministries import service as ministries
from pilot.opinions import clock as clocks
from pilot.opinions import service as opinions
from pilot.opinions.clock import EventKind, Observer, Status
from pilot.opinions.models import (
    Axis,
    Opinion,
    OpinionAxis,
    OpinionDocument,
    OpinionEvent,
    OpinionRequest,
    Rating,
    Recommendation,
    RecommendationStatus,
    Sense,
)
from pilot.projects.models import Project, format_pilot_id, parse_pilot_id
from pilot.storage import StorageError

OpinionStatusEnum = strawberry.enum(Status, name="OpinionStatus")
OpinionEventKindEnum = strawberry.enum(EventKind, name="OpinionEventKind")
ObserverEnum = strawberry.enum(Observer, name="OpinionObserver")
SenseEnum = strawberry.enum(Sense, name="OpinionSense")
AxisEnum = strawberry.enum(Axis, name="OpinionAxisName")
RatingEnum = strawberry.enum(Rating, name="OpinionRating")
RecommendationStatusEnum = strawberry.enum(RecommendationStatus, name="RecommendationStatus")

T = TypeVar("T")


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as GraphQL errors (French messages kept)."""
    try:
        with user_input():
            yield
    except AccessDenied as denied:
        raise ACCESS_ERRORS[denied.kind](str(denied)) from denied
    except StorageError as error:
        raise StorageFull(error.strerror or str(error)) from error


def _asking(info: Info, action: Action) -> Context:
    """The request's context, once its principal's role may ever perform ``action``
    (before anything is looked up: the public learns nothing of what exists)."""
    c = ctx(info)
    with _refusals():
        require_action(c.principal, action)
    return c


def _key(value: strawberry.ID, missing: str) -> int:
    number = parse_key(str(value))
    if number is None:
        raise NotFound(missing)
    return number


def _ministry_id(c: Context, code: str | None) -> int | None:
    if not code:
        return None
    found = ministries.get_by_code(c.session, code)
    if found is None:
        raise BadUserInput(f"Ministère inconnu : « {code} ».")
    return found.id


def _pk(record: Any) -> int:
    assert record.id is not None
    return int(record.id)


def _day(on: date | None) -> date:
    return on or clocks.today_in_paris()


# --- Types ------------------------------------------------------------------------------


@strawberry.type(name="OpinionEvent", description="One step of a request (history).")
class OpinionEventType:
    id: strawberry.ID
    kind: OpinionEventKindEnum  # type: ignore[valid-type]
    label: str = strawberry.field(description="In French")
    happened_on: date
    observer: ObserverEnum | None  # type: ignore[valid-type]
    actor: str
    note: str | None
    at: datetime

    @classmethod
    def from_row(cls, e: OpinionEvent) -> OpinionEventType:
        return cls(
            id=strawberry.ID(str(e.id)),
            kind=EventKind(e.kind),
            label=opinions.EVENT_LABELS[EventKind(e.kind)],
            happened_on=e.happened_on,
            observer=Observer(e.observer) if e.observer else None,
            actor=e.actor,
            note=e.note,
            at=e.at,
        )


@strawberry.type(name="ObservationReceipt")
class ObservationReceiptType:
    observer: ObserverEnum  # type: ignore[valid-type]
    received_on: date


@strawberry.type(
    name="OpinionClock",
    description="The statutory clock: one month from the complete file, suspended while "
    "information is requested; observations due 25 days after receipt.",
)
class OpinionClockType:
    status: OpinionStatusEnum  # type: ignore[valid-type]
    state: str = strawberry.field(description="not_started, running, suspended or stopped")
    received_on: date | None
    deadline: date | None = strawberry.field(description="The last day DINUM may answer")
    deemed_on: date | None = strawberry.field(description="Deemed favourable from this day")
    days_left: int | None = strawberry.field(description="From today (Paris) to the deadline")
    suspended_days: int
    suspended_since: date | None
    observations_due: date | None
    observations: list[ObservationReceiptType]
    closed_on: date | None

    @classmethod
    def from_clock(cls, clock: clocks.Clock, today: date) -> OpinionClockType:
        return cls(
            status=clock.status,
            state=clock.state,
            received_on=clock.received_on,
            deadline=clock.deadline,
            deemed_on=clock.deemed_on,
            days_left=clock.days_left(today) if clock.state == "running" else None,
            suspended_days=clock.suspended_days,
            suspended_since=clock.suspended_since,
            observations_due=clock.observations_due,
            observations=[
                ObservationReceiptType(observer=o, received_on=d)
                for o, d in sorted(clock.observations.items())
            ],
            closed_on=clock.closed_on,
        )


@strawberry.type(
    name="OpinionDocument", description="A document of a request's file (archived unchanged)."
)
class OpinionDocumentType:
    id: strawberry.ID
    filename: str
    media_type: str
    sha256: str
    size_bytes: int
    uploaded_by: str
    uploaded_at: datetime

    @classmethod
    def from_row(cls, d: OpinionDocument) -> OpinionDocumentType:
        return cls(
            id=strawberry.ID(str(d.id)),
            filename=d.filename,
            media_type=d.media_type,
            sha256=d.sha256,
            size_bytes=d.size_bytes,
            uploaded_by=d.uploaded_by,
            uploaded_at=d.uploaded_at,
        )


@strawberry.type(name="OpinionAxis", description="The rating and comment of one axis.")
class OpinionAxisType:
    axis: AxisEnum  # type: ignore[valid-type]
    axis_label: str
    rating: RatingEnum  # type: ignore[valid-type]
    rating_label: str
    comment: str

    @classmethod
    def from_row(cls, a: OpinionAxis) -> OpinionAxisType:
        axis, rating = Axis(a.axis), Rating(a.rating)
        return cls(
            axis=axis,
            axis_label=opinions.AXIS_LABELS[axis],
            rating=rating,
            rating_label=opinions.RATING_LABELS[rating],
            comment=a.comment,
        )


@strawberry.type(name="RecommendationEvent", description="One status of a recommendation.")
class RecommendationEventType:
    status: RecommendationStatusEnum  # type: ignore[valid-type]
    changed_on: date
    actor: str
    comment: str | None
    at: datetime


async def _project(info: Info, project_id: int) -> tuple[str, str, str]:
    """(PILOT id, name, ministry code) of a project, through the request's loaders."""
    loaders = ctx(info).loaders
    project: Project | None = await loaders.projects.load(project_id)
    assert project is not None
    ministry = await loaders.ministry.load(project.ministry_id)
    return format_pilot_id(project_id), project.name, ministry.code if ministry else ""


@strawberry.type(name="Recommendation")
class RecommendationType:
    record: strawberry.Private[Recommendation]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field
    def number(self) -> int:
        return self.record.number

    @strawberry.field
    def text(self) -> str:
        return self.record.text

    @strawberry.field
    def owner(self) -> str:
        return self.record.owner

    @strawberry.field
    def due_on(self) -> date:
        return self.record.due_on

    @strawberry.field
    def status(self) -> RecommendationStatusEnum:  # type: ignore[valid-type]
        return RecommendationStatus(self.record.status)

    @strawberry.field(description="In French")
    def status_label(self) -> str:
        return opinions.RECOMMENDATION_LABELS[RecommendationStatus(self.record.status)]

    @strawberry.field(description="Open or in progress, and due before today (Paris)")
    def overdue(self) -> bool:
        return (
            self.record.status in {s.value for s in opinions.OPEN_RECOMMENDATION}
            and self.record.due_on < clocks.today_in_paris()
        )

    @strawberry.field
    def opinion_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.opinion_id))

    @strawberry.field
    async def project_id(self, info: Info) -> str:
        return (await _project(info, self.record.project_id))[0]

    @strawberry.field
    async def project_name(self, info: Info) -> str:
        return (await _project(info, self.record.project_id))[1]

    @strawberry.field
    async def ministry(self, info: Info) -> str:
        return (await _project(info, self.record.project_id))[2]

    @strawberry.field(description="Its statuses, oldest first")
    async def history(self, info: Info) -> list[RecommendationEventType]:
        rows = await ctx(info).loaders.recommendation_events.load(_pk(self.record))
        return [
            RecommendationEventType(
                status=RecommendationStatus(e.status),
                changed_on=e.changed_on,
                actor=e.actor,
                comment=e.comment,
                at=e.at,
            )
            for e in rows
        ]


@strawberry.type(name="OpinionDrift", description="The project's drift since the opinion.")
class OpinionDriftType:
    cost_then_eur: Euros | None
    cost_now_eur: Euros | None
    end_then: date | None
    end_now: date | None
    budget: float | None = strawberry.field(description="0.12 = +12 %")
    schedule: float | None = strawberry.field(description="0.12 = +12 %")


@strawberry.type(name="Opinion")
class OpinionType:
    record: strawberry.Private[Opinion]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field
    def request_id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.request_id))

    @strawberry.field
    def project_id(self) -> str:
        return format_pilot_id(self.record.project_id)

    @strawberry.field
    def sense(self) -> SenseEnum:  # type: ignore[valid-type]
        return Sense(self.record.sense)

    @strawberry.field(description="In French")
    def sense_label(self) -> str:
        return opinions.SENSE_LABELS[Sense(self.record.sense)]

    @strawberry.field
    def given_on(self) -> date:
        return self.record.given_on

    @strawberry.field
    def given_by(self) -> str:
        return self.record.given_by

    @strawberry.field
    def summary(self) -> str | None:
        return self.record.summary

    @strawberry.field(description="The project's cost at the opinion (€ TTC)")
    def baseline_cost_eur(self) -> Euros | None:
        return self.record.baseline_cost_eur

    @strawberry.field
    def baseline_start_date(self) -> date | None:
        return self.record.baseline_start_date

    @strawberry.field
    def baseline_end_date(self) -> date | None:
        return self.record.baseline_end_date

    @strawberry.field(description="The approved baseline the opinion made or confirmed")
    def baseline_id(self) -> strawberry.ID | None:
        b = self.record.baseline_id
        return None if b is None else strawberry.ID(str(b))

    @strawberry.field(description="DINUM made its content public")
    def published(self) -> bool:
        return self.record.published

    @strawberry.field(description="The project's drift since the opinion (figures then, now)")
    async def drift_since(self, info: Info) -> OpinionDriftType:
        now = await ctx(info).loaders.current_figures.load(self.record.project_id)
        d = opinions.opinion_drift(self.record, now)
        return OpinionDriftType(
            cost_then_eur=d.then.cost_eur,
            cost_now_eur=d.now.cost_eur,
            end_then=d.then.end_date,
            end_now=d.now.end_date,
            budget=ratio(d.budget),
            schedule=ratio(d.schedule),
        )

    @strawberry.field(description="The five axes (none for a deemed-favourable opinion)")
    async def axes(self, info: Info) -> list[OpinionAxisType]:
        rows = await ctx(info).loaders.opinion_axes.load(_pk(self.record))
        order = {a.value: i for i, a in enumerate(Axis)}
        return [OpinionAxisType.from_row(a) for a in sorted(rows, key=lambda a: order[a.axis])]

    @strawberry.field
    async def recommendations(self, info: Info) -> list[RecommendationType]:
        rows = await ctx(info).loaders.recommendations.load(_pk(self.record))
        return [RecommendationType(record=r) for r in rows]


@strawberry.type(name="OpinionRequest", description="A request for DINUM's opinion (saisine).")
class OpinionRequestType:
    record: strawberry.Private[OpinionRequest]

    @strawberry.field
    def id(self) -> strawberry.ID:
        return strawberry.ID(str(self.record.id))

    @strawberry.field
    async def project_id(self, info: Info) -> str:
        return (await _project(info, self.record.project_id))[0]

    @strawberry.field
    async def project_name(self, info: Info) -> str:
        return (await _project(info, self.record.project_id))[1]

    @strawberry.field
    async def ministry(self, info: Info) -> str:
        return (await _project(info, self.record.project_id))[2]

    @strawberry.field
    def subject(self) -> str:
        return self.record.subject

    @strawberry.field(description="Avis conforme (true) or opinion with recommendations")
    def binding(self) -> bool:
        return self.record.binding

    @strawberry.field
    def status(self) -> OpinionStatusEnum:  # type: ignore[valid-type]
        return Status(self.record.status)

    @strawberry.field(description="In French")
    def status_label(self) -> str:
        return opinions.STATUS_LABELS[Status(self.record.status)]

    @strawberry.field
    def opened_on(self) -> date:
        return self.record.opened_on

    @strawberry.field
    def opened_by(self) -> str:
        return self.record.opened_by

    @strawberry.field(description="Its history, oldest first")
    async def events(self, info: Info) -> list[OpinionEventType]:
        rows = await ctx(info).loaders.opinion_events.load(_pk(self.record))
        return [OpinionEventType.from_row(e) for e in rows]

    @strawberry.field
    async def clock(self, info: Info) -> OpinionClockType:
        rows = await ctx(info).loaders.opinion_events.load(_pk(self.record))
        computed = clocks.compute_clock(opinions.clock_events(rows))
        return OpinionClockType.from_clock(computed, clocks.today_in_paris())

    @strawberry.field(description="Its file (metadata; never parsed)")
    async def documents(self, info: Info) -> list[OpinionDocumentType]:
        rows = await ctx(info).loaders.opinion_documents.load(_pk(self.record))
        return [OpinionDocumentType.from_row(d) for d in rows]

    @strawberry.field(description="The opinion given (or deemed favourable), if any")
    async def opinion(self, info: Info) -> OpinionType | None:
        rows = await ctx(info).loaders.opinions.load(_pk(self.record))
        return OpinionType(record=rows[0]) if rows else None


@strawberry.type(
    name="ThresholdFlag",
    description="A project at or over the threshold without an opinion; irregular when it "
    "is past the framing (contracting or under contract).",
)
class ThresholdFlagType:
    project_id: str
    project_name: str
    ministry: str
    cost_eur: Euros
    phase: str | None
    irregular: bool
    request_id: strawberry.ID | None


@strawberry.type(name="OpinionDue", description="What falls due soon on a running clock.")
class OpinionDueType:
    request: OpinionRequestType
    what: str = strawberry.field(description="opinion (DINUM's deadline) or observations")
    due_on: date
    days_left: int


@strawberry.type(name="OverdueRecommendation")
class OverdueRecommendationType:
    recommendation: RecommendationType
    days_late: int


def _call(work: Callable[[], T]) -> T:
    with _refusals():
        return work()


# --- Queries ----------------------------------------------------------------------------


@strawberry.type
class OpinionQuery:
    @strawberry.field(
        description="Requests for DINUM's opinion, newest first (a ministry sees its own)."
    )
    def opinion_requests(
        self,
        info: Info,
        first: int | None = None,
        ministry: str | None = None,
        project_id: str | None = None,
        status: list[OpinionStatusEnum] | None = None,  # type: ignore[valid-type]
    ) -> list[OpinionRequestType]:
        c = _asking(info, Action.READ_OPINIONS)
        size = page_size(first, c.settings)
        pid = parse_pilot_id(project_id) if project_id else None
        if project_id and pid is None:
            raise BadUserInput(f"Identifiant de projet invalide : « {project_id} ».")
        views = _call(
            lambda: opinions.list_requests(
                c.session,
                c.principal,
                ministry_id=_ministry_id(c, ministry),
                project_id=pid,
                statuses=[Status(s).value for s in status] if status else None,
            ),
        )
        return [OpinionRequestType(record=v.request) for v in views[:size]]

    @strawberry.field(description="One request.")
    def opinion_request(self, info: Info, id: strawberry.ID) -> OpinionRequestType:
        c = _asking(info, Action.READ_OPINIONS)
        key = _key(id, opinions.NOT_FOUND_REQUEST)
        return OpinionRequestType(
            record=_call(lambda: opinions.get_request(c.session, c.principal, key))
        )

    @strawberry.field(
        description="Every running clock (no opinion yet), by deadline (suspended last)."
    )
    def running_opinion_clocks(
        self, info: Info, first: int | None = None, ministry: str | None = None
    ) -> list[OpinionRequestType]:
        c = _asking(info, Action.READ_OPINIONS)
        size = page_size(first, c.settings)
        views, _ = _call(
            lambda: opinions.running_clocks(
                c.session,
                c.principal,
                clocks.today_in_paris(),
                ministry_id=_ministry_id(c, ministry),
            ),
        )
        return [OpinionRequestType(record=v.request) for v in views[:size]]

    @strawberry.field(
        description="What falls due from today (Paris) to today + withinDays (7 by "
        "default): DINUM's deadlines and the observations' windows, soonest first."
    )
    def opinions_due_soon(
        self,
        info: Info,
        first: int | None = None,
        within_days: int = opinions.DUE_SOON_DAYS,
        ministry: str | None = None,
    ) -> list[OpinionDueType]:
        c = _asking(info, Action.READ_OPINIONS)
        size = page_size(first, c.settings)
        if not 0 <= within_days <= 366:
            raise BadUserInput("« withinDays » doit être compris entre 0 et 366.")
        _, due = _call(
            lambda: opinions.running_clocks(
                c.session,
                c.principal,
                clocks.today_in_paris(),
                within_days=within_days,
                ministry_id=_ministry_id(c, ministry),
            ),
        )
        return [
            OpinionDueType(
                request=OpinionRequestType(record=d.view.request),
                what=d.what,
                due_on=d.due_on,
                days_left=d.days_left,
            )
            for d in due[:size]
        ]

    @strawberry.field(
        description="Projects whose current cost reaches the threshold without an opinion, "
        "irregular ones first (a ministry sees its own)."
    )
    def opinion_threshold_flags(
        self, info: Info, first: int | None = None, ministry: str | None = None
    ) -> list[ThresholdFlagType]:
        c = _asking(info, Action.READ_OPINIONS)
        size = page_size(first, c.settings)
        flags = _call(
            lambda: opinions.threshold_flags(
                c.session, c.principal, ministry_id=_ministry_id(c, ministry)
            ),
        )
        return [
            ThresholdFlagType(
                project_id=f.project.pilot_id,
                project_name=f.project.name,
                ministry=f.ministry_code,
                cost_eur=f.cost_eur,
                phase=f.phase,
                irregular=f.irregular,
                request_id=strawberry.ID(str(f.request.id)) if f.request else None,
            )
            for f in flags[:size]
        ]

    @strawberry.field(
        description="Recommendations of DINUM's opinions, by due date (a ministry sees its own)."
    )
    def recommendations(
        self,
        info: Info,
        first: int | None = None,
        ministry: str | None = None,
        project_id: str | None = None,
        open_only: bool = False,
    ) -> list[RecommendationType]:
        c = _asking(info, Action.READ_OPINIONS)
        size = page_size(first, c.settings)
        pid = parse_pilot_id(project_id) if project_id else None
        if project_id and pid is None:
            raise BadUserInput(f"Identifiant de projet invalide : « {project_id} ».")
        rows = _call(
            lambda: opinions.recommendations(
                c.session,
                c.principal,
                ministry_id=_ministry_id(c, ministry),
                project_id=pid,
                open_only=open_only,
            ),
        )
        return [RecommendationType(record=r) for r, _, _ in rows[:size]]

    @strawberry.field(
        description="Open recommendations past due, by ministry then due date (a ministry "
        "sees its own)."
    )
    def overdue_recommendations(
        self, info: Info, first: int | None = None, ministry: str | None = None
    ) -> list[OverdueRecommendationType]:
        c = _asking(info, Action.READ_OPINIONS)
        size = page_size(first, c.settings)
        rows = _call(
            lambda: opinions.overdue_recommendations(
                c.session,
                c.principal,
                clocks.today_in_paris(),
                ministry_id=_ministry_id(c, ministry),
            ),
        )
        return [
            OverdueRecommendationType(
                recommendation=RecommendationType(record=o.recommendation),
                days_late=o.days_late,
            )
            for o in rows[:size]
        ]


# --- Mutations --------------------------------------------------------------------------


@strawberry.input
class OpenOpinionRequestInput:
    project_id: str = strawberry.field(description="PILOT identifier, e.g. PRJ-00042")
    subject: str
    opened_on: date | None = None
    binding: bool = True


@strawberry.input
class OpinionAxisInput:
    axis: AxisEnum  # type: ignore[valid-type]
    rating: RatingEnum  # type: ignore[valid-type]
    comment: str


@strawberry.input
class RecommendationInput:
    text: str
    owner: str
    due_on: date


@strawberry.input
class GiveOpinionInput:
    request_id: strawberry.ID
    sense: SenseEnum  # type: ignore[valid-type]
    given_on: date | None = None
    summary: str | None = None
    axes: list[OpinionAxisInput]
    recommendations: list[RecommendationInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateRecommendationInput:
    recommendation_id: strawberry.ID
    status: RecommendationStatusEnum  # type: ignore[valid-type]
    on: date | None = None
    comment: str | None = None


def _step(
    info: Info,
    request_id: strawberry.ID,
    step: Callable[[Any, Any, OpinionRequest], object],
) -> OpinionRequestType:
    """One step of a request, in a write transaction of its own."""
    c = _asking(info, Action.READ_OPINIONS)
    key = _key(request_id, opinions.NOT_FOUND_REQUEST)
    with _refusals(), c.write() as session:
        request = opinions.get_request(session, c.principal, key)
        step(session, c.principal, request)
    return OpinionRequestType(record=request)


@strawberry.type
class OpinionMutation:
    @strawberry.mutation(
        description="Open a request for DINUM's opinion on a project (a ministry for its "
        "own projects, or DINUM), as a draft."
    )
    def open_opinion_request(
        self, info: Info, input: OpenOpinionRequestInput
    ) -> OpinionRequestType:
        c = _asking(info, Action.REQUEST_OPINION)
        with _refusals(), c.write() as session:
            number = parse_pilot_id(input.project_id)
            project = session.get(Project, number) if number is not None else None
            if project is None:
                raise AccessDenied("not_found", opinions.NOT_FOUND_PROJECT)
            request = opinions.open_request(
                session,
                c.principal,
                project,
                subject=input.subject,
                on=_day(input.opened_on),
                binding=input.binding,
            )
        return OpinionRequestType(record=request)

    @strawberry.mutation(
        description="Add a document to a request's file (multipart upload, variable "
        "« file »): archived unchanged, never parsed."
    )
    async def add_opinion_document(
        self, info: Info, request_id: strawberry.ID, file: Upload
    ) -> OpinionDocumentType:
        c = _asking(info, Action.REQUEST_OPINION)
        key = _key(request_id, opinions.NOT_FOUND_REQUEST)
        if not callable(getattr(file, "read", None)):
            raise BadUserInput("Envoyez le document comme fichier, en requête multipart.")
        limit = c.settings.opinion_max_document_bytes
        data = await file.read(limit + 1)  # type: ignore[attr-defined]
        name = getattr(file, "filename", None) or "document"
        with _refusals(), c.write() as session:
            request = opinions.get_request(session, c.principal, key)
            document = opinions.add_document(
                session, c.principal, request, filename=name, data=data
            )
        return OpinionDocumentType.from_row(document)

    @strawberry.mutation(description="DINUM: the file is complete, received that day.")
    def receive_opinion_file(
        self, info: Info, request_id: strawberry.ID, on: date | None = None, note: str | None = None
    ) -> OpinionRequestType:
        return _step(
            info,
            request_id,
            lambda s, p, r: opinions.receive_file(s, p, r, on=_day(on), note=note),
        )

    @strawberry.mutation(description="DINUM asks for more information: the month stops.")
    def request_opinion_information(
        self, info: Info, request_id: strawberry.ID, note: str, on: date | None = None
    ) -> OpinionRequestType:
        return _step(
            info,
            request_id,
            lambda s, p, r: opinions.request_information(s, p, r, on=_day(on), note=note),
        )

    @strawberry.mutation(
        description="The information asked for was received (the ministry or DINUM): the "
        "month runs again."
    )
    def receive_opinion_information(
        self, info: Info, request_id: strawberry.ID, on: date | None = None, note: str | None = None
    ) -> OpinionRequestType:
        return _step(
            info,
            request_id,
            lambda s, p, r: opinions.receive_information(s, p, r, on=_day(on), note=note),
        )

    @strawberry.mutation(description="DINUM records ANSSI's or the budget director's observations.")
    def record_opinion_observations(
        self,
        info: Info,
        request_id: strawberry.ID,
        observer: ObserverEnum,  # type: ignore[valid-type]
        on: date | None = None,
        note: str | None = None,
    ) -> OpinionRequestType:
        return _step(
            info,
            request_id,
            lambda s, p, r: opinions.record_observations(
                s, p, r, observer=Observer(observer).value, on=_day(on), note=note
            ),
        )

    @strawberry.mutation(
        description="DINUM gives its opinion: the sense, the five axes, the recommendations. "
        "The first approving opinion makes the project's figures its approved baseline."
    )
    def give_opinion(self, info: Info, input: GiveOpinionInput) -> OpinionType:
        c = _asking(info, Action.DECIDE_OPINION)
        key = _key(input.request_id, opinions.NOT_FOUND_REQUEST)
        if len(input.recommendations) > opinions.MAX_RECOMMENDATIONS:
            raise BadUserInput(f"Au plus {opinions.MAX_RECOMMENDATIONS} recommandations par avis.")
        with _refusals(), c.write() as session:
            request = opinions.get_request(session, c.principal, key)
            opinion = opinions.give_opinion(
                session,
                c.principal,
                request,
                sense=Sense(input.sense).value,
                on=_day(input.given_on),
                axes=[
                    opinions.AxisInput(Axis(a.axis).value, Rating(a.rating).value, a.comment)
                    for a in input.axes
                ],
                recommendations=[
                    opinions.RecommendationInput(r.text, r.owner, r.due_on)
                    for r in input.recommendations
                ],
                summary=input.summary,
            )
        return OpinionType(record=opinion)

    @strawberry.mutation(
        description="The ministry (or DINUM) moves a recommendation to a new status; "
        "« dropped » is DINUM's, with a comment. The history is kept."
    )
    def update_recommendation(
        self, info: Info, input: UpdateRecommendationInput
    ) -> RecommendationType:
        c = _asking(info, Action.UPDATE_RECOMMENDATION)
        key = _key(input.recommendation_id, opinions.NOT_FOUND_RECOMMENDATION)
        with _refusals(), c.write() as session:
            rec = opinions.get_recommendation(session, c.principal, key)
            opinions.update_recommendation(
                session,
                c.principal,
                rec,
                status=RecommendationStatus(input.status).value,
                on=_day(input.on),
                comment=input.comment,
            )
        return RecommendationType(record=rec)

    @strawberry.mutation(description="DINUM publishes an opinion's content (or withdraws it).")
    def publish_opinion(
        self, info: Info, opinion_id: strawberry.ID, published: bool = True
    ) -> OpinionType:
        c = _asking(info, Action.DECIDE_OPINION)
        key = _key(opinion_id, "Avis introuvable.")
        with _refusals(), c.write() as session:
            found = session.get(Opinion, key)
            if found is None:
                raise AccessDenied("not_found", "Avis introuvable.")
            opinions.publish_opinion(session, c.principal, found, published=published)
        return OpinionType(record=found)
