"""``pilot opinion``, run as DINUM would (Typer's runner, real database)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine
from typer.testing import CliRunner

from pilot.cli import app
from pilot.db import session_scope
from pilot.opinions import service as opinions
from pilot.projects.models import Project
from tests.opinions.conftest import PDF, Portfolio

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_list_clocks_and_expire_from_the_command_line(engine: Engine, portfolio: Portfolio) -> None:
    with session_scope(engine, write=True) as s:
        project = s.get(Project, portfolio.second)
        assert project is not None
        request = opinions.open_request(
            s, portfolio.ministry, project, subject="Saisine", on=date(2027, 1, 25)
        )
        opinions.add_document(s, portfolio.ministry, request, filename="d.pdf", data=PDF)
        opinions.receive_file(s, portfolio.dinum, request, on=date(2027, 1, 31))
        number = request.id

    listed = _run("opinion", "list")
    assert f"n° {number} PRJ-" in listed and "dossier complet reçu" in listed
    assert "échéance le 28 février 2027" in listed
    assert "IRRÉGULIER" in listed and "Radio du futur" in listed  # under contract, no opinion
    assert "Petit outil" not in listed  # below the threshold
    assert "Procédure pénale numérique" not in _run("opinion", "list", "--ministry", "MI")

    clocks = _run("opinion", "clocks", "--on", "2027-02-26")
    assert "échéance le 28 février 2027 (2 j)" in clocks
    assert "avis de la DINUM le 28 février 2027" in clocks
    assert "observations ANSSI et budget" not in clocks  # due 25 February: past

    assert _run("opinion", "expire", "--on", "2027-02-28").startswith("0 avis réputé")
    out = _run("opinion", "expire", "--on", "2027-03-01")
    assert f"1 avis réputé(s) favorable(s) (saisines {number})" in out
    assert "1 alerte(s)" in out
    assert "avis réputé favorable" in _run("opinion", "list")
    assert _run("opinion", "expire", "--on", "2027-03-02").startswith("0 avis réputé")
    refused = runner.invoke(app, ["opinion", "list", "--ministry", "XX"])
    assert refused.exit_code == 1 and "Ministère inconnu" in refused.output
