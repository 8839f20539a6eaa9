"""The ministry workbook template: its projects prefilled, French headers, drop-down
lists, date and number formats, a protected PILOT identifier column and a "Lisez-moi"
sheet explaining every column (all from ``columns.py``)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet
from sqlalchemy import select
from sqlmodel import Session, col

from importers.parsing import MAX_YEAR, MIN_YEAR
from importers.workbook.columns import (
    ALL_SHEETS,
    NO,
    OPTIONAL_SHEETS,
    README_SHEET,
    RECOMMENDATIONS,
    SHEETS,
    YES,
    Column,
    Kind,
    Sheet,
    column_letter,
)
from pilot.auth.models import Role
from pilot.auth.service import Principal
from pilot.ministries.models import Ministry
from pilot.opinions import service as opinions
from pilot.opinions.models import (
    RECOMMENDATION_LABELS,
    RecommendationStatus,
    format_recommendation_id,
)
from pilot.projects import service as projects
from pilot.projects.models import BudgetLine, Milestone, Project, Risk, format_pilot_id
from pilot.timeutil import today

DATE_FORMAT = "DD/MM/YYYY"
MONEY_FORMAT = "#,##0"
HEADER_FILL = PatternFill("solid", fgColor="000091")  # DSFR "bleu France"
HEADER_FONT = Font(bold=True, color="FFFFFF")
LOCKED_FILL = PatternFill("solid", fgColor="E5E5E5")
NUMBER_FORMATS = {Kind.DATE: DATE_FORMAT, Kind.MONEY: MONEY_FORMAT}
# Below the prefilled rows, this many empty rows are prepared for new lines: unlocked,
# formatted, with their drop-down lists, inside the autofilter (README, "Ministry workbooks").
EMPTY_ROWS = 300
LINE_HEIGHT = 15.0  # points per line of the bold 11 pt header
HEADER_CHARS_PER_WIDTH = 0.85  # bold characters per unit of column width

Row = Mapping[str, Any]


def _cell_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == Kind.BOOL:
        return YES if value else NO
    if kind == Kind.SCORE:
        return int(value)
    return value


def _choices(column: Column) -> str | None:
    if column.kind == Kind.BOOL:
        return f'"{YES},{NO}"'
    listed = column.offered or column.choices
    if listed:
        return '"' + ",".join(listed) + '"'
    return None


def header_height(sheet: Sheet) -> float:
    """The height of the header row (points) that shows every header whole once wrapped
    in its column's width (Excel and Calc do not grow a row on opening)."""
    lines = 1
    for column in sheet.columns:
        room = max(int(column.width * HEADER_CHARS_PER_WIDTH), 1)
        count, used = 1, 0
        for word in column.header.split():
            if used and used + 1 + len(word) > room:
                count, used = count + 1, len(word)
            else:
                used += len(word) + (1 if used else 0)
        lines = max(lines, count)
    return LINE_HEIGHT * lines + 6


def _write_sheet(
    ws: Worksheet, sheet: Sheet, rows: Iterable[Row], empty_rows: int = EMPTY_ROWS
) -> None:
    """The sheet's header, its rows, then ``empty_rows`` prepared rows: formats, drop-down
    lists and protection cover the whole table; only PILOT's columns stay locked."""
    ws.append([c.header for c in sheet.columns])
    kinds = [c.kind for c in sheet.columns]
    count = 0
    for row in rows:
        ws.append(
            [_cell_value(k, row.get(c.field)) for k, c in zip(kinds, sheet.columns, strict=True)]
        )
        count += 1
    last = max(count + empty_rows + 1, 2)  # the table's last row
    ws.row_dimensions[1].height = header_height(sheet)
    for index, column in enumerate(sheet.columns):
        letter = column_letter(index)
        header = ws.cell(row=1, column=index + 1)
        header.fill, header.font = HEADER_FILL, HEADER_FONT
        header.alignment = Alignment(wrap_text=True, vertical="center")
        protection = Protection(locked=column.locked)
        number_format = NUMBER_FORMATS.get(column.kind)
        dimension = ws.column_dimensions[letter]
        dimension.width = column.width
        dimension.protection = protection  # the rows beyond the table too, in Excel
        if number_format is not None:
            dimension.number_format = number_format
        for (cell,) in ws.iter_rows(min_row=2, max_row=last, min_col=index + 1, max_col=index + 1):
            cell.protection = protection
            if number_format is not None:
                cell.number_format = number_format
            if column.locked:
                cell.fill = LOCKED_FILL
        validation = _validation(column)
        if validation is not None:
            validation.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "C2"  # the header, the identifier and the project's name stay in view
    ws.auto_filter.ref = f"A1:{column_letter(len(sheet.columns) - 1)}{last}"
    ws.protection.sheet = True  # no password: it prevents mistakes, not people
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    ws.protection.insertRows = False
    ws.protection.deleteRows = False
    ws.protection.sort = False
    ws.protection.autoFilter = False


def _validation(column: Column) -> DataValidation | None:
    """The drop-down list or the bounds of a column, if it has any."""
    formula = _choices(column)
    if formula is not None:
        return DataValidation(
            type="list",
            formula1=formula,
            allow_blank=not column.required,
            showErrorMessage=True,
            errorTitle="Valeur non permise",
            error="Choisissez une valeur de la liste (voir l'onglet Lisez-moi).",
            promptTitle=column.header[:32],
            prompt=column.help[:255],
            showInputMessage=True,
        )
    if column.kind == Kind.YEAR:
        return DataValidation(
            type="whole",
            operator="between",
            formula1=str(MIN_YEAR),
            formula2=str(MAX_YEAR),
            allow_blank=True,
            showErrorMessage=True,
            errorTitle="Année non permise",
            error=f"Indiquez une année entre {MIN_YEAR} et {MAX_YEAR}.",
        )
    return None


README_WIDTHS = {"A": 12, "B": 26, "C": 12, "D": 70, "E": 34, "F": 30}


def _allowed(column: Column) -> str:
    if column.kind == Kind.BOOL:
        return f"{YES}, {NO}"
    if column.offered or column.choices:
        return ", ".join(column.offered or column.choices)
    if column.kind == Kind.DATE:
        return "une date (JJ/MM/AAAA)"
    if column.kind == Kind.MONEY:
        return "un montant en euros, sans décimales"
    if column.kind == Kind.YEAR:
        return f"une année, de {MIN_YEAR} à {MAX_YEAR}"
    if column.kind == Kind.PILOT_ID:
        return "PRJ- suivi de cinq chiffres"
    if column.max_length:
        return f"un texte d'au plus {column.max_length} caractères"
    return "un texte"


def _write_readme(ws: Worksheet, ministry: Ministry | None) -> None:
    for letter, width in README_WIDTHS.items():
        ws.column_dimensions[letter].width = width
    title = "Classeur PILOT des grands projets numériques"
    if ministry is not None:
        title += f" — {ministry.name} ({ministry.code})"
    lines = [
        title,
        f"Modèle généré le {today():%d/%m/%Y}.",
        "",
        "Mettez à jour vos projets dans les onglets Projets, Jalons, Risques et Budget, puis "
        "déposez le classeur dans PILOT (envoi en ligne ou dossier de dépôt).",
        "Chaque envoi est vérifié en entier : PILOT renvoie la liste de toutes les anomalies, "
        "cellule par cellule, et n'enregistre rien tant qu'il reste une erreur.",
        "Les onglets sont protégés contre les fausses manipulations, sans mot de passe : "
        "toutes les cellules à remplir sont modifiables sans retirer la protection. Seules "
        "les colonnes grisées sont verrouillées : l'identifiant PILOT de l'onglet Projets, "
        "attribué par PILOT, et ce que la DINUM a décidé dans l'onglet Recommandations.",
        "L'onglet Recommandations reprend les recommandations des avis de la DINUM sur vos "
        "projets. Mettez à jour le statut de chacune (ouverte, en cours ou close) et "
        "expliquez le changement dans la colonne « Commentaire » : PILOT l'enregistre dans "
        "l'historique de la recommandation. Seule la DINUM peut abandonner une "
        "recommandation. Un classeur sans cet onglet reste accepté.",
        f"Sous les lignes préremplies, {EMPTY_ROWS} lignes vides sont prêtes pour de nouvelles "
        "lignes (formats, listes déroulantes et filtre compris). Pour un nouveau projet, "
        "remplissez une ligne sans identifiant ; dans les autres onglets, rattachez ses "
        "lignes par le nom du projet.",
        "La référence (coût, début et fin de référence) est fixée une fois. Pour la changer, "
        "remplissez la colonne « Motif du rebasage » : la référence initiale reste conservée.",
        "Une baisse du coût actualisé doit être expliquée dans la colonne « Commentaire ».",
        "Dates : JJ/MM/AAAA. Montants : en euros. « NA », « En cadrage » ou une cellule vide "
        "signifient « inconnu ». Une ligne supprimée du classeur n'est pas supprimée de PILOT.",
        "",
    ]
    for line in lines:
        ws.append([line])
        if line:
            ws.merge_cells(start_row=ws.max_row, start_column=1, end_row=ws.max_row, end_column=6)
            ws.cell(row=ws.max_row, column=1).alignment = Alignment(wrap_text=True, vertical="top")
            room = sum(README_WIDTHS.values())
            ws.row_dimensions[ws.max_row].height = LINE_HEIGHT * -(-len(line) // room)
    ws["A1"].font = Font(bold=True, size=14)
    ws.row_dimensions[1].height = 22
    ws.append(["Onglet", "Colonne", "Obligatoire", "Explication", "Valeurs permises", "Exemple"])
    for cell in ws[ws.max_row]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    for sheet in ALL_SHEETS:
        for column in sheet.columns:
            ws.append(
                [
                    sheet.name,
                    column.header,
                    YES if column.required else NO,
                    column.help,
                    _allowed(column),
                    column.example,
                ]
            )
            needed = 1  # lines of the tallest cell, wrapped in its column
            for cell in ws[ws.max_row]:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                room = README_WIDTHS[cell.column_letter]
                needed = max(needed, -(-len(str(cell.value or "")) // room))
            ws.row_dimensions[ws.max_row].height = LINE_HEIGHT * needed


def write_workbook(rows: Mapping[str, Iterable[Row]], ministry: Ministry | None = None) -> bytes:
    """A workbook with the Lisez-moi sheet, the four data sheets and the Recommandations
    sheet, rows given by sheet name as dicts of column fields."""
    book = Workbook()
    readme = book.active
    assert readme is not None
    readme.title = README_SHEET
    _write_readme(readme, ministry)
    for sheet in SHEETS:
        _write_sheet(book.create_sheet(sheet.name), sheet, rows.get(sheet.name, ()))
    for sheet in OPTIONAL_SHEETS:  # PILOT's rows only: no prepared empty rows
        _write_sheet(book.create_sheet(sheet.name), sheet, rows.get(sheet.name, ()), 0)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ministry_rows(session: Session, ministry: Ministry) -> dict[str, list[dict[str, Any]]]:
    """The current state of a ministry's projects, as template rows by sheet."""
    found = list(
        session.scalars(
            select(Project).where(col(Project.ministry_id) == ministry.id).order_by(col(Project.id))
        )
    )
    ids = [p.id for p in found if p.id is not None]
    names = {p.id: p.name for p in found}
    reports = projects.latest_reports(session, ids) if ids else {}
    bases = projects.baselines_by_project(session, ids) if ids else {}
    sheet_rows: dict[str, list[dict[str, Any]]] = {
        "Projets": [],
        "Jalons": [],
        "Risques": [],
        "Budget": [],
        RECOMMENDATIONS.name: [],
    }
    for p in found:
        report = reports.get(p.id or 0)
        _, latest = bases.get(p.id or 0, (None, None))
        sheet_rows["Projets"].append(
            {
                "pilot_id": p.pilot_id,
                "name": p.name,
                "description": p.description,
                "link": p.link,
                "interministerial": p.interministerial,
                "functional_zone": p.functional_zone_label or p.functional_zone,
                "programmes": p.programmes,
                "phase": p.phase,
                "start_date": p.start_date,
                "baseline_cost": latest.cost_eur if latest else None,
                "baseline_start": latest.start_date if latest else None,
                "baseline_end": latest.end_date if latest else None,
                "current_cost": report.current_cost_eur if report else None,
                "forecast_end": report.forecast_end if report else None,
                "weather": report.weather if report else None,
                "comment": None,
            }
        )

    def ref(project_id: int) -> dict[str, Any]:
        return {"pilot_id": format_pilot_id(project_id), "project_name": names[project_id]}

    owned = col(Project.ministry_id) == ministry.id
    for m in session.scalars(
        select(Milestone)
        .join(Project)
        .where(owned)
        .order_by(col(Milestone.project_id), col(Milestone.id))
    ):
        sheet_rows["Jalons"].append(
            {
                **ref(m.project_id),
                "name": m.name,
                "baseline_date": m.baseline_date,
                "forecast_date": m.forecast_date,
                "actual_date": m.actual_date,
            }
        )
    for r in session.scalars(
        select(Risk).join(Project).where(owned).order_by(col(Risk.project_id), col(Risk.id))
    ):
        sheet_rows["Risques"].append(
            {
                **ref(r.project_id),
                "title": r.title,
                "category": r.category,
                "probability": r.probability,
                "impact": r.impact,
                "owner": r.owner,
                "mitigation": r.mitigation,
                "status": r.status,
                "trend": r.trend,
                "opened_on": r.opened_on,
                "closed_on": r.closed_on,
            }
        )
    for b in session.scalars(
        select(BudgetLine)
        .join(Project)
        .where(owned)
        .order_by(col(BudgetLine.project_id), col(BudgetLine.year), col(BudgetLine.kind))
    ):
        sheet_rows["Budget"].append(
            {
                **ref(b.project_id),
                "year": b.year,
                "kind": b.kind,
                "planned": b.planned_eur,
                "consumed": b.consumed_eur,
            }
        )
    reader = Principal(role=Role.MINISTRY, ministry_id=ministry.id, name="pilot")
    for f in opinions.follow_up(session, reader, ministry_id=ministry.id):
        rec = f.recommendation
        assert rec.id is not None
        sheet_rows[RECOMMENDATIONS.name].append(
            {
                "recommendation_id": format_recommendation_id(rec.id),
                "pilot_id": f.project.pilot_id,
                "project_name": f.project.name,
                "opinion_date": f.given_on,
                "text": rec.text,
                "owner": rec.owner,
                "due_on": rec.due_on,
                "status": RECOMMENDATION_LABELS[RecommendationStatus(rec.status)],
                "comment": None,
            }
        )
    return sheet_rows


def build_template(session: Session, ministry: Ministry) -> bytes:
    """The ministry's workbook, prefilled with its projects (empty sheets if it has none)."""
    return write_workbook(ministry_rows(session, ministry), ministry)


def template_filename(ministry: Ministry, on: date | None = None) -> str:
    return f"pilot-{ministry.code}-{(on or today()):%Y-%m-%d}.xlsx"
