"""Open data of an edition: CSV (UTF-8, comma, ISO dates), XLSX and JSON in DINUM's
historical 15 columns followed by PILOT's own, with a Table Schema and the Licence Ouverte.

No cell is ever something a spreadsheet would run: text starting with ``= + - @``,
a tab or a carriage return is prefixed with a quote (OWASP's advice against CSV
injection). Numbers are written as numbers, so "-12.5" stays a negative number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from pilot.editions.service import HISTORICAL_HEADERS
from pilot.money import MILLION, round_half_up
from pilot.text import neutralize_formula
from scorecards.view import EditionView, ProjectView

BASENAME = "panorama"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Table Schema type: string, number, integer, date, boolean
    description: str
    value: Callable[[ProjectView], Any]


def _meur(key: str) -> Callable[[ProjectView], Decimal | None]:
    def get(row: ProjectView) -> Decimal | None:
        eur = row.get(key)
        return None if eur is None else (Decimal(eur) / MILLION).normalize()

    return get


def _pct(key: str) -> Callable[[ProjectView], Decimal | None]:
    def get(row: ProjectView) -> Decimal | None:
        ratio = row.decimal(key)
        return None if ratio is None else round_half_up(ratio * 100, 1)

    return get


def _dec(key: str) -> Callable[[ProjectView], Decimal | None]:
    return lambda row: row.decimal(key)


def _yes_no(key: str) -> Callable[[ProjectView], str]:
    return lambda row: "Oui" if row.get(key) else "Non"


def _figure_yes_no(key: str) -> Callable[[ProjectView], str | None]:
    """Oui/Non, left empty for a confidential project (withheld, not "Non")."""
    return lambda row: None if row.confidential else ("Oui" if row.get(key) else "Non")


HISTORICAL_DESCRIPTIONS = {
    "Ministère porteur": "Code du ministère qui porte le projet",
    "Ministère nom complet": "Nom complet du ministère porteur",
    "Nom du projet": "Nom du projet",
    "Projet interministériel": "Oui ou Non",
    "Description et objectifs du projet": "Description et objectifs du projet",
    "En savoir plus sur le projet": "Lien vers une présentation du projet",
    "Début": "Date de début du projet (AAAA-MM-JJ)",
    "Durée prévisionnelle en année": "Durée prévue en années, ou NA si non communiquée",
    "Phase du projet en cours": "Cadrage, Conception / Réalisation, Expérimentation, "
    "Déploiement, Terminé ou Abandonné",
    "Coût estimé": "Coût complet actualisé en millions d'euros, ou NA si non communiqué",
    "Coût estimé par tranche": "Tranche de coût (bornes inférieures incluses)",
    "Zone fonctionnelle": "Zone fonctionnelle du projet",
    "Financement [programme(s)]": "Programme(s) LOLF qui financent le projet",
    "Lien vers les Projets Annuels de Performances": "Lien vers le PAP",
    "Date de publication": "Date de publication de l'édition (AAAA-MM-JJ)",
}
# The historical columns are published as DINUM printed them: text, "NA" included.
HISTORICAL_TYPES = {"Début": "date", "Date de publication": "date"}

PILOT_COLUMNS = [
    Column(
        "Identifiant PILOT",
        "string",
        "Identifiant stable du projet (jamais réutilisé)",
        lambda r: r.pilot_id,
    ),
    Column(
        "Coût initial (M€)",
        "number",
        "Coût de la référence initiale, en millions d'euros",
        _meur("initial_cost_eur"),
    ),
    Column(
        "Coût de la dernière référence (M€)",
        "number",
        "Coût de la référence en vigueur (après rebasage éventuel), en millions d'euros",
        _meur("latest_cost_eur"),
    ),
    Column(
        "Coût actuel (M€)",
        "number",
        "Coût complet actualisé, en millions d'euros",
        _meur("cost_eur"),
    ),
    Column(
        "Durée initiale (années)",
        "number",
        "Durée de la référence initiale, en années",
        _dec("initial_duration_years"),
    ),
    Column(
        "Durée actuelle (années)",
        "number",
        "Durée prévue aujourd'hui, en années",
        _dec("duration_years"),
    ),
    Column(
        "Dérive budgétaire (%)",
        "number",
        "(coût actuel − coût initial) / coût initial, en pourcentage",
        _pct("budget_drift_initial"),
    ),
    Column(
        "Dérive calendaire (%)",
        "number",
        "(durée actuelle − durée initiale) / durée initiale, en pourcentage",
        _pct("schedule_drift_initial"),
    ),
    Column(
        "Dérive budgétaire depuis la dernière référence (%)",
        "number",
        "Dérive budgétaire mesurée depuis la référence en vigueur, en pourcentage",
        _pct("budget_drift_latest"),
    ),
    Column(
        "Dérive calendaire depuis la dernière référence (%)",
        "number",
        "Dérive calendaire mesurée depuis la référence en vigueur, en pourcentage",
        _pct("schedule_drift_latest"),
    ),
    Column(
        "Santé calculée",
        "string",
        "vert (dérive sous 10 %), orange (10 à 30 %), rouge (30 % et plus)",
        lambda r: r.get("health"),
    ),
    Column(
        "Météo déclarée",
        "string",
        "soleil, nuageux ou orage, déclarée par le ministère",
        lambda r: r.get("weather"),
    ),
    Column(
        "Rebasé",
        "string",
        "Oui si le projet a changé de référence depuis l'initiale",
        _figure_yes_no("rebaselined"),
    ),
    Column(
        "Nouveau dans cette édition",
        "string",
        "Oui si le projet n'était pas dans l'édition précédente",
        _yes_no("entrant"),
    ),
    Column(
        "Chiffres non communiqués",
        "string",
        "Oui si les chiffres du projet ne sont pas publiés (appel d'offres ou "
        "replanification en cours)",
        _yes_no("confidential"),
    ),
    Column(
        "Données fictives",
        "string",
        "« fictif » si le suivi du projet (jalons, risques, météo, coût actualisé) est "
        "inventé pour une démonstration (pilot demo), vide sinon",
        lambda r: "fictif" if r.get("fictitious") else None,
    ),
]
HEADERS = [*HISTORICAL_HEADERS, *[c.name for c in PILOT_COLUMNS]]


def record(row: ProjectView) -> list[Any]:
    """One row in ``HEADERS`` order: text made safe, numbers as ``Decimal``, None empty."""
    cells: list[Any] = [neutralize_formula(str(row.data.get(h, ""))) for h in HISTORICAL_HEADERS]
    for column in PILOT_COLUMNS:
        value = column.value(row)
        cells.append(neutralize_formula(value) if isinstance(value, str) else value)
    return cells


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_csv(view: EditionView, path: Path) -> None:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in view.rows:
        writer.writerow([_csv_cell(v) for v in record(row)])
    _write(path, buffer.getvalue().encode("utf-8"))


def write_xlsx(view: EditionView, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Panorama")
    sheet.append(HEADERS)
    for row in view.rows:
        cells = []
        for value in record(row):
            cell = WriteOnlyCell(sheet, value=float(value) if isinstance(value, Decimal) else value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text
            cells.append(cell)
        sheet.append(cells)
    licence = workbook.create_sheet("Licence")
    licence.append(["Licence Ouverte / Open Licence version 2.0 (Etalab)"])
    licence.append(["https://www.etalab.gouv.fr/licence-ouverte-open-licence"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    _write(path, buffer.getvalue())


def _json_value(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def write_json(view: EditionView, path: Path) -> None:
    data = {
        "titre": view.title,
        "edition": view.number,
        "date_de_publication": view.published_on.isoformat(),
        "brouillon": view.draft,
        "licence": "Licence Ouverte / Open Licence version 2.0",
        "chiffres_cles": {
            "projets_suivis": view.figures["projects"],
            "projets_interministeriels": view.figures["interministerial"],
            "milliards_euros": float(Decimal(view.figures["total_cost_bn"])),
            "duree_moyenne_annees": None
            if view.figures.get("mean_duration_years") is None
            else float(Decimal(view.figures["mean_duration_years"])),
        },
        "projets": [
            {h: _json_value(v) for h, v in zip(HEADERS, record(row), strict=True)}
            for row in view.rows
        ],
    }
    _write(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def table_schema() -> dict[str, Any]:
    """Frictionless Table Schema of the CSV."""
    fields: list[dict[str, Any]] = []
    for header in HISTORICAL_HEADERS:
        field: dict[str, Any] = {
            "name": header,
            "type": HISTORICAL_TYPES.get(header, "string"),
            "description": HISTORICAL_DESCRIPTIONS[header],
        }
        if header in {"Ministère porteur", "Nom du projet", "Date de publication"}:
            field["constraints"] = {"required": True}
        fields.append(field)
    for column in PILOT_COLUMNS:
        field = {"name": column.name, "type": column.type, "description": column.description}
        if column.name == "Identifiant PILOT":
            field["constraints"] = {"required": True, "unique": True, "pattern": "PRJ-[0-9]{5,}"}
        if column.name == "Santé calculée":
            field["constraints"] = {"enum": ["vert", "orange", "rouge"]}
        if column.name == "Météo déclarée":
            field["constraints"] = {"enum": ["soleil", "nuageux", "orage"]}
        fields.append(field)
    return {
        "fields": fields,
        "primaryKey": ["Identifiant PILOT"],
        "missingValues": [""],
    }


LICENCE = """LICENCE OUVERTE / OPEN LICENCE — version 2.0 (Etalab, avril 2017)

Les données du panorama des grands projets numériques de l'État sont publiées sous la
Licence Ouverte / Open Licence version 2.0.

Le « Concédant » concède au « Réutilisateur » un droit non exclusif et gratuit de libre
« Réutilisation » de l'« Information » objet de la présente licence, à des fins
commerciales ou non, dans le monde entier et pour une durée illimitée, dans les
conditions exprimées ci-dessous.

Le Réutilisateur est libre de réutiliser l'Information :
- de la reproduire, la copier,
- de l'adapter, la modifier, l'extraire et la transformer, pour créer des
  « Informations dérivées », des produits ou des services,
- de la communiquer, la diffuser, la redistribuer, la publier et la transmettre,
- de l'exploiter à titre commercial, par exemple en la combinant avec d'autres
  informations, ou en l'incluant dans son propre produit ou application.

Sous réserve de mentionner la paternité de l'Information : sa source (au moins le nom
du Concédant) et la date de dernière mise à jour de l'Information réutilisée.

Texte complet : https://www.etalab.gouv.fr/licence-ouverte-open-licence
"""


def write_all(view: EditionView, folder: Path) -> list[Path]:
    """Every open-data file of the edition in ``folder``; returns the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": folder / f"{BASENAME}.csv",
        "xlsx": folder / f"{BASENAME}.xlsx",
        "json": folder / f"{BASENAME}.json",
    }
    write_csv(view, paths["csv"])
    write_xlsx(view, paths["xlsx"])
    write_json(view, paths["json"])
    schema = table_schema()
    _write(folder / "schema.json", json.dumps(schema, ensure_ascii=False, indent=1).encode())
    _write(folder / "LICENCE.txt", LICENCE.encode("utf-8"))
    return [*paths.values(), folder / "schema.json", folder / "LICENCE.txt"]


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
