"""DINUM manages who receives alert e-mails from the command line (table
``alert_subscriber``), beside ``PILOT_ALERT_EMAILS``; the job queue runs on demand
(``pilot jobs run``), and the alerts of an import reach every subscriber through a real
SMTP server."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from typer.testing import CliRunner

from importers.intake import submit
from pilot.cli import app
from pilot.config import Settings
from pilot.mail.service import deliver
from tests.campaigns.conftest import SmtpServer, text_of
from tests.campaigns.test_alerts import _workbook
from tests.importers.workbook.conftest import Seed

runner = CliRunner()
CABINET = "cabinet@numerique.gouv.fr"


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_dinum_subscribes_an_address_to_alerts_from_the_command_line(
    engine: Engine, seed: Seed, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    assert "recevra les alertes" in _run("alert", "subscriber", "add", " Cabinet@Numerique.gouv.fr")
    _run("alert", "subscriber", "add", CABINET)  # twice: one subscriber
    listed = _run("alert", "subscriber", "list")
    assert listed.count(CABINET) == 1 and "(ajoutée par cli le " in listed
    assert "veille@numerique.gouv.fr (PILOT_ALERT_EMAILS)" in listed
    bad = runner.invoke(app, ["alert", "subscriber", "add", "pas une adresse"])
    assert bad.exit_code == 1 and "Adresse électronique invalide" in bad.output

    outcome = submit(
        data=_workbook(engine, date(2024, 9, 1)),
        filename="mi.xlsx",
        ministry_code="MI",
        submitted_by="test",
        channel="web",
    )
    assert outcome.status == "applied"
    assert f"import_followup:{outcome.import_id} : 0 tentative(s)" in _run("jobs", "list")
    assert "1 exécutée(s), 0 en échec" in _run("jobs", "run")
    assert _run("jobs", "list") == "Aucune tâche en attente.\n"
    deliver(engine)
    for address in (CABINET, "veille@numerique.gouv.fr"):
        subjects = sorted(m["Subject"] for m in smtp_server.to(address))
        assert subjects == [
            "PILOT : alerte, météo plus favorable que la santé calculée",
            "PILOT : alerte, projet passé au rouge",
        ]
    assert "est passé au rouge" in text_of(smtp_server.to(CABINET)[0]) + text_of(
        smtp_server.to(CABINET)[1]
    )

    assert "ne recevra plus les alertes" in _run("alert", "subscriber", "remove", CABINET)
    assert CABINET not in _run("alert", "subscriber", "list")
    gone = runner.invoke(app, ["alert", "subscriber", "remove", CABINET])
    assert gone.exit_code == 1 and "n'est pas abonnée" in gone.output
