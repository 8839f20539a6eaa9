"""Scheduled jobs (APScheduler 3): the inbox scan, the draft panorama republished
when data changed (every ``PILOT_PUBLISH_INTERVAL_SECONDS``; 0 turns it off), the
campaign's reminders and the alerts (daily, 07:00 UTC), and the outbox's delivery
(every ``PILOT_OUTBOX_INTERVAL_SECONDS``).

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
    from scorecards.publish import republish_draft_if_changed

    report = republish_draft_if_changed()
    if report is not None:
        log.info("draft panorama republished")


def campaign_job() -> None:
    """Daily: the campaign's reminders due today, and the alerts of the portfolio."""
    from pilot import db
    from pilot.alerts.service import detect_alerts
    from pilot.campaigns.service import remind
    from pilot.timeutil import today

    with db.session_scope(write=True) as session:
        reminded = remind(session, on=today())
        alerts = detect_alerts(session)
    log.info("campaign: %d reminder(s), %d alert(s) queued", len(reminded), len(alerts))
    outbox_job()


def outbox_job() -> None:
    from pilot.mail.service import deliver

    result = deliver()
    if result.sent or result.failed:
        log.info(
            "outbox: %d sent, %d failed, %d waiting", result.sent, result.failed, result.waiting
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
    scheduler.add_job(campaign_job, "cron", hour=7, id="campaign", max_instances=1, coalesce=True)
    scheduler.add_job(
        outbox_job,
        "interval",
        seconds=settings.outbox_interval_seconds,
        id="outbox",
        max_instances=1,
        coalesce=True,
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
