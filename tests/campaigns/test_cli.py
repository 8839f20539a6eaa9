"""``pilot campaign``, run as DINUM would (Typer's runner, real database, real SMTP)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from typer.testing import CliRunner

from pilot.cli import app
from pilot.config import Settings
from pilot.mail.service import french_date
from pilot.timeutil import today
from tests.campaigns.conftest import SmtpServer
from tests.importers.workbook.conftest import Seed

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_campaign_from_the_command_line(
    engine: Engine, seed: Seed, mail_settings: Settings, smtp_server: SmtpServer
) -> None:
    start = today()
    deadline = start + timedelta(days=2)
    _run("campaign", "contact", "add", "--ministry", "MJ", "--email", "dsi@justice.gouv.fr")
    assert _run("campaign", "contact", "list", "--ministry", "MJ") == "dsi@justice.gouv.fr\n"
    out = _run(
        "campaign", "open", "--title", "Remontée d'essai", "--deadline", f"{deadline}",
        "--ministry", "MI", "--ministry", "MJ",
    )  # fmt: skip
    assert f"ouverte jusqu'au {french_date(deadline)} pour 2 ministères" in out
    again = runner.invoke(app, ["campaign", "open", "--title", "X", "--deadline", f"{deadline}"])
    assert again.exit_code == 1 and "encore ouverte" in again.output
    status = _run("campaign", "status")
    assert "MI           non commencé" in status and "MJ           non commencé" in status
    out = _run("campaign", "remind", "--on", f"{start}")
    assert "MJ           rappel before" in out and "1 envoyé(s)" in out
    assert [m["To"] for m in smtp_server.messages] == ["dsi@justice.gouv.fr"]
    late = deadline + timedelta(days=1)
    assert "MJ           en retard" in _run("campaign", "status", "--on", f"{late}")
    out = _run("campaign", "close", "--on", f"{late}")
    assert "0 ministère(s) sur 2" in out
    assert "Édition proposée : n° 1" in out and "Rien n'est publié" in out
    assert "(clôturée)" in _run("campaign", "status")
