"""Small panorama files written by the tests themselves (CSV text, XLSX by openpyxl)."""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from importers.panorama import HEADERS

# A plausible row; tests override what they check.
BASE_ROW: dict[str, Any] = {
    "Ministère porteur": "MJ",
    "Ministère nom complet": "Ministère de la Justice",
    "Nom du projet": "PORTALIS",
    "Projet interministériel": "Non",
    "Description et objectifs du projet": "Dématérialiser la procédure civile.",
    "En savoir plus sur le projet": "",
    "Début": "2014-01-01",
    "Durée prévisionnelle en année": "5.0",
    "Phase du projet en cours": "Conception / Réalisation",
    "Coût estimé": "52.0",
    "Coût estimé par tranche": "entre 20 et 100 M€",
    "Zone fonctionnelle": "Justice Civile, Sociale et Commerciale",
    "Financement [programme(s)]": "Conduite et pilotage de la politique de la justice (P310)",
    "Lien vers les Projets Annuels de Performances": "",
    "Date de publication": "2017-06-01",
}


def row(**changes: Any) -> dict[str, Any]:
    """BASE_ROW with changes given by short names: name="X", cost="12,5"…"""
    short = {
        "code": "Ministère porteur",
        "ministry": "Ministère nom complet",
        "name": "Nom du projet",
        "inter": "Projet interministériel",
        "description": "Description et objectifs du projet",
        "start": "Début",
        "duration": "Durée prévisionnelle en année",
        "phase": "Phase du projet en cours",
        "cost": "Coût estimé",
        "bracket": "Coût estimé par tranche",
        "zone": "Zone fonctionnelle",
        "financing": "Financement [programme(s)]",
        "published": "Date de publication",
    }
    result = dict(BASE_ROW)
    for key, value in changes.items():
        result[short[key]] = value
    return result


def csv_text(
    rows: list[dict[str, Any]],
    *,
    delimiter: str = ",",
    headers: list[str] | None = None,
    extra_empty_columns: int = 0,
) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    headers = headers or HEADERS
    writer.writerow([*headers, *[""] * extra_empty_columns])
    for r in rows:
        writer.writerow([*(r.get(h, "") for h in HEADERS), *[""] * extra_empty_columns])
    return out.getvalue()


def write_csv(path: Path, rows: list[dict[str, Any]], encoding: str = "utf-8", **kw: Any) -> Path:
    path.write_bytes(csv_text(rows, **kw).encode(encoding))
    return path


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def excel_value(header: str, value: Any, *, real_dates: bool) -> Any:
    """What a person saving the row from Excel would get: numbers as numbers, dates as
    French text ("01/01/2017") or as real date cells."""
    if not isinstance(value, str):
        return value
    if _ISO.fullmatch(value) and header in ("Début", "Date de publication"):
        day = date.fromisoformat(value)
        return datetime(day.year, day.month, day.day) if real_dates else f"{day:%d/%m/%Y}"
    if _NUMBER.fullmatch(value) and header in ("Durée prévisionnelle en année", "Coût estimé"):
        return float(value)
    return value if value != "" else None


def xlsx_bytes(
    rows: list[dict[str, Any]], *, real_dates: bool = False, title_rows: int = 0
) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Panorama"
    for _ in range(title_rows):
        sheet.append(["Panorama des grands projets numériques de l'État"])
    sheet.append(HEADERS)
    for r in rows:
        sheet.append([excel_value(h, r.get(h, ""), real_dates=real_dates) for h in HEADERS])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_file_to_xlsx(source: Path, target: Path, *, real_dates: bool = False) -> Path:
    """A real CSV edition converted to XLSX, as DINUM did for later editions."""
    with source.open(encoding="utf-8-sig", newline="") as f:
        records = list(csv.reader(f))
    headers = [h.strip() for h in records[0]]
    rows = [
        {h: v for h, v in zip(headers, r, strict=False) if h}
        for r in records[1:]
        if any(v.strip() for v in r)
    ]
    target.write_bytes(xlsx_bytes(rows, real_dates=real_dates))
    return target
