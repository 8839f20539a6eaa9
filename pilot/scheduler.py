"""Scheduled jobs (APScheduler 3): the inbox scan; the published editions without a site
written, then the draft panorama republished when data changed (every
``PILOT_PUBLISH_INTERVAL_SECONDS``; 0 turns it off); the campaign's reminders and the
alerts (daily, 07:00 UTC); the job queue, i.e. the follow-up of each import (every
``PILOT_JOBS_INTERVAL_SECONDS``, ``pilot.jobs``); and the outbox's delivery (every
``PILOT_OUTBOX_INTERVAL_SECONDS``).

``pilot serve`` runs them in a background thread for the embedded default
(``PILOT_SCHEDULER_IN_SERVE=true``); in production ``pilot scheduler`` runs them as its
own process. On PostgreSQL only one scheduler runs the jobs at a time, whichever host it
is on: it holds the scheduler lock (an advisory lock, ``pilot.coordination``) on a
connection of its own; another instance waits for that lock (checking every
``LOCK_POLL_SECONDS``) and takes over when the first stops or dies — its connection
closes and the lock goes with it. A scheduler whose lock connection breaks (database
restarted) stops its jobs and exits with an error, for its supervisor to start it again.
Even two schedulers at once would be safe (inbox files are claimed atomically); the lock
keeps them from doing the work twice.
"""

from __future__ import annotations

import logging
import threading

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Connection, Engine

from pilot.config import Settings
from pilot.coordination import SCHEDULER_LOCK, is_postgresql, try_lock
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


def editions_job() -> None:
    """Write the published editions that have no site yet (through the same rendering as
    ``pilot publish``): an edition loaded from DINUM's open data (``pilot import-panorama``),
    or one whose writing failed after its commit, gets its site, PDF and open data."""
    from scorecards.publish import render_unwritten_editions

    for number in render_unwritten_editions():
        log.info("edition %d written", number)


def republish_job() -> None:
    """The draft panorama, written again when the data changed."""
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


def jobs_job() -> None:
    """The job queue: each job is claimed before it runs, so even two schedulers never run
    one twice; the findings summaries it queues go out at once."""
    from pilot.jobs.service import run_due

    result = run_due()
    if result.done or result.failed:
        log.info("jobs: %d done, %d failed, %d waiting", result.done, result.failed, result.waiting)
        outbox_job()


def opinions_job() -> None:
    """Daily: the requests for DINUM's opinion whose month ran out are deemed favourable,
    and the opinions' alerts (recommendations past due) recorded (Paris date)."""
    from pilot import db
    from pilot.opinions.clock import today_in_paris
    from pilot.opinions.service import daily_checks

    with db.session_scope(write=True) as session:
        result = daily_checks(session, today_in_paris())
    log.info(
        "opinions: %d deemed favourable, %d alert(s) queued",
        len(result.expired),
        len(result.alerts),
    )
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
        jobs_job,
        "interval",
        seconds=settings.jobs_interval_seconds,
        id="jobs",
        max_instances=1,
        coalesce=True,
    )
    scheduler.add_job(
        opinions_job, "cron", hour=7, minute=5, id="opinions", max_instances=1, coalesce=True
    )
    scheduler.add_job(
        outbox_job,
        "interval",
        seconds=settings.outbox_interval_seconds,
        id="outbox",
        max_instances=1,
        coalesce=True,
    )
    if settings.render_interval_seconds > 0:
        scheduler.add_job(
            editions_job,
            "interval",
            seconds=settings.render_interval_seconds,
            id="editions",
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


LOCK_POLL_SECONDS = 2.0


class SchedulerLock:
    """The single-scheduler lock on PostgreSQL (always granted on SQLite: one process)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.connection: Connection | None = None

    def acquire(self, stop: threading.Event | None = None) -> bool:
        """Wait for the lock; False when ``stop`` was set first."""
        if not is_postgresql(self.engine):
            return True
        waiting = False
        while stop is None or not stop.is_set():
            connection = self.engine.connect()
            try:
                if try_lock(connection, SCHEDULER_LOCK):
                    connection.commit()  # session-level: it outlives the transaction
                    self.connection = connection
                    log.info("planificateur actif : verrou du planificateur obtenu")
                    return True
                connection.rollback()
            except Exception:
                connection.invalidate()
                log.exception("verrou du planificateur : base injoignable, nouvel essai")
            connection.close()
            if not waiting:
                log.info("planificateur en attente : un autre planificateur est actif")
                waiting = True
            if stop is not None:
                stop.wait(LOCK_POLL_SECONDS)
            else:
                threading.Event().wait(LOCK_POLL_SECONDS)
        return False

    def holds(self) -> bool:
        """Whether the lock is still held (its connection answers)."""
        if self.connection is None:
            return not is_postgresql(self.engine)
        try:
            self.connection.exec_driver_sql("SELECT 1")
            self.connection.commit()
            return True
        except Exception:
            log.exception("verrou du planificateur perdu (connexion rompue)")
            return False

    def release(self) -> None:
        if self.connection is not None:
            self.connection.invalidate()  # closing the connection releases the lock
            self.connection.close()
            self.connection = None


def _watch(lock: SchedulerLock, scheduler: BaseScheduler, lost: threading.Event) -> None:
    scheduler.add_job(
        lambda: lock.holds() or _stop(scheduler, lost),
        "interval",
        seconds=LOCK_POLL_SECONDS,
        id="scheduler-lock",
        max_instances=1,
        coalesce=True,
    )


def _stop(scheduler: BaseScheduler, lost: threading.Event) -> bool:
    lost.set()
    scheduler.shutdown(wait=False)
    return False


def run_alone(settings: Settings, engine: Engine) -> bool:
    """``pilot scheduler``: wait for the scheduler lock, then run the jobs in this thread
    until interrupted. Returns False when the lock was lost (the caller exits with an
    error)."""
    lock = SchedulerLock(engine)
    lock.acquire()
    scheduler = build_scheduler(settings, blocking=True)
    lost = threading.Event()
    _watch(lock, scheduler, lost)
    try:
        scheduler.start()
    finally:
        lock.release()
    return not lost.is_set()
