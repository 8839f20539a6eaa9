"""The statutory clock of a request for DINUM's opinion (saisine), as a pure function of
its events. No database, no "now": the caller says which day it is.

The rules (décret n° 2019-1088, article 3; arrêté of 5 June 2020), as PILOT counts them:

- **Deadline**: one calendar month after the day the complete file was received
  (event ``received``). The month is counted as French law counts a délai exprimé en mois
  (code de procédure civile, article 641): it ends on the day of the next month carrying
  the same number (received 15 March → deadline 15 April); when that month has no such
  day, on its last day (received 31 January → 28 or 29 February; 31 March → 30 April).
  The deadline day is the last day on which DINUM may still answer in time. No extension
  for week-ends or public holidays.
- **Suspension**: a request for more information (``information_requested``) suspends the
  month until the information is received (``information_received``); the deadline moves
  by the number of days the clock stood still, counted as ``received_on −
  requested_on`` (requested on the 10th, answered on the 14th: 4 days added). While it
  is suspended the deadline is not known (``None``) and nothing can expire.
- **Observations**: ANSSI and the budget director have 25 days from the receipt of the
  complete file (received on 1 March → observations due by 26 March); their window is not
  suspended by a request for information.
- **Deemed favourable**: when the deadline has passed (the day after it) with no opinion
  given, the opinion is deemed favourable (``deemed_favourable``), on that day.

Dates are ``date`` in Europe/Paris (``today_in_paris``), never datetimes.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")
OBSERVATION_DAYS = 25


class EventKind(StrEnum):
    """What happened to a request: each is one row of ``opinion_event``."""

    OPENED = "opened"  # the request exists as a draft (its file is being put together)
    RECEIVED = "received"  # DINUM received the complete file: the clock starts
    INFORMATION_REQUESTED = "information_requested"  # the clock stops
    INFORMATION_RECEIVED = "information_received"  # the clock runs again
    OBSERVATIONS_RECEIVED = "observations_received"  # from ANSSI or the budget director
    OPINION_GIVEN = "opinion_given"
    DEEMED_FAVOURABLE = "deemed_favourable"


class Status(StrEnum):
    """A request's status, derived from its events (``status_of``)."""

    DRAFT = "draft"
    RECEIVED = "received"
    INFORMATION_REQUESTED = "information_requested"
    OBSERVATIONS_RECEIVED = "observations_received"
    OPINION_GIVEN = "opinion_given"
    DEEMED_FAVOURABLE = "deemed_favourable"


class Observer(StrEnum):
    ANSSI = "anssi"
    BUDGET = "budget"  # the budget director (direction du budget)


TERMINAL = (Status.OPINION_GIVEN, Status.DEEMED_FAVOURABLE)


@dataclass(frozen=True)
class ClockEvent:
    """The part of an event the clock reads."""

    kind: EventKind
    on: date
    observer: Observer | None = None


@dataclass(frozen=True)
class Clock:
    """Where a request's statutory clock stands.

    ``state``: ``not_started`` (draft), ``running``, ``suspended`` (information
    requested) or ``stopped`` (opinion given or deemed favourable).
    ``deadline``: the last day DINUM may answer (None before receipt or while suspended).
    ``deemed_on``: the day the opinion is deemed favourable without an answer (the day
    after the deadline).
    """

    status: Status
    state: str
    received_on: date | None
    deadline: date | None
    deemed_on: date | None
    suspended_days: int
    suspended_since: date | None
    observations_due: date | None
    observations: dict[Observer, date]  # observer → day its observations arrived
    closed_on: date | None  # the day of the opinion or of the deemed-favourable event

    def days_left(self, today: date) -> int | None:
        """Days from ``today`` to the deadline (0 on the deadline, negative past it)."""
        return None if self.deadline is None else (self.deadline - today).days

    def missing_observations(self) -> list[Observer]:
        return [o for o in Observer if o not in self.observations]

    def due_within(self, today: date, days: int) -> list[tuple[str, date]]:
        """What falls due from ``today`` to ``today + days`` (both included) while the
        clock runs: ``("opinion", deadline)`` and ``("observations", due)`` (when some
        are missing)."""
        if self.state not in ("running", "suspended"):
            return []
        end = today + timedelta(days=days)
        found: list[tuple[str, date]] = []
        if (
            self.observations_due is not None
            and self.missing_observations()
            and today <= self.observations_due <= end
        ):
            found.append(("observations", self.observations_due))
        if self.deadline is not None and today <= self.deadline <= end:
            found.append(("opinion", self.deadline))
        return found


def add_month(day: date) -> date:
    """The same day number a calendar month later, or that month's last day."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def status_of(events: Iterable[ClockEvent]) -> Status:
    """The status the events lead to (events in the order they were recorded)."""
    return compute_clock(events).status


def compute_clock(events: Iterable[ClockEvent]) -> Clock:
    """The clock of a request from its events (in the order they were recorded)."""
    received_on: date | None = None
    suspended_days = 0
    suspended_since: date | None = None
    observations: dict[Observer, date] = {}
    closed: tuple[Status, date] | None = None
    for event in events:
        if closed is not None:
            break  # nothing counts after the opinion
        if event.kind == EventKind.RECEIVED and received_on is None:
            received_on = event.on
        elif event.kind == EventKind.INFORMATION_REQUESTED and suspended_since is None:
            suspended_since = event.on
        elif event.kind == EventKind.INFORMATION_RECEIVED and suspended_since is not None:
            suspended_days += max(0, (event.on - suspended_since).days)
            suspended_since = None
        elif event.kind == EventKind.OBSERVATIONS_RECEIVED and event.observer is not None:
            observations.setdefault(event.observer, event.on)
        elif event.kind == EventKind.OPINION_GIVEN:
            closed = (Status.OPINION_GIVEN, event.on)
        elif event.kind == EventKind.DEEMED_FAVOURABLE:
            closed = (Status.DEEMED_FAVOURABLE, event.on)
    deadline = deemed_on = observations_due = None
    if received_on is not None:
        observations_due = received_on + timedelta(days=OBSERVATION_DAYS)
        if suspended_since is None or closed is not None:
            deadline = add_month(received_on) + timedelta(days=suspended_days)
            deemed_on = deadline + timedelta(days=1)
    if closed is not None:
        status, state = closed[0], "stopped"
    elif received_on is None:
        status, state = Status.DRAFT, "not_started"
    elif suspended_since is not None:
        status, state = Status.INFORMATION_REQUESTED, "suspended"
    elif observations:
        status, state = Status.OBSERVATIONS_RECEIVED, "running"
    else:
        status, state = Status.RECEIVED, "running"
    return Clock(
        status=status,
        state=state,
        received_on=received_on,
        deadline=deadline,
        deemed_on=deemed_on,
        suspended_days=suspended_days,
        suspended_since=None if closed is not None else suspended_since,
        observations_due=observations_due,
        observations=observations,
        closed_on=closed[1] if closed else None,
    )


def is_expired(clock: Clock, today: date) -> bool:
    """True when the opinion is deemed favourable on ``today``: the clock runs (not
    suspended, no opinion) and ``today`` is after the deadline."""
    return clock.state == "running" and clock.deemed_on is not None and today >= clock.deemed_on


def today_in_paris(now: datetime | None = None) -> date:
    """Today's date in Europe/Paris (the statutory days are French days)."""
    moment = now if now is not None else datetime.now(PARIS)
    return moment.astimezone(PARIS).date()
