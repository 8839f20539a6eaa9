"""The statutory clock, a pure function of a request's events (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from pilot.opinions.clock import (
    ClockEvent,
    EventKind,
    Observer,
    Status,
    add_month,
    compute_clock,
    is_expired,
    today_in_paris,
)

OPENED = ClockEvent(EventKind.OPENED, date(2027, 3, 1))


def _received(on: date) -> list[ClockEvent]:
    return [OPENED, ClockEvent(EventKind.RECEIVED, on)]


@pytest.mark.parametrize(
    ("received", "deadline"),
    [
        (date(2027, 3, 15), date(2027, 4, 15)),  # same day number
        (date(2027, 1, 31), date(2027, 2, 28)),  # no 31 February: the month's last day
        (date(2028, 1, 31), date(2028, 2, 29)),  # leap year
        (date(2027, 3, 31), date(2027, 4, 30)),
        (date(2027, 12, 15), date(2028, 1, 15)),  # across the year
        (date(2027, 2, 28), date(2027, 3, 28)),  # a month's last day is not "end of month"
    ],
)
def test_the_deadline_is_one_calendar_month_after_receipt(received: date, deadline: date) -> None:
    assert add_month(received) == deadline
    clock = compute_clock(_received(received))
    assert (clock.status, clock.state, clock.deadline) == (Status.RECEIVED, "running", deadline)


def test_a_draft_has_no_clock() -> None:
    clock = compute_clock([OPENED])
    assert (clock.status, clock.state, clock.deadline, clock.observations_due) == (
        Status.DRAFT,
        "not_started",
        None,
        None,
    )
    assert clock.due_within(date(2027, 3, 1), 7) == []


def test_a_request_for_information_suspends_the_month_and_moves_the_deadline() -> None:
    events = [
        *_received(date(2027, 3, 15)),
        ClockEvent(EventKind.INFORMATION_REQUESTED, date(2027, 3, 20)),
    ]
    suspended = compute_clock(events)
    assert (suspended.status, suspended.state) == (Status.INFORMATION_REQUESTED, "suspended")
    assert (suspended.deadline, suspended.suspended_since) == (None, date(2027, 3, 20))
    assert not is_expired(suspended, date(2027, 12, 31))  # nothing expires while suspended
    events.append(ClockEvent(EventKind.INFORMATION_RECEIVED, date(2027, 3, 24)))
    resumed = compute_clock(events)
    assert (resumed.status, resumed.suspended_days) == (Status.RECEIVED, 4)
    assert resumed.deadline == date(2027, 4, 19)  # 15 April + 4 days
    # A second request for information adds its own days.
    events += [
        ClockEvent(EventKind.INFORMATION_REQUESTED, date(2027, 4, 1)),
        ClockEvent(EventKind.INFORMATION_RECEIVED, date(2027, 4, 11)),
    ]
    assert compute_clock(events).deadline == date(2027, 4, 29)


def test_observations_are_due_25_days_after_receipt_and_not_suspended() -> None:
    events = [
        *_received(date(2027, 3, 1)),
        ClockEvent(EventKind.INFORMATION_REQUESTED, date(2027, 3, 5)),
        ClockEvent(EventKind.INFORMATION_RECEIVED, date(2027, 3, 15)),
        ClockEvent(EventKind.OBSERVATIONS_RECEIVED, date(2027, 3, 20), Observer.ANSSI),
    ]
    clock = compute_clock(events)
    assert clock.observations_due == date(2027, 3, 26)
    assert clock.status == Status.OBSERVATIONS_RECEIVED
    assert clock.missing_observations() == [Observer.BUDGET]
    assert clock.due_within(date(2027, 3, 20), 7) == [("observations", date(2027, 3, 26))]
    events.append(ClockEvent(EventKind.OBSERVATIONS_RECEIVED, date(2027, 3, 22), Observer.BUDGET))
    assert compute_clock(events).due_within(date(2027, 3, 20), 7) == []


def test_what_falls_due_within_seven_days_includes_both_ends() -> None:
    observed = [
        ClockEvent(EventKind.OBSERVATIONS_RECEIVED, date(2027, 3, 30), Observer.ANSSI),
        ClockEvent(EventKind.OBSERVATIONS_RECEIVED, date(2027, 4, 2), Observer.BUDGET),
    ]
    clock = compute_clock([*_received(date(2027, 3, 15)), *observed])  # deadline 15 April
    assert clock.due_within(date(2027, 4, 8), 7) == [("opinion", date(2027, 4, 15))]
    assert clock.due_within(date(2027, 4, 15), 7) == [("opinion", date(2027, 4, 15))]
    assert clock.due_within(date(2027, 4, 7), 7) == []
    assert clock.due_within(date(2027, 4, 16), 7) == []
    assert clock.days_left(date(2027, 4, 8)) == 7


def test_deemed_favourable_the_day_after_the_deadline_not_on_it() -> None:
    clock = compute_clock(_received(date(2027, 1, 31)))
    assert (clock.deadline, clock.deemed_on) == (date(2027, 2, 28), date(2027, 3, 1))
    assert not is_expired(clock, date(2027, 2, 28))
    assert is_expired(clock, date(2027, 3, 1))
    assert is_expired(clock, date(2027, 3, 9))  # a late run still expires it (dated 1 March)


def test_an_opinion_stops_the_clock_and_later_events_do_not_count() -> None:
    events = [
        *_received(date(2027, 3, 15)),
        ClockEvent(EventKind.OPINION_GIVEN, date(2027, 4, 2)),
        ClockEvent(EventKind.INFORMATION_REQUESTED, date(2027, 4, 3)),
    ]
    clock = compute_clock(events)
    assert (clock.status, clock.state, clock.closed_on) == (
        Status.OPINION_GIVEN,
        "stopped",
        date(2027, 4, 2),
    )
    assert not is_expired(clock, date(2027, 12, 31))
    assert clock.due_within(date(2027, 4, 10), 7) == []
    deemed = compute_clock(
        [*_received(date(2027, 3, 15)), ClockEvent(EventKind.DEEMED_FAVOURABLE, date(2027, 4, 16))]
    )
    assert (deemed.status, deemed.state) == (Status.DEEMED_FAVOURABLE, "stopped")


def test_today_is_the_date_in_paris() -> None:
    # 23:30 UTC on 31 March 2027 is already 1 April in Paris (summer time, UTC+2).
    assert today_in_paris(datetime(2027, 3, 31, 23, 30, tzinfo=UTC)) == date(2027, 4, 1)
    # 23:30 UTC on 15 January is 00:30 on 16 January in Paris (UTC+1).
    assert today_in_paris(datetime(2027, 1, 15, 23, 30, tzinfo=UTC)) == date(2027, 1, 16)
    assert today_in_paris(datetime(2027, 1, 15, 22, 59, tzinfo=UTC)) == date(2027, 1, 15)
