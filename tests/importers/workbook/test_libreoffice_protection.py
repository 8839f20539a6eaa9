"""Every editable column of a template edited through LibreOffice itself (the UNO bridge,
the sheets left protected as Calc opens them), in a prefilled row and in the prepared
empty rows, then saved as .xlsx by LibreOffice and imported by PILOT: no error, every
change recorded. In the Recommandations sheet, the status and the comment are editable
and every column DINUM decided stays locked."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from importers.intake import submit
from importers.workbook.columns import ALL_SHEETS, RECOMMENDATIONS
from importers.workbook.template import EMPTY_ROWS, build_template
from pilot.db import session_scope
from pilot.imports.models import ImportStatus
from pilot.ministries import service as ministries
from pilot.opinions.models import RecommendationEvent
from pilot.projects import service as projects
from pilot.projects.models import BudgetLine, Milestone, Project, Risk, format_pilot_id
from tests.importers.workbook.conftest import Seed
from tests.importers.workbook.test_recommendations_sheet import give_recommendations

SCRIPT = Path(__file__).with_name("libreoffice_edit.py")
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's python3-uno is built for it


def _uno_available() -> bool:
    if shutil.which("soffice") is None or not Path(SYSTEM_PYTHON).exists():
        return False
    found = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, check=False)
    return found.returncode == 0


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not _uno_available(), reason="LibreOffice or python3-uno not installed"),
]

NEW = "Plateforme des plaintes en ligne"
Edits = dict[tuple[str, int], dict[str, Any]]  # (sheet, row) → header → value


def _edits(pid: str) -> Edits:
    """What an agent types: every editable column of every sheet at least once, in the
    prefilled rows (2, 3) and in the prepared rows down to the last one."""
    last = 1 + EMPTY_ROWS  # + the sheet's prefilled rows
    return {
        ("Projets", 2): {
            "Nom du projet": "Réseau Radio du Futur (RRF)",
            "Description": "Réseau radio à haut débit des forces de sécurité.",
            "Lien": "https://www.interieur.gouv.fr/rrf",
            "Projet interministériel": "Oui",
            "Zone fonctionnelle": "Sécurité",
            "Programmes LOLF": "176, 216",
            "Phase": "Déploiement",
            "Date de début": date(2020, 2, 1),
            "Coût de référence (€)": 110_000_000,
            "Début de référence": date(2020, 2, 1),
            "Fin de référence": date(2025, 12, 31),
            "Motif du rebasage": "Extension aux services déconcentrés.",
            "Coût actualisé (€)": 130_000_000,
            "Fin prévisionnelle": date(2026, 3, 31),
            "Météo": "orage",
            "Commentaire": "Retard de livraison des terminaux.",
        },
        ("Projets", last + 1): {
            "Nom du projet": NEW,
            "Description": "Déposer plainte en ligne.",
            "Lien": "https://www.example.gouv.fr/plainte",
            "Projet interministériel": "Non",
            "Zone fonctionnelle": "Justice",
            "Programmes LOLF": "216",
            "Phase": "Cadrage",
            "Date de début": date(2024, 1, 1),
            "Coût de référence (€)": 12_500_000,
            "Début de référence": date(2024, 1, 1),
            "Fin de référence": date(2026, 12, 31),
            "Coût actualisé (€)": 12_500_000,
            "Fin prévisionnelle": date(2026, 12, 31),
            "Météo": "soleil",
            "Commentaire": "Nouveau projet.",
        },
        ("Jalons", 2): {
            "Date de référence": date(2020, 6, 15),
            "Date prévisionnelle": date(2020, 9, 1),
            "Date réelle": date(2020, 9, 20),
        },
        ("Jalons", 4): {
            "Nom du projet": NEW,
            "Jalon": "Lancement",
            "Date de référence": date(2024, 3, 1),
        },
        ("Jalons", last + 2): {
            "Identifiant PILOT": pid,
            "Jalon": "Bascule nationale",
            "Date de référence": date(2025, 1, 1),
            "Date prévisionnelle": date(2025, 6, 1),
        },
        ("Risques", 2): {
            "Catégorie": "achats",
            "Probabilité (1 à 4)": 2,
            "Impact (1 à 4)": 3,
            "Responsable": "Directrice de projet",
            "Mesures de réduction": "Pénalités renforcées.",
            "Statut": "clos",
            "Tendance": "baisse",
            "Date d'ouverture": date(2021, 1, 15),
            "Date de clôture": date(2024, 3, 15),
        },
        ("Risques", 3): {
            "Nom du projet": NEW,
            "Risque": "Recrutement de l'équipe",
            "Probabilité (1 à 4)": 2,
            "Impact (1 à 4)": 2,
        },
        ("Risques", last + 1): {
            "Identifiant PILOT": pid,
            "Risque": "Couverture radio en montagne",
            "Probabilité (1 à 4)": 3,
            "Impact (1 à 4)": 4,
            "Mesures de réduction": "Relais supplémentaires.",
            "Statut": "ouvert",
            "Tendance": "hausse",
            "Date d'ouverture": date(2024, 2, 1),
        },
        ("Budget", 2): {"Montant prévu (€)": 11_000_000, "Montant consommé (€)": 9_000_000},
        ("Budget", 3): {
            "Nom du projet": NEW,
            "Année": 2024,
            "Nature": "build",
            "Montant prévu (€)": 2_000_000,
        },
        ("Budget", last + 1): {
            "Identifiant PILOT": pid,
            "Année": 2024,
            "Nature": "run",
            "Montant prévu (€)": 5_000_000,
            "Montant consommé (€)": 1_000_000,
        },
        ("Recommandations", 2): {"Statut": "close", "Commentaire": "Directeur nommé."},
        ("Recommandations", 3): {"Statut": "en cours"},
    }


def _uno_spec(edits: Edits) -> dict[str, list[list[Any]]]:
    columns = {s.name: {c.header: i for i, c in enumerate(s.columns)} for s in ALL_SHEETS}
    cells: list[list[Any]] = []
    for (sheet, row), values in edits.items():
        for header, value in values.items():
            if isinstance(value, date):
                cells.append([sheet, row, columns[sheet][header], "date", value.isoformat()])
            elif isinstance(value, int):
                cells.append([sheet, row, columns[sheet][header], "number", value])
            else:
                cells.append([sheet, row, columns[sheet][header], "text", value])
    decided = [
        [RECOMMENDATIONS.name, row, i]
        for row in (2, 3)
        for i, c in enumerate(RECOMMENDATIONS.columns)
        if c.locked
    ]
    return {
        "edits": cells,
        "locked": [["Projets", 2, 0], ["Projets", 2 + EMPTY_ROWS, 0], *decided],
    }


def test_every_editable_column_is_edited_in_libreoffice_and_imported(
    engine: Engine, seed: Seed, tmp_path: Path
) -> None:
    pid = format_pilot_id(seed.project_id)
    recommended = give_recommendations(engine, seed.project_id, ("Nommer un directeur.", "Revoir."))
    edits = _edits(pid)
    edited = {(sheet, header) for (sheet, _), values in edits.items() for header in values}
    editable = {(s.name, c.header) for s in ALL_SHEETS for c in s.columns if not c.locked}
    assert edited == editable  # the test edits every column an agent may fill
    with session_scope(engine) as s:
        ministry = ministries.get_by_code(s, seed.ministry_code)
        assert ministry is not None
        (tmp_path / "template.xlsx").write_bytes(build_template(s, ministry))
    (tmp_path / "edits.json").write_text(json.dumps(_uno_spec(edits)), encoding="utf-8")
    done = subprocess.run(
        [
            SYSTEM_PYTHON,
            str(SCRIPT),
            str(tmp_path / "template.xlsx"),
            str(tmp_path / "edited.xlsx"),
            str(tmp_path / "edits.json"),
            str(tmp_path / "profile"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, (done.stdout, done.stderr)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["protected"] == {
        "Lisez-moi": False,
        "Projets": True,
        "Jalons": True,
        "Risques": True,
        "Budget": True,
        "Recommandations": True,
    }
    assert report["edited"] == sum(len(v) for v in edits.values())

    outcome = submit(
        data=(tmp_path / "edited.xlsx").read_bytes(),
        filename="edited.xlsx",
        ministry_code=seed.ministry_code,
        submitted_by="test",
        channel="cli",
    )
    assert outcome.status == ImportStatus.APPLIED.value, outcome
    assert outcome.errors == 0
    with session_scope(engine) as s:
        rrf = s.get(Project, seed.project_id)
        assert rrf is not None
        assert (rrf.name, rrf.phase, rrf.start_date) == (
            "Réseau Radio du Futur (RRF)",
            "Déploiement",
            date(2020, 2, 1),
        )
        assert (rrf.description, rrf.link, rrf.interministerial) == (
            "Réseau radio à haut débit des forces de sécurité.",
            "https://www.interieur.gouv.fr/rrf",
            True,
        )
        assert (rrf.functional_zone_label, rrf.programmes) == ("Sécurité", "176,216")
        report_row = projects.reports(s, seed.project_id)[-1]
        assert (report_row.current_cost_eur, report_row.forecast_end, report_row.weather) == (
            130_000_000,
            date(2026, 3, 31),
            "orage",
        )
        assert report_row.comment == "Retard de livraison des terminaux."
        _, latest = projects.baselines_by_project(s, [seed.project_id])[seed.project_id]
        assert latest is not None
        assert (latest.cost_eur, latest.start_date, latest.end_date, latest.reason) == (
            110_000_000,
            date(2020, 2, 1),
            date(2025, 12, 31),
            "Extension aux services déconcentrés.",
        )
        new = s.scalars(select(Project).where(col(Project.name) == NEW)).one()
        assert new.id is not None
        assert (new.programmes, new.phase, new.functional_zone_label) == (
            "216",
            "Cadrage",
            "Justice",
        )
        milestones = {
            (m.project_id, m.name): (m.baseline_date, m.forecast_date, m.actual_date)
            for m in s.scalars(select(Milestone))
        }
        assert milestones[(seed.project_id, "Appel d'offres")] == (
            date(2020, 6, 15),
            date(2020, 9, 1),
            date(2020, 9, 20),
        )
        assert milestones[(seed.project_id, "Bascule nationale")][:2] == (
            date(2025, 1, 1),
            date(2025, 6, 1),
        )
        assert (new.id, "Lancement") in milestones
        risks = {(r.project_id, r.title): r for r in s.scalars(select(Risk))}
        closed = risks[(seed.project_id, "Retard du titulaire")]
        assert (closed.status, closed.closed_on, closed.category, closed.trend) == (
            "clos",
            date(2024, 3, 15),
            "achats",
            "baisse",
        )
        assert (closed.probability, closed.impact, closed.owner) == (2, 3, "Directrice de projet")
        assert risks[(seed.project_id, "Couverture radio en montagne")].mitigation == (
            "Relais supplémentaires."
        )
        assert (new.id, "Recrutement de l'équipe") in risks
        budget = {
            (b.project_id, b.year, b.kind): (b.planned_eur, b.consumed_eur)
            for b in s.scalars(select(BudgetLine))
        }
        assert budget[(seed.project_id, 2023, "build")] == (11_000_000, 9_000_000)
        assert budget[(seed.project_id, 2024, "run")] == (5_000_000, 1_000_000)
        assert budget[(new.id, 2024, "build")] == (2_000_000, None)
        history = {
            (e.recommendation_id, e.status, e.comment)
            for e in s.scalars(
                select(RecommendationEvent).where(col(RecommendationEvent.actor) == "test")
            )
        }
        assert history == {
            (recommended[0], "closed", "Directeur nommé."),
            (recommended[1], "in_progress", None),
        }
