"""Scheduled jobs (APScheduler 3): the inbox scan; the published editions without a site
written, then the draft panorama republished when data changed (every
``PILOT_PUBLISH_INTERVAL_SECONDS``; 0 turns it off).

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
    from importers.inbox import ensure_folders, scan_inbox

    ensure_folders()  # at start (the job's first run), then for each new ministry
    for result in scan_inbox():
        log.info(
            "inbox: %s → %s (import %s)",
            result.path.name,
            result.outcome.status,
            result.outcome.import_id,
        )


def republish_job() -> None:
    """Write the published editions that have no site yet (through the same rendering as
    ``pilot publish``: an edition whose writing failed after its commit gets its site, PDF
    and open data), then the draft panorama when the data changed."""
    from scorecards.publish import render_unwritten_editions, republish_draft_if_changed

    for number in render_unwritten_editions():
        log.info("edition %d written", number)
    report = republish_draft_if_changed()
    if report is not None:
        log.info("draft panorama republished")


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
    if settings.publish_interval_seconds > 0:
        scheduler.add_job(
            republish_job,
            "interval",
            seconds=settings.publish_interval_seconds,
            id="republish-draft",
            max_instances=1,
            coalesce=True,
        )
    return scheduler
