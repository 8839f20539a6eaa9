"""Open data of each edition, and one history across every published edition.

Each edition's folder ``donnees/`` holds, in DINUM's historical 15 columns followed by
PILOT's own:

- ``panorama.csv``: UTF-8, comma, decimal point, ISO dates (the format DINUM published,
  which ``pilot import-panorama`` reads back to the same figures);
- ``panorama-excel.csv``: what a French Excel opens right: UTF-8 with a BOM, semicolon,
  decimal comma, dates JJ/MM/AAAA, CRLF;
- ``panorama.xlsx``: numbers and dates typed, header row frozen, filters, column widths;
- ``panorama.json``: numbers as JSON numbers;
- ``schema.json`` and ``schema-excel.json`` (Table Schema of each CSV), ``datapackage.json``
  (Data Package describing every file) and ``LICENCE.txt`` (Licence Ouverte 2.0).

The site's ``donnees/historique.*`` holds every published edition's rows, with its number.

Only the CSV files guard against formulas: a text starting with ``= + - @``, a tab or a
carriage return is prefixed with a quote there (OWASP's advice against CSV injection), as
a spreadsheet would run it. The XLSX writes every text as a text cell and the JSON as a
string, both unchanged. Numbers are never guarded, and zero is never written "-0".
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
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
        return None if eur is None else unsigned_zero((Decimal(eur) / MILLION).normalize())

    return get


def _pct(key: str) -> Callable[[ProjectView], Decimal | None]:
    def get(row: ProjectView) -> Decimal | None:
        ratio = row.decimal(key)
        return None if ratio is None else unsigned_zero(round_half_up(ratio * 100, 1))

    return get


def _dec(key: str) -> Callable[[ProjectView], Decimal | None]:
    def get(row: ProjectView) -> Decimal | None:
        value = row.decimal(key)
        return None if value is None else unsigned_zero(value)

    return get


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
    "Début": "Date de début du projet",
    "Durée prévisionnelle en année": "Durée prévue en années ; « NA » si non communiquée, "
    "« En cadrage » si pas encore connue",
    "Phase du projet en cours": "Cadrage, Conception / Réalisation, Expérimentation, "
    "Déploiement, Terminé ou Abandonné",
    "Coût estimé": "Coût complet actualisé en millions d'euros ; « NA » si non communiqué, "
    "« En cadrage » si pas encore connu",
    "Coût estimé par tranche": "Tranche de coût (bornes inférieures incluses)",
    "Zone fonctionnelle": "Zone fonctionnelle du projet",
    "Financement [programme(s)]": "Programme(s) LOLF qui financent le projet",
    "Lien vers les Projets Annuels de Performances": "Lien vers le PAP",
    "Date de publication": "Date de publication de l'édition",
}
# The historical columns keep what DINUM printed; their figures are numbers and their dates
# dates, but for the words DINUM printed instead of a figure (kept, as text).
HISTORICAL_TYPES = {
    "Début": "date",
    "Date de publication": "date",
    "Durée prévisionnelle en année": "number",
    "Coût estimé": "number",
}
NOT_A_FIGURE = ["NA", "En cadrage"]  # DINUM's words for a figure withheld or not yet known

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
EDITION_HEADER = "Numéro d'édition"
HISTORY_HEADERS = [EDITION_HEADER, *HEADERS]
TYPES = {
    **{h: HISTORICAL_TYPES.get(h, "string") for h in HISTORICAL_HEADERS},
    **{c.name: c.type for c in PILOT_COLUMNS},
    EDITION_HEADER: "integer",
}
_NUMBER = re.compile(r"-?[0-9]+(?:[.,][0-9]+)?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FR_DATE = re.compile(r"[0-9]{2}/[0-9]{2}/[0-9]{4}")
DATE_FORMAT_FR = "%d/%m/%Y"

Cell = str | Decimal | date | int | None


def unsigned_zero(value: Decimal) -> Decimal:
    """``-0.0`` → ``0.0``: a zero is never published with a sign."""
    return abs(value) if value == 0 else value


def _historical(header: str, text: str) -> Cell:
    """A historical cell typed: its figure as a ``Decimal`` (its digits kept: "52.0" stays
    "52.0"), its date as a ``date``, else the text DINUM printed ("NA", "En cadrage")."""
    kind = HISTORICAL_TYPES.get(header)
    value = text.strip()
    if value == "":
        return None
    try:
        if kind == "number" and _NUMBER.fullmatch(value):
            return unsigned_zero(Decimal(value.replace(",", ".")))
        if kind == "date" and _ISO_DATE.fullmatch(value):
            return date.fromisoformat(value)
        if kind == "date" and _FR_DATE.fullmatch(value):
            return datetime.strptime(value, DATE_FORMAT_FR).date()
    except (InvalidOperation, ValueError):
        pass
    return text


def record(row: ProjectView) -> list[Cell]:
    """One row in ``HEADERS`` order, typed: texts unchanged (no formula guard: that is the
    CSV writers' job), numbers as ``Decimal``, dates as ``date``, nothing as None."""
    cells: list[Cell] = [_historical(h, str(row.data.get(h, "") or "")) for h in HISTORICAL_HEADERS]
    cells += [column.value(row) for column in PILOT_COLUMNS]
    return cells


@dataclass(frozen=True)
class Table:
    """Rows to publish: their headers and typed cells."""

    headers: list[str]
    rows: list[list[Cell]]


def edition_table(view: EditionView) -> Table:
    return Table(HEADERS, [record(row) for row in view.rows])


def history_table(views: Sequence[EditionView]) -> Table:
    """Every published edition's rows, oldest edition first, each with its number."""
    return Table(
        HISTORY_HEADERS,
        [[view.number, *record(row)] for view in views for row in view.rows],
    )


# --- Writers ---------------------------------------------------------------------------


def _csv_cell(value: Cell, *, excel: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(unsigned_zero(value), "f")
        return text.replace(".", ",") if excel else text
    if isinstance(value, date):
        return value.strftime(DATE_FORMAT_FR) if excel else value.isoformat()
    if isinstance(value, int):
        return str(value)
    return neutralize_formula(value)  # only here: a spreadsheet opening a CSV runs formulas


def csv_bytes(table: Table, *, excel: bool = False) -> bytes:
    """The table as CSV: UTF-8, comma, decimal point, ISO dates; or, ``excel``, what a
    French Excel opens right: UTF-8 with a BOM, semicolon, decimal comma, JJ/MM/AAAA."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
    writer.writerow([neutralize_formula(h) for h in table.headers])
    for cells in table.rows:
        writer.writerow([_csv_cell(v, excel=excel) for v in cells])
    return buffer.getvalue().encode("utf-8-sig" if excel else "utf-8")


def _width(header: str, values: Sequence[Cell]) -> float:
    """A column wide enough for its header and most of its values (within bounds)."""
    longest = max(
        [len(header)]
        + [len(v if isinstance(v, str) else _csv_cell(v, excel=True)) for v in values[:500]]
    )
    return float(min(max(longest + 2, 10), 60))


def xlsx_bytes(table: Table, sheet_title: str, stamp: date) -> bytes:
    """The table as a workbook: numbers as numbers, dates as dates (JJ/MM/AAAA), every
    text a text cell (never a formula, never guarded), header row frozen, filters on.

    Dated ``stamp`` (the publication date) inside and in its archive: the same rows give
    the same bytes, whenever they are written."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = sheet_title
    bold = Font(bold=True)
    for col, header in enumerate(table.headers, start=1):
        cell = sheet.cell(row=1, column=col, value=header)
        cell.data_type = "s"
        cell.font = bold
    for r, cells in enumerate(table.rows, start=2):
        for col, value in enumerate(cells, start=1):
            if value is None:
                continue
            if isinstance(value, Decimal):
                sheet.cell(row=r, column=col, value=float(value) + 0.0)  # + 0.0: never -0.0
            elif isinstance(value, date):
                cell = sheet.cell(row=r, column=col, value=value)
                cell.number_format = "DD/MM/YYYY"
            elif isinstance(value, int):
                sheet.cell(row=r, column=col, value=value)
            else:
                cell = sheet.cell(row=r, column=col, value=value)
                cell.data_type = "s"  # a text, even "=…": no spreadsheet runs it
    last = get_column_letter(len(table.headers))
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{last}{len(table.rows) + 1}"
    for col, header in enumerate(table.headers, start=1):
        values = [cells[col - 1] for cells in table.rows]
        sheet.column_dimensions[get_column_letter(col)].width = _width(header, values)
    licence = workbook.create_sheet("Licence")
    licence.append(["Licence Ouverte / Open Licence version 2.0 (Etalab)"])
    licence.append(["https://www.etalab.gouv.fr/licence-ouverte-open-licence"])
    moment = datetime(stamp.year, stamp.month, stamp.day)
    workbook.properties.created = workbook.properties.modified = moment
    buffer = io.BytesIO()
    workbook.save(buffer)
    return _restamped_zip(buffer.getvalue(), moment)


ZIP_EARLIEST = datetime(1980, 1, 1)
ZIP_LATEST = datetime(2107, 12, 31, 23, 59, 58)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def _restamped_zip(data: bytes, moment: datetime) -> bytes:
    """The same workbook, dated ``moment`` (not the time it was written): each member of
    the archive, and the "modified" date of its core properties (docProps/core.xml, which
    openpyxl sets to the time of saving)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    stamp = (moment.isoformat(timespec="seconds") + "Z").encode()
    # a ZIP member's date is between 1980 and 2107: an edition dated outside gets the bound
    in_zip = min(max(moment, ZIP_EARLIEST), ZIP_LATEST)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                content = _MODIFIED.sub(rb"\g<1>" + stamp + rb"\g<2>", content)
            member = zipfile.ZipInfo(info.filename, date_time=in_zip.timetuple()[:6])
            member.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(member, content)
    return out.getvalue()


def _json_value(value: Cell) -> Any:
    if isinstance(value, Decimal):
        return float(value) + 0.0  # + 0.0: never -0.0
    if isinstance(value, date):
        return value.isoformat()
    return value


def _json_rows(table: Table) -> list[dict[str, Any]]:
    return [
        {h: _json_value(v) for h, v in zip(table.headers, cells, strict=True)}
        for cells in table.rows
    ]


def _number(value: Any) -> float | None:
    return None if value is None else float(Decimal(str(value))) + 0.0


def edition_json(view: EditionView, table: Table) -> bytes:
    data = {
        "titre": view.title,
        "edition": view.number,
        "date_de_publication": view.published_on.isoformat(),
        "brouillon": view.draft,
        "licence": "Licence Ouverte / Open Licence version 2.0",
        "chiffres_cles": {
            "projets_suivis": view.figures["projects"],
            "projets_interministeriels": view.figures["interministerial"],
            "milliards_euros": _number(view.figures["total_cost_bn"]),
            "duree_moyenne_annees": _number(view.figures.get("mean_duration_years")),
        },
        "projets": _json_rows(table),
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def history_json(views: Sequence[EditionView], table: Table) -> bytes:
    data = {
        "titre": HISTORY_TITLE,
        "licence": "Licence Ouverte / Open Licence version 2.0",
        "editions": [
            {
                "edition": v.number,
                "date_de_publication": v.published_on.isoformat(),
                "titre": v.title,
                "projets_suivis": v.figures["projects"],
            }
            for v in views
        ],
        "projets": _json_rows(table),
    }
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


# --- Table Schema and Data Package ------------------------------------------------------


def table_schema(headers: Sequence[str] = HEADERS, *, excel: bool = False) -> dict[str, Any]:
    """Frictionless Table Schema of the CSV (``excel``: of the CSV for a French Excel:
    decimal comma, dates JJ/MM/AAAA)."""
    descriptions = {
        **HISTORICAL_DESCRIPTIONS,
        **{c.name: c.description for c in PILOT_COLUMNS},
        EDITION_HEADER: "Numéro de l'édition du panorama",
    }
    fields: list[dict[str, Any]] = []
    for header in headers:
        kind = TYPES[header]
        field: dict[str, Any] = {"name": header, "type": kind, "description": descriptions[header]}
        if kind == "number" and excel:
            field["decimalChar"] = ","
        if kind == "date":
            field["format"] = DATE_FORMAT_FR if excel else "default"
        if header in HISTORICAL_TYPES and kind == "number":
            field["missingValues"] = ["", *NOT_A_FIGURE]
        constraints: dict[str, Any] = {}
        if header in {"Ministère porteur", "Nom du projet", "Date de publication", EDITION_HEADER}:
            constraints["required"] = True
        if header == "Identifiant PILOT":
            constraints = {"required": True, "pattern": "PRJ-[0-9]{5,}"}
            if EDITION_HEADER not in headers:
                constraints["unique"] = True
        if header == "Santé calculée":
            constraints["enum"] = ["vert", "orange", "rouge"]
        if header == "Météo déclarée":
            constraints["enum"] = ["soleil", "nuageux", "orage"]
        if header == EDITION_HEADER:
            constraints["minimum"] = 1
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    key = (
        [EDITION_HEADER, "Identifiant PILOT"]
        if EDITION_HEADER in headers
        else ["Identifiant PILOT"]
    )
    return {"fields": fields, "primaryKey": key, "missingValues": [""]}


@dataclass(frozen=True)
class DataFile:
    """A published file: its name, its format in French, and what it is."""

    suffix: str  # after the base name: ".csv", "-excel.csv"…
    format: str
    description: str


DATA_FILES = [
    DataFile(".csv", "CSV", "UTF-8, séparateur virgule, point décimal, dates AAAA-MM-JJ"),
    DataFile(
        "-excel.csv",
        "CSV",
        "Pour un Excel en français : point-virgule, virgule décimale, dates JJ/MM/AAAA",
    ),
    DataFile(".xlsx", "XLSX", "Classeur aux nombres et dates typés, en-tête figé et filtres"),
    DataFile(".json", "JSON", "Nombres en nombres, dates AAAA-MM-JJ"),
]


def _resource(path: Path, name: str, extra: dict[str, Any]) -> dict[str, Any]:
    content = path.read_bytes()
    return {
        "name": name,
        "path": path.name,
        **extra,
        "bytes": len(content),
        "hash": "sha256:" + hashlib.sha256(content).hexdigest(),
    }


def datapackage(
    folder: Path, base: str, name: str, title: str, schemas: tuple[str, str]
) -> dict[str, Any]:
    """Data Package describing the files of ``folder`` named after ``base``."""
    utf8, excel = schemas
    return {
        "name": name,
        "title": title,
        "licenses": [
            {
                "name": "etalab-2.0",
                "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence",
                "title": "Licence Ouverte / Open Licence version 2.0",
            }
        ],
        "resources": [
            _resource(
                folder / f"{base}.csv",
                base,
                {
                    "type": "table",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8",
                    "schema": utf8,
                },
            ),
            _resource(
                folder / f"{base}-excel.csv",
                f"{base}-excel",
                {
                    "type": "table",
                    "format": "csv",
                    "mediatype": "text/csv",
                    "encoding": "utf-8-sig",
                    "dialect": {"delimiter": ";"},
                    "schema": excel,
                },
            ),
            _resource(
                folder / f"{base}.xlsx",
                f"{base}-xlsx",
                {
                    "type": "table",
                    "format": "xlsx",
                    "mediatype": "application/vnd.openxmlformats-officedocument."
                    "spreadsheetml.sheet",
                    "schema": utf8,
                },
            ),
            _resource(
                folder / f"{base}.json",
                f"{base}-json",
                {"type": "json", "format": "json", "mediatype": "application/json"},
            ),
        ],
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

HISTORY_TITLE = "Panorama des grands projets numériques de l'État : historique des éditions"
EDITION_BASE = BASENAME
HISTORY_BASE = "historique"


def _write_set(
    folder: Path,
    base: str,
    table: Table,
    json_data: bytes,
    *,
    sheet: str,
    name: str,
    title: str,
    stamp: date,
    schemas: tuple[str, str],
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    utf8, excel = schemas
    files = {
        f"{base}.csv": csv_bytes(table),
        f"{base}-excel.csv": csv_bytes(table, excel=True),
        f"{base}.xlsx": xlsx_bytes(table, sheet, stamp),
        f"{base}.json": json_data,
        utf8: _json_bytes(table_schema(table.headers)),
        excel: _json_bytes(table_schema(table.headers, excel=True)),
        "LICENCE.txt": LICENCE.encode("utf-8"),
    }
    for filename, content in files.items():
        _write(folder / filename, content)
    package = datapackage(folder, base, name, title, schemas)
    _write(folder / "datapackage.json", _json_bytes(package))
    return [folder / filename for filename in files] + [folder / "datapackage.json"]


def _json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def write_all(view: EditionView, folder: Path) -> list[Path]:
    """Every open-data file of the edition in ``folder``; returns the paths written."""
    table = edition_table(view)
    return _write_set(
        folder,
        EDITION_BASE,
        table,
        edition_json(view, table),
        sheet="Panorama",
        name=f"panorama-edition-{view.slug}",
        title=view.title,
        stamp=view.published_on,
        schemas=("schema.json", "schema-excel.json"),
    )


def write_history(views: Sequence[EditionView], folder: Path) -> list[Path]:
    """The history of every published edition (``views``, oldest first) in ``folder``."""
    table = history_table(views)
    return _write_set(
        folder,
        HISTORY_BASE,
        table,
        history_json(views, table),
        sheet="Historique",
        name="panorama-historique",
        title=HISTORY_TITLE,
        stamp=max((v.published_on for v in views), default=date(2016, 1, 1)),
        schemas=("schema.json", "schema-excel.json"),
    )


def listing(folder: Path, base: str) -> list[dict[str, str]]:
    """The files of ``folder`` named after ``base`` that exist, for a page to link: name,
    format and description in French, size in French ("12,3 ko")."""
    entries: list[tuple[str, str, str]] = [
        (f"{base}{f.suffix}", f.format, f.description) for f in DATA_FILES
    ]
    entries += [
        ("schema.json", "JSON", "Schéma des données du CSV (Table Schema)"),
        ("schema-excel.json", "JSON", "Schéma des données du CSV pour Excel (Table Schema)"),
        ("datapackage.json", "JSON", "Description de tous les fichiers (Data Package)"),
        ("LICENCE.txt", "texte", "Licence Ouverte 2.0"),
    ]
    found = []
    for name, fmt, description in entries:
        path = folder / name
        if path.exists():
            found.append(
                {
                    "name": name,
                    "format": fmt,
                    "description": description,
                    "size": human_size(path.stat().st_size),
                }
            )
    return found


def human_size(size: int) -> str:
    """A file size in French, a no-break space before its unit: "850 octets", "12,3 ko",
    "1,2 Mo"."""
    if size < 1000:
        return f"{size}\u00a0octets"
    if size < 1_000_000:
        return f"{size / 1000:.1f}\u00a0ko".replace(".", ",")
    return f"{size / 1_000_000:.1f}\u00a0Mo".replace(".", ",")


def _write(path: Path, content: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(content)
    tmp.replace(path)
