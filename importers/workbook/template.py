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

from importers.workbook.columns import (
    NO,
    README_SHEET,
    SHEETS,
    YES,
    Kind,
    Sheet,
    column_letter,
)
from pilot.ministries.models import Ministry
from pilot.projects import service as projects
from pilot.projects.models import BudgetLine, Milestone, Project, Risk, format_pilot_id
from pilot.timeutil import today

DATE_FORMAT = "DD/MM/YYYY"
MONEY_FORMAT = "#,##0"
HEADER_FILL = PatternFill("solid", fgColor="000091")  # DSFR "bleu France"
HEADER_FONT = Font(bold=True, color="FFFFFF")
LOCKED_FILL = PatternFill("solid", fgColor="E5E5E5")
VALIDATED_ROWS = 5_000  # drop-down lists and formats reach this many rows below the data

Row = Mapping[str, Any]


def _cell_value(kind: Kind, value: Any) -> Any:
    if value is None:
        return None
    if kind == Kind.BOOL:
        return YES if value else NO
    if kind == Kind.SCORE:
        return int(value)
    return value


def _choices(kind: Kind, choices: tuple[str, ...]) -> str | None:
    if kind == Kind.BOOL:
        return f'"{YES},{NO}"'
    if choices:
        return '"' + ",".join(choices) + '"'
    return None


def _write_sheet(ws: Worksheet, sheet: Sheet, rows: Iterable[Row]) -> None:
    ws.append([c.header for c in sheet.columns])
    for index, column in enumerate(sheet.columns):
        letter = column_letter(index)
        cell = ws.cell(row=1, column=index + 1)
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        dimension = ws.column_dimensions[letter]
        dimension.width = column.width
        locked = column.kind == Kind.PILOT_ID and sheet.name == "Projets"
        dimension.protection = Protection(locked=locked)
        if column.kind == Kind.DATE:
            dimension.number_format = DATE_FORMAT
        elif column.kind == Kind.MONEY:
            dimension.number_format = MONEY_FORMAT
    count = 0
    kinds = [c.kind for c in sheet.columns]
    for row in rows:
        ws.append(
            [_cell_value(k, row.get(c.field)) for k, c in zip(kinds, sheet.columns, strict=True)]
        )
        count += 1
    last = count + VALIDATED_ROWS + 1
    for index, column in enumerate(sheet.columns):
        letter = column_letter(index)
        area = f"{letter}2:{letter}{last}"
        formula = _choices(column.kind, column.choices)
        if formula is not None:
            validation = DataValidation(
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
            validation.add(area)
            ws.add_data_validation(validation)
        elif column.kind == Kind.YEAR:
            validation = DataValidation(
                type="whole",
                operator="between",
                formula1="1990",
                formula2="2100",
                showErrorMessage=True,
                error="Indiquez une année entre 1990 et 2100.",
            )
            validation.add(area)
            ws.add_data_validation(validation)
        if column.kind in (Kind.DATE, Kind.MONEY) or (
            column.kind == Kind.PILOT_ID and sheet.name == "Projets"
        ):
            for (cell,) in ws.iter_rows(
                min_row=2, max_row=count + 1, min_col=index + 1, max_col=index + 1
            ):
                if column.kind == Kind.DATE:
                    cell.number_format = DATE_FORMAT
                elif column.kind == Kind.MONEY:
                    cell.number_format = MONEY_FORMAT
                else:
                    cell.fill = LOCKED_FILL
                    cell.protection = Protection(locked=True)
            if column.kind != Kind.PILOT_ID:
                continue
        for (cell,) in ws.iter_rows(
            min_row=2, max_row=count + 1, min_col=index + 1, max_col=index + 1
        ):
            if column.kind != Kind.PILOT_ID or sheet.name != "Projets":
                cell.protection = Protection(locked=False)
    ws.freeze_panes = "B2" if sheet.name == "Projets" else "A2"
    ws.auto_filter.ref = f"A1:{column_letter(len(sheet.columns) - 1)}{count + 1}"
    ws.protection.sheet = True  # no password: it prevents mistakes, not people
    ws.protection.formatColumns = False
    ws.protection.formatRows = False
    ws.protection.formatCells = False
    ws.protection.insertRows = False
    ws.protection.deleteRows = False
    ws.protection.sort = False
    ws.protection.autoFilter = False


def _write_readme(ws: Worksheet, ministry: Ministry | None) -> None:
    ws.column_dimensions["A"].width = 14
    ws.column_dimensions["B"].width = 30
    ws.column_dimensions["C"].width = 12
    ws.column_dimensions["D"].width = 80
    ws.column_dimensions["E"].width = 40
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
        "L'identifiant PILOT (colonne grisée et protégée) ne doit pas être modifié. Pour un "
        "nouveau projet, ajoutez une ligne sans identifiant ; dans les autres onglets, "
        "rattachez ses lignes par le nom du projet.",
        "La référence (coût, début et fin de référence) est fixée une fois. Pour la changer, "
        "remplissez la colonne « Motif du rebasage » : la référence initiale reste conservée.",
        "Une baisse du coût actualisé doit être expliquée dans la colonne « Commentaire ».",
        "Dates : JJ/MM/AAAA. Montants : en euros. « NA », « En cadrage » ou une cellule vide "
        "signifient « inconnu ». Une ligne supprimée du classeur n'est pas supprimée de PILOT.",
        "",
    ]
    for line in lines:
        ws.append([line])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["Onglet", "Colonne", "Obligatoire", "Explication", "Valeurs permises"])
    for cell in ws[ws.max_row]:
        cell.fill, cell.font = HEADER_FILL, HEADER_FONT
    for sheet in SHEETS:
        for column in sheet.columns:
            allowed = ""
            if column.kind == Kind.BOOL:
                allowed = f"{YES}, {NO}"
            elif column.choices:
                allowed = ", ".join(column.choices)
            elif column.kind == Kind.DATE:
                allowed = "une date (JJ/MM/AAAA)"
            elif column.kind == Kind.MONEY:
                allowed = "un montant en euros (1 234 567)"
            elif column.kind == Kind.YEAR:
                allowed = "une année (2024)"
            ws.append(
                [sheet.name, column.header, YES if column.required else NO, column.help, allowed]
            )
            ws.cell(row=ws.max_row, column=4).alignment = Alignment(wrap_text=True)


def write_workbook(rows: Mapping[str, Iterable[Row]], ministry: Ministry | None = None) -> bytes:
    """A workbook with the Lisez-moi sheet and the four data sheets, rows given by sheet
    name as dicts of column fields."""
    book = Workbook()
    readme = book.active
    assert readme is not None
    readme.title = README_SHEET
    _write_readme(readme, ministry)
    for sheet in SHEETS:
        _write_sheet(book.create_sheet(sheet.name), sheet, rows.get(sheet.name, ()))
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
    return sheet_rows


def build_template(session: Session, ministry: Ministry) -> bytes:
    """The ministry's workbook, prefilled with its projects (empty sheets if it has none)."""
    return write_workbook(ministry_rows(session, ministry), ministry)


def template_filename(ministry: Ministry, on: date | None = None) -> str:
    return f"pilot-{ministry.code}-{(on or today()):%Y-%m-%d}.xlsx"
