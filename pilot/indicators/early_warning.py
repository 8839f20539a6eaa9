"""Early warning from the milestone trend: forecasts that keep slipping.

Each report keeps the forecast it declared for each milestone
(``pilot.projects.forecasts``). A slip is a report whose forecast is later than the
previous report's. A project's early-warning score adds, over its unfinished milestones,
the months of slip over its last ``WINDOW`` reports (rounded to the nearest month) and
``STREAK_POINTS`` when the milestone slipped at each of the last two reports: 0 is a
steady schedule, and the higher the score the earlier DINUM should look.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from datetime import date

from sqlmodel import Session

from pilot.projects.forecasts import MilestoneForecast, forecast_history

WINDOW = 3  # reports looked at (so, slips between them: WINDOW - 1)
STREAK_POINTS = 3
DAYS_PER_MONTH = 30


def slips(forecasts: Sequence[date | None]) -> list[int]:
    """Days each report moved the forecast later than the report before (earlier or
    unknown: 0), one per report after the first."""
    return [
        max((b - a).days, 0) if a is not None and b is not None else 0
        for a, b in itertools.pairwise(forecasts)
    ]


def slipping_in_a_row(forecasts: Sequence[date | None]) -> int:
    """How many of the latest reports each slipped the forecast (0 when the last did not)."""
    count = 0
    for days in reversed(slips(forecasts)):
        if days <= 0:
            break
        count += 1
    return count


def milestone_score(history: Sequence[MilestoneForecast]) -> int:
    if not history or history[-1].actual_date is not None:
        return 0
    forecasts = [h.forecast_date for h in history[-WINDOW:]]
    months = round(sum(slips(forecasts)) / DAYS_PER_MONTH)
    streak = STREAK_POINTS if slipping_in_a_row(forecasts) >= 2 else 0
    return months + streak


def project_score(histories: Iterable[Sequence[MilestoneForecast]]) -> int:
    return sum(milestone_score(h) for h in histories)


def early_warning_scores(session: Session, project_ids: list[int] | None = None) -> dict[int, int]:
    """Each project's early-warning score (projects without history are absent: 0)."""
    by_project: dict[int, list[list[MilestoneForecast]]] = {}
    for history in forecast_history(session, project_ids).values():
        by_project.setdefault(history[0].project_id, []).append(history)
    return {pid: project_score(histories) for pid, histories in by_project.items()}
