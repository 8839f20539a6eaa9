"""What follows a finished import, outside it: keep the milestones' forecasts of its
reports, detect the alerts it raised, and queue its findings summary to the ministry.

``after_import`` runs in its own short write transaction once the import is finished
(any status, inbox files included). It never raises: a problem here is logged and must
not change the import's outcome; the daily job detects alerts again anyway.
"""

from __future__ import annotations

import logging

from sqlalchemy import Engine
from sqlmodel import select

from pilot import db

log = logging.getLogger(__name__)


def after_import(import_id: int, engine: Engine | None = None) -> None:
    from pilot.alerts.service import detect_alerts
    from pilot.mail.service import notify_import
    from pilot.projects.forecasts import record_forecasts
    from pilot.projects.models import Report

    try:
        with db.session_scope(engine or db.get_engine(), write=True) as session:
            record_forecasts(session, import_id)
            reported = session.exec(
                select(Report.project_id).where(Report.import_id == import_id)
            ).all()
            if reported:
                detect_alerts(session, sorted(set(reported)))
            notify_import(session, import_id)
    except Exception:
        log.exception("follow-up of import %s failed", import_id)
