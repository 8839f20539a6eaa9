"""A project DINUM marks confidential, then published: none of its withheld values appears
in any channel (every file of the published site and open data, the PDF's text, the SVG's
text, public GraphQL), and its identity still does."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from pypdf import PdfReader
from sqlmodel import Session, select
from typer.testing import CliRunner

from pilot.api.app import create_app
from pilot.audit.models import AuditEvent
from pilot.cli import app
from pilot.db import get_engine
from pilot.projects import service as projects
from pilot.projects import steering
from pilot.projects.models import Project
from scorecards.pages import FIXED_PAGES as FIXED
from scorecards.publish import publish_edition
from tests.scorecards.conftest import PUBLISHED_ON

# Values only the confidential project carries, in every spelling a channel could use.
WITHHELD = [
    "123,5",
    "123.456789",
    "123456789",
    "98,8",
    "98.765432",
    "98765432",
    "19/07/2013",
    "2013-07-19",
    "19 juillet 2013",
    "19\u00a0juillet\u00a02013",  # as the site writes dates (no-break spaces)
    "15\u00a0mars\u00a02031",
    "orage",
    "Orage",
    "Jalon tenu secret",
    "Risque tenu secret",
    "2031-03-15",
    "15/03/2031",
]
SHOWN = ["VITAM", "Description de VITAM tenue publique"]
FIXED_PAGES = {name for name, *_ in FIXED}  # the site's fixed pages (method, FAQ…)


def _texts(site: Path) -> dict[Path, str]:
    """The text of every file a reader can download."""
    found: dict[Path, str] = {}
    for path in sorted(site.rglob("*")):
        if not path.is_file() or {".cache", "dsfr", "assets"} & set(path.parts):
            continue  # the scorecards' cache is not served; DSFR and assets are not data
        if path.name in {"schema.json", "schema-excel.json"} or path.name in FIXED_PAGES:
            continue  # the Table Schemas and the method: they name every météo, as a rule
        if path.suffix in {".html", ".csv", ".json", ".svg", ".txt", ".css", ".js"}:
            found[path] = path.read_text("utf-8", errors="replace")
        elif path.suffix == ".xlsx":
            book = load_workbook(path, read_only=True)
            found[path] = "\n".join(
                " ".join("" if c is None else str(c) for c in row)
                for sheet in book.worksheets
                for row in sheet.iter_rows(values_only=True)
            )
        elif path.suffix == ".pdf":
            found[path] = "\n".join(page.extract_text() or "" for page in PdfReader(path).pages)
    return found


def _reread(session: Session) -> None:
    """See what the CLI committed: end the session's snapshot, expire what it holds."""
    session.rollback()
    session.expire_all()


@pytest.fixture
def confidential_vitam(demo: Session) -> Project:
    vitam = demo.exec(select(Project).where(Project.name == "VITAM")).one()
    vitam.confidential = False
    vitam.start_date = date(2013, 7, 19)
    vitam.description = "Description de VITAM tenue publique"
    projects.rebaseline(
        demo,
        vitam,
        reason="Nouveau marché",
        approved_on=date(2026, 1, 5),
        cost_eur=98_765_432,
        start_date=date(2013, 7, 19),
        end_date=date(2031, 3, 15),
        actor="test",
    )
    projects.record_report(
        demo,
        vitam,
        reported_on=date(2026, 10, 1),
        actor="test",
        current_cost_eur=123_456_789,
        forecast_end=date(2031, 3, 15),
        weather="orage",
        phase="Déploiement",
    )
    steering.add_milestone(
        demo,
        vitam,
        name="Jalon tenu secret",
        actor="test",
        baseline_date=date(2025, 1, 1),
        forecast_date=date(2031, 3, 15),
    )
    steering.add_risk(
        demo,
        vitam,
        title="Risque tenu secret",
        probability=4,
        impact=4,
        mitigation="Second prestataire",
        actor="test",
    )
    demo.commit()
    return vitam


@pytest.mark.slow
def test_a_confidential_project_shows_no_withheld_value_in_any_channel(
    demo: Session, confidential_vitam: Project, tmp_path: Path, engine: object
) -> None:
    vitam = confidential_vitam
    marked = CliRunner().invoke(
        app,
        ["projects", "confidential", vitam.pilot_id, "--reason", "Appel d'offres en cours"],
    )
    assert marked.exit_code == 0, marked.output
    _reread(demo)
    events = demo.exec(
        select(AuditEvent).where(AuditEvent.project_id == vitam.id, AuditEvent.actor == "cli")
    ).all()
    assert {e.field for e in events} >= {"confidential", "confidential_reason"}

    number = publish_edition(get_engine(), tmp_path, published_on=PUBLISHED_ON).number
    demo.commit()
    texts = _texts(tmp_path)
    assert len(texts) > 100  # pages, scorecards, charts, open data, the booklet
    for path, text in texts.items():
        for value in WITHHELD:
            assert value not in text, f"{value!r} in {path.relative_to(tmp_path)}"
    edition = tmp_path / "editions" / str(number)
    page = texts[edition / "projets" / f"{vitam.pilot_id}.html"]
    assert all(value in page for value in SHOWN)
    assert "non communiqué (confidentiel)" in page
    home = texts[edition / "index.html"]
    assert "Santé non calculée pour" in home and "1 non communiqué (confidentiel)" in home
    row = next(
        p
        for p in json.loads(texts[edition / "donnees" / "panorama.json"])["projets"]
        if p["Identifiant PILOT"] == vitam.pilot_id
    )
    assert row["Phase du projet en cours"] == "Déploiement"
    assert row["Début"] is None and row["Coût estimé"] == "NA"  # JSON: null, not ""
    assert row["Météo déclarée"] is None and row["Rebasé"] is None
    assert row["Santé calculée"] is None and row["Chiffres non communiqués"] == "Oui"

    client = TestClient(create_app())
    queries = [
        "{ edition { projects { projectId name phase startDate durationYears costEur costText "
        "costBracket withheld } } }",
        f"{{ editionDiff(base: 1, target: {number}) {{ entrants {{ projectId startDate costEur "
        "durationYears } exits { projectId startDate } changed { projectId costBefore costAfter "
        "phaseBefore phaseAfter } } }",
        "{ trends { figures { totalCostEur totalCostBn byCostBracket { label count } } } }",
        f"{{ portfolio(edition: {number}) {{ figures {{ totalCostEur }} drift "
        "{ budgetInitial } health { red } } }",
    ]
    for query in queries:
        body = client.post("/graphql", json={"query": query}).json()
        assert "errors" not in body, body
        text = json.dumps(body, ensure_ascii=False)
        for value in WITHHELD:
            assert value not in text, (value, query)
    edition_rows = client.post("/graphql", json={"query": queries[0]}).json()
    shown = next(
        p for p in edition_rows["data"]["edition"]["projects"] if p["projectId"] == vitam.pilot_id
    )
    assert shown["withheld"] is True and shown["startDate"] is None
    assert shown["costBracket"] == "Non communiqué" and shown["phase"] == "Déploiement"


def test_dinum_marks_and_lifts_confidentiality_audited(
    demo: Session, engine: object, tmp_path: Path
) -> None:
    vitam = demo.exec(select(Project).where(Project.name == "VITAM")).one()
    vitam.confidential = False
    demo.commit()
    runner = CliRunner()
    missing = runner.invoke(app, ["projects", "confidential", vitam.pilot_id, "--reason", " "])
    assert missing.exit_code == 1 and "motif" in missing.output
    past = runner.invoke(
        app,
        ["projects", "confidential", vitam.pilot_id, "--reason", "Marché", "--until", "2001-01-01"],
    )
    assert past.exit_code == 1 and "déjà passée" in past.output
    done = runner.invoke(
        app,
        ["projects", "confidential", vitam.pilot_id, "--reason", "Marché", "--until", "2099-12-31"],
    )
    assert done.exit_code == 0 and "31/12/2099" in done.output, done.output
    again = runner.invoke(
        app,
        ["projects", "confidential", vitam.pilot_id, "--reason", "Marché", "--until", "2099-12-31"],
    )
    assert "rien de nouveau" in again.output
    _reread(demo)
    assert vitam.confidential and vitam.confidential_reason == "Marché"
    assert vitam.confidential_until == date(2099, 12, 31)
    lifted = runner.invoke(app, ["projects", "unconfidential", vitam.pilot_id])
    assert lifted.exit_code == 0 and "n'est plus confidentiel" in lifted.output
    _reread(demo)
    assert not vitam.confidential and vitam.confidential_reason is None
    fields = [
        (e.field, e.new_value)
        for e in demo.exec(
            select(AuditEvent)
            .where(AuditEvent.project_id == vitam.id, AuditEvent.actor == "cli")
            .order_by(AuditEvent.id)
        )
    ]
    assert fields == [
        ("confidential", "True"),
        ("confidential_reason", "Marché"),
        ("confidential_until", "2099-12-31"),
        ("confidential", "False"),
        ("confidential_reason", None),
        ("confidential_until", None),
    ]


def test_a_decision_past_its_end_date_no_longer_withholds(demo: Session) -> None:
    from pilot.editions import service as editions

    vitam = demo.exec(select(Project).where(Project.name == "VITAM")).one()
    vitam.confidential_until = date(2026, 11, 1)
    demo.flush()
    before = editions.prepare_publication(demo, published_on=date(2026, 11, 1))
    after = editions.prepare_publication(demo, published_on=date(2026, 11, 2))
    assert next(v for p, _, v in before.rows if p == vitam.id)["confidential"] is True
    assert next(v for p, _, v in after.rows if p == vitam.id)["confidential"] is False
