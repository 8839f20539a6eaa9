"""Scheduled jobs (APScheduler 3): the inbox scan.

``pilot serve`` runs them in a background thread for the embedded default
(``PILOT_SCHEDULER_IN_SERVE=true``); in production ``pilot scheduler`` runs them as its
own process. Running two schedulers is safe: inbox files are claimed atomically.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from pilot.config import Settings
from pilot.timeutil import utcnow

log = logging.getLogger(__name__)


def inbox_job() -> None:
    from importers.inbox import scan_inbox

    for result in scan_inbox():
        log.info(
            "inbox: %s → %s (import %s)",
            result.path.name,
            result.outcome.status,
            result.outcome.import_id,
        )


def build_scheduler(settings: Settings, *, blocking: bool = False) -> BaseScheduler:
    """A scheduler with PILOT's jobs registered (not started)."""
    scheduler: BaseScheduler = (
        BlockingScheduler(timezone="UTC") if blocking else BackgroundScheduler(timezone="UTC")
    )
    scheduler.add_job(
        inbox_job,
        "interval",
        seconds=settings.inbox_interval_seconds,
        id="inbox",
        max_instances=1,
        coalesce=True,
        next_run_time=utcnow(),
    )
    return scheduler
