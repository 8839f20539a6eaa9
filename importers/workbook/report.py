"""The import report an agent can open: the sent workbook with each faulty cell marked
(fill and comment) and an "Anomalies" sheet listing every finding, or an HTML page."""

from __future__ import annotations

import html
import io
from collections.abc import Iterable

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from sqlmodel import Session, col, select

from importers.workbook.columns import ALL_SHEETS, SHEET_BY_KEY
from importers.workbook.findings import Issue, count_errors
from pilot.imports.models import Finding, ImportFile, ImportStatus, Severity
from pilot.text import normalize_key

ERROR_FILL = PatternFill("solid", fgColor="FFB3B3")
WARNING_FILL = PatternFill("solid", fgColor="FFE9A8")
HEADERS = ["Gravité", "Onglet", "Ligne", "Colonne", "Valeur trouvée", "Message"]


# What an agent reads for an import's status (``ImportStatus``), in the CLI and reports.
STATUS_LABELS = {
    ImportStatus.RECEIVED.value: "reçu",
    ImportStatus.VALIDATED.value: "validé",
    ImportStatus.REJECTED.value: "rejeté",
    ImportStatus.APPLIED.value: "appliqué",
    ImportStatus.FAILED.value: "échoué",
    ImportStatus.DUPLICATE.value: "doublon",
}
_SHEET_ORDER = {s.name: n for n, s in enumerate(ALL_SHEETS, start=1)}


def status_label(status: str) -> str:
    """An import's status in French (``applied`` → ``appliqué``)."""
    return STATUS_LABELS.get(status, status)


# count key → (singular, plural), in the order an agent reads them
SUMMARY_WORDS = {
    "projects_created": ("projet créé", "projets créés"),
    "projects_updated": ("projet modifié", "projets modifiés"),
    "reports": ("point de situation enregistré", "points de situation enregistrés"),
    "baselines": ("référence enregistrée", "références enregistrées"),
    "milestones_created": ("jalon ajouté", "jalons ajoutés"),
    "milestones_updated": ("jalon modifié", "jalons modifiés"),
    "risks_created": ("risque ajouté", "risques ajoutés"),
    "risks_updated": ("risque modifié", "risques modifiés"),
    "budget_lines_created": ("ligne budgétaire ajoutée", "lignes budgétaires ajoutées"),
    "budget_lines_updated": ("ligne budgétaire modifiée", "lignes budgétaires modifiées"),
    "recommendations_updated": ("recommandation mise à jour", "recommandations mises à jour"),
}


def summary(counts: dict[str, int], status: str) -> str:
    """What an import changed (or, for a dry run, would change), in French: « 1 projet
    créé, 12 points de situation enregistrés, 1 jalon modifié »."""
    if status in ("rejected", "failed"):
        errors = counts.get("errors", 0)
        plural = "s" if errors > 1 else ""
        return f"Rien n'a été modifié : {errors} erreur{plural} à corriger."
    if status == "duplicate":
        return "Rien n'a été modifié : ce fichier avait déjà été importé."
    parts = [
        f"{counts[key]} {one if counts[key] == 1 else many}"
        for key, (one, many) in SUMMARY_WORDS.items()
        if counts.get(key)
    ]
    if not parts:
        return "Aucun changement."
    text = ", ".join(parts)
    return ("Ce classeur donnerait : " if status == "validated" else "") + text + "."


def _reading_order(issue: Issue) -> tuple[int, str, int, int, str]:
    """The workbook's findings first, then by sheet (in the workbook's order), row, column."""
    if issue.sheet is None:
        return (0, "", 0, 0, "")
    sheet = SHEET_BY_KEY.get(normalize_key(issue.sheet))
    order = _SHEET_ORDER[sheet.name] if sheet else len(_SHEET_ORDER) + 1
    column = issue.column or ""
    return (order, normalize_key(issue.sheet), issue.row or 0, len(column), column)


def in_reading_order(issues: Iterable[Issue]) -> list[Issue]:
    """Findings sorted by sheet, row and column (stable: a cell's findings keep their order)."""
    return sorted(issues, key=_reading_order)


def issues_of(session: Session, import_id: int) -> list[Issue]:
    """An import's findings, in reading order."""
    rows = session.exec(
        select(Finding).where(Finding.import_id == import_id).order_by(col(Finding.id))
    )
    return in_reading_order(
        Issue(
            f.code,
            f.message,
            Severity(f.severity),
            sheet=f.sheet,
            row=f.row,
            column=f.column,
            field=f.field,
            value=f.value,
        )
        for f in rows
    )


def _label(issue: Issue) -> str:
    return "Erreur" if issue.is_error else "Avertissement"


def report_workbook(data: bytes | None, issues: Iterable[Issue]) -> bytes:
    """The sent .xlsx with faulty cells marked, plus an Anomalies sheet (a new workbook
    holding only that sheet when the original cannot be annotated, e.g. an .ods)."""
    issues = in_reading_order(issues)
    book: openpyxl.Workbook | None = None
    if data is not None:
        try:
            book = openpyxl.load_workbook(io.BytesIO(data))
        except Exception:  # .ods, damaged file…: the list alone
            book = None
    if book is None:
        book = openpyxl.Workbook()
        first = book.active
        assert first is not None
        book.remove(first)
    else:
        by_key = {normalize_key(ws.title): ws for ws in book.worksheets}
        for issue in issues:
            if not (issue.sheet and issue.row and issue.column):
                continue
            sheet = SHEET_BY_KEY.get(normalize_key(issue.sheet))
            ws = by_key.get(normalize_key(sheet.name if sheet else issue.sheet))
            if ws is None:
                continue
            cell = ws[f"{issue.column}{issue.row}"]
            cell.fill = ERROR_FILL if issue.is_error else WARNING_FILL
            text = f"{_label(issue)} : {issue.message}"
            if cell.comment is not None:
                text = f"{cell.comment.text}\n{text}"
            cell.comment = Comment(text[:30000], "PILOT", width=300, height=120)
    ws = book.create_sheet("Anomalies", 0)
    ws.append(HEADERS)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for issue in issues:
        ws.append([_label(issue), issue.sheet, issue.row, issue.column, issue.value, issue.message])
        ws.cell(row=ws.max_row, column=1).fill = ERROR_FILL if issue.is_error else WARNING_FILL
    for letter, width in zip("ABCDEF", (14, 12, 8, 9, 30, 100), strict=True):
        ws.column_dimensions[letter].width = width
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def report_html(record: ImportFile, issues: Iterable[Issue]) -> str:
    """A self-contained French HTML page listing the findings of an import."""
    issues = in_reading_order(issues)
    lines = "".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v)) if v is not None else ''}</td>"
            for v in (_label(i), i.sheet, i.row, i.column, i.value, i.message)
        )
        + "</tr>"
        for i in issues
    )
    errors = count_errors(issues)
    title = f"Import n° {record.id} — {html.escape(record.filename)}"
    return (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1>"
        f"<p>Statut : {html.escape(status_label(record.status))}. {errors} erreur(s), "
        f"{len(issues) - errors} avertissement(s).</p>"
        "<table><thead><tr>"
        + "".join(f'<th scope="col">{h}</th>' for h in HEADERS)
        + f"</tr></thead><tbody>{lines}</tbody></table></body></html>"
    )
