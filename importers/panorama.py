"""DINUM's open-data panorama (the historical 15 columns), CSV or XLSX → a published edition.

Reading is tolerant of what the real files contain (see the README's "Panorama
files" section); every oddity that changes a value is reported as a warning.
Loading the same bytes twice creates nothing new.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from importers import safety
from importers.parsing import (
    ParseError,
    add_years,
    parse_bool,
    parse_date,
    parse_decimal,
    parse_programmes,
)
from importers.safety import WorkbookInfo
from pilot.config import Settings, get_settings
from pilot.editions import service as editions
from pilot.editions.models import Edition
from pilot.indicators.figures import (
    BRACKET_CADRAGE,
    COST_BRACKETS,
    PortfolioRow,
    compute_figures,
    cost_bracket,
)
from pilot.ministries import service as ministries
from pilot.money import meur_to_eur
from pilot.projects import service as projects
from pilot.projects.models import Phase, Project
from pilot.text import clean_text, non_latin_letters, normalize_key

# The 15 historical columns, in DINUM's order: (field, published header).
COLUMNS: list[tuple[str, str]] = [
    ("ministry_code", "Ministère porteur"),
    ("ministry_name", "Ministère nom complet"),
    ("name", "Nom du projet"),
    ("interministerial", "Projet interministériel"),
    ("description", "Description et objectifs du projet"),
    ("link", "En savoir plus sur le projet"),
    ("start", "Début"),
    ("duration", "Durée prévisionnelle en année"),
    ("phase", "Phase du projet en cours"),
    ("cost", "Coût estimé"),
    ("cost_bracket", "Coût estimé par tranche"),
    ("functional_zone", "Zone fonctionnelle"),
    ("financing", "Financement [programme(s)]"),
    ("pap_link", "Lien vers les Projets Annuels de Performances"),
    ("published_on", "Date de publication"),
]
HEADERS = [h for _, h in COLUMNS]
_FIELD_BY_KEY = {normalize_key(h): f for f, h in COLUMNS}
REQUIRED = {"ministry_code", "name"}
_PHASES = {normalize_key(p.value): p.value for p in Phase}
_BRACKETS = {normalize_key(b): b for b in COST_BRACKETS}
_BRACKETS.update(
    {
        normalize_key("moins de 5 M€"): COST_BRACKETS[0],
        normalize_key("plus de 100 M€"): COST_BRACKETS[4],
    }
)
ACTOR = "import-panorama"
# Beyond these a value is surely a typing error (the whole portfolio is a few Md€).
MAX_COST_MEUR = Decimal(100_000)
MAX_DURATION_YEARS = Decimal(100)
MIN_YEAR, MAX_YEAR = 1950, 2100


class PanoramaError(ValueError):
    """The file cannot be read as a panorama edition (French message)."""


@dataclass
class PanoramaRow:
    line: int
    raw: dict[str, str]
    ministry_code: str
    ministry_name: str
    name: str
    interministerial: bool
    description: str | None
    link: str | None
    start: date | None
    duration_years: Decimal | None
    phase: str | None
    cost_meur: Decimal | None
    cost_bracket: str | None
    functional_zone: str | None
    programmes: list[int]
    financing: str | None
    pap_link: str | None
    published_on: date | None

    @property
    def cost_eur(self) -> int | None:
        return None if self.cost_meur is None else meur_to_eur(self.cost_meur)

    def portfolio_row(self) -> PortfolioRow:
        return PortfolioRow(
            ministry=self.ministry_code,
            interministerial=self.interministerial,
            phase=self.phase,
            cost_eur=self.cost_eur,
            duration_years=self.duration_years,
            functional_zone=self.functional_zone,
            cost_bracket=self.cost_bracket,
        )


@dataclass
class PanoramaFile:
    rows: list[PanoramaRow]
    warnings: list[str] = field(default_factory=list)
    sha256: str = ""
    filename: str = ""

    def published_on(self) -> date | None:
        dates = Counter(r.published_on for r in self.rows if r.published_on)
        return dates.most_common(1)[0][0] if dates else None


# --- Reading -----------------------------------------------------------------------------


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_records(data: bytes) -> Iterator[list[str]]:
    text = _decode(data)
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error:
            raise PanoramaError(
                f"Ligne {reader.line_num} : CSV illisible (champ trop long, caractère nul ou "
                "guillemets mal fermés)."
            ) from None
        yield record


def _first_visible_sheet(workbook: Any, warnings: list[str]) -> Any:
    visible = [ws for ws in workbook.worksheets if ws.sheet_state == "visible"]
    hidden = [ws.title for ws in workbook.worksheets if ws.sheet_state != "visible"]
    if not visible:
        raise PanoramaError("Le classeur ne contient aucune feuille visible.")
    if hidden:
        warnings.append(
            f"feuilles masquées ignorées : {', '.join(hidden)} ; seule la feuille visible "
            f"« {visible[0].title} » est lue"
        )
    return visible[0]


def _xlsx_records(
    data: bytes, info: WorkbookInfo, settings: Settings, warnings: list[str]
) -> Iterator[list[Any]]:
    """The rows of the first visible sheet, at most ``max_rows_per_sheet`` + 2 rows and
    ``max_columns`` + 1 columns (one more than allowed, to tell that a limit is passed)."""
    from openpyxl import load_workbook

    bounds = {"max_row": settings.max_rows_per_sheet + 2, "max_col": settings.max_columns + 1}
    workbook = formulas = None
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = _first_visible_sheet(workbook, warnings)
        values = sheet.iter_rows(values_only=True, **bounds)
        if info.has_formulas:  # read the formulas too, to tell an uncomputed one from a blank
            formulas = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
            texts = formulas[sheet.title].iter_rows(values_only=True, **bounds)
        line = 0
        for row in values:
            line += 1
            if row.count(None) == len(row):
                if formulas is not None:
                    next(texts, ())
                yield []  # blank (padded) row: cheap
                continue
            record = ["" if v is None else v for v in row]
            if formulas is not None:
                for index, text in enumerate(next(texts, ())):
                    if row[index] is None and isinstance(text, str) and text.startswith("="):
                        warnings.append(
                            f"ligne {line}, colonne {index + 1} : formule sans valeur calculée "
                            f"« {text[:50]} » (valeur ignorée) ; ouvrez le classeur dans Excel "
                            "ou LibreOffice, enregistrez-le, puis renvoyez-le"
                        )
            yield record
    except PanoramaError:
        raise
    except Exception as error:  # openpyxl on a malformed part: any exception type
        raise PanoramaError(
            f"Le classeur est illisible ({type(error).__name__}) : enregistrez-le à nouveau "
            "dans Excel ou LibreOffice, puis renvoyez-le."
        ) from error
    finally:
        if workbook is not None:
            workbook.close()
        if formulas is not None:
            formulas.close()


def _bounded(records: Iterator[list[Any]], settings: Settings) -> Iterator[list[Any]]:
    """Refuse more rows, columns or characters than the limits allow."""
    for line, record in enumerate(records, start=1):
        if line > settings.max_rows_per_sheet + 1:
            raise PanoramaError(
                f"Le fichier compte plus de {settings.max_rows_per_sheet} lignes, la limite "
                "(supprimez les lignes vides en fin de feuille)."
            )
        if len(record) > settings.max_columns and any(
            str(v).strip() for v in record[settings.max_columns :]
        ):
            raise PanoramaError(
                f"Ligne {line} : plus de {settings.max_columns} colonnes remplies, la limite."
            )
        for index, value in enumerate(record[: settings.max_columns]):
            if isinstance(value, str) and len(value) > settings.max_cell_chars:
                raise PanoramaError(
                    f"Ligne {line}, colonne {index + 1} : texte de {len(value)} caractères, "
                    f"au-delà de la limite de {settings.max_cell_chars}."
                )
        yield record[: settings.max_columns]


def read_panorama(data: bytes, filename: str = "") -> PanoramaFile:
    """Parse a panorama file (CSV or XLSX, detected from its bytes)."""
    settings = get_settings()
    warnings: list[str] = []
    records: Iterator[list[Any]]
    try:
        kind = safety.sniff(data)
        if kind in ("zip", "ole"):
            info = safety.inspect_workbook(data, filename, settings)
            warnings.extend(info.warnings)
            records = _xlsx_records(data, info, settings, warnings)
        else:
            safety.check_size(data, filename, settings)
            if kind == "binary":
                raise PanoramaError(
                    "Le fichier n'est ni un CSV ni un classeur .xlsx : enregistrez-le en CSV "
                    "(UTF-8) ou en .xlsx."
                )
            if extension := safety.extension_warning(data, filename):
                warnings.append(extension)
            records = _csv_records(data)
    except safety.UnsafeFile as error:
        raise PanoramaError(str(error)) from error
    records = _bounded(records, settings)
    try:
        header = next(records)
    except StopIteration:
        raise PanoramaError("Le fichier est vide.") from None
    columns: dict[int, str] = {}
    for index, title in enumerate(header):
        key = normalize_key(str(title))
        if key in _FIELD_BY_KEY:
            columns[index] = _FIELD_BY_KEY[key]
    missing = REQUIRED - set(columns.values())
    if missing:
        names = ", ".join(h for f, h in COLUMNS if f in missing)
        raise PanoramaError(f"Colonnes obligatoires introuvables : {names}.")
    result = PanoramaFile(
        rows=[], warnings=warnings, sha256=hashlib.sha256(data).hexdigest(), filename=filename
    )
    for line, record in enumerate(records, start=2):
        values = {columns[i]: v for i, v in enumerate(record) if i in columns}
        if all(clean_text(str(v)) == "" for v in values.values()):
            continue  # blank line (the 2016 file ends with 236 of them)
        result.rows.append(_parse_row(line, values, result.warnings))
    if not result.rows:
        raise PanoramaError("Le fichier ne contient aucun projet.")
    return result


def _text(values: dict[str, Any], name: str) -> str | None:
    value = values.get(name)
    if value is None:
        return None
    text = str(value).strip() if not isinstance(value, str) else value.strip()
    return text or None


def _parse_row(line: int, values: dict[str, Any], warnings: list[str]) -> PanoramaRow:
    def attempt(parser: Any, name: str) -> Any:
        try:
            return parser(values.get(name))
        except ParseError as error:
            warnings.append(f"ligne {line}, {dict(COLUMNS)[name]} : {error} (valeur ignorée)")
            return None

    name = clean_text(_text(values, "name") or "")
    code = clean_text(_text(values, "ministry_code") or "")
    if not name or not code:
        raise PanoramaError(f"Ligne {line} : le ministère et le nom du projet sont obligatoires.")
    if strange := non_latin_letters(code):
        raise PanoramaError(
            f"Ligne {line} : le code ministère « {code} » contient des lettres non latines "
            f"({strange}) qui ressemblent à des lettres latines ; saisissez-le à nouveau."
        )
    phase_text = _text(values, "phase")
    phase = _PHASES.get(normalize_key(phase_text or ""))
    if phase_text and phase is None:
        warnings.append(f"ligne {line} : phase « {phase_text} » inconnue (ignorée)")
    cost = attempt(parse_decimal, "cost")
    if cost is not None and cost < 0:
        warnings.append(f"ligne {line} : coût négatif « {cost} » ignoré")
        cost = None
    if cost is not None and cost > MAX_COST_MEUR:
        warnings.append(f"ligne {line} : coût invraisemblable « {cost} » M€ ignoré")
        cost = None
    duration = attempt(parse_decimal, "duration")
    if duration is not None and duration < 0:
        warnings.append(f"ligne {line} : durée négative « {duration} » ignorée")
        duration = None
    if duration is not None and duration > MAX_DURATION_YEARS:
        warnings.append(f"ligne {line} : durée invraisemblable « {duration} » ans ignorée")
        duration = None
    published_bracket = _BRACKETS.get(normalize_key(_text(values, "cost_bracket") or ""))
    cost_eur = None if cost is None else meur_to_eur(cost)
    bracket = published_bracket
    if cost_eur is not None:
        bracket = cost_bracket(cost_eur, phase)
        if published_bracket is not None and published_bracket != bracket:
            warnings.append(
                f"ligne {line} : la tranche publiée « {published_bracket} » ne correspond pas au "
                f"coût ({cost} M€) ; la tranche « {bracket} » est retenue"
            )
    elif bracket is None:
        bracket = BRACKET_CADRAGE if phase in (None, Phase.CADRAGE.value) else None
    financing = _text(values, "financing")
    return PanoramaRow(
        line=line,
        raw={h: ("" if values.get(f) is None else str(values.get(f))) for f, h in COLUMNS},
        ministry_code=code,
        ministry_name=clean_text(_text(values, "ministry_name") or ""),
        name=name,
        interministerial=bool(attempt(parse_bool, "interministerial")),
        description=_text(values, "description"),
        link=_text(values, "link"),
        start=_plausible(attempt(parse_date, "start"), line, "Début", warnings),
        duration_years=duration,
        phase=phase,
        cost_meur=cost,
        cost_bracket=bracket,
        functional_zone=clean_text(_text(values, "functional_zone") or "") or None,
        programmes=parse_programmes(financing),
        financing=financing,
        pap_link=_text(values, "pap_link"),
        published_on=_plausible(
            attempt(parse_date, "published_on"), line, "Date de publication", warnings
        ),
    )


def _plausible(value: date | None, line: int, column: str, warnings: list[str]) -> date | None:
    if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
        warnings.append(f"ligne {line}, {column} : date invraisemblable « {value} » ignorée")
        return None
    return value


# --- Loading -----------------------------------------------------------------------------


@dataclass
class LoadResult:
    edition: Edition
    created: bool
    new_projects: list[str] = field(default_factory=list)
    matched_projects: int = 0
    warnings: list[str] = field(default_factory=list)


def _zone_labels(session: Session) -> dict[str, str]:
    rows = session.exec(select(Project.functional_zone, Project.functional_zone_label)).all()
    return {key: label for key, label in rows if key and label}


def load_panorama(
    session: Session,
    panorama: PanoramaFile,
    *,
    number: int | None = None,
    published_on: date | None = None,
) -> LoadResult:
    """Store a parsed panorama as a published edition (in the caller's transaction)."""
    existing = session.exec(select(Edition).where(Edition.source_sha256 == panorama.sha256)).first()
    if existing is not None:
        return LoadResult(edition=existing, created=False, warnings=panorama.warnings)
    on = published_on or panorama.published_on()
    if on is None:
        raise PanoramaError(
            "Date de publication introuvable : indiquez-la avec --published-on AAAA-MM-JJ."
        )
    result_warnings = list(panorama.warnings)
    zones = _zone_labels(session)
    seen: dict[int, int] = {}
    new_projects: list[str] = []
    matched = 0
    placed: list[tuple[PanoramaRow, Project]] = []
    for row in panorama.rows:
        ministry = ministries.resolve(session, row.ministry_code, row.ministry_name)
        project = projects.find_project(session, ministry, row.name)
        zone_key = normalize_key(row.functional_zone) if row.functional_zone else None
        zone_label = None
        if zone_key and row.functional_zone:
            zone_label = zones.setdefault(zone_key, row.functional_zone)
        fields: dict[str, Any] = {
            "description": row.description,
            "link": row.link,
            "interministerial": row.interministerial,
            "functional_zone": zone_key,
            "functional_zone_label": zone_label,
            "programmes": ",".join(str(p) for p in row.programmes) or None,
            "financing_label": row.financing,
            "pap_link": row.pap_link,
            "start_date": row.start,
        }
        if project is None:
            project = projects.create_project(
                session,
                ministry=ministry,
                name=row.name,
                on=on,
                actor=ACTOR,
                phase=row.phase,
                **fields,
            )
            new_projects.append(f"{ministry.code} — {row.name}")
        else:
            matched += 1
            if _is_latest_for(session, project, on):
                _refresh(session, project, fields, row.name, on)
        assert project.id is not None
        if project.id in seen:
            raise PanoramaError(
                f"Lignes {seen[project.id]} et {row.line} : le même projet « {row.name} » "
                "apparaît deux fois."
            )
        seen[project.id] = row.line
        if projects.initial_baseline(session, project.id) is None and (
            row.cost_eur is not None or row.start is not None
        ):
            projects.set_initial_baseline(
                session,
                project,
                approved_on=row.start or on,
                cost_eur=row.cost_eur,
                start_date=row.start,
                end_date=_end(row),
                actor=ACTOR,
                source=f"Panorama du {on.isoformat()} (première valeur publiée)",
            )
        placed.append((row, project))

    figures = compute_figures(row.portfolio_row() for row, _ in placed)
    edition = editions.create_edition(
        session,
        published_on=on,
        title=f"Panorama des grands projets numériques de l'État — {on.strftime('%m/%Y')}",
        source="open-data",
        figures=figures,
        rows=[(p.id, row.raw, _values(row)) for row, p in placed],
        number=number,
        source_filename=panorama.filename,
        source_sha256=panorama.sha256,
    )
    for row, project in placed:
        projects.record_report(
            session,
            project,
            reported_on=on,
            actor=ACTOR,
            phase=row.phase,
            current_cost_eur=row.cost_eur,
            forecast_end=_end(row),
            edition_id=edition.id,
        )
    return LoadResult(
        edition=edition,
        created=True,
        new_projects=new_projects,
        matched_projects=matched,
        warnings=result_warnings,
    )


def _end(row: PanoramaRow) -> date | None:
    if row.start is None or row.duration_years is None:
        return None
    return add_years(row.start, row.duration_years)


def _values(row: PanoramaRow) -> dict[str, Any]:
    return {
        "ministry_code": row.ministry_code,
        "name": row.name,
        "interministerial": row.interministerial,
        "start": row.start.isoformat() if row.start else None,
        "duration_years": None if row.duration_years is None else str(row.duration_years),
        "phase": row.phase,
        "cost_eur": row.cost_eur,
        "cost_bracket": row.cost_bracket,
        "functional_zone": row.functional_zone,
        "programmes": row.programmes,
    }


def _is_latest_for(session: Session, project: Project, on: date) -> bool:
    report = projects.latest_report(session, project.id or 0)
    return report is None or report.reported_on <= on


def _refresh(
    session: Session, project: Project, fields: dict[str, Any], name: str, on: date
) -> None:
    from pilot.audit import service as audit

    projects.rename_project(session, project, name, on=on, actor=ACTOR)
    changes = {k: v for k, v in fields.items() if v is not None}
    audit.record_changes(session, actor=ACTOR, obj=project, project_id=project.id, changes=changes)


def import_panorama_file(
    session: Session, path: Path, *, number: int | None = None, published_on: date | None = None
) -> LoadResult:
    data = path.read_bytes()
    return load_panorama(
        session, read_panorama(data, path.name), number=number, published_on=published_on
    )
