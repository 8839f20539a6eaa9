"""What follows a finished import, off the request: detect the alerts it raised and queue
its findings summary to the ministry.

The import enqueues it in its own transaction (``importers.intake``: a job of kind
``import_followup``, ``pilot.jobs``), so that a crash never loses it and the upload is
answered without waiting; the job runner calls ``after_import``. (The milestones'
forecasts of the import's reports are kept in the import's transaction itself,
``pilot.projects.forecasts.record_forecasts``: they must be the report's dates.)

``after_import`` reads outside any write transaction (the alert candidates of the
projects reported: the long part), then writes in short transactions of ``BATCH``
alerts each, so that even a 10 000-project import never holds the write lock for long.
Every step is idempotent (alerts and messages have unique keys): a job run again after a
crash changes nothing more. It raises on failure: the job runner logs it and retries.
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import col, select

from pilot import db
from pilot.alerts.service import candidates, record_alerts
from pilot.imports.models import ImportFile
from pilot.mail.service import notify_import
from pilot.projects.models import Report

BATCH = 200  # alerts recorded (and their messages queued) per write transaction


def after_import(import_id: int, engine: Engine | None = None) -> None:
    engine = engine or db.get_engine()
    with db.session_scope(engine) as session:  # read only: no write lock held
        record = session.get(ImportFile, import_id)
        if record is None or record.dry_run:
            return
        reported = sorted(
            set(
                session.exec(
                    select(Report.project_id).where(col(Report.import_id) == import_id)
                ).all()
            )
        )
        found = candidates(session, reported) if reported else []
    for start in range(0, len(found), BATCH):
        with db.session_scope(engine, write=True) as session:
            record_alerts(session, found[start : start + BATCH])
    with db.session_scope(engine, write=True) as session:
        notify_import(session, import_id)
