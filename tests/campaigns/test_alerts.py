"""Alerts fire once per event, across re-imports of the same data, and reach DINUM's
subscribers (a real SMTP server) and the webhooks (a real HTTP receiver), signed."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date, timedelta
from typing import Any

import openpyxl
from sqlalchemy import Engine
from sqlmodel import col, select

from importers.intake import submit
from pilot.alerts.models import Alert
from pilot.alerts.service import detect_alerts
from pilot.config import Settings
from pilot.db import session_scope
from pilot.indicators.early_warning import early_warning_scores, slipping_in_a_row, slips
from pilot.jobs.service import run_due
from pilot.mail.service import deliver
from pilot.projects.forecasts import forecast_history
from pilot.projects.models import Risk
from pilot.timeutil import utcnow
from tests.campaigns.conftest import (
    SmtpServer,
    WebhookReceiver,
    set_cells,
    template_for,
    text_of,
    to_bytes,
)
from tests.importers.workbook.conftest import Seed


def _row_of(ws: Any, header: str, value: str) -> int:
    """The row whose ``header`` column holds ``value``."""
    column = next(c.column for c in ws[1] if c.value == header)
    return next(r for r in range(2, ws.max_row + 1) if ws.cell(r, column).value == value)


def _workbook(engine: Engine, forecast: date) -> bytes:
    """MI's workbook as an agent fills it: the project overspent (red) under a sunny
    météo, its milestone forecast at ``forecast``."""
    book: openpyxl.Workbook = template_for(engine, "MI")
    set_cells(book["Projets"], 2, {"Coût actualisé (€)": 150_000_000, "Météo": "soleil"})
    jalons = book["Jalons"]
    set_cells(
        jalons, _row_of(jalons, "Jalon", "Mise en service"), {"Date prévisionnelle": forecast}
    )
    return to_bytes(book)


def _import(engine: Engine, data: bytes) -> str:
    outcome = submit(
        data=data, filename="mi.xlsx", ministry_code="MI", submitted_by="test", channel="web"
    )
    run_due(engine)  # the jobs job's work (every few seconds in production)
    return outcome.status


def _kinds(engine: Engine) -> list[str]:
    with session_scope(engine) as s:
        return [a.kind for a in s.exec(select(Alert).order_by(col(Alert.id)))]


def test_alerts_fire_once_per_event_across_reimports(
    engine: Engine,
    seed: Seed,
    mail_settings: Settings,
    smtp_server: SmtpServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    first = _workbook(engine, date(2024, 9, 1))
    assert _import(engine, first) == "applied"
    assert sorted(_kinds(engine)) == ["health_red", "weather_rosier"]
    webhook_receiver.fail_next = 1  # the receiver is down for one request: retried later
    deliver(engine)
    deliver(engine, now=utcnow() + timedelta(minutes=5))
    assert len(webhook_receiver.received) == 2 and webhook_receiver.refused == 1
    for received in webhook_receiver.received:
        signature = hmac.new(b"secret-de-test", received.body, hashlib.sha256).hexdigest()
        assert received.headers["X-Pilot-Signature"] == f"sha256={signature}"
    bodies = [json.loads(r.body) for r in webhook_receiver.received]
    assert {b["project"]["id"] for b in bodies} == {f"PRJ-{seed.project_id:05d}"}
    mails = smtp_server.to("veille@numerique.gouv.fr")
    assert len(mails) == 2
    red = next(m for m in mails if "rouge" in m["Subject"])
    assert "« Réseau Radio du Futur » (MI) est passé au rouge : dérive de 50 %" in text_of(red)

    # the same file again (duplicate), then the same data in a new file: nothing new
    assert _import(engine, first) == "duplicate"
    assert _import(engine, _workbook(engine, date(2024, 9, 1))) == "applied"
    with session_scope(engine, write=True) as s:
        assert detect_alerts(s) == []  # the daily job finds nothing new either
    assert len(_kinds(engine)) == 2

    # the milestone slips once (no alert), then a second time in a row (an alert)
    assert _import(engine, _workbook(engine, date(2024, 12, 1))) == "applied"
    assert len(_kinds(engine)) == 2
    assert _import(engine, _workbook(engine, date(2025, 3, 1))) == "applied"
    assert _kinds(engine)[2:] == ["milestone_slip"]
    deliver(engine)
    slip = json.loads(webhook_receiver.received[-1].body)
    assert slip["event"] == "milestone_slip"
    assert "1er septembre 2024, puis 1er décembre 2024, puis 1er mars 2025" in slip["message"]
    assert len(smtp_server.to("veille@numerique.gouv.fr")) == 3

    # the history keeps each report's forecast; the early-warning score reads it
    with session_scope(engine) as s:
        histories = forecast_history(s, [seed.project_id])
        forecasts = [
            [h.forecast_date for h in rows]
            for rows in histories.values()
            if rows[-1].actual_date is None
        ]
        assert forecasts == [
            [date(2024, 9, 1), date(2024, 9, 1), date(2024, 12, 1), date(2025, 3, 1)]
        ]
        # 91 + 90 days over the last three reports (6 months) + 3 for two slips in a row
        assert early_warning_scores(s) == {seed.project_id: 9}


def test_slips_and_streaks() -> None:
    d = date
    assert slips([d(2025, 1, 1), d(2025, 3, 1), None, d(2025, 2, 1)]) == [59, 0, 0]
    assert slipping_in_a_row([d(2025, 1, 1), d(2025, 2, 1), d(2025, 3, 1)]) == 2
    assert slipping_in_a_row([d(2025, 3, 1), d(2025, 2, 1)]) == 0


def test_a_critical_risk_without_mitigation_alerts_once(
    engine: Engine, seed: Seed, mail_settings: Settings
) -> None:
    """Workbooks refuse such a risk; other paths (older data, the API) may still hold one."""
    with session_scope(engine, write=True) as s:
        s.add(Risk(project_id=seed.project_id, title="Sans parade", probability=4, impact=3))
    with session_scope(engine, write=True) as s:
        [alert] = detect_alerts(s)
        assert alert.kind == "risk_unmitigated"
        assert "« Sans parade » (criticité 12)" in alert.message
    with session_scope(engine, write=True) as s:
        assert detect_alerts(s) == []
